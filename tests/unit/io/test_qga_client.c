// SPDX-License-Identifier: MIT
/*
 * The host-side client against the real vfmigrate-agent (run in --listen mode on a temporary
 * unix socket, argv[1]) and against scripted fake peers on a socketpair: sync past stale data,
 * error replies, timeouts, hangups, oversized replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "io/agent_qga.h"
#include "io/agent_vfm.h"
#include "io/qga_client.h"

static const char *agent_bin;
static char sock_path[108];
static pid_t agent_pid;

static int start_agent(void **state)
{
	char dir[] = "/tmp/vfm-agent-test.XXXXXX";
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", dir);
	agent_pid = fork();
	assert_true(agent_pid >= 0);
	if (agent_pid == 0) {
		execl(agent_bin, agent_bin, "--listen", sock_path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && stat(sock_path, &st) < 0; i++)
		poll(NULL, 0, 10);
	return 0;
}

static int stop_agent(void **state)
{
	int status;
	char dir[108];

	(void)state;
	kill(agent_pid, SIGTERM);
	waitpid(agent_pid, &status, 0);
	/* It exits cleanly on SIGTERM: it was alive all along. */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(sock_path);
	snprintf(dir, sizeof(dir), "%s", sock_path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	return 0;
}

static int64_t in_ms(int ms)
{
	return time_now_ms() + ms;
}

static void raw_send(const char *data, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, sock_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_real_agent(void **state)
{
	struct qga_client *c = NULL;
	struct diag d = {{0}};
	json_t *ret = NULL, *args;

	(void)state;
	assert_int_equal(qga_client_connect(sock_path, in_ms(3000), &c, &d), 0);
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(3000), &ret, &d), 0);
	assert_true(json_is_object(ret));
	json_decref(ret);
	assert_int_equal(qga_client_call(c, "guest-info", NULL, in_ms(3000), &ret, &d), 0);
	assert_string_equal(json_string_value(json_object_get(ret, "version")), VFM_VERSION);
	json_decref(ret);

	/* Errors come back with their class; the agent keeps serving. */
	assert_int_equal(qga_client_call(c, "guest-nope", NULL, in_ms(3000), &ret, &d), -EREMOTEIO);
	assert_string_equal(qga_client_last_error_class(c), "CommandNotFound");
	assert_non_null(strstr(d.msg, "guest-nope"));
	args = json_pack("{s:i}", "mac", 5);
	assert_int_equal(qga_client_call(c, "guest-bond-release", args, in_ms(3000), &ret, &d),
			 -EREMOTEIO);
	json_decref(args);
	assert_string_equal(qga_client_last_error_class(c), "InvalidParameter");
	args = json_pack("{s:s,s:i}", "mac", "02:00:5e:00:53:fe", "timeout", 0);
	assert_int_equal(qga_client_call(c, "guest-link-wait", args, in_ms(3000), &ret, &d),
			 -EREMOTEIO);
	json_decref(args);
	assert_string_equal(qga_client_last_error_class(c), "Timeout");
	assert_int_equal(qga_client_call(c, "guest-link-list", NULL, in_ms(3000), &ret, &d), 0);
	assert_true(json_is_array(ret));
	json_decref(ret);
	qga_client_free(c);

	/* A client that left garbage, a partial request and an oversized one behind. */
	raw_send("garbage\n{\"execute\":\"guest-ping\"", 32);
	{
		size_t n = QGA_REQUEST_MAX + 1000;
		char *big = malloc(n);

		memset(big, '[', n);
		raw_send(big, n);
		free(big);
	}
	/* Reconnect: still serving. */
	assert_int_equal(qga_client_connect(sock_path, in_ms(3000), &c, &d), 0);
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(3000), NULL, &d), 0);
	qga_client_free(c);
}

