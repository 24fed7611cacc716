/*
 * test_buf.c - unit tests for src/lib/buf.c (bounded growable buffer)
 */
#include "unit.h"

#include "lib/buf.h"

static void test_append_and_nul(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_putc(&b, ' '), 0);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(buf_cstr(&b), "hello 42-x");
	assert_int_equal(b.len, 10);
	buf_consume(&b, 6);
	assert_string_equal(buf_cstr(&b), "42-x");
	buf_truncate(&b, 2);
	assert_string_equal(buf_cstr(&b), "42");
	buf_free(&b);
}

static void test_max_enforced(void **state)
{
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	/* one more byte must fail and leave the contents untouched */
	assert_int_equal(buf_putc(&b, '9'), -1);
	assert_int_equal(buf_printf(&b, "%s", "x"), -1);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_reset(&b);
	for (i = 0; i < 8; i++)
		assert_int_equal(buf_putc(&b, 'a'), 0);
	assert_int_equal(buf_append(&b, "b", 1), -1);
	assert_int_equal(b.len, 8);
	buf_free(&b);
}

static void test_growth_and_binary(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	char big[5000];
	char *p;

	(void)state;
	memset(big, 'z', sizeof(big));
	big[100] = '\0';
	assert_int_equal(buf_append(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, sizeof(big));
	assert_memory_equal(b.data, big, sizeof(big));
	assert_int_equal(b.data[b.len], '\0');
	p = buf_detach(&b);
	assert_null(b.data);
	free(p);
}

static void test_overflow_sizes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(buf_reserve(&b, BUF_MAX_DEFAULT + 1), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_nul),
		cmocka_unit_test(test_max_enforced),
		cmocka_unit_test(test_growth_and_binary),
		cmocka_unit_test(test_overflow_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
