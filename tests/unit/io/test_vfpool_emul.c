// SPDX-License-Identifier: MIT
/* Emulated VF pool: slots, reserve/release bookkeeping, plug specs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/vfpool_emul.h"

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x21};

static void test_add_validates(void **state)
{
	struct vfpool_emul *p = NULL;
	struct diag d = {{0}};
	int i;

	(void)state;
	assert_int_equal(vfpool_emul_new(NULL, &p, &d), 0);
	assert_int_equal(vfpool_emul_add(p, "lab", "vfm-t0", "rp1", NULL, &d), 0);
	assert_int_equal(vfpool_emul_add(p, "lab", "vfm-t0", "rp9", NULL, &d), -EEXIST);
	assert_int_equal(vfpool_emul_add(p, "lab", "vfm-t9", "rp1", NULL, &d), -EEXIST);
	assert_int_equal(vfpool_emul_add(p, "lab", "a-tap-name-too-long", "rp2", NULL, &d),
			 -EINVAL);
	assert_int_equal(vfpool_emul_add(p, "lab", "t;rm -rf", "rp2", NULL, &d), -EINVAL);
	assert_int_equal(vfpool_emul_add(p, "lab", "", "rp2", NULL, &d), -EINVAL);
	assert_int_equal(vfpool_emul_add(p, "lab", "t2", "rp 2", NULL, &d), -EINVAL);
	assert_int_equal(vfpool_emul_add(p, "l/b", "t2", "rp2", NULL, &d), -EINVAL);
	for (i = 1; i < VFPOOL_EMUL_SLOTS_MAX; i++) {
		char tap[16], bus[16];

		snprintf(tap, sizeof(tap), "t%d", i);
		snprintf(bus, sizeof(bus), "b%d", i);
		assert_int_equal(vfpool_emul_add(p, "", tap, bus, NULL, &d), 0);
	}
	assert_int_equal(vfpool_emul_add(p, "", "tx", "bx", NULL, &d), -ENOSPC);
	vfpool_emul_free(p);
	assert_int_equal(vfpool_emul_new("bad driver", &p, &d), -EINVAL);
}

static void test_reserve_release(void **state)
{
	struct vfpool_emul *p = NULL;
	struct vfpool_ops ops;
	struct diag d = {{0}};
	struct plug_spec a, b, c = {0};
	unsigned n = 99;

	(void)state;
	assert_int_equal(vfpool_emul_new(NULL, &p, &d), 0);
	assert_int_equal(vfpool_emul_add(p, "lab", "vfm-t0", "rp1", NULL, &d), 0);
	assert_int_equal(vfpool_emul_add(p, "other", "vfm-t1", "rp3", NULL, &d), 0);
	vfpool_emul_ops(p, &ops);
	/* An emulated NIC takes whatever MAC the guest's bond gives it. */
	assert_true(ops.vf_takes_guest_mac);
	assert_int_equal(ops.probe(ops.userdata, "lab", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ops.reserve(ops.userdata, "lab", mac1, -1, "vf0", 0, &a, &d), 0);
	assert_string_equal(a.device_id, "vf0");
	assert_string_equal(a.driver, "e1000e");
	assert_string_equal(a.bus, "rp1");
	assert_string_equal(a.backend, "vfm-t0");
	assert_int_equal(a.backend_kind, PLUG_BACKEND_TAP);
	assert_true(a.has_mac);
	assert_memory_equal(a.mac, mac1, 6);
	assert_string_equal(a.netdev_id, ""); /* hv derives it */
	assert_int_equal(a.vlan, -1);
	assert_int_equal(ops.probe(ops.userdata, "lab", 0, &n, &d), 0);
	assert_int_equal(n, 0);
	/* None left on that physnet; the other one is not handed out for it. */
	assert_int_equal(ops.reserve(ops.userdata, "lab", mac1, -1, NULL, 0, &c, &d), -ENOSPC);
	assert_string_equal(c.device_id, "");
	assert_int_equal(ops.reserve(ops.userdata, "other", mac1, 5, NULL, 0, &b, &d), 0);
	assert_string_equal(b.device_id, "vfm-rp3");
	assert_int_equal(b.vlan, 5);
	assert_int_equal(ops.reserve(ops.userdata, "lab", mac1, -1, "bad id!", 0, &c, &d), -EINVAL);

	assert_int_equal(ops.handoff(ops.userdata, &a, true, 0, &d), 0);
	assert_int_equal(ops.release(ops.userdata, &a, 0, &d), 0);
	assert_int_equal(ops.release(ops.userdata, &a, 0, &d), 0); /* idempotent */
	assert_int_equal(ops.probe(ops.userdata, "lab", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	/* A spec that is not from this pool. */
	c = a;
	strcpy(c.backend, "eth9");
	assert_int_equal(ops.release(ops.userdata, &c, 0, &d), -ENOENT);
	assert_int_equal(ops.handoff(ops.userdata, &c, false, 0, &d), -ENOENT);
	c = a;
	strcpy(c.bus, "rp7");
	assert_int_equal(ops.release(ops.userdata, &c, 0, &d), -EINVAL);
	c = a;
	c.backend_kind = PLUG_BACKEND_HOSTDEV;
	assert_int_equal(ops.release(ops.userdata, &c, 0, &d), -ENOENT);
	vfpool_emul_free(p);
}

/* The source's VF, plugged at guest start, is in use until released. */
static void test_in_use_slot(void **state)
{
	struct vfpool_emul *p = NULL;
	struct vfpool_ops ops;
	struct diag d = {{0}};
	struct plug_spec src = {.device_id = "vf0",
				.bus = "rp1",
				.backend = "vfm-t0",
				.backend_kind = PLUG_BACKEND_TAP};
	unsigned n = 9;

	(void)state;
	assert_int_equal(vfpool_emul_new("e1000e", &p, &d), 0);
	assert_int_equal(vfpool_emul_add(p, "", "vfm-t0", "rp1", "vf0", &d), 0);
	vfpool_emul_ops(p, &ops);
	assert_int_equal(ops.probe(ops.userdata, "lab", 0, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ops.handoff(ops.userdata, &src, false, 0, &d), 0);
	assert_int_equal(ops.release(ops.userdata, &src, 0, &d), 0);
	assert_int_equal(ops.probe(ops.userdata, "lab", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	vfpool_emul_free(p);
	assert_null(vfpool_emul_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_validates),
	    cmocka_unit_test(test_reserve_release),
	    cmocka_unit_test(test_in_use_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
