/*
 * dsn.c - RFC 3464 delivery status notifications
 *
 * API:      see dsn.h
 * Tests:    tests/unit/test_dsn.c
 */
#include "libmail/dsn.h"

#include <stdio.h>
#include <string.h>

#include "lib/strutil.h"
#include "libmail/msghdr.h"

#define DIAG_MAX 990 /* keep each report line under RFC 5322's 998 */

bool dsn_should_bounce(const char *sender)
{
	return sender != NULL && *sender != '\0' && str_casecmp_ascii(sender, "MAILER-DAEMON") != 0;
}

/* is_ascii - only 7-bit bytes? (decides rfc822 vs utf-8 address types) */
static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* put_text - printable text: controls become spaces, bounded */
static int put_text(struct buf *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++)
		if (buf_putc(out, ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i]) < 0)
			return -1;
	return 0;
}

/* put_addr_field - "Name: rfc822; addr" or "Name: utf-8; addr" (RFC 6533) */
static int put_addr_field(struct buf *out, const char *name, const char *addr)
{
	int rc = buf_printf(out, "%s: %s; ", name, is_ascii(addr) ? "rfc822" : "utf-8");

	rc |= put_text(out, addr, 512);
	rc |= buf_putc(out, '\n');
	return rc;
}

/* header_length - bytes of the original's header, through the empty line (or all of it) */
static size_t header_length(const char *p, size_t n)
{
	size_t i;

	if (n > 0 && p[0] == '\n')
		return 1;
	for (i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 2;
	return n;
}

/* boundary_in - does "--boundary" occur at a line start in the content? */
static bool boundary_in(const char *p, size_t n, const char *boundary)
{
	size_t bl = strlen(boundary), i;

	for (i = 0; i + 2 + bl <= n; i++)
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '-' && p[i + 1] == '-' &&
		    memcmp(p + i + 2, boundary, bl) == 0)
			return true;
	return false;
}

int dsn_compose(struct buf *out, const struct dsn_report *r)
{
	size_t start = out->len, i, ret_len;
	struct buf boundary = BUF_INIT(256);
	bool failed = false, whole;
	int rc = 0, extra = 0;

	for (i = 0; i < r->n_rcpts; i++)
		if (strcmp(r->rcpts[i].action, "failed") == 0)
			failed = true;
	/* a boundary that cannot occur in the returned text */
	do {
		buf_reset(&boundary);
		if (buf_printf(&boundary, "%s.%ld/%s%.*d", r->unique, (long)r->now, r->reporting_mta, extra ? 4 : 0,
			       extra) < 0)
			break;
		extra++;
	} while (boundary_in(r->content, r->content_len, buf_cstr(&boundary)) && extra < 10000);

	whole = !r->headers_only && r->content_len <= r->return_limit;
	ret_len = whole ? r->content_len : header_length(r->content, r->content_len);

	/* message header */
	rc |= buf_printf(out, "From: MAILER-DAEMON@%s (Mail Delivery System)\n", r->reporting_mta);
	rc |= buf_puts(out, "To: <");
	rc |= put_text(out, r->sender, 512);
	rc |= buf_puts(out, ">\n");
	rc |= buf_printf(out, "Subject: %s\n",
			 failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)");
	rc |= buf_puts(out, "Auto-Submitted: auto-replied\nDate: ");
	rc |= rfc5322_date(out, r->now);
	rc |= buf_printf(out, "\nMessage-Id: <%s.%ld@%s>\n", r->unique, (long)r->now, r->reporting_mta);
	rc |= buf_printf(out, "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n"
			      "\tboundary=\"%s\"\nContent-Transfer-Encoding: 8bit\n\n",
			 buf_cstr(&boundary));
	rc |= buf_puts(out, "This is a MIME-encapsulated message.\n\n");

	/* 1. for people */
	rc |= buf_printf(out, "--%s\nContent-Description: Notification\nContent-Type: text/plain; charset=utf-8\n\n",
			 buf_cstr(&boundary));
	rc |= buf_printf(out, "This is the %s mail server at %s.\n\n", r->mail_name ? r->mail_name : "Postern",
			 r->reporting_mta);
	if (failed)
		rc |= buf_puts(out, "Your message could not be delivered to the recipients listed below,\n"
				    "and no further attempts will be made. The reason for each is given.\n"
				    "The returned message follows this report.\n\n");
	else
		rc |= buf_puts(out, "This is a warning only: your message has not been delivered yet to the\n"
				    "recipients listed below. Delivery will be retried; you need not send it again.\n\n");
	rc |= buf_puts(out, "If you need help, write to the postmaster of this site and include this report.\n\n");
	for (i = 0; i < r->n_rcpts; i++) {
		rc |= buf_puts(out, "<");
		rc |= put_text(out, r->rcpts[i].final, 512);
		rc |= buf_puts(out, ">: ");
		rc |= put_text(out, r->rcpts[i].diagnostic ? r->rcpts[i].diagnostic : r->rcpts[i].status, DIAG_MAX);
		rc |= buf_puts(out, "\n");
	}
	rc |= buf_putc(out, '\n');

	/* 2. for programs (RFC 3464) */
	rc |= buf_printf(out, "--%s\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n",
			 buf_cstr(&boundary));
	rc |= buf_printf(out, "Reporting-MTA: dns; %s\n", r->reporting_mta);
	rc |= buf_printf(out, "X-%s-Queue-ID: %s\n", r->mail_name ? r->mail_name : "Postern", r->queue_id);
	{
		char field[64];

		snprintf(field, sizeof(field), "X-%s-Sender", r->mail_name ? r->mail_name : "Postern");
		rc |= put_addr_field(out, field, r->sender);
	}
	rc |= buf_puts(out, "Arrival-Date: ");
	rc |= rfc5322_date(out, r->arrival);
	rc |= buf_puts(out, "\n");
	for (i = 0; i < r->n_rcpts; i++) {
		const struct dsn_rcpt *d = &r->rcpts[i];

		rc |= buf_putc(out, '\n');
		rc |= put_addr_field(out, "Final-Recipient", d->final);
		if (d->original && *d->original)
			rc |= put_addr_field(out, "Original-Recipient", d->original);
		rc |= buf_printf(out, "Action: %s\nStatus: %s\n", d->action, d->status);
		if (d->diagnostic) {
			rc |= buf_printf(out, "Diagnostic-Code: X-%s; ", r->mail_name ? r->mail_name : "Postern");
			rc |= put_text(out, d->diagnostic, DIAG_MAX);
			rc |= buf_putc(out, '\n');
		}
	}
	rc |= buf_putc(out, '\n');

	/* 3. the original, or its header */
	rc |= buf_printf(out, "--%s\nContent-Description: %s\nContent-Type: %s\nContent-Transfer-Encoding: 8bit\n\n",
			 buf_cstr(&boundary), whole ? "Undelivered Message" : "Undelivered Message Headers",
			 whole ? "message/rfc822" : "text/rfc822-headers");
	rc |= buf_append(out, r->content, ret_len);
	if (ret_len > 0 && r->content[ret_len - 1] != '\n')
		rc |= buf_putc(out, '\n');
	rc |= buf_printf(out, "\n--%s--\n", buf_cstr(&boundary));
	buf_free(&boundary);
	if (rc) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}
