/*
 * test_htab.c - unit tests for src/lib/htab.c (string-keyed hash table)
 */
#include "unit.h"

#include <stdio.h>

#include "lib/htab.h"

static int freed;

static void count_free(void *v)
{
	freed++;
	free(v);
}

static void test_put_get_replace_remove(void **state)
{
	struct htab *t = htab_new(0, NULL);
	int a = 1, b = 2, c = 3;

	(void)state;
	assert_int_equal(htab_count(t), 0);
	assert_null(htab_get(t, "x"));
	assert_false(htab_has(t, "x"));
	assert_false(htab_put(t, "x", &a));
	assert_false(htab_put(t, "y", &b));
	assert_ptr_equal(htab_get(t, "x"), &a);
	assert_ptr_equal(htab_get(t, "y"), &b);
	assert_int_equal(htab_count(t), 2);
	/* replace */
	assert_true(htab_put(t, "x", &c));
	assert_ptr_equal(htab_get(t, "x"), &c);
	assert_int_equal(htab_count(t), 2);
	/* keys are case-sensitive and compared in full */
	assert_null(htab_get(t, "X"));
	assert_null(htab_get(t, "xx"));
	assert_null(htab_get(t, ""));
	/* NULL values are present */
	assert_false(htab_put(t, "", NULL));
	assert_true(htab_has(t, ""));
	assert_null(htab_get(t, ""));
	/* remove */
	assert_true(htab_remove(t, "x"));
	assert_false(htab_remove(t, "x"));
	assert_false(htab_has(t, "x"));
	assert_true(htab_remove(t, ""));
	assert_int_equal(htab_count(t), 1);
	htab_free(&t);
	assert_null(t);
	htab_free(&t);
}

static void test_key_copied(void **state)
{
	struct htab *t = htab_new(4, NULL);
	char key[8] = "abc";
	int v = 5;

	(void)state;
	htab_put(t, key, &v);
	key[0] = 'z';
	assert_ptr_equal(htab_get(t, "abc"), &v);
	assert_null(htab_get(t, "zbc"));
	htab_free(&t);
}

static void test_get_n(void **state)
{
	struct htab *t = htab_new(0, NULL);
	int v1 = 1, v2 = 2;
	const char *line = "user@example.org extra";

	(void)state;
	htab_put(t, "user@example.org", &v1);
	htab_put(t, "user", &v2);
	/* key of n bytes inside a longer, unterminated buffer */
	assert_ptr_equal(htab_get_n(t, line, 16), &v1);
	assert_ptr_equal(htab_get_n(t, line, 4), &v2);
	assert_null(htab_get_n(t, line, 5));
	assert_null(htab_get_n(t, line, 0));
	/* embedded NUL: never equal to a C-string key */
	assert_null(htab_get_n(t, "user\0x", 6));
	htab_free(&t);
}

static void test_free_value(void **state)
{
	struct htab *t = htab_new(0, count_free);
	char *same;

	(void)state;
	freed = 0;
	htab_put(t, "a", strdup("1"));
	htab_put(t, "b", strdup("2"));
	htab_put(t, "c", NULL);
	/* replacing frees the old value ... */
	htab_put(t, "a", strdup("3"));
	assert_int_equal(freed, 1);
	assert_string_equal(htab_get(t, "a"), "3");
	/* ... but not when the same pointer is put again */
	same = htab_get(t, "a");
	htab_put(t, "a", same);
	assert_int_equal(freed, 1);
	/* removing frees */
	assert_true(htab_remove(t, "b"));
	assert_int_equal(freed, 2);
	/* freeing the table frees the rest (NULL values go through the callback: free(NULL) is fine) */
	htab_free(&t);
	assert_int_equal(freed, 4);
}

static void test_iteration(void **state)
{
	struct htab *t = htab_new(0, NULL);
	struct htab_iter it;
	const char *k;
	void *v;
	char key[32];
	unsigned char seen[1000] = { 0 };
	int i, n = 0;

	(void)state;
	htab_iter_init(t, &it);
	assert_false(htab_iter_next(&it, &k, &v));
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		htab_put(t, key, (void *)(intptr_t)(i + 1));
	}
	for (htab_iter_init(t, &it); htab_iter_next(&it, &k, &v);) {
		int idx = (int)(intptr_t)v - 1;

		assert_true(idx >= 0 && idx < 1000);
		snprintf(key, sizeof(key), "k%d", idx);
		assert_string_equal(k, key);
		assert_int_equal(seen[idx], 0);
		seen[idx] = 1;
		n++;
	}
	assert_int_equal(n, 1000);
	/* the iterator stays at the end */
	assert_false(htab_iter_next(&it, &k, &v));
	htab_free(&t);
}

