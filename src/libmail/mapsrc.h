/*
 * mapsrc.h - parse the text source of a lookup table (postmap(1) format) and inline: lists
 *
 * Pure: no I/O, no globals, no logging. The caller hands over the bytes of a
 * source file and iterates over its entries; diagnostics come back as short
 * texts plus the line number, and the caller prefixes the file name
 * ("/etc/postern/virtual, line 3: expected format: key whitespace value").
 *
 * Source format, as Postfix's readlline(3) + postmap(1):
 *   - a logical line starts with non-white-space text; a physical line that
 *     starts with white space continues it (joined as is, without the newline);
 *   - empty lines, white-space-only lines and lines whose first non-white-space
 *     byte is '#' are ignored, also in the middle of a continued line; a '#'
 *     after the key is data ("key value # x" has the value "value # x");
 *   - the key is the first white-space-delimited token, the value is the rest
 *     with surrounding white space removed; CR counts as white space, so CRLF
 *     files parse like LF files;
 *   - a logical line without a value is an error; a continuation line with no
 *     logical line to continue is ignored with a warning (as Postfix does).
 * With lim->alias (postalias(1), aliases(5)) a logical line is "key: value":
 * the key is the text before the first ':' (white space around it removed,
 * no white space inside), the value the rest, trimmed; a line without ':' or
 * with an empty key or value is an error ("expected format: key: value").
 * Quoted keys ("a b": x) are not supported.
 * Keys are returned as written; folding case and detecting duplicate keys is
 * up to the caller (they need state across entries).
 *
 * Limits:   lim->line_max bytes per logical line (joined), NUL bytes rejected
 * Tests:    tests/unit/test_mapsrc.c, fuzz/fuzz_mapsrc.c
 * Refs:     postmap(1), Postfix util/readlline.c, postconf(5) "inline:"
 */
#ifndef POSTERN_MAPSRC_H
#define POSTERN_MAPSRC_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/slice.h"

/* a logical line may not be longer than this by default (bytes) */
#define MAPSRC_LINE_MAX_DEFAULT (64 * 1024)

struct mapsrc_limits {
	size_t line_max; /* bytes in one logical line after joining continuations */
	int alias;       /* aliases(5) syntax: "key: value" (see below) */
};

struct mapsrc_entry {
	struct slice key;   /* not NUL-terminated; into the input or the parser's scratch */
	struct slice value; /* never empty; valid until the next mapsrc_next() */
	unsigned line;      /* first physical line of the logical line (1-based) */
};

/* iterator state; fields are private */
struct mapsrc {
	const char *p, *end;
	unsigned lineno;    /* physical lines consumed so far */
	size_t line_max;
	int alias;
	struct buf join;    /* scratch for continued lines (bounded by line_max) */
};

enum mapsrc_result {
	MAPSRC_ERROR = -1,  /* bad logical line: skipped; the table is invalid */
	MAPSRC_END = 0,     /* no more input */
	MAPSRC_ENTRY = 1,   /* *e holds the next entry */
	MAPSRC_WARNING = 2, /* ignorable input was skipped; *error_r says what */
};

/*
 * mapsrc_init - iterate over the n bytes at data (which must outlive the iterator).
 * lim NULL means the defaults.
 */
void mapsrc_init(struct mapsrc *ms, const void *data, size_t n, const struct mapsrc_limits *lim);
/*
 * mapsrc_next - the next entry.
 * Returns MAPSRC_ENTRY with *e filled; MAPSRC_END; or MAPSRC_ERROR / MAPSRC_WARNING
 * with e->line set to the offending line and *error_r a static text without
 * the line ("expected format: key whitespace value", "line too long", ...).
 * After an error or warning the iterator has moved past the bad logical line,
 * so the caller may go on to collect more diagnostics.
 */
enum mapsrc_result mapsrc_next(struct mapsrc *ms, struct mapsrc_entry *e, const char **error_r);
/* mapsrc_free - release the iterator's scratch memory */
void mapsrc_free(struct mapsrc *ms);

/*
 * inline: tables, Postfix 3 syntax: "{ key=value, key2=value2 }". Entries are
 * separated by commas and/or white space; an entry written in braces may
 * contain them, and white space around its '=' is ignored:
 * "{ {key = a, b}, k2=v2 }". The outer braces are required.
 *
 * mapsrc_inline_init - iterate over the n bytes of the text after "inline:"
 * (must outlive the iterator). Returns 0, or -1 when the outer braces are missing.
 */
struct mapsrc_inline {
	const char *p, *end;
	unsigned index; /* entries returned so far */
};
int mapsrc_inline_init(struct mapsrc_inline *it, const char *s, size_t n, const char **error_r);
/*
 * mapsrc_inline_next - the next name=value pair (slices into the input; the
 * value may be empty). Returns 1 with *key and *value set, 0 at the end, -1
 * with *error_r for a malformed entry (the iteration cannot continue).
 */
int mapsrc_inline_next(struct mapsrc_inline *it, struct slice *key, struct slice *value,
		       const char **error_r);

#endif
