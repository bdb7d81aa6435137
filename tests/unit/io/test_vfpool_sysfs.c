// SPDX-License-Identifier: MIT
/*
 * The sysfs VF pool on a fake sysfs tree in a temp dir (a PF with four VFs; a write hook does
 * what the kernel would on unbind and drivers_probe) and a fake PF behind a fake netlink
 * socket (keeps each VF's MAC/VLAN, records requests, fails on request).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vfnl_replies.h"
#include "io/vfpool_sysfs.h"

#define NVF 4
#define PF  "ens1f0"

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x77, 0x01, 0x10};
static const uint8_t mac2[6] = {0x52, 0x54, 0x00, 0x77, 0x01, 0x20};
static const uint8_t zero[6];

struct set_req {
	uint32_t vf;
	uint8_t mac[6];
	uint32_t vlan;
};

struct fx {
	char root[128], sys[160], state[160];
	/* the fake kernel */
	bool vfio_never_binds;
	char writes[4096]; /* "rel=value;" for every write the pool made */
	/* the fake PF */
	struct test_vf vfs[NVF];
	bool unlisted[NVF];
	int fail_set;	      /* next RTM_SETLINK answers this error */
	const char *fail_msg; /* its extack text */
	bool forget_mac;      /* acks a SETLINK but keeps the old MAC */
	int steal_on_set; /* 1 + the VF another party binds to vfio-pci during our RTM_SETLINK */
	bool silent;	  /* never answers */
	struct set_req sets[32]; /* RTM_SETLINK requests seen */
	size_t n_sets, n_gets;
	uint8_t reply[VFNL_TEST_BUF];
	size_t reply_len;
	struct vfpool_sysfs *p;
	struct vfpool_ops ops;
};

static int64_t in_ms(int64_t ms)
{
	return time_now_ms() + ms;
}

