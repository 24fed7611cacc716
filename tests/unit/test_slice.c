/*
 * test_slice.c - unit tests for src/lib/slice.c (non-owning byte views)
 *
 * Slices are not NUL-terminated: inputs here are cut out of longer strings so
 * that any read past s.n would change a result (and ASan catches reads past a buffer).
 */
#include "unit.h"

#include "lib/slice.h"

static void test_make(void **state)
{
	struct slice s = SLICE_LIT("abc"), t = slice_cstr("hello"), e = slice_make(NULL, 0);

	(void)state;
	assert_int_equal(s.n, 3);
	assert_memory_equal(s.p, "abc", 3);
	assert_int_equal(t.n, 5);
	assert_null(e.p);
	assert_int_equal(e.n, 0);
	assert_int_equal(SLICE_LIT("").n, 0);
}

static void test_eq(void **state)
{
	const char *buf = "abcABCabcd";
	struct slice a = slice_make(buf, 3), b = slice_make(buf + 3, 3), c = slice_make(buf + 6, 3);
	struct slice empty = slice_make(NULL, 0), empty2 = slice_make(buf, 0);

	(void)state;
	assert_true(slice_eq(a, c));
	assert_false(slice_eq(a, b));
	assert_false(slice_eq(a, slice_make(buf + 6, 4)));
	assert_true(slice_eq(empty, empty2));
	assert_false(slice_eq(empty, a));
	assert_true(slice_eq_ci(a, b));
	assert_true(slice_eq_ci(b, c));
	assert_false(slice_eq_ci(a, slice_make(buf + 6, 4)));
	assert_true(slice_eq_ci(empty, empty2));
	/* only ASCII letters fold */
	assert_false(slice_eq_ci(SLICE_LIT("\xc3\xa9"), SLICE_LIT("\xc3\x89")));
	assert_false(slice_eq_ci(SLICE_LIT("@"), SLICE_LIT("`")));
	assert_false(slice_eq_ci(SLICE_LIT("["), SLICE_LIT("{")));
	assert_true(slice_eq_cstr(a, "abc"));
	assert_false(slice_eq_cstr(a, "abcd"));
	assert_false(slice_eq_cstr(a, "ab"));
	assert_true(slice_eq_cstr(empty, ""));
	/* embedded NUL is data */
	assert_false(slice_eq(SLICE_LIT("a\0b"), SLICE_LIT("a\0c")));
	assert_true(slice_eq(SLICE_LIT("a\0b"), slice_make("a\0bX", 3)));
}

static void test_trim(void **state)
{
	struct slice s;

	(void)state;
	s = slice_trim(SLICE_LIT(" \t\r\n\v\fab c\r\n "));
	assert_true(slice_eq_cstr(s, "ab c"));
	s = slice_trim(SLICE_LIT("   "));
	assert_int_equal(s.n, 0);
	s = slice_trim(slice_make(NULL, 0));
	assert_int_equal(s.n, 0);
	s = slice_trim(SLICE_LIT("x"));
	assert_true(slice_eq_cstr(s, "x"));
	/* a slice of " ab " inside " ab  cd": trailing data past n is ignored */
	s = slice_trim(slice_make(" ab  cd", 4));
	assert_true(slice_eq_cstr(s, "ab"));
	/* NUL and non-ASCII are not space */
	s = slice_trim(SLICE_LIT("\0a\xa0"));
	assert_int_equal(s.n, 3);
}

static void test_starts_with(void **state)
{
	(void)state;
	assert_true(slice_starts_with(SLICE_LIT("MAIL FROM:"), "MAIL"));
	assert_true(slice_starts_with(SLICE_LIT("MAIL"), "MAIL"));
	assert_true(slice_starts_with(SLICE_LIT("x"), ""));
	assert_true(slice_starts_with(slice_make(NULL, 0), ""));
	assert_false(slice_starts_with(SLICE_LIT("MAI"), "MAIL"));
	assert_false(slice_starts_with(slice_make("MAIL", 3), "MAIL"));
	assert_false(slice_starts_with(SLICE_LIT("mail"), "MAIL"));
}

static void test_chr(void **state)
{
	(void)state;
	assert_int_equal(slice_chr(SLICE_LIT("a=b=c"), '='), 1);
	assert_int_equal(slice_chr(SLICE_LIT("abc"), 'a'), 0);
	assert_int_equal(slice_chr(SLICE_LIT("abc"), 'c'), 2);
	assert_int_equal(slice_chr(SLICE_LIT("abc"), 'x'), -1);
	assert_int_equal(slice_chr(slice_make("ab=", 2), '='), -1);
	assert_int_equal(slice_chr(slice_make(NULL, 0), '='), -1);
	assert_int_equal(slice_chr(SLICE_LIT("a\0b"), '\0'), 1);
}