/* A fake peer on a socketpair: runs fn(fd) in a child. */
static pid_t fake_peer(int *ret_fd, void (*fn)(int fd))
{
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		fn(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	*ret_fd = sv[0];
	return pid;
}

/* Reads one request line (after an optional 0xFF) and returns its "id" argument. */
static long long read_sync_id(int fd)
{
	char buf[512];
	size_t n = 0;
	char *p;

	while (n < sizeof(buf) - 1) {
		if (read(fd, buf + n, 1) != 1)
			_exit(1);
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	p = strstr(buf, "\"id\":");
	return p ? atoll(p + 5) : -1;
}

static void writes(int fd, const char *s)
{
	(void)!write(fd, s, strlen(s));
}

static void peer_stale_then_sync(int fd)
{
	char out[256];
	long long id = read_sync_id(fd);
	int n;

	/* Stale replies and a partial one, then the sentinel and the sync reply. */
	n = snprintf(out, sizeof(out),
		     "{\"return\":{}}\n{\"return\":5}\n{\"return\":{\"x\"\xff{\"return\":%lld}\n",
		     id);
	(void)!write(fd, out, (size_t)n);
	read_sync_id(fd); /* guest-ping */
	writes(fd, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"x\\u0007y\"}}\n");
	read_sync_id(fd);
	/* A reply with the wrong shape. */
	writes(fd, "{\"retur\":1}\n");
	/* The client resyncs after that. */
	id = read_sync_id(fd);
	n = snprintf(out, sizeof(out), "\xff{\"return\":%lld}\n", id);
	(void)!write(fd, out, (size_t)n);
	read_sync_id(fd);
	writes(fd, "{\"return\":[1,2]}\n");
	read_sync_id(fd);
	/* Hang up. */
}

static void test_fake_peer_sync_and_errors(void **state)
{
	struct qga_client *c = NULL;
	struct diag d = {{0}};
	json_t *ret = NULL;
	int fd, status;
	pid_t pid;

	(void)state;
	pid = fake_peer(&fd, peer_stale_then_sync);
	assert_int_equal(qga_client_start(fd, in_ms(3000), &c, &d), 0);
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(3000), &ret, &d), -EREMOTEIO);
	assert_string_equal(qga_client_last_error_class(c), "GenericError");
	assert_null(strchr(d.msg, '\a'));
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(3000), &ret, &d), -EBADMSG);
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(3000), &ret, &d), 0);
	assert_int_equal(json_array_size(ret), 2);
	json_decref(ret);
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(3000), &ret, &d),
			 -ECONNRESET);
	qga_client_free(c);
	waitpid(pid, &status, 0);
}

static void peer_silent(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void test_timeout(void **state)
{
	struct qga_client *c = NULL;
	struct diag d = {{0}};
	int64_t t0 = time_now_ms();
	int fd, status;
	pid_t pid;

	(void)state;
	pid = fake_peer(&fd, peer_silent);
	assert_int_equal(qga_client_start(fd, in_ms(200), &c, &d), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 190);
	assert_true(time_now_ms() - t0 < 2000);
	assert_null(c);
	waitpid(pid, &status, 0);
}

/* Loses the first sync (as when it reached the agent while it reopened its port), then answers
 * the first resent one late (after a stale reply to the lost id) and a ping. */
static void peer_lose_first_sync(int fd)
{
	char out[256];
	long long lost = read_sync_id(fd), id;
	int n;

	id = read_sync_id(fd);
	assert_true(id != lost);
	n = snprintf(out, sizeof(out), "\xff{\"return\":%lld}\n\xff{\"return\":%lld}\n", lost, id);
	(void)!write(fd, out, (size_t)n);
	read_sync_id(fd);
	writes(fd, "{\"return\":{}}\n");
	read_sync_id(fd);
}

static void test_sync_resend(void **state)
{
	struct qga_client *c = NULL;
	struct diag d = {{0}};
	int64_t t0 = time_now_ms();
	json_t *ret = NULL;
	int fd, status;
	pid_t pid;

	(void)state;
	pid = fake_peer(&fd, peer_lose_first_sync);
	assert_int_equal(qga_client_start(fd, in_ms(5000), &c, &d), 0);
	/* One resend interval, not the whole deadline. */
	assert_true(time_now_ms() - t0 >= 900);
	assert_true(time_now_ms() - t0 < 3000);
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(3000), &ret, &d), 0);
	assert_true(json_is_object(ret));
	json_decref(ret);
	qga_client_free(c);
	waitpid(pid, &status, 0);
}

