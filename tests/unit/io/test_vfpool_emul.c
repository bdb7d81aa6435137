// SPDX-License-Identifier: MIT
/* Emulated VF pool: slots, reserve/release bookkeeping, plug specs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* A pool of taps t0..t(n-1) on root ports b0.., its reservations shared on host "h1" in dir. */
static struct vfpool_emul *shared_pool(const char *dir, int n, struct vfpool_ops *ops)
{
	struct vfpool_emul *p = NULL;
	struct diag d = {{0}};

	assert_int_equal(vfpool_emul_new(NULL, &p, &d), 0);
	for (int i = 0; i < n; i++) {
		char tap[16], bus[16];

		snprintf(tap, sizeof(tap), "t%d", i);
		snprintf(bus, sizeof(bus), "b%d", i);
		assert_int_equal(vfpool_emul_add(p, "", tap, bus, NULL, &d), 0);
	}
	assert_int_equal(vfpool_emul_share(p, dir, "h1", &d), 0);
	vfpool_emul_ops(p, ops);
	return p;
}

static void rm_state(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Two runs (two pools) on one host: what one took, the other neither counts nor takes; a
 * release (also by MAC alone, as recover does) gives it to the other. */
static void test_shared_between_runs(void **state)
{
	char dir[] = "/tmp/vfm-emul-XXXXXX";
	static const uint8_t mac2[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x22};
	struct vfpool_ops o1, o2, o3;
	struct vfpool_emul *p1, *p2, *p3 = NULL;
	struct plug_spec a, b, c, by_mac = {.has_mac = true};
	struct diag d = {{0}};
	unsigned n = 9;

	(void)state;
	assert_non_null(mkdtemp(dir));
	p1 = shared_pool(dir, 2, &o1);
	p2 = shared_pool(dir, 2, &o2);
	assert_int_equal(o1.reserve(p1, "", mac1, -1, "vf0", 0, &a, &d), 0);
	assert_int_equal(o2.probe(p2, "", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(o2.reserve(p2, "", mac2, -1, "vf0", 0, &b, &d), 0);
	assert_string_not_equal(a.backend, b.backend);
	assert_int_equal(o1.probe(p1, "", 0, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(o1.reserve(p1, "", mac1, -1, "vf0", 0, &c, &d), -ENOSPC);
	/* Another host's pool in the same state dir is its own. */
	assert_int_equal(vfpool_emul_new(NULL, &p3, &d), 0);
	assert_int_equal(vfpool_emul_add(p3, "", "t0", "b0", NULL, &d), 0);
	assert_int_equal(vfpool_emul_share(p3, dir, "h2", &d), 0);
	assert_int_equal(vfpool_emul_share(p3, dir, "../h1", &d), -EINVAL);
	vfpool_emul_ops(p3, &o3);
	assert_int_equal(o3.probe(p3, "", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	/* A release that names the slot with another MAC leaves the marker alone. */
	c = a;
	memcpy(c.mac, mac2, 6);
	assert_int_equal(o2.release(p2, &c, 0, &d), 0);
	assert_int_equal(o2.probe(p2, "", 0, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(o1.release(p1, &a, 0, &d), 0);
	assert_int_equal(o2.probe(p2, "", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	/* recover in a new process knows only the MAC. */
	memcpy(by_mac.mac, mac2, 6);
	assert_int_equal(o1.release(p1, &by_mac, 0, &d), 0);
	assert_int_equal(o1.probe(p1, "", 0, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_int_equal(o1.release(p1, &by_mac, 0, &d), -ENOENT);
	vfpool_emul_free(p1);
	vfpool_emul_free(p2);
	vfpool_emul_free(p3);
	rm_state(dir);
}

/* Many processes reserve from one host's pool at once: each slot goes to exactly one. */
static void test_concurrent_processes(void **state)
{
	enum {
		SLOTS = 4,
		RUNS = 10
	};
	char dir[] = "/tmp/vfm-emul-XXXXXX";
	int fds[2], got = 0, nospc = 0;
	char seen[SLOTS] = {0};

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(fds), 0);
	for (int k = 0; k < RUNS; k++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct vfpool_ops o;
			struct vfpool_emul *p = shared_pool(dir, SLOTS, &o);
			struct plug_spec s;
			struct diag d = {{0}};
			char line[16];
			int r = o.reserve(p, "", mac1, -1, "vf0", time_now_ms() + 5000, &s, &d);

			const char *what = r == 0 ? s.backend : r == -ENOSPC ? "-" : "?";

			snprintf(line, sizeof(line), "%s\n", what);
			(void)!write(fds[1], line, strlen(line));
			_exit(0);
		}
	}
	close(fds[1]);
	for (int k = 0; k < RUNS; k++) {
		int st;

		assert_true(wait(&st) > 0);
	}
	{
		char buf[512] = {0}, *save = NULL;
		size_t len = 0;
		ssize_t r;

		while ((r = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)r;
		for (char *t = strtok_r(buf, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
			if (!strcmp(t, "-")) {
				nospc++;
				continue;
			}
			assert_true(t[0] == 't' && t[1] >= '0' && t[1] < '0' + SLOTS && !t[2]);
			assert_int_equal(seen[t[1] - '0']++, 0); /* never the same slot twice */
			got++;
		}
	}
	close(fds[0]);
	assert_int_equal(got, SLOTS);
	assert_int_equal(nospc, RUNS - SLOTS);
	rm_state(dir);
}

/* The pool lock is a flock: while another process holds it, probe waits until its deadline and
 * says so; once that process is SIGKILLed, the lock is free at once. */
static void test_killed_holder(void **state)
{
	char dir[] = "/tmp/vfm-emul-XXXXXX", path[64];
	struct vfpool_ops o;
	struct vfpool_emul *p;
	struct diag d = {{0}};
	unsigned n = 9;
	int sync[2], st;
	pid_t pid;
	int64_t t0;
	char c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	p = shared_pool(dir, 1, &o);
	assert_int_equal(o.probe(p, "", 0, &n, &d), 0); /* creates the dir and the lock file */
	snprintf(path, sizeof(path), "%s/vfpool-emul/h1.lock", dir);
	assert_int_equal(pipe(sync), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR);

		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		(void)!write(sync[1], "x", 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(sync[0], &c, 1), 1);
	t0 = time_now_ms();
	assert_int_equal(o.probe(p, "", t0 + 200, &n, &d), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 190);
	assert_non_null(strstr(d.msg, "holds its lock"));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(o.probe(p, "", time_now_ms() + 200, &n, &d), 0);
	assert_int_equal(n, 1);
	close(sync[0]);
	close(sync[1]);
	vfpool_emul_free(p);
	rm_state(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_validates),	 cmocka_unit_test(test_reserve_release),
	    cmocka_unit_test(test_in_use_slot),		 cmocka_unit_test(test_shared_between_runs),
	    cmocka_unit_test(test_concurrent_processes), cmocka_unit_test(test_killed_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
