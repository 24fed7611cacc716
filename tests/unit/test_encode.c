/*
 * test_encode.c - unit tests for src/lib/encode.c (hex and base64 into bounded buffers)
 */
#include "unit.h"

#include "lib/encode.h"

/* RFC 4648 section 10 test vectors */
static const char *const rfc4648[][2] = {
	{ "", "" },	    { "f", "Zg==" },	     { "fo", "Zm8=" },		{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void test_base64_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		struct buf b = BUF_INIT(0);

		assert_int_equal(base64_encode(&b, rfc4648[i][0], strlen(rfc4648[i][0])), 0);
		assert_string_equal(buf_cstr(&b), rfc4648[i][1]);
		buf_reset(&b);
		assert_int_equal(base64_decode(&b, rfc4648[i][1], strlen(rfc4648[i][1])), 0);
		assert_int_equal(b.len, strlen(rfc4648[i][0]));
		assert_memory_equal(b.data ? b.data : "", rfc4648[i][0], b.len);
		buf_free(&b);
	}
}

static void test_base64_binary_roundtrip(void **state)
{
	unsigned char all[256];
	struct buf e = BUF_INIT(0), d = BUF_INIT(0);
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(all); n++)
		all[n] = (unsigned char)(255 - n);
	for (n = 0; n <= sizeof(all); n++) {
		buf_reset(&e);
		buf_reset(&d);
		assert_int_equal(base64_encode(&e, all, n), 0);
		assert_int_equal(e.len, (n + 2) / 3 * 4);
		assert_int_equal(base64_decode(&d, e.data, e.len), 0);
		assert_int_equal(d.len, n);
		if (n)
			assert_memory_equal(d.data, all, n);
	}
	buf_free(&e);
	buf_free(&d);
}

static void test_base64_strict(void **state)
{
	static const char *const bad[] = { "Zg=", "Zg", "Z===", "Zg==Zg==", "Zm9v\n", "Zm 9", "Zm9=v", "Zm-_", "=Zm9" };
	struct buf b = BUF_INIT(0);
	size_t i;

	(void)state;
	assert_int_equal(buf_puts(&b, "keep"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(base64_decode(&b, bad[i], strlen(bad[i])), -1);
		assert_string_equal(buf_cstr(&b), "keep"); /* unchanged on error */
	}
	buf_free(&b);
}

static void test_hex(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_int_equal(hex_encode(&b, "\x00\x7f\xff\x10", 4), 0);
	assert_string_equal(buf_cstr(&b), "007fff10");
	buf_reset(&b);
	assert_int_equal(hex_decode(&b, "007FfF10", 8), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "\x00\x7f\xff\x10", 4);
	buf_reset(&b);
	assert_int_equal(hex_decode(&b, "abc", 3), -1);
	assert_int_equal(hex_decode(&b, "zz", 2), -1);
	assert_int_equal(hex_decode(&b, "0g", 2), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_bounded(void **state)
{
	struct buf b = BUF_INIT(8);

	(void)state;
	assert_int_equal(base64_encode(&b, "foobar", 6), 0); /* exactly 8 */
	assert_int_equal(b.len, 8);
	assert_int_equal(hex_encode(&b, "x", 1), -1);
	assert_int_equal(base64_decode(&b, "Zg==", 4), -1);
	assert_int_equal(b.len, 8);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors), cmocka_unit_test(test_base64_binary_roundtrip),
		cmocka_unit_test(test_base64_strict),  cmocka_unit_test(test_hex),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