static void mkfile(struct fx *f, const char *rel, const char *content)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->sys, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static void mkdirs(struct fx *f, const char *rel)
{
	char path[512], *s;

	snprintf(path, sizeof(path), "%s/%s", f->sys, rel);
	for (s = path + strlen(f->sys) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	mkdir(path, 0755);
}

static void mklink(struct fx *f, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->sys, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static bool has_link(struct fx *f, const char *rel, char *target, size_t n)
{
	char path[512];
	ssize_t k;

	snprintf(path, sizeof(path), "%s/%s", f->sys, rel);
	k = readlink(path, target, n - 1);
	if (k < 0)
		return false;
	target[k] = '\0';
	return true;
}

static const char *vf_driver(struct fx *f, int i)
{
	static char t[256];
	char rel[128];

	snprintf(rel, sizeof(rel), "devices/0000:3b:02.%d/driver", i);
	if (!has_link(f, rel, t, sizeof(t)))
		return "";
	return strrchr(t, '/') + 1;
}

/* What the kernel does on the writes the pool makes. */
static void kernel(void *ud, const char *rel, const char *value)
{
	struct fx *f = ud;
	char path[512], buf[64] = "";
	size_t o = strlen(f->writes);
	FILE *fp;

	int n = snprintf(f->writes + o, sizeof(f->writes) - o, "%s=%s;", rel,
			 strcmp(value, "\n") ? value : "\\n");

	/* A full record of writes would hide the later ones from the asserts: stop here. */
	assert_true(n >= 0 && o + (size_t)n < sizeof(f->writes));
	if (!strncmp(rel, "bus/pci/drivers/", 16) && strstr(rel, "/unbind")) {
		snprintf(path, sizeof(path), "%s/devices/%s/driver", f->sys, value);
		unlink(path);
	} else if (strstr(rel, "/driver_override") && !strcmp(value, "\n")) {
		mkfile(f, rel, "(null)\n");
	} else if (!strcmp(rel, "bus/pci/drivers_probe")) {
		char drv[256];

		snprintf(path, sizeof(path), "devices/%s/driver", value);
		if (has_link(f, path, drv, sizeof(drv)))
			return;
		snprintf(path, sizeof(path), "%s/devices/%s/driver_override", f->sys, value);
		fp = fopen(path, "r");
		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		snprintf(path, sizeof(path), "devices/%s/driver", value);
		if (!strcmp(buf, "vfio-pci") && !f->vfio_never_binds)
			mklink(f, path, "../../bus/pci/drivers/vfio-pci");
		else if (!strcmp(buf, "(null)\n"))
			mklink(f, path, "../../bus/pci/drivers/iavf");
	}
}

/* ---- the fake PF behind a fake netlink socket ---- */

struct req_seen {
	char ifname[16];
	struct set_req s;
	bool has_mac, has_vlan;
};

static int info_cb(const struct nlattr *a, void *data)
{
	struct req_seen *r = data;

	if (mnl_attr_get_type(a) == IFLA_VF_MAC) {
		const struct ifla_vf_mac *m = mnl_attr_get_payload(a);

		assert_int_equal(mnl_attr_get_payload_len(a), sizeof(*m));
		r->s.vf = m->vf;
		memcpy(r->s.mac, m->mac, 6);
		r->has_mac = true;
	} else if (mnl_attr_get_type(a) == IFLA_VF_VLAN) {
		const struct ifla_vf_vlan *v = mnl_attr_get_payload(a);

		assert_int_equal(mnl_attr_get_payload_len(a), sizeof(*v));
		assert_int_equal(v->vf, r->s.vf);
		assert_int_equal(v->qos, 0);
		r->s.vlan = v->vlan;
		r->has_vlan = true;
	}
	return MNL_CB_OK;
}

static int list_cb(const struct nlattr *a, void *data)
{
	assert_int_equal(mnl_attr_get_type(a), IFLA_VF_INFO);
	return mnl_attr_parse_nested(a, info_cb, data);
}

static int req_cb(const struct nlattr *a, void *data)
{
	struct req_seen *r = data;

	if (mnl_attr_get_type(a) == IFLA_IFNAME)
		snprintf(r->ifname, sizeof(r->ifname), "%s", mnl_attr_get_str(a));
	else if (mnl_attr_get_type(a) == IFLA_VFINFO_LIST)
		return mnl_attr_parse_nested(a, list_cb, data);
	return MNL_CB_OK;
}

static int fnl_send(void *ud, const void *buf, size_t len, struct diag *d)
{
	struct fx *f = ud;
	const struct nlmsghdr *nlh = buf;
	struct req_seen r;
	struct test_vf listed[NVF];
	size_t n = 0;

	memset(&r, 0, sizeof(r));
	(void)d;
	assert_int_equal(nlh->nlmsg_len, len);
	assert_int_equal(mnl_attr_parse(nlh, sizeof(struct ifinfomsg), req_cb, &r), MNL_CB_OK);
	if (strcmp(r.ifname, PF) != 0) {
		f->reply_len = test_vfnl_error(f->reply, nlh->nlmsg_seq, -ENODEV, NULL);
		return 0;
	}
	if (nlh->nlmsg_type == RTM_GETLINK) {
		f->n_gets++;
		for (int i = 0; i < NVF; i++)
			if (!f->unlisted[i])
				listed[n++] = f->vfs[i];
		f->reply_len = test_vfnl_link(f->reply, nlh->nlmsg_seq, PF, listed, n);
		return 0;
	}
	assert_int_equal(nlh->nlmsg_type, RTM_SETLINK);
	assert_true(r.has_mac && r.has_vlan);
	assert_true(f->n_sets < ARRAY_SIZE(f->sets));
	f->sets[f->n_sets++] = r.s;
	if (f->fail_set) {
		f->reply_len = test_vfnl_error(f->reply, nlh->nlmsg_seq, f->fail_set, f->fail_msg);
		f->fail_set = 0;
		return 0;
	}
	assert_true(r.s.vf < NVF);
	if (f->steal_on_set && (int)r.s.vf == f->steal_on_set - 1) {
		char rel[64];

		snprintf(rel, sizeof(rel), "devices/0000:3b:02.%u/driver", r.s.vf);
		mklink(f, rel, "../../bus/pci/drivers/vfio-pci");
		f->steal_on_set = 0;
	}
	if (!f->forget_mac)
		memcpy(f->vfs[r.s.vf].mac, r.s.mac, 6);
	f->vfs[r.s.vf].vlan = r.s.vlan;
	f->reply_len = test_vfnl_error(f->reply, nlh->nlmsg_seq, 0, NULL);
	return 0;
}

static int fnl_recv(void *ud, void *buf, size_t cap, size_t *ret_len, int64_t deadline_ms,
		    struct diag *d)
{
	struct fx *f = ud;

	(void)deadline_ms;
	if (f->silent || !f->reply_len) {
		diag_set(d, "no netlink answer by the deadline");
		return -ETIMEDOUT;
	}
	assert_true(f->reply_len <= cap);
	memcpy(buf, f->reply, f->reply_len);
	*ret_len = f->reply_len;
	f->reply_len = 0;
	return 0;
}

/* ---- fixture ---- */

static struct vfpool_sysfs *new_pool(struct fx *f)
{
	struct vfpool_sysfs_options o = {
	    .nl = {.userdata = f, .send = fnl_send, .recv = fnl_recv},
	    .after_write = kernel,
	    .hook_userdata = f,
	    .bind_poll_ms = 2,
	};
	struct vfpool_sysfs *p = NULL;
	struct diag d = {{0}};

	snprintf(o.sysfs_root, sizeof(o.sysfs_root), "%s", f->sys);
	snprintf(o.state_dir, sizeof(o.state_dir), "%s", f->state);
	assert_int_equal(vfpool_sysfs_new(&o, &p, &d), 0);
	assert_int_equal(vfpool_sysfs_add_pf(p, PF, "rp2", &d), 0);
	return p;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/vfm-sysfs-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->sys, sizeof(f->sys), "%s/sys", f->root);
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	mkdir(f->sys, 0755);
	mkdir(f->state, 0700);
	mkdirs(f, "devices/0000:3b:00.0");
	mkdirs(f, "class/net/" PF);
	mklink(f, "class/net/" PF "/device", "../../../devices/0000:3b:00.0");
	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "4\n");
	mkdirs(f, "bus/pci/devices");
	mkdirs(f, "bus/pci/drivers/iavf");
	mkdirs(f, "bus/pci/drivers/vfio-pci");
	mkfile(f, "bus/pci/drivers/iavf/unbind", "");
	mkfile(f, "bus/pci/drivers/vfio-pci/unbind", "");
	mkfile(f, "bus/pci/drivers_probe", "");
	for (int i = 0; i < NVF; i++) {
		char rel[128], target[128];

		snprintf(rel, sizeof(rel), "devices/0000:3b:00.0/virtfn%d", i);
		snprintf(target, sizeof(target), "../0000:3b:02.%d", i);
		mklink(f, rel, target);
		snprintf(rel, sizeof(rel), "devices/0000:3b:02.%d", i);
		mkdirs(f, rel);
		snprintf(rel, sizeof(rel), "devices/0000:3b:02.%d/driver_override", i);
		mkfile(f, rel, "(null)\n");
		snprintf(rel, sizeof(rel), "devices/0000:3b:02.%d/driver", i);
		mklink(f, rel, "../../bus/pci/drivers/iavf");
		snprintf(rel, sizeof(rel), "devices/0000:3b:02.%d/net/eth%d", i, i + 1);
		mkdirs(f, rel);
		snprintf(rel, sizeof(rel), "devices/0000:3b:02.%d/iommu_group", i);
		snprintf(target, sizeof(target), "../../kernel/iommu_groups/%d", 40 + i);
		mklink(f, rel, target);
		snprintf(rel, sizeof(rel), "bus/pci/devices/0000:3b:02.%d", i);
		snprintf(target, sizeof(target), "../../../devices/0000:3b:02.%d", i);
		mklink(f, rel, target);
		f->vfs[i].index = (uint32_t)i;
	}
	f->p = new_pool(f);
	vfpool_sysfs_ops(f->p, &f->ops);
	*state = f;
	return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vfpool_sysfs_free(f->p);
	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static unsigned probe(struct fx *f)
{
	struct diag d = {{0}};
	unsigned n = 999;

	int r = f->ops.probe(f->ops.userdata, "physnet1", in_ms(1000), &n, &d);

	/* None free is a refusal that says why. */
	if (r == -ENOSPC && strstr(d.msg, "no free VF"))
		return 0;
	if (r < 0)
		fail_msg("probe: %s", d.msg);
	assert_int_not_equal(n, 0);
	return n;
}

/* The probe's refusal when no VF is free. */
static const char *probe_why(struct fx *f)
{
	static struct diag d;
	unsigned n = 999;

	memset(&d, 0, sizeof(d));
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -ENOSPC);
	assert_int_equal(n, 999);
	return d.msg;
}

