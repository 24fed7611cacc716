/*
 * msghdr.c - Received:, Return-Path:, Delivered-To: header lines and RFC 5322 dates
 *
 * API:      see msghdr.h
 * Tests:    tests/unit/test_msghdr.c
 */
#include "libmail/msghdr.h"

#include <stdio.h>
#include <string.h>

/* longest peer-supplied token copied into a header (HELO names, client names) */
#define TRACE_TEXT_MAX 255

/* msghdr_safe_text - printable ASCII only, bounded */
int msghdr_safe_text(struct buf *out, const char *text, size_t max)
{
	size_t i;

	for (i = 0; text[i] && i < max; i++) {
		unsigned char c = (unsigned char)text[i];

		if (buf_putc(out, (c > 0x20 && c < 0x7f) ? (char)c : '?') < 0)
			return -1;
	}
	return 0;
}

/* msghdr_protocol - the with-clause keyword (RFC 3848, RFC 6531) */
const char *msghdr_protocol(const struct msghdr_trace *t)
{
	static const char *const names[2][2][2] = {
		/* [utf8][tls][auth] */
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};

	if (!t->esmtp)
		return "SMTP";
	return names[t->smtputf8][t->tls][t->authenticated];
}

/* rfc5322_date - local time with numeric zone and zone name comment */
int rfc5322_date(struct buf *out, time_t t)
{
	char stamp[64], zone[16];
	struct tm tm;
	long off;

	if (localtime_r(&t, &tm) == NULL)
		return buf_puts(out, "Thu, 1 Jan 1970 00:00:00 +0000");
	off = tm.tm_gmtoff / 60;
	strftime(stamp, sizeof(stamp), "%a, %d %b %Y %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%Z", &tm);
	return buf_printf(out, "%s %c%02ld%02ld (%s)", stamp, off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
			  (off < 0 ? -off : off) % 60, zone);
}

/* msghdr_received - the trace header of RFC 5321 s4.4, in Postfix's layout */
int msghdr_received(struct buf *out, const struct msghdr_trace *t)
{
	size_t start = out->len;
	int rc = 0;

	rc |= buf_puts(out, "Received: from ");
	rc |= msghdr_safe_text(out, t->helo && *t->helo ? t->helo : "unknown", TRACE_TEXT_MAX);
	rc |= buf_puts(out, " (");
	rc |= msghdr_safe_text(out, t->client_name && *t->client_name ? t->client_name : "unknown",
			       TRACE_TEXT_MAX);
	rc |= buf_puts(out, " [");
	rc |= msghdr_safe_text(out, t->client_addr ? t->client_addr : "unknown", 64);
	rc |= buf_puts(out, "])\n\tby ");
	rc |= msghdr_safe_text(out, t->by_host, TRACE_TEXT_MAX);
	rc |= buf_printf(out, " (%s) with %s id ", t->mail_name ? t->mail_name : "Postern", msghdr_protocol(t));
	rc |= msghdr_safe_text(out, t->queue_id, 64);
	if (t->for_rcpt) {
		rc |= buf_puts(out, "\n\tfor <");
		/* a recipient may be UTF-8 (SMTPUTF8): keep it, but never a control character */
		{
			const char *p;

			for (p = t->for_rcpt; *p && p - t->for_rcpt < 512; p++)
				rc |= buf_putc(out, ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p);
		}
		rc |= buf_puts(out, ">");
	}
	rc |= buf_puts(out, "; ");
	rc |= rfc5322_date(out, t->when);
	rc |= buf_putc(out, '\n');
	if (rc) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}

/* header_with_address - "Name: <addr>" or "Name: addr", controls replaced */
static int header_with_address(struct buf *out, const char *name, const char *addr, bool angle)
{
	size_t start = out->len;
	const char *p;
	int rc = buf_printf(out, "%s: %s", name, angle ? "<" : "");

	for (p = addr; *p && p - addr < 512; p++)
		rc |= buf_putc(out, ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p);
	rc |= buf_puts(out, angle ? ">\n" : "\n");
	if (rc) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}

int msghdr_return_path(struct buf *out, const char *sender)
{
	return header_with_address(out, "Return-Path", sender ? sender : "", true);
}

int msghdr_delivered_to(struct buf *out, const char *address)
{
	return header_with_address(out, "Delivered-To", address, false);
}
