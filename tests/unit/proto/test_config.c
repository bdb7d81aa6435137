// SPDX-License-Identifier: MIT
/* The config file: golden files (text in, effective config out), errors with line numbers,
 * overrides through the same key table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/config.h"

static const char *golden_dir;

static char *slurp(const char *name, size_t *ret_len)
{
	char path[512];
	FILE *f;
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	size_t n;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, CONFIG_FILE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

static void test_golden(void **state)
{
	static const char *const names[] = {"lab", "sysfs", "multivf"};
	char out[CONFIG_FILE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char in_name[64], exp_name[64];
		size_t in_len, exp_len;
		struct config c;
		struct diag d = {0};
		char *in, *exp;
		int n;

		snprintf(in_name, sizeof(in_name), "%s.conf", names[i]);
		snprintf(exp_name, sizeof(exp_name), "%s.expected", names[i]);
		in = slurp(in_name, &in_len);
		exp = slurp(exp_name, &exp_len);
		config_init(&c);
		if (config_parse(&c, in, in_len, &d) < 0)
			fail_msg("%s: %s", in_name, d.msg);
		n = config_format(&c, out, sizeof(out));
		assert_true(n > 0);
		if ((size_t)n != exp_len || memcmp(out, exp, exp_len) != 0) {
			print_error("%s: got\n%.*s", in_name, n, out);
			fail();
		}
		free(in);
		free(exp);
	}
}

struct bad {
	const char *text;
	const char *msg;
};

static void test_errors_name_the_line(void **state)
{
	static const struct bad bad[] = {
	    {"[guest]\nbond = b\n[nope]\n", "line 3: unknown section [nope]"},
	    {"bond = b\n", "line 1: key outside a [section]"},
	    {"[guest]\nbnd = b\n", "line 2: unknown key \"bnd\" in [guest]"},
	    {"[guest]\nbond = a\nbond = b\n", "line 3: guest.bond given twice"},
	    {"[guest]\nvf-mac = 52:54:00\n", "line 2: guest.vf-mac: not a MAC address"},
	    {"[guest]\nbond = a-very-long-bond-name\n", "line 2: guest.bond: value longer"},
	    {"[source]\nqmp = relative/path\n", "line 2: source.qmp: must be an absolute path"},
	    {"[source]\nqmp = /a b\n", "line 2: source.qmp: value must be printable"},
	    {"[timeouts]\nunplug = 10m\n", "line 2: timeouts.unplug: expected a duration"},
	    {"[timeouts]\nunplug = 2000000s\n", "line 2: timeouts.unplug: expected a duration"},
	    {"[guest]\nvlan = 4095\n", "line 2: guest.vlan: expected 0..4094"},
	    {"[guest]\ncreate-bond = maybe\n", "line 2: guest.create-bond: expected yes or no"},
	    {"[guest]\nfail-over-mac = unknown\n", "line 2: guest.fail-over-mac: expected none"},
	    {"[guest]\nfail-over-mac = Active\n", "line 2: guest.fail-over-mac: expected none"},
	    {"[guest]\nfail-over-mac =\n", "line 2: guest.fail-over-mac: expected none"},
	    {"[destination]\nincoming = now\n", "line 2: destination.incoming: expected defer"},
	    {"[destination]\nvf-pool = a/b\n", "is not tap, tap:rootport, sysfs:PF"},
	    {"[destination]\nvf-pool = a\x1b[2Jb\n", "\"a?[2Jb\" is not tap, tap:rootport"},
	    {"[destination]\nvf-pool = sysfs:\n", "\"sysfs:\" is not tap"},
	    {"[destination]\nvf-pool = sysfs:..\n", "\"sysfs:..\" is not tap"},
	    {"[destination]\nvf-pool = sysfs:ens1f0:rp1:x\n", "is not tap"},
	    {"[destination]\nvf-pool = sysfs:ens1f0-is-too-long\n", "is not tap"},
	    {"[destination]\nvf-pool = sysfs:ens1f0 t0\n", "cannot be mixed"},
	    {"[destination]\nvf-pool = t0 sysfs:ens1f0\n", "cannot be mixed"},
	    {"[source]\nvf-host = 0000:3b:02\n", "line 2: source.vf-host: expected a PCI address"},
	    {"[source]\nvf-host = 0000:3B:02.1\n", "source.vf-host: expected a PCI address"},
	    {"[destination]\nvf-host = 0000:3b:02.1\n", "unknown key \"vf-host\""},
	    {"[destination]\nsysfs-root = sys\n", "must be an absolute path"},
	    {"[guest\n", "line 1: malformed section header"},
	    {"[guest]\njunk\n", "line 2: expected key = value"},
	    {"[libvirt]\nagent = ssh\n", "line 2: libvirt.agent: expected auto, socket"},
	    {"[libvirt]\nagent = Channel\n", "line 2: libvirt.agent: expected auto"},
	    {"[libvirt]\nagent =\n", "line 2: libvirt.agent: expected auto"},
	    {"[libvirt]\nagent = auto\nagent = socket\n", "line 3: libvirt.agent given twice"},
	};
	struct config c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct diag d = {0};

		config_init(&c);
		if (config_parse(&c, bad[i].text, strlen(bad[i].text), &d) >= 0)
			fail_msg("accepted: %s", bad[i].text);
		if (!strstr(d.msg, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, d.msg, bad[i].msg);
	}
	/* A failed parse leaves the config as it was. */
	config_init(&c);
	assert_int_equal(config_parse(&c, "[guest]\nbond = x\nvlan = 9999\n", 28, NULL), -EINVAL);
	assert_string_equal(c.bond, "");
}

