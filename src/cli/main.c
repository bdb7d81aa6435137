// SPDX-License-Identifier: MIT
/*
 * vfmigrate: live-migrates a guest whose NIC is a VF in an active-backup bond with a virtio
 * NIC, without dropping its network. The subcommands are in the table below, each in its own
 * file. See vfmigrate(8).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "io/journal_file.h"

static const struct command *const commands[] = {
    &cmd_migrate, &cmd_check, &cmd_status, &cmd_recover, &cmd_config, &cmd_setup, &cmd_evacuate,
};

#define OPTIONS_MAX 64

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static size_t options_add(struct option *out, size_t n, const struct option *in)
{
	for (; in && in->name && n < OPTIONS_MAX - 1; in++)
		out[n++] = *in;
	return n;
}

/* The common options and every command's own. */
static void options_all(struct option out[OPTIONS_MAX])
{
	size_t n = options_add(out, 0, cli_common_options);

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		n = options_add(out, n, commands[i]->options);
	out[n] = (struct option){0};
}

/*
 * Options may stand before COMMAND and after it, so it takes two passes: the first finds
 * COMMAND, the second gives each option to the common parser or to COMMAND's own. Every
 * command's options are known to both: an option of another command is accepted and has no
 * effect, as it always had.
 */
static int parse_args(int argc, char **argv, struct cli_args *a, const struct command **ret_cmd)
{
	struct option opts[OPTIONS_MAX];
	const struct command *cmd;
	int c, r;

	options_all(opts);
	opterr = 0;
	while (getopt_long(argc, argv, CLI_SHORT_OPTIONS, opts, NULL) != -1)
		;
	cmd = optind < argc ? command_find(argv[optind]) : NULL;
	opterr = 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			cli_usage(stderr);
			return -EINVAL;
		}
		r = cli_common_option(a, c, optarg);
		if (r == 1 && cmd && cmd->option)
			r = cmd->option(c, optarg);
		if (r < 0)
			return r;
	}
	if (cmd && cmd->takes_list && optind < argc) {
		/* COMMAND [GUEST...]: the command reads each one. */
		a->command = argv[optind];
		a->guests = (const char *const *)&argv[optind + 1];
		a->n_guests = (size_t)(argc - optind - 1);
		*ret_cmd = cmd;
		return 0;
	}
	if (optind + 2 > argc) {
		cli_usage(stderr);
		return -EINVAL;
	}
	a->command = argv[optind];
	a->guest = argv[optind + 1];
	if (optind + 3 == argc)
		a->dest = argv[optind + 2];
	else if (optind + 3 < argc) {
		cli_usage(stderr);
		return -EINVAL;
	}
	if (a->dest && cmd && !cmd->takes_dest) {
		fprintf(stderr, "vfmigrate: DEST is not for %s\n", a->command);
		return -EINVAL;
	}
	*ret_cmd = cmd;
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct cli_args a = {0};
	struct diag d = {0};
	struct config c;

	signal(SIGPIPE, SIG_IGN);
	/* A parent that ignored SIGCHLD would have our children reaped before we wait for
	 * them (the sysfs VF pool's bounded writes). */
	signal(SIGCHLD, SIG_DFL);
	if (parse_args(argc, argv, &a, &cmd) < 0)
		return VFM_EXIT_USAGE;
	if (!cmd) {
		char clean[64];

		str_sanitize(clean, sizeof(clean), a.command);
		fprintf(stderr, "vfmigrate: unknown command \"%s\"\n", clean);
		cli_usage(stderr);
		return VFM_EXIT_USAGE;
	}
	if (cmd->takes_list)
		return cmd->run(&a, NULL);
	if (!journal_guest_name_valid(a.guest)) {
		diag_set(
		    &d,
		    "invalid guest name (letters, digits, '_', '.', '-', not first '.' or '-')");
		return cli_fail_usage(&a, &d);
	}
	if (cli_load_config(&a, &c, &d) < 0)
		return cli_fail_usage(&a, &d);
	return cmd->run(&a, &c);
}
