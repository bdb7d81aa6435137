// SPDX-License-Identifier: MIT
/* The real agent backend: rtnetlink through libmnl, plus read-only sysfs for PCI addresses and
 * drivers. */
#include "backend_nl.h"

#include <errno.h>
#include <libgen.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "../src/util/fdio.h"
#include "nl.h"

/* No kernel reply within this is an error (the kernel answers in microseconds). */
#define NL_REPLY_TIMEOUT_MS 3000

struct nl_backend {
	struct mnl_socket *sk;	/* requests */
	struct mnl_socket *mon; /* RTNLGRP_LINK notifications, to wake waiters */
	uint32_t seq;
	char sysfs[128];
	char rxbuf[32768];
};

static int sock_open(struct mnl_socket **ret, unsigned groups)
{
	struct mnl_socket *sk;
	int one = 1;

	sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!sk)
		return -errno;
	if (mnl_socket_bind(sk, groups, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		mnl_socket_close(sk);
		return r;
	}
	/* Best effort: kernel error text (extack) and short error acks. */
	mnl_socket_setsockopt(sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sk, NETLINK_CAP_ACK, &one, sizeof(one));
	*ret = sk;
	return 0;
}

struct nl_backend *nl_backend_free(struct nl_backend *b)
{
	if (!b)
		return NULL;
	if (b->sk)
		mnl_socket_close(b->sk);
	if (b->mon)
		mnl_socket_close(b->mon);
	free(b);
	return NULL;
}

int nl_backend_new(const char *sysfs_root, struct nl_backend **ret)
{
	struct nl_backend *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	snprintf(b->sysfs, sizeof(b->sysfs), "%s", sysfs_root ? sysfs_root : "/sys");
	b->seq = (uint32_t)time_now_ns();
	r = sock_open(&b->sk, 0);
	if (r >= 0)
		r = sock_open(&b->mon, RTMGRP_LINK);
	if (r < 0) {
		nl_backend_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

/* Receives one datagram into the rx buffer, waiting until deadline. */
static ssize_t recv_one(struct nl_backend *b, int64_t deadline, struct diag *d)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(b->sk, b->rxbuf, sizeof(b->rxbuf));

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			int r = -errno;

			diag_set(d, "netlink receive: %s", strerror(-r));
			return r;
		}
		int r = fdio_wait(mnl_socket_get_fd(b->sk), POLLIN, deadline);

		if (r == -ETIMEDOUT)
			diag_set(d, "no reply from the kernel within %d ms", NL_REPLY_TIMEOUT_MS);
		if (r < 0)
			return r;
	}
}

static int send_msg(struct nl_backend *b, const struct nlmsghdr *nlh, struct diag *d)
{
	if (mnl_socket_sendto(b->sk, nlh, nlh->nlmsg_len) < 0) {
		int r = -errno;

		diag_set(d, "netlink send: %s", strerror(-r));
		return r;
	}
	return 0;
}

static int request(struct nl_backend *b, struct nlmsghdr *nlh, struct diag *d)
{
	int64_t deadline = time_now_ms() + NL_REPLY_TIMEOUT_MS;
	uint32_t seq = nlh->nlmsg_seq;
	int r;

	r = send_msg(b, nlh, d);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = recv_one(b, deadline, d);

		if (n < 0)
			return (int)n;
		r = nl_ack_parse(b->rxbuf, (size_t)n, seq, d);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

static int be_link_list(void *ctx, struct agent_link **ret_links, size_t *ret_n, struct diag *d)
{
	struct nl_backend *b = ctx;
	int64_t deadline = time_now_ms() + NL_REPLY_TIMEOUT_MS;
	char buf[NL_MSG_BUF];
	struct agent_link *links = NULL;
	struct nlmsghdr *nlh;
	size_t n = 0;
	int r;

	nlh = nl_build_link_dump(buf, ++b->seq);
	r = send_msg(b, nlh, d);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t len = recv_one(b, deadline, d);

		if (len < 0) {
			free(links);
			return (int)len;
		}
		r = nl_link_dump_parse(b->rxbuf, (size_t)len, nlh->nlmsg_seq, &links, &n,
				       AGENT_LINKS_MAX, d);
		if (r < 0) {
			free(links);
			return r;
		}
		if (r > 0)
			break;
	}
	*ret_links = links;
	*ret_n = n;
	return 0;
}

static int be_bond_create(void *ctx, const struct agent_bond_params *p, struct diag *d)
{
	struct nl_backend *b = ctx;
	char buf[NL_MSG_BUF];

	return request(b, nl_build_bond_create(buf, ++b->seq, p), d);
}

