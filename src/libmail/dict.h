/*
 * dict.h - lookup tables ("dictionaries" in Postfix): one interface, many types
 *
 * A table is named "type:name", as in main.cf: hash:/etc/postern/virtual,
 * cdb:/etc/postern/virtual, texthash:/etc/postern/virtual, static:5000,
 * inline:{ a=1, b=2 }, cidr:/etc/postern/access.cidr. Types are listed once
 * in a registry (dict.c); adding one (sqlite:, pgsql:) is one new dict_<type>.c
 * file and one registry row (see dict-private.h).
 *
 * Types:
 *   hash:PATH      reads PATH.db, built by `postern postmap PATH`. The file is in
 *                  tinycdb's CDB format, NOT Berkeley DB: a .db made by Postfix's
 *                  postmap is refused with a message to re-run `postern postmap`.
 *   cdb:PATH       reads PATH.cdb (same format; Postfix's cdb: files work too).
 *                  hash: and cdb: notice a rebuilt file (new inode, device or
 *                  mtime) and switch to it without a restart; the check runs at
 *                  most once a second (monotonic clock), or on dict_refresh().
 *   texthash:PATH  reads the text source PATH into memory at open (no reload).
 *   static:VALUE   every key gives VALUE ("static:{ text }" for text with spaces).
 *   inline:{ k=v, ... }   the table itself, Postfix 3 syntax (see mapsrc.h).
 *   cidr:PATH      cidr_table(5): "network/prefix  result" lines, first match
 *                  wins; the lookup key is an IP address text (see cidr.h); a
 *                  key that is not an address is not found (as in Postfix).
 * Keys in CDB files carry no trailing NUL (as Postfix's cdb:); values neither.
 *
 * Errors: a function taking const char **error_r sets it on failure to a text
 * that is valid until the next call on the same dict (dict_open(): until the
 * next dict_open()); texts name the table and, for source errors, file and line.
 *
 * Tests:    tests/unit/test_dict.c, tests/e2e/test_postmap.py
 * Refs:     postmap(1), postconf(5) "inline:", cidr_table(5), cdb(5)
 */
#ifndef POSTERN_DICT_H
#define POSTERN_DICT_H

#include <stdbool.h>

/* lower-case (ASCII) the query key and, for tables read from text, the stored
 * keys: Postfix's default for hash:, cdb:, texthash:, inline: maps */
#define DICT_FLAG_FOLD_KEY 0x01
/* never look for a rebuilt hash:/cdb: file except on dict_refresh() */
#define DICT_FLAG_NO_RELOAD 0x02

/* the flags Postfix would use for virtual_*_maps and friends */
#define DICT_FLAGS_DEFAULT DICT_FLAG_FOLD_KEY

struct dict;

/*
 * dict_open - open the table named by spec ("type:name").
 * Returns the table, or NULL with *error_r (unknown type, missing file,
 * a source error "PATH, line N: ...", a Berkeley DB file, ...).
 * Warnings (duplicate keys in a texthash: source) go to the log.
 */
struct dict *dict_open(const char *spec, int flags, const char **error_r);

/*
 * dict_lookup - look key up.
 * Returns 1 with *value_r set (valid until the next dict_lookup() or
 * dict_close() on this dict), 0 when the key is not in the table, or -1 with
 * *error_r (I/O error, corrupt file, value too large).
 * With DICT_FLAG_FOLD_KEY the key is lower-cased first (ASCII).
 */
int dict_lookup(struct dict *d, const char *key, const char **value_r, const char **error_r);

/*
 * dict_refresh - check now whether a file-backed table was replaced and reopen it.
 * Returns 1 when the table was reopened, 0 when unchanged (or not file-backed),
 * -1 with *error_r when the new file cannot be used (the old one stays in use).
 */
int dict_refresh(struct dict *d, const char **error_r);

/* dict_close - release the table; sets *dp = NULL (no-op for NULL) */
void dict_close(struct dict **dp);

/* dict_spec - the "type:name" the table was opened with */
const char *dict_spec(const struct dict *d);

/* dict_type_known - is there a table type of this name (without ':')? */
bool dict_type_known(const char *type);
/* dict_is_spec - does item look like "type:name" with a known table type? */
bool dict_is_spec(const char *item);

#endif