static void test_sub(void **state)
{
	struct slice s = SLICE_LIT("hello"), r;

	(void)state;
	r = slice_sub(s, 1, 3);
	assert_true(slice_eq_cstr(r, "ell"));
	r = slice_sub(s, 0, 5);
	assert_true(slice_eq_cstr(r, "hello"));
	r = slice_sub(s, 2, SIZE_MAX);
	assert_true(slice_eq_cstr(r, "llo"));
	r = slice_sub(s, 5, 1);
	assert_int_equal(r.n, 0);
	assert_ptr_equal(r.p, s.p + 5);
	r = slice_sub(s, 99, 1);
	assert_int_equal(r.n, 0);
	assert_ptr_equal(r.p, s.p + 5);
	r = slice_sub(s, SIZE_MAX, SIZE_MAX);
	assert_int_equal(r.n, 0);
	r = slice_sub(slice_make(NULL, 0), 0, 10);
	assert_int_equal(r.n, 0);
}

/* tokens - split all of s with seps into "a|b|c" form for easy comparison */
static void tokens(struct slice s, const char *seps, char *out, size_t outsz)
{
	struct slice tok;
	size_t o = 0;
	int first = 1;

	out[0] = '\0';
	while (slice_next_token(&s, seps, &tok)) {
		assert_true(tok.n > 0);
		assert_true(o + tok.n + 2 < outsz);
		if (!first)
			out[o++] = '|';
		memcpy(out + o, tok.p, tok.n);
		o += tok.n;
		out[o] = '\0';
		first = 0;
	}
	/* once false, the rest is empty and stays false */
	assert_int_equal(s.n, 0);
	assert_false(slice_next_token(&s, seps, &tok));
}

static void test_next_token(void **state)
{
	char out[256];

	(void)state;
	tokens(SLICE_LIT("a b c"), " ", out, sizeof(out));
	assert_string_equal(out, "a|b|c");
	tokens(SLICE_LIT("  a   b  "), " ", out, sizeof(out));
	assert_string_equal(out, "a|b");
	tokens(SLICE_LIT("a, b,,c ,"), ", ", out, sizeof(out));
	assert_string_equal(out, "a|b|c");
	tokens(SLICE_LIT(""), " ", out, sizeof(out));
	assert_string_equal(out, "");
	tokens(slice_make(NULL, 0), " ", out, sizeof(out));
	assert_string_equal(out, "");
	tokens(SLICE_LIT("   "), " ", out, sizeof(out));
	assert_string_equal(out, "");
	tokens(SLICE_LIT("single"), " ", out, sizeof(out));
	assert_string_equal(out, "single");
	/* no separators at all: the whole input is one token */
	tokens(SLICE_LIT("a b"), "", out, sizeof(out));
	assert_string_equal(out, "a b");
	/* a NUL byte is data, never a separator (strchr would match the terminator) */
	tokens(SLICE_LIT("a\0b c"), " ", out, sizeof(out));
	assert_memory_equal(out, "a\0b|c", 6);
	/* the slice ends before the string does */
	tokens(slice_make("ab cd ef", 5), " ", out, sizeof(out));
	assert_string_equal(out, "ab|cd");
	tokens(slice_make("ab cd", 3), " ", out, sizeof(out));
	assert_string_equal(out, "ab");
}

static void test_next_token_rest(void **state)
{
	struct slice rest = SLICE_LIT("MAIL FROM:<a@b> SIZE=10"), tok;

	(void)state;
	assert_true(slice_next_token(&rest, " ", &tok));
	assert_true(slice_eq_cstr(tok, "MAIL"));
	/* rest starts at the separator after the token, so the caller can see it */
	assert_true(slice_eq_cstr(rest, " FROM:<a@b> SIZE=10"));
	assert_true(slice_next_token(&rest, " ", &tok));
	assert_true(slice_eq_cstr(tok, "FROM:<a@b>"));
	/* separators may change between calls */
	assert_true(slice_next_token(&rest, " =", &tok));
	assert_true(slice_eq_cstr(tok, "SIZE"));
	assert_true(slice_next_token(&rest, " =", &tok));
	assert_true(slice_eq_cstr(tok, "10"));
	assert_int_equal(rest.n, 0);
	assert_false(slice_next_token(&rest, " =", &tok));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make),
		cmocka_unit_test(test_eq),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_starts_with),
		cmocka_unit_test(test_chr),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_next_token),
		cmocka_unit_test(test_next_token_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
