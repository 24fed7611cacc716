/*
 * test_arena.c - unit tests for src/lib/arena.c (region allocator)
 *
 * Every allocation is filled with a pattern and checked after the others were
 * made, so overlapping results are caught; ASan catches writes past a block.
 */
#include "unit.h"

#include <stdalign.h>

#include "lib/arena.h"

#define ALIGN alignof(max_align_t)

static void assert_aligned(const void *p)
{
	assert_int_equal((uintptr_t)p % ALIGN, 0);
}

struct rec {
	unsigned char *p;
	size_t n;
	unsigned char fill;
};

/* fill_and_check - allocate count blocks of sizes from sizefn, fill, then verify all */
static void fill_and_check(struct arena *a, size_t count, size_t (*sizefn)(size_t i))
{
	struct rec *r = calloc(count, sizeof(*r));
	size_t i, j, total = arena_used(a);

	assert_non_null(r);
	for (i = 0; i < count; i++) {
		r[i].n = sizefn(i);
		r[i].p = arena_alloc(a, r[i].n);
		r[i].fill = (unsigned char)(i * 131 + 7);
		assert_non_null(r[i].p);
		assert_aligned(r[i].p);
		memset(r[i].p, r[i].fill, r[i].n);
		total += r[i].n ? r[i].n : 1;
	}
	for (i = 0; i < count; i++)
		for (j = 0; j < r[i].n; j++)
			assert_int_equal(r[i].p[j], r[i].fill);
	assert_int_equal(arena_used(a), total);
	free(r);
}

static size_t small_size(size_t i)
{
	return i % 37; /* includes 0 */
}

static size_t mixed_size(size_t i)
{
	static const size_t sizes[] = { 1, 4095, 4096, 4097, 100000, 3, 1024, 1025, 17, 65536 };

	return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void test_many_small(void **state)
{
	struct arena *a = arena_new(0);

	(void)state;
	assert_int_equal(arena_used(a), 0);
	fill_and_check(a, 20000, small_size);
	arena_free(&a);
	assert_null(a);
}

static void test_big_and_mixed(void **state)
{
	struct arena *a = arena_new(4096);
	void *p;

	(void)state;
	fill_and_check(a, 300, mixed_size);
	/* a big allocation must not waste the current block: small ones still fit after it */
	p = arena_alloc(a, 1 << 20);
	assert_aligned(p);
	memset(p, 1, 1 << 20);
	fill_and_check(a, 100, small_size);
	arena_free(&a);
}

static void test_tiny_blocks(void **state)
{
	struct arena *a = arena_new(1);

	(void)state;
	fill_and_check(a, 500, small_size);
	fill_and_check(a, 20, mixed_size);
	arena_free(&a);
}

static void test_clear_reuses(void **state)
{
	struct arena *a = arena_new(1024);
	int round;

	(void)state;
	for (round = 0; round < 5; round++) {
		fill_and_check(a, 3000, small_size);
		fill_and_check(a, 20, mixed_size);
		arena_clear(a);
		assert_int_equal(arena_used(a), 0);
	}
	/* clear on a fresh arena and twice in a row */
	arena_clear(a);
	arena_clear(a);
	fill_and_check(a, 10, small_size);
	arena_free(&a);
	arena_free(&a); /* NULL: no-op */
}

static void test_zalloc_and_copies(void **state)
{
	struct arena *a = arena_new(64);
	unsigned char *z;
	char *s;
	size_t i;

	(void)state;
	z = arena_zalloc(a, 1000);
	assert_aligned(z);
	for (i = 0; i < 1000; i++)
		assert_int_equal(z[i], 0);
	assert_non_null(arena_zalloc(a, 0));

	s = arena_strdup(a, "hello");
	assert_string_equal(s, "hello");
	s = arena_memdup(a, "a\0b", 3);
	assert_memory_equal(s, "a\0b\0", 4);
	s = arena_memdup(a, NULL, 0);
	assert_string_equal(s, "");
	s = arena_slicedup(a, slice_make("abcdef", 3));
	assert_string_equal(s, "abc");
	s = arena_slicedup(a, slice_make(NULL, 0));
	assert_string_equal(s, "");
	s = arena_printf(a, "%s=%d", "n", 42);
	assert_string_equal(s, "n=42");
	s = arena_printf(a, "%0500d", 7);
	assert_int_equal(strlen(s), 500);
	assert_int_equal(s[499], '7');
	arena_free(&a);
}

static void test_limit(void **state)
{
	struct arena *a = arena_new(0);
	int i;

	(void)state;
	arena_set_limit(a, 100);
	assert_non_null(arena_alloc_limited(a, 60));
	assert_null(arena_alloc_limited(a, 41));
	assert_non_null(arena_alloc_limited(a, 40));
	assert_int_equal(arena_used(a), 100);
	assert_null(arena_alloc_limited(a, 1));
	assert_null(arena_alloc_limited(a, SIZE_MAX));
	/* zero-byte requests count as one byte: the limit still holds */
	assert_null(arena_alloc_limited(a, 0));
	assert_int_equal(arena_used(a), 100);
	/* arena_alloc ignores the limit (internal data), and limited calls then fail */
	assert_non_null(arena_alloc(a, 10));
	assert_null(arena_alloc_limited(a, 1));
	/* clear resets the count, not the limit */
	arena_clear(a);
	for (i = 0; i < 100; i++)
		assert_non_null(arena_alloc_limited(a, 0));
	assert_null(arena_alloc_limited(a, 0));
	assert_int_equal(arena_used(a), 100);
	/* no limit */
	arena_set_limit(a, 0);
	assert_non_null(arena_alloc_limited(a, 100000));
	arena_free(&a);
}

static void child_huge(void *arg)
{
	struct arena *a = arena_new(0);

	(void)arg;
	arena_alloc(a, SIZE_MAX - 8);
}

static void child_huge_memdup(void *arg)
{
	struct arena *a = arena_new(0);

	(void)arg;
	arena_memdup(a, "", SIZE_MAX);
}

static void test_huge_is_fatal(void **state)
{
	char err[512];
	int status;

	(void)state;
	status = unit_child(child_huge, NULL, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(err, "fatal: arena: allocation size overflow"));
	status = unit_child(child_huge_memdup, NULL, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(err, "fatal: arena: allocation size overflow"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_small),
		cmocka_unit_test(test_big_and_mixed),
		cmocka_unit_test(test_tiny_blocks),
		cmocka_unit_test(test_clear_reuses),
		cmocka_unit_test(test_zalloc_and_copies),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_huge_is_fatal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
