/* SPDX-License-Identifier: MIT */
/* ciovd: the adapter daemon. Sets up sockets and state, runs the loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ciov/ciov.h>

#include "adapter/adapter.h"
#include "adapter/admin.h"
#include "adapter/client.h"
#include "adapter/endpoint.h"
#include "adapter/log.h"
#include "adapter/scheduler.h"
#include "adapter/state.h"
#include "adapter/state_writer.h"
#include "common/container.h"

#define CIOV_DEFAULT_STATE_DIR "/var/lib/ciov"

/* Embedded defaults: one adapter, one port, these device limits. */
/* Rounded up to a power of two, a queue of this many must fit CIOV_WQ_MAX. */
#define DEFAULT_MAX_QP_WR 16384u
_Static_assert(DEFAULT_MAX_QP_WR <= CIOV_WQ_MAX, "a CQE names a slot in 16 bits");

static const struct adapter_limits default_limits = {
	.endpoints = 4096,
	.connections = 4096,
	.admin_conns = 64,
	.max_sge = 32,
	.max_inline = 256,
	.max_qp_wr = DEFAULT_MAX_QP_WR,
	.max_cqe = 65536,
	.max_srq_wr = 16384,
	.max_mr_size = 1ull << 40,
};

struct options {
	const char *runtime_dir;
	const char *state_dir;
	const char *admin_group;
	bool foreground;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ciovd [--runtime-dir DIR] [--state-dir DIR] [--admin-group GROUP]\n"
		   "             [--foreground] [--verbose] [--quiet]\n"
		   "  --runtime-dir DIR  sockets go here (default $CIOV_RUNTIME_DIR or %s)\n"
		   "  --state-dir DIR    saved configuration (default $CIOV_STATE_DIR or %s)\n"
		   "  --admin-group GRP  group allowed on the admin socket besides root\n"
		   "  --foreground       do not daemonize; log to stderr\n",
		CIOV_DEFAULT_RUNTIME_DIR, CIOV_DEFAULT_STATE_DIR);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"runtime-dir", required_argument, NULL, 'r'},
		{"state-dir", required_argument, NULL, 's'},
		{"admin-group", required_argument, NULL, 'g'},
		{"foreground", no_argument, NULL, 'f'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	o->runtime_dir = getenv("CIOV_RUNTIME_DIR");
	if (!o->runtime_dir || !*o->runtime_dir)
		o->runtime_dir = CIOV_DEFAULT_RUNTIME_DIR;
	o->state_dir = getenv("CIOV_STATE_DIR");
	if (!o->state_dir || !*o->state_dir)
		o->state_dir = CIOV_DEFAULT_STATE_DIR;
	while ((c = getopt_long(argc, argv, "r:s:g:fvqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->runtime_dir = optarg;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'g':
			o->admin_group = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			log_threshold = LOG_LVL_DEBUG;
			break;
		case 'q':
			log_threshold = LOG_LVL_WARN;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Binds a listening UNIX socket at DIR/NAME, replacing a stale file. */
static int listener_open(struct adapter *ad, struct listener *l, const char *name, int type,
			 mode_t mode, loop_fn *fn)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	l->ad = ad;
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s/%s", ad->runtime_dir, name) >=
		    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, l->path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(l->path); /* the lock file proves no other ciovd owns it */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(l->path, mode) < 0 ||
	    listen(fd, 128) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (ad->has_admin_gid && strcmp(name, CIOV_ADMIN_SOCKET) == 0 &&
	    chown(l->path, 0, ad->admin_gid) < 0)
		log_warn("cannot give %s to the admin group: %s", l->path, strerror(errno));
	l->src.fd = fd;
	l->src.fn = fn;
	return loop_add(&ad->loop, &l->src, EPOLLIN);
}

static void listener_close(struct adapter *ad, struct listener *l)
{
	if (!l->src.fn)
		return;
	loop_del(&ad->loop, &l->src);
	close(l->src.fd);
	unlink(l->path);
	l->src.fn = NULL;
}

static void on_signal(struct loop_src *src, uint32_t events)
{
	struct adapter *ad = container_of(src, struct adapter, sig_src);
	struct signalfd_siginfo si;

	if (read(src->fd, &si, sizeof(si)) == sizeof(si))
		log_info("signal %u: shutting down", si.ssi_signo);
	ad->loop.stop = true;
	(void)events;
}

static int signals_open(struct adapter *ad)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	ad->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ad->sigfd < 0)
		return -errno;
	ad->sig_src.fd = ad->sigfd;
	ad->sig_src.fn = on_signal;
	return loop_add(&ad->loop, &ad->sig_src, EPOLLIN);
}

/* One ciovd per runtime directory: an flock held for our lifetime. */
static int lock_runtime_dir(const char *dir)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/ciovd.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void adapter_fini(struct adapter *ad)
{
	struct endpoint *ep;
	uint32_t h = 0;

	listener_close(ad, &ad->tenant);
	listener_close(ad, &ad->admin);
	while ((ep = pool_next(&ad->endpoints, &h)))
		ep_destroy(ep);
	/* After the QPs that route through them; a running capture ends and
	 * its client gets the count. */
	port_fini_all(ad);
	state_port_fini(ad);
	/* Reap what the teardown deferred. */
	ad->loop.stop = true;
	ad->loop.idle = NULL;
	loop_run(&ad->loop);
	state_writer_fini(); /* every save made durable */
	pool_fini(&ad->endpoints);
	rate_fini(ad);
	engine_fini(&ad->engine);
	qpn_fini(&ad->qpns);
	if (ad->sigfd >= 0)
		close(ad->sigfd);
	loop_fini(&ad->loop);
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct adapter ad = {.sigfd = -1};
	struct options opt = {0};
	int lockfd, err;

	if (parse_args(argc, argv, &opt))
		return 2;
	ad.lim = default_limits;
	snprintf(ad.runtime_dir, sizeof(ad.runtime_dir), "%s", opt.runtime_dir);
	snprintf(ad.state_dir, sizeof(ad.state_dir), "%s", opt.state_dir);
	if (opt.admin_group) {
		struct group *g = getgrnam(opt.admin_group);

		if (!g) {
			fprintf(stderr, "ciovd: no group '%s'\n", opt.admin_group);
			return 2;
		}
		ad.admin_gid = g->gr_gid;
		ad.has_admin_gid = true;
	}
	if ((err = mkdir_p(ad.runtime_dir, 0755)) || (err = mkdir_p(ad.state_dir, 0700))) {
		fprintf(stderr, "ciovd: cannot create %s or %s: %s\n", ad.runtime_dir,
			ad.state_dir, strerror(-err));
		return 1;
	}
	lockfd = lock_runtime_dir(ad.runtime_dir);
	if (lockfd < 0) {
		fprintf(stderr, "ciovd: %s: %s\n", ad.runtime_dir,
			lockfd == -EADDRINUSE ? "another ciovd is running there"
					      : strerror(-lockfd));
		return 1;
	}
	pool_init(&ad.endpoints, ad.lim.endpoints);
	err = loop_init(&ad.loop);
	if (!err)
		err = state_writer_init(&ad.loop);
	if (!err)
		err = engine_init(&ad.engine, &ad);
	if (!err)
		err = state_load(&ad);
	if (err) {
		fprintf(stderr, "ciovd: cannot start: %s\n", strerror(-err));
		return 1;
	}
	err = listener_open(&ad, &ad.tenant, CIOV_TENANT_SOCKET, SOCK_SEQPACKET, 0666,
				    client_accept);
	if (!err)
		err = listener_open(&ad, &ad.admin, CIOV_ADMIN_SOCKET, SOCK_STREAM, 0660,
				    admin_accept);
	if (err) {
		log_err("cannot open sockets in %s: %s", ad.runtime_dir, strerror(-err));
		adapter_fini(&ad);
		return 1;
	}
	/* Detach only once the sockets accept: whoever started us may use
	 * them as soon as we return. */
	if (!opt.foreground && (err = daemonize())) {
		log_err("cannot daemonize: %s", strerror(-err));
		adapter_fini(&ad);
		return 1;
	}
	/* After the fork: a signalfd in epoll wakes only the process that
	 * registered it. */
	err = signals_open(&ad);
	if (err) {
		log_err("cannot handle signals: %s", strerror(-err));
		adapter_fini(&ad);
		return 1;
	}
	ad.engine.rates = sched_active(&ad); /* restored rate settings */
	ad.loop.idle = engine_idle;
	ad.loop.idle_arg = &ad.engine;
	log_info("ready: %u endpoints, sockets in %s", ad.endpoints.used, ad.runtime_dir);
	err = loop_run(&ad.loop);
	if (err)
		log_err("event loop: %s", strerror(-err));
	adapter_fini(&ad);
	close(lockfd);
	return err ? 1 : 0;
}
