/*
 * arena.h - region allocator: many small allocations, one free
 *
 * For per-session, per-transaction and per-parse data: allocate freely,
 * release everything with arena_free() (or keep the first block and start over
 * with arena_clear()). Allocations are aligned for any type and never fail
 * (xalloc policy). An optional limit bounds the total bytes an arena may hand
 * out: arena_alloc_limited() returns NULL past it, for parsers of peer input.
 *
 * Tests:    tests/unit/test_arena.c
 */
#ifndef POSTERN_ARENA_H
#define POSTERN_ARENA_H

#include <stddef.h>

#include "slice.h"

struct arena;

/* arena_new - an empty arena whose blocks are at least block_size bytes (0: 4 KiB) */
struct arena *arena_new(size_t block_size);
/* arena_free - release the arena and everything allocated from it; sets *ap = NULL */
void arena_free(struct arena **ap);
/* arena_clear - forget every allocation but keep the first block for reuse */
void arena_clear(struct arena *a);
/* arena_set_limit - bound the bytes arena_alloc_limited() may hand out (0: none) */
void arena_set_limit(struct arena *a, size_t limit);

/* arena_alloc - n bytes, aligned, uninitialised; never NULL */
void *arena_alloc(struct arena *a, size_t n);
/* arena_zalloc - n zeroed bytes */
void *arena_zalloc(struct arena *a, size_t n);
/* arena_alloc_limited - as arena_alloc, but NULL when the arena's limit would be passed */
void *arena_alloc_limited(struct arena *a, size_t n);
/* arena_strdup - copy a C string into the arena */
char *arena_strdup(struct arena *a, const char *s);
/* arena_memdup - copy n bytes and add a NUL */
char *arena_memdup(struct arena *a, const void *p, size_t n);
/* arena_slicedup - copy a slice as a NUL-terminated string */
char *arena_slicedup(struct arena *a, struct slice s);
/* arena_printf - formatted string in the arena */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* arena_used - bytes handed out since creation or the last clear */
size_t arena_used(const struct arena *a);

#endif