static bool marker_exists(struct fx *f, const char *bdf)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/vfpool/%s", f->state, bdf);
	return access(path, F_OK) == 0;
}

/* ---- tests ---- */

static void test_probe_counts(void **state)
{
	struct fx *f = *state;

	/* The PF sets a VF's MAC; an untrusted VF cannot take another from the guest. */
	assert_false(f->ops.vf_takes_guest_mac);
	assert_int_equal(probe(f), 4);
	/* Someone else's guest has VF 1 (vfio-pci, no marker of ours). */
	mklink(f, "devices/0000:3b:02.1/driver", "../../bus/pci/drivers/vfio-pci");
	/* Someone is binding VF 2 elsewhere. */
	mkfile(f, "devices/0000:3b:02.2/driver_override", "uio_pci_generic\n");
	assert_int_equal(probe(f), 2);
	/* The PF does not list VF 3 (its MAC cannot be set). */
	f->unlisted[3] = true;
	assert_int_equal(probe(f), 1);
	/* A VF without any driver is free. */
	unlink(strcat(strcpy((char[256]){0}, f->sys), "/devices/0000:3b:02.0/driver"));
	assert_int_equal(probe(f), 1);
	assert_string_equal(f->writes, ""); /* probe changes nothing */
	assert_int_equal(f->n_sets, 0);
}

