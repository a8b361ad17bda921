/* SPDX-License-Identifier: MIT */
/* Placeholder for the provisioning commands (being written). */
#include "adapter/admin.h"
#include "common/fdmsg.h"

struct json_object *admin_provision(struct adapter *ad, const char *cmd, struct json_object *req,
				    int *fds, int nfds)
{
	fdmsg_close_all(fds, nfds);
	return NULL;
}
