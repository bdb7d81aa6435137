// SPDX-License-Identifier: MIT
/* Fuzzes the VF netlink codec's parsers: a PF's RTM_NEWLINK with its VF list, and acks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vfnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfnl_vf vfs[16];
	struct diag d = {{0}};
	size_t n = 0;
	int num = 0, r;
	void *buf;

	/* Netlink messages are 4-byte aligned in a real receive buffer. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* The corpus's messages use seq 1. */
	r = vfnl_parse_link(buf, size, 1, vfs, 16, &n, &num, &d);
	if (r >= 0) {
		if (n > 16 || num > VFNL_VFS_MAX)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (vfs[i].index >= VFNL_VFS_MAX || vfs[i].vlan > 4095 || vfs[i].qos > 7)
				abort();
			for (size_t j = 0; j < i; j++)
				if (vfs[j].index == vfs[i].index)
					abort();
		}
	} else if (!d.msg[0] || strlen(d.msg) >= sizeof(d.msg)) {
		abort(); /* every failure says why */
	}
	memset(&d, 0, sizeof(d));
	r = vfnl_parse_ack(buf, size, 1, &d);
	if (r < 0 && !d.msg[0])
		abort();
	free(buf);
	return 0;
}
