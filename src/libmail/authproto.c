/*
 * authproto.c - the auth protocol's lines: split, escape, parse AUTH
 *
 * Runs in:  the auth service and the auth client libraries; input is
 *           UNTRUSTED (a login process may be compromised)
 * API:      see authproto.h
 * Limits:   fields <= caller's max; ports 1..65535; ids 1..2^32-1
 * Tests:    tests/unit/test_authproto.c, fuzz/fuzz_authproto.c
 * Refs:     docs/mail-access.md
 */
#include <string.h>

#include "lib/strutil.h"
#include "libmail/authproto.h"

/*
 * unescape - in place, the field [p, end); returns the new end, or NULL on a
 * bad escape. Ours: \t \n \\. Dovecot's own (str_tabescape): \001 then t, n,
 * r or 1, accepted too so that Dovecot-speaking clients interoperate.
 */
static char *unescape(char *p, char *end)
{
	char *w = p;

	for (; p < end; p++) {
		char esc = *p;

		if (esc != '\\' && esc != '\001') {
			*w++ = *p;
			continue;
		}
		if (++p == end)
			return NULL;
		if (*p == 't')
			*w++ = '\t';
		else if (*p == 'n')
			*w++ = '\n';
		else if (esc == '\\' && *p == '\\')
			*w++ = '\\';
		else if (esc == '\001' && *p == 'r')
			*w++ = '\r';
		else if (esc == '\001' && *p == '1')
			*w++ = '\001';
		else
			return NULL;
	}
	return w;
}

/* authproto_split - TAB-separated, unescaped fields of line */
int authproto_split(char *line, size_t len, char **fields, size_t max, const char **error_r)
{
	char *p = line, *end = line + len, *f, *fe;
	size_t n = 0;

	for (;;) {
		f = p;
		while (p < end && *p != '\t') {
			if (*p == '\0' || *p == '\r' || *p == '\n') {
				*error_r = "control character in a line";
				return -1;
			}
			p++;
		}
		if (n == max) {
			*error_r = "too many fields";
			return -1;
		}
		if (!(fe = unescape(f, p))) {
			*error_r = "bad escape sequence";
			return -1;
		}
		fields[n++] = f;
		if (p == end) {
			*fe = '\0';
			break;
		}
		*fe = '\0';
		p++;
	}
	return (int)n;
}

/* authproto_escape - append s with TAB, LF and backslash escaped (CR and 001 in Dovecot's form) */
int authproto_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		int rc;

		switch (*s) {
		case '\t': rc = buf_puts(b, "\\t"); break;
		case '\n': rc = buf_puts(b, "\\n"); break;
		case '\\': rc = buf_puts(b, "\\\\"); break;
		case '\r': rc = buf_puts(b, "\001r"); break; /* ours has no form for these two */
		case '\001': rc = buf_puts(b, "\0011"); break;
		default: rc = buf_putc(b, *s); break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* authproto_parse_id - strict decimal 1..UINT32_MAX */
int authproto_parse_id(const char *s, uint32_t *id_r)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0' || s[0] == '0')
		return -1;
	for (i = 0; s[i]; i++) {
		if (!ascii_isdigit(s[i]) || i >= 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*id_r = (uint32_t)v;
	return 0;
}

/* parse_port - 1..65535 */
static int parse_port(const char *s, unsigned *out)
{
	uint32_t v;

	if (authproto_parse_id(s, &v) < 0 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

/* authproto_parse_auth - AUTH <id> <mech> [params] */
int authproto_parse_auth(char *const *fields, size_t n, struct authproto_auth *out, const char **error_r)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (n < 3 || strcmp(fields[0], "AUTH") != 0) {
		*error_r = "AUTH needs an id and a mechanism";
		return -1;
	}
	if (authproto_parse_id(fields[1], &out->id) < 0) {
		*error_r = "bad request id";
		return -1;
	}
	if (fields[2][0] == '\0') {
		*error_r = "empty mechanism name";
		return -1;
	}
	out->mech = fields[2];
	for (i = 3; i < n; i++) {
		const char *f = fields[i], *eq = strchr(f, '='), *v = eq ? eq + 1 : NULL;
		size_t kl = eq ? (size_t)(eq - f) : strlen(f);

#define KEY(k) (kl == sizeof(k) - 1 && memcmp(f, k, kl) == 0)
		if (!eq && KEY("secured"))
			out->secured = true;
		else if (!eq && KEY("valid-client-cert"))
			out->valid_client_cert = true;
		else if (!eq && KEY("nologin"))
			; /* accepted, meaningless here */
		else if (eq && KEY("service"))
			out->service = v;
		else if (eq && KEY("lip"))
			out->lip = v;
		else if (eq && KEY("rip"))
			out->rip = v;
		else if (eq && KEY("lport")) {
			if (parse_port(v, &out->lport) < 0) {
				*error_r = "bad lport";
				return -1;
			}
		} else if (eq && KEY("rport")) {
			if (parse_port(v, &out->rport) < 0) {
				*error_r = "bad rport";
				return -1;
			}
		} else if (eq && KEY("resp")) {
			out->has_resp = true;
			out->resp = v;
		} else if (eq && KEY("apop-challenge"))
			out->apop_challenge = v;
#undef KEY
	}
	if (out->service == NULL || out->service[0] == '\0') {
		*error_r = "service= is missing";
		return -1;
	}
	return 0;
}