static int be_link_delete(void *ctx, int ifindex, struct diag *d)
{
	struct nl_backend *b = ctx;
	char buf[NL_MSG_BUF];

	return request(b, nl_build_link_delete(buf, ++b->seq, ifindex), d);
}

static int be_link_set_master(void *ctx, int ifindex, int master, struct diag *d)
{
	struct nl_backend *b = ctx;
	char buf[NL_MSG_BUF];

	return request(b, nl_build_set_master(buf, ++b->seq, ifindex, master), d);
}

static int be_link_set_up(void *ctx, int ifindex, bool up, struct diag *d)
{
	struct nl_backend *b = ctx;
	char buf[NL_MSG_BUF];

	return request(b, nl_build_set_up(buf, ++b->seq, ifindex, up), d);
}

static int be_bond_set_active(void *ctx, int bond, int slave, struct diag *d)
{
	struct nl_backend *b = ctx;
	char buf[NL_MSG_BUF];

	return request(
	    b, nl_build_bond_set_u32(buf, ++b->seq, bond, IFLA_BOND_ACTIVE_SLAVE, (uint32_t)slave),
	    d);
}

static int be_bond_set_primary(void *ctx, int bond, int slave, struct diag *d)
{
	struct nl_backend *b = ctx;
	char buf[NL_MSG_BUF];

	return request(
	    b, nl_build_bond_set_u32(buf, ++b->seq, bond, IFLA_BOND_PRIMARY, (uint32_t)slave), d);
}

/* The sysfs path of one of ifname's files; -EINVAL for a name that could leave the directory
 * (names come from the kernel, but the check is cheap). */
static int net_path(const struct nl_backend *b, const char *ifname, const char *file, char *buf,
		    size_t n)
{
	if (!ifname[0] || strchr(ifname, '/') || strcmp(ifname, "..") == 0 ||
	    strcmp(ifname, ".") == 0)
		return -EINVAL;
	if ((size_t)snprintf(buf, n, "%s/class/net/%s/%s", b->sysfs, ifname, file) >= n)
		return -ENAMETOOLONG;
	return 0;
}

static int be_pci_address(void *ctx, const char *ifname, char *buf, size_t n)
{
	struct nl_backend *b = ctx;
	char path[256], real[4096];
	int r;

	r = net_path(b, ifname, "device", path, sizeof(path));
	if (r < 0)
		return r;
	if (!realpath(path, real))
		return -errno;
	/* virtio-net's device is virtioN, whose parent is the PCI function. */
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(real, '/');

		if (!slash)
			break;
		if (pci_addr_valid(slash + 1)) {
			if ((size_t)snprintf(buf, n, "%s", slash + 1) >= n)
				return -ENOBUFS;
			return 0;
		}
		*slash = '\0';
	}
	return -ENOENT;
}

/* A kernel module or driver name: letters, digits, '_' and '-'. */
static bool driver_name_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int be_driver(void *ctx, const char *ifname, char *buf, size_t n)
{
	struct nl_backend *b = ctx;
	char path[256], real[4096];
	const char *base;
	int r;

	r = net_path(b, ifname, "device/driver", path, sizeof(path));
	if (r < 0)
		return r;
	if (!realpath(path, real))
		return -errno;
	base = strrchr(real, '/');
	base = base ? base + 1 : real;
	if (!driver_name_valid(base, n))
		return -EBADMSG;
	snprintf(buf, n, "%s", base);
	return 0;
}

static int64_t be_now_ms(void *ctx)
{
	(void)ctx;
	return time_now_ms();
}

static int be_wait(void *ctx, int timeout_ms)
{
	struct nl_backend *b = ctx;
	struct pollfd p = {.fd = mnl_socket_get_fd(b->mon), .events = POLLIN};
	int r;

	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return -errno;
	/* Drain: the caller re-reads the state; only the wakeup matters. */
	while (mnl_socket_recvfrom(b->mon, b->rxbuf, sizeof(b->rxbuf)) > 0)
		;
	return 0;
}

void nl_backend_ops(struct nl_backend *b, struct agent_backend *ret)
{
	*ret = (struct agent_backend){
	    .link_list = be_link_list,
	    .bond_create = be_bond_create,
	    .link_delete = be_link_delete,
	    .link_set_master = be_link_set_master,
	    .link_set_up = be_link_set_up,
	    .bond_set_active = be_bond_set_active,
	    .bond_set_primary = be_bond_set_primary,
	    .pci_address = be_pci_address,
	    .driver = be_driver,
	    .now_ms = be_now_ms,
	    .wait = be_wait,
	    .ctx = b,
	};
}
