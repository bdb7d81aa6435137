// SPDX-License-Identifier: MIT
/*
 * hv_libvirt against libvirt's in-process test driver (test:///default, no daemon): state
 * probing on both sides, metadata round trip, device presence and agent path from the live
 * XML, libvirt's errors verbatim with the step, suspend/resume/destroy. The test driver has no
 * hot-plug or migration: those run in the lab (tests/lab/t-libvirt-*.sh).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libvirt/virterror.h>

#include "io/hv_libvirt.h"
#include "io/vfpool_libvirt.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>

static const char dom_xml[] =
    "<domain type='test'><name>vfm-g0</name><memory>262144</memory><vcpu>1</vcpu>"
    "<os><type arch='x86_64'>hvm</type></os><devices>"
    "<interface type='ethernet'><mac address='52:54:00:77:00:10'/><target dev='v0'/>"
    "<model type='virtio'/><alias name='ua-net0'/></interface>"
    "<interface type='ethernet'><mac address='52:54:00:77:01:10'/><target dev='f0'/>"
    "<model type='e1000e'/><alias name='ua-vf0'/></interface>"
    "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/ch/agent.sock'/>"
    "<target type='virtio' name='org.vfmigrate.agent.0'/></channel>"
    "</devices></domain>";

struct fx {
	struct hv_libvirt *src, *dst_absent;
	struct hv_ops src_ops, dst_ops;
};

static int setup(void **state)
{
	struct hv_libvirt_options o = {.uri = "test:///default", .domain = "vfm-g0"};
	struct fx *f = calloc(1, sizeof(*f));
	struct diag d = {{0}};
	virConnectPtr c;
	virDomainPtr dom;

	snprintf(o.path_from, sizeof(o.path_from), "/var/lib/libvirt");
	snprintf(o.path_to, sizeof(o.path_to), "/tmp/lab/lib");
	assert_int_equal(hv_libvirt_new(&o, &f->src, &d), 0);
	snprintf(o.domain, sizeof(o.domain), "vfm-nowhere");
	assert_int_equal(hv_libvirt_new(&o, &f->dst_absent, &d), 0);
	hv_libvirt_set_peer(f->src, f->dst_absent);
	hv_libvirt_ops(f->src, &f->src_ops);
	hv_libvirt_ops(f->dst_absent, &f->dst_ops);
	assert_int_equal(hv_libvirt_conn(f->src, &c, &d), 0);
	dom = virDomainDefineXML(c, dom_xml);
	assert_non_null(dom);
	assert_int_equal(virDomainCreate(dom), 0);
	virDomainFree(dom);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	virConnectPtr c;
	virDomainPtr dom;
	struct diag d;

	if (hv_libvirt_conn(f->src, &c, &d) == 0 && (dom = virDomainLookupByName(c, "vfm-g0"))) {
		if (virDomainIsActive(dom) == 1)
			virDomainDestroy(dom);
		virDomainUndefine(dom);
		virDomainFree(dom);
	}
	hv_libvirt_free(f->src);
	hv_libvirt_free(f->dst_absent);
	free(f);
	return 0;
}

static void test_probe(void **state)
{
	struct fx *f = *state;
	struct hv_probe p;
	struct diag d = {{0}};

	assert_int_equal(f->src_ops.probe(f->src, time_now_ms() + 1000, &p, &d), 0);
	assert_string_equal(p.status, "running");
	assert_true(p.running);
	assert_int_equal(p.incoming, HV_INCOMING_NONE);
	/* A destination without the domain is ready to receive it. */
	assert_int_equal(f->dst_ops.probe(f->dst_absent, time_now_ms() + 1000, &p, &d), 0);
	assert_string_equal(p.status, "absent");
	assert_false(p.running);
	assert_int_equal(p.incoming, HV_INCOMING_LISTENING);
}

static void test_probe_unreachable(void **state)
{
	struct hv_libvirt_options o = {.uri = "qemu+unix:///system?socket=/nonexistent/sock",
				       .domain = "g0"};
	struct hv_libvirt *h = NULL;
	struct hv_ops ops;
	struct hv_probe p;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(hv_libvirt_new(&o, &h, &d), 0);
	hv_libvirt_ops(h, &ops);
	assert_true(ops.probe(h, time_now_ms() + 1000, &p, &d) < 0);
	/* libvirt's own words, after what we tried. */
	assert_non_null(strstr(d.msg, "connect to qemu+unix:///system?socket=/nonexistent/sock: "));
	assert_non_null(strstr(d.msg, "/nonexistent/sock"));
	hv_libvirt_free(h);
}

