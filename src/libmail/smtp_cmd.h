/*
 * smtp_cmd.h - parse one SMTP command line: verb, argument, MAIL/RCPT path and parameters
 *
 * The caller hands over one command line without its CRLF (the line reader
 * has split it). The verb is looked up case-insensitively; the argument is
 * what follows the verb and its spaces, with trailing white space dropped.
 *
 * MAIL FROM:<reverse-path> / RCPT TO:<forward-path> follow RFC 5321 s4.1.2:
 *   - "<>" is the null sender (MAIL only); "<postmaster>" without a domain,
 *     in any case, is accepted for RCPT only (path->postmaster);
 *   - a source route "<@a,@b:user@d>" is accepted and dropped (s4.1.1.3);
 *   - the local part is a dot-string or a quoted-string (quoted pairs
 *     allowed); the domain is a host name or an address literal
 *     "[1.2.3.4]" / "[IPv6:2001:db8::1]" (checked as addresses);
 *   - UTF-8 in the local part and domain (RFC 6531) is accepted when the
 *     transaction declared SMTPUTF8: for MAIL, the SMTPUTF8 parameter of the
 *     same command; for RCPT, SMTP_CMD_SMTPUTF8 in flags. Without it, a
 *     non-ASCII address gets "553 5.6.7 Must declare SMTPUTF8 to send unicode
 *     address". A line that is not valid UTF-8 (overlong forms, surrogates,
 *     code points past U+10FFFF, truncated sequences) is "500 5.5.2 Error:
 *     bad UTF-8 syntax", whatever the verb;
 *   - case is preserved: smtp_path_normalize() gives the lookup form.
 * Lenient like Postfix: spaces after "FROM:"/"TO:" ("MAIL FROM: <a@b>"),
 * runs of spaces or tabs between words, trailing white space. Strict where
 * Postfix's smtpd_strict_rfc821_envelopes is: an address without angle
 * brackets is "501 5.1.7 Bad sender address syntax" (RCPT: 501 5.1.3).
 *
 * ESMTP parameters KEY[=VALUE] after the path are kept in a list (at most
 * lim->param_max, each at most lim->param_len bytes, else "501 5.5.4 Error: too
 * many parameters" / "501 5.5.4 Error: parameter too long", Postern's wording) and the known ones are
 * checked: MAIL takes SIZE, BODY (7BIT, 8BITMIME, BINARYMIME), SMTPUTF8, RET,
 * ENVID, AUTH; RCPT takes NOTIFY, ORCPT. Any other key, or a known key on the
 * wrong command, is "555 5.5.4 Unsupported option: KEY=VALUE" (sanitized).
 * The caller still decides whether a feature it did not announce may be used
 * (e.g. BODY=BINARYMIME without CHUNKING, AUTH= without AUTH).
 *
 * Every error carries the reply Postfix's smtpd gives (see smtp_reply.h);
 * texts that echo peer bytes are sanitized and bounded.
 *
 * Memory: every string in the result is a NUL-terminated copy in the caller's
 * arena (no pointer into the input line survives), so the line buffer may be
 * reused at once. The arena's total use per call is bounded by a small
 * multiple of the line length.
 *
 * Tests:    tests/unit/test_smtp_cmd.c, fuzz/fuzz_smtp_cmd.c
 * Refs:     RFC 5321 s4.1, s4.5.3.1; RFC 1652, 1870, 3030, 3461, 4954, 6531;
 *           Postfix smtpd(8) replies
 */
#ifndef POSTERN_SMTP_CMD_H
#define POSTERN_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "libmail/smtp_reply.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_EHLO,
	SMTP_VERB_HELO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_EXPN,
	SMTP_VERB_ETRN,
};

enum smtp_body { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };
enum smtp_ret { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };

/* NOTIFY= bits (RFC 3461 s4.1) */
#define SMTP_NOTIFY_NEVER 0x1
#define SMTP_NOTIFY_SUCCESS 0x2
#define SMTP_NOTIFY_FAILURE 0x4
#define SMTP_NOTIFY_DELAY 0x8

