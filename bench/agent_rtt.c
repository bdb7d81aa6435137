// SPDX-License-Identifier: MIT
/*
 * agent-rtt-run: round-trip times of the bond operations through vfmigrate-agent, beside the
 * equivalent command run through the stock qemu-ga's guest-exec (+ guest-exec-status polling),
 * in the same guest and the same run, each over one persistent connection.
 *
 *   agent-rtt-run --agent SOCK --qga SOCK --vf MAC --backup MAC [--bond NAME] [-n N]
 *
 * Prints a table of medians (min-max) per operation and "speedup vs guest-exec: N.N": the
 * median over the operations of (guest-exec median / agent median). Those round trips are
 * mostly the guest kernel's work (an e1000e reset on enslave), the same for any agent, so a
 * second table compares the agents' own shares, per operation (medians):
 *   vfmigrate-agent: its own time as it measures it (guest-agent-timing after each call:
 *     from the request to its first call into the kernel, plus from the return of its last to
 *     the reply);
 *   guest-exec: process start, a guest-exec of the same program with arguments that do no
 *     work (its round trips until the exit status is in, less one guest-ping round trip to the
 *     same qemu-ga: the one round trip both pay), plus output parse on the host (status: the
 *     /proc/net/bonding text into a bond status, with vfmigrate's own parser; the others print
 *     nothing to parse).
 * Last line: "agent overhead ratio guest-exec/agent: N.N", the median over the operations.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "io/agent_qga.h"
#include "io/qga_client.h"
#include "proto/agent_timing.h"

#define MAX_N	200
#define CALL_MS 30000

enum op {
	OP_STATUS,
	OP_SET_ACTIVE,
	OP_RELEASE,
	OP_ENSLAVE,
	_OP_MAX
};
static const char *const op_names[_OP_MAX] = {"status", "set-active", "release", "enslave"};

static const char *const op_commands[_OP_MAX] = {"guest-bond-status", "guest-bond-set-active",
						 "guest-bond-release", "guest-bond-enslave"};

/* [0] vfmigrate-agent, [1] guest-exec: round trips, ms. */
static double samples[2][_OP_MAX][MAX_N];
/* Own shares, us: the agent's; guest-exec's no-op round trip and its output parse. */
static double own_agent[_OP_MAX][MAX_N], noop_exec[_OP_MAX][MAX_N], parse_exec[_OP_MAX][MAX_N];
static double ping_qga[MAX_N];

static double now_ms(void)
{
	return (double)time_now_ns() / 1e6;
}

static void die(const char *what, const struct diag *d)
{
	fprintf(stderr, "agent-rtt-run: %s: %s\n", what, d->msg);
	exit(1);
}

static double agent_call(struct qga_client *c, const char *cmd, json_t *args, json_t **ret)
{
	struct diag d = {{0}};
	double t0 = now_ms(), t;
	json_t *v = NULL;

	if (qga_client_call(c, cmd, args, time_now_ms() + CALL_MS, &v, &d) < 0)
		die(cmd, &d);
	t = now_ms() - t0;
	if (ret)
		*ret = v;
	else
		json_decref(v);
	json_decref(args);
	return t;
}

/* A guest-exec round trip (until the exit status is in); its stdout into *ret_out if asked. */
static double exec_call(struct qga_client *c, const char *path, const char *const *argv,
			bool any_status, char **ret_out)
{
	struct diag d = {{0}};
	double t0 = now_ms(), t;
	char *out = NULL;
	int status = -1;

	if (qga_client_exec(c, path, argv, time_now_ms() + CALL_MS, &status, &out, &d) < 0)
		die(path, &d);
	t = now_ms() - t0;
	if (status != 0 && !any_status) {
		fprintf(stderr, "agent-rtt-run: guest-exec %s %s... exited %d\n", path,
			argv[0] ? argv[0] : "", status);
		exit(1);
	}
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	return t;
}

/* The agent's own share (us) of its last request, which must have been command. */
static double agent_own_us(struct qga_client *c, const char *command)
{
	struct agent_timing_reply t;
	struct diag d = {{0}};
	json_t *v = NULL;

	if (qga_client_call(c, AGENT_TIMING_COMMAND, NULL, time_now_ms() + CALL_MS, &v, &d) < 0)
		die(AGENT_TIMING_COMMAND, &d);
	if (agent_timing_parse(v, &t, &d) < 0)
		die(AGENT_TIMING_COMMAND, &d);
	json_decref(v);
	if (!t.has_last || strcmp(t.last.command, command) != 0) {
		fprintf(stderr, "agent-rtt-run: the agent timed %s, not %s\n",
			t.has_last ? t.last.command : "nothing", command);
		exit(1);
	}
	return (double)(t.last.before_ns + t.last.after_ns) / 1e3;
}

