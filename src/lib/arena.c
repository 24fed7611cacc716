/*
 * arena.c - region allocator built from a chain of malloc'd blocks
 *
 * Each block is allocated with its header; big requests get a block of their
 * own so a large allocation never wastes the rest of the current block.
 * API:      see arena.h
 * Tests:    tests/unit/test_arena.c
 */
#include "arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

#define ARENA_ALIGN alignof(max_align_t)

struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct arena_block *head;  /* current block first */
	struct arena_block *first; /* the block made by arena_new, kept by arena_clear */
	size_t block_size;
	size_t used;
	size_t limit;
};

static struct arena_block *block_new(size_t size)
{
	struct arena_block *b;

	if (size > SIZE_MAX - sizeof(*b))
		fatal("arena: allocation size overflow");
	b = xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *arena_new(size_t block_size)
{
	struct arena *a = xcalloc(1, sizeof(*a));

	a->block_size = block_size ? block_size : 4096;
	a->head = a->first = block_new(a->block_size);
	return a;
}

void arena_free(struct arena **ap)
{
	struct arena *a = *ap;
	struct arena_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
	*ap = NULL;
}

void arena_clear(struct arena *a)
{
	struct arena_block *b, *next;

	for (b = a->head; b; b = next) {
		next = b->next;
		if (b != a->first)
			free(b);
	}
	a->first->used = 0;
	a->first->next = NULL;
	a->head = a->first;
	a->used = 0;
}

void arena_set_limit(struct arena *a, size_t limit)
{
	a->limit = limit;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t off = (b->used + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *p;

	if (n == 0)
		n = 1;
	if (off > b->size || n > b->size - off) {
		if (n > a->block_size / 4) {
			/* big: its own block, placed after the current one */
			struct arena_block *big = block_new(n);

			big->used = n;
			big->next = b->next;
			b->next = big;
			a->used += n;
			return big->data;
		}
		b = block_new(a->block_size);
		b->next = a->head;
		a->head = b;
		off = 0;
	}
	p = b->data + off;
	b->used = off + n;
	a->used += n;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	memset(p, 0, n ? n : 1);
	return p;
}

void *arena_alloc_limited(struct arena *a, size_t n)
{
	if (n == 0)
		n = 1; /* arena_alloc() counts a zero-byte request as one byte */
	if (a->limit && (n > a->limit || a->used > a->limit - n))
		return NULL;
	return arena_alloc(a, n);
}

char *arena_memdup(struct arena *a, const void *p, size_t n)
{
	char *q;

	if (n == SIZE_MAX)
		fatal("arena: allocation size overflow");
	q = arena_alloc(a, n + 1);
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_memdup(a, s, strlen(s));
}

char *arena_slicedup(struct arena *a, struct slice s)
{
	return arena_memdup(a, s.p, s.n);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *s;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		panic("arena_printf: bad format \"%s\"", fmt);
	s = arena_alloc(a, (size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return s;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