/* Writes data again and again, in big writes, until the client goes away. */
static void flood(int fd, const char *data, size_t len)
{
	static char big[1 << 18];
	size_t n = 0;
	int sz = 1 << 22;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	while (n + len <= sizeof(big)) {
		memcpy(big + n, data, len);
		n += len;
	}
	while (write(fd, big, n) > 0)
		;
}

static void peer_flood_no_newline(int fd)
{
	char junk[4096];

	memset(junk, 'a', sizeof(junk));
	junk[0] = '{';
	flood(fd, junk, sizeof(junk));
}

static void peer_flood_sentinels(int fd)
{
	char junk[4096];

	memset(junk, 0xff, sizeof(junk));
	flood(fd, junk, sizeof(junk));
}

static void peer_flood_wrong_sync(int fd)
{
	static const char line[] = "{\"return\":1}\n";

	writes(fd, "\xff");
	flood(fd, line, sizeof(line) - 1);
}

static void peer_sync_then_flood_stale(int fd)
{
	static const char line[] = "{\"return\":{},\"id\":999999}\n";
	char out[128];
	int n = snprintf(out, sizeof(out), "\xff{\"return\":%lld}\n", read_sync_id(fd));

	(void)!write(fd, out, (size_t)n);
	read_sync_id(fd);
	flood(fd, line, sizeof(line) - 1);
}

/* A peer that never stops sending must not hold the client past its deadline. */
static void test_flood_deadline(void **state)
{
	void (*const peers[])(int) = {peer_flood_no_newline, peer_flood_sentinels,
				      peer_flood_wrong_sync};
	struct qga_client *c = NULL;
	struct diag d = {{0}};
	int64_t t0;
	int fd, status;
	pid_t pid;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(peers); i++) {
		pid = fake_peer(&fd, peers[i]);
		t0 = time_now_ms();
		assert_int_equal(qga_client_start(fd, in_ms(300), &c, &d), -ETIMEDOUT);
		assert_true(time_now_ms() - t0 < 1500);
		assert_null(c);
		waitpid(pid, &status, 0);
	}

	pid = fake_peer(&fd, peer_sync_then_flood_stale);
	assert_int_equal(qga_client_start(fd, in_ms(2000), &c, &d), 0);
	t0 = time_now_ms();
	assert_int_equal(qga_client_call(c, "guest-ping", NULL, in_ms(300), NULL, &d), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 < 1500);
	qga_client_free(c);
	waitpid(pid, &status, 0);
}

static void peer_exec_huge_codes(int fd)
{
	char out[256];
	int n;

	n = snprintf(out, sizeof(out), "\xff{\"return\":%lld}\n", read_sync_id(fd));
	(void)!write(fd, out, (size_t)n);
	read_sync_id(fd);
	writes(fd, "{\"return\":{\"pid\":7}}\n");
	read_sync_id(fd);
	writes(fd, "{\"return\":{\"exited\":true,\"signal\":2147483647}}\n");
	read_sync_id(fd);
	writes(fd, "{\"return\":{\"pid\":8}}\n");
	read_sync_id(fd);
	writes(fd, "{\"return\":{\"exited\":true,\"exitcode\":-5,\"out-data\":\"Gw==\"}}\n");
	read_sync_id(fd);
}

/* Exit codes and signals from the guest stay in range (no overflow of 128 + N). */
static void test_exec_codes(void **state)
{
	const char *const argv[] = {NULL};
	struct qga_client *c = NULL;
	struct diag d = {{0}};
	int fd, status, code = 0;
	char *out = NULL;
	pid_t pid;

	(void)state;
	pid = fake_peer(&fd, peer_exec_huge_codes);
	assert_int_equal(qga_client_start(fd, in_ms(2000), &c, &d), 0);
	assert_int_equal(qga_client_exec(c, "/bin/x", argv, in_ms(2000), &code, NULL, &d), 0);
	assert_int_equal(code, -1);
	assert_int_equal(qga_client_exec(c, "/bin/x", argv, in_ms(2000), &code, &out, &d), 0);
	assert_int_equal(code, -1);
	assert_string_equal(out, "\x1b");
	free(out);
	qga_client_free(c);
	waitpid(pid, &status, 0);
}

