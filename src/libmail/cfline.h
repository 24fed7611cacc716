/*
 * cfline.h - logical lines of Postfix-style files (main.cf, master.cf): comments and continuations
 *
 * Rules (Postfix readlline(3), its test cases included):
 *   - a logical line starts with a line that does not begin with white space;
 *     each following line that starts with white space continues it; the
 *     pieces are trimmed and joined with one space;
 *   - blank lines and comment lines (first non-blank character "#", flush left
 *     or indented) are skipped and do NOT end a logical line, so "a\n#x\n b"
 *     is "a b": a commented-out "-o" line between master.cf options, or a
 *     commented-out list item, keeps the rest of the entry;
 *   - a continuation of a comment is a comment: indented lines that follow a
 *     comment before the first logical line are skipped silently;
 *   - any other indented line with nothing to continue (start of file) is
 *     ignored with a warning, as in Postfix.
 * The reader is pure: it walks a caller's buffer and reports to a diag_list.
 *
 * Tests:    tests/unit/test_config.c, tests/unit/test_mastercf.c
 */
#ifndef POSTERN_CFLINE_H
#define POSTERN_CFLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "libmail/diag.h"

struct cfline_reader {
	const char *p, *end;
	const char *file;        /* for diagnostics */
	int lineno;              /* physical lines consumed */
	bool in_comment;         /* after a column-1 comment */
	struct diag_list *diags; /* may be NULL */
};

/* one logical line; reuse it across calls, then cfline_free() */
struct cfline {
	struct buf text;   /* trimmed pieces joined by one space */
	int line;          /* physical line where it starts */
	size_t *seg_off;   /* offsets in text where each physical line's piece starts */
	int *seg_line;     /* and that line's number */
	size_t nseg, capseg;
};

/* cfline_reader_init - read text[0..len); file names the source in diagnostics */
void cfline_reader_init(struct cfline_reader *r, const char *text, size_t len, const char *file,
			struct diag_list *diags);
/* cfline_init - an empty logical line */
void cfline_init(struct cfline *l);
/* cfline_free - release a logical line's memory */
void cfline_free(struct cfline *l);
/*
 * cfline_next - the next logical line into *l. Returns 1, or 0 at the end of
 * input. A logical line longer than the buffer maximum is reported as an error
 * and skipped.
 */
int cfline_next(struct cfline_reader *r, struct cfline *l);
/* cfline_line_at - physical line number of the byte at offset in l->text */
int cfline_line_at(const struct cfline *l, size_t offset);

#endif
