/*
 * strtab.c - linear name <-> code tables
 *
 * API:      see strtab.h
 * Tests:    tests/unit/test_strtab.c
 */
#include "strtab.h"

#include <string.h>

#include "strutil.h"

/* name_matches - does the row name equal the n bytes at name (which may hold a NUL)? */
static bool name_matches(const char *row, const char *name, size_t n, int flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* row ends first (also when name has a NUL here): no match, and no read past row */
		if (row[i] == '\0')
			return false;
		if (flags & STRTAB_NOCASE ? ascii_tolower(row[i]) != ascii_tolower(name[i])
					  : row[i] != name[i])
			return false;
	}
	return row[n] == '\0';
}

/* strtab_find - index of the first row named name */
int strtab_find(const struct strtab *t, const char *name, size_t n, int flags)
{
	int i;

	for (i = 0; t[i].name != NULL; i++)
		if (name_matches(t[i].name, name, n, flags))
			return i;
	return -1;
}

/* strtab_code_n - code for a counted name */
int strtab_code_n(const struct strtab *t, const char *name, size_t n, int flags, int dflt)
{
	int i = strtab_find(t, name, n, flags);

	return i < 0 ? dflt : t[i].code;
}

/* strtab_code - code for a C-string name */
int strtab_code(const struct strtab *t, const char *name, int flags, int dflt)
{
	return strtab_code_n(t, name, strlen(name), flags, dflt);
}

/* strtab_code_slice - code for a slice */
int strtab_code_slice(const struct strtab *t, struct slice name, int flags, int dflt)
{
	return strtab_code_n(t, name.n ? name.p : "", name.n, flags, dflt);
}

/* strtab_name - first name with this code */
const char *strtab_name(const struct strtab *t, int code, const char *dflt)
{
	int i;

	for (i = 0; t[i].name != NULL; i++)
		if (t[i].code == code)
			return t[i].name;
	return dflt;
}

/* strtab_mask - OR of the codes of a separated list of names */
int strtab_mask(const struct strtab *t, struct slice list, const char *seps, int flags, int *mask_r,
		struct slice *bad_r)
{
	struct slice tok;
	int mask = 0, i;

	while (slice_next_token(&list, seps, &tok)) {
		i = strtab_find(t, tok.p, tok.n, flags);
		if (i < 0) {
			if (bad_r)
				*bad_r = tok;
			return -1;
		}
		mask |= t[i].code;
	}
	*mask_r = mask;
	return 0;
}
