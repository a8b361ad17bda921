/* SPDX-License-Identifier: MIT */
/*
 * ciovctl: one request/reply exchange on ciovd's admin socket (JSON lines,
 * doc/admin-protocol.md).
 *
 * The reply is read until its newline, however many reads that takes: the
 * reply of endpoint.show for thousands of endpoints is megabytes long.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <json-c/json.h>

#include <ciov/ciov.h>

#include "ciovctl.h"

/* ciovd answers in milliseconds; a minute without a byte means it is stuck */
#define ADMIN_TIMEOUT_SEC 60
/* first reply buffer, doubled as needed up to a size no sane reply reaches
 * (json-c takes an int length) */
#define ADMIN_REPLY_MIN (64u << 10)
#define ADMIN_REPLY_MAX (1u << 30)

struct json_object *admin_request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	if (req && json_object_object_add(req, "cmd", json_object_new_string(cmd)) < 0) {
		json_object_put(req);
		req = NULL;
	}
	return req;
}

static const char *connect_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is ciovd running?)";
	case EACCES:
	case EPERM:
		return " (the admin socket is for root and ciovd's --admin-group)";
	default:
		return "";
	}
}

/* TIMEOUT_SEC: 0 the default, -1 none (a reply that comes when a capture
 * ends). */
static void set_timeouts(int fd, int timeout_sec)
{
	struct timeval tv = {.tv_sec = timeout_sec > 0 ? timeout_sec : ADMIN_TIMEOUT_SEC};

	if (timeout_sec < 0)
		tv.tv_sec = 0; /* SO_RCVTIMEO 0: wait for ever */
	/* best effort: without them a stuck ciovd only makes us wait */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Returns CTL_OK with *fdp connected, or CTL_NOCONN after saying why. */
static int admin_connect(const char *dir, int timeout_sec, int *fdp)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, CIOV_ADMIN_SOCKET);
	int fd;

	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		ctl_err("cannot connect to %s/%s: path longer than %zu bytes", dir,
			CIOV_ADMIN_SOCKET, sizeof(sa.sun_path) - 1);
		return CTL_NOCONN;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ctl_err("cannot create a socket: %s", strerror(errno));
		return CTL_NOCONN;
	}
	set_timeouts(fd, timeout_sec);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		ctl_err("cannot connect to %s: %s%s", sa.sun_path, strerror(err),
			connect_hint(err));
		return CTL_NOCONN;
	}
	*fdp = fd;
	return CTL_OK;
}

/* Returns 0 or a negative errno. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Room for at least one more byte in *buf; 0 or -ENOMEM / -EMSGSIZE. */
static int grow(char **buf, size_t *cap, size_t len)
{
	size_t ncap;
	char *nbuf;

	if (len < *cap)
		return 0;
	if (*cap >= ADMIN_REPLY_MAX)
		return -EMSGSIZE;
	ncap = *cap ? *cap * 2 : ADMIN_REPLY_MIN;
	nbuf = realloc(*buf, ncap);
	if (!nbuf)
		return -ENOMEM;
	*buf = nbuf;
	*cap = ncap;
	return 0;
}

/*
 * Read one line. Returns its length without the newline (*bufp owned by the
 * caller), or a negative errno: -EPIPE when ciovd closed first, -ETIMEDOUT.
 */
static ssize_t recv_line(int fd, char **bufp)
{
	char *buf = NULL, *nl = NULL;
	size_t cap = 0, len = 0;
	ssize_t n, rc;

	while (!nl) {
		rc = grow(&buf, &cap, len);
		if (rc < 0)
			goto fail;
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EPIPE;
		if (n <= 0)
			goto fail;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	*bufp = buf;
	return nl - buf;
fail:
	free(buf);
	return rc;
}

/* Returns the reply object, or NULL after saying why. */
static struct json_object *parse_reply(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *reply;

	if (!tok) {
		ctl_err("out of memory");
		return NULL;
	}
	reply = json_tokener_parse_ex(tok, line, (int)len);
	if (!reply || !json_object_is_type(reply, json_type_object)) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		bool said = e != json_tokener_success && e != json_tokener_continue;

		ctl_err("ciovd sent a reply that is not a JSON object%s%s", said ? ": " : "",
			said ? json_tokener_error_desc(e) : "");
		json_object_put(reply);
		reply = NULL;
	}
	json_tokener_free(tok);
	return reply;
}