/* A fake agent on a unix socket at a fresh path made from the template path (ending in
 * XXXXXX): runs fn(fd) for one connection in a child. */
static pid_t fake_listener(char *path, void (*fn)(int fd))
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = mkstemp(path);
	pid_t pid;

	assert_true(lfd >= 0);
	close(lfd);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0)
			fn(fd);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void peer_hostile_bond(int fd)
{
	char out[256];
	int n = snprintf(out, sizeof(out), "\xff{\"return\":%lld}\n", read_sync_id(fd));

	(void)!write(fd, out, (size_t)n);
	read_sync_id(fd);
	writes(fd, "{\"return\":{\"name\":\"b\\u001b[2J\",\"mode\":\"\\u001b]0;x\\u0007ab\","
		   "\"active\":null,\"slaves\":[{\"mac\":\"52:54:00:00:00:01\","
		   "\"name\":\"e\\u009b31m\",\"pci\":\"0000:00:03.0\",\"link\":\"up\"}]}}\n");
	read_sync_id(fd);
}

static void assert_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		assert_true(*p >= 0x20 && *p != 0x7f);
		if (*p == 0xc2)
			assert_true(p[1] >= 0xa0);
	}
}

/* Names and mode from guest-bond-status come out without control characters. */
static void test_agent_vfm_sanitizes(void **state)
{
	char path[] = "/tmp/vfm-review-agent.XXXXXX";
	struct agent_vfm *a = NULL;
	struct agent_ops ops;
	struct bond_status b;
	struct diag d = {{0}};
	int status;
	pid_t pid;

	(void)state;
	pid = fake_listener(path, peer_hostile_bond);
	assert_int_equal(agent_vfm_new(path, &a, &d), 0);
	agent_vfm_ops(a, &ops);
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(3000), &b, &d), 0);
	assert_int_equal(b.n_slaves, 1);
	assert_clean(b.name);
	assert_clean(b.mode);
	assert_clean(b.slaves[0].name);
	assert_clean(b.slaves[0].pci);
	assert_string_equal(b.mode, "?]0;x?ab");
	/* A PCI address is never sanitized into shape: it is the kernel's or refused (see
	 * test_agent_vfm). */
	assert_string_equal(b.slaves[0].pci, "0000:00:03.0");
	assert_true(b.slaves[0].link_up);
	agent_vfm_free(a);
	unlink(path);
	waitpid(pid, &status, 0);
}

/* ---- the stock qemu-ga on its own socket, as the QMP backend reaches it (agent_qga) ---- */

/* Files the fake qemu-ga serves by guest-file-open/read; any other path is an error reply,
 * as qemu-ga gives for a missing file. */
