/* SPDX-License-Identifier: MIT */
/* Persistent configuration: endpoints and their settings, saved atomically
 * (write, fsync, rename, fsync the directory) to STATE_DIR/state.json. */
#ifndef CIOV_STATE_H
#define CIOV_STATE_H

struct adapter;

#define STATE_FILE "state.json"

/* Saves the adapter's configuration. 0 or -errno; the old file is intact
 * on failure. */
int state_save(struct adapter *ad);
/* Restores it (no file: a fresh adapter with a new GID prefix, saved).
 * -EINVAL with a logged reason for a file that cannot be trusted. */
int state_load(struct adapter *ad);

#endif
