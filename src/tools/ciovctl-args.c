/* SPDX-License-Identifier: MIT */
/* ciovctl: parsers of the values given on the command line. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <ciov/ciov.h>

#include "ciovctl.h"

/* The quota keys, in the order of the adapter's table. */
static const char *const quota_keys[CIOV_QUOTA_MAX] = {
#define X(n, d) [CIOV_QUOTA_##n] = #n,
	CIOV_QUOTAS(X)
#undef X
};

/* Returns the index of the quota key s, or -EINVAL. */
int args_quota_key(const char *s)
{
	for (int i = 0; i < CIOV_QUOTA_MAX; i++)
		if (!strcmp(s, quota_keys[i]))
			return i;
	return -EINVAL;
}

/* "KEY | KEY ..." from column col, wrapped under it before CTL_WIDTH */
void args_print_quota_keys(FILE *f, int col)
{
	int at = col;

	for (int i = 0; i < CIOV_QUOTA_MAX; i++) {
		int len = (int)strlen(quota_keys[i]) + (i ? 3 : 0);

		if (at + len > CTL_WIDTH - 2) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		}
		fprintf(f, "%s%s", i ? " | " : "", quota_keys[i]);
		at += len;
	}
}

/* 0, or the shift of a K/M/G/T suffix (powers of 1024: 4G, 4GiB, 4gb); -EINVAL. */
static int suffix_shift(const char *s)
{
	static const char units[] = "KMGT";
	const char *u;

	if (!*s)
		return 0;
	u = strchr(units, toupper((unsigned char)*s));
	if (!u)
		return -EINVAL;
	s++;
	if (*s == 'i')
		s++;
	if (*s == 'B' || *s == 'b')
		s++;
	return *s ? -EINVAL : 10 * (int)(u - units + 1);
}

/*
 * A decimal number with an optional K/M/G/T suffix. Returns 0, -EINVAL, or
 * -ERANGE beyond INT64_MAX (JSON numbers that every reader takes).
 */
int args_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	shift = suffix_shift(end);
	if (shift < 0)
		return shift;
	if (v > (uint64_t)INT64_MAX >> shift)
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/* A uid or gid in decimal: 0, or -EINVAL when s is not one. */
static int parse_id(const char *s, unsigned *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	/* (uid_t)-1 means "none" to the kernel, never an owner */
	if (errno || *end || v >= UINT32_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* USER: a number or a name; *login is the user's login group, if known. */
static int parse_user(const char *s, unsigned *uid, long *login)
{
	struct passwd *pw;

	if (parse_id(s, uid) == 0) {
		pw = getpwuid(*uid);
		*login = pw ? (long)pw->pw_gid : -1;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -ENOENT;
	*uid = pw->pw_uid;
	*login = pw->pw_gid;
	return 0;
}

static int parse_group(const char *s, unsigned *gid)
{
	struct group *gr;

	if (parse_id(s, gid) == 0)
		return 0;
	gr = getgrnam(s);
	if (!gr)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

/* GROUP of USER:GROUP; empty is the user's login group. */
static int owner_group(const char *s, long login, unsigned *gid)
{
	if (*s)
		return parse_group(s, gid);
	if (login < 0)
		return -ENOENT;
	*gid = (unsigned)login;
	return 0;
}

/*
 * USER[:GROUP] as chown takes it (names or numbers; "USER:" is the user's
 * login group), written to out as ciovd's "UID" or "UID:GID". Returns 0,
 * -EINVAL (malformed), -ENOENT (unknown user or group).
 */
int args_parse_owner(const char *s, char *out, size_t size)
{
	const char *colon = strchr(s, ':');
	size_t ulen = colon ? (size_t)(colon - s) : strlen(s);
	char user[256];
	unsigned uid, gid;
	long login;
	int rc;

	if (ulen == 0 || ulen >= sizeof(user))
		return -EINVAL;
	memcpy(user, s, ulen);
	user[ulen] = '\0';
	rc = parse_user(user, &uid, &login);
	if (rc < 0)
		return rc;
	if (!colon) {
		snprintf(out, size, "%u", uid);
		return 0;
	}
	rc = owner_group(colon + 1, login, &gid);
	if (rc < 0)
		return rc;
	snprintf(out, size, "%u:%u", uid, gid);
	return 0;
}
