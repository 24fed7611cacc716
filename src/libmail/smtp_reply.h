/*
 * smtp_reply.h - format SMTP server replies; Postfix's standard reply texts
 *
 * Pure formatting into a caller's buf (whose maximum bounds the result): no
 * I/O, no globals, no logging. A reply is "CODE SP [ENH SP] text CRLF"; a
 * multi-line reply repeats the code with "-" on every line but the last
 * (RFC 5321 s4.2.1) and, when given, the enhanced status code on every line
 * (RFC 2034 s4). Texts are never peer bytes: echo peer text only through
 * smtp_sanitize*(), which keeps printable ASCII, turns everything else into
 * "?" and bounds the length (Postfix printable() plus "%.100s").
 *
 * The table smtp_std_replies[] holds the replies the protocol layer uses, in
 * Postfix's wording (code, enhanced code, text), so callers and tests share
 * one spelling.
 *
 * Tests:    tests/unit/test_smtp_reply.c
 * Refs:     RFC 5321 s4.2, RFC 2034, RFC 3463; Postfix smtpd(8) reply texts
 */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"

/* an SMTP reply: what a parser hands back with an error, what the server sends */
struct smtp_status {
	uint16_t code;    /* 3-digit reply code, e.g. 501 */
	const char *enh;  /* enhanced status code "5.1.7", or NULL for none */
	const char *text; /* NUL-terminated printable ASCII, no CR/LF (static or arena) */
};

/* the standard replies (Postfix wording); index into smtp_std_replies[] */
enum smtp_reply_id {
	SMTP_R_OK,                /* 250 2.0.0 Ok */
	SMTP_R_SENDER_OK,         /* 250 2.1.0 Ok */
	SMTP_R_RCPT_OK,           /* 250 2.1.5 Ok */
	SMTP_R_DATA_GO,           /* 354 End data with <CR><LF>.<CR><LF> */
	SMTP_R_BYE,               /* 221 2.0.0 Bye */
	SMTP_R_VRFY_CANNOT,       /* 252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery */
	SMTP_R_VRFY_DISABLED,     /* 502 5.5.1 VRFY command is disabled (Postfix disable_vrfy_command) */
	SMTP_R_BAD_SYNTAX,        /* 500 5.5.2 Error: bad syntax */
	SMTP_R_BAD_UTF8,          /* 500 5.5.2 Error: bad UTF-8 syntax */
	SMTP_R_LINE_TOO_LONG,     /* 500 5.5.2 Error: line too long (Postern wording) */
	SMTP_R_NOT_RECOGNIZED,    /* 502 5.5.2 Error: command not recognized */
	SMTP_R_NOT_IMPLEMENTED,   /* 502 5.5.1 Error: command not implemented */
	SMTP_R_BAD_SENDER,        /* 501 5.1.7 Bad sender address syntax */
	SMTP_R_BAD_RCPT,          /* 501 5.1.3 Bad recipient address syntax */
	SMTP_R_SYNTAX_MAIL,       /* 501 5.5.4 Syntax: MAIL FROM:<address> */
	SMTP_R_SYNTAX_RCPT,       /* 501 5.5.4 Syntax: RCPT TO:<address> */
	SMTP_R_SYNTAX_HELO,       /* 501 5.5.4 Syntax: HELO hostname */
	SMTP_R_SYNTAX_EHLO,       /* 501 5.5.4 Syntax: EHLO hostname */
	SMTP_R_SYNTAX_DATA,       /* 501 5.5.4 Syntax: DATA */
	SMTP_R_SYNTAX_BDAT,       /* 501 5.5.4 Syntax: BDAT count [LAST] */
	SMTP_R_SYNTAX_RSET,       /* 501 5.5.4 Syntax: RSET */
	SMTP_R_SYNTAX_NOOP,       /* 501 5.5.4 Syntax: NOOP */
	SMTP_R_SYNTAX_STARTTLS,   /* 501 5.5.4 Syntax: STARTTLS */
	SMTP_R_SYNTAX_VRFY,       /* 501 5.5.4 Syntax: VRFY address */
	SMTP_R_SYNTAX_EXPN,       /* 501 5.5.4 Syntax: EXPN address */
	SMTP_R_SYNTAX_ETRN,       /* 501 5.5.4 Syntax: ETRN domain */
	SMTP_R_SYNTAX_AUTH,       /* 501 5.5.4 Syntax: AUTH mechanism */
	SMTP_R_BAD_SIZE,          /* 501 5.5.4 Bad message size syntax */
	SMTP_R_BAD_RET,           /* 501 5.5.4 Bad RET parameter syntax */
	SMTP_R_BAD_ENVID,         /* 501 5.5.4 Bad ENVID parameter syntax */
	SMTP_R_BAD_NOTIFY,        /* 501 5.5.4 Error: Bad NOTIFY parameter syntax */
	SMTP_R_BAD_ORCPT,         /* 501 5.5.4 Error: Bad ORCPT parameter syntax */
	SMTP_R_BAD_AUTH_PARAM,    /* 501 5.5.4 Error: Bad AUTH parameter syntax (Postern wording) */
	SMTP_R_MULTIPLE_AUTH,     /* 503 5.5.4 Error: multiple AUTH= options */
	SMTP_R_TOO_MANY_PARAMS,   /* 501 5.5.4 Error: too many parameters (Postern wording) */
	SMTP_R_PARAM_TOO_LONG,    /* 501 5.5.4 Error: parameter too long (Postern wording) */
	SMTP_R_NEED_SMTPUTF8,     /* 553 5.6.7 Must declare SMTPUTF8 to send unicode address */
	SMTP_R_SIZE_FS_LIMIT,     /* 552 5.3.4 Message size exceeds file system imposed limit */
	SMTP_R_SIZE_LIMIT,        /* 552 5.3.4 Message size exceeds fixed limit */
	SMTP_R_CHUNK_SIZE_LIMIT,  /* 552 5.3.4 Chunk exceeds message size limit */
	SMTP_R_TOO_MANY_RCPTS,    /* 452 4.5.3 Error: too many recipients */
	SMTP_R_TOO_MANY_ERRORS,   /* 421 4.7.0 Error: too many errors (the caller prefixes myhostname) */
	SMTP_R_NEED_HELO,         /* 503 5.5.1 Error: send HELO/EHLO first */
	SMTP_R_NESTED_MAIL,       /* 503 5.5.1 Error: nested MAIL command */
	SMTP_R_NEED_MAIL,         /* 503 5.5.1 Error: need MAIL command */
	SMTP_R_NEED_RCPT,         /* 503 5.5.1 Error: need RCPT command */
	SMTP_R_NO_VALID_RCPTS,    /* 554 5.5.1 Error: no valid recipients */
	SMTP_R_DATA_AFTER_BDAT,   /* 503 5.5.1 Error: DATA after BDAT */
	SMTP_R_BARE_LF,           /* 550 5.5.2 Error: bare <LF> received (code: smtpd_forbid_bare_newline_reject_code) */
	SMTP_R__COUNT
};

