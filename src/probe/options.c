// SPDX-License-Identifier: MIT
/* vfprobe's command line. */
#include "vfprobe.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: vfprobe [--rate N] [--duration S] [--udp PORT] [--json] [--quiet]\n"
	    "               [--timeout MS] [--ready-file PATH] TARGET\n"
	    "       vfprobe --echo [--port N] [--duration S] [--quiet] [--ready-file PATH]\n"
	    "\n"
	    "Sends ICMP echo (or UDP to a 'vfprobe --echo' peer) at a fixed rate that does not\n"
	    "slow down when replies stop, and reports loss and every loss window.\n"
	    "\n"
	    "  -r, --rate N          packets per second (1-%d, default %d)\n"
	    "  -d, --duration S      stop after S seconds (default: at SIGINT/SIGTERM)\n"
	    "  -u, --udp PORT        send UDP to PORT, answered by 'vfprobe --echo'\n"
	    "  -t, --timeout MS      a reply later than MS counts as lost (1-%d, default %d)\n"
	    "  -j, --json            print the report as one JSON object\n"
	    "  -q, --quiet           no progress messages on stderr\n"
	    "  -R, --ready-file PATH write PATH once the first packet is sent (echo: once bound)\n"
	    "  -e, --echo            answer vfprobe UDP packets\n"
	    "  -p, --port N          UDP port for --echo (default %d)\n"
	    "  -h, --help            this text\n",
	    MAX_RATE, DEFAULT_RATE, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, DEFAULT_ECHO_PORT);
}

/* Parses seconds ("3", "0.5") into milliseconds in (0, MAX_DURATION_MS]. */
static int parse_seconds_ms(const char *s, int64_t *ret_ms)
{
	char *end;
	double v;

	if (!s || !*s || strchr("+- \t", s[0]))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -EINVAL;
	if (v <= 0 || v * 1000 > (double)MAX_DURATION_MS || llround(v * 1000) < 1)
		return -ERANGE;
	*ret_ms = llround(v * 1000);
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vfprobe: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vfprobe --help'.\n");
	return EXIT_USAGE;
}

/* Returns -1 when the options are fine, else the exit code. */
int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"rate", required_argument, NULL, 'r'},
	    {"duration", required_argument, NULL, 'd'},
	    {"udp", required_argument, NULL, 'u'},
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"ready-file", required_argument, NULL, 'R'},
	    {"echo", no_argument, NULL, 'e'},
	    {"port", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool port_set = false, probe_only = false;
	int c;

	*o = (struct options){
	    .rate = DEFAULT_RATE,
	    .timeout_ms = DEFAULT_TIMEOUT_MS,
	    .echo_port = DEFAULT_ECHO_PORT,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:d:u:t:jqR:ep:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_int64(optarg, 1, MAX_RATE, &o->rate) < 0)
				return usage_error("--rate wants packets per second, 1 to 100000, "
						   "not '%s'",
						   optarg);
			probe_only = true;
			break;
		case 'd':
			if (parse_seconds_ms(optarg, &o->duration_ms) < 0)
				return usage_error(
				    "--duration wants seconds (> 0, at most 31 days), "
				    "not '%s'",
				    optarg);
			break;
		case 'u':
			if (parse_int64(optarg, 1, 65535, &o->udp_port) < 0)
				return usage_error("--udp wants a port, 1 to 65535, not '%s'",
						   optarg);
			probe_only = true;
			break;
		case 't':
			if (parse_int64(optarg, 1, MAX_TIMEOUT_MS, &o->timeout_ms) < 0)
				return usage_error(
				    "--timeout wants milliseconds, 1 to 60000, not '%s'", optarg);
			probe_only = true;
			break;
		case 'j':
			o->json = true;
			probe_only = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'R':
			if (!*optarg)
				return usage_error("--ready-file wants a path%s", "");
			o->ready_file = optarg;
			break;
		case 'e':
			o->echo = true;
			break;
		case 'p':
			if (parse_int64(optarg, 1, 65535, &o->echo_port) < 0)
				return usage_error("--port wants a port, 1 to 65535, not '%s'",
						   optarg);
			port_set = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->echo) {
		if (probe_only)
			return usage_error("--echo takes only --port, --duration, --quiet and "
					   "--ready-file%s",
					   "");
		if (optind != argc)
			return usage_error("--echo takes no target, got '%s'", argv[optind]);
		return -1;
	}
	if ((uint64_t)(o->rate * (o->timeout_ms + 1000) / 1000 + 64) > LOSSACCT_MAX_INFLIGHT)
		return usage_error("--rate times --timeout is too large (at most about 4 million "
				   "packets in flight)%s",
				   "");
	if (port_set)
		return usage_error("--port is for --echo; to probe a UDP port use --udp%s", "");
	if (optind == argc)
		return usage_error("missing TARGET (an address or host name)%s", "");
	if (optind + 1 != argc)
		return usage_error("one TARGET only; unexpected '%s'", argv[optind + 1]);
	o->target = argv[optind];
	return -1;
}
