/* SPDX-License-Identifier: MIT */
/*
 * Security model: the state file is ciovd's own, in a root-owned
 * directory, but it is still parsed defensively: a file that does not
 * parse, or holds out-of-range values, stops ciovd from starting rather
 * than being half-applied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <json-c/json.h>

#include <ciov/ciov.h>

#include "adapter/adapter.h"
#include "adapter/endpoint.h"
#include "adapter/log.h"
#include "adapter/state.h"
#include "adapter/state_writer.h"

#define STATE_VERSION 1

static struct json_object *state_ep_json(const struct endpoint *ep)
{
	struct json_object *o = json_object_new_object();
	struct json_object *q = json_object_new_object();
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, ep->gid_addr, addr, sizeof(addr));
	json_object_object_add(o, "id", json_object_new_uint64(ep->id));
	json_object_object_add(o, "name", json_object_new_string(ep->name));
	json_object_object_add(o, "mode", json_object_new_int(ep->mode));
	json_object_object_add(o, "uid", json_object_new_uint64(ep->uid));
	json_object_object_add(o, "gid", json_object_new_int64(ep->gid));
	json_object_object_add(o, "gid_addr", json_object_new_string(addr));
	for (int i = 0; i < CIOV_QUOTA_MAX; i++)
		json_object_object_add(q, ciov_quota_name(i), json_object_new_uint64(ep->quota[i]));
	json_object_object_add(o, "quota", q);
	json_object_object_add(o, "rate", state_rate_json(&ep->rate));
	return o;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_save(struct adapter *ad)
{
	struct json_object *root = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32], prefix[17];
	struct endpoint *ep;
	const char *text;
	uint32_t h = 0;
	int fd, err;

	for (int i = 0; i < 8; i++)
		snprintf(prefix + 2 * i, 3, "%02x", ad->gid_prefix[i]);
	json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "gid_prefix", json_object_new_string(prefix));
	while ((ep = pool_next(&ad->endpoints, &h)))
		json_object_array_add(arr, state_ep_json(ep));
	json_object_object_add(root, "endpoints", arr);
	json_object_object_add(root, "rate_groups", state_rate_groups_json(ad));
	json_object_object_add(root, "ports", state_ports_json(ad));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);

	snprintf(path, sizeof(path), "%s/%s", ad->state_dir, STATE_FILE);
	/* One name per save: the writer may still be syncing the previous. */
	snprintf(tmp, sizeof(tmp), "%s/.%s.%llu.tmp", ad->state_dir, STATE_FILE,
		 (unsigned long long)state_writer_last() + 1);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, text, strlen(text));
	if (!err)
		err = write_all(fd, "\n", 1);
	if (err) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	/* The fsync and the rename happen off the loop (state_writer.h). */
	if (!state_writer_queue(fd, tmp, path, ad->state_dir))
		err = -ENOMEM;
out:
	if (err)
		log_err("state: cannot save %s: %s", path, strerror(-err));
	json_object_put(root);
	return err;
}

static int get_u64(struct json_object *o, const char *key, uint64_t max, uint64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || json_object_get_uint64(v) > max)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

static int state_load_ep(struct adapter *ad, struct json_object *o)
{
	struct json_object *v, *q;
	uint64_t id, mode, uid, quota;
	struct endpoint *ep;
	int64_t gid;
	int err;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "name", &v) || !json_object_is_type(v, json_type_string) ||
	    get_u64(o, "id", UINT32_MAX, &id) || id == 0 ||
	    get_u64(o, "mode", CIOV_MODE_SOFTWARE, &mode) ||
	    get_u64(o, "uid", UINT32_MAX - 1, &uid))
		return -EINVAL;
	if (!json_object_object_get_ex(o, "gid", &q) || !json_object_is_type(q, json_type_int))
		return -EINVAL;
	gid = json_object_get_int64(q);
	if (gid < EP_NO_GID || gid > (int64_t)UINT32_MAX - 1)
		return -EINVAL;
	err = ep_create(ad, json_object_get_string(v), (uint32_t)id, &ep);
	if (err)
		return err;
	if (!json_object_object_get_ex(o, "gid_addr", &v) ||
	    inet_pton(AF_INET6, json_object_get_string(v), ep->gid_addr) != 1) {
		ep_destroy(ep);
		return -EINVAL;
	}
	ep->mode = (enum ciov_mode)mode;
	ep->uid = (uint32_t)uid;
	ep->gid = gid;
	if (json_object_object_get_ex(o, "quota", &q) && json_object_is_type(q, json_type_object)) {
		for (int i = 0; i < CIOV_QUOTA_MAX; i++)
			if (!get_u64(q, ciov_quota_name(i), UINT64_MAX, &quota))
				ep->quota[i] = quota;
	}
	return 0;
}

static int parse_prefix(const char *s, uint8_t out[8])
{
	if (!s || strlen(s) != 16)
		return -EINVAL;
	for (int i = 0; i < 8; i++) {
		unsigned b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return 0;
}

/* A new adapter's GID prefix: a random IPv6 unique-local prefix (RFC 4193:
 * fd00::/8 with a 40-bit random global id, subnet 0). */
static int new_prefix(uint8_t out[8])
{
	if (getrandom(out, 8, 0) != 8)
		return -EIO;
	out[0] = 0xfd;
	out[6] = out[7] = 0;
	return 0;
}

int state_load(struct adapter *ad)
{
	char path[PATH_MAX + 32];
	struct json_object *root, *v, *arr;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", ad->state_dir, STATE_FILE);
	if (access(path, F_OK) < 0) {
		if (errno != ENOENT)
			return -errno;
		err = new_prefix(ad->gid_prefix);
		return err ? err : state_save(ad);
	}
	root = json_object_from_file(path);
	if (!root) {
		log_err("state: %s does not parse as JSON; move it away to start afresh", path);
		return -EINVAL;
	}
	if (!json_object_object_get_ex(root, "gid_prefix", &v) ||
	    parse_prefix(json_object_get_string(v), ad->gid_prefix) ||
	    !json_object_object_get_ex(root, "endpoints", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		log_err("state: %s lacks gid_prefix or endpoints", path);
		err = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		err = state_load_ep(ad, json_object_array_get_idx(arr, i));
		if (err) {
			log_err("state: %s: endpoint #%zu is invalid (%s)", path, i, strerror(-err));
			goto out;
		}
	}
	err = state_rate_load(ad, root);
	if (err)
		goto out;
	err = state_port_load(ad, root);
	if (err)
		goto out;
	log_info("state: restored %zu endpoints from %s", json_object_array_length(arr), path);
out:
	json_object_put(root);
	return err;
}
