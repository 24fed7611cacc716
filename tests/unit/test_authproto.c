/*
 * test_authproto.c - unit tests for src/libmail/authproto.c (auth protocol lines)
 */
#include <stdio.h>

#include "unit.h"

#include "libmail/authproto.h"

/* split - split a copy of s; returns the count, fields in f (valid until the next call) */
static int split(const char *s, char **f, size_t max, const char **err)
{
	static char line[4096];

	snprintf(line, sizeof(line), "%s", s);
	return authproto_split(line, strlen(line), f, max, err);
}

static void test_split_and_unescape(void **state)
{
	char *f[8];
	const char *err = NULL;

	(void)state;
	assert_int_equal(split("AUTH\t1\tPLAIN", f, 8, &err), 3);
	assert_string_equal(f[0], "AUTH");
	assert_string_equal(f[2], "PLAIN");
	assert_int_equal(split("USER\ta\\tb\\nc\\\\d", f, 8, &err), 2);
	assert_string_equal(f[1], "a\tb\nc\\d");
	assert_int_equal(split("USER\ta\001tb\001nc\001rd\0011e", f, 8, &err), 2); /* Dovecot's escapes */
	assert_string_equal(f[1], "a\tb\nc\rd\001e");
	assert_int_equal(split("a\001x", f, 8, &err), -1);
	assert_int_equal(split("a\\r", f, 8, &err), -1);
	assert_int_equal(split("", f, 8, &err), 1);
	assert_string_equal(f[0], "");
	assert_int_equal(split("A\t\tB\t", f, 8, &err), 4);
	assert_string_equal(f[1], "");
	assert_string_equal(f[3], "");
	assert_int_equal(split("a\tb\tc", f, 2, &err), -1);
	assert_string_equal(err, "too many fields");
	assert_int_equal(split("a\\x", f, 8, &err), -1);
	assert_string_equal(err, "bad escape sequence");
	assert_int_equal(split("a\\", f, 8, &err), -1);
	assert_int_equal(split("a\rb", f, 8, &err), -1);
}

static void test_split_rejects_nul(void **state)
{
	char line[] = "AUTH\0x", *f[4];
	const char *err;

	(void)state;
	assert_int_equal(authproto_split(line, 6, f, 4, &err), -1);
}

static void test_escape_round_trip(void **state)
{
	struct buf b = BUF_INIT(1024);
	const char *in = "t\tn\nb\\e\\t\r\001";
	char *f[4], copy[64];
	const char *err;

	(void)state;
	assert_int_equal(authproto_escape(&b, in), 0);
	assert_string_equal(buf_cstr(&b), "t\\tn\\nb\\\\e\\\\t\001r\0011");
	snprintf(copy, sizeof(copy), "%s", buf_cstr(&b));
	assert_int_equal(authproto_split(copy, strlen(copy), f, 4, &err), 1);
	assert_string_equal(f[0], in);
	buf_free(&b);
	b = (struct buf)BUF_INIT(3);
	assert_int_equal(authproto_escape(&b, "\t\t"), -1);
	buf_free(&b);
}

static void test_parse_id(void **state)
{
	uint32_t id;

	(void)state;
	assert_int_equal(authproto_parse_id("1", &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(authproto_parse_id("4294967295", &id), 0);
	assert_int_equal(id, 4294967295u);
	assert_int_equal(authproto_parse_id("4294967296", &id), -1);
	assert_int_equal(authproto_parse_id("0", &id), -1);
	assert_int_equal(authproto_parse_id("01", &id), -1);
	assert_int_equal(authproto_parse_id("", &id), -1);
	assert_int_equal(authproto_parse_id("-1", &id), -1);
	assert_int_equal(authproto_parse_id("12345678901", &id), -1);
}

static void test_parse_auth(void **state)
{
	char *f[AUTHPROTO_FIELDS_MAX];
	struct authproto_auth a;
	const char *err = NULL;
	int n = split("AUTH\t7\tPLAIN\tservice=pop3\tsecured\tlip=10.0.0.1\trip=192.0.2.1\tlport=110\trport=40000"
		      "\tresp=\tapop-challenge=<a@b>\tfuture=x\tvalid-client-cert",
		      f, AUTHPROTO_FIELDS_MAX, &err);

	(void)state;
	assert_true(n > 0);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), 0);
	assert_int_equal(a.id, 7);
	assert_string_equal(a.mech, "PLAIN");
	assert_string_equal(a.service, "pop3");
	assert_true(a.secured && a.valid_client_cert && a.has_resp);
	assert_string_equal(a.resp, "");
	assert_string_equal(a.lip, "10.0.0.1");
	assert_string_equal(a.rip, "192.0.2.1");
	assert_int_equal(a.lport, 110);
	assert_int_equal(a.rport, 40000);
	assert_string_equal(a.apop_challenge, "<a@b>");

	n = split("AUTH\t7\tPLAIN", f, AUTHPROTO_FIELDS_MAX, &err);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), -1);
	assert_string_equal(err, "service= is missing");
	assert_false(a.has_resp);
	n = split("AUTH\t0\tPLAIN\tservice=pop3", f, AUTHPROTO_FIELDS_MAX, &err);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), -1);
	assert_string_equal(err, "bad request id");
	n = split("AUTH\t1\tPLAIN\tservice=pop3\tlport=70000", f, AUTHPROTO_FIELDS_MAX, &err);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), -1);
	n = split("AUTH\t1\t\tservice=pop3", f, AUTHPROTO_FIELDS_MAX, &err);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), -1);
	n = split("AUTH\t1", f, AUTHPROTO_FIELDS_MAX, &err);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), -1);
	n = split("CONT\t1\tPLAIN\tservice=pop3", f, AUTHPROTO_FIELDS_MAX, &err);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), -1);
	/* "secured=yes" is not the flag */
	n = split("AUTH\t1\tPLAIN\tservice=pop3\tsecured=yes", f, AUTHPROTO_FIELDS_MAX, &err);
	assert_int_equal(authproto_parse_auth(f, (size_t)n, &a, &err), 0);
	assert_false(a.secured);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_and_unescape),
		cmocka_unit_test(test_split_rejects_nul),
		cmocka_unit_test(test_escape_round_trip),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_parse_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