/* VFs parked on a driver that is not a network driver, or without an IOMMU group, are not
 * free; a probe that finds none free says why of each, and of a PF without VFs. */
static void test_probe_refusals(void **state)
{
	struct fx *f = *state;
	const char *why;

	mkdirs(f, "bus/pci/drivers/pci-stub");
	mklink(f, "devices/0000:3b:02.0/driver", "../../bus/pci/drivers/pci-stub");
	rmdir(strcat(strcpy((char[256]){0}, f->sys), "/devices/0000:3b:02.0/net/eth1"));
	rmdir(strcat(strcpy((char[256]){0}, f->sys), "/devices/0000:3b:02.0/net"));
	assert_int_equal(probe(f), 3);
	unlink(strcat(strcpy((char[256]){0}, f->sys), "/devices/0000:3b:02.1/iommu_group"));
	assert_int_equal(probe(f), 2);
	/* No driver at all, but a netdev-less VF is free when nobody holds it. */
	mklink(f, "devices/0000:3b:02.2/driver", "../../bus/pci/drivers/vfio-pci");
	f->unlisted[3] = true;
	why = probe_why(f);
	assert_non_null(strstr(why, "0000:3b:02.0 on a driver that is not a network driver"));
	assert_non_null(strstr(why, "0000:3b:02.1 no IOMMU group"));
	assert_non_null(strstr(why, "0000:3b:02.2 on vfio-pci"));
	assert_non_null(strstr(why, "0000:3b:02.3 not listed by the PF"));
	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "0\n");
	assert_non_null(strstr(probe_why(f), "ens1f0 has sriov_numvfs 0"));
	assert_string_equal(f->writes, "");
}

static void test_reserve_writes(void **state)
{
	struct fx *f = *state;
	struct plug_spec s = {0};
	struct diag d = {{0}};

	assert_int_equal(
	    f->ops.reserve(f->ops.userdata, "physnet1", mac1, 100, "vf0", in_ms(2000), &s, &d), 0);
	assert_string_equal(s.backend, "0000:3b:02.0");
	assert_int_equal(s.backend_kind, PLUG_BACKEND_HOSTDEV);
	assert_string_equal(s.driver, "vfio-pci");
	assert_string_equal(s.device_id, "vf0");
	assert_string_equal(s.bus, "rp2");
	assert_true(s.has_mac);
	assert_memory_equal(s.mac, mac1, 6);
	assert_int_equal(s.vlan, 100);
	/* Exactly these writes, in this order. */
	assert_string_equal(f->writes, "bus/pci/devices/0000:3b:02.0/driver_override=vfio-pci;"
				       "bus/pci/drivers/iavf/unbind=0000:3b:02.0;"
				       "bus/pci/drivers_probe=0000:3b:02.0;");
	assert_string_equal(vf_driver(f, 0), "vfio-pci");
	/* One RTM_SETLINK: VF 0, the MAC, VLAN 100; then read back. */
	assert_int_equal(f->n_sets, 1);
	assert_int_equal(f->sets[0].vf, 0);
	assert_memory_equal(f->sets[0].mac, mac1, 6);
	assert_int_equal(f->sets[0].vlan, 100);
	assert_memory_equal(f->vfs[0].mac, mac1, 6);
	assert_true(marker_exists(f, "0000:3b:02.0"));
	assert_int_equal(probe(f), 3);
}

static void test_no_free_vf(void **state)
{
	struct fx *f = *state;
	struct plug_spec s[NVF + 1];
	struct diag d = {{0}};
	char seen[NVF] = {0};

	for (int i = 0; i < NVF; i++) {
		assert_int_equal(
		    f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(2000), &s[i], &d), 0);
		/* Never the same VF twice. */
		assert_int_equal(s[i].backend[11] >= '0' && s[i].backend[11] < '0' + NVF, 1);
		assert_int_equal(seen[s[i].backend[11] - '0']++, 0);
	}
	assert_string_equal(s[1].device_id, "vfm-vf1");
	assert_int_equal(probe(f), 0);
	assert_int_equal(
	    f->ops.reserve(f->ops.userdata, "", mac2, -1, NULL, in_ms(2000), &s[NVF], &d), -ENOSPC);
	assert_non_null(strstr(d.msg, "no free VF on PF ens1f0"));
	assert_non_null(strstr(d.msg, "0000:3b:02.0 reserved"));
}

