/*
 * smtp_path.c - RFC 5321 reverse-path / forward-path grammar, strict UTF-8
 *
 * Runs in:  smtpd (_mailnet, chrooted); input is UNTRUSTED network data
 * API:      smtp_path_parse(), smtp_path_normalize(), smtp_utf8_valid()
 *           -- see smtp_cmd.h (the path is part of the command grammar)
 * Limits:   path <= path_max bytes; domain <= 255, label <= 63 (RFC 1035);
 *           forward-only scanning with explicit end pointers
 * Tests:    tests/unit/test_smtp_cmd.c, fuzz/fuzz_smtp_cmd.c
 * Refs:     RFC 5321 s4.1.2, s4.1.3, s4.5.3.1.3; RFC 6531 s3.3; RFC 3629 s4
 */
#include "libmail/smtp_cmd.h"

#include <string.h>

#include "lib/strutil.h"
#include "libmail/cidr.h"

/* smtp_utf8_valid - RFC 3629 UTF-8: shortest form only, no surrogates, <= U+10FFFF */
bool smtp_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p, need, min, cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			min = 0x80;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			min = 0x800;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			min = 0x10000;
			cp = c & 0x07;
		} else {
			return false; /* continuation byte, C0/C1 overlong lead, or past U+10FFFF */
		}
		if ((size_t)(end - p) <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += need + 1;
	}
	return true;
}

/* ci_prefix - do the n bytes at p start with lit, ASCII case-insensitively? */
static bool ci_prefix(const char *p, size_t n, const char *lit)
{
	size_t i, len = strlen(lit);

	if (n < len)
		return false;
	for (i = 0; i < len; i++)
		if (ascii_tolower(p[i]) != lit[i])
			return false;
	return true;
}

/* is_atext - RFC 5322 atext (ASCII part) */
static bool is_atext(unsigned char c)
{
	return ascii_isalnum((char)c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* scan_dot_string - Atom *("." Atom) from *pp; false on bad syntax. UTF-8 bytes count as atext. */
static bool scan_dot_string(const char **pp, const char *end, bool *utf8)
{
	const char *p = *pp;

	for (;;) {
		const char *atom = p;

		while (p < end && (is_atext((unsigned char)*p) || (unsigned char)*p >= 0x80)) {
			if ((unsigned char)*p >= 0x80)
				*utf8 = true;
			p++;
		}
		if (p == atom)
			return false;
		if (p < end && *p == '.') {
			p++;
			continue;
		}
		*pp = p;
		return true;
	}
}

/* scan_quoted - Quoted-string from *pp (at the opening quote); false on bad syntax */
static bool scan_quoted(const char **pp, const char *end, bool *utf8)
{
	const char *p = *pp + 1;

	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*pp = p + 1;
			return true;
		}
		if (c == '\\') {
			/* quoted-pairSMTP: backslash, then %d32-126 */
			if (p + 1 >= end || (unsigned char)p[1] < 32 || (unsigned char)p[1] > 126)
				return false;
			p += 2;
			continue;
		}
		if (c >= 0x80)
			*utf8 = true;
		else if (c < 32 || c > 126)
			return false;
		p++;
	}
	return false;
}

/* valid_domain - Domain: sub-domains of let-dig [ldh-str], labels 1..63, total <= 255 */
static bool valid_domain(const char *p, const char *end, bool *utf8)
{
	if (end - p > 255 || p == end)
		return false;
	while (p < end) {
		const char *label = p;

		while (p < end && *p != '.') {
			unsigned char c = (unsigned char)*p;

			if (c >= 0x80)
				*utf8 = true;
			else if (!ascii_isalnum((char)c) && c != '-')
				return false;
			p++;
		}
		if (p == label || p - label > 63 || *label == '-' || p[-1] == '-')
			return false;
		if (p < end) {
			p++; /* the dot */
			if (p == end)
				return false; /* trailing dot */
		}
	}
	return true;
}

