/*
 * dict-private.h - what a lookup table type implements, and helpers shared by the types
 *
 * Adding a type (say sqlite:): write dict_sqlite.c with
 *     struct dict *dict_sqlite_open(const char *name, int flags, const char **error_r);
 * that returns a struct embedding `struct dict` first with `ops` set, declare it
 * below, and add one row to the registry in dict.c. dict.c owns the common
 * fields (spec, flags, key and error buffers) and key folding.
 */
#ifndef POSTERN_DICT_PRIVATE_H
#define POSTERN_DICT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "libmail/dict.h"

struct dict;

struct dict_ops {
	/*
	 * lookup - key is already folded when the flags ask for it, and NUL-terminated.
	 * Returns 1 (*value_r set, valid until the next call), 0, or -1 after dict_error().
	 */
	int (*lookup)(struct dict *d, const char *key, size_t len, const char **value_r);
	/*
	 * refresh - may be NULL (nothing to reload). force: check now regardless of
	 * rate limits. Returns 1 reopened, 0 unchanged, -1 after dict_error().
	 */
	int (*refresh)(struct dict *d, bool force);
	/* close - free the type's own resources and the struct itself; not the common fields */
	void (*close)(struct dict *d);
};

struct dict {
	const struct dict_ops *ops;
	char *spec;     /* "type:name" as opened */
	int flags;      /* DICT_FLAG_* */
	struct buf key; /* folded copy of the query */
	struct buf err; /* text of the last error */
};

/* a registry row: open the table "name" (the text after "type:") */
struct dict_type {
	const char *name;
	struct dict *(*open)(const char *name, int flags, const char **error_r);
};

struct dict *dict_hash_open(const char *name, int flags, const char **error_r);
struct dict *dict_cdb_open(const char *name, int flags, const char **error_r);
struct dict *dict_texthash_open(const char *name, int flags, const char **error_r);
struct dict *dict_static_open(const char *name, int flags, const char **error_r);
struct dict *dict_inline_open(const char *name, int flags, const char **error_r);
struct dict *dict_cidr_open(const char *name, int flags, const char **error_r);

/* dict_open_error - format the text dict_open() reports (a static buffer, valid until the next call) */
const char *dict_open_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* dict_error - set d's error text; returns -1 */
int dict_error(struct dict *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* largest text source read into memory (texthash:, cidr:, postmap) */
#define DICT_SOURCE_MAX ((size_t)1 << 30)

/*
 * dict_read_file - read a whole regular file of at most max bytes into out
 * (reset first); st_r (may be NULL) receives its fstat(). 0, or -1 with
 * *error_r from dict_open_error() ("open /x/y: No such file or directory").
 */
int dict_read_file(const char *path, size_t max, struct buf *out, struct stat *st_r,
		   const char **error_r);

/*
 * dict_source_fn - one entry of a text source. key (folded when asked) and
 * value are NUL-terminated. Return 0 to go on, or -1 with *error_r set.
 */
typedef int dict_source_fn(void *ctx, const char *key, size_t klen, const char *value, size_t vlen,
			   unsigned line, const char **error_r);
/*
 * dict_parse_source - run fn over every entry of the source text in src, named
 * path in messages. Keys are folded with DICT_FLAG_FOLD_KEY. Source warnings
 * are logged (unless DICT_FLAG_PARSE_QUIET: a second pass over the same text);
 * the first source error stops with "PATH, line N: text".
 * Returns 0 or -1 (*error_r from fn or dict_open_error()).
 */
#define DICT_FLAG_PARSE_QUIET 0x10000
/* aliases(5) "key: value" syntax (= MAP_BUILD_ALIAS, mapbuild.h) */
#define DICT_FLAG_PARSE_ALIAS 0x20000
int dict_parse_source(const char *path, const struct buf *src, int flags, dict_source_fn *fn,
		      void *ctx, const char **error_r);

/* dict_cdb_suffix - the file name suffix of an indexed type: ".db" (hash), ".cdb" (cdb), or NULL */
const char *dict_cdb_suffix(const char *type);

#endif
