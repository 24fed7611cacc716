/*
 * strutil.h - locale-independent character classes and checked number parsing
 *
 * Mail protocols are ASCII; <ctype.h> depends on the locale and is undefined
 * for negative chars, so Postern uses these instead. Number parsers reject
 * empty input, trailing garbage, signs where not allowed, and overflow.
 * Tests:    tests/unit/test_strutil.c
 */
#ifndef POSTERN_STRUTIL_H
#define POSTERN_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool ascii_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
static inline bool ascii_isdigit(char c)
{
	return c >= '0' && c <= '9';
}
static inline bool ascii_isalpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool ascii_isalnum(char c)
{
	return ascii_isalpha(c) || ascii_isdigit(c);
}
/* ascii_toupper - upper-case an ASCII letter, leave other bytes alone */
static inline char ascii_toupper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}
static inline char ascii_tolower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* str_lower_ascii - fold A-Z to a-z in place over n bytes */
void str_lower_ascii(char *s, size_t n);
/* str_casecmp_ascii - ASCII case-insensitive strcmp */
int str_casecmp_ascii(const char *a, const char *b);

/*
 * parse_u64 - decimal digits only (no sign, no space) in s[0..n) into *out.
 * Returns 0, or -1 for empty, non-digit or overflow.
 */
int parse_u64(const char *s, size_t n, uint64_t *out);
/* parse_i64 - as parse_u64 with an optional leading '-' */
int parse_i64(const char *s, size_t n, int64_t *out);

#endif
