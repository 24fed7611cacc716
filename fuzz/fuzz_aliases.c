/*
 * fuzz_aliases.c - libFuzzer target for alias values and their expansion (src/libmail/aliases.c)
 *
 * The input is an alias value; it is parsed, then expanded with a table in
 * which every name whose first letter is in the input maps to the input
 * itself (self-referential, to exercise loops, limits and deduplication).
 * Invariants: parsed items are non-empty and of the kind their text says;
 * an expansion ends (linear time), and every destination is non-empty.
 * Run: make fuzz && build/fuzz/fuzz_aliases fuzz/corpus/aliases
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "libmail/aliases.h"

static const char *input;

/* lookup - names starting with a letter of the input give the input */
static int lookup(void *ctx, const char *name, char **value_r, const char **error_r)
{
	(void)ctx;
	(void)error_r;
	if (name[0] == '\0' || strchr(input, name[0]) == NULL)
		return 0;
	*value_r = xstrdup(input);
	return 1;
}

/* classify - domain "l" is local */
static int classify(void *ctx, const char *addr, char **local_r, const char **error_r)
{
	const char *at = strrchr(addr, '@');

	(void)ctx;
	(void)error_r;
	if (strcmp(at + 1, "l") != 0)
		return 0;
	*local_r = xstrndup(addr, (size_t)(at - addr));
	return 1;
}

/* LLVMFuzzerTestOneInput - parse and expand one value */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct alias_hooks h = { lookup, classify, NULL };
	struct alias_item *it;
	struct alias_list l;
	const char *err;
	size_t n, i;

	if (alias_parse_value(s, &it, &n, &err) == 0) {
		for (i = 0; i < n; i++) {
			if (it[i].text[0] == '\0')
				__builtin_trap();
			if ((it[i].kind == ALIAS_DEST_COMMAND) != (it[i].text[0] == '|'))
				__builtin_trap();
		}
		alias_items_free(&it, n);
	}
	input = s;
	if (alias_expand(&h, "a", "+", &l, &err) == 0) {
		for (i = 0; i < l.n; i++)
			if (l.v[i].text[0] == '\0' && l.v[i].kind != ALIAS_DEST_USER)
				__builtin_trap();
		alias_list_free(&l);
	}
	free(s);
	return 0;
}