/* valid_literal - "[1.2.3.4]" or "[IPv6:...]"; general address literals are refused */
static bool valid_literal(const char *p, const char *end)
{
	struct ip_addr ip;
	const char *err;
	size_t n;

	if (end - p < 3 || *p != '[' || end[-1] != ']')
		return false;
	p++;
	end--;
	n = (size_t)(end - p);
	if (n > 5 && ci_prefix(p, n, "ipv6:")) {
		p += 5;
		n -= 5;
		if (memchr(p, ':', n) == NULL)
			return false;
	} else if (memchr(p, ':', n) != NULL) {
		return false;
	}
	if (memchr(p, '[', n) || memchr(p, ']', n))
		return false;
	return ip_addr_parse(p, n, &ip, &err) == 0;
}

/* set_err - the syntax error for this kind of path */
static int set_err(struct smtp_status *err, bool is_rcpt)
{
	*err = *smtp_std(is_rcpt ? SMTP_R_BAD_RCPT : SMTP_R_BAD_SENDER);
	return -1;
}

/* smtp_path_parse - one "<...>" path, strictly */
int smtp_path_parse(const char *s, size_t n, bool is_rcpt, bool utf8_ok, size_t path_max, struct arena *a,
		    struct smtp_path *out, struct smtp_status *err)
{
	const char *p = s, *end = s + n, *local, *local_end, *dom;
	bool utf8 = false;

	memset(out, 0, sizeof(*out));
	if (n < 2 || n > path_max || s[0] != '<' || s[n - 1] != '>')
		return set_err(err, is_rcpt);
	p++;
	end--;
	if (p == end) {
		if (is_rcpt)
			return set_err(err, is_rcpt);
		out->null = true;
		out->addr = out->local = out->domain = arena_strdup(a, "");
		return 0;
	}
	/* A-d-l ":" -- a source route, accepted and dropped (RFC 5321 s4.1.1.3, C.) */
	if (*p == '@') {
		for (;;) {
			const char *d = ++p;

			while (p < end && *p != ',' && *p != ':')
				p++;
			if (p == end || !valid_domain(d, p, &utf8))
				return set_err(err, is_rcpt);
			if (*p == ':') {
				p++;
				break;
			}
			p++; /* ',' */
			if (p == end || *p != '@')
				return set_err(err, is_rcpt);
		}
		out->routed = true;
	}
	/* Local-part */
	local = p;
	if (p < end && *p == '"') {
		if (!scan_quoted(&p, end, &utf8))
			return set_err(err, is_rcpt);
		out->quoted = true;
	} else if (!scan_dot_string(&p, end, &utf8)) {
		return set_err(err, is_rcpt);
	}
	local_end = p;
	if (p == end) {
		/* "<postmaster>" (RCPT only, RFC 5321 s4.1.1.3) */
		if (is_rcpt && !out->routed && !out->quoted && local_end - local == 10 &&
		    ci_prefix(local, 10, "postmaster")) {
			out->postmaster = true;
			out->local = arena_memdup(a, local, 10);
			out->addr = arena_strdup(a, out->local);
			out->domain = arena_strdup(a, "");
			return 0;
		}
		return set_err(err, is_rcpt);
	}
	if (*p != '@')
		return set_err(err, is_rcpt);
	dom = ++p;
	if (p < end && *p == '[') {
		if (!valid_literal(p, end))
			return set_err(err, is_rcpt);
		out->literal = true;
	} else if (!valid_domain(p, end, &utf8)) {
		return set_err(err, is_rcpt);
	}
	if (utf8 && !utf8_ok)
		return set_err(err, is_rcpt);
	out->utf8 = utf8;
	out->local = arena_memdup(a, local, (size_t)(local_end - local));
	out->domain = arena_memdup(a, dom, (size_t)(end - dom));
	out->addr = arena_memdup(a, local, (size_t)(end - local));
	return 0;
}

/* smtp_path_normalize - lookup form: domain lowercased */
char *smtp_path_normalize(const struct smtp_path *path, struct arena *a)
{
	char *s;
	size_t ln;

	if (path->null)
		return arena_strdup(a, "");
	if (path->postmaster)
		return arena_strdup(a, "postmaster");
	s = arena_printf(a, "%s@%s", path->local, path->domain);
	ln = strlen(path->local);
	if (!path->literal)
		str_lower_ascii(s + ln + 1, strlen(s + ln + 1));
	return s;
}