static void test_two_runs_never_share(void **state)
{
	struct fx *f = *state;
	struct vfpool_sysfs *p2 = new_pool(f); /* another vfmigrate, same state dir */
	struct vfpool_ops o2;
	struct plug_spec a, b;
	struct diag d = {{0}};
	char path[256];

	vfpool_sysfs_ops(p2, &o2);
	/* A marker left by another run on VF 0 before it bound it (still on iavf). */
	snprintf(path, sizeof(path), "%s/vfpool", f->state);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/vfpool/0000:3b:02.0", f->state);
	fclose(fopen(path, "w"));
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(2000), &a, &d),
			 0);
	assert_int_equal(o2.reserve(o2.userdata, "", mac2, -1, NULL, in_ms(2000), &b, &d), 0);
	assert_string_equal(a.backend, "0000:3b:02.1");
	assert_string_equal(b.backend, "0000:3b:02.2");
	vfpool_sysfs_free(p2);
}

/* Another party (libvirt, a hand-started guest) binds the VF vfmigrate just picked: it is
 * never taken from them (no unbind from vfio-pci), the next free VF is. */
static void test_reserve_race_with_others(void **state)
{
	struct fx *f = *state;
	struct plug_spec s;
	struct diag d = {{0}};

	/* Bound between the free check and the MAC: seen when bind_vfio looks. */
	f->steal_on_set = 1;
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(2000), &s, &d),
			 0);
	assert_string_equal(s.backend, "0000:3b:02.1");
	assert_null(strstr(f->writes, "vfio-pci/unbind"));
	assert_null(strstr(f->writes, "0000:3b:02.0"));
	assert_false(marker_exists(f, "0000:3b:02.0"));
	assert_true(marker_exists(f, "0000:3b:02.1"));
	assert_string_equal(vf_driver(f, 0), "vfio-pci"); /* still theirs */
}

static void test_release_restores(void **state)
{
	struct fx *f = *state;
	struct plug_spec s;
	struct diag d = {{0}};

	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, 7, "vf0", in_ms(2000), &s, &d),
			 0);
	f->writes[0] = '\0';
	f->n_sets = 0;
	assert_int_equal(f->ops.release(f->ops.userdata, &s, in_ms(2000), &d), 0);
	/* MAC and VLAN cleared first (while vfio-pci holds it), then back to the net driver. */
	assert_int_equal(f->n_sets, 1);
	assert_memory_equal(f->sets[0].mac, zero, 6);
	assert_int_equal(f->sets[0].vlan, 0);
	assert_string_equal(f->writes, "bus/pci/devices/0000:3b:02.0/driver_override=\\n;"
				       "bus/pci/drivers/vfio-pci/unbind=0000:3b:02.0;"
				       "bus/pci/drivers_probe=0000:3b:02.0;");
	assert_string_equal(vf_driver(f, 0), "iavf");
	assert_false(marker_exists(f, "0000:3b:02.0"));
	assert_int_equal(probe(f), 4);

	/* Twice: nothing to do, not an error, nothing touched. */
	f->writes[0] = '\0';
	f->n_sets = 0;
	assert_int_equal(f->ops.release(f->ops.userdata, &s, in_ms(2000), &d), 0);
	assert_string_equal(f->writes, "");
	assert_int_equal(f->n_sets, 0);

	/* Taken since by another guest: a late release leaves it alone. */
	struct plug_spec other;
	assert_int_equal(
	    f->ops.reserve(f->ops.userdata, "", mac2, -1, NULL, in_ms(2000), &other, &d), 0);
	assert_string_equal(other.backend, s.backend);
	f->n_sets = 0;
	assert_int_equal(f->ops.release(f->ops.userdata, &s, in_ms(2000), &d), 0);
	assert_int_equal(f->n_sets, 0);
	assert_true(marker_exists(f, "0000:3b:02.0"));
	assert_string_equal(vf_driver(f, 0), "vfio-pci");
}

static void test_release_by_mac(void **state)
{
	struct fx *f = *state;
	struct plug_spec s, any = {.has_mac = true, .vlan = -1};
	struct diag d = {{0}};

	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(2000), &s, &d),
			 0);
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac2, -1, NULL, in_ms(2000), &s, &d),
			 0);
	/* Recover after a crash between reserve and its journal record: by MAC. */
	memcpy(any.mac, mac2, 6);
	assert_int_equal(f->ops.release(f->ops.userdata, &any, in_ms(2000), &d), 0);
	assert_false(marker_exists(f, "0000:3b:02.1"));
	assert_true(marker_exists(f, "0000:3b:02.0"));
	assert_string_equal(vf_driver(f, 1), "iavf");
	/* Nothing reserved for it (any more): 0. */
	assert_int_equal(f->ops.release(f->ops.userdata, &any, in_ms(2000), &d), 0);
	assert_int_equal(probe(f), 3);
}

