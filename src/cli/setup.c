// SPDX-License-Identifier: MIT
/* vfmigrate setup: writes vfmigrate's facts about a guest into its libvirt domain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

enum {
	OPT_BOND = CLI_OPT_COMMAND,
	OPT_VF_ALIAS,
	OPT_BACKUP_MAC,
	OPT_VF_MAC,
	OPT_VF_SOURCE,
	OPT_VLAN,
	OPT_PHYSNET,
};

static const struct option setup_options[] = {
    {"bond", required_argument, NULL, OPT_BOND},
    {"vf-alias", required_argument, NULL, OPT_VF_ALIAS},
    {"backup-mac", required_argument, NULL, OPT_BACKUP_MAC},
    {"vf-mac", required_argument, NULL, OPT_VF_MAC},
    {"vf-source", required_argument, NULL, OPT_VF_SOURCE},
    {"vlan", required_argument, NULL, OPT_VLAN},
    {"physnet", required_argument, NULL, OPT_PHYSNET},
    {NULL, 0, NULL, 0},
};

static struct setup_args sa;

/* The VF the options go to: the last --vf-alias's (the first VF before any). */
static struct setup_vf_args *setup_cur(void)
{
	if (sa.n == 0)
		sa.n = 1;
	return &sa.vfs[sa.n - 1];
}

static int setup_option(int opt, const char *arg)
{
	struct setup_vf_args *v;

	if (opt == OPT_VF_ALIAS && sa.n > 0 && sa.vfs[sa.n - 1].vf_alias) {
		if (sa.n == ARRAY_SIZE(sa.vfs)) {
			fprintf(stderr, "vfmigrate: more than %zu --vf-alias options\n",
				ARRAY_SIZE(sa.vfs));
			return -EINVAL;
		}
		sa.n++;
	}
	v = setup_cur();
	switch (opt) {
	case OPT_BOND:
		v->bond = arg;
		break;
	case OPT_VF_ALIAS:
		v->vf_alias = arg;
		break;
	case OPT_BACKUP_MAC:
		v->backup_mac = arg;
		break;
	case OPT_VF_MAC:
		v->vf_mac = arg;
		break;
	case OPT_VF_SOURCE:
		if (v->n_vf_sources == ARRAY_SIZE(v->vf_sources)) {
			fprintf(stderr, "vfmigrate: too many --vf-source options\n");
			return -EINVAL;
		}
		v->vf_sources[v->n_vf_sources++] = arg;
		break;
	case OPT_VLAN:
		v->vlan = arg;
		break;
	case OPT_PHYSNET:
		v->physnet = arg;
		break;
	default:
		return 1;
	}
	return 0;
}

static int setup_run(const struct cli_args *a, const struct config *c)
{
	const struct backend *be = backend_named("libvirt");
	_cleanup_free_ char *xml = NULL;
	struct diag d = {0};
	int rc;

	(void)c;
	if (!be || !be->setup) {
		diag_set(&d, "this vfmigrate was built without libvirt");
		return cli_fail_usage(a, &d);
	}
	rc = be->setup(a, &sa, &xml, &d);
	if (rc < 0)
		return rc == -EINVAL
			   ? cli_fail_usage(a, &d)
			   : cli_fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	printf("%s: vfmigrate metadata written: %s\n", a->guest, xml);
	return VFM_EXIT_OK;
}

const struct command cmd_setup = {
    .name = "setup",
    .options = setup_options,
    .option = setup_option,
    .run = setup_run,
};
