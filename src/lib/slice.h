/*
 * slice.h - non-owning view of bytes {p, n} for parsers
 *
 * A slice never owns memory and is not NUL-terminated; parsers produce slices
 * into their input and copy out (arena, buf) only what they keep.
 * Tests:    tests/unit/test_slice.c
 */
#ifndef POSTERN_SLICE_H
#define POSTERN_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct slice {
	const char *p;
	size_t n;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })

static inline struct slice slice_make(const char *p, size_t n)
{
	struct slice s = { p, n };
	return s;
}

static inline struct slice slice_cstr(const char *s)
{
	return slice_make(s, strlen(s));
}

/* slice_eq - byte-wise equality */
bool slice_eq(struct slice a, struct slice b);
/* slice_eq_ci - ASCII case-insensitive equality */
bool slice_eq_ci(struct slice a, struct slice b);
/* slice_eq_cstr - equality with a C string */
bool slice_eq_cstr(struct slice a, const char *s);
/* slice_trim - drop leading and trailing ASCII white space (space, tab, CR, LF, VT, FF) */
struct slice slice_trim(struct slice s);
/* slice_starts_with - does s begin with prefix? */
bool slice_starts_with(struct slice s, const char *prefix);
/* slice_chr - offset of the first c in s, or -1 */
long slice_chr(struct slice s, char c);
/* slice_sub - s[off .. off+len), clamped to s */
struct slice slice_sub(struct slice s, size_t off, size_t len);
/*
 * slice_next_token - split off the next token separated by any byte in seps
 * (runs of separators count as one); *rest advances past it. Returns false
 * when only separators remain.
 */
bool slice_next_token(struct slice *rest, const char *seps, struct slice *tok);

#endif