/* smtp_std_replies - Postfix's wording for each enum smtp_reply_id */
extern const struct smtp_status smtp_std_replies[SMTP_R__COUNT];

/* smtp_std - the standard reply id as a status (id must be < SMTP_R__COUNT) */
const struct smtp_status *smtp_std(enum smtp_reply_id id);

/*
 * smtp_reply - append one reply line "CODE [ENH ]text\r\n" to out.
 * code must be 200..599 and text must hold no CR/LF (a CR or LF in text is
 * written as a space). Returns 0, or -1 (out unchanged) when out would pass
 * its maximum.
 */
int smtp_reply(struct buf *out, unsigned code, const char *enh, const char *text);
/* smtp_reply_status - smtp_reply() of a status; 0 / -1 as smtp_reply() */
int smtp_reply_status(struct buf *out, const struct smtp_status *st);
/*
 * smtp_reply_lines - append a multi-line reply: "CODE-[ENH ]line" for each of
 * the n lines but the last, "CODE [ENH ]line" for the last (n >= 1; n == 0 is
 * one line with empty text). 0, or -1 (out unchanged) when over its maximum.
 */
int smtp_reply_lines(struct buf *out, unsigned code, const char *enh, const char *const *lines, size_t n);
/*
 * smtp_reply_text - multi-line reply from one text whose lines are separated
 * by LF (a trailing LF does not add an empty line). 0 / -1 as above.
 */
int smtp_reply_text(struct buf *out, unsigned code, const char *enh, const char *text);

/* what an EHLO reply advertises (issue 3: PIPELINING SIZE 8BITMIME ENHANCEDSTATUSCODES SMTPUTF8 CHUNKING) */
struct smtp_ehlo_caps {
	bool pipelining;
	uint64_t size;        /* SIZE n; 0 advertises "SIZE" with no limit, as Postfix does */
	bool size_on;         /* advertise SIZE at all */
	bool vrfy;            /* VRFY (Postfix: unless disable_vrfy_command) */
	bool etrn;
	bool starttls;
	const char *auth;     /* "PLAIN LOGIN" for AUTH PLAIN LOGIN, or NULL */
	bool enhancedstatuscodes;
	bool eightbitmime;
	bool dsn;
	bool smtputf8;
	bool chunking;
};

/*
 * smtp_reply_ehlo - the EHLO reply: "250-host" then one line per enabled
 * capability in Postfix's order (PIPELINING, SIZE, VRFY, ETRN, STARTTLS,
 * AUTH, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8, CHUNKING), the last as
 * "250 ". host must be printable (it is our own name). 0 / -1 as above.
 */
int smtp_reply_ehlo(struct buf *out, const char *host, const struct smtp_ehlo_caps *caps);

/*
 * smtp_sanitize - append a printable copy of n untrusted bytes to out: bytes
 * 0x20..0x7e are kept, any other byte becomes '?'; at most max bytes of
 * input are shown and a cut is marked with "...". 0, or -1 (out unchanged)
 * when out would pass its maximum.
 */
int smtp_sanitize(struct buf *out, const char *p, size_t n, size_t max);
/* smtp_sanitize_arena - the same into a NUL-terminated arena string (never NULL) */
char *smtp_sanitize_arena(struct arena *a, const char *p, size_t n, size_t max);

#endif