/* Host time (us) to parse a /proc/net/bonding text as vfmigrate's qemu-ga backend does. */
static double parse_bonding_us(const char *text, const char *bond)
{
	struct bond_status b;
	struct diag d = {{0}};
	double t0 = (double)time_now_ns();

	if (agent_qga_parse_bonding(text, bond, &b, &d) < 0)
		die("parsing /proc/net/bonding", &d);
	return ((double)time_now_ns() - t0) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double s[MAX_N];

	memcpy(s, v, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double vmin(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double vmax(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

/* The second table: each agent's own share per operation, then the ratio line. */
static void print_own_shares(int n)
{
	double ratios[_OP_MAX], ping = median(ping_qga, n);

	printf("\nown share per op (us, medians)  vfmigrate-agent  guest-exec: start    parse      "
	       "sum   ratio\n");
	for (int o = 0; o < _OP_MAX; o++) {
		double own = median(own_agent[o], n), start = median(noop_exec[o], n) - ping;
		double parse = median(parse_exec[o], n);

		ratios[o] = (start + parse) / own;
		printf("%-31s %16.1f %18.1f %8.1f %8.1f %7.1f\n", op_names[o], own, start, parse,
		       start + parse, ratios[o]);
	}
	printf("agent: from the request to its first call into the kernel plus from its last to "
	       "the reply;\n"
	       "guest-exec start: a no-op exec of the same program (cat /dev/null, sh -c :, "
	       "ip -V)\n"
	       "  to its exit status, less a guest-ping round trip to qemu-ga (%.1f us);\n"
	       "parse: /proc/net/bonding into a bond status on the host (status only)\n",
	       ping);
	printf("agent overhead ratio guest-exec/agent: %.1f\n", median(ratios, _OP_MAX));
}

/* Interface name of the bond's slave with this MAC. */
static void slave_name(json_t *status, const char *mac, char *buf, size_t n)
{
	json_t *s;
	size_t i;

	json_array_foreach (json_object_get(status, "slaves"), i, s) {
		if (strcmp(json_string_value(json_object_get(s, "mac")), mac) == 0) {
			snprintf(buf, n, "%s", json_string_value(json_object_get(s, "name")));
			return;
		}
	}
	fprintf(stderr, "agent-rtt-run: no slave with MAC %s in the bond\n", mac);
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"agent", required_argument, NULL, 'a'}, {"qga", required_argument, NULL, 'q'},
	    {"vf", required_argument, NULL, 'v'},    {"backup", required_argument, NULL, 'b'},
	    {"bond", required_argument, NULL, 'B'},  {NULL, 0, NULL, 0},
	};
	const char *agent_path = NULL, *qga_path = NULL, *vf = NULL, *backup = NULL;
	const char *bond = "bond0";
	struct qga_client *ag = NULL, *qg = NULL;
	char vfname[32], bkname[32], cmd[256], path_bonding[64];
	double ratios[_OP_MAX];
	struct diag d = {{0}};
	json_t *st;
	int64_t n = 10;
	int c;

	while ((c = getopt_long(argc, argv, "a:q:v:b:B:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			agent_path = optarg;
			break;
		case 'q':
			qga_path = optarg;
			break;
		case 'v':
			vf = optarg;
			break;
		case 'b':
			backup = optarg;
			break;
		case 'B':
			bond = optarg;
			break;
		case 'n':
			if (parse_int64(optarg, 1, MAX_N, &n) < 0)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (!agent_path || !qga_path || !vf || !backup) {
		fprintf(stderr,
			"usage: agent-rtt-run --agent SOCK --qga SOCK --vf MAC --backup MAC "
			"[--bond NAME] [-n N]\n");
		return 2;
	}
	if (qga_client_connect(agent_path, time_now_ms() + CALL_MS, &ag, &d) < 0)
		die("connect to vfmigrate-agent", &d);
	if (qga_client_connect(qga_path, time_now_ms() + CALL_MS, &qg, &d) < 0)
		die("connect to qemu-ga", &d);

	/* Start from the VF active, with link. */
	agent_call(ag, "guest-bond-set-active", json_pack("{s:s,s:s}", "bond", bond, "mac", vf),
		   &st);
	slave_name(st, vf, vfname, sizeof(vfname));
	slave_name(st, backup, bkname, sizeof(bkname));
	json_decref(st);
	printf("guest: %s over %s (VF %s) and %s (backup %s); %lld rounds\n", bond, vfname, vf,
	       bkname, backup, (long long)n);

	snprintf(cmd, sizeof(cmd), "echo %s > /sys/class/net/%s/bonding/active_slave", bkname,
		 bond);
	snprintf(path_bonding, sizeof(path_bonding), "/proc/net/bonding/%s", bond);
	for (int i = 0; i < n; i++) {
		const char *const cat_args[] = {path_bonding, NULL};
		const char *const sh_args[] = {"-c", cmd, NULL};
		const char *const nomaster[] = {"link", "set", vfname, "nomaster", NULL};
		const char *const master[] = {"link", "set", vfname, "master", bond, NULL};
		/* The same programs, doing nothing. */
		const char *const cat_noop[] = {"/dev/null", NULL};
		const char *const sh_noop[] = {"-c", ":", NULL};
		const char *const ip_noop[] = {"-V", NULL};
		char *out = NULL;

		samples[0][OP_STATUS][i] =
		    agent_call(ag, "guest-bond-status", json_pack("{s:s}", "bond", bond), NULL);
		own_agent[OP_STATUS][i] = agent_own_us(ag, op_commands[OP_STATUS]);
		samples[0][OP_SET_ACTIVE][i] = agent_call(
		    ag, "guest-bond-set-active",
		    json_pack("{s:s,s:s,s:b}", "bond", bond, "mac", backup, "primary", 0), NULL);
		own_agent[OP_SET_ACTIVE][i] = agent_own_us(ag, op_commands[OP_SET_ACTIVE]);
		samples[0][OP_RELEASE][i] =
		    agent_call(ag, "guest-bond-release",
			       json_pack("{s:s,s:s}", "bond", bond, "mac", vf), NULL);
		own_agent[OP_RELEASE][i] = agent_own_us(ag, op_commands[OP_RELEASE]);
		samples[0][OP_ENSLAVE][i] = agent_call(
		    ag, "guest-bond-enslave",
		    json_pack("{s:s,s:s,s:b}", "bond", bond, "mac", vf, "wait_link", 0), NULL);
		own_agent[OP_ENSLAVE][i] = agent_own_us(ag, op_commands[OP_ENSLAVE]);

		samples[1][OP_STATUS][i] = exec_call(qg, "/bin/cat", cat_args, false, &out);
		parse_exec[OP_STATUS][i] = parse_bonding_us(out, bond);
		free(out);
		samples[1][OP_SET_ACTIVE][i] = exec_call(qg, "/bin/sh", sh_args, false, NULL);
		samples[1][OP_RELEASE][i] = exec_call(qg, "/bin/ip", nomaster, false, NULL);
		samples[1][OP_ENSLAVE][i] = exec_call(qg, "/bin/ip", master, false, NULL);

		ping_qga[i] = agent_call(qg, "guest-ping", NULL, NULL) * 1e3;
		noop_exec[OP_STATUS][i] = exec_call(qg, "/bin/cat", cat_noop, true, NULL) * 1e3;
		noop_exec[OP_SET_ACTIVE][i] = exec_call(qg, "/bin/sh", sh_noop, true, NULL) * 1e3;
		noop_exec[OP_RELEASE][i] = exec_call(qg, "/bin/ip", ip_noop, true, NULL) * 1e3;
		noop_exec[OP_ENSLAVE][i] = noop_exec[OP_RELEASE][i];
		parse_exec[OP_SET_ACTIVE][i] = parse_exec[OP_RELEASE][i] =
		    parse_exec[OP_ENSLAVE][i] = 0;
	}

	printf("%-11s %28s %28s %8s\n", "op (ms)", "vfmigrate-agent med (min-max)",
	       "qemu-ga guest-exec med (min-max)", "ratio");
	for (int o = 0; o < _OP_MAX; o++) {
		double ma = median(samples[0][o], (int)n), mq = median(samples[1][o], (int)n);
		char a[64], q[64];

		snprintf(a, sizeof(a), "%.1f (%.1f-%.1f)", ma, vmin(samples[0][o], (int)n),
			 vmax(samples[0][o], (int)n));
		snprintf(q, sizeof(q), "%.1f (%.1f-%.1f)", mq, vmin(samples[1][o], (int)n),
			 vmax(samples[1][o], (int)n));
		ratios[o] = mq / ma;
		printf("%-11s %28s %28s %8.1f\n", op_names[o], a, q, ratios[o]);
	}
	printf(
	    "agent: enslave without the link wait (wait_link=false), like `ip link set master`;\n"
	    "guest-exec: /bin/cat, /bin/sh -c 'echo > .../active_slave', /bin/ip (busybox)\n");

	/* Leave the bond as it was: VF enslaved, with link, active and primary. */
	agent_call(
	    ag, "guest-bond-enslave",
	    json_pack("{s:s,s:s,s:i,s:b}", "bond", bond, "mac", vf, "timeout", 15000, "active", 1),
	    NULL);
	qga_client_free(ag);
	qga_client_free(qg);
	printf("speedup vs guest-exec: %.1f\n", median(ratios, _OP_MAX));
	print_own_shares((int)n);
	return 0;
}
