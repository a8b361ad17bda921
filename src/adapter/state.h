/* SPDX-License-Identifier: MIT */
/* Persistent configuration: endpoints and their settings, saved atomically
 * (write, fsync, rename, fsync the directory) to STATE_DIR/state.json. */
#ifndef CIOV_STATE_H
#define CIOV_STATE_H

struct adapter;
struct json_object;

#define STATE_FILE "state.json"

/* Saves the adapter's configuration: writes it, and queues the fsync and
 * rename to the writer thread (state_writer.h; state_writer_last() is
 * this save's number). 0 or -errno (nothing queued: undo the change); the
 * old file is intact on failure. */
int state_save(struct adapter *ad);
/* Restores it (no file: a fresh adapter with a new GID prefix, saved).
 * -EINVAL with a logged reason for a file that cannot be trusted. */
int state_load(struct adapter *ad);

/* Ports (state_port.c): the root member "ports", every configured port,
 * open or DOWN (port_cfg.h). */
struct json_object *state_ports_json(struct adapter *ad);
/* Opens the ports of ROOT's "ports" (state_load calls it). -EINVAL for a
 * malformed entry; a port that does not open is kept DOWN and retried. */
int state_port_load(struct adapter *ad, struct json_object *root);
/* Forgets the DOWN ports and stops retrying (at shutdown). */
void state_port_fini(struct adapter *ad);

#endif