/* A daemon that is away (restarting) when a plug or presence check needs it: waited for until
 * the deadline, then used; with no daemon at all, an error in bounded time. The test driver's
 * node file stands in for the daemon: absent, then written by a thread. */
struct later_file {
	char path[128];
	int delay_ms;
};

static void *write_later(void *arg)
{
	const struct later_file *l = arg;
	FILE *fp;

	usleep((useconds_t)l->delay_ms * 1000);
	fp = fopen(l->path, "w");
	if (fp) {
		fprintf(fp, "<node>%s</node>", dom_xml);
		fclose(fp);
	}
	return NULL;
}

static void test_daemon_back_before_deadline(void **state)
{
	struct later_file l = {.delay_ms = 300};
	struct hv_libvirt_options o = {.domain = "vfm-g0"};
	struct hv_libvirt *h = NULL;
	struct hv_ops ops;
	struct diag d = {{0}};
	bool present = false;
	pthread_t t;
	int64_t t0;
	char dir[] = "/tmp/vfm-lv-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(l.path, sizeof(l.path), "%s/node.xml", dir);
	snprintf(o.uri, sizeof(o.uri), "test://%s", l.path);
	assert_int_equal(hv_libvirt_new(&o, &h, &d), 0);
	hv_libvirt_ops(h, &ops);
	/* No daemon and a deadline: an error, not before the deadline, not long after it. */
	t0 = time_now_ms();
	assert_true(ops.device_present(h, "ua-vf0", t0 + 250, &present, &d) < 0);
	assert_true(time_now_ms() - t0 >= 200 && time_now_ms() - t0 < 2000);
	assert_non_null(strstr(d.msg, "connect to test://"));
	/* It comes back while the call waits. */
	assert_int_equal(pthread_create(&t, NULL, write_later, &l), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ops.device_present(h, "ua-vf0", time_now_ms() + 5000, &present, &d), 0);
	assert_true(present);
	pthread_join(t, NULL);
	hv_libvirt_free(h);
	unlink(l.path);
	rmdir(dir);
}

/* Runs at once on one host never take one VF: a reservation holds its source's lock from
 * reserve to release (or the end of the run); a killed run's lock is gone with it. vfm-g0
 * uses f0, so f1 and f2 are the free ones. */
