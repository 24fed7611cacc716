/*
 * dsn.h - compose a delivery status notification (bounce) as RFC 3464 multipart/report
 *
 * Runs in:  the queue manager, when a recipient fails permanently or its
 *           message outlives maximal_queue_lifetime (never for the null sender:
 *           the caller checks, see dsn_should_bounce())
 * API:      dsn_compose(), dsn_should_bounce()
 * Output:   a complete message (headers and body, LF line ends) ready to be queued
 *           from MAILER-DAEMON (null sender) to the original sender:
 *             1. text/plain: what happened, for people;
 *             2. message/delivery-status: RFC 3464 per-message and per-recipient fields;
 *             3. message/rfc822 with the original message, or text/rfc822-headers with
 *                its header only when it is larger than the return limit or RET=HDRS.
 * Limits:   diagnostic texts are made printable and bounded; the returned original is
 *           bounded by the caller's limit (Postfix's bounce_size_limit, 50000 bytes).
 * Tests:    tests/unit/test_dsn.c
 * Refs:     RFC 3461 (RET), RFC 3462/6522 (multipart/report), RFC 3464, RFC 3834
 *           (Auto-Submitted), RFC 6533 (utf-8 address type)
 */
#ifndef POSTERN_DSN_H
#define POSTERN_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

struct dsn_rcpt {
	const char *final;      /* the address delivery was attempted to */
	const char *original;   /* as the client gave it in RCPT TO (ORCPT), or NULL */
	const char *action;     /* "failed", "delayed", "delivered", "relayed", "expanded" */
	const char *status;     /* enhanced status code, e.g. "5.1.1" */
	const char *diagnostic; /* one line: why, e.g. "mailbox is full" */
};

struct dsn_report {
	const char *reporting_mta; /* $myhostname */
	const char *mail_name;     /* $mail_name, for the X- fields */
	const char *queue_id;      /* of the original message */
	const char *sender;        /* original envelope sender: the bounce's To: */
	time_t arrival;            /* when the original arrived */
	time_t now;
	const struct dsn_rcpt *rcpts;
	size_t n_rcpts;
	const char *content;       /* the original message (header, empty line, body) */
	size_t content_len;
	size_t return_limit;       /* larger originals are returned as headers only */
	bool headers_only;         /* RET=HDRS */
	const char *unique;        /* unique text for the boundary and Message-Id (e.g. the new queue id) */
};

/*
 * dsn_compose - append the whole notification message to out.
 * Subject and wording follow the recipients' action: "failed" (any) gives an
 * undeliverable notice, otherwise a delay warning. Returns 0, or -1 when out's
 * maximum was reached (out is restored to its length before the call).
 */
int dsn_compose(struct buf *out, const struct dsn_report *r);

/*
 * dsn_should_bounce - may a notification be sent for this sender? Never for the
 * null sender "" (RFC 5321 s4.5.5: no bounce loops), nor for MAILER-DAEMON.
 */
bool dsn_should_bounce(const char *sender);

#endif
