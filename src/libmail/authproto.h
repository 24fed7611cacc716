/*
 * authproto.h - the auth protocol's lines (docs/mail-access.md): split, escape, parse AUTH
 *
 * Lines are TAB-separated fields; inside a field TAB, LF and backslash are
 * written "\t", "\n" and "\\" (docs/mail-access.md); Dovecot's own escapes
 * (byte 001 followed by t, n, r or 1) are accepted on input. Splitting works in place
 * on a NUL-terminated line the caller owns: the fields point into it, already
 * unescaped. Pure: no I/O, no globals, no allocation.
 *
 * Runs in:  the auth service (lines from login processes and dispatchers), and
 *           the client libraries (lines from the auth service)
 * API:      authproto_split(), authproto_escape(), authproto_parse_id(), authproto_parse_auth()
 * Limits:   AUTHPROTO_LINE_MAX bytes a line, at most the caller's count of fields
 * Tests:    tests/unit/test_authproto.c, fuzz/fuzz_authproto.c
 * Refs:     docs/mail-access.md; Dovecot's "Authentication protocol"
 */
#ifndef POSTERN_AUTHPROTO_H
#define POSTERN_AUTHPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define AUTHPROTO_LINE_MAX 16384 /* one line without its LF; base64 of SASL_INPUT_MAX fits */
#define AUTHPROTO_FIELDS_MAX 32  /* fields of one line */

/*
 * authproto_split - split line (NUL-terminated, modified) at TABs into at most
 * max fields, unescaping each. Returns the count (>= 1), or -1 with *error_r:
 * too many fields, a bad escape, a NUL, CR or LF byte inside.
 */
int authproto_split(char *line, size_t len, char **fields, size_t max, const char **error_r);

/* authproto_escape - append s escaped for one field; 0, or -1 when b is full */
int authproto_escape(struct buf *b, const char *s);

/* authproto_parse_id - a request id: decimal 1..4294967295 without sign or leading zero; 0 or -1 */
int authproto_parse_id(const char *s, uint32_t *id_r);

/* the fields of "AUTH <id> <mech> key=value ..." */
struct authproto_auth {
	uint32_t id;
	const char *mech;
	const char *service;    /* required */
	const char *lip, *rip;  /* NULL when not given */
	unsigned lport, rport;  /* 0 when not given */
	bool secured, valid_client_cert;
	bool has_resp;          /* resp= was given (maybe empty: an empty initial response) */
	const char *resp;       /* base64 */
	const char *apop_challenge;
};

/*
 * authproto_parse_auth - fields[0..n) of a split AUTH line into out (pointers
 * into fields). Unknown key=value parameters are ignored (later versions may
 * add some), as Dovecot does. 0, or -1 with *error_r (a static text).
 */
int authproto_parse_auth(char *const *fields, size_t n, struct authproto_auth *out, const char **error_r);

#endif
