/* SPDX-License-Identifier: MIT */
/* Sending and receiving one message with file descriptors (SCM_RIGHTS). */
#ifndef CIOV_FDMSG_H
#define CIOV_FDMSG_H

#include <stddef.h>
#include <sys/types.h>

/* Sends LEN bytes and NFDS fds in one sendmsg(). Returns 0 or -errno. */
int fdmsg_send(int sock, const void *buf, size_t len, const int *fds, int nfds);

/* Receives one message into BUF (at most CAP bytes) and up to MAXFDS fds
 * (the rest are closed). Returns the byte count, 0 on orderly shutdown, or
 * -errno; -EMSGSIZE when the message or its control data was truncated (all
 * received fds are closed then). *nfds is set to the fds kept. Received
 * fds are close-on-exec. Blocks or not as the socket does. */
ssize_t fdmsg_recv(int sock, void *buf, size_t cap, int *fds, int maxfds, int *nfds);

/* Closes N fds, skipping negative ones, and sets them to -1. */
void fdmsg_close_all(int *fds, int n);

#endif