static void test_pool_runs_apart(void **state)
{
	static const char src[3][VFM_ID_MAX] = {"ethernet:f0:e1000e", "ethernet:f1:e1000e",
						"ethernet:f2:e1000e"};
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x77, 0x01, 0x10};
	struct fx *f = *state;
	char dir[] = "/tmp/vfm-lvpool-XXXXXX", pat[128], cmd[160];
	struct vfpool_libvirt *p[3];
	struct vfpool_ops o[3];
	struct plug_spec s1, s2, s3;
	struct diag d = {{0}};
	unsigned n = 9;
	int sync[2], st;
	glob_t g;
	pid_t pid;
	char c;

	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vfpool_libvirt_new(f->src, src, 3, &p[i], &d), 0);
		assert_int_equal(vfpool_libvirt_share(p[i], dir, "test:///default", &d), 0);
		vfpool_libvirt_ops(p[i], &o[i]);
	}
	assert_int_equal(o[0].probe(p[0], "", 0, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_int_equal(o[0].reserve(p[0], "", mac, -1, "vf0", 0, &s1, &d), 0);
	assert_string_equal(s1.backend, "f1");
	assert_int_equal(o[1].probe(p[1], "", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(o[1].reserve(p[1], "", mac, -1, "vf0", 0, &s2, &d), 0);
	assert_string_equal(s2.backend, "f2");
	assert_int_equal(o[2].probe(p[2], "", 0, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(o[2].reserve(p[2], "", mac, -1, "vf0", 0, &s3, &d), -ENOSPC);
	assert_int_equal(o[0].release(p[0], &s1, 0, &d), 0);
	assert_int_equal(o[2].reserve(p[2], "", mac, -1, "vf0", 0, &s3, &d), 0);
	assert_string_equal(s3.backend, "f1");
	assert_int_equal(o[2].release(p[2], &s3, 0, &d), 0);
	assert_int_equal(o[1].release(p[1], &s2, 0, &d), 0);
	/* Another process holds f1's lock (as a run between reserve and plug), then is killed. */
	snprintf(pat, sizeof(pat), "%s/vfpool-libvirt/*@ethernet:f1:e1000e#0.lock", dir);
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_int_equal(pipe(sync), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(g.gl_pathv[0], O_RDWR);

		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		(void)!write(sync[1], "x", 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(sync[0], &c, 1), 1);
	assert_int_equal(o[0].probe(p[0], "", 0, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(o[0].reserve(p[0], "", mac, -1, "vf0", 0, &s1, &d), 0);
	assert_string_equal(s1.backend, "f2");
	assert_int_equal(o[0].release(p[0], &s1, 0, &d), 0);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(o[0].probe(p[0], "", 0, &n, &d), 0);
	assert_int_equal(n, 2);
	globfree(&g);
	close(sync[0]);
	close(sync[1]);
	for (int i = 0; i < 3; i++)
		vfpool_libvirt_free(p[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_metadata(void **state)
{
	struct fx *f = *state;
	struct domxml_metas m = {.n = 1}, back;
	struct domxml_meta *v = &m.vfs[0];
	struct diag d = {{0}};

	assert_int_equal(hv_libvirt_get_metadata(f->src, &back, &d), -ENODATA);
	assert_non_null(strstr(d.msg, "vfmigrate setup"));
	memset(&back, 0, sizeof(back));
	domxml_meta_init(v);
	snprintf(v->bond, sizeof(v->bond), "bond0");
	snprintf(v->vf_alias, sizeof(v->vf_alias), "ua-vf0");
	parse_mac("52:54:00:77:01:10", v->vf_mac);
	parse_mac("52:54:00:77:00:10", v->backup_mac);
	snprintf(v->sources[v->n_sources++], VFM_ID_MAX, "network:sriov-a");
	assert_int_equal(hv_libvirt_set_metadata(f->src, &m, &d), 0);
	assert_int_equal(hv_libvirt_get_metadata(f->src, &back, &d), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	/* A second VF in a bond of its own: both come back, in order. */
	m.vfs[1] = *v;
	v = &m.vfs[1];
	snprintf(v->bond, sizeof(v->bond), "bond1");
	snprintf(v->vf_alias, sizeof(v->vf_alias), "ua-vf1");
	v->vf_mac[4] = 0x02;
	v->backup_mac[4] = 0x02;
	v->vlan = 7;
	m.n = 2;
	assert_int_equal(hv_libvirt_set_metadata(f->src, &m, &d), 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(hv_libvirt_get_metadata(f->src, &back, &d), 0);
	assert_memory_equal(&m, &back, sizeof(m));
}

static void test_devices_and_agent(void **state)
{
	struct fx *f = *state;
	char path[DOMXML_PATH_MAX];
	struct diag d = {{0}};
	bool present = false;

	assert_int_equal(f->src_ops.device_present(f->src, "ua-vf0", 0, &present, &d), 0);
	assert_true(present);
	assert_int_equal(f->src_ops.device_present(f->src, "ua-other", 0, &present, &d), 0);
	assert_false(present);
	assert_int_equal(hv_libvirt_agent_path(f->src, path, &d), 0);
	assert_string_equal(path, "/tmp/lab/lib/ch/agent.sock");
	assert_int_equal(hv_libvirt_agent_path(f->dst_absent, path, &d), -ENOENT);
}

/* libvirt's failover pair comes from the live XML's <teaming> (tests/unit/proto for its
 * forms): this domain's VF has none; a device it does not have is -ENOENT. The wait-unplug
 * needs a migration: the lab (t-sriov-lv-failover). */
static void test_failover_pair(void **state)
{
	struct fx *f = *state;
	char pair[VFM_ID_MAX] = "x";
	struct diag d = {{0}};

	assert_non_null(f->src_ops.failover_pair);
	assert_non_null(f->src_ops.migrate_wait_unplug);
	assert_null(f->src_ops.announce_nic);
	assert_int_equal(f->src_ops.failover_pair(f->src, "ua-vf0", 0, pair, &d), 0);
	assert_string_equal(pair, "");
	assert_int_equal(f->src_ops.failover_pair(f->src, "ua-other", 0, pair, &d), -ENOENT);
	assert_int_equal(f->dst_ops.failover_pair(f->dst_absent, "ua-vf0", 0, pair, &d), -ENOENT);
}

/* The channel as the live XML has it; opening it through a driver without streams (the test
 * driver) fails with libvirt's words and leaves no descriptor behind. The pump itself runs
 * in the lab (tests/lab/t-libvirt-channel.sh). */
static void test_channel(void **state)
{
	struct fx *f = *state;
	struct hv_libvirt_agent_channel ch;
	struct diag d = {{0}};
	int fd_before, fd_after;

	assert_int_equal(hv_libvirt_agent_channel(f->src, &ch, &d), 0);
	assert_string_equal(ch.type, "unix");
	assert_string_equal(ch.path, "/tmp/lab/lib/ch/agent.sock");
	assert_int_equal(hv_libvirt_agent_channel(f->dst_absent, &ch, &d), -ENOENT);
	fd_before = dup(0);
	close(fd_before);
	assert_true(hv_libvirt_open_channel(f->src, "org.vfmigrate.agent.0", &d) < 0);
	assert_non_null(strstr(d.msg, "open channel org.vfmigrate.agent.0 of vfm-g0 through "
				      "libvirt: "));
	assert_non_null(strstr(d.msg, "not supported"));
	assert_int_equal(hv_libvirt_open_channel(f->dst_absent, "org.vfmigrate.agent.0", &d),
			 -ENOENT);
	fd_after = dup(0);
	close(fd_after);
	assert_int_equal(fd_after, fd_before);
}

static void test_errors_verbatim(void **state)
{
	struct fx *f = *state;
	struct plug_spec s = {
	    .device_id = "ua-vf1", .backend = "f1", .driver = "e1000e", .vlan = -1};
	struct diag d = {{0}};

	/* The test driver cannot hot-plug: its refusal reaches the user with the step. */
	s.backend_kind = PLUG_BACKEND_TAP;
	assert_true(f->src_ops.plug(f->src, &s, 0, &d) < 0);
	assert_non_null(strstr(d.msg, "attach ua-vf1: "));
	assert_non_null(strstr(d.msg, "not supported"));
	assert_true(f->src_ops.unplug_start(f->src, &s, 0, &d) < 0);
	assert_non_null(strstr(d.msg, "detach ua-vf1: "));
	/* Waiting without a started migration is an error, not a hang. */
	assert_int_equal(f->src_ops.migrate_wait(f->src, time_now_ms() + 100, NULL, NULL, NULL, &d),
			 -ESRCH);
}

static void test_stop_cont_quit(void **state)
{
	struct fx *f = *state;
	struct hv_libvirt_options o = {.uri = "test:///default", .domain = "vfm-g0"};
	struct hv_libvirt *as_dst = NULL;
	struct hv_ops dops;
	struct hv_probe p;
	struct diag d = {{0}};

	assert_int_equal(f->src_ops.stop(f->src, 0, &d), 0);
	assert_int_equal(f->src_ops.probe(f->src, 0, &p, &d), 0);
	assert_string_equal(p.status, "paused");
	assert_false(p.running);
	assert_int_equal(f->src_ops.cont(f->src, 0, &d), 0);
	assert_int_equal(f->src_ops.probe(f->src, 0, &p, &d), 0);
	assert_true(p.running);
	/* quit ends the guest on that side; then a (persistent, inactive) definition there
	 * counts as ready to receive it, and a second quit finds nothing to end. */
	assert_int_equal(hv_libvirt_new(&o, &as_dst, &d), 0);
	hv_libvirt_ops(as_dst, &dops);
	assert_int_equal(dops.quit(as_dst, 0, &d), 0);
	assert_int_equal(dops.probe(as_dst, 0, &p, &d), 0);
	assert_string_equal(p.status, "shutoff");
	assert_int_equal(p.incoming, HV_INCOMING_LISTENING);
	assert_int_equal(dops.quit(as_dst, 0, &d), -ENOENT);
	hv_libvirt_free(as_dst);
}

/* Failure kinds come from libvirt's error code, never from its text. */
static void test_error_codes(void **state)
{
	(void)state;
	assert_int_equal(hv_libvirt_migrate_errno(VIR_ERR_OPERATION_ABORTED, VIR_FROM_QEMU),
			 -ECANCELED);
	/* "operation failed: migration job: is not active, cancel it" is no cancellation. */
	assert_int_equal(hv_libvirt_migrate_errno(VIR_ERR_OPERATION_FAILED, VIR_FROM_QEMU), -EIO);
	assert_int_equal(hv_libvirt_migrate_errno(VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU), -EIO);
	assert_int_equal(hv_libvirt_errno(VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU), -ETIMEDOUT);
	assert_int_equal(hv_libvirt_errno(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC), -ENOTCONN);
	assert_int_equal(hv_libvirt_errno(VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU), -EIO);
	assert_int_equal(hv_libvirt_errno(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU), -ENOENT);
}

/*
 * What a migration sends: bond mode leaves the VF out by its alias, and a virtio backup that
 * shares the VF's MAC (the shared layout) stays (libvirt refuses a definition with another
 * NIC count); failover mode keeps the VF with the destination VF as its source.
 */
static void test_dest_xml(void **state)
{
	static const char shared[] =
	    "<domain type='kvm'><name>g0</name><devices>"
	    "<interface type='ethernet'><mac address='52:54:00:77:00:10'/><target dev='v0'/>"
	    "<model type='virtio'/><alias name='ua-net0'/>"
	    "<address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>"
	    "</interface>"
	    "<interface type='hostdev' managed='yes'><mac address='52:54:00:77:00:10'/>"
	    "<source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' "
	    "function='0x0'/></source><alias name='ua-vf0'/>"
	    "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>"
	    "</interface></devices></domain>";
	struct hv_libvirt_options o = {.n_vfs = 1};
	struct migrate_params p = {0};
	struct domxml_domain *dom = calloc(1, sizeof(*dom));
	const struct domxml_nic *n;
	struct diag d = {{0}};
	char *out = NULL;

	(void)state;
	assert_non_null(dom);
	snprintf(o.vfs[0].alias, sizeof(o.vfs[0].alias), "ua-vf0");
	memcpy(o.vfs[0].mac, (uint8_t[]){0x52, 0x54, 0x00, 0x77, 0x00, 0x10}, 6);
	assert_int_equal(hv_libvirt_dest_xml(&o, shared, false, &p, &out, &d), 0);
	assert_int_equal(domxml_parse_domain(out, strlen(out), dom, &d), 0);
	assert_int_equal(dom->n_nics, 1);
	assert_non_null(domxml_find_nic(dom, "ua-net0", NULL));
	free(out);

	/* Failover mode: the VF stays, its source the destination VF. */
	p.n_failover_vfs = 1;
	p.failover_vfs[0] = (struct plug_spec){.backend_kind = PLUG_BACKEND_HOSTDEV, .vlan = -1};
	snprintf(p.failover_vfs[0].device_id, sizeof(p.failover_vfs[0].device_id), "ua-vf0");
	snprintf(p.failover_vfs[0].driver, sizeof(p.failover_vfs[0].driver), "hostdev");
	snprintf(p.failover_vfs[0].backend, sizeof(p.failover_vfs[0].backend), "0000:01:10.4");
	assert_int_equal(hv_libvirt_dest_xml(&o, shared, false, &p, &out, &d), 0);
	assert_int_equal(domxml_parse_domain(out, strlen(out), dom, &d), 0);
	assert_int_equal(dom->n_nics, 2);
	n = domxml_find_nic(dom, "ua-vf0", NULL);
	assert_non_null(n);
	assert_string_equal(n->hostdev_pci, "0000:01:10.4");
	free(out);
	/* A VF that is not in an inactive definition leaves it as it is; in the live one it is
	 * an error. */
	snprintf(p.failover_vfs[0].device_id, sizeof(p.failover_vfs[0].device_id), "ua-vf9");
	assert_int_equal(hv_libvirt_dest_xml(&o, shared, true, &p, &out, &d), 0);
	assert_string_equal(out, shared);
	free(out);
	assert_int_equal(hv_libvirt_dest_xml(&o, shared, false, &p, &out, &d), -ENOENT);
	free(dom);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_codes),
	    cmocka_unit_test(test_probe),
	    cmocka_unit_test(test_probe_unreachable),
	    cmocka_unit_test(test_metadata),
	    cmocka_unit_test(test_daemon_back_before_deadline),
	    cmocka_unit_test(test_pool_runs_apart),
	    cmocka_unit_test(test_devices_and_agent),
	    cmocka_unit_test(test_failover_pair),
	    cmocka_unit_test(test_errors_verbatim),
	    cmocka_unit_test(test_stop_cont_quit),
	    cmocka_unit_test(test_channel),
	    cmocka_unit_test(test_dest_xml),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