static void test_release_source_vf(void **state)
{
	struct fx *f = *state;
	struct plug_spec src = {.device_id = "vf0",
				.driver = "vfio-pci",
				.backend_kind = PLUG_BACKEND_HOSTDEV,
				.backend = "0000:3b:02.3",
				.has_mac = true,
				.vlan = 5};
	struct diag d = {{0}};

	/* The guest started with VF 3 (bound by hand, no marker). */
	memcpy(src.mac, mac1, 6);
	mklink(f, "devices/0000:3b:02.3/driver", "../../bus/pci/drivers/vfio-pci");
	mkfile(f, "devices/0000:3b:02.3/driver_override", "vfio-pci\n");
	memcpy(f->vfs[3].mac, mac1, 6);
	f->vfs[3].vlan = 5;
	/* handoff(source) clears MAC and VLAN; release gives it back to iavf. */
	assert_int_equal(f->ops.handoff(f->ops.userdata, &src, false, in_ms(2000), &d), 0);
	assert_memory_equal(f->vfs[3].mac, zero, 6);
	assert_int_equal(f->vfs[3].vlan, 0);
	assert_int_equal(f->ops.release(f->ops.userdata, &src, in_ms(2000), &d), 0);
	assert_string_equal(vf_driver(f, 3), "iavf");
	assert_int_equal(probe(f), 4);
	/* handoff(destination) sets them. */
	assert_int_equal(f->ops.handoff(f->ops.userdata, &src, true, in_ms(2000), &d), 0);
	assert_memory_equal(f->vfs[3].mac, mac1, 6);
	assert_int_equal(f->vfs[3].vlan, 5);

	/* Released again (recover after a crash) once another guest has it, bound by hand
	 * with its own MAC: left alone. */
	mklink(f, "devices/0000:3b:02.3/driver", "../../bus/pci/drivers/vfio-pci");
	memcpy(f->vfs[3].mac, mac2, 6);
	f->writes[0] = '\0';
	f->n_sets = 0;
	assert_int_equal(f->ops.release(f->ops.userdata, &src, in_ms(2000), &d), 0);
	assert_string_equal(f->writes, "");
	assert_int_equal(f->n_sets, 0);
	assert_memory_equal(f->vfs[3].mac, mac2, 6);
	assert_string_equal(vf_driver(f, 3), "vfio-pci");

	/* Not a VF of the pool / not a PCI address / not a host device. */
	snprintf(src.backend, sizeof(src.backend), "0000:3b:03.0");
	assert_int_equal(f->ops.release(f->ops.userdata, &src, in_ms(2000), &d), -ENOENT);
	assert_non_null(strstr(d.msg, "not a VF of this pool"));
	snprintf(src.backend, sizeof(src.backend), "../../../etc");
	assert_int_equal(f->ops.release(f->ops.userdata, &src, in_ms(2000), &d), -EINVAL);
	src.backend_kind = PLUG_BACKEND_TAP;
	snprintf(src.backend, sizeof(src.backend), "0000:3b:02.3");
	assert_int_equal(f->ops.handoff(f->ops.userdata, &src, true, in_ms(2000), &d), -EINVAL);
}

/* An unbind the kernel blocks (QEMU holds the device) times out; the child left blocked in it
 * holds none of our descriptors (the journal lock, QMP, libvirt, channel sockets). */
static void test_blocked_unbind_holds_nothing(void **state)
{
	struct fx *f = *state;
	struct plug_spec s;
	struct diag d = {{0}};
	char fifo[512];
	struct pollfd pfd;
	int p[2], rd;

	snprintf(fifo, sizeof(fifo), "%s/bus/pci/drivers/iavf/unbind", f->sys);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0); /* opening it for writing blocks */
	assert_int_equal(pipe(p), 0);		 /* inheritable, like a journal lock */
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(100), &s, &d),
			 -ETIMEDOUT);
	assert_non_null(strstr(d.msg, "did not finish by the deadline"));
	close(p[1]);
	pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_true(pfd.revents & POLLHUP); /* nobody else holds the write end */
	close(p[0]);
	/* Let the child finish. */
	rd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	usleep(50000);
	close(rd);
}

static void test_bind_deadline(void **state)
{
	struct fx *f = *state;
	struct plug_spec s;
	struct diag d = {{0}};
	int64_t t0 = time_now_ms();

	f->vfio_never_binds = true;
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, 9, NULL, in_ms(60), &s, &d),
			 -ETIMEDOUT);
	assert_true(time_now_ms() - t0 < 1000);
	assert_non_null(strstr(d.msg, "not bound to vfio-pci by the deadline"));
	assert_non_null(strstr(d.msg, "0000:3b:02.0"));
	/* Undone: override cleared, back on iavf, MAC cleared, no marker. */
	assert_string_equal(vf_driver(f, 0), "iavf");
	assert_memory_equal(f->vfs[0].mac, zero, 6);
	assert_false(marker_exists(f, "0000:3b:02.0"));
	assert_int_equal(probe(f), 4);
}

