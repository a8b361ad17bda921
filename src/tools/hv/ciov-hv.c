/* SPDX-License-Identifier: MIT */
/*
 * ciov-hv: a minimal hypervisor for a native endpoint. It owns the guest's
 * memory (a sealed memfd), provisions the endpoint's resources through the
 * admin socket (as only the manager may in native mode: segment, PD, MR,
 * CQ, QP), runs the guest with the handles in its environment, and tears
 * everything down when the guest exits.
 *
 *   ciov-hv [--runtime-dir DIR] [--mem SIZE] [--iova ADDR] ENDPOINT -- COMMAND [ARGS...]
 *
 * The guest sees CIOV_ENDPOINT and CIOV_HV_{SEG,PD,MR,CQ,QP} (handles) and
 * CIOV_HV_IOVA / CIOV_HV_MEM (where its memory is, as the adapter sees it).
 * The memfd is inherited as the guest's RAM would be; libciov's
 * ciov_open_seg() maps it too.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include <ciov/ciov.h>

#include "common/fdmsg.h"

struct hv {
	const char *rt;
	const char *ep;
	uint64_t mem;
	uint64_t iova;
	int admin;
	int memfd;
	uint32_t seg, pd, mr, cq, qp;
};

static int admin_connect(const char *rt)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", rt, CIOV_ADMIN_SOCKET) >=
		    sizeof(sa.sun_path) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno ? -errno : -ENAMETOOLONG;

		close(fd);
		return err;
	}
	return fd;
}

/* One request line out (with FD if >= 0), one reply line back. Returns the
 * reply (caller puts) when it says ok, else prints the error, NULL. */
