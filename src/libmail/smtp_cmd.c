/*
 * smtp_cmd.c - tokenise and validate one SMTP command line
 *
 * Runs in:  smtpd (_mailnet, chrooted); input is UNTRUSTED network data
 * API:      smtp_cmd_parse(), smtp_verb_name()   -- see smtp_cmd.h
 *           (the path grammar is in smtp_path.c)
 * Limits:   line <= lim->line_max, path <= lim->path_max,
 *           params <= lim->param_max of <= lim->param_len bytes each;
 *           forward-only scanning with explicit end pointers
 * Tests:    tests/unit/test_smtp_cmd.c, fuzz/fuzz_smtp_cmd.c
 * Refs:     RFC 5321 s4.1, RFC 1652, RFC 1870, RFC 3030, RFC 3461, RFC 4954,
 *           RFC 6531 (SMTPUTF8); Postfix smtpd(8) replies
 */
#include "libmail/smtp_cmd.h"

#include <string.h>

#include "lib/strtab.h"
#include "lib/strutil.h"

static const struct strtab smtp_verbs[] = {
	{ "EHLO", SMTP_VERB_EHLO },
	{ "HELO", SMTP_VERB_HELO },
	{ "MAIL", SMTP_VERB_MAIL },
	{ "RCPT", SMTP_VERB_RCPT },
	{ "DATA", SMTP_VERB_DATA },
	{ "BDAT", SMTP_VERB_BDAT },
	{ "RSET", SMTP_VERB_RSET },
	{ "NOOP", SMTP_VERB_NOOP },
	{ "QUIT", SMTP_VERB_QUIT },
	{ "VRFY", SMTP_VERB_VRFY },
	{ "HELP", SMTP_VERB_HELP },
	{ "STARTTLS", SMTP_VERB_STARTTLS },
	{ "AUTH", SMTP_VERB_AUTH },
	{ "EXPN", SMTP_VERB_EXPN },
	{ "ETRN", SMTP_VERB_ETRN },
	STRTAB_END,
};

static const struct strtab body_types[] = {
	{ "7BIT", SMTP_BODY_7BIT },
	{ "8BITMIME", SMTP_BODY_8BITMIME },
	{ "BINARYMIME", SMTP_BODY_BINARYMIME },
	STRTAB_END,
};

static const struct strtab ret_types[] = {
	{ "FULL", SMTP_RET_FULL },
	{ "HDRS", SMTP_RET_HDRS },
	STRTAB_END,
};

static const struct strtab notify_types[] = {
	{ "NEVER", SMTP_NOTIFY_NEVER },
	{ "SUCCESS", SMTP_NOTIFY_SUCCESS },
	{ "FAILURE", SMTP_NOTIFY_FAILURE },
	{ "DELAY", SMTP_NOTIFY_DELAY },
	STRTAB_END,
};

/* the ESMTP parameters we know, and which command takes them */
enum { P_SIZE, P_BODY, P_SMTPUTF8, P_RET, P_ENVID, P_AUTH, P_NOTIFY, P_ORCPT, P__COUNT };
static const struct strtab param_keys[] = {
	{ "SIZE", P_SIZE },     { "BODY", P_BODY },   { "SMTPUTF8", P_SMTPUTF8 }, { "RET", P_RET },
	{ "ENVID", P_ENVID },   { "AUTH", P_AUTH },   { "NOTIFY", P_NOTIFY },     { "ORCPT", P_ORCPT },
	STRTAB_END,
};

/* how much of peer text an error reply may echo (Postfix uses %.100s) */
#define ECHO_MAX 100

/* smtp_verb_name - the verb's name */
const char *smtp_verb_name(enum smtp_verb v)
{
	return strtab_name(smtp_verbs, (int)v, "UNKNOWN");
}

/* is_wsp - SP or HTAB */
static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* fail_std - set a standard error reply; returns -1 */
static int fail_std(struct smtp_cmd *out, enum smtp_reply_id id)
{
	out->err = *smtp_std(id);
	return -1;
}

/* fail_unsupported - "555 5.5.4 Unsupported option: <param>" with the param sanitized */
static int fail_unsupported(struct smtp_cmd *out, struct arena *a, const char *p, size_t n)
{
	out->err.code = 555;
	out->err.enh = "5.5.4";
	out->err.text = arena_printf(a, "Unsupported option: %s", smtp_sanitize_arena(a, p, n, ECHO_MAX));
	return -1;
}

