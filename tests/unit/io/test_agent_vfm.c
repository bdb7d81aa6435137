// SPDX-License-Identifier: MIT
/*
 * agent_vfm over a connect callback (how the libvirt channel is used): the callback is called
 * at the first call with that call's deadline, and again only after the connection died; its
 * failure reaches the caller with the transport named; replies and error classes map as over
 * a socket path. The agent is a scripted fake on a socketpair, in a child process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "io/agent_vfm.h"

/* One scripted exchange: the command the fake expects and the reply line it sends;
 * args_has (may be NULL): text its arguments must contain (compact JSON, keys sorted). */
struct step {
	const char *command;
	const char *reply;
	const char *args_has;
};

static int64_t in_ms(int64_t ms)
{
	return time_now_ms() + ms;
}

/* Whether the request's arguments, dumped compact and sorted, contain want. */
static bool args_contain(json_t *req, const char *want)
{
	char *s = json_dumps(json_object_get(req, "arguments"), JSON_COMPACT | JSON_SORT_KEYS);
	bool ok = s && strstr(s, want);

	free(s);
	return ok;
}

/* Reads one request (after an optional 0xFF); NULL at EOF. Caller decrefs. */
static json_t *read_request(int fd)
{
	char buf[4096];
	size_t n = 0;

	while (n < sizeof(buf) - 1) {
		ssize_t k = read(fd, buf + n, 1);

		if (k <= 0)
			return NULL;
		if (n == 0 && (unsigned char)buf[0] == 0xff)
			continue;
		if (buf[n++] == '\n')
			break;
	}
	return json_loadb(buf, n, 0, NULL);
}

static void writes(int fd, const char *s)
{
	(void)!write(fd, s, strlen(s));
}

/*
 * The fake agent: answers every guest-sync-delimited, and the script's commands in order
 * (exit 3 on an unexpected one). At the end of the script it hangs up (hangup) or waits for
 * the client to close.
 */
static void fake_agent(int fd, const struct step *script, bool hangup)
{
	size_t i = 0;

	for (;;) {
		json_t *req;
		const char *cmd;

		if (!script[i].command && hangup)
			break;
		req = read_request(fd);
		if (!req)
			break;
		cmd = json_string_value(json_object_get(req, "execute"));
		if (cmd && !strcmp(cmd, "guest-sync-delimited")) {
			char out[128];
			json_t *id = json_object_get(json_object_get(req, "arguments"), "id");

			snprintf(out, sizeof(out), "\xff{\"return\":%lld}\n",
				 (long long)json_integer_value(id));
			writes(fd, out);
		} else if (script[i].command && cmd && !strcmp(cmd, script[i].command)) {
			if (script[i].args_has && !args_contain(req, script[i].args_has))
				_exit(5);
			writes(fd, script[i].reply);
			i++;
		} else {
			_exit(3);
		}
		json_decref(req);
	}
	_exit(script[i].command ? 4 : 0);
}

/* What the connect callback hands out, one entry per connection. */
struct conn_plan {
	const struct step *script; /* NULL: the callback fails */
	bool hangup;
};

struct fx {
	const struct conn_plan *plans;
	size_t n_plans;
	size_t calls;
	int64_t last_deadline;
	pid_t pids[8];
	size_t n_pids;
};

static int fake_connect(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct fx *f = ud;
	const struct conn_plan *p;
	int sv[2];
	pid_t pid;

	f->last_deadline = deadline_ms;
	assert_true(f->calls < f->n_plans);
	p = &f->plans[f->calls++];
	if (!p->script) {
		diag_set(d,
			 "open channel: Requested operation is not valid: domain is not running");
		return -EINVAL;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		fake_agent(sv[1], p->script, p->hangup);
	}
	close(sv[1]);
	assert_true(f->n_pids < ARRAY_SIZE(f->pids)); /* else raise the array */
	f->pids[f->n_pids++] = pid;
	return sv[0];
}

