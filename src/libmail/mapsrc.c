/*
 * mapsrc.c - lookup table source parser (postmap(1) text format) and inline: lists
 *
 * Runs in:  postern postmap, and every process that opens texthash:, cidr: or
 *           inline: tables; input is administrator-written, but treated as untrusted
 * API:      mapsrc_init(), mapsrc_next(), mapsrc_inline_*()   -- see mapsrc.h
 * Limits:   logical line <= line_max; NUL bytes rejected
 * Tests:    tests/unit/test_mapsrc.c, fuzz/fuzz_mapsrc.c
 * Refs:     postmap(1), Postfix util/readlline.c (logical lines)
 *
 * A logical line made of one physical line (the common case) is returned as
 * slices into the input without copying; only continued lines are joined in
 * the iterator's bounded scratch buffer.
 */
#include "libmail/mapsrc.h"

#include <string.h>

#include "lib/strutil.h"

/* mapsrc_init - start iterating over a source text */
void mapsrc_init(struct mapsrc *ms, const void *data, size_t n, const struct mapsrc_limits *lim)
{
	ms->p = data;
	ms->end = ms->p + n;
	ms->lineno = 0;
	ms->line_max = lim && lim->line_max ? lim->line_max : MAPSRC_LINE_MAX_DEFAULT;
	ms->alias = lim ? lim->alias : 0;
	buf_init(&ms->join, ms->line_max);
}

/* mapsrc_free - release the scratch buffer */
void mapsrc_free(struct mapsrc *ms)
{
	buf_free(&ms->join);
}

/* blank_or_comment - is this physical line ignored (white space only, or '#' first)? */
static int blank_or_comment(const char *p, const char *end)
{
	while (p < end && ascii_isspace(*p))
		p++;
	return p == end || *p == '#';
}

/* mapsrc_next - collect one logical line and split it into key and value */
enum mapsrc_result mapsrc_next(struct mapsrc *ms, struct mapsrc_entry *e, const char **error_r)
{
	struct slice first = { NULL, 0 }, line;
	size_t total = 0, parts = 0;
	int too_long = 0, has_nul = 0;
	const char *p, *lend, *k;

	e->line = 0;
	buf_reset(&ms->join);
	for (;;) {
		if (ms->p >= ms->end)
			break;
		/* a logical line ends where the next one starts with non-space text */
		if (parts > 0 && *ms->p != '#' && !ascii_isspace(*ms->p))
			break;
		p = ms->p;
		lend = memchr(p, '\n', (size_t)(ms->end - p));
		if (lend == NULL)
			lend = ms->end;
		ms->p = lend < ms->end ? lend + 1 : lend;
		ms->lineno++;
		if (blank_or_comment(p, lend))
			continue;
		if (memchr(p, '\0', (size_t)(lend - p)) != NULL)
			has_nul = 1;
		if (parts == 0) {
			e->line = ms->lineno;
			first = slice_make(p, (size_t)(lend - p));
		}
		parts++;
		total += (size_t)(lend - p);
		if (total > ms->line_max) {
			too_long = 1;
			continue;
		}
		if (parts == 2 && buf_append(&ms->join, first.p, first.n) != 0)
			too_long = 1;
		if (parts >= 2 && buf_append(&ms->join, p, (size_t)(lend - p)) != 0)
			too_long = 1;
	}
	if (parts == 0)
		return MAPSRC_END;
	if (too_long) {
		*error_r = "line too long";
		return MAPSRC_ERROR;
	}
	if (has_nul) {
		*error_r = "NUL byte in line";
		return MAPSRC_ERROR;
	}
	line = parts == 1 ? first : buf_slice(&ms->join);
	if (ascii_isspace(line.p[0])) {
		*error_r = "logical line must not start with whitespace";
		return MAPSRC_WARNING;
	}
	if (ms->alias) {
		const char *colon = memchr(line.p, ':', line.n);

		if (colon != NULL) {
			e->key = slice_trim(slice_make(line.p, (size_t)(colon - line.p)));
			e->value = slice_trim(slice_make(colon + 1, (size_t)(line.p + line.n - colon - 1)));
		}
		for (k = e->key.p; colon != NULL && k < e->key.p + e->key.n && !ascii_isspace(*k); k++)
			;
		if (colon == NULL || e->key.n == 0 || e->value.n == 0 || k < e->key.p + e->key.n) {
			*error_r = "expected format: key: value";
			return MAPSRC_ERROR;
		}
		return MAPSRC_ENTRY;
	}
	for (k = line.p; k < line.p + line.n && !ascii_isspace(*k); k++)
		;
	e->key = slice_make(line.p, (size_t)(k - line.p));
	e->value = slice_trim(slice_make(k, (size_t)(line.p + line.n - k)));
	if (e->value.n == 0) {
		*error_r = "expected format: key whitespace value";
		return MAPSRC_ERROR;
	}
	return MAPSRC_ENTRY;
}

