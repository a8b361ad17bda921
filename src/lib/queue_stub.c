/* SPDX-License-Identifier: MIT */
/* Placeholder for queues (being written). */
#include "lib/lib.h"