static void test_limits(void **state)
{
	char *big = malloc(CONFIG_FILE_MAX + 2);
	char line[CONFIG_LINE_MAX + 20];
	struct config c;
	struct diag d = {0};

	(void)state;
	memset(big, '#', CONFIG_FILE_MAX + 1);
	config_init(&c);
	assert_int_equal(config_parse(&c, big, CONFIG_FILE_MAX + 1, &d), -EFBIG);
	free(big);
	memset(line, 'x', sizeof(line));
	assert_int_equal(config_parse(&c, line, sizeof(line), &d), -EINVAL);
	assert_non_null(strstr(d.msg, "longer than"));
	assert_int_equal(config_parse(&c, "[guest]\0", 8, &d), -EINVAL);
}

static void test_overrides(void **state)
{
	struct config c;
	struct diag d = {0};

	(void)state;
	config_init(&c);
	assert_int_equal(config_set(&c, "destination.qmp=/tmp/q.sock", &d), 0);
	assert_string_equal(c.dst.qmp, "/tmp/q.sock");
	assert_int_equal(config_set(&c, "timeouts.unplug=3s", &d), 0);
	assert_true(c.t_unplug == 3000);
	assert_int_equal(config_set(&c, "guest.vf-mac=", &d), 0);
	assert_false(c.has_vf_mac);
	assert_int_equal(config_set(&c, "guest.nope=1", &d), -EINVAL);
	assert_int_equal(config_set(&c, "noequals", &d), -EINVAL);
	assert_int_equal(config_set(&c, "guest.vlan=x", &d), -EINVAL);
}

/* [guest] fail-over-mac: what --create-bond builds; active unless told otherwise. */
static void test_fail_over_mac(void **state)
{
	static const char *const names[] = {"none", "active", "follow"};
	char out[CONFIG_FILE_MAX];
	struct config c;
	struct diag d = {0};

	(void)state;
	config_init(&c);
	assert_int_equal(c.fail_over_mac, BOND_FOM_ACTIVE);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char set[64], line[64];

		snprintf(set, sizeof(set), "guest.fail-over-mac=%s", names[i]);
		assert_int_equal(config_set(&c, set, &d), 0);
		assert_string_equal(bond_fom_to_string(c.fail_over_mac), names[i]);
		assert_true(config_format(&c, out, sizeof(out)) > 0);
		snprintf(line, sizeof(line), "\nfail-over-mac = %s\n", names[i]);
		assert_non_null(strstr(out, line));
	}
	assert_int_equal(config_parse(&c, "[guest]\nfail-over-mac = none\n", 29, &d), 0);
	assert_int_equal(c.fail_over_mac, BOND_FOM_NONE);
	/* A rejected value leaves the previous one. */
	assert_int_equal(config_set(&c, "guest.fail-over-mac=swap", &d), -EINVAL);
	assert_int_equal(c.fail_over_mac, BOND_FOM_NONE);
}

