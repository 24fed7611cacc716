/*
 * smtp_reply.c - SMTP reply formatting, EHLO capabilities, Postfix reply table
 *
 * Runs in:  smtpd (_mailnet, chrooted); echoes peer text only sanitized
 * API:      smtp_reply(), smtp_reply_status(), smtp_reply_lines(),
 *           smtp_reply_text(), smtp_reply_ehlo(), smtp_std(),
 *           smtp_sanitize(), smtp_sanitize_arena()   -- see smtp_reply.h
 * Limits:   every append is bounded by the caller's buf maximum; a failed
 *           append leaves the buf as it was
 * Tests:    tests/unit/test_smtp_reply.c
 * Refs:     RFC 5321 s4.2, RFC 2034, RFC 3463; Postfix smtpd(8) reply texts
 */
#include "libmail/smtp_reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

const struct smtp_status smtp_std_replies[SMTP_R__COUNT] = {
	[SMTP_R_OK] = { 250, "2.0.0", "Ok" },
	[SMTP_R_SENDER_OK] = { 250, "2.1.0", "Ok" },
	[SMTP_R_RCPT_OK] = { 250, "2.1.5", "Ok" },
	[SMTP_R_DATA_GO] = { 354, NULL, "End data with <CR><LF>.<CR><LF>" },
	[SMTP_R_BYE] = { 221, "2.0.0", "Bye" },
	[SMTP_R_VRFY_CANNOT] = { 252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery" },
	[SMTP_R_VRFY_DISABLED] = { 502, "5.5.1", "VRFY command is disabled" },
	[SMTP_R_BAD_SYNTAX] = { 500, "5.5.2", "Error: bad syntax" },
	[SMTP_R_BAD_UTF8] = { 500, "5.5.2", "Error: bad UTF-8 syntax" },
	[SMTP_R_LINE_TOO_LONG] = { 500, "5.5.2", "Error: line too long" },
	[SMTP_R_NOT_RECOGNIZED] = { 502, "5.5.2", "Error: command not recognized" },
	[SMTP_R_NOT_IMPLEMENTED] = { 502, "5.5.1", "Error: command not implemented" },
	[SMTP_R_BAD_SENDER] = { 501, "5.1.7", "Bad sender address syntax" },
	[SMTP_R_BAD_RCPT] = { 501, "5.1.3", "Bad recipient address syntax" },
	[SMTP_R_SYNTAX_MAIL] = { 501, "5.5.4", "Syntax: MAIL FROM:<address>" },
	[SMTP_R_SYNTAX_RCPT] = { 501, "5.5.4", "Syntax: RCPT TO:<address>" },
	[SMTP_R_SYNTAX_HELO] = { 501, "5.5.4", "Syntax: HELO hostname" },
	[SMTP_R_SYNTAX_EHLO] = { 501, "5.5.4", "Syntax: EHLO hostname" },
	[SMTP_R_SYNTAX_DATA] = { 501, "5.5.4", "Syntax: DATA" },
	[SMTP_R_SYNTAX_BDAT] = { 501, "5.5.4", "Syntax: BDAT count [LAST]" },
	[SMTP_R_SYNTAX_RSET] = { 501, "5.5.4", "Syntax: RSET" },
	[SMTP_R_SYNTAX_NOOP] = { 501, "5.5.4", "Syntax: NOOP" },
	[SMTP_R_SYNTAX_STARTTLS] = { 501, "5.5.4", "Syntax: STARTTLS" },
	[SMTP_R_SYNTAX_VRFY] = { 501, "5.5.4", "Syntax: VRFY address" },
	[SMTP_R_SYNTAX_EXPN] = { 501, "5.5.4", "Syntax: EXPN address" },
	[SMTP_R_SYNTAX_ETRN] = { 501, "5.5.4", "Syntax: ETRN domain" },
	[SMTP_R_SYNTAX_AUTH] = { 501, "5.5.4", "Syntax: AUTH mechanism" },
	[SMTP_R_BAD_SIZE] = { 501, "5.5.4", "Bad message size syntax" },
	[SMTP_R_BAD_RET] = { 501, "5.5.4", "Bad RET parameter syntax" },
	[SMTP_R_BAD_ENVID] = { 501, "5.5.4", "Bad ENVID parameter syntax" },
	[SMTP_R_BAD_NOTIFY] = { 501, "5.5.4", "Error: Bad NOTIFY parameter syntax" },
	[SMTP_R_BAD_ORCPT] = { 501, "5.5.4", "Error: Bad ORCPT parameter syntax" },
	[SMTP_R_BAD_AUTH_PARAM] = { 501, "5.5.4", "Error: Bad AUTH parameter syntax" },
	[SMTP_R_MULTIPLE_AUTH] = { 503, "5.5.4", "Error: multiple AUTH= options" },
	[SMTP_R_TOO_MANY_PARAMS] = { 501, "5.5.4", "Error: too many parameters" },
	[SMTP_R_PARAM_TOO_LONG] = { 501, "5.5.4", "Error: parameter too long" },
	[SMTP_R_NEED_SMTPUTF8] = { 553, "5.6.7", "Must declare SMTPUTF8 to send unicode address" },
	[SMTP_R_SIZE_FS_LIMIT] = { 552, "5.3.4", "Message size exceeds file system imposed limit" },
	[SMTP_R_SIZE_LIMIT] = { 552, "5.3.4", "Message size exceeds fixed limit" },
	[SMTP_R_CHUNK_SIZE_LIMIT] = { 552, "5.3.4", "Chunk exceeds message size limit" },
	[SMTP_R_TOO_MANY_RCPTS] = { 452, "4.5.3", "Error: too many recipients" },
	[SMTP_R_TOO_MANY_ERRORS] = { 421, "4.7.0", "Error: too many errors" },
	[SMTP_R_NEED_HELO] = { 503, "5.5.1", "Error: send HELO/EHLO first" },
	[SMTP_R_NESTED_MAIL] = { 503, "5.5.1", "Error: nested MAIL command" },
	[SMTP_R_NEED_MAIL] = { 503, "5.5.1", "Error: need MAIL command" },
	[SMTP_R_NEED_RCPT] = { 503, "5.5.1", "Error: need RCPT command" },
	[SMTP_R_NO_VALID_RCPTS] = { 554, "5.5.1", "Error: no valid recipients" },
	[SMTP_R_DATA_AFTER_BDAT] = { 503, "5.5.1", "Error: DATA after BDAT" },
	[SMTP_R_BARE_LF] = { 550, "5.5.2", "Error: bare <LF> received" },
};

/* smtp_std - the standard reply for id */
const struct smtp_status *smtp_std(enum smtp_reply_id id)
{
	if ((unsigned)id >= SMTP_R__COUNT)
		panic("smtp_std: bad reply id %d", (int)id);
	return &smtp_std_replies[id];
}

/* append_line - one line "CODE<sep>[ENH ]text\r\n" where text is n bytes (CR/LF become spaces) */
static int append_line(struct buf *out, unsigned code, char sep, const char *enh, const char *text,
		       size_t n)
{
	size_t i, start = out->len;
	char head[8];

	if (code < 200 || code > 599)
		panic("smtp_reply: bad code %u", code);
	snprintf(head, sizeof(head), "%03u%c", code, sep);
	if (buf_append(out, head, 4) < 0)
		goto full;
	if (enh && (buf_puts(out, enh) < 0 || buf_putc(out, ' ') < 0))
		goto full;
	if (buf_reserve(out, n + 2) < 0)
		goto full;
	for (i = 0; i < n; i++)
		out->data[out->len++] = (text[i] == '\r' || text[i] == '\n') ? ' ' : text[i];
	out->data[out->len++] = '\r';
	out->data[out->len++] = '\n';
	out->data[out->len] = '\0';
	return 0;
full:
	buf_truncate(out, start);
	return -1;
}

/* smtp_reply - one reply line */
int smtp_reply(struct buf *out, unsigned code, const char *enh, const char *text)
{
	return append_line(out, code, ' ', enh, text, strlen(text));
}

/* smtp_reply_status - one reply line from a status */
int smtp_reply_status(struct buf *out, const struct smtp_status *st)
{
	return smtp_reply(out, st->code, st->enh, st->text);
}

/* smtp_reply_lines - multi-line reply from an array of lines */
int smtp_reply_lines(struct buf *out, unsigned code, const char *enh, const char *const *lines, size_t n)
{
	size_t start = out->len, i;

	if (n == 0)
		return smtp_reply(out, code, enh, "");
	for (i = 0; i < n; i++) {
		if (append_line(out, code, i + 1 < n ? '-' : ' ', enh, lines[i], strlen(lines[i])) < 0) {
			buf_truncate(out, start);
			return -1;
		}
	}
	return 0;
}

/* smtp_reply_text - multi-line reply from LF-separated text */
int smtp_reply_text(struct buf *out, unsigned code, const char *enh, const char *text)
{
	size_t start = out->len, len = strlen(text);
	const char *p = text, *end = text + len;

	if (len > 0 && end[-1] == '\n')
		end--;
	for (;;) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *eol = lf ? lf : end;

		if (append_line(out, code, lf ? '-' : ' ', enh, p, (size_t)(eol - p)) < 0) {
			buf_truncate(out, start);
			return -1;
		}
		if (!lf)
			return 0;
		p = lf + 1;
	}
}

