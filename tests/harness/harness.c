/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ciov/abi.h>

#include "common/fdmsg.h"
#include "harness.h"

static const char *ciovd_path(void)
{
	static char buf[PATH_MAX];
	const char *p = getenv("CIOV_CIOVD");
	const char *b = getenv("CIOV_BUILD");

	if (p && *p)
		return p;
	snprintf(buf, sizeof(buf), "%.3900s/src/adapter/ciovd", b && *b ? b : ".");
	return buf;
}

static int sock_connect(const char *dir, const char *name, int type)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int spawn(struct th_daemon *d)
{
	const char *bin = ciovd_path();

	d->admin = -1;
	d->pid = fork();
	if (d->pid < 0)
		return -errno;
	if (d->pid == 0) {
		/* A test that dies must not leave its adapter behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (d->netns[0])
			execlp("ip", "ip", "netns", "exec", d->netns, bin, "--runtime-dir", d->rt,
			       "--state-dir", d->st, "--foreground", "--quiet", (char *)NULL);
		else
			execl(bin, "ciovd", "--runtime-dir", d->rt, "--state-dir", d->st,
			      "--foreground", "--quiet", (char *)NULL);
		fprintf(stderr, "harness: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	/* Wait up to 10 s for both sockets. */
	for (int i = 0; i < 1000; i++) {
		int a = sock_connect(d->rt, "admin.sock", SOCK_STREAM);
		int t = a >= 0 ? sock_connect(d->rt, "tenant.sock", SOCK_SEQPACKET) : -1;
		int status;

		if (t >= 0) {
			close(t);
			d->admin = a;
			setenv("CIOV_RUNTIME_DIR", d->rt, 1);
			return 0;
		}
		if (a >= 0)
			close(a);
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return -ECHILD;
		}
		usleep(10000);
	}
	th_daemon_kill(d);
	return -ETIMEDOUT;
}

int th_daemon_start(struct th_daemon *d)
{
	return th_daemon_start_in(d, "");
}

int th_daemon_start_in(struct th_daemon *d, const char *netns)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->netns, sizeof(d->netns), "%s", netns);
	snprintf(d->rt, sizeof(d->rt), "/tmp/ciov-test-rt.XXXXXX");
	snprintf(d->st, sizeof(d->st), "/tmp/ciov-test-st.XXXXXX");
	if (!mkdtemp(d->rt) || !mkdtemp(d->st))
		return -errno;
	chmod(d->rt, 0755);
	return spawn(d);
}

int th_daemon_restart(struct th_daemon *d)
{
	return spawn(d);
}

int th_daemon_stop(struct th_daemon *d)
{
	int status = 0;

	if (d->admin >= 0)
		close(d->admin);
	d->admin = -1;
	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(10000);
	}
	th_daemon_kill(d);
	return -1;
}

void th_daemon_kill(struct th_daemon *d)
{
	if (d->admin >= 0)
		close(d->admin);
	d->admin = -1;
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
}

static void rm_rf(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (!dp)
		return;
	while ((e = readdir(dp))) {
		char p[PATH_MAX * 2];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) < 0 && errno == EISDIR)
			rm_rf(p);
	}
	closedir(dp);
	rmdir(dir);
}

void th_daemon_cleanup(struct th_daemon *d)
{
	if (d->pid > 0)
		th_daemon_kill(d);
	if (d->rt[0])
		rm_rf(d->rt);
	if (d->st[0])
		rm_rf(d->st);
	d->rt[0] = d->st[0] = '\0';
}

static struct json_object *admin_vcall(struct th_daemon *d, const int *fds, int nfds,
				       const char *fmt, va_list ap)
{
	char *line = NULL;
	char buf[1 << 16];
	size_t cap = 0, len = 0;
	struct json_object *rep = NULL;
	int n;

	if (d->admin < 0) {
		d->admin = sock_connect(d->rt, "admin.sock", SOCK_STREAM);
		if (d->admin < 0)
			return NULL;
	}
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		return NULL;
	buf[n++] = '\n';
	if (fdmsg_send(d->admin, buf, (size_t)n, fds, nfds) < 0)
		return NULL;
	for (;;) {
		char chunk[65536];
		ssize_t r = recv(d->admin, chunk, sizeof(chunk), 0);
		char *nl;

		if (r <= 0)
			break;
		if (len + (size_t)r + 1 > cap) {
			cap = (len + (size_t)r + 1) * 2;
			line = realloc(line, cap);
		}
		memcpy(line + len, chunk, (size_t)r);
		len += (size_t)r;
		line[len] = '\0';
		nl = memchr(line, '\n', len);
		if (nl) {
			*nl = '\0';
			rep = json_tokener_parse(line);
			break;
		}
	}
	free(line);
	return rep;
}

