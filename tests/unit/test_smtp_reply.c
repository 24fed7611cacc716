/*
 * test_smtp_reply.c - unit tests for src/libmail/smtp_reply.c (reply formatting)
 */
#include "unit.h"

#include "libmail/smtp_reply.h"

static void test_single_line(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "Ok"), 0);
	assert_int_equal(smtp_reply(&b, 354, NULL, "go"), 0);
	assert_string_equal(buf_cstr(&b), "250 2.0.0 Ok\r\n354 go\r\n");
	buf_reset(&b);
	/* CR and LF inside a text never split the reply (reply injection) */
	assert_int_equal(smtp_reply(&b, 550, "5.0.0", "a\r\n250 ok"), 0);
	assert_string_equal(buf_cstr(&b), "550 5.0.0 a  250 ok\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_status(&b, smtp_std(SMTP_R_BAD_SENDER)), 0);
	assert_string_equal(buf_cstr(&b), "501 5.1.7 Bad sender address syntax\r\n");
	buf_free(&b);
}

static void test_multi_line(void **state)
{
	struct buf b = BUF_INIT(0);
	const char *lines[] = { "one", "two", "three" };

	(void)state;
	assert_int_equal(smtp_reply_lines(&b, 250, "2.0.0", lines, 3), 0);
	assert_string_equal(buf_cstr(&b), "250-2.0.0 one\r\n250-2.0.0 two\r\n250 2.0.0 three\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_lines(&b, 250, NULL, lines, 1), 0);
	assert_string_equal(buf_cstr(&b), "250 one\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_lines(&b, 250, NULL, lines, 0), 0);
	assert_string_equal(buf_cstr(&b), "250 \r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_text(&b, 214, "2.0.0", "help\nmore\n"), 0);
	assert_string_equal(buf_cstr(&b), "214-2.0.0 help\r\n214 2.0.0 more\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_text(&b, 214, NULL, "x"), 0);
	assert_string_equal(buf_cstr(&b), "214 x\r\n");
	buf_free(&b);
}

static void test_ehlo(void **state)
{
	struct buf b = BUF_INIT(0);
	struct smtp_ehlo_caps caps = { 0 };

	(void)state;
	caps.pipelining = caps.size_on = caps.enhancedstatuscodes = true;
	caps.eightbitmime = caps.smtputf8 = caps.chunking = true;
	caps.size = 10240000;
	assert_int_equal(smtp_reply_ehlo(&b, "mx.example.org", &caps), 0);
	assert_string_equal(buf_cstr(&b), "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
					  "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
					  "250 CHUNKING\r\n");
	buf_reset(&b);
	memset(&caps, 0, sizeof(caps));
	caps.size_on = caps.vrfy = caps.etrn = caps.starttls = caps.dsn = true;
	caps.auth = "PLAIN LOGIN";
	assert_int_equal(smtp_reply_ehlo(&b, "h", &caps), 0);
	assert_string_equal(buf_cstr(&b), "250-h\r\n250-SIZE\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n"
					  "250-AUTH PLAIN LOGIN\r\n250 DSN\r\n");
	buf_reset(&b);
	memset(&caps, 0, sizeof(caps));
	assert_int_equal(smtp_reply_ehlo(&b, "only", &caps), 0);
	assert_string_equal(buf_cstr(&b), "250 only\r\n");
	buf_free(&b);
}

static void test_limits_leave_buf_unchanged(void **state)
{
	struct buf b;
	const char *lines[] = { "first line", "second line that does not fit" };

	(void)state;
	buf_init(&b, 30);
	assert_int_equal(buf_puts(&b, "x"), 0);
	assert_int_equal(smtp_reply_lines(&b, 250, NULL, lines, 2), -1);
	assert_string_equal(buf_cstr(&b), "x");
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "a text far too long to fit here"), -1);
	assert_string_equal(buf_cstr(&b), "x");
	assert_int_equal(smtp_reply_text(&b, 250, NULL, "ab\ncdefghijklmnopqrstuvwxyz0123"), -1);
	assert_string_equal(buf_cstr(&b), "x");
	assert_int_equal(smtp_sanitize(&b, "0123456789012345678901234567890123", 34, 100), -1);
	assert_string_equal(buf_cstr(&b), "x");
	buf_free(&b);
}

static void test_sanitize(void **state)
{
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);

	(void)state;
	assert_int_equal(smtp_sanitize(&b, "ok\r\n\x01\xc3\xa9~", 8, 100), 0);
	assert_string_equal(buf_cstr(&b), "ok?????~");
	buf_reset(&b);
	assert_int_equal(smtp_sanitize(&b, "abcdef", 6, 3), 0);
	assert_string_equal(buf_cstr(&b), "abc...");
	buf_reset(&b);
	assert_int_equal(smtp_sanitize(&b, "abc", 3, 3), 0);
	assert_string_equal(buf_cstr(&b), "abc");
	assert_int_equal(smtp_sanitize(&b, "", 0, 3), 0);
	assert_string_equal(buf_cstr(&b), "abc");
	assert_string_equal(smtp_sanitize_arena(a, "a\0b", 3, 10), "a?b");
	assert_string_equal(smtp_sanitize_arena(a, "abcd", 4, 2), "ab...");
	assert_string_equal(smtp_sanitize_arena(a, "", 0, 2), "");
	arena_free(&a);
	buf_free(&b);
}

static void test_std_table(void **state)
{
	int i;

	(void)state;
	/* every entry is filled in, with a sane code and an enhanced code of the same class */
	for (i = 0; i < SMTP_R__COUNT; i++) {
		const struct smtp_status *st = smtp_std((enum smtp_reply_id)i);

		assert_non_null(st->text);
		assert_true(st->code >= 200 && st->code <= 599);
		if (st->enh)
			assert_int_equal(st->enh[0] - '0', st->code / 100);
	}
	assert_int_equal(smtp_std(SMTP_R_NOT_RECOGNIZED)->code, 502);
	assert_string_equal(smtp_std(SMTP_R_SIZE_LIMIT)->text, "Message size exceeds fixed limit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line),
		cmocka_unit_test(test_ehlo),
		cmocka_unit_test(test_limits_leave_buf_unchanged),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_std_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
