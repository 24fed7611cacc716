/*
 * msghdr.h - the header lines Postern adds to mail: Received:, Return-Path:, Delivered-To:
 *
 * Runs in:  smtpd (Received:), delivery agents (Return-Path:, Delivered-To:)
 * API:      msghdr_received(), msghdr_return_path(), msghdr_delivered_to(), rfc5322_date()
 * Output:   complete header lines in the queue's form: LF line ends, folded with a tab
 *           like Postfix's Received: lines. Peer-supplied text (HELO name, client name)
 *           is made safe for a header: control characters and non-ASCII become "?",
 *           and it is bounded, so a client cannot inject header lines.
 * Tests:    tests/unit/test_msghdr.c
 * Refs:     RFC 5321 s4.4 (trace information), RFC 5322 s3.3 (date-time), s3.6.7;
 *           RFC 3848 (ESMTPS/ESMTPA/ESMTPSA), RFC 6531 (UTF8SMTP...)
 */
#ifndef POSTERN_MSGHDR_H
#define POSTERN_MSGHDR_H

#include <stdbool.h>
#include <time.h>

#include "lib/buf.h"

/* what the Received: line says about the session that brought the message */
struct msghdr_trace {
	const char *helo;        /* HELO/EHLO argument as given, or NULL */
	const char *client_name; /* verified reverse name, or NULL / "unknown" */
	const char *client_addr; /* "192.0.2.1" or "2001:db8::1" (no brackets) */
	const char *by_host;     /* $myhostname */
	const char *mail_name;   /* $mail_name ("Postern") */
	bool esmtp;              /* EHLO was used */
	bool tls;                /* the session was encrypted */
	bool authenticated;      /* SASL login succeeded */
	bool smtputf8;           /* MAIL FROM carried SMTPUTF8 */
	const char *queue_id;
	const char *for_rcpt;    /* the recipient when there is exactly one, else NULL */
	time_t when;
};

/* msghdr_protocol - "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" or their "UTF8SMTP..." forms */
const char *msghdr_protocol(const struct msghdr_trace *t);

/*
 * msghdr_received - append a Received: header, e.g.
 *   Received: from helo.example (mail.example [192.0.2.1])
 *   <TAB>by mail.example.com (Postern) with ESMTP id 4jZ5pv083N054fnj
 *   <TAB>for <john@example.org>; Wed, 25 Nov 2026 04:50:00 +0000 (UTC)
 * Returns 0, or -1 when out's maximum was reached.
 */
int msghdr_received(struct buf *out, const struct msghdr_trace *t);
/* msghdr_return_path - append "Return-Path: <sender>" ("<>" for the null sender); 0 / -1 */
int msghdr_return_path(struct buf *out, const char *sender);
/* msghdr_delivered_to - append "Delivered-To: address"; 0 / -1 */
int msghdr_delivered_to(struct buf *out, const char *address);
/*
 * rfc5322_date - append an RFC 5322 date for t in the local time zone,
 * "Wed, 25 Nov 2026 04:50:00 +0000 (UTC)"; 0 / -1
 */
int rfc5322_date(struct buf *out, time_t t);
/* msghdr_safe_text - append text with controls/non-ASCII as "?", at most max bytes; 0 / -1 */
int msghdr_safe_text(struct buf *out, const char *text, size_t max);

#endif
