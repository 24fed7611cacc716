/*
 * xalloc.h - allocation wrappers that never return NULL
 *
 * Policy: memory exhaustion is an environment failure, not a peer error; every
 * wrapper logs and exits (fatal) instead of returning NULL, so callers never
 * carry an out-of-memory path. Array allocations check n * size for overflow
 * (reallocarray semantics) before calling the allocator.
 * Tests:    tests/unit/test_xalloc.c
 */
#ifndef POSTERN_XALLOC_H
#define POSTERN_XALLOC_H

#include <stddef.h>

/* xmalloc - malloc(n), fatal on failure; n == 0 returns a valid unique pointer */
void *xmalloc(size_t n);
/* xcalloc - zeroed array of nmemb * size bytes, fatal on overflow or failure */
void *xcalloc(size_t nmemb, size_t size);
/* xrealloc - resize p to n bytes, fatal on failure */
void *xrealloc(void *p, size_t n);
/* xreallocarray - resize p to nmemb * size bytes, fatal on overflow or failure */
void *xreallocarray(void *p, size_t nmemb, size_t size);
/* xstrdup - copy of a NUL-terminated string */
char *xstrdup(const char *s);
/* xstrndup - copy of at most n bytes of s, always NUL-terminated */
char *xstrndup(const char *s, size_t n);
/* xmemdup - copy of n bytes plus a terminating NUL (safe for slices) */
char *xmemdup(const void *p, size_t n);
/* xasprintf - allocate a formatted string */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * xadvise_huge - hint that a large, soon fully touched buffer should use
 * transparent huge pages: it is then faulted in a few 2 MiB pages instead of
 * thousands of 4 KiB ones (measured: most of postmap's system time on a
 * 100k-key table). Only the 2 MiB-aligned part of [p, p+n) is advised; buffers
 * under 2 MiB are left alone; failure (no THP) is harmless.
 */
void xadvise_huge(void *p, size_t n);

/* xfree - free *pp and set it to NULL */
#define xfree(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

#endif