static const struct {
	const char *path, *text;
} qga_files[] = {
    {"/proc/net/bonding/bond0",
     "Ethernet Channel Bonding Driver: v6.1.0\n\n"
     "Bonding Mode: fault-tolerance (active-backup) (fail_over_mac active)\n"
     "Primary Slave: eth1 (primary_reselect always)\n"
     "Currently Active Slave: eth1\nMII Status: up\n\n"
     "Slave Interface: eth0\nMII Status: up\nPermanent HW addr: 52:54:00:77:00:10\n\n"
     "Slave Interface: eth1\nMII Status: up\nPermanent HW addr: 52:54:00:77:01:10\n"},
    {"/sys/class/net/eth0/device/uevent", "DRIVER=virtio_net\nMODALIAS=virtio:d01v1af4\n"},
    {"/sys/class/net/eth0/device/../uevent", "DRIVER=virtio-pci\nPCI_SLOT_NAME=0000:02:00.0\n"},
    {"/sys/class/net/eth1/device/uevent", "DRIVER=igbvf\nPCI_SLOT_NAME=0000:01:00.0\n"},
    /* /sys/class/net/bond0/address: missing (the bond's MAC stays unknown) */
    /* net_failover on 52:54:00:77:00:20: master fo0 (no device), standby fo1 (virtio), primary
     * fo2 (e1000e); fo3 a virtio NIC on that MAC too, in a bond (fo4). */
    {"/sys/class/net/fo0/ifindex", "2\n"},
    {"/sys/class/net/fo1/ifindex", "3\n"},
    {"/sys/class/net/fo2/ifindex", "4\n"},
    {"/sys/class/net/fo1/master/ifindex", "2\n"},
    {"/sys/class/net/fo2/master/ifindex", "2\n"},
    {"/sys/class/net/fo0/device/uevent", "DRIVER=virtio_net\n"}, /* the standby's device */
    {"/sys/class/net/fo1/device/uevent", "DRIVER=virtio_net\n"},
    {"/sys/class/net/fo2/device/uevent", "DRIVER=e1000e\nPCI_SLOT_NAME=0000:01:00.0\n"},
    {"/sys/class/net/fo1/carrier", "1\n"},
    {"/sys/class/net/fo2/carrier", "1\n"},
    {"/sys/class/net/fo3/device/uevent", "DRIVER=virtio_net\n"},
    {"/sys/class/net/fo3/master/ifindex", "6\n"},
    {"/sys/class/net/fo4/ifindex", "6\n"},
    {"/sys/class/net/fo4/bonding/mode", "active-backup 1\n"},
    /* fo5: a virtio NIC whose master's ifindex (fo6's, 9) is not written as a plain number
     * (guest data). */
    {"/sys/class/net/fo5/device/uevent", "DRIVER=virtio_net\n"},
    {"/sys/class/net/fo5/master/ifindex", " +9\n"},
    {"/sys/class/net/fo6/ifindex", "9\n"},
    {"/sys/class/net/fo6/device/uevent", "DRIVER=virtio_net\n"},
};

/* peer_qga_files hangs up at the guest-file-open of this path (NULL: never). */
static const char *qga_files_hangup_at;

/* Answers requests until the client hangs up: sync, ping, guest-file-open/read/close. */
static void peer_qga_files(int fd)
{
	char req[1024], out[4096];
	int handle = -1;

	for (;;) {
		size_t n = 0;
		const char *p;
		int len;

		while (n < sizeof(req) - 1) {
			if (read(fd, req + n, 1) != 1)
				_exit(0);
			if (req[n++] == '\n')
				break;
		}
		req[n] = '\0';
		if (strstr(req, "guest-sync-delimited")) {
			p = strstr(req, "\"id\":");
			len = snprintf(out, sizeof(out), "\xff{\"return\":%lld}\n",
				       p ? atoll(p + 5) : -1);
		} else if (strstr(req, "guest-file-open")) {
			if (qga_files_hangup_at && strstr(req, qga_files_hangup_at))
				_exit(0);
			handle = -1;
			for (size_t i = 0; i < ARRAY_SIZE(qga_files); i++) {
				char want[256];

				snprintf(want, sizeof(want), "\"path\":\"%s\"", qga_files[i].path);
				if (strstr(req, want))
					handle = (int)i;
			}
			if (handle < 0)
				len = snprintf(
				    out, sizeof(out),
				    "{\"error\":{\"class\":\"GenericError\",\"desc\":"
				    "\"failed to open file: No such file or directory\"}}\n");
			else
				len =
				    snprintf(out, sizeof(out), "{\"return\":%d}\n", 1000 + handle);
		} else if (strstr(req, "guest-network-get-interfaces")) {
			len = snprintf(
			    out, sizeof(out),
			    "{\"return\":[{\"name\":\"lo\"},"
			    "{\"name\":\"fo0\",\"hardware-address\":\"52:54:00:77:00:20\"},"
			    "{\"name\":\"fo1\",\"hardware-address\":\"52:54:00:77:00:20\"},"
			    "{\"name\":\"fo2\",\"hardware-address\":\"52:54:00:77:00:20\"},"
			    "{\"name\":\"../x\",\"hardware-address\":\"52:54:00:77:00:20\"},"
			    "{\"name\":\"fo3\",\"hardware-address\":\"52:54:00:77:00:30\"},"
			    "{\"name\":\"fo4\",\"hardware-address\":\"52:54:00:77:00:30\"},"
			    "{\"name\":\"fo5\",\"hardware-address\":\"52:54:00:77:00:40\"},"
			    "{\"name\":\"fo6\",\"hardware-address\":\"52:54:00:77:00:40\"}]}\n");
		} else if (strstr(req, "guest-file-read") && handle >= 0) {
			char *enc = qga_base64_encode(qga_files[handle].text);

			len = snprintf(
			    out, sizeof(out),
			    "{\"return\":{\"count\":%zu,\"buf-b64\":\"%s\",\"eof\":true}}\n",
			    strlen(qga_files[handle].text), enc ? enc : "");
			free(enc);
		} else {
			len = snprintf(out, sizeof(out), "{\"return\":{}}\n");
		}
		(void)!write(fd, out, (size_t)len);
	}
}