/* valid_xtext - RFC 3461 s4: xchar except "+" and "=", or "+" two uppercase hex digits */
static bool valid_xtext(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '+') {
			if (i + 2 >= n)
				return false;
			for (size_t k = 1; k <= 2; k++) {
				char h = p[i + k];

				if (!ascii_isdigit(h) && !(h >= 'A' && h <= 'F'))
					return false;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return true;
}

/*
 * parse_param - check one known parameter kw=value (value NULL: none); 0 or -1
 * with out->err. Each value check is stricter than RFC 5321's esmtp-value.
 */
static int parse_param(struct smtp_cmd *out, struct arena *a, int kw, const char *tok, size_t toklen,
		       const char *val, size_t vlen, bool seen)
{
	int code;

	switch (kw) {
	case P_SIZE:
		if (seen || !val || vlen == 0)
			return fail_std(out, SMTP_R_BAD_SIZE);
		for (size_t i = 0; i < vlen; i++)
			if (!ascii_isdigit(val[i]))
				return fail_std(out, SMTP_R_BAD_SIZE);
		if (parse_u64(val, vlen, &out->size) < 0)
			return fail_std(out, SMTP_R_SIZE_FS_LIMIT);
		out->has_size = true;
		return 0;
	case P_BODY:
		code = val ? strtab_code_n(body_types, val, vlen, STRTAB_NOCASE, SMTP_BODY_NONE) : SMTP_BODY_NONE;
		if (seen || code == SMTP_BODY_NONE)
			return fail_unsupported(out, a, tok, toklen);
		out->body = (enum smtp_body)code;
		return 0;
	case P_SMTPUTF8:
		if (seen || val)
			return fail_unsupported(out, a, tok, toklen);
		out->smtputf8 = true;
		return 0;
	case P_RET:
		code = val ? strtab_code_n(ret_types, val, vlen, STRTAB_NOCASE, SMTP_RET_NONE) : SMTP_RET_NONE;
		if (seen || code == SMTP_RET_NONE)
			return fail_std(out, SMTP_R_BAD_RET);
		out->ret = (enum smtp_ret)code;
		return 0;
	case P_ENVID:
		/* RFC 3461 s4.4: at most 100 characters */
		if (seen || !val || vlen == 0 || vlen > 100 || !valid_xtext(val, vlen))
			return fail_std(out, SMTP_R_BAD_ENVID);
		out->envid = arena_memdup(a, val, vlen);
		return 0;
	case P_AUTH:
		if (seen)
			return fail_std(out, SMTP_R_MULTIPLE_AUTH);
		if (!val || vlen == 0 || !((vlen == 2 && val[0] == '<' && val[1] == '>') || valid_xtext(val, vlen)))
			return fail_std(out, SMTP_R_BAD_AUTH_PARAM);
		out->auth = arena_memdup(a, val, vlen);
		return 0;
	case P_NOTIFY: {
		int mask = 0;
		struct slice bad;

		if (seen || !val || vlen == 0 || val[vlen - 1] == ',' || val[0] == ',' ||
		    strtab_mask(notify_types, slice_make(val, vlen), ",", STRTAB_NOCASE, &mask, &bad) < 0 ||
		    mask == 0 || ((mask & SMTP_NOTIFY_NEVER) && mask != SMTP_NOTIFY_NEVER))
			return fail_std(out, SMTP_R_BAD_NOTIFY);
		for (size_t i = 0; i + 1 < vlen; i++)
			if (val[i] == ',' && val[i + 1] == ',')
				return fail_std(out, SMTP_R_BAD_NOTIFY);
		out->notify = (unsigned)mask;
		return 0;
	}
	case P_ORCPT: {
		/* addr-type ";" xtext, addr-type an atom ("rfc822", "utf-8") */
		const char *semi = val ? memchr(val, ';', vlen) : NULL;
		size_t i, tlen = semi ? (size_t)(semi - val) : 0;

		if (seen || !semi || tlen == 0 || tlen + 1 == vlen || !valid_xtext(semi + 1, vlen - tlen - 1))
			return fail_std(out, SMTP_R_BAD_ORCPT);
		for (i = 0; i < tlen; i++)
			if (!ascii_isalnum(val[i]) && val[i] != '-')
				return fail_std(out, SMTP_R_BAD_ORCPT);
		out->orcpt = arena_memdup(a, val, vlen);
		return 0;
	}
	}
	return fail_unsupported(out, a, tok, toklen);
}

/* parse_params - the ESMTP parameters of MAIL (is_rcpt false) or RCPT in p[0..end) */
static int parse_params(struct smtp_cmd *out, const char *p, const char *end, bool is_rcpt,
			const struct smtp_cmd_limits *lim, struct arena *a)
{
	bool seen[P__COUNT] = { false };
	size_t max = lim->param_max;

	out->params = arena_alloc(a, (max ? max : 1) * sizeof(*out->params));
	for (;;) {
		const char *tok, *eq, *val;
		size_t toklen, klen, vlen;
		int kw;

		while (p < end && is_wsp(*p))
			p++;
		if (p == end)
			return 0;
		tok = p;
		while (p < end && !is_wsp(*p))
			p++;
		toklen = (size_t)(p - tok);
		if (out->nparams >= max)
			return fail_std(out, SMTP_R_TOO_MANY_PARAMS);
		if (toklen > lim->param_len)
			return fail_std(out, SMTP_R_PARAM_TOO_LONG);
		eq = memchr(tok, '=', toklen);
		klen = eq ? (size_t)(eq - tok) : toklen;
		val = eq ? eq + 1 : NULL;
		vlen = eq ? toklen - klen - 1 : 0;
		out->params[out->nparams].key = arena_memdup(a, tok, klen);
		out->params[out->nparams].value = val ? arena_memdup(a, val, vlen) : NULL;
		out->nparams++;
		kw = strtab_code_n(param_keys, tok, klen, STRTAB_NOCASE, -1);
		/* a known key on the wrong command is as unknown as any other (Postfix) */
		if (kw < 0 || (is_rcpt != (kw == P_NOTIFY || kw == P_ORCPT)))
			return fail_unsupported(out, a, tok, toklen);
		if (parse_param(out, a, kw, tok, toklen, val, vlen, seen[kw]) < 0)
			return -1;
		seen[kw] = true;
	}
}

/* path_end - the byte after the ">" closing the path at p (quoted strings honoured), or NULL */
static const char *path_end(const char *p, const char *end)
{
	bool quoted = false;

	for (p++; p < end; p++) {
		if (quoted && *p == '\\') {
			if (++p == end)
				return NULL;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (!quoted && *p == '>') {
			return p + 1;
		}
	}
	return NULL;
}

/* parse_mail_rcpt - "FROM:<path> params" / "TO:<path> params" in p[0..end) */
static int parse_mail_rcpt(struct smtp_cmd *out, const char *p, const char *end, bool is_rcpt,
			   const struct smtp_cmd_limits *lim, unsigned flags, struct arena *a)
{
	const char *kw = is_rcpt ? "to:" : "from:", *pe;
	size_t kwlen = strlen(kw), i;
	enum smtp_reply_id bad = is_rcpt ? SMTP_R_BAD_RCPT : SMTP_R_BAD_SENDER;
	bool utf8_ok;

	if ((size_t)(end - p) < kwlen)
		return fail_std(out, is_rcpt ? SMTP_R_SYNTAX_RCPT : SMTP_R_SYNTAX_MAIL);
	for (i = 0; i < kwlen; i++)
		if (ascii_tolower(p[i]) != kw[i])
			return fail_std(out, is_rcpt ? SMTP_R_SYNTAX_RCPT : SMTP_R_SYNTAX_MAIL);
	p += kwlen;
	/* lenient like Postfix: "MAIL FROM: <a@b>" */
	while (p < end && is_wsp(*p))
		p++;
	if (p == end)
		return fail_std(out, is_rcpt ? SMTP_R_SYNTAX_RCPT : SMTP_R_SYNTAX_MAIL);
	/* strict like smtpd_strict_rfc821_envelopes: angle brackets required */
	if (*p != '<' || (pe = path_end(p, end)) == NULL || (pe < end && !is_wsp(*pe)))
		return fail_std(out, bad);
	if (smtp_path_parse(p, (size_t)(pe - p), is_rcpt, true, lim->path_max, a, &out->path, &out->err) < 0)
		return -1;
	if (parse_params(out, pe, end, is_rcpt, lim, a) < 0)
		return -1;
	utf8_ok = is_rcpt ? (flags & SMTP_CMD_SMTPUTF8) != 0 : out->smtputf8;
	if (out->path.utf8 && !utf8_ok)
		return fail_std(out, SMTP_R_NEED_SMTPUTF8);
	if (!is_rcpt && out->has_size && lim->size_max && out->size > lim->size_max)
		return fail_std(out, SMTP_R_SIZE_LIMIT);
	return 0;
}

/* parse_bdat - "count [LAST]" */
static int parse_bdat(struct smtp_cmd *out, const char *p, const char *end)
{
	const char *num = p;

	while (p < end && ascii_isdigit(*p))
		p++;
	if (p == num || (p < end && !is_wsp(*p)) || parse_u64(num, (size_t)(p - num), &out->bdat_size) < 0)
		return fail_std(out, SMTP_R_SYNTAX_BDAT);
	while (p < end && is_wsp(*p))
		p++;
	if (p == end)
		return 0;
	if (end - p != 4 || ascii_tolower(p[0]) != 'l' || ascii_tolower(p[1]) != 'a' ||
	    ascii_tolower(p[2]) != 's' || ascii_tolower(p[3]) != 't')
		return fail_std(out, SMTP_R_SYNTAX_BDAT);
	out->bdat_last = true;
	return 0;
}

/* smtp_cmd_parse - one command line */
int smtp_cmd_parse(const char *line, size_t n, const struct smtp_cmd_limits *lim, unsigned flags,
		   struct arena *a, struct smtp_cmd *out)
{
	const char *p = line, *end = line + n, *verb, *verb_end, *arg, *arg_end;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->verb_text = arena_strdup(a, "");
	out->arg = out->verb_text;
	if (n > lim->line_max)
		return fail_std(out, SMTP_R_LINE_TOO_LONG);
	/* the verb first, so that every error can be counted against it */
	while (p < end && is_wsp(*p))
		p++;
	verb = p;
	while (p < end && !is_wsp(*p))
		p++;
	verb_end = p;
	out->verb = (enum smtp_verb)strtab_code_n(smtp_verbs, verb, (size_t)(verb_end - verb), STRTAB_NOCASE,
						  SMTP_VERB_UNKNOWN);
	out->verb_text = smtp_sanitize_arena(a, verb, (size_t)(verb_end - verb), 32);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail_std(out, SMTP_R_BAD_SYNTAX);
	}
	if (!smtp_utf8_valid(line, n))
		return fail_std(out, SMTP_R_BAD_UTF8);
	if (verb == verb_end)
		return fail_std(out, SMTP_R_BAD_SYNTAX);
	while (p < end && is_wsp(*p))
		p++;
	arg = p;
	arg_end = end;
	while (arg_end > arg && is_wsp(arg_end[-1]))
		arg_end--;
	out->arg = arena_memdup(a, arg, (size_t)(arg_end - arg));
	switch (out->verb) {
	case SMTP_VERB_UNKNOWN:
		return fail_std(out, SMTP_R_NOT_RECOGNIZED);
	case SMTP_VERB_EHLO:
		return arg == arg_end ? fail_std(out, SMTP_R_SYNTAX_EHLO) : 1;
	case SMTP_VERB_HELO:
		return arg == arg_end ? fail_std(out, SMTP_R_SYNTAX_HELO) : 1;
	case SMTP_VERB_MAIL:
		return parse_mail_rcpt(out, arg, arg_end, false, lim, flags, a) < 0 ? -1 : 1;
	case SMTP_VERB_RCPT:
		return parse_mail_rcpt(out, arg, arg_end, true, lim, flags, a) < 0 ? -1 : 1;
	case SMTP_VERB_DATA:
		return arg != arg_end ? fail_std(out, SMTP_R_SYNTAX_DATA) : 1;
	case SMTP_VERB_BDAT:
		return parse_bdat(out, arg, arg_end) < 0 ? -1 : 1;
	case SMTP_VERB_RSET:
		return arg != arg_end ? fail_std(out, SMTP_R_SYNTAX_RSET) : 1;
	case SMTP_VERB_NOOP:
		return arg != arg_end ? fail_std(out, SMTP_R_SYNTAX_NOOP) : 1;
	case SMTP_VERB_STARTTLS:
		return arg != arg_end ? fail_std(out, SMTP_R_SYNTAX_STARTTLS) : 1;
	case SMTP_VERB_QUIT:
	case SMTP_VERB_HELP:
		return 1;
	case SMTP_VERB_VRFY:
		return arg == arg_end ? fail_std(out, SMTP_R_SYNTAX_VRFY) : 1;
	case SMTP_VERB_EXPN:
		return arg == arg_end ? fail_std(out, SMTP_R_SYNTAX_EXPN) : 1;
	case SMTP_VERB_ETRN:
		return arg == arg_end ? fail_std(out, SMTP_R_SYNTAX_ETRN) : 1;
	case SMTP_VERB_AUTH:
		return arg == arg_end ? fail_std(out, SMTP_R_SYNTAX_AUTH) : 1;
	}
	return fail_std(out, SMTP_R_NOT_RECOGNIZED);
}
