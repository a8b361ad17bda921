/* SPDX-License-Identifier: MIT */
/*
 * bench-reg-mr: ciov_reg_mr latency. Prints one JSON line per case:
 *   {"bench":"reg_mr","mode":M,"memory":K,"size":S,"iters":N,
 *    "median_us":..,"p99_us":..,"peer":"memcpy","peer_median_us":..}
 * memory "new": fresh private memory (the re-backing path: copy into a
 *   memfd, attach the segment, remap, register);
 * memory "segment": memory already in a segment (one round trip);
 * mode "native": the manager registers over the admin socket (JSON) on a
 *   segment it attached. The peer is a memcpy of the same size measured in
 *   the same run: the floor of the re-backing path.
 * Starts its own ciovd ($CIOV_CIOVD, else ../src/adapter/ciovd next to
 * this program). Exit 0, or 1 if a step failed (the reason on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <ciov/ciov.h>

#include "harness.h"
#include "stats.h"

#define ITERS_SEGMENT 1000
#define ITERS_NEW 200
#define ITERS_NATIVE 500
#define REOPEN_EVERY 50 /* "new" memory: release its segments this often */

static double memcpy_median(size_t size)
{
	double t[200];
	char *a = malloc(size), *b = malloc(size);

	memset(a, 1, size);
	memset(b, 2, size);
	for (int i = 0; i < 200; i++) {
		double t0 = now_us();

		memcpy(b, a, size);
		__asm__ volatile("" : : "r"(b) : "memory");
		t[i] = now_us() - t0;
	}
	free(a);
	free(b);
	return quantile(t, 200, 0.5);
}

static void report(const char *mode, const char *memory, size_t size, double *t, int n)
{
	double p99 = quantile(t, n, 0.99), med = quantile(t, n, 0.5);

	printf("{\"bench\":\"reg_mr\",\"mode\":\"%s\",\"memory\":\"%s\",\"size\":%zu,\"iters\":%d,"
	       "\"median_us\":%.2f,\"p99_us\":%.2f,\"peer\":\"memcpy\",\"peer_median_us\":%.2f}\n",
	       mode, memory, size, n, med, p99, memcpy_median(size));
	fflush(stdout);
}

#define CHECK(expr)                                                            \
	do {                                                                   \
		int err_ = (expr);                                             \
		if (err_) {                                                    \
			fprintf(stderr, "bench-reg-mr: %s: %s\n", #expr, strerror(-err_)); \
			return 1;                                              \
		}                                                              \
	} while (0)

static int open_ep(struct ciov_adapter *ad, struct ciov_endpoint **ep, struct ciov_pd **pd)
{
	CHECK(ciov_open_endpoint(ad, "bench", ep));
	CHECK(ciov_alloc_pd(*ep, pd));
	return 0;
}

/* Fresh memory every time: the re-backing path. */
static int bench_new(struct ciov_adapter *ad, size_t size)
{
	struct ciov_endpoint *ep;
	struct ciov_pd *pd;
	double *t = calloc(ITERS_NEW, sizeof(*t));
	void *bufs[REOPEN_EVERY];

	if (open_ep(ad, &ep, &pd))
		return 1;
	for (int i = 0; i < ITERS_NEW; i++) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct ciov_mr *mr;
		double t0;

		if (p == MAP_FAILED)
			return 1;
		memset(p, i, size); /* as malloc'ed, used memory is */
		t0 = now_us();
		CHECK(ciov_reg_mr(pd, p, size, CIOV_ACCESS_LOCAL_WRITE, &mr));
		t[i] = now_us() - t0;
		CHECK(ciov_dereg_mr(mr));
		bufs[i % REOPEN_EVERY] = p;
		if (i % REOPEN_EVERY == REOPEN_EVERY - 1) {
			/* Closing the endpoint detaches the segments. */
			ciov_close_endpoint(ep);
			for (int j = 0; j < REOPEN_EVERY; j++)
				munmap(bufs[j], size);
			if (open_ep(ad, &ep, &pd))
				return 1;
		}
	}
	ciov_close_endpoint(ep);
	report("passthrough", "new", size, t, ITERS_NEW);
	free(t);
	return 0;
}

