// SPDX-License-Identifier: MIT
/* vfmigrate config: the effective configuration, in the file format. */
#include <stdio.h>

#include "cli.h"

static int config_run(const struct cli_args *a, const struct config *c)
{
	static char buf[CONFIG_FILE_MAX];
	int n = config_format(c, buf, sizeof(buf));

	if (n < 0)
		return VFM_EXIT_ERROR;
	fwrite(buf, 1, (size_t)n, stdout);
	(void)a;
	return VFM_EXIT_OK;
}

const struct command cmd_config = {.name = "config", .run = config_run};