/* Every fake agent followed its script to the end. */
static void reap_all(struct fx *f)
{
	for (size_t i = 0; i < f->n_pids; i++) {
		int status;

		assert_int_equal(waitpid(f->pids[i], &status, 0), f->pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

static const struct step ping_then_bond[] = {
    {"guest-ping", "{\"return\":{}}\n", NULL},
    {"guest-bond-status",
     "{\"return\":{\"name\":\"bond0\",\"mode\":\"active-backup\",\"active\":\"52:54:00:00:00:02\","
     "\"slaves\":[{\"mac\":\"52:54:00:00:00:01\",\"name\":\"eth0\",\"link\":\"up\"},"
     "{\"mac\":\"52:54:00:00:00:02\",\"name\":\"eth1\",\"pci\":\"0000:01:00.0\","
     "\"link\":\"up\"}]}}\n",
     NULL},
    {"guest-bond-status",
     "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"no bond named bond9\"}}\n", NULL},
    {NULL, NULL, NULL},
};

static const struct step one_ping[] = {
    {"guest-ping", "{\"return\":{}}\n", NULL},
    {NULL, NULL, NULL},
};

/* Connected once, at the first call, with its deadline; kept across calls; errors map. */
static void test_connect_once(void **state)
{
	const struct conn_plan plans[] = {{ping_then_bond, false}};
	struct fx f = {.plans = plans, .n_plans = 1};
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct bond_status b;
	struct diag d = {{0}};
	int64_t dl = time_now_ms() + 3000;

	(void)state;
	assert_int_equal(agent_vfm_new_connect("channel test", fake_connect, &f, &a, &d), 0);
	assert_int_equal(f.calls, 0); /* lazily */
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.ping(ops.userdata, dl, &d), 0);
	assert_int_equal(f.calls, 1);
	assert_true(f.last_deadline == dl);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", time_now_ms() + 3000, &b, &d), 0);
	assert_string_equal(b.name, "bond0");
	assert_int_equal(b.n_slaves, 2);
	assert_true(b.has_active);
	assert_int_equal(b.active_mac[5], 2);
	assert_string_equal(b.slaves[1].pci, "0000:01:00.0");
	assert_int_equal(ops.bond_status(ops.userdata, "bond9", time_now_ms() + 3000, &b, &d),
			 -ENOENT);
	assert_non_null(strstr(d.msg, "no bond named bond9"));
	assert_int_equal(f.calls, 1);
	agent_vfm_free(a); /* closes the connection: the fake sees EOF */
	reap_all(&f);
}

/* A connection that died is opened again by the next call, through the callback. */
static void test_reconnect_after_hangup(void **state)
{
	const struct conn_plan plans[] = {{one_ping, true}, {one_ping, false}};
	struct fx f = {.plans = plans, .n_plans = 2};
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct diag d = {{0}};
	int r;

	(void)state;
	assert_int_equal(agent_vfm_new_connect("channel test", fake_connect, &f, &a, &d), 0);
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.ping(ops.userdata, time_now_ms() + 3000, &d), 0);
	/* The peer hung up after its script: this call finds the channel dead. */
	r = ops.ping(ops.userdata, time_now_ms() + 3000, &d);
	assert_true(r == -ECONNRESET || r == -EPIPE);
	assert_int_equal(f.calls, 1);
	assert_int_equal(ops.ping(ops.userdata, time_now_ms() + 3000, &d), 0);
	assert_int_equal(f.calls, 2);
	agent_vfm_free(a);
	reap_all(&f);
}

/* The callback's failure reaches the caller with the transport named; the next call tries
 * again. */
static void test_connect_failure(void **state)
{
	const struct conn_plan plans[] = {{NULL, false}, {one_ping, false}};
	struct fx f = {.plans = plans, .n_plans = 2};
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(agent_vfm_new_connect("channel org.vfmigrate.agent.0 through libvirt",
					       fake_connect, &f, &a, &d),
			 0);
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.ping(ops.userdata, time_now_ms() + 3000, &d), -EINVAL);
	assert_string_equal(d.msg,
			    "channel org.vfmigrate.agent.0 through libvirt: open "
			    "channel: Requested operation is not valid: domain is not running");
	assert_int_equal(ops.ping(ops.userdata, time_now_ms() + 3000, &d), 0);
	assert_int_equal(f.calls, 2);
	agent_vfm_free(a);
	reap_all(&f);
}

/* A connection whose peer never answers the sync: the call times out at its deadline, and the
 * next one connects afresh. */