struct json_object *th_admin(struct th_daemon *d, const char *fmt, ...)
{
	struct json_object *r;
	va_list ap;

	va_start(ap, fmt);
	r = admin_vcall(d, NULL, 0, fmt, ap);
	va_end(ap);
	return r;
}

struct json_object *th_admin_fds(struct th_daemon *d, const int *fds, int nfds, const char *fmt,
				 ...)
{
	struct json_object *r;
	va_list ap;

	va_start(ap, fmt);
	r = admin_vcall(d, fds, nfds, fmt, ap);
	va_end(ap);
	return r;
}

bool th_ok(struct json_object *rep)
{
	struct json_object *v;

	return rep && json_object_object_get_ex(rep, "ok", &v) && json_object_get_boolean(v);
}

int th_errno(struct json_object *rep)
{
	struct json_object *v;

	return rep && json_object_object_get_ex(rep, "errno", &v) ? json_object_get_int(v) : 0;
}

struct json_object *th_admin_ok(struct th_daemon *d, const char *fmt, ...)
{
	struct json_object *r;
	va_list ap;

	va_start(ap, fmt);
	r = admin_vcall(d, NULL, 0, fmt, ap);
	va_end(ap);
	if (!th_ok(r)) {
		fprintf(stderr, "admin request failed: %s\n",
			r ? json_object_to_json_string(r) : "(no reply)");
		json_object_put(r);
		return NULL;
	}
	return r;
}

long long th_get_int(struct json_object *o, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, o);
	while (o && (key = va_arg(ap, const char *))) {
		struct json_object *v;

		if (json_object_is_type(o, json_type_array))
			v = json_object_array_get_idx(o, (size_t)atoi(key));
		else if (!json_object_object_get_ex(o, key, &v))
			v = NULL;
		o = v;
	}
	va_end(ap);
	return o && json_object_is_type(o, json_type_int) ? json_object_get_int64(o) : -1;
}

int th_daemon_nfds(const struct th_daemon *d)
{
	char p[64];
	DIR *dp;
	struct dirent *e;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)d->pid);
	dp = opendir(p);
	if (!dp)
		return -1;
	while ((e = readdir(dp)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

long th_daemon_rss_kb(const struct th_daemon *d)
{
	char p[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)d->pid);
	f = fopen(p, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int th_tenant_connect(const struct th_daemon *d)
{
	return sock_connect(d->rt, "tenant.sock", SOCK_SEQPACKET);
}

int th_raw_call(int sock, unsigned op, const void *req, size_t req_len, void *rep, size_t rep_len,
		const int *fds, int nfds)
{
	char buf[CIOV_CTL_MSG_MAX];
	struct ciov_ctl_hdr h = {
		.magic = CIOV_CTL_MAGIC,
		.version = CIOV_ABI_VERSION,
		.op = (uint16_t)op,
		.seq = 1,
		.len = (uint32_t)req_len,
	};
	int rfds[CIOV_CTL_FDS_MAX], nr;
	ssize_t n;

	if (sizeof(h) + req_len > sizeof(buf))
		return -EMSGSIZE;
	memcpy(buf, &h, sizeof(h));
	if (req_len)
		memcpy(buf + sizeof(h), req, req_len);
	if (fdmsg_send(sock, buf, sizeof(h) + req_len, fds, nfds))
		return 1;
	n = fdmsg_recv(sock, buf, sizeof(buf), rfds, CIOV_CTL_FDS_MAX, &nr);
	fdmsg_close_all(rfds, nr);
	if (n < (ssize_t)sizeof(h))
		return 1;
	memcpy(&h, buf, sizeof(h));
	if (rep && h.status == 0)
		memcpy(rep, buf + sizeof(h), rep_len < h.len ? rep_len : h.len);
	return h.status;
}

int th_raw_open(int sock, const char *endpoint)
{
	struct ciov_ctl_open_req rq = {.abi = CIOV_ABI_VERSION};
	struct ciov_ctl_open_rep rp;

	snprintf(rq.name, sizeof(rq.name), "%s", endpoint);
	return th_raw_call(sock, CIOV_CTL_OPEN, &rq, sizeof(rq), &rp, sizeof(rp), NULL, 0);
}
