// SPDX-License-Identifier: MIT
/*
 * agent-rtt-run: round-trip times of the bond operations through vfmigrate-agent, beside the
 * equivalent command run through the stock qemu-ga's guest-exec (+ guest-exec-status polling),
 * in the same guest and the same run, each over one persistent connection.
 *
 *   agent-rtt-run --agent SOCK --qga SOCK --vf MAC --backup MAC [--bond NAME] [-n N]
 *
 * Prints a table of medians (min-max) per operation and, last, "speedup vs guest-exec: N.N":
 * the median over the operations of (guest-exec median / agent median).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "io/qga_client.h"

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

static double samples[2][_OP_MAX][MAX_N];

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

static double exec_call(struct qga_client *c, const char *path, const char *const *argv)
{
	struct diag d = {{0}};
	double t0 = now_ms(), t;
	char *out = NULL;
	int status = -1;

	if (qga_client_exec(c, path, argv, time_now_ms() + CALL_MS, &status, &out, &d) < 0)
		die(path, &d);
	t = now_ms() - t0;
	if (status != 0) {
		fprintf(stderr, "agent-rtt-run: guest-exec %s %s... exited %d\n", path,
			argv[0] ? argv[0] : "", status);
		exit(1);
	}
	free(out);
	return t;
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
	char vfname[32], bkname[32], cmd[256];
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
	for (int i = 0; i < n; i++) {
		const char *const cat_args[] = {"/proc/net/bonding/bond0", NULL};
		const char *const sh_args[] = {"-c", cmd, NULL};
		const char *const nomaster[] = {"link", "set", vfname, "nomaster", NULL};
		const char *const master[] = {"link", "set", vfname, "master", bond, NULL};

		samples[0][OP_STATUS][i] =
		    agent_call(ag, "guest-bond-status", json_pack("{s:s}", "bond", bond), NULL);
		samples[0][OP_SET_ACTIVE][i] = agent_call(
		    ag, "guest-bond-set-active",
		    json_pack("{s:s,s:s,s:b}", "bond", bond, "mac", backup, "primary", 0), NULL);
		samples[0][OP_RELEASE][i] =
		    agent_call(ag, "guest-bond-release",
			       json_pack("{s:s,s:s}", "bond", bond, "mac", vf), NULL);
		samples[0][OP_ENSLAVE][i] = agent_call(
		    ag, "guest-bond-enslave",
		    json_pack("{s:s,s:s,s:b}", "bond", bond, "mac", vf, "wait_link", 0), NULL);

		samples[1][OP_STATUS][i] = exec_call(qg, "/bin/cat", cat_args);
		samples[1][OP_SET_ACTIVE][i] = exec_call(qg, "/bin/sh", sh_args);
		samples[1][OP_RELEASE][i] = exec_call(qg, "/bin/ip", nomaster);
		samples[1][OP_ENSLAVE][i] = exec_call(qg, "/bin/ip", master);
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
	return 0;
}