struct smtp_cmd_limits {
	size_t line_max;  /* longest command line, CRLF excluded (RFC 5321: 512; Postfix line_length_limit: 2048) */
	size_t path_max;  /* longest path, "<" and ">" included (RFC 5321 s4.5.3.1.3: 256) */
	size_t param_max; /* most ESMTP parameters on one MAIL/RCPT (e.g. 10) */
	size_t param_len; /* longest KEY=VALUE (e.g. 500: ORCPT may hold a full address in xtext) */
	uint64_t size_max; /* largest SIZE= accepted (message_size_limit; 0: no limit) */
};

/* flags for smtp_cmd_parse() */
#define SMTP_CMD_SMTPUTF8 0x1 /* the transaction declared SMTPUTF8 (RCPT may use UTF-8) */

struct smtp_path {
	char *addr;      /* "local@domain" as received (route dropped); "" for <>; "postmaster" */
	char *local;     /* the local part as received (with its quotes, if quoted) */
	char *domain;    /* domain or "[literal]" as received; "" for <> and <postmaster> */
	bool null;       /* <> */
	bool postmaster; /* <postmaster> without a domain (RCPT only) */
	bool quoted;     /* the local part is a quoted-string */
	bool literal;    /* the domain is an address literal */
	bool utf8;       /* non-ASCII in the local part or domain */
	bool routed;     /* a source route was given (and dropped) */
};

struct smtp_param {
	char *key;   /* as received */
	char *value; /* after "=", or NULL when there was no "=" */
};

struct smtp_cmd {
	enum smtp_verb verb;
	char *verb_text; /* the verb as received (bounded, sanitized), for logs */
	char *arg;       /* the rest of the line after the verb, trailing white space dropped ("" if none) */
	/* MAIL, RCPT */
	struct smtp_path path;
	struct smtp_param *params;
	size_t nparams;
	/* MAIL parameters */
	bool has_size;
	uint64_t size;       /* SIZE= */
	enum smtp_body body; /* BODY= */
	bool smtputf8;       /* SMTPUTF8 */
	enum smtp_ret ret;   /* RET= */
	char *envid;         /* ENVID= (xtext as received), or NULL */
	char *auth;          /* AUTH= (xtext as received, "<>" allowed), or NULL */
	/* RCPT parameters */
	unsigned notify;     /* NOTIFY= bits, 0 when absent */
	char *orcpt;         /* ORCPT= "type;xtext" as received, or NULL */
	/* BDAT */
	uint64_t bdat_size;
	bool bdat_last;
	/* on error */
	struct smtp_status err;
};

/*
 * smtp_cmd_parse - parse the command line p[0..n) (no CRLF) into *out, with
 * every string allocated from a.
 * Returns 1 with *out filled in, or -1 with out->err set to the reply for the
 * client (out->verb is still set when the verb was recognised, for counting).
 * Never returns 0: the line is complete by contract.
 * Errors, besides those of MAIL/RCPT above: longer than lim->line_max
 * "500 5.5.2 Error: line too long"; empty, or a NUL or other control byte
 * (except TAB) "500 5.5.2 Error: bad syntax"; unknown verb "502 5.5.2
 * Error: command not recognized"; a missing or extra argument "501 5.5.4
 * Syntax: ..." as Postfix words it per verb.
 */
int smtp_cmd_parse(const char *p, size_t n, const struct smtp_cmd_limits *lim, unsigned flags, struct arena *a,
		   struct smtp_cmd *out);

/*
 * smtp_path_parse - parse a lone path "<...>" (all n bytes) as MAIL (is_rcpt
 * false) or RCPT would; UTF-8 allowed when utf8. 0, or -1 with *err set.
 */
int smtp_path_parse(const char *p, size_t n, bool is_rcpt, bool utf8, size_t path_max, struct arena *a,
		    struct smtp_path *out, struct smtp_status *err);

/*
 * smtp_path_normalize - the lookup form of a path: local part as received,
 * "@", domain with ASCII letters lowercased (address literals as received).
 * "" for <>, "postmaster" for <postmaster>. Allocated from a.
 */
char *smtp_path_normalize(const struct smtp_path *path, struct arena *a);

/* smtp_verb_name - "MAIL" etc., "UNKNOWN" for SMTP_VERB_UNKNOWN */
const char *smtp_verb_name(enum smtp_verb v);

/* smtp_utf8_valid - strict UTF-8 check (no overlongs, surrogates or code points past U+10FFFF) */
bool smtp_utf8_valid(const char *p, size_t n);

#endif
