/*
 * test_strutil.c - unit tests for src/lib/strutil.c (ASCII classes, checked decimal parsing)
 */
#include "unit.h"

#include "lib/strutil.h"

/* u64 - parse a C string with parse_u64; returns its result, value in *v */
static int u64(const char *s, uint64_t *v)
{
	*v = 12345; /* must be left alone on failure */
	return parse_u64(s, strlen(s), v);
}

static int i64(const char *s, int64_t *v)
{
	*v = 12345;
	return parse_i64(s, strlen(s), v);
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(u64("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(u64("42", &v), 0);
	assert_true(v == 42);
	assert_int_equal(u64("0000000000000000000000000007", &v), 0);
	assert_true(v == 7);
	assert_int_equal(u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(u64("18446744073709551614", &v), 0);
	assert_true(v == UINT64_MAX - 1);
	/* one past the maximum, and far past it */
	assert_int_equal(u64("18446744073709551616", &v), -1);
	assert_int_equal(u64("18446744073709551620", &v), -1);
	assert_int_equal(u64("99999999999999999999", &v), -1);
	assert_int_equal(u64("184467440737095516150", &v), -1);
	assert_true(v == 12345);
	/* no sign, no space, no empty, no garbage */
	assert_int_equal(u64("", &v), -1);
	assert_int_equal(u64("+1", &v), -1);
	assert_int_equal(u64("-1", &v), -1);
	assert_int_equal(u64(" 1", &v), -1);
	assert_int_equal(u64("1 ", &v), -1);
	assert_int_equal(u64("1x", &v), -1);
	assert_int_equal(u64("0x10", &v), -1);
	assert_int_equal(u64("1\n", &v), -1);
	assert_true(v == 12345);
	/* only n bytes are read */
	assert_int_equal(parse_u64("123abc", 3, &v), 0);
	assert_true(v == 123);
	assert_int_equal(parse_u64("123", 0, &v), -1);
	/* an embedded NUL is not a digit */
	assert_int_equal(parse_u64("1\0002", 3, &v), -1);
}

static void test_parse_i64(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(i64("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(i64("-0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(i64("-1", &v), 0);
	assert_true(v == -1);
	assert_int_equal(i64("9223372036854775807", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(i64("-9223372036854775808", &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(i64("-9223372036854775807", &v), 0);
	assert_true(v == -INT64_MAX);
	assert_int_equal(i64("9223372036854775808", &v), -1);
	assert_int_equal(i64("-9223372036854775809", &v), -1);
	assert_int_equal(i64("18446744073709551615", &v), -1);
	assert_int_equal(i64("-18446744073709551616", &v), -1);
	assert_true(v == 12345);
	assert_int_equal(i64("", &v), -1);
	assert_int_equal(i64("-", &v), -1);
	assert_int_equal(i64("+1", &v), -1);
	assert_int_equal(i64("--1", &v), -1);
	assert_int_equal(i64(" 1", &v), -1);
	assert_int_equal(i64("1 ", &v), -1);
	assert_int_equal(i64("- 1", &v), -1);
	assert_int_equal(i64("1-", &v), -1);
	assert_true(v == 12345);
	assert_int_equal(parse_i64("-5x", 2, &v), 0);
	assert_true(v == -5);
	assert_int_equal(parse_i64("-5", 0, &v), -1);
	assert_int_equal(parse_i64("-5", 1, &v), -1);
}

static void test_classes(void **state)
{
	int c;

	(void)state;
	for (c = -128; c < 128; c++) {
		char ch = (char)c;
		int digit = c >= '0' && c <= '9';
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int space = c == ' ' || (c >= '\t' && c <= '\r');

		assert_int_equal(ascii_isdigit(ch), digit);
		assert_int_equal(ascii_isalpha(ch), alpha);
		assert_int_equal(ascii_isalnum(ch), digit || alpha);
		assert_int_equal(ascii_isspace(ch), space);
		assert_int_equal(ascii_tolower(ch), c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
}

static void test_case(void **state)
{
	char s[] = "MiXeD 123 \xc3\x89T\xc3\x89";

	(void)state;
	str_lower_ascii(s, strlen(s));
	assert_string_equal(s, "mixed 123 \xc3\x89t\xc3\x89");
	str_lower_ascii(s, 0);
	assert_int_equal(str_casecmp_ascii("Hello", "hELLO"), 0);
	assert_int_equal(str_casecmp_ascii("", ""), 0);
	assert_true(str_casecmp_ascii("abc", "abd") < 0);
	assert_true(str_casecmp_ascii("abd", "ABC") > 0);
	assert_true(str_casecmp_ascii("ab", "abc") < 0);
	assert_true(str_casecmp_ascii("abc", "ab") > 0);
	/* bytes >= 0x80 compare as unsigned and do not fold */
	assert_true(str_casecmp_ascii("\xc3\x89", "\xc3\xa9") != 0);
	assert_true(str_casecmp_ascii("\xff", "a") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