static struct json_object *call(struct hv *hv, int fd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct json_object *call(struct hv *hv, int fd, const char *fmt, ...)
{
	char line[4096], buf[65536];
	size_t len = 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return NULL;
	line[n++] = '\n';
	if (fdmsg_send(hv->admin, line, (size_t)n, &fd, fd >= 0) < 0)
		return NULL;
	for (;;) {
		ssize_t r = recv(hv->admin, buf + len, sizeof(buf) - 1 - len, 0);
		char *nl;

		if (r <= 0)
			return NULL;
		len += (size_t)r;
		buf[len] = '\0';
		nl = strchr(buf, '\n');
		if (nl) {
			struct json_object *rep, *ok;

			*nl = '\0';
			rep = json_tokener_parse(buf);
			if (rep && json_object_object_get_ex(rep, "ok", &ok) &&
			    json_object_get_boolean(ok))
				return rep;
			fprintf(stderr, "ciov-hv: %s\n", buf);
			json_object_put(rep);
			return NULL;
		}
		if (len == sizeof(buf) - 1)
			return NULL;
	}
}

/* Runs a command that creates something and returns its "handle". */
static int create(struct hv *hv, uint32_t *handle, int fd, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int create(struct hv *hv, uint32_t *handle, int fd, const char *what, const char *fmt, ...)
{
	char body[2048];
	struct json_object *rep, *h;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	rep = call(hv, fd, "{\"cmd\":\"%s\",\"endpoint\":\"%s\"%s%s}", what, hv->ep,
		   *body ? "," : "", body);
	if (!rep || !json_object_object_get_ex(rep, "handle", &h)) {
		json_object_put(rep);
		return -1;
	}
	*handle = (uint32_t)json_object_get_int64(h);
	json_object_put(rep);
	printf("ciov-hv: %-10s on %s: handle %" PRIu32 "\n", what, hv->ep, *handle);
	fflush(stdout);
	return 0;
}

static int provision(struct hv *hv)
{
	hv->memfd = memfd_create("ciov-hv-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (hv->memfd < 0 || ftruncate(hv->memfd, (off_t)hv->mem) < 0 ||
	    fcntl(hv->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		perror("ciov-hv: guest memory");
		return -1;
	}
	if (create(hv, &hv->seg, hv->memfd, "seg.attach",
		   "\"fds\":1,\"iova\":%" PRIu64 ",\"length\":%" PRIu64 ",\"offset\":0", hv->iova,
		   hv->mem) ||
	    create(hv, &hv->pd, -1, "pd.alloc", "%s", "") ||
	    create(hv, &hv->mr, -1, "mr.reg",
		   "\"pd\":%" PRIu32 ",\"iova\":%" PRIu64 ",\"length\":%" PRIu64
		   ",\"access\":[\"local_write\",\"remote_write\",\"remote_read\",\"remote_atomic\"]",
		   hv->pd, hv->iova, hv->mem) ||
	    create(hv, &hv->cq, -1, "cq.create", "\"cqe\":1024") ||
	    create(hv, &hv->qp, -1, "qp.create",
		   "\"pd\":%" PRIu32 ",\"qp_type\":\"rc\",\"send_cq\":%" PRIu32
		   ",\"recv_cq\":%" PRIu32 ",\"cap\":{\"max_send_wr\":256,\"max_recv_wr\":256,"
		   "\"max_send_sge\":4,\"max_recv_sge\":4,\"max_inline_data\":128}",
		   hv->pd, hv->cq, hv->cq))
		return -1;
	return 0;
}

static void destroy(struct hv *hv, const char *what, uint32_t h)
{
	struct json_object *rep;

	if (!h)
		return;
	rep = call(hv, -1, "{\"cmd\":\"%s\",\"endpoint\":\"%s\",\"handle\":%" PRIu32 "}", what,
		   hv->ep, h);
	json_object_put(rep);
}

static void teardown(struct hv *hv)
{
	destroy(hv, "qp.destroy", hv->qp);
	destroy(hv, "cq.destroy", hv->cq);
	destroy(hv, "mr.dereg", hv->mr);
	destroy(hv, "pd.dealloc", hv->pd);
	destroy(hv, "seg.detach", hv->seg);
	printf("ciov-hv: %s torn down\n", hv->ep);
}

static int run_guest(struct hv *hv, char **argv)
{
	char v[64];
	pid_t pid;
	int status;

	setenv("CIOV_ENDPOINT", hv->ep, 1);
	setenv("CIOV_RUNTIME_DIR", hv->rt, 1);
#define EXPORT(name, val)                                                      \
	snprintf(v, sizeof(v), "%" PRIu64, (uint64_t)(val));                   \
	setenv(name, v, 1)
	EXPORT("CIOV_HV_SEG", hv->seg);
	EXPORT("CIOV_HV_PD", hv->pd);
	EXPORT("CIOV_HV_MR", hv->mr);
	EXPORT("CIOV_HV_CQ", hv->cq);
	EXPORT("CIOV_HV_QP", hv->qp);
	EXPORT("CIOV_HV_IOVA", hv->iova);
	EXPORT("CIOV_HV_MEM", hv->mem);
#undef EXPORT
	fflush(stdout); /* or the child inherits what is buffered */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "ciov-hv: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ciov-hv [--runtime-dir DIR] [--mem SIZE] [--iova ADDR] ENDPOINT -- COMMAND [ARGS...]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"runtime-dir", required_argument, NULL, 'r'},
		{"mem", required_argument, NULL, 'm'},
		{"iova", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct hv hv = {.mem = 64ull << 20, .iova = 1ull << 32, .memfd = -1};
	int c, rc;

	hv.rt = getenv("CIOV_RUNTIME_DIR");
	if (!hv.rt || !*hv.rt)
		hv.rt = CIOV_DEFAULT_RUNTIME_DIR;
	while ((c = getopt_long(argc, argv, "+r:m:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			hv.rt = optarg;
			break;
		case 'm':
			hv.mem = strtoull(optarg, NULL, 0) << 20;
			break;
		case 'i':
			hv.iova = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || hv.mem == 0 || (hv.mem & 4095) || (hv.iova & 4095)) {
		usage(stderr);
		return 2;
	}
	hv.ep = argv[optind++];
	if (strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	hv.admin = admin_connect(hv.rt);
	if (hv.admin < 0) {
		fprintf(stderr, "ciov-hv: cannot reach %s/%s: %s\n", hv.rt, CIOV_ADMIN_SOCKET,
			strerror(-hv.admin));
		return 3;
	}
	rc = provision(&hv) ? 1 : run_guest(&hv, argv + optind);
	teardown(&hv);
	close(hv.admin);
	if (hv.memfd >= 0)
		close(hv.memfd);
	return rc;
}
