/*
 * htab.c - open-addressing hash table with per-table seeded FNV-1a hashing
 *
 * API:      see htab.h
 * Tests:    tests/unit/test_htab.c
 */
#include "htab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"
#include "xalloc.h"

/* the largest table htab_new() presizes (buckets); bigger tables grow as entries arrive */
#define HTAB_HINT_MAX ((size_t)1 << 22)

struct htab_node {
	size_t klen;
	void *value;
	char key[]; /* NUL-terminated */
};

/*
 * Open addressing with linear probing. Each slot keeps the full 64-bit hash
 * beside the node pointer, so probing past other keys touches only the slot
 * array; the node (key, value) is read only when the hashes are equal.
 * The table grows to keep the load at or below 1/2; removal shifts later
 * entries of the same run back (no tombstones).
 */
struct htab_slot {
	uint64_t hash;
	struct htab_node *node; /* NULL: empty */
};

struct htab {
	struct htab_slot *slots;
	size_t nslots; /* power of two */
	size_t count;
	uint64_t seed;
	htab_free_fn *free_value;
	struct arena *arena; /* NULL: entries are malloc'd one by one */
};

/* htab_seed - per-table random seed for the hash */
static uint64_t htab_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return s;
}

/* hash_bytes64 - seeded FNV-1a with a splitmix64 finaliser */
uint64_t hash_bytes64(uint64_t seed, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* final avalanche (splitmix64) so low bits depend on every byte */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* htab_new - empty table presized for size_hint entries */
struct htab *htab_new(size_t size_hint, htab_free_fn *free_value)
{
	struct htab *t = xcalloc(1, sizeof(*t));

	/* a hint only presizes: capped so a wild hint cannot allocate terabytes up front */
	if (size_hint > HTAB_HINT_MAX)
		size_hint = HTAB_HINT_MAX;
	t->nslots = 16;
	while (t->nslots < size_hint * 2)
		t->nslots *= 2;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
	xadvise_huge(t->slots, t->nslots * sizeof(*t->slots));
	t->seed = htab_seed();
	t->free_value = free_value;
	return t;
}

/* htab_new_arena - a table whose entries come from one arena */
struct htab *htab_new_arena(size_t size_hint, htab_free_fn *free_value)
{
	struct htab *t = htab_new(size_hint, free_value);

	t->arena = arena_new(64 * 1024);
	return t;
}

/* htab_free - free every node, value and the table */
void htab_free(struct htab **tp)
{
	struct htab *t = *tp;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslots; i++) {
		struct htab_node *n = t->slots[i].node;

		if (n == NULL)
			continue;
		if (t->free_value)
			t->free_value(n->value);
		if (t->arena == NULL)
			free(n);
	}
	arena_free(&t->arena);
	free(t->slots);
	free(t);
	*tp = NULL;
}

/* find - index of key's slot, or of the empty slot where it would go */
static size_t find(const struct htab *t, const char *key, size_t n, uint64_t h)
{
	size_t mask = t->nslots - 1, i = h & mask;

	for (;; i = (i + 1) & mask) {
		const struct htab_slot *s = &t->slots[i];

		if (s->node == NULL)
			return i;
		if (s->hash == h && s->node->klen == n && memcmp(s->node->key, key, n) == 0)
			return i;
	}
}

/* htab_get_n - value of a key given as n bytes */
void *htab_get_n(const struct htab *t, const char *key, size_t n)
{
	const struct htab_node *node = t->slots[find(t, key, n, hash_bytes64(t->seed, key, n))].node;

	return node ? node->value : NULL;
}

/* htab_get - value of a C-string key */
void *htab_get(const struct htab *t, const char *key)
{
	return htab_get_n(t, key, strlen(key));
}

/* htab_has - is the key present? */
bool htab_has(const struct htab *t, const char *key)
{
	size_t n = strlen(key);

	return t->slots[find(t, key, n, hash_bytes64(t->seed, key, n))].node != NULL;
}

/* grow - double the slot array and re-place every entry */
static void grow(struct htab *t)
{
	size_t ns = t->nslots * 2, mask = ns - 1, i;
	struct htab_slot *nsl = xcalloc(ns, sizeof(*nsl));

	xadvise_huge(nsl, ns * sizeof(*nsl));
	for (i = 0; i < t->nslots; i++) {
		size_t j;

		if (t->slots[i].node == NULL)
			continue;
		for (j = t->slots[i].hash & mask; nsl[j].node; j = (j + 1) & mask)
			;
		nsl[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = nsl;
	t->nslots = ns;
}

/* htab_put - insert or replace */
bool htab_put(struct htab *t, const char *key, void *value)
{
	size_t n = strlen(key), i;
	uint64_t h = hash_bytes64(t->seed, key, n);
	struct htab_node *node;

	i = find(t, key, n, h);
	node = t->slots[i].node;
	if (node) {
		if (t->free_value && node->value != value)
			t->free_value(node->value);
		node->value = value;
		return true;
	}
	if (n > SIZE_MAX - sizeof(*node) - 1)
		fatal("htab: key too large");
	node = t->arena ? arena_alloc(t->arena, sizeof(*node) + n + 1) : xmalloc(sizeof(*node) + n + 1);
	node->klen = n;
	node->value = value;
	memcpy(node->key, key, n + 1);
	t->slots[i].hash = h;
	t->slots[i].node = node;
	if (++t->count * 2 > t->nslots)
		grow(t);
	return false;
}

/* htab_remove - remove a key, shifting back later entries of its probe run */
bool htab_remove(struct htab *t, const char *key)
{
	size_t n = strlen(key), mask = t->nslots - 1, i, j;
	struct htab_node *node;

	i = find(t, key, n, hash_bytes64(t->seed, key, n));
	node = t->slots[i].node;
	if (node == NULL)
		return false;
	if (t->free_value)
		t->free_value(node->value);
	if (t->arena == NULL)
		free(node);
	t->count--;
	/* backward-shift deletion: keep every entry reachable from its home slot */
	for (j = (i + 1) & mask; t->slots[j].node; j = (j + 1) & mask) {
		size_t home = t->slots[j].hash & mask;

		/* move j into the hole i unless its home lies cyclically in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].node = NULL;
	t->slots[i].hash = 0;
	return true;
}

/* htab_count - number of entries */
size_t htab_count(const struct htab *t)
{
	return t->count;
}

/* htab_iter_init - start an iteration */
void htab_iter_init(const struct htab *t, struct htab_iter *it)
{
	it->t = t;
	it->bucket = 0;
	it->node = NULL;
}

/* htab_iter_next - the next entry, or false at the end */
bool htab_iter_next(struct htab_iter *it, const char **key, void **value)
{
	while (it->bucket < it->t->nslots) {
		const struct htab_node *n = it->t->slots[it->bucket++].node;

		if (n) {
			it->node = n;
			*key = n->key;
			*value = n->value;
			return true;
		}
	}
	return false;
}
