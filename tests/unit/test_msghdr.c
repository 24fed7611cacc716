/*
 * test_msghdr.c - unit tests for src/libmail/msghdr.c (Received:, Return-Path:, Delivered-To:)
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "libmail/msghdr.h"

static void set_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_received_layout(void **state)
{
	struct buf b = BUF_INIT(0);
	struct msghdr_trace t = {
		.helo = "client.example", .client_name = "mail.client.example", .client_addr = "192.0.2.1",
		.by_host = "mail.example.com", .mail_name = "Postern", .esmtp = true,
		.queue_id = "4jZ5pv083N054fnj", .for_rcpt = "john@example.org", .when = 1795582200,
	};

	(void)state;
	set_utc();
	assert_int_equal(msghdr_received(&b, &t), 0);
	assert_string_equal(buf_cstr(&b), "Received: from client.example (mail.client.example [192.0.2.1])\n"
					  "\tby mail.example.com (Postern) with ESMTP id 4jZ5pv083N054fnj\n"
					  "\tfor <john@example.org>; Wed, 25 Nov 2026 04:50:00 +0000 (UTC)\n");
	/* several recipients: no for-clause; unknown names */
	buf_reset(&b);
	t.for_rcpt = NULL;
	t.helo = NULL;
	t.client_name = NULL;
	t.esmtp = false;
	assert_int_equal(msghdr_received(&b, &t), 0);
	assert_string_equal(buf_cstr(&b), "Received: from unknown (unknown [192.0.2.1])\n"
					  "\tby mail.example.com (Postern) with SMTP id 4jZ5pv083N054fnj;"
					  " Wed, 25 Nov 2026 04:50:00 +0000 (UTC)\n");
	buf_free(&b);
}

static void test_protocol_names(void **state)
{
	struct msghdr_trace t = { .esmtp = true };

	(void)state;
	assert_string_equal(msghdr_protocol(&t), "ESMTP");
	t.tls = true;
	assert_string_equal(msghdr_protocol(&t), "ESMTPS");
	t.authenticated = true;
	assert_string_equal(msghdr_protocol(&t), "ESMTPSA");
	t.tls = false;
	assert_string_equal(msghdr_protocol(&t), "ESMTPA");
	t.smtputf8 = true;
	assert_string_equal(msghdr_protocol(&t), "UTF8SMTPA");
	t.esmtp = false;
	assert_string_equal(msghdr_protocol(&t), "SMTP");
}

static void test_no_header_injection(void **state)
{
	struct buf b = BUF_INIT(0);
	struct msghdr_trace t = {
		.helo = "evil\r\nX-Injected: yes", .client_addr = "192.0.2.1", .by_host = "mx",
		.queue_id = "Q", .for_rcpt = "a@b\nBcc: x", .when = 0,
	};
	char longname[1000];

	(void)state;
	assert_int_equal(msghdr_received(&b, &t), 0);
	assert_null(strstr(buf_cstr(&b), "\nX-Injected"));
	assert_null(strstr(buf_cstr(&b), "\nBcc"));
	assert_non_null(strstr(buf_cstr(&b), "evil??X-Injected:?yes"));
	/* bounded: a 999-byte HELO is cut at 255 */
	memset(longname, 'h', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	t.helo = longname;
	buf_reset(&b);
	assert_int_equal(msghdr_received(&b, &t), 0);
	assert_true(b.len < 600);
	/* a buffer too small fails cleanly and is left as it was */
	buf_free(&b);
	buf_init(&b, 40);
	buf_puts(&b, "keep");
	assert_int_equal(msghdr_received(&b, &t), -1);
	assert_string_equal(buf_cstr(&b), "keep");
	buf_free(&b);
}

static void test_return_path_delivered_to(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_int_equal(msghdr_return_path(&b, "jane@example.net"), 0);
	assert_int_equal(msghdr_return_path(&b, ""), 0);
	assert_int_equal(msghdr_delivered_to(&b, "john@example.org"), 0);
	assert_string_equal(buf_cstr(&b), "Return-Path: <jane@example.net>\nReturn-Path: <>\n"
					  "Delivered-To: john@example.org\n");
	buf_free(&b);
}

static void test_date_zone(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1); /* POSIX rule: no tzdata needed */
	tzset();
	assert_int_equal(rfc5322_date(&b, 1795582200), 0);
	assert_string_equal(buf_cstr(&b), "Tue, 24 Nov 2026 23:50:00 -0500 (EST)");
	set_utc();
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_received_layout),
		cmocka_unit_test(test_protocol_names),
		cmocka_unit_test(test_no_header_injection),
		cmocka_unit_test(test_return_path_delivered_to),
		cmocka_unit_test(test_date_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
