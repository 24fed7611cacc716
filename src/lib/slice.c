/*
 * slice.c - helpers over non-owning byte views
 *
 * API:      see slice.h
 * Tests:    tests/unit/test_slice.c
 */
#include "slice.h"

#include "strutil.h"

bool slice_eq(struct slice a, struct slice b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool slice_eq_ci(struct slice a, struct slice b)
{
	size_t i;

	if (a.n != b.n)
		return false;
	for (i = 0; i < a.n; i++)
		if (ascii_tolower(a.p[i]) != ascii_tolower(b.p[i]))
			return false;
	return true;
}

bool slice_eq_cstr(struct slice a, const char *s)
{
	return slice_eq(a, slice_cstr(s));
}

struct slice slice_trim(struct slice s)
{
	while (s.n > 0 && ascii_isspace(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && ascii_isspace(s.p[s.n - 1]))
		s.n--;
	return s;
}

bool slice_starts_with(struct slice s, const char *prefix)
{
	size_t n = strlen(prefix);

	/* memcmp() with a NULL pointer is undefined even for 0 bytes: the empty slice may be {NULL, 0} */
	return s.n >= n && (n == 0 || memcmp(s.p, prefix, n) == 0);
}

long slice_chr(struct slice s, char c)
{
	const char *q = s.n ? memchr(s.p, c, s.n) : NULL;

	return q ? (long)(q - s.p) : -1;
}

struct slice slice_sub(struct slice s, size_t off, size_t len)
{
	if (off > s.n)
		off = s.n;
	if (len > s.n - off)
		len = s.n - off;
	/* off > 0 implies s.p != NULL: never add an offset to the NULL of an empty slice */
	return slice_make(off ? s.p + off : s.p, len);
}

bool slice_next_token(struct slice *rest, const char *seps, struct slice *tok)
{
	const char *p, *end, *start;

	if (rest->n == 0)
		return false; /* also keeps NULL + 0 (undefined) out of the way */
	p = rest->p;
	end = rest->p + rest->n;
	while (p < end && *p && strchr(seps, *p))
		p++;
	if (p == end) {
		rest->p = end;
		rest->n = 0;
		return false;
	}
	start = p;
	while (p < end && !(*p && strchr(seps, *p)))
		p++;
	*tok = slice_make(start, (size_t)(p - start));
	rest->p = p;
	rest->n = (size_t)(end - p);
	return true;
}
