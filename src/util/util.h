/* SPDX-License-Identifier: MIT */
/* Small helpers with no project dependencies: cleanup attributes, diagnostics, time. */
#ifndef VFM_UTIL_H
#define VFM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_       __attribute__((unused))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hands an fd on out of a _cleanup_close_ variable (which is left -1). */
static inline int fd_take(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

/* Text for the user about a failure. Filled only on failure; callers may pass NULL. */
struct diag {
	char msg[512];
};

void diag_set(struct diag *d, const char *fmt, ...) _printf_(2, 3);
/* Prefixes an existing message: "what: <old message>". */
void diag_prefix(struct diag *d, const char *fmt, ...) _printf_(2, 3);

/*
 * Copies src into dst (size n, always NUL-terminated), replacing control characters, bytes
 * that are not printable ASCII or valid UTF-8, and invisible format and bidi characters with
 * '?'. Use it on every piece of peer-supplied text before it is printed.
 */
void str_sanitize(char *dst, size_t n, const char *src);
/*
 * Also replaces the invisible format and bidi control characters (U+202E and its kin, U+2028,
 * U+200B, U+FEFF...) with '?': str_sanitize does. This one keeps them, for text that goes into
 * JSON, where str_escape_format() escapes them.
 */
void str_sanitize_keep_format(char *dst, size_t n, const char *src);
/*
 * A copy of src (malloc'd; NULL when out of memory) with each invisible format or bidi control
 * character written as a JSON escape "\uXXXX". For JSON text: such a character only occurs
 * inside a string there, where the escape means the same.
 */
char *str_escape_format(const char *src);

/*
 * Whether the errno r (either sign) says the peer is gone: it hung up or reset the connection,
 * or nobody listens any more. Such a failure says nothing about the request, only that the
 * peer must be reached anew (or is down).
 */
bool errno_is_peer_gone(int r);

/* Monotonic clock in nanoseconds and milliseconds. */
int64_t time_now_ns(void);
static inline int64_t time_now_ms(void)
{
	return time_now_ns() / 1000000;
}
/* Wall clock (CLOCK_REALTIME) in nanoseconds, for reports and journals. */
int64_t time_wall_ns(void);

/* Milliseconds left until deadline_ms (monotonic), never negative. */
int64_t deadline_left_ms(int64_t deadline_ms);

/* Writes all of buf, retrying on EINTR and short writes. Returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Parses a decimal integer in [min, max]; returns 0 or -EINVAL/-ERANGE. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);

/* Parses a MAC address "aa:bb:cc:dd:ee:ff" (case-insensitive). Returns 0 or -EINVAL. */
int parse_mac(const char *s, uint8_t ret[6]);
/* Formats a MAC address as lower-case "aa:bb:cc:dd:ee:ff" into buf (at least 18 bytes). */
char *format_mac(const uint8_t mac[6], char buf[static 18]);

/* Whether s is a PCI function address as the kernel names it: "DDDD:BB:SS.F", lower-case hex,
 * slot below 0x20, function below 8. */
bool pci_addr_valid(const char *s);

#endif
