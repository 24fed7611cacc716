/*
 * test_xalloc.c - unit tests for src/lib/xalloc.c (allocation wrappers that die instead of failing)
 *
 * Overflow checks must end the process through fatal() (exit status 1, "fatal:" on stderr): those
 * cases run in a forked child (unit_child). Real out-of-memory is not provoked: under ASan a huge
 * malloc() reports an allocator error instead of returning NULL.
 */
#include "unit.h"

#include "lib/log.h"
#include "lib/xalloc.h"

static void test_xmalloc_zero_and_unique(void **state)
{
	char *a = xmalloc(0), *b = xmalloc(0);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	free(a);
	free(b);
}

static void test_xcalloc_zeroes(void **state)
{
	unsigned char *p = xcalloc(1000, 3);
	size_t i;

	(void)state;
	for (i = 0; i < 3000; i++)
		assert_int_equal(p[i], 0);
	free(p);
	/* zero members or zero size still give a valid pointer */
	p = xcalloc(0, 8);
	assert_non_null(p);
	free(p);
	p = xcalloc(8, 0);
	assert_non_null(p);
	free(p);
}

static void test_xrealloc_keeps_data(void **state)
{
	int *p = NULL;
	int i;

	(void)state;
	for (i = 1; i <= 1000; i++) {
		p = xreallocarray(p, (size_t)i, sizeof(*p));
		p[i - 1] = i;
	}
	for (i = 1; i <= 1000; i++)
		assert_int_equal(p[i - 1], i);
	p = xrealloc(p, 0);
	assert_non_null(p);
	free(p);
}

static void test_strdup_family(void **state)
{
	char *s;

	(void)state;
	s = xstrdup("hello");
	assert_string_equal(s, "hello");
	free(s);
	s = xstrdup("");
	assert_string_equal(s, "");
	free(s);
	/* xstrndup stops at the NUL or at n, whichever comes first */
	s = xstrndup("hello", 3);
	assert_string_equal(s, "hel");
	free(s);
	s = xstrndup("hi", 100);
	assert_string_equal(s, "hi");
	free(s);
	/* xmemdup copies embedded NULs and terminates */
	s = xmemdup("a\0b", 3);
	assert_memory_equal(s, "a\0b\0", 4);
	free(s);
	s = xmemdup(NULL, 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_xasprintf(void **state)
{
	char big[3000], *s;

	(void)state;
	s = xasprintf("%s-%d-%zu", "x", -5, (size_t)7);
	assert_string_equal(s, "x--5-7");
	free(s);
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = xasprintf("<%s>", big);
	assert_int_equal(strlen(s), sizeof(big) + 1);
	assert_int_equal(s[0], '<');
	assert_int_equal(s[sizeof(big)], '>');
	free(s);
}

static void test_xfree_sets_null(void **state)
{
	char *p = xstrdup("x");

	(void)state;
	xfree(&p);
	assert_null(p);
	xfree(&p); /* free(NULL) is harmless */
	assert_null(p);
}

/* the overflow cases, each run in a child that must die through fatal() */

static void child_calloc_overflow(void *arg)
{
	(void)arg;
	free(xcalloc(SIZE_MAX / 2 + 2, 2));
}

static void child_calloc_overflow_big_size(void *arg)
{
	(void)arg;
	free(xcalloc(3, SIZE_MAX / 2));
}

static void child_reallocarray_overflow(void *arg)
{
	(void)arg;
	free(xreallocarray(NULL, SIZE_MAX / 8 + 1, 8));
}

static void child_reallocarray_overflow_keeps_nothing(void *arg)
{
	char *p = xmalloc(16);

	(void)arg;
	p = xreallocarray(p, (size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4));
	free(p);
}

static void child_memdup_overflow(void *arg)
{
	(void)arg;
	free(xmemdup("", SIZE_MAX));
}

static void expect_fatal_overflow(void (*fn)(void *))
{
	char err[1024];
	int status;

	log_init("postern", "test", LOG_TO_STDERR, NULL, NULL);
	status = unit_child(fn, NULL, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(err, "postern/test: fatal: allocation size overflow"));
}

static void test_overflow_is_fatal(void **state)
{
	(void)state;
	expect_fatal_overflow(child_calloc_overflow);
	expect_fatal_overflow(child_calloc_overflow_big_size);
	expect_fatal_overflow(child_reallocarray_overflow);
	expect_fatal_overflow(child_reallocarray_overflow_keeps_nothing);
	expect_fatal_overflow(child_memdup_overflow);
}

static void child_no_overflow_at_limit(void *arg)
{
	/* SIZE_MAX / 8 members of 8 bytes does not overflow: only the allocation may fail,
	 * so check the arithmetic boundary with a zero size instead of allocating */
	(void)arg;
	free(xcalloc(SIZE_MAX, 0));
	free(xreallocarray(NULL, 0, SIZE_MAX));
}

static void test_boundary_not_overflow(void **state)
{
	int status;

	(void)state;
	status = unit_child(child_no_overflow_at_limit, NULL, NULL, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xmalloc_zero_and_unique),
		cmocka_unit_test(test_xcalloc_zeroes),
		cmocka_unit_test(test_xrealloc_keeps_data),
		cmocka_unit_test(test_strdup_family),
		cmocka_unit_test(test_xasprintf),
		cmocka_unit_test(test_xfree_sets_null),
		cmocka_unit_test(test_overflow_is_fatal),
		cmocka_unit_test(test_boundary_not_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
