/*
 * xalloc.c - allocation wrappers that die on exhaustion or size overflow
 *
 * API:      see xalloc.h
 * Tests:    tests/unit/test_xalloc.c
 */
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"

/* xmalloc - malloc that never returns NULL */
void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory allocating %zu bytes", n);
	return p;
}

/* xcalloc - calloc that never returns NULL */
void *xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		fatal("allocation size overflow: %zu * %zu", nmemb, size);
	/* an empty array is one byte, not nmemb (or size) bytes */
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (p == NULL)
		fatal("out of memory allocating %zu * %zu bytes", nmemb, size);
	return p;
}

/* xrealloc - realloc that never returns NULL */
void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("out of memory reallocating to %zu bytes", n);
	return q;
}

/* xreallocarray - realloc with multiplication overflow check */
void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		fatal("allocation size overflow: %zu * %zu", nmemb, size);
	return xrealloc(p, nmemb * size);
}

/* xstrdup - duplicate a string */
char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

/* xstrndup - duplicate at most n bytes of a string */
char *xstrndup(const char *s, size_t n)
{
	const char *end = memchr(s, '\0', n);

	return xmemdup(s, end ? (size_t)(end - s) : n);
}

/* xmemdup - duplicate n bytes and add a NUL */
char *xmemdup(const void *p, size_t n)
{
	char *q;

	if (n == SIZE_MAX)
		fatal("allocation size overflow");
	q = xmalloc(n + 1);
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

/* xasprintf - allocate and format */
char *xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *s;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("xasprintf: bad format");
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return s;
}

/* xadvise_huge - MADV_HUGEPAGE on the 2 MiB-aligned middle of a big buffer */
void xadvise_huge(void *p, size_t n)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + n) & ~(huge - 1);

	if (p != NULL && end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}