/* net_failover as agent_qga reads it from sysfs: the master by the standby's master/ifindex,
 * not a bond; a name unfit for a path is never used. */
static void test_agent_qga_failover(void **state)
{
	char path[] = "/tmp/vfm-qga-fo.XXXXXX";
	const uint8_t fo_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x20};
	const uint8_t bond_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x30};
	const uint8_t odd_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x40};
	struct failover_status st;
	struct agent_qga *a = NULL;
	struct agent_ops ops;
	struct diag d = {{0}};
	int status;
	pid_t pid;

	(void)state;
	pid = fake_listener(path, peer_qga_files);
	assert_int_equal(agent_qga_new_socket(path, &a, &d), 0);
	agent_qga_ops(a, &ops);
	assert_int_equal(ops.failover_status(ops.userdata, fo_mac, 1000, in_ms(5000), &st, &d), 0);
	assert_string_equal(st.master, "fo0");
	assert_true(st.has_standby && st.standby_link);
	assert_true(st.has_primary && st.primary_link && st.primary_active);
	assert_int_equal(ops.failover_status(ops.userdata, bond_mac, 0, in_ms(5000), &st, &d),
			 -ENOENT);
	assert_non_null(strstr(d.msg, "no net_failover master"));
	/* " +9" is not read as master 9 (fo6), nor as no master: strtol's leading space and
	 * sign are refused, a malformed answer. */
	assert_int_equal(ops.failover_status(ops.userdata, odd_mac, 0, in_ms(5000), &st, &d),
			 -EBADMSG);
	assert_non_null(strstr(d.msg, "not a number"));
	agent_qga_free(a);
	unlink(path);
	waitpid(pid, &status, 0);
}

/* A qemu-ga that goes away while its sysfs is read: an error of the channel, never "no
 * net_failover master" (what would send failover mode's pre-flight and waits the wrong way). */
static void test_agent_qga_failover_hangup(void **state)
{
	static const char *const at[] = {"fo1/master/ifindex", "fo0/bonding/mode", "fo2/carrier"};
	const uint8_t fo_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x20};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
		char path[] = "/tmp/vfm-qga-fo.XXXXXX";
		struct failover_status st;
		struct agent_qga *a = NULL;
		struct agent_ops ops;
		struct diag d = {{0}};
		int status, r;
		pid_t pid;

		qga_files_hangup_at = at[i];
		pid = fake_listener(path, peer_qga_files);
		qga_files_hangup_at = NULL;
		assert_int_equal(agent_qga_new_socket(path, &a, &d), 0);
		agent_qga_ops(a, &ops);
		r = ops.failover_status(ops.userdata, fo_mac, 0, in_ms(5000), &st, &d);
		assert_true(r < 0);
		assert_int_not_equal(r, -ENOENT);
		assert_null(strstr(d.msg, "no net_failover master"));
		agent_qga_free(a);
		unlink(path);
		waitpid(pid, &status, 0);
	}
}

/* The stock qemu-ga through its own socket: the bond as agent_qga reads it from the guest's
 * files (kinds and PCI addresses from uevent, a missing file as absent, not as an error),
 * and the report can tell the socket was used. */
