/*
 * cidr.h - IPv4/IPv6 addresses and networks: parse, match, format
 *
 * Pure: no I/O, no globals. Used by cidr: tables (cidr_table(5)) and, later,
 * by mynetworks and `postern check` (open-relay detection via cidr_is_everything()).
 *
 * Accepted network syntax, as Postfix's cidr_table(5) and mynetworks:
 *   192.168.0.0/16   10.1.2.3 (a host, same as /32)
 *   2001:db8::/32    [2001:db8::]/32   ::1   [::1]   [::1]/128
 * The network must have no bits set past the prefix ("10.1.2.3/8" is an
 * error, as in Postfix). Addresses are strict: dotted quad without leading
 * zeros, RFC 4291 IPv6 text (embedded IPv4 allowed), no zone ids.
 * An IPv4-mapped IPv6 address (::ffff:10.1.2.3) matches IPv4 networks.
 *
 * Tests:    tests/unit/test_cidr.c, fuzz/fuzz_mapsrc.c
 * Refs:     cidr_table(5), RFC 4291, RFC 4632
 */
#ifndef POSTERN_CIDR_H
#define POSTERN_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define IP_V4 4
#define IP_V6 6

struct ip_addr {
	uint8_t family; /* IP_V4 or IP_V6 */
	uint8_t a[16];  /* network byte order; IPv4 in a[0..3], the rest zero */
};

struct cidr {
	struct ip_addr net; /* host bits are always zero */
	uint8_t prefix;     /* 0..32 for IPv4, 0..128 for IPv6 */
};

/*
 * ip_addr_parse - parse an address from the n bytes at s ("10.1.2.3", "::1",
 * "[::1]"). Returns 0, or -1 with *error_r (a static text).
 */
int ip_addr_parse(const char *s, size_t n, struct ip_addr *out, const char **error_r);
/*
 * cidr_parse - parse "address/prefix" or a bare address (host route) from the
 * n bytes at s. Returns 0; or -1 with *error_r (a static text), including
 * "non-null host address bits" when bits past the prefix are set (then *out
 * still holds the parsed network with those bits cleared, for a hint).
 */
int cidr_parse(const char *s, size_t n, struct cidr *out, const char **error_r);
/* cidr_match - is addr inside network c? (IPv4-mapped IPv6 addresses match IPv4 networks) */
bool cidr_match(const struct cidr *c, const struct ip_addr *addr);
/* cidr_is_everything - does c cover a whole address family (0.0.0.0/0, ::/0)? */
bool cidr_is_everything(const struct cidr *c);
/* cidr_format - append "net/prefix" in canonical text ("10.0.0.0/8", "2001:db8::/32"); 0 or -1 (buf full) */
int cidr_format(const struct cidr *c, struct buf *out);

#endif