static void silent(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static int silent_then_ok_connect(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct fx *f = ud;
	int sv[2];
	pid_t pid;

	if (f->calls > 0)
		return fake_connect(ud, deadline_ms, d);
	f->calls++;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		silent(sv[1]);
	}
	close(sv[1]);
	assert_true(f->n_pids < ARRAY_SIZE(f->pids)); /* else raise the array */
	f->pids[f->n_pids++] = pid;
	return sv[0];
}

static void test_sync_timeout_reconnects(void **state)
{
	const struct conn_plan plans[] = {{NULL, false}, {one_ping, false}};
	struct fx f = {.plans = plans, .n_plans = 2};
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct diag d = {{0}};
	int64_t t0 = time_now_ms();

	(void)state;
	assert_int_equal(agent_vfm_new_connect(NULL, silent_then_ok_connect, &f, &a, &d), 0);
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.ping(ops.userdata, time_now_ms() + 300, &d), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 < 2000);
	assert_true(strncmp(d.msg, "connection: ", 12) == 0);
	assert_int_equal(ops.ping(ops.userdata, time_now_ms() + 3000, &d), 0);
	assert_int_equal(f.calls, 2);
	agent_vfm_free(a);
	reap_all(&f);
}

#define BOND_REPLY(extra)                                                               \
	"{\"return\":{\"name\":\"bond0\",\"mode\":\"active-backup\"," extra             \
	"\"active\":null,\"slaves\":[{\"mac\":\"52:54:00:00:00:01\",\"name\":\"eth0\"," \
	"\"link\":\"up\"}]}}\n"

static const struct step bond_fom_script[] = {
    {"guest-bond-status", BOND_REPLY("\"fail_over_mac\":\"active\",\"mac\":\"52:54:00:00:00:01\","),
     NULL},
    {"guest-bond-status", BOND_REPLY("\"fail_over_mac\":\"follow\",\"mac\":null,"), NULL},
    /* An agent older than both keys. */
    {"guest-bond-status", BOND_REPLY(""), NULL},
    /* One that could not read it. */
    {"guest-bond-status", BOND_REPLY("\"fail_over_mac\":\"unknown\","), NULL},
    /* Strict when present. */
    {"guest-bond-status", BOND_REPLY("\"fail_over_mac\":\"swap\","), NULL},
    {"guest-bond-status", BOND_REPLY("\"fail_over_mac\":2,"), NULL},
    {"guest-bond-status", BOND_REPLY("\"fail_over_mac\":\"none\",\"mac\":\"52:54:00\","), NULL},
    {"guest-bond-status", BOND_REPLY("\"fail_over_mac\":\"none\",\"mac\":7,"), NULL},
    /* The host always says which fail_over_mac to build. */
    {"guest-bond-create", "{\"return\":{}}\n", "\"fail_over_mac\":\"active\""},
    {"guest-bond-create", "{\"return\":{}}\n", "\"fail_over_mac\":\"none\""},
    {NULL, NULL, NULL},
};

/* guest-bond-status: the bond's fail_over_mac and own MAC, optional but strict. */
static void test_bond_fail_over_mac(void **state)
{
	const struct conn_plan plans[] = {{bond_fom_script, false}};
	const uint8_t bk[6] = {0x52, 0x54, 0, 0, 0, 1}, vf[6] = {0x52, 0x54, 0, 0, 0, 2};
	struct fx f = {.plans = plans, .n_plans = 1};
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct bond_status b;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(agent_vfm_new_connect("channel test", fake_connect, &f, &a, &d), 0);
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d), 0);
	assert_int_equal(b.fail_over_mac, BOND_FOM_ACTIVE);
	assert_true(b.has_mac);
	assert_memory_equal(b.mac, bk, 6);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d), 0);
	assert_int_equal(b.fail_over_mac, BOND_FOM_FOLLOW);
	assert_false(b.has_mac);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d), 0);
	assert_int_equal(b.fail_over_mac, BOND_FOM_UNKNOWN);
	assert_false(b.has_mac);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d), 0);
	assert_int_equal(b.fail_over_mac, BOND_FOM_UNKNOWN);
	for (int i = 0; i < 4; i++) {
		d.msg[0] = '\0';
		assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d),
				 -EPROTO);
		assert_non_null(strstr(d.msg, "malformed"));
	}
	assert_int_equal(
	    ops.bond_create(ops.userdata, "bond0", bk, vf, BOND_FOM_ACTIVE, in_ms(3000), &d), 0);
	assert_int_equal(
	    ops.bond_create(ops.userdata, "bond0", bk, vf, BOND_FOM_NONE, in_ms(3000), &d), 0);
	/* Not "unknown": refused before anything is sent. */
	assert_int_equal(
	    ops.bond_create(ops.userdata, "bond0", bk, vf, BOND_FOM_UNKNOWN, in_ms(3000), &d),
	    -EINVAL);
	agent_vfm_free(a);
	reap_all(&f);
}