/* Say why a request failed: ciovd's own words when it gave them. */
static void report_failure(struct json_object *reply)
{
	const char *error = json_str(reply, "error", NULL);
	int64_t err = json_int(reply, "errno", 0);

	if (error)
		ctl_err("%s", error);
	else if (err > 0 && err < 4096)
		ctl_err("ciovd: %s", strerror((int)err));
	else
		ctl_err("ciovd refused the request without saying why");
}

/* Send req, read the reply; CTL_OK with *bufp the line, or an exit code. */
static int exchange(int fd, struct json_object *req, char **bufp, ssize_t *lenp)
{
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t tlen = text ? strlen(text) : 0;
	char *line = text ? malloc(tlen + 1) : NULL;
	int sent;

	if (!line) {
		ctl_err("out of memory");
		return CTL_FAILED;
	}
	memcpy(line, text, tlen);
	line[tlen] = '\n';
	sent = send_all(fd, line, tlen + 1);
	free(line);
	/* even when sending failed, ciovd may have said why before it hung up */
	*lenp = recv_line(fd, bufp);
	if (*lenp >= 0)
		return CTL_OK;
	if (sent < 0)
		ctl_err("cannot send the request to ciovd: %s", strerror(-sent));
	else if (*lenp == -EPIPE)
		ctl_err("ciovd closed the connection without answering");
	else
		ctl_err("cannot read ciovd's reply: %s", strerror((int)-*lenp));
	return CTL_FAILED;
}

int admin_call(const struct ctl *c, struct json_object *req, struct json_object **reply)
{
	struct json_object *r, *ok;
	char *buf = NULL;
	ssize_t len;
	int fd, rc;

	rc = admin_connect(c->runtime_dir, c->timeout_sec, &fd);
	if (rc != CTL_OK)
		return rc;
	rc = exchange(fd, req, &buf, &len);
	close(fd);
	if (rc != CTL_OK)
		return rc;
	r = parse_reply(buf, (size_t)len);
	free(buf);
	if (!r)
		return CTL_FAILED;
	ok = json_member(r, "ok");
	if (!json_object_is_type(ok, json_type_boolean) || !json_object_get_boolean(ok)) {
		report_failure(r);
		json_object_put(r);
		return CTL_FAILED;
	}
	*reply = r;
	return CTL_OK;
}

struct json_object *named_request(const char *cmd, const char *name)
{
	struct json_object *req = admin_request(cmd);

	if (req && name)
		json_object_object_add(req, "name", json_object_new_string(name));
	if (!req)
		ctl_err("out of memory");
	return req;
}

int admin_send(struct ctl *c, struct json_object *req, const char *key)
{
	struct json_object *reply;
	int rc;

	rc = admin_call(c, req, &reply);
	json_object_put(req);
	if (rc != CTL_OK)
		return rc;
	if (c->json && key)
		print_json(c, json_member(reply, key));
	json_object_put(reply);
	return CTL_OK;
}

int admin_show_list(struct ctl *c, int argc, char **argv, const char *cmd, const char *key,
		    void (*print)(struct json_object *item))
{
	struct json_object *req, *reply, *list;
	int rc;

	if (argc > 1)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[1]);
	req = named_request(cmd, argc ? argv[0] : NULL);
	if (!req)
		return CTL_FAILED;
	rc = admin_call(c, req, &reply);
	json_object_put(req);
	if (rc != CTL_OK)
		return rc;
	list = json_member(reply, key);
	if (!json_object_is_type(list, json_type_array)) {
		ctl_err("ciovd's reply has no %s array", key);
		rc = CTL_FAILED;
	} else if (c->json) {
		print_json(c, list);
	} else {
		for (size_t i = 0; i < json_object_array_length(list); i++)
			print(json_object_array_get_idx(list, i));
	}
	json_object_put(reply);
	return rc;
}

int admin_send_attrs(struct ctl *c, const char *cmd, const char *name, int argc, char **argv,
		     int (*parse)(struct ctl *c, struct json_object *req, int argc, char **argv),
		     const char *key)
{
	struct json_object *req = named_request(cmd, name);
	int rc;

	if (!req)
		return CTL_FAILED;
	rc = parse(c, req, argc, argv);
	if (rc != CTL_OK) {
		json_object_put(req);
		return rc;
	}
	return admin_send(c, req, key);
}
