// SPDX-License-Identifier: MIT
/*
 * vfpool-call: one operation of vfmigrate's sysfs VF pool (src/io/vfpool_sysfs.h) from a shell
 * script, on the machine's real SR-IOV VFs: what the real-VF lab tests drive, one call at a
 * time, to check the pool against the kernel without a guest.
 *
 *   vfpool-call [OPTIONS] probe
 *       prints the number of free VFs
 *   vfpool-call [OPTIONS] reserve MAC [VLAN]
 *       reserves a free VF for MAC (VLAN -1 or absent: none), sets MAC/VLAN on the PF and
 *       binds it to vfio-pci; prints the plug spec as one line of JSON
 *   vfpool-call [OPTIONS] release BDF|- MAC [VLAN]
 *       gives the VF back (BDF "-": whatever is reserved for MAC, as recover does)
 *   vfpool-call [OPTIONS] handoff BDF MAC VLAN in|out
 *       sets (in) or clears (out) the VF's MAC/VLAN on its PF
 *
 * OPTIONS: --pf PF[:ROOTPORT] (repeatable, at least one), --state-dir DIR (required),
 * --sysfs-root DIR, --timeout MS (default 10000).
 *
 * Exit: 0 ok, 2 usage, 3 the pool refused or failed (its message on stderr), 4 no free VF.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/vfpool_sysfs.h"

#define EXIT_USAGE 2
#define EXIT_FAIL  3
#define EXIT_NOSPC 4

static void usage(FILE *f)
{
	fprintf(f, "usage: vfpool-call --pf PF[:ROOTPORT]... --state-dir DIR [--sysfs-root DIR]\n"
		   "                   [--timeout MS] probe | reserve MAC [VLAN] |\n"
		   "                   release BDF|- MAC [VLAN] | handoff BDF MAC VLAN in|out\n");
}

static int fail(const char *what, int rc, const struct diag *d)
{
	char clean[sizeof(d->msg)];

	str_sanitize(clean, sizeof(clean), d->msg);
	fprintf(stderr, "vfpool-call: %s: %s (%s)\n", what, clean, strerror(-rc));
	return rc == -ENOSPC ? EXIT_NOSPC : EXIT_FAIL;
}

static int parse_vlan(const char *s, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < -1 || v > 4094)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static void print_spec(const struct plug_spec *s)
{
	char m[18];

	printf("{\"backend\":\"%s\",\"driver\":\"%s\",\"bus\":\"%s\",\"device_id\":\"%s\","
	       "\"mac\":\"%s\",\"vlan\":%d}\n",
	       s->backend, s->driver, s->bus, s->device_id, format_mac(s->mac, m), s->vlan);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"pf", required_argument, NULL, 'p'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"sysfs-root", required_argument, NULL, 'r'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct vfpool_sysfs_options o = {0};
	const char *pfs[VFPOOL_SYSFS_PFS_MAX];
	size_t n_pf = 0;
	long timeout = 10000;
	struct vfpool_sysfs *pool = NULL;
	struct vfpool_ops ops;
	struct diag d = {0};
	int c, rc, ex = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (n_pf == VFPOOL_SYSFS_PFS_MAX) {
				fprintf(stderr, "vfpool-call: too many --pf\n");
				return EXIT_USAGE;
			}
			pfs[n_pf++] = optarg;
			break;
		case 's':
			snprintf(o.state_dir, sizeof(o.state_dir), "%s", optarg);
			break;
		case 'r':
			snprintf(o.sysfs_root, sizeof(o.sysfs_root), "%s", optarg);
			break;
		case 't':
			timeout = strtol(optarg, NULL, 10);
			if (timeout <= 0) {
				fprintf(stderr, "vfpool-call: bad --timeout %s\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc || n_pf == 0 || !o.state_dir[0]) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = vfpool_sysfs_new(&o, &pool, &d);
	if (rc < 0)
		return fail("open", rc, &d);
	for (size_t i = 0; i < n_pf; i++) {
		char pf[VFM_IFNAME_MAX + VFM_ID_MAX + 1];
		char *bus;

		snprintf(pf, sizeof(pf), "%s", pfs[i]);
		bus = strchr(pf, ':');
		if (bus)
			*bus++ = '\0';
		rc = vfpool_sysfs_add_pf(pool, pf, bus ? bus : "", &d);
		if (rc < 0) {
			ex = fail(pfs[i], rc, &d);
			goto out;
		}
	}
	vfpool_sysfs_ops(pool, &ops);

	const char *cmd = argv[optind];
	char **a = argv + optind + 1;
	int na = argc - optind - 1;
	int64_t deadline = time_now_ms() + timeout;
	struct plug_spec s = {.vlan = -1};

	if (strcmp(cmd, "probe") == 0 && na == 0) {
		unsigned n = 0;

		rc = ops.probe(ops.userdata, "", deadline, &n, &d);
		if (rc < 0)
			ex = fail("probe", rc, &d);
		else
			printf("%u\n", n);
	} else if (strcmp(cmd, "reserve") == 0 && (na == 1 || na == 2)) {
		uint8_t mac[6];
		int vlan = -1;

		if (parse_mac(a[0], mac) < 0 || (na == 2 && parse_vlan(a[1], &vlan) < 0)) {
			usage(stderr);
			ex = EXIT_USAGE;
			goto out;
		}
		rc = ops.reserve(ops.userdata, "", mac, vlan, "vf0", deadline, &s, &d);
		if (rc < 0)
			ex = fail("reserve", rc, &d);
		else
			print_spec(&s);
	} else if ((strcmp(cmd, "release") == 0 && (na == 2 || na == 3)) ||
		   (strcmp(cmd, "handoff") == 0 && na == 4)) {
		bool handoff = cmd[0] == 'h';

		if (parse_mac(a[1], s.mac) < 0 || (na >= 3 && parse_vlan(a[2], &s.vlan) < 0) ||
		    (handoff && strcmp(a[3], "in") != 0 && strcmp(a[3], "out") != 0) ||
		    strlen(a[0]) >= sizeof(s.backend)) {
			usage(stderr);
			ex = EXIT_USAGE;
			goto out;
		}
		s.has_mac = true;
		s.backend_kind = PLUG_BACKEND_HOSTDEV;
		if (strcmp(a[0], "-") != 0)
			snprintf(s.backend, sizeof(s.backend), "%s", a[0]);
		if (handoff)
			rc = ops.handoff(ops.userdata, &s, strcmp(a[3], "in") == 0, deadline, &d);
		else
			rc = ops.release(ops.userdata, &s, deadline, &d);
		if (rc < 0)
			ex = fail(cmd, rc, &d);
	} else {
		usage(stderr);
		ex = EXIT_USAGE;
	}
out:
	vfpool_sysfs_free(pool);
	return ex;
}
