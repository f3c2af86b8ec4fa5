/* Backend addresses as the config and the metadata spell them, and the
 * (address, namespace, password) triple that names one backend. */
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static int addr_err(struct err *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
addr_err(struct err *e, const char *s, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set(e, "bad address \"%.200s\": %s (expected a.b.c.d:port, "
	    "[ipv6]:port, unix:/path or dir:/path)", s, why);
}

/* Decimal, leading zeros allowed, 0-65535: what Rust's SocketAddr accepts. */
static int
parse_port(const char *s, const char *p, uint16_t *port, struct err *e)
{
	unsigned long v = 0;

	if (*p == '\0')
		return addr_err(e, s, "missing port number after ':'");
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return addr_err(e, s,
			    "the port must be a decimal number");
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return addr_err(e, s, "port out of range (0-65535)");
	}
	*port = (uint16_t)v;
	return 0;
}

/* Exactly four decimal octets, no leading zeros (Rust's Ipv4Addr rules). */
static int
parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0, nd;
	unsigned v;
	int part;

	for (part = 0; part < 4; part++) {
		if (part > 0 && (i >= len || s[i++] != '.'))
			return -1;
		for (v = 0, nd = 0; i < len && s[i] >= '0' && s[i] <= '9' &&
		    nd < 4; i++, nd++)
			v = v * 10 + (unsigned)(s[i] - '0');
		if (nd == 0 || nd > 3 || v > 255 ||
		    (nd > 1 && s[i - nd] == '0'))
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == len ? 0 : -1;
}

static int
parse_ip4_addr(const char *s, struct zaddr *a, struct err *e)
{
	const char *colon = strrchr(s, ':');
	size_t i, hostlen;

	if (colon == NULL)
		return addr_err(e, s, "no :port");
	hostlen = (size_t)(colon - s);
	if (memchr(s, ':', hostlen) != NULL)
		return addr_err(e, s, "IPv6 addresses must be in brackets, "
		    "like [2001:db8::1]:9900");
	if (parse_ipv4(s, hostlen, a->ip) == -1) {
		for (i = 0; i < hostlen; i++)
			if ((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= 'A' && s[i] <= 'Z'))
				return addr_err(e, s, "host names are not "
				    "resolved; give an IP address");
		return addr_err(e, s, "not a valid IPv4 address");
	}
	a->kind = ADDR_IP4;
	return parse_port(s, colon + 1, &a->port, e);
}

static int
parse_ip6_addr(const char *s, struct zaddr *a, struct err *e)
{
	const char *close = strchr(s, ']');
	char host[INET6_ADDRSTRLEN];
	size_t len;

	if (close == NULL)
		return addr_err(e, s, "missing ']' after the IPv6 address");
	len = (size_t)(close - s - 1);
	if (memchr(s + 1, '%', len) != NULL)
		return addr_err(e, s,
		    "IPv6 scope ids (%%...) are not supported");
	if (len >= sizeof(host))
		return addr_err(e, s, "not a valid IPv6 address");
	memcpy(host, s + 1, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, a->ip) != 1)
		return addr_err(e, s, "not a valid IPv6 address");
	if (close[1] != ':')
		return addr_err(e, s, "expected :port after ']'");
	a->kind = ADDR_IP6;
	return parse_port(s, close + 2, &a->port, e);
}

static int
parse_path_addr(const char *s, const char *path, enum addr_kind kind,
    struct zaddr *a, struct err *e)
{
	struct sockaddr_un su;
	size_t max = kind == ADDR_UNIX ? sizeof(su.sun_path) : ADDR_PATH_MAX;

	if (path[0] != '/')
		return addr_err(e, s, "the path after %s must be absolute",
		    kind == ADDR_UNIX ? "unix:" : "dir:");
	if (strlen(path) >= max)
		return addr_err(e, s, "path longer than %zu bytes", max - 1);
	a->kind = kind;
	strlcpy(a->path, path, sizeof(a->path));
	return 0;
}

