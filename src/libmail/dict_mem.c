/*
 * dict_mem.c - in-memory tables: texthash: (text file), inline:{...}, static:VALUE
 *
 * Runs in:  every process that uses these table types
 * API:      dict_texthash_open(), dict_inline_open(), dict_static_open()
 *           -- registered in dict.c, see dict.h
 * Tests:    tests/unit/test_dict.c
 * Refs:     postconf(5) "texthash:", "inline:", "static:"
 *
 * texthash: and inline: load every entry into a hash table at open; keys are
 * folded with DICT_FLAG_FOLD_KEY; for a duplicate key the first value is kept
 * and a warning logged (postmap's default). They are not reloaded: like
 * Postfix, a changed texthash: source takes effect at the next (re)start.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/htab.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/dict-private.h"
#include "libmail/mapsrc.h"

struct dict_mem {
	struct dict d;
	struct htab *t;     /* key -> char * value (texthash, inline) */
	char *static_value; /* static: */
};

/* dict_mem_lookup - hash table lookup; values are stable until close */
static int dict_mem_lookup(struct dict *d, const char *key, size_t len, const char **value_r)
{
	struct dict_mem *dm = (struct dict_mem *)d;
	const char *v;

	(void)len;
	if (dm->static_value) {
		*value_r = dm->static_value;
		return 1;
	}
	v = htab_get(dm->t, key);
	if (v == NULL)
		return 0;
	*value_r = v;
	return 1;
}

/* dict_mem_close - free table and values */
static void dict_mem_close(struct dict *d)
{
	struct dict_mem *dm = (struct dict_mem *)d;

	htab_free(&dm->t);
	free(dm->static_value);
	free(dm);
}

static const struct dict_ops dict_mem_ops = { dict_mem_lookup, NULL, dict_mem_close };

/* value_free - htab value destructor */
static void value_free(void *v)
{
	free(v);
}

/* dict_mem_new - empty in-memory table */
static struct dict_mem *dict_mem_new(void)
{
	struct dict_mem *dm = xcalloc(1, sizeof(*dm));

	dm->d.ops = &dict_mem_ops;
	return dm;
}

struct texthash_ctx {
	struct dict_mem *dm;
	const char *path;
};

/* texthash_entry - add one source entry, keeping the first of duplicates */
static int texthash_entry(void *ctx, const char *key, size_t klen, const char *value, size_t vlen,
			  unsigned line, const char **error_r)
{
	struct texthash_ctx *tc = ctx;

	(void)klen;
	(void)error_r;
	if (htab_has(tc->dm->t, key)) {
		log_warn("%s, line %u: duplicate entry: \"%s\"", tc->path, line, log_sanitize(key, 200));
		return 0;
	}
	htab_put(tc->dm->t, key, xmemdup(value, vlen));
	return 0;
}

/* dict_texthash_open - read and index the text source */
struct dict *dict_texthash_open(const char *name, int flags, const char **error_r)
{
	struct buf src = BUF_INIT(0);
	struct texthash_ctx tc;
	struct dict_mem *dm;

	if (*name == '\0') {
		*error_r = dict_open_error("texthash: table needs a file name (texthash:/path/to/file)");
		return NULL;
	}
	if (dict_read_file(name, DICT_SOURCE_MAX, &src, NULL, error_r) != 0) {
		buf_free(&src);
		return NULL;
	}
	dm = dict_mem_new();
	dm->t = htab_new(src.len / 32 + 16, value_free);
	tc.dm = dm;
	tc.path = name;
	if (dict_parse_source(name, &src, flags, texthash_entry, &tc, error_r) != 0) {
		dict_mem_close(&dm->d);
		dm = NULL;
	}
	buf_free(&src);
	return dm ? &dm->d : NULL;
}

/* dict_inline_open - parse "{ key=value, ... }" into the table */
struct dict *dict_inline_open(const char *name, int flags, const char **error_r)
{
	struct mapsrc_inline it;
	struct slice k, v;
	struct dict_mem *dm;
	const char *why;
	char *key;
	int r;

	if (mapsrc_inline_init(&it, name, strlen(name), &why) != 0) {
		*error_r = dict_open_error("inline:%s: %s", log_sanitize(name, 200), why);
		return NULL;
	}
	dm = dict_mem_new();
	dm->t = htab_new(8, value_free);
	while ((r = mapsrc_inline_next(&it, &k, &v, &why)) == 1) {
		key = xmemdup(k.p, k.n);
		if (flags & DICT_FLAG_FOLD_KEY)
			str_lower_ascii(key, k.n);
		if (htab_has(dm->t, key))
			log_warn("inline:%s: duplicate entry: \"%s\"", log_sanitize(name, 200),
				 log_sanitize(key, 200));
		else
			htab_put(dm->t, key, xmemdup(v.p, v.n));
		free(key);
	}
	if (r < 0) {
		*error_r = dict_open_error("inline:%s: entry %u: %s", log_sanitize(name, 200),
					   it.index + 1, why);
		dict_mem_close(&dm->d);
		return NULL;
	}
	return &dm->d;
}

/* dict_static_open - every lookup returns name; "{ text }" may hold white space */
struct dict *dict_static_open(const char *name, int flags, const char **error_r)
{
	struct slice s = slice_cstr(name);
	struct dict_mem *dm;

	(void)flags;
	(void)error_r;
	if (s.n >= 2 && s.p[0] == '{' && s.p[s.n - 1] == '}')
		s = slice_trim(slice_make(s.p + 1, s.n - 2));
	dm = dict_mem_new();
	dm->static_value = xmemdup(s.p, s.n);
	return &dm->d;
}
