/*
 * htab.h - small hash table: C-string keys (copied), pointer values
 *
 * Open addressing (linear probing, the full hash kept in the slot array),
 * load kept at or below 1/2; one allocation per entry. The hash is seeded per table
 * from a random value, so peer-chosen keys cannot be aimed at one bucket
 * across processes. Iteration order is unspecified.
 * Tests:    tests/unit/test_htab.c
 */
#ifndef POSTERN_HTAB_H
#define POSTERN_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct htab;

typedef void htab_free_fn(void *value);

/*
 * htab_new - empty table presized for about size_hint entries (capped at 2^22; the table
 * grows past that as needed); free_value (may be NULL) is called on replaced/removed/freed values
 */
struct htab *htab_new(size_t size_hint, htab_free_fn *free_value);
/*
 * htab_new_arena - the same, but entries are allocated from an internal arena:
 * much cheaper for tables that are built once and freed whole (sets of seen
 * keys, tables loaded from a file). htab_remove() and replacing a value still
 * work, but the memory of a removed entry is only given back by htab_free().
 */
struct htab *htab_new_arena(size_t size_hint, htab_free_fn *free_value);
/*
 * hash_bytes64 - the table's 64-bit hash of n bytes (seeded FNV-1a with a
 * splitmix64 finaliser): also for callers that need a fast, well-mixed key
 * hash of their own (not cryptographic; seed it when keys come from a peer)
 */
uint64_t hash_bytes64(uint64_t seed, const void *p, size_t n);
/* htab_free - free keys, values (through free_value) and the table; sets *tp = NULL */
void htab_free(struct htab **tp);
/* htab_get - value for key, or NULL */
void *htab_get(const struct htab *t, const char *key);
/* htab_get_n - the same for a key of n bytes that need not be NUL-terminated */
void *htab_get_n(const struct htab *t, const char *key, size_t n);
/* htab_has - is key present (even with a NULL value)? */
bool htab_has(const struct htab *t, const char *key);
/* htab_put - insert or replace; returns true when the key was already there */
bool htab_put(struct htab *t, const char *key, void *value);
/* htab_remove - remove key; returns true when it was there */
bool htab_remove(struct htab *t, const char *key);
/* htab_count - number of entries */
size_t htab_count(const struct htab *t);

/* iteration: for (htab_iter_init(t, &it); htab_iter_next(&it, &k, &v); ) ...
 * The table must not be modified while iterating. */
struct htab_iter {
	const struct htab *t;
	size_t bucket;
	const void *node;
};
void htab_iter_init(const struct htab *t, struct htab_iter *it);
bool htab_iter_next(struct htab_iter *it, const char **key, void **value);

#endif
