/*
 * htab.c - chained hash table with per-table seeded FNV-1a hashing
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

#include "xalloc.h"

/* the largest table htab_new() presizes (buckets); bigger tables grow as entries arrive */
#define HTAB_HINT_MAX ((size_t)1 << 22)

struct htab_node {
	struct htab_node *next;
	uint64_t hash;
	size_t klen;
	void *value;
	char key[]; /* NUL-terminated */
};

struct htab {
	struct htab_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	uint64_t seed;
	htab_free_fn *free_value;
};

static uint64_t htab_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return s;
}

static uint64_t hash_bytes(uint64_t seed, const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
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

struct htab *htab_new(size_t size_hint, htab_free_fn *free_value)
{
	struct htab *t = xcalloc(1, sizeof(*t));

	t->nbuckets = 16;
	/* a hint only presizes: capped so a wild hint cannot allocate terabytes up front */
	while (t->nbuckets < size_hint && t->nbuckets < HTAB_HINT_MAX)
		t->nbuckets *= 2;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	t->seed = htab_seed();
	t->free_value = free_value;
	return t;
}

void htab_free(struct htab **tp)
{
	struct htab *t = *tp;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		struct htab_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			if (t->free_value)
				t->free_value(n->value);
			free(n);
		}
	}
	free(t->buckets);
	free(t);
	*tp = NULL;
}

static struct htab_node **find(const struct htab *t, const char *key, size_t n, uint64_t h)
{
	struct htab_node **pp = &t->buckets[h & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == n && memcmp((*pp)->key, key, n) == 0)
			return pp;
	return pp;
}

void *htab_get_n(const struct htab *t, const char *key, size_t n)
{
	struct htab_node **pp = find(t, key, n, hash_bytes(t->seed, key, n));

	return *pp ? (*pp)->value : NULL;
}

void *htab_get(const struct htab *t, const char *key)
{
	return htab_get_n(t, key, strlen(key));
}

bool htab_has(const struct htab *t, const char *key)
{
	size_t n = strlen(key);

	return *find(t, key, n, hash_bytes(t->seed, key, n)) != NULL;
}

static void grow(struct htab *t)
{
	size_t nb = t->nbuckets * 2, i;
	struct htab_node **nbk = xcalloc(nb, sizeof(*nbk));

	for (i = 0; i < t->nbuckets; i++) {
		struct htab_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = nbk[n->hash & (nb - 1)];
			nbk[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = nbk;
	t->nbuckets = nb;
}

bool htab_put(struct htab *t, const char *key, void *value)
{
	size_t n = strlen(key);
	uint64_t h = hash_bytes(t->seed, key, n);
	struct htab_node **pp = find(t, key, n, h), *node;

	if (*pp) {
		if (t->free_value && (*pp)->value != value)
			t->free_value((*pp)->value);
		(*pp)->value = value;
		return true;
	}
	node = xmalloc(sizeof(*node) + n + 1);
	node->next = NULL;
	node->hash = h;
	node->klen = n;
	node->value = value;
	memcpy(node->key, key, n + 1);
	*pp = node;
	if (++t->count > t->nbuckets)
		grow(t);
	return false;
}

bool htab_remove(struct htab *t, const char *key)
{
	size_t n = strlen(key);
	struct htab_node **pp = find(t, key, n, hash_bytes(t->seed, key, n)), *node = *pp;

	if (node == NULL)
		return false;
	*pp = node->next;
	if (t->free_value)
		t->free_value(node->value);
	free(node);
	t->count--;
	return true;
}

size_t htab_count(const struct htab *t)
{
	return t->count;
}

void htab_iter_init(const struct htab *t, struct htab_iter *it)
{
	it->t = t;
	it->bucket = 0;
	it->node = NULL;
}

bool htab_iter_next(struct htab_iter *it, const char **key, void **value)
{
	const struct htab_node *n = it->node ? ((const struct htab_node *)it->node)->next : NULL;

	while (n == NULL && it->bucket < it->t->nbuckets)
		n = it->t->buckets[it->bucket++];
	it->node = n;
	if (n == NULL)
		return false;
	*key = n->key;
	*value = n->value;
	return true;
}
