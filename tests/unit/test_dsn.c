/*
 * test_dsn.c - unit tests for src/libmail/dsn.c (RFC 3464 bounces)
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "libmail/dsn.h"

static const char original[] = "From: jane@example.net\nTo: nobody@example.org\nSubject: hi\n\nbody line\n";

static struct dsn_rcpt failed_rcpt = {
	.final = "nobody@example.org", .original = "Nobody@example.org", .action = "failed",
	.status = "5.1.1", .diagnostic = "user unknown in virtual mailbox table",
};

static struct dsn_report report(void)
{
	struct dsn_report r = {
		.reporting_mta = "mail.example.com", .mail_name = "Postern", .queue_id = "4jZ5pv083N054fnj",
		.sender = "jane@example.net", .arrival = 1795582200, .now = 1795582260, .rcpts = &failed_rcpt,
		.n_rcpts = 1, .content = original, .content_len = sizeof(original) - 1, .return_limit = 50000,
		.unique = "4jZ5pw000000000a",
	};
	return r;
}

/* count - occurrences of needle in hay */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

static void test_failed_report(void **state)
{
	struct buf b = BUF_INIT(0);
	struct dsn_report r = report();
	const char *s;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(dsn_compose(&b, &r), 0);
	s = buf_cstr(&b);
	assert_true(strncmp(s, "From: MAILER-DAEMON@mail.example.com (Mail Delivery System)\n"
			       "To: <jane@example.net>\nSubject: Undelivered Mail Returned to Sender\n"
			       "Auto-Submitted: auto-replied\n",
			    150) == 0);
	assert_non_null(strstr(s, "Content-Type: multipart/report; report-type=delivery-status;\n"
				  "\tboundary=\"4jZ5pw000000000a.1795582260/mail.example.com\"\n"));
	/* three parts and the closing boundary */
	assert_int_equal(count(s, "\n--4jZ5pw000000000a.1795582260/mail.example.com\n"), 3);
	assert_int_equal(count(s, "\n--4jZ5pw000000000a.1795582260/mail.example.com--\n"), 1);
	/* RFC 3464 fields */
	assert_non_null(strstr(s, "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.com\n"
				  "X-Postern-Queue-ID: 4jZ5pv083N054fnj\nX-Postern-Sender: rfc822; jane@example.net\n"
				  "Arrival-Date: Wed, 25 Nov 2026 04:50:00 +0000 (UTC)\n\n"
				  "Final-Recipient: rfc822; nobody@example.org\n"
				  "Original-Recipient: rfc822; Nobody@example.org\nAction: failed\nStatus: 5.1.1\n"
				  "Diagnostic-Code: X-Postern; user unknown in virtual mailbox table\n"));
	/* the whole original is returned */
	assert_non_null(strstr(s, "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
				  "From: jane@example.net\nTo: nobody@example.org\nSubject: hi\n\nbody line\n"));
	assert_non_null(strstr(s, "<nobody@example.org>: user unknown in virtual mailbox table\n"));
	buf_free(&b);
}

static void test_headers_only(void **state)
{
	struct buf b = BUF_INIT(0);
	struct dsn_report r = report();

	(void)state;
	r.return_limit = 10; /* the original is bigger: return its header only */
	assert_int_equal(dsn_compose(&b, &r), 0);
	assert_non_null(strstr(buf_cstr(&b), "Content-Type: text/rfc822-headers\n"));
	assert_non_null(strstr(buf_cstr(&b), "Subject: hi\n\n"));
	assert_null(strstr(buf_cstr(&b), "body line"));
	buf_reset(&b);
	r = report();
	r.headers_only = true; /* RET=HDRS */
	assert_int_equal(dsn_compose(&b, &r), 0);
	assert_null(strstr(buf_cstr(&b), "body line"));
	buf_free(&b);
}

static void test_boundary_never_in_content(void **state)
{
	struct buf b = BUF_INIT(0);
	struct dsn_report r = report();
	static const char evil[] = "Subject: x\n\n--4jZ5pw000000000a.1795582260/mail.example.com\nfake part\n";

	(void)state;
	r.content = evil;
	r.content_len = sizeof(evil) - 1;
	assert_int_equal(dsn_compose(&b, &r), 0);
	/* the boundary was changed, so the original's line is not a delimiter */
	assert_null(strstr(buf_cstr(&b), "boundary=\"4jZ5pw000000000a.1795582260/mail.example.com\""));
	assert_non_null(strstr(buf_cstr(&b), "boundary=\"4jZ5pw000000000a.1795582260/mail.example.com0001\""));
	buf_free(&b);
}

static void test_delay_and_text_safety(void **state)
{
	struct buf b = BUF_INIT(0);
	struct dsn_report r = report();
	struct dsn_rcpt d = { .final = "john@example.org", .action = "delayed", .status = "4.2.0",
			      .diagnostic = "mailbox locked\r\nX-Evil: yes" };

	(void)state;
	r.rcpts = &d;
	assert_int_equal(dsn_compose(&b, &r), 0);
	assert_non_null(strstr(buf_cstr(&b), "Subject: Delayed Mail (still being retried)\n"));
	assert_non_null(strstr(buf_cstr(&b), "Action: delayed\nStatus: 4.2.0\n"));
	assert_null(strstr(buf_cstr(&b), "\nX-Evil"));
	assert_null(strstr(buf_cstr(&b), "Original-Recipient"));
	/* UTF-8 addresses use the utf-8 address type (RFC 6533) */
	buf_reset(&b);
	d.final = "j\xc3\xb6rg@example.org";
	assert_int_equal(dsn_compose(&b, &r), 0);
	assert_non_null(strstr(buf_cstr(&b), "Final-Recipient: utf-8; j\xc3\xb6rg@example.org\n"));
	/* a full buffer fails and leaves it unchanged */
	buf_free(&b);
	buf_init(&b, 200);
	assert_int_equal(dsn_compose(&b, &r), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_should_bounce(void **state)
{
	(void)state;
	assert_false(dsn_should_bounce(""));
	assert_false(dsn_should_bounce(NULL));
	assert_false(dsn_should_bounce("mailer-daemon"));
	assert_true(dsn_should_bounce("jane@example.net"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_report),
		cmocka_unit_test(test_headers_only),
		cmocka_unit_test(test_boundary_never_in_content),
		cmocka_unit_test(test_delay_and_text_safety),
		cmocka_unit_test(test_should_bounce),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
