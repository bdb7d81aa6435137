// SPDX-License-Identifier: MIT
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void diag_set(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

void diag_prefix(struct diag *d, const char *fmt, ...)
{
	char head[256], old[sizeof(d->msg)];
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, d->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	if (old[0])
		snprintf(d->msg, sizeof(d->msg), "%s: %s", head, old);
	else
		snprintf(d->msg, sizeof(d->msg), "%s", head);
}

/* Length of a valid UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/*
 * The code point at s (a valid UTF-8 sequence of length l) when it is an invisible format or
 * bidi control character: zero-width and directional marks (U+061C, U+200B..U+200F), line and
 * paragraph separators (U+2028, U+2029), embeddings and overrides (U+202A..U+202E), isolates
 * (U+2066..U+2069), the BOM (U+FEFF). They make text read otherwise than it is; else 0.
 */
static uint32_t format_char(const unsigned char *s, size_t l)
{
	uint32_t cp;

	if (l == 2)
		cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	else if (l == 3)
		cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	else
		return 0;
	if (cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
		return cp;
	return 0;
}

static void sanitize(char *dst, size_t n, const char *src, bool keep_format)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t o = 0;

	if (n == 0)
		return;
	while (*s && o + 1 < n) {
		size_t l = utf8_len(s);

		if (l == 1 && (*s < 0x20 || *s == 0x7f))
			l = 0;
		/* C1 controls (U+0080..U+009F) are encoded as 0xc2 0x80..0x9f. */
		if (l == 2 && s[0] == 0xc2 && s[1] < 0xa0)
			l = 0;
		if (l == 0) {
			dst[o++] = '?';
			s++;
			continue;
		}
		if (!keep_format && format_char(s, l)) {
			dst[o++] = '?';
			s += l;
			continue;
		}
		if (o + l >= n)
			break;
		memcpy(dst + o, s, l);
		o += l;
		s += l;
	}
	dst[o] = '\0';
}

void str_sanitize(char *dst, size_t n, const char *src)
{
	sanitize(dst, n, src, false);
}

void str_sanitize_keep_format(char *dst, size_t n, const char *src)
{
	sanitize(dst, n, src, true);
}

char *str_escape_format(const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = 0, o = 0, l;
	char *out;

	/* Each one becomes six bytes ("\\uXXXX"), from two or three. */
	for (size_t i = 0; s[i]; i += l ? l : 1) {
		l = utf8_len(s + i);
		n += l && format_char(s + i, l) ? 6 : (l ? l : 1);
	}
	out = malloc(n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; s[i]; i += l ? l : 1) {
		uint32_t cp;

		l = utf8_len(s + i);
		cp = l ? format_char(s + i, l) : 0;
		if (cp) {
			snprintf(out + o, 7, "\\u%04x", (unsigned)cp);
			o += 6;
		} else {
			memcpy(out + o, s + i, l ? l : 1);
			o += l ? l : 1;
		}
	}
	out[o] = '\0';
	return out;
}

bool errno_is_peer_gone(int r)
{
	switch (r < 0 ? -r : r) {
	case ECONNRESET:
	case ECONNABORTED:
	case ECONNREFUSED:
	case ENOTCONN:
	case EPIPE:
	case ESHUTDOWN:
		return true;
	default:
		return false;
	}
}

int64_t time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t time_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t deadline_left_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - time_now_ms();

	return left > 0 ? left : 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int parse_mac(const char *s, uint8_t ret[6])
{
	uint8_t mac[6];
	int i;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(ret, mac, 6);
	return 0;
}

char *format_mac(const uint8_t mac[6], char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

bool pci_addr_valid(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.f";

	if (!s || strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');

		if ((pat[i] == 'x' && !hex) || (pat[i] == 'f' && !(s[i] >= '0' && s[i] <= '7')) ||
		    ((pat[i] == ':' || pat[i] == '.') && s[i] != pat[i]))
			return false;
	}
	/* The slot has 5 bits. */
	return s[8] == '0' || s[8] == '1';
}