int
zaddr_parse(const char *s, struct zaddr *a, struct err *e)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0)
		return parse_path_addr(s, s + 5, ADDR_UNIX, a, e);
	if (strncmp(s, "dir:", 4) == 0)
		return parse_path_addr(s, s + 4, ADDR_DIR, a, e);
	if (s[0] == '[')
		return parse_ip6_addr(s, a, e);
	return parse_ip4_addr(s, a, e);
}

/* Rust's Ipv6Addr Display: "::ffff:a.b.c.d" for IPv4-mapped addresses,
 * otherwise lowercase hex groups with the first longest run of two or more
 * zero groups written as "::". */
static void
format_ip6(const uint8_t ip[16], char *out, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	size_t i, o = 0, best = 0, bestlen = 0, cur = 0, curlen = 0;
	uint16_t seg[8];
	char buf[48];

	if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
		snprintf(out, len, "::ffff:%u.%u.%u.%u", ip[12], ip[13], ip[14],
		    ip[15]);
		return;
	}
	for (i = 0; i < 8; i++) {
		seg[i] = (uint16_t)(ip[2 * i] << 8 | ip[2 * i + 1]);
		if (seg[i] != 0) {
			curlen = 0;
			continue;
		}
		if (curlen++ == 0)
			cur = i;
		if (curlen > bestlen)
			best = cur, bestlen = curlen;
	}
	for (i = 0; i < 8; i++) {
		if (bestlen >= 2 && i == best) {
			buf[o++] = ':';
			buf[o++] = ':';
			i += bestlen - 1;
			continue;
		}
		if (o > 0 && buf[o - 1] != ':')
			buf[o++] = ':';
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%x", seg[i]);
	}
	buf[o] = '\0';
	strlcpy(out, buf, len);
}

void
zaddr_format(const struct zaddr *a, char *out, size_t len)
{
	char host[48];

	switch (a->kind) {
	case ADDR_IP4:
		snprintf(out, len, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1],
		    a->ip[2], a->ip[3], a->port);
		break;
	case ADDR_IP6:
		format_ip6(a->ip, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, a->port);
		break;
	case ADDR_UNIX:
		snprintf(out, len, "unix:%s", a->path);
		break;
	case ADDR_DIR:
		snprintf(out, len, "dir:%s", a->path);
		break;
	}
}

int
zaddr_equal(const struct zaddr *a, const struct zaddr *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case ADDR_IP4:
		return a->port == b->port && memcmp(a->ip, b->ip, 4) == 0;
	case ADDR_IP6:
		return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
	case ADDR_UNIX:
	case ADDR_DIR:
		return strcmp(a->path, b->path) == 0;
	}
	return 0;
}

/* Backend identities. */

static int
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
ci_equal(const struct backend_ci *a, const struct backend_ci *b)
{
	return zaddr_equal(&a->addr, &b->addr) && str_equal(a->ns, b->ns) &&
	    str_equal(a->password, b->password);
}

int
ci_copy(struct backend_ci *dst, const struct backend_ci *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->addr = src->addr;
	if ((src->ns != NULL && (dst->ns = strdup(src->ns)) == NULL) ||
	    (src->password != NULL &&
	    (dst->password = strdup(src->password)) == NULL)) {
		ci_free(dst);
		return -1;
	}
	return 0;
}

void
ci_free(struct backend_ci *ci)
{
	free(ci->ns);
	if (ci->password != NULL) {
		explicit_bzero(ci->password, strlen(ci->password));
		free(ci->password);
	}
	ci->ns = NULL;
	ci->password = NULL;
}

void
ci_name(const struct backend_ci *ci, char *out, size_t len)
{
	char addr[ADDR_PATH_MAX + 8];

	zaddr_format(&ci->addr, addr, sizeof(addr));
	snprintf(out, len, "%s/%s", addr, ci->ns != NULL ? ci->ns : "default");
}