static void test_netlink_errors(void **state)
{
	struct fx *f = *state;
	struct plug_spec s;
	struct diag d = {{0}};

	f->fail_set = -EOPNOTSUPP;
	f->fail_msg = "VF MAC setting not supported";
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(2000), &s, &d),
			 -EOPNOTSUPP);
	assert_non_null(strstr(d.msg, "VF MAC setting not supported"));
	assert_non_null(strstr(d.msg, "PF ens1f0"));
	assert_string_equal(f->writes, ""); /* never bound */
	assert_false(marker_exists(f, "0000:3b:02.0"));

	/* The PF acks but does not take the MAC: caught by reading it back. */
	f->forget_mac = true;
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(2000), &s, &d),
			 -EIO);
	assert_non_null(strstr(d.msg, "does not hold MAC"));
	f->forget_mac = false;

	/* No answer at all: the deadline. */
	f->silent = true;
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, NULL, in_ms(50), &s, &d),
			 -ETIMEDOUT);
	f->silent = false;
	assert_int_equal(probe(f), 4);

	/* A multicast MAC, a bad VLAN, a bad device id. */
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", (uint8_t[6]){1, 0, 0x5e, 0, 0, 1}, -1,
					NULL, in_ms(2000), &s, &d),
			 -EINVAL);
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, 4095, NULL, in_ms(2000), &s, &d),
			 -EINVAL);
	assert_int_equal(f->ops.reserve(f->ops.userdata, "", mac1, -1, "a b", in_ms(2000), &s, &d),
			 -EINVAL);
}

static void test_malformed_sysfs(void **state)
{
	struct fx *f = *state;
	struct diag d = {{0}};
	unsigned n;

	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "four\n");
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "sriov_numvfs holds \"four\""));
	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "100000\n");
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -EBADMSG);
	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "4\n");

	mklink(f, "devices/0000:3b:00.0/virtfn2", "../../../../etc");
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "virtfn2 points to \"../../../../etc\""));
	mklink(f, "devices/0000:3b:00.0/virtfn2", "../0000:3b:02.2/../../x");
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -EBADMSG);
	mklink(f, "devices/0000:3b:00.0/virtfn2", "../0000:3b:02.2");

	/* sriov_numvfs says more VFs than there are links. */
	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "5\n");
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -ENODEV);
	assert_non_null(strstr(d.msg, "virtfn4"));
	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "4\n");

	/* A driver link to something that is no driver name. */
	mklink(f, "devices/0000:3b:02.1/driver", "../../bus/pci/drivers/a b");
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -EBADMSG);
	mklink(f, "devices/0000:3b:02.1/driver", "../../bus/pci/drivers/iavf");
	assert_int_equal(probe(f), 4);
}

static void on_alarm(int sig)
{
	static const char msg[] = "test_vfpool_sysfs: a read blocked on a FIFO (alarm)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

/* A FIFO where sysfs has an attribute, or where a marker is: check (the probe) ends with an
 * error naming the path instead of waiting forever for a writer. The alarm fails the test
 * rather than hanging it. */
static void test_fifo_not_read(void **state)
{
	struct fx *f = *state;
	struct diag d = {{0}};
	char path[512], want[600];
	unsigned n;

	signal(SIGALRM, on_alarm);
	alarm(10);
	snprintf(path, sizeof(path), "%s/devices/0000:3b:02.1/driver_override", f->sys);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -EINVAL);
	snprintf(want, sizeof(want), "driver_override: a FIFO, not a regular file");
	assert_non_null(strstr(d.msg, want));
	assert_non_null(strstr(d.msg, "0000:3b:02.1"));
	assert_non_null(strstr(d.msg, f->sys));
	unlink(path);
	mkfile(f, "devices/0000:3b:02.1/driver_override", "(null)\n");
	assert_int_equal(probe(f), 4);

	snprintf(path, sizeof(path), "%s/devices/0000:3b:00.0/sriov_numvfs", f->sys);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(f->ops.probe(f->ops.userdata, "", in_ms(1000), &n, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "PF " PF));
	assert_non_null(strstr(d.msg, "sriov_numvfs: a FIFO, not a regular file"));
	unlink(path);
	mkfile(f, "devices/0000:3b:00.0/sriov_numvfs", "4\n");

	/* A marker that is a FIFO is not read either; the VF counts as taken. */
	snprintf(path, sizeof(path), "%s/vfpool", f->state);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/vfpool/0000:3b:02.0", f->state);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(probe(f), 3);
	alarm(0);
}

