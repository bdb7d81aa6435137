// SPDX-License-Identifier: MIT
#include "nlmsg.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>

static void attr_text(const struct nlattr *a, char *dst, size_t n)
{
	char raw[256];
	size_t len = mnl_attr_get_payload_len(a);

	if (len >= sizeof(raw))
		len = sizeof(raw) - 1;
	memcpy(raw, mnl_attr_get_payload(a), len);
	raw[len] = '\0';
	str_sanitize(dst, n, raw);
}

int nlmsg_error_parse(const struct nlmsghdr *nlh, struct diag *d)
{
	const struct nlmsgerr *err;
	size_t payload = mnl_nlmsg_get_payload_len(nlh), off;
	char text[256] = "";
	int e;

	if (payload < sizeof(*err)) {
		diag_set(d, "truncated netlink error message");
		return -EBADMSG;
	}
	err = mnl_nlmsg_get_payload(nlh);
	e = err->error;
	if (e > 0 || e < -4095)
		e = -EPROTO;
	if (e == 0)
		return 0;
	off = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		/* The request is echoed: skip it (bounded by what is there). */
		if (err->msg.nlmsg_len < NLMSG_HDRLEN)
			off = payload;
		else
			off += MNL_ALIGN((size_t)err->msg.nlmsg_len - NLMSG_HDRLEN);
	}
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off < payload) {
		const struct nlattr *a =
		    (const struct nlattr *)((const char *)mnl_nlmsg_get_payload(nlh) + off);
		size_t left = payload - off;

		while (left <= INT32_MAX && mnl_attr_ok(a, (int)left)) {
			size_t step = MNL_ALIGN((size_t)a->nla_len);

			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG) {
				attr_text(a, text, sizeof(text));
				break;
			}
			if (step >= left)
				break;
			left -= step;
			a = (const struct nlattr *)((const char *)a + step);
		}
	}
	if (text[0])
		diag_set(d, "%s (%s)", text, strerror(-e));
	else
		diag_set(d, "%s", strerror(-e));
	return e;
}