/* Memory already in a segment: the registration round trip alone. */
static int bench_segment(struct ciov_adapter *ad, size_t size)
{
	struct ciov_endpoint *ep;
	struct ciov_pd *pd;
	struct ciov_mr *mr;
	double *t = calloc(ITERS_SEGMENT, sizeof(*t));
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || open_ep(ad, &ep, &pd))
		return 1;
	CHECK(ciov_reg_mr(pd, p, size, 0, &mr)); /* attaches the segment */
	CHECK(ciov_dereg_mr(mr));
	for (int i = 0; i < ITERS_SEGMENT; i++) {
		double t0 = now_us();

		CHECK(ciov_reg_mr(pd, p, size, CIOV_ACCESS_LOCAL_WRITE, &mr));
		t[i] = now_us() - t0;
		CHECK(ciov_dereg_mr(mr));
	}
	ciov_close_endpoint(ep);
	munmap(p, size);
	report("passthrough", "segment", size, t, ITERS_SEGMENT);
	free(t);
	return 0;
}

/* The manager registers over the admin socket, on a segment it attached. */
static int bench_native(struct th_daemon *d, size_t size)
{
	double *t = calloc(ITERS_NATIVE, sizeof(*t));
	int fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct json_object *r;
	long long seg, pd;

	if (fd < 0 || ftruncate(fd, (off_t)size) || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		return 1;
	r = th_admin_fds(d, &fd, 1, "{\"cmd\":\"seg.attach\",\"endpoint\":\"vm\",\"iova\":1048576,"
				    "\"length\":%zu,\"offset\":0,\"fds\":1}", size);
	close(fd);
	if (!th_ok(r)) {
		fprintf(stderr, "bench-reg-mr: native half skipped: seg.attach: %s\n",
			r ? json_object_to_json_string(r) : "no answer");
		json_object_put(r);
		return 0;
	}
	seg = th_get_int(r, "handle", NULL);
	json_object_put(r);
	r = th_admin_ok(d, "{\"cmd\":\"pd.alloc\",\"endpoint\":\"vm\"}");
	if (!r)
		return 1;
	pd = th_get_int(r, "handle", NULL);
	json_object_put(r);
	for (int i = 0; i < ITERS_NATIVE; i++) {
		long long mr;
		double t0 = now_us();

		r = th_admin(d, "{\"cmd\":\"mr.reg\",\"endpoint\":\"vm\",\"pd\":%lld,"
				"\"access\":[\"local_write\"],\"iova\":1048576,\"length\":%zu}",
			     pd, size);
		t[i] = now_us() - t0;
		if (!th_ok(r))
			return 1;
		mr = th_get_int(r, "handle", NULL);
		json_object_put(r);
		r = th_admin_ok(d, "{\"cmd\":\"mr.dereg\",\"endpoint\":\"vm\",\"handle\":%lld}", mr);
		if (!r)
			return 1;
		json_object_put(r);
	}
	json_object_put(th_admin(d, "{\"cmd\":\"pd.dealloc\",\"endpoint\":\"vm\",\"handle\":%lld}", pd));
	json_object_put(th_admin(d, "{\"cmd\":\"seg.detach\",\"endpoint\":\"vm\",\"handle\":%lld}", seg));
	report("native", "segment", size, t, ITERS_NATIVE);
	free(t);
	return 0;
}

/* $CIOV_CIOVD, else the ciovd of the build tree this program is in. */
static void find_ciovd(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n;

	if (getenv("CIOV_CIOVD"))
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../src/adapter/ciovd", dirname(exe));
	setenv("CIOV_CIOVD", path, 1);
}

int main(void)
{
	static const size_t sizes[] = {4096, 1 << 20};
	struct th_daemon d = {0};
	struct ciov_adapter *ad;
	struct json_object *r;
	int err = 0, status;

	find_ciovd();
	if (th_daemon_start(&d)) {
		fprintf(stderr, "bench-reg-mr: cannot start ciovd (set CIOV_CIOVD)\n");
		return 1;
	}
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"bench\",\"mode\":\"passthrough\"}");
	json_object_put(r);
	err = !r;
	r = th_admin_ok(&d, "{\"cmd\":\"endpoint.add\",\"name\":\"vm\",\"mode\":\"native\"}");
	json_object_put(r);
	err |= !r;
	if (!err)
		err = ciov_adapter_open(NULL, &ad) ? 1 : 0;
	for (size_t i = 0; !err && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		err = bench_new(ad, sizes[i]);
		err = err ? err : bench_segment(ad, sizes[i]);
		err = err ? err : bench_native(&d, sizes[i]);
	}
	if (!err)
		ciov_adapter_close(ad);
	status = th_daemon_stop(&d);
	th_daemon_cleanup(&d);
	return err || status ? 1 : 0;
}
