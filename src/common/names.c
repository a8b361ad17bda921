/* SPDX-License-Identifier: MIT */
/* Names of the ABI's enumerations, generated from the X-macros in abi.h. */
#include <ciov/ciov.h>

const char *ciov_wc_status_str(enum ciov_wc_status status)
{
	switch (status) {
#define X(n, v)                                                                \
	case CIOV_WC_##n:                                                      \
		return #n;
		CIOV_WC_STATUSES(X)
#undef X
	}
	return "UNKNOWN";
}

const char *ciov_qp_state_str(enum ciov_qp_state state)
{
	switch (state) {
#define X(n, v)                                                                \
	case CIOV_QPS_##n:                                                     \
		return #n;
		CIOV_QP_STATES(X)
#undef X
	case CIOV_QPS_MAX:
		break;
	}
	return "UNKNOWN";
}

const char *ciov_mode_str(enum ciov_mode mode)
{
	switch (mode) {
	case CIOV_MODE_PASSTHROUGH:
		return "passthrough";
	case CIOV_MODE_NATIVE:
		return "native";
	case CIOV_MODE_SOFTWARE:
		return "software";
	}
	return "UNKNOWN";
}

static const char *const quota_names[CIOV_QUOTA_MAX] = {
#define X(n, d) [CIOV_QUOTA_##n] = #n,
	CIOV_QUOTAS(X)
#undef X
};

const char *ciov_quota_name(enum ciov_quota q)
{
	return (unsigned)q < CIOV_QUOTA_MAX ? quota_names[q] : "UNKNOWN";
}