static void test_growth_100k(void **state)
{
	struct htab *t = htab_new(0, NULL);
	char key[64];
	int i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "user%06d@example.org", i);
		assert_false(htab_put(t, key, (void *)(intptr_t)(i + 1)));
	}
	assert_int_equal(htab_count(t), 100000);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "user%06d@example.org", i);
		assert_int_equal((intptr_t)htab_get(t, key), i + 1);
	}
	snprintf(key, sizeof(key), "user%06d@example.org", 100000);
	assert_null(htab_get(t, key));
	/* remove every other key, the rest stays reachable */
	for (i = 0; i < 100000; i += 2) {
		snprintf(key, sizeof(key), "user%06d@example.org", i);
		assert_true(htab_remove(t, key));
	}
	assert_int_equal(htab_count(t), 50000);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "user%06d@example.org", i);
		assert_int_equal(htab_has(t, key), i % 2 == 1);
	}
	htab_free(&t);
}

static void test_size_hint(void **state)
{
	struct htab *t = htab_new(100000, NULL);
	char key[16];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "%d", i);
		htab_put(t, key, NULL);
	}
	assert_int_equal(htab_count(t), 1000);
	htab_free(&t);
	/* an absurd hint is capped, not an allocation of 2^64 buckets */
	t = htab_new((size_t)1 << 62, NULL);
	htab_free(&t);
}

/* a model of the table: random puts and removes must agree with it (probing, backward shift) */
static void churn(struct htab *t)
{
	static int model[512];
	char key[16];
	unsigned seed = 12345;
	int i, k;

	memset(model, 0, sizeof(model));
	for (i = 0; i < 200000; i++) {
		seed = seed * 1103515245u + 12345u;
		k = (int)((seed >> 8) % 512);
		snprintf(key, sizeof(key), "k%d", k);
		if ((seed >> 20) & 1) {
			assert_int_equal(htab_put(t, key, (void *)(intptr_t)(i + 1)), model[k] != 0);
			model[k] = i + 1;
		} else {
			assert_int_equal(htab_remove(t, key), model[k] != 0);
			model[k] = 0;
		}
	}
	for (k = 0; k < 512; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		assert_int_equal((intptr_t)htab_get(t, key), model[k]);
	}
}

static void test_churn_against_model(void **state)
{
	struct htab *t = htab_new(0, NULL);

	(void)state;
	churn(t);
	htab_free(&t);
	/* arena mode behaves the same (only memory is kept until htab_free) */
	t = htab_new_arena(0, NULL);
	churn(t);
	htab_free(&t);
}

static int arena_freed;
static void count_arena_free(void *v)
{
	(void)v;
	arena_freed++;
}

static void test_arena_mode(void **state)
{
	struct htab *t = htab_new_arena(4, count_arena_free);
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "key-%d", i);
		assert_false(htab_put(t, key, &arena_freed));
	}
	assert_true(htab_put(t, "key-1", &arena_freed));
	assert_true(htab_remove(t, "key-2"));
	assert_null(htab_get(t, "key-2"));
	assert_ptr_equal(htab_get(t, "key-9999"), &arena_freed);
	arena_freed = 0;
	htab_free(&t);
	assert_null(t);
	assert_int_equal(arena_freed, 9999);
}

static void test_binary_keys(void **state)
{
	struct htab *t = htab_new(0, NULL);
	int v = 9;

	(void)state;
	htab_put(t, "\xff\xfe\x80", &v);
	assert_ptr_equal(htab_get(t, "\xff\xfe\x80"), &v);
	assert_null(htab_get(t, "\xff\xfe"));
	htab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace_remove),
		cmocka_unit_test(test_churn_against_model),
		cmocka_unit_test(test_arena_mode),
		cmocka_unit_test(test_key_copied),
		cmocka_unit_test(test_get_n),
		cmocka_unit_test(test_free_value),
		cmocka_unit_test(test_iteration),
		cmocka_unit_test(test_growth_100k),
		cmocka_unit_test(test_size_hint),
		cmocka_unit_test(test_binary_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