static void test_agent_qga_socket(void **state)
{
	char path[] = "/tmp/vfm-qga-sock.XXXXXX";
	struct agent_qga *a = NULL;
	struct agent_ops ops;
	struct bond_status b;
	struct diag d = {{0}};
	int status;
	pid_t pid;

	(void)state;
	pid = fake_listener(path, peer_qga_files);
	assert_int_equal(agent_qga_new_socket(path, &a, &d), 0);
	assert_false(agent_qga_socket_used(a));
	agent_qga_ops(a, &ops);
	assert_int_equal(ops.ping(ops.userdata, in_ms(3000), &d), 0);
	assert_true(agent_qga_socket_used(a));
	assert_int_equal(ops.bond_status(ops.userdata, "bond0", in_ms(5000), &b, &d), 0);
	assert_string_equal(b.mode, "active-backup");
	assert_int_equal(b.fail_over_mac, BOND_FOM_ACTIVE);
	assert_false(b.has_mac);
	assert_int_equal(b.n_slaves, 2);
	assert_int_equal(b.slaves[0].kind, NIC_KIND_VIRTIO);
	assert_string_equal(b.slaves[0].pci, "0000:02:00.0");
	assert_int_equal(b.slaves[1].kind, NIC_KIND_VF);
	assert_string_equal(b.slaves[1].pci, "0000:01:00.0");
	assert_true(b.has_active);
	/* A bond that is not there is ENOENT (what pre-flight turns into "no bond"). */
	assert_int_equal(ops.bond_status(ops.userdata, "bond9", in_ms(3000), &b, &d), -ENOENT);
	/* No bond creation over the stock agent. */
	assert_int_equal(ops.bond_create(ops.userdata, "bond0", b.slaves[0].mac, b.slaves[1].mac,
					 BOND_FOM_ACTIVE, in_ms(1000), &d),
			 -EOPNOTSUPP);
	agent_qga_free(a);
	unlink(path);
	waitpid(pid, &status, 0);
	/* A path that is no socket: a clear error, no hang. */
	assert_int_equal(agent_qga_new_socket(path, &a, &d), 0);
	agent_qga_ops(a, &ops);
	assert_true(ops.ping(ops.userdata, in_ms(1000), &d) < 0);
	assert_non_null(strstr(d.msg, "qemu-ga"));
	agent_qga_free(a);
	assert_int_equal(agent_qga_new_socket("", &a, &d), -EINVAL);
}

static void test_base64(void **state)
{
	char *out;
	size_t len;

	(void)state;
	/* The encoder (what guest-file-write sends) and the decoder agree, padding included. */
	for (const char *const *t =
		 (const char *const[]){"", "h", "he", "hel", "hello world", NULL};
	     *t; t++) {
		char *enc = qga_base64_encode(*t);

		assert_non_null(enc);
		assert_int_equal(qga_base64_decode(enc, 100, &out, &len), 0);
		assert_string_equal(out, *t);
		free(out);
		free(enc);
	}
	out = qga_base64_encode("hello world");
	assert_string_equal(out, "aGVsbG8gd29ybGQ=");
	free(out);
	assert_int_equal(qga_base64_decode("aGVsbG8gd29ybGQ=", 100, &out, &len), 0);
	assert_string_equal(out, "hello world");
	assert_int_equal(len, 11);
	free(out);
	assert_int_equal(qga_base64_decode("", 100, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	assert_int_equal(qga_base64_decode("aGV=sbG8", 100, &out, &len), -EINVAL);
	assert_int_equal(qga_base64_decode("aGVsbG8", 100, &out, &len), -EINVAL);
	assert_int_equal(qga_base64_decode("a!Vs", 100, &out, &len), -EINVAL);
	assert_int_equal(qga_base64_decode("aGVsbG8gd29ybGQ=", 4, &out, &len), -EINVAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_real_agent, start_agent, stop_agent),
	    cmocka_unit_test(test_fake_peer_sync_and_errors),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_sync_resend),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_flood_deadline),
	    cmocka_unit_test(test_exec_codes),
	    cmocka_unit_test(test_agent_vfm_sanitizes),
	    cmocka_unit_test(test_agent_qga_socket),
	    cmocka_unit_test(test_agent_qga_failover),
	    cmocka_unit_test(test_agent_qga_failover_hangup),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_client PATH-TO-vfmigrate-agent\n");
		return 2;
	}
	agent_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
