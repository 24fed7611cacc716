/*
 * mapbuild.h - build the indexed file of a hash: or cdb: table from its text source
 *
 * `postern postmap [hash:|cdb:]PATH` in library form: PATH is parsed as a
 * postmap(1) source (mapsrc.h) and written as a CDB file (tinycdb's cdb_make)
 * to PATH.db (hash:) or PATH.cdb (cdb:) through safefile: a temporary file in
 * the same directory, fsync, rename over the old file, fsync of the directory.
 * A server that has the table open sees the old or the new file, never a
 * half-written one, and switches to the new one by itself (dict.h).
 *
 * Output mode: the source's permission bits limited to 0644, so the table is
 * never more readable than its source and never writable by group or others
 * (a 0600 source gives a 0600 table, 0664 gives 0644). The owner is the user
 * running postmap (run it as the owner of the source).
 *
 * Tests:    tests/unit/test_dict.c, tests/e2e/test_postmap.py
 */
#ifndef POSTERN_MAPBUILD_H
#define POSTERN_MAPBUILD_H

/* do not warn about duplicate keys (postmap -w) */
#define MAP_BUILD_NO_DUP_WARN 0x100
/* the source is an aliases(5) file, "name: value" (postalias); see mapsrc.h */
#define MAP_BUILD_ALIAS 0x20000

/*
 * map_build - build the table named spec ("hash:PATH" or "cdb:PATH").
 * flags: DICT_FLAG_FOLD_KEY (lower-case keys: postmap's default),
 * MAP_BUILD_NO_DUP_WARN, MAP_BUILD_ALIAS. Duplicate keys keep their first value and are
 * logged as "PATH, line N: duplicate entry: "key"".
 * Returns 0, or -1 with *error_r ("open /x/y: No such file or directory",
 * "PATH, line N: expected format: key whitespace value", "unsupported ...");
 * the text is valid until the next map_build() or dict_open(). On error the
 * old table file is left untouched.
 */
int map_build(const char *spec, int flags, const char **error_r);

#endif
