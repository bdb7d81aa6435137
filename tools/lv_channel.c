// SPDX-License-Identifier: MIT
/*
 * lv-channel URI DOMAIN [ROUNDS]: checks hv_libvirt_open_channel against a real daemon, for
 * the lab. ROUNDS times (default 3), each with a fresh libvirt connection (so no
 * VIR_DOMAIN_CHANNEL_FORCE): open the domain's org.vfmigrate.agent.0 channel through
 * libvirt, sync and run guest-info, close, and see this process's descriptors back where they
 * were (the daemon released the stream, or the next open would be refused as busy). Then it
 * opens the channel once more, prints "open" and waits (up to 60 s) for the channel to end,
 * e.g. because the domain was destroyed: prints "eof MS" and checks the descriptors again.
 * Exit: 0 ok; 2 usage; 4 a failure (on stderr).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "io/hv_libvirt.h"
#include "io/qga_client.h"

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1; /* the directory's own */
}

/* Descriptors close asynchronously (the event loop thread tears the pump down). */
static bool fds_settle(int want)
{
	for (int i = 0; i < 100; i++) {
		if (count_fds() == want)
			return true;
		usleep(20000);
	}
	return false;
}

static int fail(const char *what, const struct diag *d)
{
	fprintf(stderr, "lv-channel: %s%s%s\n", what, d && d->msg[0] ? ": " : "", d ? d->msg : "");
	return 4;
}

int main(int argc, char **argv)
{
	struct hv_libvirt_options o = {0};
	struct hv_libvirt *h = NULL;
	struct diag d = {{0}};
	int64_t rounds = 3, t0;
	int base = -1, fd = -1;

	if (argc < 3 || argc > 4 || (argc == 4 && parse_int64(argv[3], 1, 100, &rounds) < 0) ||
	    strlen(argv[1]) >= sizeof(o.uri) || strlen(argv[2]) >= sizeof(o.domain)) {
		fprintf(stderr, "usage: lv-channel URI DOMAIN [ROUNDS]\n");
		return 2;
	}
	snprintf(o.uri, sizeof(o.uri), "%s", argv[1]);
	snprintf(o.domain, sizeof(o.domain), "%s", argv[2]);
	for (int64_t i = 0; i <= rounds; i++) {
		struct qga_client *c = NULL;
		json_t *ret = NULL;
		int r;

		if (hv_libvirt_new(&o, &h, &d) < 0)
			return fail("libvirt", &d);
		if (base < 0)
			base = count_fds(); /* the event loop thread's exist from now on */
		fd = hv_libvirt_open_channel(h, DOMXML_AGENT_CHANNEL, &d);
		if (fd < 0)
			return fail("open", &d);
		if (i == rounds)
			break; /* the last one waits for the channel to end, below */
		r = qga_client_start(fd, time_now_ms() + 10000, &c, &d);
		if (r >= 0)
			r = qga_client_call(c, "guest-info", NULL, time_now_ms() + 10000, &ret, &d);
		if (r < 0)
			return fail("guest-info", &d);
		printf("round %lld: guest-info %s\n", (long long)i + 1,
		       json_is_string(json_object_get(ret, "version")) ? "ok" : "without version");
		json_decref(ret);
		qga_client_free(c); /* closes fd: the pump goes */
		h = hv_libvirt_free(h);
		if (!fds_settle(base)) {
			fprintf(stderr, "lv-channel: %d descriptors after close, %d before\n",
				count_fds(), base);
			return 4;
		}
	}
	printf("open\n");
	fflush(stdout);
	t0 = time_now_ms();
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char buf[512];
		ssize_t n;

		if (poll(&p, 1, (int)deadline_left_ms(t0 + 60000)) <= 0)
			return fail("the channel did not end within 60 s", NULL);
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	printf("eof %lld\n", (long long)(time_now_ms() - t0));
	close(fd);
	hv_libvirt_free(h);
	if (!fds_settle(base)) {
		fprintf(stderr, "lv-channel: %d descriptors after the channel ended, %d before\n",
			count_fds(), base);
		return 4;
	}
	return 0;
}
