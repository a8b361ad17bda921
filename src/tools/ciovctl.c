/* SPDX-License-Identifier: MIT */
/*
 * ciovctl: the management CLI of ciovd (the VMM's console).
 *
 * This file: options, the object table, command lookup and usage. The
 * objects live in ciovctl-<object>.c, the admin socket in ciovctl-admin.c.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include <ciov/ciov.h>

#include "ciovctl.h"

#ifndef CIOV_VERSION
#define CIOV_VERSION "unknown" /* the build passes the project's version */
#endif

static const struct ctl_object *const objects[] = {
	&endpoint_object,
	&adapter_object,
	&qp_object,
	&rate_object,
	&port_object,
	NULL,
};

static void verr(const char *fmt, va_list ap)
{
	fputs("ciovctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
}

bool ctl_matches(const char *word, const char *name)
{
	return *word && !strncmp(word, name, strlen(word));
}

static bool is_help(const char *word)
{
	return !strcmp(word, "help") || !strcmp(word, "-h") || !strcmp(word, "--help");
}

static void usage_object(FILE *f, const struct ctl_object *obj)
{
	const struct ctl_cmd *cmd;

	fprintf(f, "Usage: ciovctl [OPTIONS] %s {", obj->name);
	for (cmd = obj->cmds; cmd->name; cmd++)
		fprintf(f, " %s |", cmd->name);
	fputs(" help }\n", f);
	for (cmd = obj->cmds; cmd->name; cmd++)
		fprintf(f, "       ciovctl %s %s%s%s\n", obj->name, cmd->name, *cmd->help ? " " : "",
			cmd->help);
	if (obj->notes)
		obj->notes(f);
}

static void usage_top(FILE *f, bool all)
{
	fputs("Usage: ciovctl [OPTIONS] OBJECT { COMMAND | help }\n"
	      "       ciovctl help [OBJECT]\n"
	      "OBJECT  := {",
	      f);
	for (int i = 0; objects[i]; i++)
		fprintf(f, "%s %s", i ? " |" : "", objects[i]->name);
	fputs(" }\n"
	      "OPTIONS := { -j[son] | -p[retty] | --runtime-dir DIR | -V[ersion] | -h[elp] }\n"
	      "  -j, --json         print ciovd's JSON instead of text (also after COMMAND)\n"
	      "  -p, --pretty       indent the JSON (the default on a terminal)\n"
	      "  --runtime-dir DIR  where ciovd's " CIOV_ADMIN_SOCKET " is (default:\n"
	      "                     $CIOV_RUNTIME_DIR, else " CIOV_DEFAULT_RUNTIME_DIR ")\n"
	      "Exit status: 0 done, 1 request failed, 2 usage error, 3 cannot reach ciovd.\n",
	      f);
	for (int i = 0; all && objects[i]; i++) {
		fputc('\n', f);
		usage_object(f, objects[i]);
	}
}

int ctl_usage_error(const struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
	if (c && c->obj)
		usage_object(stderr, c->obj);
	else
		usage_top(stderr, false);
	return CTL_USAGE;
}

/* 2: word is the name or the alias, 1: a prefix of one of them, 0: neither. */
static int match(const char *word, const char *name, const char *alias)
{
	if (!strcmp(word, name) || (alias && !strcmp(word, alias)))
		return 2;
	return ctl_matches(word, name) || (alias && ctl_matches(word, alias));
}

/* An exact spelling wins; otherwise a prefix must name one entry only. */
static const struct ctl_cmd *find_cmd(const struct ctl_cmd *cmds, const char *word,
				      bool *ambiguous)
{
	const struct ctl_cmd *found = NULL;
	int n = 0;

	for (const struct ctl_cmd *cmd = cmds; cmd->name; cmd++) {
		int m = match(word, cmd->name, cmd->alias);

		if (m == 2)
			return cmd;
		if (m == 1) {
			found = cmd;
			n++;
		}
	}
	*ambiguous = n > 1;
	return n == 1 ? found : NULL;
}

static const struct ctl_object *find_object(const char *word, bool *ambiguous)
{
	const struct ctl_object *found = NULL;
	int n = 0;

	for (int i = 0; objects[i]; i++) {
		int m = match(word, objects[i]->name, objects[i]->alias);

		if (m == 2)
			return objects[i];
		if (m == 1) {
			found = objects[i];
			n++;
		}
	}
	*ambiguous = n > 1;
	return n == 1 ? found : NULL;
}

static int run_object(struct ctl *c, int argc, char **argv)
{
	const struct ctl_object *obj = c->obj;
	const char *word = argc > 0 ? argv[0] : obj->dflt;
	const struct ctl_cmd *cmd;
	bool ambiguous;

	if (is_help(word)) {
		usage_object(stdout, obj);
		return CTL_OK;
	}
	cmd = find_cmd(obj->cmds, word, &ambiguous);
	if (!cmd)
		return ctl_usage_error(c, "%s command '%s' is %s", obj->name, word,
				       ambiguous ? "ambiguous" : "unknown");
	return argc > 0 ? cmd->fn(c, argc - 1, argv + 1) : cmd->fn(c, 0, argv);
}

/*
 * Options may also follow the command (`ciovctl endpoint show vm1 -j`): take
 * them out of argv. Names and values never start with '-', so any other word
 * that does is a mistake.
 */
static int trailing_options(struct ctl *c, int *argc, char **argv)
{
	int n = 0;

	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-') {
			argv[n++] = argv[i];
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			c->json = true;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--pretty")) {
			c->pretty = true;
		} else if (is_help(a)) {
			argv[0] = (char *)"help";
			*argc = 1;
			return CTL_OK;
		} else {
			return ctl_usage_error(c, "unknown option '%s'", a);
		}
	}
	*argc = n;
	return CTL_OK;
}

