/*
 * strutil.c - ASCII helpers and checked decimal parsing
 *
 * API:      see strutil.h
 * Tests:    tests/unit/test_strutil.c
 */
#include "strutil.h"

void str_lower_ascii(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = ascii_tolower(s[i]);
}

int str_casecmp_ascii(const char *a, const char *b)
{
	unsigned char ca, cb;

	do {
		ca = (unsigned char)ascii_tolower(*a++);
		cb = (unsigned char)ascii_tolower(*b++);
	} while (ca && ca == cb);
	return (int)ca - (int)cb;
}

int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (!ascii_isdigit(s[i]))
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int parse_i64(const char *s, size_t n, int64_t *out)
{
	uint64_t v;
	bool neg = n > 0 && s[0] == '-';

	if (parse_u64(s + neg, n - neg, &v) < 0)
		return -1;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)v;
	}
	return 0;
}
