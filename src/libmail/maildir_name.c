/*
 * maildir_name.c - what a Maildir file name says: base name, flags, sizes
 *
 * Runs in:  the mail store
 * API:      see maildir_name.h
 * Tests:    tests/unit/test_maildir_name.c
 */
#include <string.h>

#include "lib/strutil.h"
#include "libmail/maildir_name.h"

/* valid_flag - a flag letter Maildir allows */
static bool valid_flag(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* size_field - ",K=<digits>" in base[0..n); false when absent or malformed */
static bool size_field(const char *base, size_t n, char key, uint64_t *out)
{
	for (size_t i = 0; i + 3 <= n; i++) {
		size_t j;

		if (base[i] != ',' || base[i + 1] != key || base[i + 2] != '=')
			continue;
		for (j = i + 3; j < n && ascii_isdigit(base[j]); j++)
			;
		if (j > i + 3 && (j == n || base[j] == ',') && parse_u64(base + i + 3, j - i - 3, out) == 0)
			return true;
	}
	return false;
}

/* maildir_name_parse - parse a file name */
int maildir_name_parse(const char *name, struct maildir_name *out)
{
	const char *colon = strchr(name, ':');
	size_t n = strlen(name);

	memset(out, 0, sizeof(*out));
	if (n == 0 || name[0] == '.')
		return -1;
	out->base_len = colon ? (size_t)(colon - name) : n;
	if (out->base_len == 0)
		return -1;
	if (colon && colon[1] == '2' && colon[2] == ',') {
		out->has_info = true;
		for (const char *f = colon + 3; *f; f++)
			if (valid_flag(*f))
				maildir_flags_set(out->flags, *f, true);
	}
	out->has_size = size_field(name, out->base_len, 'S', &out->size);
	out->has_vsize = size_field(name, out->base_len, 'W', &out->vsize);
	return 0;
}

/* maildir_flags_set - add or remove one flag letter, keeping the string sorted */
bool maildir_flags_set(char *flags, char c, bool add)
{
	size_t n = strlen(flags), i;
	char *at = strchr(flags, c);

	if (!valid_flag(c))
		return false;
	if (!add) {
		if (at == NULL)
			return false;
		memmove(at, at + 1, strlen(at + 1) + 1);
		return true;
	}
	if (at != NULL || n >= MAILDIR_FLAGS_MAX)
		return false;
	for (i = 0; i < n && flags[i] < c; i++)
		;
	memmove(flags + i + 1, flags + i, n - i + 1);
	flags[i] = c;
	return true;
}