#define SLAVES_REPLY(s0, s1)                                                                     \
	"{\"return\":{\"name\":\"bond0\",\"mode\":\"active-backup\",\"fail_over_mac\":\"none\"," \
	"\"mac\":\"52:54:00:00:00:01\",\"active\":\"52:54:00:00:00:01\",\"slaves\":[{"           \
	"\"mac\":\"52:54:00:00:00:01\",\"name\":\"eth0\",\"link\":\"up\"," s0 "},{"              \
	"\"mac\":\"52:54:00:00:00:01\",\"name\":\"eth1\",\"link\":\"up\"," s1 "}]}}\n"
#define VIRTIO_SLAVE "\"kind\":\"virtio\",\"pci\":\"0000:00:03.0\",\"active\":false"
#define VF_SLAVE     "\"kind\":\"vf\",\"pci\":\"0000:01:00.0\",\"active\":true"

/* Each is a reply a hostile or broken guest could send: every one is refused whole. */
static const char *const hostile_slaves[] = {
    "\"kind\":\"vf\",\"pci\":\"0000:01:00.0; reboot\"",
    "\"kind\":\"vf\",\"pci\":\"../../../0:01:00.0\"",
    "\"kind\":\"vf\",\"pci\":\"\\u001b[2J0:01:00.0\"",
    "\"kind\":\"vf\",\"pci\":\"0000:01:00.0000000000000000000000000000000000000000000000\"",
    "\"kind\":\"vf\",\"pci\":\"0000:01:20.0\"",
    "\"kind\":\"vf\",\"pci\":5",
    "\"kind\":\"vf\",\"pci\":[\"0000:01:00.0\"]",
    "\"kind\":\"VF\"",
    "\"kind\":\"any\"",
    "\"kind\":\"\"",
    "\"kind\":1",
    "\"kind\":null",
    "\"kind\":\"vf\",\"active\":\"yes\"",
};

static const struct step selector_script[] = {
    {"guest-bond-status", SLAVES_REPLY(VIRTIO_SLAVE, VF_SLAVE), NULL},
    /* An agent that reports no kind: "any", and the slave's active flag from the MAC. */
    {"guest-bond-status", SLAVES_REPLY("\"pci\":null", "\"pci\":\"0000:01:00.0\""), NULL},
#define H(i)                                                                \
	{                                                                   \
		"guest-bond-status", SLAVES_REPLY(VIRTIO_SLAVE, "%s"), NULL \
	}
    /* (filled from hostile_slaves at run time) */
    H(0),
    H(1),
    H(2),
    H(3),
    H(4),
    H(5),
    H(6),
    H(7),
    H(8),
    H(9),
    H(10),
    H(11),
    H(12),
#undef H
    /* Distinct MACs: the MAC alone, as every agent knows it. */
    {"guest-bond-set-active", "{\"return\":{}}\n",
     "{\"bond\":\"bond0\",\"mac\":\"52:54:00:00:00:02\",\"primary\":true}"},
    {"guest-bond-release", "{\"return\":{}}\n",
     "{\"bond\":\"bond0\",\"kind\":\"vf\",\"mac\":\"52:54:00:00:00:01\"}"},
    {"guest-bond-set-active", "{\"return\":{}}\n",
     "\"kind\":\"virtio\",\"mac\":\"52:54:00:00:00:01\",\"pci\":\"0000:00:03.0\""},
    /* An agent older than selectors. */
    {"guest-bond-enslave",
     "{\"error\":{\"class\":\"InvalidParameter\",\"desc\":\"unknown parameter 'kind'\"}}\n",
     "\"kind\":\"vf\""},
    {"guest-link-wait",
     "{\"error\":{\"class\":\"InvalidParameter\",\"desc\":\"unknown parameter 'pci'\"}}\n",
     "\"pci\":\"0000:01:00.0\""},
    /* Its other parameter errors stay what they are. */
    {"guest-bond-release",
     "{\"error\":{\"class\":\"InvalidParameter\",\"desc\":\"unknown parameter 'bond'\"}}\n", NULL},
    {NULL, NULL, NULL},
};

