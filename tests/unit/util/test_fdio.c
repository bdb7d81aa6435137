// SPDX-License-Identifier: MIT
/*
 * fdio_send_all and fdio_recv on socketpairs and pipes: everything arrives through partial
 * writes, a deadline ends a wait (and only the deadline: not a signal), a peer that closes is
 * told apart from one that is slow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/util.h"

#define BIG (1024 * 1024)

static int64_t in_ms(int64_t ms)
{
	return time_now_ms() + ms;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

struct reader {
	int fd;
	size_t got;
	bool in_order;
};

/* Reads in small pieces until the end of the stream, checking the byte pattern. */
static void *reader_run(void *ud)
{
	struct reader *rd = ud;
	char buf[1000];
	ssize_t n;

	rd->in_order = true;
	while ((n = read(rd->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != (char)((rd->got + (size_t)i) % 251))
				rd->in_order = false;
		rd->got += (size_t)n;
	}
	return NULL;
}

/* A megabyte through a small socket buffer: many partial sends, all of it arrives in order. */
static void test_send_all_partial_writes(void **state)
{
	static char data[BIG];
	struct reader rd = {0};
	int sv[2], small = 4096;
	pthread_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i % 251);
	pair(sv);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	rd.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, reader_run, &rd), 0);
	assert_int_equal(fdio_send_all(sv[0], data, sizeof(data), in_ms(10000)), 0);
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	assert_int_equal(rd.got, sizeof(data));
	assert_true(rd.in_order);
}

/* A peer that never reads: the send ends at the deadline, not before and not much after. */
static void test_send_all_deadline(void **state)
{
	static char data[8 * BIG];
	int64_t t0;
	int sv[2];

	(void)state;
	pair(sv);
	t0 = time_now_ms();
	assert_int_equal(fdio_send_all(sv[0], data, sizeof(data), t0 + 100), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 100);
	assert_true(time_now_ms() - t0 < 2000);
	/* A deadline in the past does not block either. */
	t0 = time_now_ms();
	assert_int_equal(fdio_send_all(sv[0], data, sizeof(data), t0 - 1), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 < 1000);
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_deadline(void **state)
{
	char buf[16];
	int64_t t0;
	int sv[2];

	(void)state;
	pair(sv); /* blocking sockets: MSG_DONTWAIT keeps the helper from blocking */
	t0 = time_now_ms();
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), t0 + 50), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 50);
	/* What has arrived is returned even with the deadline past. */
	assert_int_equal(write(sv[1], "hello", 5), 5);
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), t0 - 1), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), t0 - 1), -ETIMEDOUT);
	/* No more than size bytes at a time. */
	assert_int_equal(write(sv[1], "0123456789", 10), 10);
	assert_int_equal(fdio_recv(sv[0], buf, 4, in_ms(1000)), 4);
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), in_ms(1000)), 6);
	close(sv[0]);
	close(sv[1]);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Signals during the wait (no SA_RESTART) are not an end: only the deadline is. */
static void test_eintr_is_not_the_end(void **state)
{
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct itimerval it = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
	struct itimerval off = {{0, 0}, {0, 0}};
	static char data[8 * BIG];
	char buf[4];
	int64_t t0;
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	t0 = time_now_ms();
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), t0 + 200), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 200);
	t0 = time_now_ms();
	assert_int_equal(fdio_send_all(sv[0], data, sizeof(data), t0 + 200), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 200);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	close(sv[0]);
	close(sv[1]);
}

/* A peer that closes: what it sent first is still read, then the end (0), at once; a send to
 * it is -EPIPE, not a SIGPIPE (which would kill this test). */
static void test_peer_closes(void **state)
{
	char buf[16];
	int64_t t0;
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(write(sv[1], "ab", 2), 2);
	close(sv[1]);
	t0 = time_now_ms();
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), t0 + 5000), 2);
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), t0 + 5000), 0);
	assert_true(time_now_ms() - t0 < 1000);
	assert_int_equal(fdio_send_all(sv[0], "x", 1, in_ms(5000)), -EPIPE);
	close(sv[0]);
	/* A closed fd is an error, not a wait. */
	assert_int_equal(fdio_recv(sv[0], buf, sizeof(buf), in_ms(5000)), -EBADF);
}

/* fdio_wait, for callers that receive themselves (netlink datagrams). */
static void test_wait(void **state)
{
	int64_t t0;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	t0 = time_now_ms();
	assert_int_equal(fdio_wait(sv[0], POLLIN, t0 + 30), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 30);
	assert_int_equal(fdio_wait(sv[0], POLLIN, t0 - 1), -ETIMEDOUT);
	assert_int_equal(write(sv[1], "d", 1), 1);
	assert_int_equal(fdio_wait(sv[0], POLLIN, in_ms(5000)), 0);
	assert_int_equal(fdio_wait(sv[0], POLLOUT, in_ms(5000)), 0);
	close(sv[0]);
	close(sv[1]);
}

/* A non-blocking pipe (no socket, as a virtio-serial port): read()/write() are used. */
static void test_pipe(void **state)
{
	char buf[8];
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(fdio_send_all(p[1], "pipe", 4, in_ms(1000)), 0);
	assert_int_equal(fdio_recv(p[0], buf, sizeof(buf), in_ms(1000)), 4);
	assert_memory_equal(buf, "pipe", 4);
	assert_int_equal(fdio_recv(p[0], buf, sizeof(buf), in_ms(20)), -ETIMEDOUT);
	close(p[1]);
	assert_int_equal(fdio_recv(p[0], buf, sizeof(buf), in_ms(5000)), 0);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_all_partial_writes),
	    cmocka_unit_test(test_send_all_deadline),
	    cmocka_unit_test(test_recv_deadline),
	    cmocka_unit_test(test_eintr_is_not_the_end),
	    cmocka_unit_test(test_peer_closes),
	    cmocka_unit_test(test_wait),
	    cmocka_unit_test(test_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
