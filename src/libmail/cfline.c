/*
 * cfline.c - logical line reader for Postfix-style configuration files
 *
 * API:      see cfline.h
 * Tests:    tests/unit/test_config.c, tests/unit/test_mastercf.c
 */
#include "cfline.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

/* cfline_reader_init - start reading text */
void cfline_reader_init(struct cfline_reader *r, const char *text, size_t len, const char *file,
			struct diag_list *diags)
{
	r->p = text;
	r->end = text + len;
	r->file = file;
	r->lineno = 0;
	r->in_comment = false;
	r->diags = diags;
}

/* cfline_init - empty logical line */
void cfline_init(struct cfline *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->text, 0);
}

/* cfline_free - release memory */
void cfline_free(struct cfline *l)
{
	buf_free(&l->text);
	free(l->seg_off);
	free(l->seg_line);
	memset(l, 0, sizeof(*l));
}

/* peek - the physical line at r->p (without its newline) */
static struct slice peek(const struct cfline_reader *r)
{
	const char *eol = memchr(r->p, '\n', (size_t)(r->end - r->p));

	return slice_make(r->p, eol ? (size_t)(eol - r->p) : (size_t)(r->end - r->p));
}

/* advance - consume the line returned by peek() */
static void advance(struct cfline_reader *r, struct slice line)
{
	r->p = line.p + line.n < r->end ? line.p + line.n + 1 : r->end;
	r->lineno++;
}

/* add_piece - append one trimmed physical line to the logical line; 0 or -1 when too long */
static int add_piece(struct cfline *l, struct slice t, int lineno)
{
	if (l->nseg == l->capseg) {
		l->capseg = l->capseg ? l->capseg * 2 : 8;
		l->seg_off = xreallocarray(l->seg_off, l->capseg, sizeof(*l->seg_off));
		l->seg_line = xreallocarray(l->seg_line, l->capseg, sizeof(*l->seg_line));
	}
	if (l->text.len > 0 && buf_putc(&l->text, ' ') < 0)
		return -1;
	l->seg_off[l->nseg] = l->text.len;
	l->seg_line[l->nseg] = lineno;
	l->nseg++;
	return buf_append_slice(&l->text, t);
}

/* cfline_next - one logical line */
int cfline_next(struct cfline_reader *r, struct cfline *l)
{
	struct slice line, t;
	bool too_long;

	for (;;) {
		buf_reset(&l->text);
		l->nseg = 0;
		too_long = false;
		/* find the start of a logical line */
		for (;;) {
			if (r->p >= r->end)
				return 0;
			line = peek(r);
			t = slice_trim(line);
			advance(r, line);
			if (t.n == 0)
				continue;
			if (ascii_isspace(line.p[0])) {
				if (t.p[0] != '#' && !r->in_comment)
					diag_add(r->diags, DIAG_WARN, r->file, r->lineno,
						 "remove the leading white space, or join it to the line above",
						 "ignoring a continuation line that continues nothing: \"%s\"",
						 log_sanitize_n(t.p, t.n, 60));
				continue;
			}
			if (t.p[0] == '#') {
				r->in_comment = true;
				continue;
			}
			break;
		}
		r->in_comment = false;
		l->line = r->lineno;
		if (add_piece(l, t, r->lineno) < 0)
			too_long = true;
		/* its continuation lines */
		while (r->p < r->end) {
			line = peek(r);
			t = slice_trim(line);
			if (t.n > 0 && !ascii_isspace(line.p[0]) && t.p[0] != '#')
				break;
			advance(r, line);
			if (t.n == 0 || t.p[0] == '#' || too_long)
				continue;
			if (add_piece(l, t, r->lineno) < 0)
				too_long = true;
		}
		if (!too_long)
			return 1;
		diag_add(r->diags, DIAG_ERROR, r->file, l->line, NULL, "logical line too long; ignored");
	}
}

/* cfline_line_at - which physical line a byte of the logical line came from */
int cfline_line_at(const struct cfline *l, size_t offset)
{
	size_t i;
	int line = l->line;

	for (i = 0; i < l->nseg && l->seg_off[i] <= offset; i++)
		line = l->seg_line[i];
	return line;
}