/* smtp_reply_ehlo - EHLO reply from the capability set, in Postfix's order */
int smtp_reply_ehlo(struct buf *out, const char *host, const struct smtp_ehlo_caps *caps)
{
	const char *lines[16];
	char size_line[32], auth_line[128];
	size_t n = 0;

	lines[n++] = host;
	if (caps->pipelining)
		lines[n++] = "PIPELINING";
	if (caps->size_on) {
		if (caps->size > 0)
			snprintf(size_line, sizeof(size_line), "SIZE %" PRIu64, caps->size);
		else
			snprintf(size_line, sizeof(size_line), "SIZE");
		lines[n++] = size_line;
	}
	if (caps->vrfy)
		lines[n++] = "VRFY";
	if (caps->etrn)
		lines[n++] = "ETRN";
	if (caps->starttls)
		lines[n++] = "STARTTLS";
	if (caps->auth) {
		if ((size_t)snprintf(auth_line, sizeof(auth_line), "AUTH %s", caps->auth) >= sizeof(auth_line))
			return -1;
		lines[n++] = auth_line;
	}
	if (caps->enhancedstatuscodes)
		lines[n++] = "ENHANCEDSTATUSCODES";
	if (caps->eightbitmime)
		lines[n++] = "8BITMIME";
	if (caps->dsn)
		lines[n++] = "DSN";
	if (caps->smtputf8)
		lines[n++] = "SMTPUTF8";
	if (caps->chunking)
		lines[n++] = "CHUNKING";
	return smtp_reply_lines(out, 250, NULL, lines, n);
}

/* sanitized_len - bytes smtp_sanitize() writes for n input bytes shown up to max */
static size_t sanitized_len(size_t n, size_t max)
{
	return n > max ? max + 3 : n;
}

/* sanitize_into - write the sanitized form of p[0..n) to dst (room for sanitized_len()) */
static void sanitize_into(char *dst, const char *p, size_t n, size_t max)
{
	size_t i, shown = n > max ? max : n;

	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)p[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n > max)
		memcpy(dst + shown, "...", 3);
}

/* smtp_sanitize - printable, bounded copy of peer bytes into a buf */
int smtp_sanitize(struct buf *out, const char *p, size_t n, size_t max)
{
	size_t len = sanitized_len(n, max);

	if (len == 0)
		return 0;
	if (buf_reserve(out, len) < 0)
		return -1;
	sanitize_into(out->data + out->len, p, n, max);
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

/* smtp_sanitize_arena - printable, bounded copy of peer bytes into the arena */
char *smtp_sanitize_arena(struct arena *a, const char *p, size_t n, size_t max)
{
	size_t len = sanitized_len(n, max);
	char *s = arena_alloc(a, len + 1);

	sanitize_into(s, p, n, max);
	s[len] = '\0';
	return s;
}