/* Options before OBJECT; *first is set to the index of OBJECT. */
static int leading_options(struct ctl *c, int argc, char **argv, int *first)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"pretty", no_argument, NULL, 'p'},
		{"runtime-dir", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	/* '+': stop at OBJECT, the rest is the object's */
	while ((opt = getopt_long(argc, argv, "+jphV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c->json = true;
			break;
		case 'p':
			c->pretty = true;
			break;
		case 'r':
			c->runtime_dir = optarg;
			break;
		case 'h':
			usage_top(stdout, true);
			exit(CTL_OK);
		case 'V':
			printf("ciovctl %s\n", CIOV_VERSION);
			exit(CTL_OK);
		default: /* getopt said what was wrong */
			usage_top(stderr, false);
			return CTL_USAGE;
		}
	}
	*first = optind;
	return CTL_OK;
}

/* `ciovctl help [OBJECT]` */
static int help(int argc, char **argv)
{
	const struct ctl_object *obj;
	bool ambiguous;

	if (argc < 1) {
		usage_top(stdout, true);
		return CTL_OK;
	}
	obj = find_object(argv[0], &ambiguous);
	if (!obj)
		return ctl_usage_error(NULL, "object '%s' is %s", argv[0],
				       ambiguous ? "ambiguous" : "unknown");
	usage_object(stdout, obj);
	return CTL_OK;
}

static int run(struct ctl *c, int argc, char **argv)
{
	bool ambiguous;
	int rc;

	if (argc < 1)
		return ctl_usage_error(c, "OBJECT is missing");
	if (is_help(argv[0]))
		return help(argc - 1, argv + 1);
	c->obj = find_object(argv[0], &ambiguous);
	if (!c->obj)
		return ctl_usage_error(c, "object '%s' is %s", argv[0],
				       ambiguous ? "ambiguous" : "unknown");
	argc--;
	argv++;
	rc = trailing_options(c, &argc, argv);
	if (rc != CTL_OK)
		return rc;
	return run_object(c, argc, argv);
}

static const char *default_runtime_dir(void)
{
	const char *dir = getenv("CIOV_RUNTIME_DIR");

	return dir && *dir ? dir : CIOV_DEFAULT_RUNTIME_DIR;
}

int main(int argc, char **argv)
{
	struct ctl c = {
		.runtime_dir = default_runtime_dir(),
		.pretty = isatty(STDOUT_FILENO),
	};
	int first;
	int rc;

	rc = leading_options(&c, argc, argv, &first);
	if (rc == CTL_OK)
		rc = run(&c, argc - first, argv + first);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_err("cannot write the output: %s", strerror(errno));
		if (rc == CTL_OK)
			rc = CTL_FAILED;
	}
	return rc;
}