/* ---- inline:{ ... } ------------------------------------------------------------ */

/* is_inline_sep - separators between inline: entries (Postfix CHARS_COMMA_SP) */
static int is_inline_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* mapsrc_inline_init - check and strip the outer braces */
int mapsrc_inline_init(struct mapsrc_inline *it, const char *s, size_t n, const char **error_r)
{
	struct slice t = slice_trim(slice_make(s, n));

	it->index = 0;
	it->p = it->end = t.p;
	if (t.n < 2 || t.p[0] != '{' || t.p[t.n - 1] != '}') {
		*error_r = "expected \"{ key=value, ... }\"";
		return -1;
	}
	it->p = t.p + 1;
	it->end = t.p + t.n - 1;
	return 0;
}

/* mapsrc_inline_next - split off one entry and divide it at its first '=' */
int mapsrc_inline_next(struct mapsrc_inline *it, struct slice *key, struct slice *value,
		       const char **error_r)
{
	const char *start, *eq;
	struct slice tok;
	size_t depth = 0;

	while (it->p < it->end && is_inline_sep(*it->p))
		it->p++;
	if (it->p >= it->end)
		return 0;
	start = it->p;
	if (*it->p == '{') {
		/* a braced entry runs to the matching '}' and may contain separators */
		for (; it->p < it->end; it->p++) {
			if (*it->p == '{')
				depth++;
			else if (*it->p == '}' && --depth == 0)
				break;
		}
		if (it->p >= it->end) {
			*error_r = "missing '}' in inline: entry";
			return -1;
		}
		tok = slice_trim(slice_make(start + 1, (size_t)(it->p - start - 1)));
		it->p++;
		if (it->p < it->end && !is_inline_sep(*it->p)) {
			*error_r = "text after '}' in inline: entry";
			return -1;
		}
	} else {
		for (; it->p < it->end && (depth > 0 || !is_inline_sep(*it->p)); it->p++) {
			if (*it->p == '{') {
				depth++;
			} else if (*it->p == '}') {
				if (depth == 0) {
					*error_r = "unexpected '}' in inline: entry";
					return -1;
				}
				depth--;
			}
		}
		if (depth > 0) {
			*error_r = "missing '}' in inline: entry";
			return -1;
		}
		tok = slice_make(start, (size_t)(it->p - start));
	}
	eq = tok.n ? memchr(tok.p, '=', tok.n) : NULL;
	if (eq == NULL) {
		*error_r = "expected key=value in inline: entry";
		return -1;
	}
	*key = slice_trim(slice_make(tok.p, (size_t)(eq - tok.p)));
	*value = slice_trim(slice_make(eq + 1, (size_t)(tok.p + tok.n - eq - 1)));
	if (key->n == 0) {
		*error_r = "missing key before '=' in inline: entry";
		return -1;
	}
	it->index++;
	return 1;
}