/*
 * NIC selectors: the kind and PCI address of each slave parsed strictly (a hostile reply is
 * refused whole, never sanitized into shape); a selector's kind and PCI address sent only
 * when set; an agent older than selectors refusing them is named as such.
 */
static void test_nic_selectors(void **state)
{
	struct step script[ARRAY_SIZE(selector_script)];
	static char replies[ARRAY_SIZE(hostile_slaves)][1024];
	const struct conn_plan plans[] = {{script, false}};
	struct fx f = {.plans = plans, .n_plans = 1};
	struct nic_sel sel = {.mac = {0x52, 0x54, 0, 0, 0, 2}};
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct bond_status b;
	struct diag d = {{0}};

	(void)state;
	memcpy(script, selector_script, sizeof(script));
	for (size_t i = 0; i < ARRAY_SIZE(hostile_slaves); i++) {
		snprintf(replies[i], sizeof(replies[i]), script[2 + i].reply, hostile_slaves[i]);
		script[2 + i].reply = replies[i];
	}
	assert_int_equal(agent_vfm_new_connect("channel test", fake_connect, &f, &a, &d), 0);
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d), 0);
	assert_int_equal(b.n_slaves, 2);
	assert_int_equal(b.slaves[0].kind, NIC_KIND_VIRTIO);
	assert_string_equal(b.slaves[0].pci, "0000:00:03.0");
	assert_false(b.slaves[0].active);
	assert_int_equal(b.slaves[1].kind, NIC_KIND_VF);
	assert_string_equal(b.slaves[1].pci, "0000:01:00.0");
	assert_true(b.slaves[1].active);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d), 0);
	assert_int_equal(b.slaves[0].kind, NIC_KIND_ANY);
	assert_int_equal(b.slaves[1].kind, NIC_KIND_ANY);
	assert_string_equal(b.slaves[0].pci, "");
	/* One MAC for both, reported active: an older agent's reply cannot say which. */
	assert_true(b.slaves[0].active && b.slaves[1].active);
	for (size_t i = 0; i < ARRAY_SIZE(hostile_slaves); i++) {
		d.msg[0] = '\0';
		if (ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d) != -EPROTO)
			fail_msg("accepted %s", hostile_slaves[i]);
		assert_non_null(strstr(d.msg, "malformed"));
	}

	assert_int_equal(ops.set_active(ops.userdata, "bond0", &sel, true, in_ms(3000), &d), 0);
	sel.mac[5] = 1;
	sel.kind = NIC_KIND_VF;
	assert_int_equal(ops.release(ops.userdata, "bond0", &sel, in_ms(3000), &d), 0);
	sel.kind = NIC_KIND_VIRTIO;
	snprintf(sel.pci, sizeof(sel.pci), "0000:00:03.0");
	assert_int_equal(ops.set_active(ops.userdata, "bond0", &sel, true, in_ms(3000), &d), 0);

	sel.kind = NIC_KIND_VF;
	sel.pci[0] = '\0';
	assert_int_equal(ops.enslave(ops.userdata, "bond0", &sel, 1000, true, in_ms(3000), &d),
			 -EOPNOTSUPP);
	assert_non_null(strstr(d.msg, "refused to name a NIC by kind"));
	assert_non_null(strstr(d.msg, "update vfmigrate-agent in the guest"));
	sel.kind = NIC_KIND_ANY;
	snprintf(sel.pci, sizeof(sel.pci), "0000:01:00.0");
	assert_int_equal(ops.link_wait(ops.userdata, &sel, 1000, in_ms(3000), &d), -EOPNOTSUPP);
	assert_non_null(strstr(d.msg, "refused to name a NIC by PCI address"));
	sel.pci[0] = '\0';
	assert_int_equal(ops.release(ops.userdata, "bond0", &sel, in_ms(3000), &d), -EREMOTEIO);
	assert_non_null(strstr(d.msg, "unknown parameter 'bond'"));

	/* The host's own selector is checked before anything is sent. */
	snprintf(sel.pci, sizeof(sel.pci), "0000:01:00.0 ");
	assert_int_equal(ops.release(ops.userdata, "bond0", &sel, in_ms(3000), &d), -EINVAL);
	sel.pci[0] = '\0';
	sel.kind = _NIC_KIND_MAX;
	assert_int_equal(ops.release(ops.userdata, "bond0", &sel, in_ms(3000), &d), -EINVAL);
	agent_vfm_free(a);
	reap_all(&f);
}

