/* SPDX-License-Identifier: MIT */
#ifndef CIOV_CONTAINER_H
#define CIOV_CONTAINER_H

#include <stddef.h>

/* The structure of TYPE whose MEMBER is at PTR. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