static void test_missing_pf_and_config(void **state)
{
	struct fx *f = *state;
	struct vfpool_sysfs_options o = {0};
	struct vfpool_sysfs *p = NULL;
	struct vfpool_ops ops;
	struct diag d = {{0}};
	unsigned n;

	(void)state;
	snprintf(o.sysfs_root, sizeof(o.sysfs_root), "%s", f->sys);
	assert_int_equal(vfpool_sysfs_new(&o, &p, &d), -EINVAL); /* no state dir */
	snprintf(o.state_dir, sizeof(o.state_dir), "%s", f->state);
	snprintf(o.sysfs_root, sizeof(o.sysfs_root), "sys");
	assert_int_equal(vfpool_sysfs_new(&o, &p, &d), -EINVAL);
	snprintf(o.sysfs_root, sizeof(o.sysfs_root), "%s", f->sys);
	o.nl = (struct vfpool_sysfs_nl){.userdata = f, .send = fnl_send, .recv = fnl_recv};
	assert_int_equal(vfpool_sysfs_new(&o, &p, &d), 0);
	assert_int_equal(vfpool_sysfs_add_pf(p, "ens9f9", "", &d), 0);
	assert_int_equal(vfpool_sysfs_add_pf(p, "ens9f9", "", &d), -EEXIST);
	assert_int_equal(vfpool_sysfs_add_pf(p, "../../x", "", &d), -EINVAL);
	assert_int_equal(vfpool_sysfs_add_pf(p, "ens1f1", "rp 1", &d), -EINVAL);
	vfpool_sysfs_ops(p, &ops);
	assert_int_equal(ops.probe(ops.userdata, "", in_ms(1000), &n, &d), -ENODEV);
	assert_non_null(strstr(d.msg, "PF ens9f9"));
	vfpool_sysfs_free(p);
}

static void test_pci_addr(void **state)
{
	(void)state;
	assert_true(vfpool_sysfs_pci_addr_valid("0000:3b:02.1"));
	assert_true(vfpool_sysfs_pci_addr_valid("ffff:ff:1f.7"));
	assert_false(vfpool_sysfs_pci_addr_valid("0000:3b:20.1"));
	assert_false(vfpool_sysfs_pci_addr_valid("0000:3b:02.8"));
	assert_false(vfpool_sysfs_pci_addr_valid("0000:3B:02.1"));
	assert_false(vfpool_sysfs_pci_addr_valid("0000:3b:02.1/"));
	assert_false(vfpool_sysfs_pci_addr_valid("3b:02.1"));
	assert_false(vfpool_sysfs_pci_addr_valid(".."));
	assert_false(vfpool_sysfs_pci_addr_valid(NULL));
}

/* The real NETLINK_ROUTE socket against this kernel: "lo" answers with no VF list, so its
 * one (fake-sysfs) VF is not free, and an RTM_SETLINK on it is refused. */
static void test_real_netlink(void **state)
{
	struct fx *f = *state;
	struct vfpool_sysfs_options o = {.bind_poll_ms = 2};
	struct vfpool_sysfs *p = NULL;
	struct vfpool_ops ops;
	struct plug_spec s;
	struct diag d = {{0}};
	unsigned n = 99;
	int r;

	mkdirs(f, "class/net/lo");
	mklink(f, "class/net/lo/device", "../../../devices/0000:3b:00.0");
	snprintf(o.sysfs_root, sizeof(o.sysfs_root), "%s", f->sys);
	snprintf(o.state_dir, sizeof(o.state_dir), "%s", f->state);
	assert_int_equal(vfpool_sysfs_new(&o, &p, &d), 0);
	assert_int_equal(vfpool_sysfs_add_pf(p, "lo", "", &d), 0);
	vfpool_sysfs_ops(p, &ops);
	r = ops.probe(ops.userdata, "", in_ms(2000), &n, &d);
	if (r == -EAFNOSUPPORT || r == -EPERM || r == -EACCES) {
		vfpool_sysfs_free(p);
		skip();
	}
	/* The kernel's lo lists no VF: none is free, and the probe says so. */
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(n, 99);
	assert_non_null(strstr(d.msg, "not listed by the PF"));
	assert_int_equal(ops.reserve(ops.userdata, "", mac1, -1, NULL, in_ms(2000), &s, &d),
			 -ENOSPC);
	assert_non_null(strstr(d.msg, "not listed by the PF"));
	vfpool_sysfs_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_probe_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_probe_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reserve_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_free_vf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_runs_never_share, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reserve_race_with_others, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_restores, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_by_mac, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_source_vf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blocked_unbind_holds_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bind_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_netlink_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_sysfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_not_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_pf_and_config, setup, teardown),
	    cmocka_unit_test(test_pci_addr),
	    cmocka_unit_test_setup_teardown(test_real_netlink, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
