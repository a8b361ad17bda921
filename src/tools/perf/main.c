/* SPDX-License-Identifier: MIT */
/*
 * ciov-perf: the perftest-like benchmark of libciov.
 *
 *   ciov-perf TEST KIND [OPTIONS]          server: waits for a client
 *   ciov-perf TEST KIND [OPTIONS] SERVER   client: runs and reports
 *
 * Order of a run: open the endpoint (fail fast), meet the peer over TCP and
 * agree on the parameters (the client's), create the buffer, MR, CQs and
 * QPs, exchange GID/QPN/PSN/rkey/address, connect the QPs, then for each
 * message size: READY barrier, the test, DONE barrier, a result line.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "perf.h"

#define CONNECT_RETRY_MS 10000 /* the client waits this long for a server */

int main(int argc, char **argv)
{
	uint64_t sizes[PERF_ALL_MAX_SHIFT + 1];
	struct perf_res r = {0};
	struct perf_conn mine, peer;
	struct perf_opts o;
	struct perf_run run = {.o = &o, .r = &r, .fd = -1};
	int rc, n, fd;

	rc = perf_parse_args(argc, argv, &o, stdout, stderr);
	if (rc)
		return rc < 0 ? PERF_EXIT_OK : PERF_EXIT_USAGE;
	run.client = o.server != NULL;
	signal(SIGPIPE, SIG_IGN); /* a dead peer is an error return, not a signal */
	rc = PERF_EXIT_FAIL;

	if (perf_res_open(&r, &o))
		goto out;

	if (run.client) {
		fd = perf_oob_connect(o.server, o.port, CONNECT_RETRY_MS);
		if (fd < 0) {
			fprintf(stderr, "ciov-perf: cannot connect to %s port %u: %s\n", o.server,
				o.port, fd == -EHOSTUNREACH ? "unknown host" : strerror(-fd));
			goto out;
		}
		run.fd = fd;
		if (perf_oob_params_client(run.fd, &o.p, stderr))
			goto out;
	} else {
		int lfd = perf_oob_listen(o.port);

		if (lfd < 0) {
			fprintf(stderr, "ciov-perf: cannot listen on port %u: %s\n", o.port,
				strerror(-lfd));
			goto out;
		}
		if (!o.json) {
			printf("************************************\n"
			       "* Waiting for client to connect... *\n"
			       "************************************\n");
			fflush(stdout);
		}
		fd = perf_oob_accept(lfd);
		if (fd < 0) {
			fprintf(stderr, "ciov-perf: accept: %s\n", strerror(-fd));
			goto out;
		}
		run.fd = fd;
		if (perf_oob_params_server(run.fd, &o.p, stderr))
			goto out;
	}

	if (perf_res_setup(&r, &o, &mine) ||
	    perf_oob_conn(run.fd, run.client, &mine, &peer, stderr) ||
	    perf_res_connect(&r, &o, &peer))
		goto out;

	/* both sides show the banner; the client alone reports results */
	perf_print_banner(stdout, &o);
	if (run.client && o.p.kind == PERF_KIND_BW)
		perf_print_bw_header(stdout, &o);
	else if (run.client)
		perf_print_lat_header(stdout, &o);

	n = perf_sizes(&o.p, sizes, (int)(sizeof(sizes) / sizeof(sizes[0])));
	for (int i = 0; i < n; i++) {
		int err = o.p.kind == PERF_KIND_BW ? perf_run_bw(&run, sizes[i])
						   : perf_run_lat(&run, sizes[i]);

		if (err)
			goto out;
	}
	perf_print_footer(stdout, &o);
	rc = PERF_EXIT_OK;
out:
	if (run.fd >= 0)
		close(run.fd);
	perf_res_close(&r);
	return rc;
}