/* [libvirt] agent: every transport by name, auto by default, formatted back by name. */
static void test_libvirt_agent(void **state)
{
	static const char *const names[] = {"auto", "socket", "channel", "qemu-ga"};
	char out[CONFIG_FILE_MAX];
	struct config c;
	struct diag d = {0};

	(void)state;
	config_init(&c);
	assert_int_equal(c.lv_agent, CONFIG_AGENT_AUTO);
	assert_true(config_format(&c, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\n[libvirt]\nagent = auto\n"));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char set[64], line[64];

		snprintf(set, sizeof(set), "libvirt.agent=%s", names[i]);
		assert_int_equal(config_set(&c, set, &d), 0);
		assert_int_equal(c.lv_agent, (int)i);
		assert_string_equal(config_agent_to_string(c.lv_agent), names[i]);
		assert_true(config_format(&c, out, sizeof(out)) > 0);
		snprintf(line, sizeof(line), "agent = %s\n", names[i]);
		assert_non_null(strstr(out, line));
	}
	/* A rejected value leaves the previous one; an override's text is not echoed raw. */
	assert_int_equal(config_set(&c, "libvirt.agent=\x1b[2J", &d), -EINVAL);
	assert_int_equal(c.lv_agent, CONFIG_AGENT_QEMU_GA);
	assert_null(strchr(d.msg, '\x1b'));
	assert_int_equal(config_set(&c, "libvirt.agents=auto", &d), -EINVAL);
	assert_string_equal(config_agent_to_string(_CONFIG_AGENT_MAX), "unknown");
}

/* [vf NAME] sections: each VF its own keys; the old single-VF keys are one VF. */
static void test_vf_sections(void **state)
{
	static const struct bad bads[] = {
	    {"[vf a]\nbond = b0\n[vf a]\n", "line 3: [vf a] given twice"},
	    {"[vf a/b]\n", "line 1: [vf NAME]: NAME must be"},
	    {"[vf ]\n", "line 1: [vf NAME]: NAME must be"},
	    {"[vf a]\nqmp = /x\n", "line 2: unknown key \"qmp\" in [vf a]"},
	    {"[vf a]\nbond = b0\nbond = b1\n", "line 3: a.bond given twice"},
	    {"[vf a]\nvf-mac = 52:54\n", "line 2: vf.vf-mac: not a MAC"},
	    {"[vf a]\n[vf b]\n[vf c]\n[vf d]\n[vf e]\n", "line 5: more than 4 [vf] sections"},
	};
	struct config_vf vfs[VFM_VFS_MAX];
	struct config c;
	struct diag d = {0};
	size_t n = 99, len;
	char *in;

	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		config_init(&c);
		d.msg[0] = '\0';
		assert_int_equal(config_parse(&c, bads[i].text, strlen(bads[i].text), &d), -EINVAL);
		if (strncmp(d.msg, bads[i].msg, strlen(bads[i].msg)) != 0)
			fail_msg("case %zu: got \"%s\"", i, d.msg);
	}
	/* No VF at all: a plain live migration. */
	config_init(&c);
	assert_int_equal(config_vfs(&c, vfs, &n, &d), 0);
	assert_int_equal(n, 0);
	/* The old form is one VF, unnamed, from [guest] and [source]. */
	in = slurp("lab.conf", &len);
	assert_int_equal(config_parse(&c, in, len, &d), 0);
	free(in);
	assert_int_equal(config_vfs(&c, vfs, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(vfs[0].name, "");
	assert_string_equal(vfs[0].bond, "bond0");
	assert_string_equal(vfs[0].vf_device, "vf0");
	assert_string_equal(vfs[0].vf_tap, "vfm-s0");
	assert_true(vfs[0].has_backup_mac);
	/* Sections, in file order; a VF without physnet is on [guest]'s. */
	config_init(&c);
	in = slurp("multivf.conf", &len);
	assert_int_equal(config_parse(&c, in, len, &d), 0);
	free(in);
	assert_int_equal(config_vfs(&c, vfs, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(vfs[0].name, "net0");
	assert_string_equal(vfs[1].name, "net1");
	assert_string_equal(vfs[1].bond, "bond1");
	assert_string_equal(vfs[1].vf_bus, "rp2");
	assert_string_equal(vfs[1].dst_vf_device, "vf1b");
	assert_string_equal(vfs[1].physnet, "lab");
	assert_int_equal(vfs[1].vlan, 12);
	assert_int_equal(vfs[0].vlan, -1);
	/* Both forms at once is refused: which would be the VFs? */
	assert_int_equal(config_set(&c, "guest.vf-mac=52:54:00:00:00:01", &d), 0);
	assert_int_equal(config_vfs(&c, vfs, &n, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "[vf NAME] sections and the single VF's keys"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),	  cmocka_unit_test(test_errors_name_the_line),
	    cmocka_unit_test(test_limits),	  cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_libvirt_agent), cmocka_unit_test(test_fail_over_mac),
	    cmocka_unit_test(test_vf_sections),
	};

	golden_dir = argc > 1 ? argv[1] : "tests/unit/cli/golden";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
