/*
 * cidr.c - IPv4/IPv6 address and network parsing and matching
 *
 * Runs in:  any process using cidr: tables or mynetworks; input may be untrusted
 * API:      ip_addr_parse(), cidr_parse(), cidr_match(), cidr_is_everything(),
 *           cidr_format()   -- see cidr.h
 * Limits:   an address text is at most INET6_ADDRSTRLEN bytes
 * Tests:    tests/unit/test_cidr.c, fuzz/fuzz_mapsrc.c
 * Refs:     cidr_table(5), RFC 4291, RFC 4632
 */
#include "libmail/cidr.h"

#include <arpa/inet.h>
#include <string.h>

#include "lib/strutil.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* ip_addr_parse - strict address text to bytes (inet_pton on a bounded NUL-terminated copy) */
int ip_addr_parse(const char *s, size_t n, struct ip_addr *out, const char **error_r)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	int v6;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		if (memchr(s, ':', n) == NULL) {
			*error_r = "IPv4 address in [brackets]";
			return -1;
		}
	}
	if (n == 0) {
		*error_r = "empty address";
		return -1;
	}
	if (n >= sizeof(tmp)) {
		*error_r = "address too long";
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (memchr(s, '\0', n) != NULL) {
		*error_r = "NUL byte in address";
		return -1;
	}
	memset(out, 0, sizeof(*out));
	v6 = memchr(s, ':', n) != NULL;
	out->family = v6 ? IP_V6 : IP_V4;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, out->a) != 1) {
		*error_r = v6 ? "bad IPv6 address" : "bad IPv4 address";
		return -1;
	}
	return 0;
}

/* addr_bits - number of bits in an address of this family */
static unsigned addr_bits(const struct ip_addr *a)
{
	return a->family == IP_V4 ? 32 : 128;
}

/* prefix_equal - do a and b agree in their first bits bits? */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

/* cidr_parse - "addr/prefix" or "addr", host bits must be clear */
int cidr_parse(const char *s, size_t n, struct cidr *out, const char **error_r)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	uint64_t prefix;
	unsigned i, bits, dirty = 0;

	memset(out, 0, sizeof(*out));
	if (ip_addr_parse(s, alen, &out->net, error_r) != 0)
		return -1;
	bits = addr_bits(&out->net);
	if (slash == NULL) {
		prefix = bits;
	} else if (parse_u64(slash + 1, n - alen - 1, &prefix) != 0 || prefix > bits) {
		*error_r = bits == 32 ? "bad network prefix length (expected 0..32)"
				      : "bad network prefix length (expected 0..128)";
		return -1;
	}
	out->prefix = (uint8_t)prefix;
	/* clear the host bits, remembering whether any were set */
	for (i = 0; i < 16; i++) {
		unsigned lo = i * 8;
		uint8_t keep;

		if (lo >= prefix)
			keep = 0;
		else if (lo + 8 <= prefix)
			keep = 0xff;
		else
			keep = (uint8_t)(0xff << (8 - (prefix - lo)));
		dirty |= out->net.a[i] & (uint8_t)~keep;
		out->net.a[i] &= keep;
	}
	if (dirty) {
		*error_r = "non-null host address bits";
		return -1;
	}
	return 0;
}

/* cidr_match - prefix comparison; IPv4-mapped IPv6 addresses match IPv4 networks */
bool cidr_match(const struct cidr *c, const struct ip_addr *addr)
{
	if (c->net.family == addr->family)
		return prefix_equal(c->net.a, addr->a, c->prefix);
	if (c->net.family == IP_V4 && addr->family == IP_V6
	    && memcmp(addr->a, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0)
		return prefix_equal(c->net.a, addr->a + 12, c->prefix);
	return false;
}

/* cidr_is_everything - a /0 network matches every address of its family */
bool cidr_is_everything(const struct cidr *c)
{
	return c->prefix == 0;
}

/* cidr_format - canonical text of a network */
int cidr_format(const struct cidr *c, struct buf *out)
{
	char tmp[INET6_ADDRSTRLEN];

	if (inet_ntop(c->net.family == IP_V4 ? AF_INET : AF_INET6, c->net.a, tmp, sizeof(tmp)) == NULL)
		return -1;
	return buf_printf(out, "%s/%u", tmp, (unsigned)c->prefix);
}