static void test_no_callback(void **state)
{
	struct agent_vfm *a = NULL;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(agent_vfm_new_connect("x", NULL, NULL, &a, &d), -EINVAL);
	assert_null(a);
	/* The socket-path constructor is unchanged. */
	assert_int_equal(agent_vfm_new("", &a, &d), -EINVAL);
	assert_int_equal(agent_vfm_new("/run/vfm/g0.agent", &a, &d), 0);
	agent_vfm_free(a);
	assert_null(agent_vfm_free(NULL));
}

/*
 * A socket that is not there: the message names the path once and leaves "guest agent" and the
 * side to the caller (the plan); the agent counts as used only once a call tried it.
 */
static void test_socket_connect_failure(void **state)
{
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(agent_vfm_new("/nonexistent/vfm-agent.sock", &a, &d), 0);
	assert_false(agent_vfm_used(a));
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.ping(ops.userdata, time_now_ms() + 1000, &d), -ENOENT);
	assert_string_equal(d.msg,
			    "connect to /nonexistent/vfm-agent.sock: No such file or directory");
	assert_true(agent_vfm_used(a));
	agent_vfm_free(a);
	assert_false(agent_vfm_used(NULL));
}

/* guest-failover-status's reply, strictly: an unknown "active" word, a primary that is not an
 * object, or a master that is no interface name (too long, a control character, a '/', a
 * space, empty) is -EPROTO. */
static void test_parse_failover(void **state)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"active\":\"primary\"}",
	    "{\"master\":\"eth0\",\"active\":\"both\"}",
	    "{\"master\":\"eth0\",\"active\":\"primary\",\"primary\":\"eth2\"}",
	    "{\"master\":\"eth0\",\"active\":\"standby\",\"standby\":{\"carrier\":1}}",
	    "{\"master\":\"a-name-far-too-long\",\"active\":\"none\"}",
	    "{\"master\":\"eth0\\u001b\",\"active\":\"none\"}",
	    "{\"master\":\"../eth0\",\"active\":\"none\"}",
	    "{\"master\":\"\",\"active\":\"none\"}",
	    "{\"master\":\"eth 0\",\"active\":\"none\"}",
	};
	struct failover_status st;
	struct diag d = {{0}};
	json_t *j;

	(void)state;
	j = json_loads("{\"master\":\"eth0\",\"mac\":\"52:54:00:77:00:10\",\"active\":"
		       "\"primary\",\"standby\":{\"name\":\"eth1\",\"carrier\":true},\"primary\":"
		       "{\"name\":\"eth2\",\"carrier\":true},\"waited_ms\":3}",
		       0, NULL);
	assert_int_equal(agent_vfm_parse_failover(j, &st, &d), 0);
	json_decref(j);
	assert_string_equal(st.master, "eth0");
	assert_true(st.has_standby && st.standby_link && st.has_primary && st.primary_active);
	/* "primary" active without a primary is not believed. */
	j = json_loads("{\"master\":\"eth0\",\"active\":\"primary\",\"primary\":null}", 0, NULL);
	assert_int_equal(agent_vfm_parse_failover(j, &st, &d), 0);
	json_decref(j);
	assert_false(st.primary_active);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(agent_vfm_parse_failover(j, &st, &d), -EPROTO);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_once),
	    cmocka_unit_test(test_reconnect_after_hangup),
	    cmocka_unit_test(test_socket_connect_failure),
	    cmocka_unit_test(test_connect_failure),
	    cmocka_unit_test(test_sync_timeout_reconnects),
	    cmocka_unit_test(test_no_callback),
	    cmocka_unit_test(test_bond_fail_over_mac),
	    cmocka_unit_test(test_nic_selectors),
	    cmocka_unit_test(test_parse_failover),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
