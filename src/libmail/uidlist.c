/*
 * uidlist.c - the dovecot-uidlist file of a Maildir: parse, look up, add, format
 *
 * Records live in an array sorted by uid (binary search) and a hash table maps
 * each base name to its uid. Strings are in an arena owned by the list.
 *
 * Runs in:  the mail session processes
 * API:      see uidlist.h
 * Tests:    tests/unit/test_uidlist.c, fuzz/fuzz_uidlist.c
 */
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/htab.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/uidlist.h"

/* make - an empty list */
static struct uidlist *make(void)
{
	struct uidlist *l = xcalloc(1, sizeof(*l));

	l->a = arena_new(0);
	l->names = htab_new(64, NULL);
	l->header_extra = "";
	l->version = 3;
	return l;
}

/* valid_name - a base name: not empty, no ':', white space, '/', line break or NUL */
static bool valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == ':' || s[i] == ' ' || s[i] == '\t' || s[i] == '/' || s[i] == '\n' || s[i] == '\r' ||
		    s[i] == '\0')
			return false;
	return true;
}

/* valid_fields - keyed fields: space-separated tokens, each a letter then printable non-space bytes */
static bool valid_fields(const char *s)
{
	bool start = true;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s == ' ') {
			if (start)
				return false; /* leading or double space */
			start = true;
		} else if (start) {
			if (!ascii_isalpha(*s))
				return false;
			start = false;
		} else if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e || *s == ':') {
			return false;
		}
	}
	return !start; /* no trailing space */
}

/* push - append a record (uid ascending is the caller's job); -1 when the name is taken */
static int push(struct uidlist *l, uint32_t uid, const char *name, size_t nn, const char *fields, size_t fn)
{
	struct uidlist_rec *r;
	char *nm = arena_memdup(l->a, name, nn);

	if (htab_get(l->names, nm) != NULL || l->n >= UIDLIST_RECS_MAX)
		return -1;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->recs = xreallocarray(l->recs, l->cap, sizeof(*l->recs));
	}
	r = &l->recs[l->n++];
	r->uid = uid;
	r->name = nm;
	r->fields = fn ? arena_memdup(l->a, fields, fn) : "";
	htab_put(l->names, nm, (void *)(uintptr_t)uid);
	return 0;
}

/* num - a decimal u32 token; -1 when not one */
static int num(const char *s, size_t n, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, n, &v) < 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* parse_header - the first line */
static int parse_header(struct uidlist *l, const char *s, size_t n, const char **error_r)
{
	const char *end = s + n, *p = s;
	struct buf extra = BUF_INIT(UIDLIST_LINE_MAX);
	int tok = 0, rc = -1;

	*error_r = "malformed header";
	while (p < end) {
		const char *t = p, *sp = memchr(p, ' ', (size_t)(end - p));
		size_t tn = (size_t)((sp ? sp : end) - t);

		p = sp ? sp + 1 : end;
		if (tn == 0)
			goto out;
		if (tok == 0) {
			if (tn != 1 || (t[0] != '1' && t[0] != '3')) {
				*error_r = "unsupported version (want 1 or 3)";
				goto out;
			}
			l->version = (unsigned)(t[0] - '0');
		} else if (l->version == 1) {
			if (tok > 2 || num(t, tn, tok == 1 ? &l->uidvalidity : &l->next_uid) < 0)
				goto out;
		} else if (t[0] == 'V') {
			if (num(t + 1, tn - 1, &l->uidvalidity) < 0)
				goto out;
		} else if (t[0] == 'N') {
			if (num(t + 1, tn - 1, &l->next_uid) < 0)
				goto out;
		} else if (t[0] == 'G') {
			size_t i;

			if (tn != 33)
				goto out;
			for (i = 1; i < tn; i++)
				if (!strchr("0123456789abcdef", t[i]) || t[i] == '\0')
					goto out;
			memcpy(l->guid, t + 1, 32);
			l->guid[32] = '\0';
		} else {
			if ((extra.len && buf_putc(&extra, ' ') < 0) || buf_append(&extra, t, tn) < 0)
				goto out;
		}
		tok++;
	}
	if (l->uidvalidity == 0 || l->next_uid == 0) {
		*error_r = "no uidvalidity or next uid in the header";
		goto out;
	}
	if (extra.len)
		l->header_extra = arena_memdup(l->a, extra.data, extra.len);
	rc = 0;
out:
	buf_free(&extra);
	return rc;
}

/* parse_rec - one record line */
static int parse_rec(struct uidlist *l, const char *s, size_t n)
{
	const char *end = s + n, *sp = memchr(s, ' ', n), *name, *fields = NULL;
	size_t fn = 0;
	uint32_t uid;

	if (sp == NULL || num(s, (size_t)(sp - s), &uid) < 0 || uid == 0)
		return -1;
	if (l->n && uid <= l->recs[l->n - 1].uid)
		return -1; /* not ascending */
	if (l->version == 1) {
		name = sp + 1;
	} else {
		const char *colon = sp + 1;

		/* fields up to " :" (or ":" right after the uid) */
		if (colon < end && *colon != ':') {
			const char *m = NULL;

			for (const char *q = colon; q + 1 < end; q++)
				if (q[0] == ' ' && q[1] == ':') {
					m = q;
					break;
				}
			if (m == NULL)
				return -1;
			fields = colon;
			fn = (size_t)(m - colon);
			colon = m + 1;
		}
		if (colon >= end || *colon != ':')
			return -1;
		name = colon + 1;
		if (fn) {
			char *f = arena_memdup(l->a, fields, fn);

			if (!valid_fields(f))
				return -1;
		}
	}
	if (!valid_name(name, (size_t)(end - name)))
		return -1;
	if (uid >= l->next_uid)
		l->next_uid = uid == UINT32_MAX ? uid : uid + 1; /* never hand out a uid already listed */
	return push(l, uid, name, (size_t)(end - name), fields, fn);
}

/* uidlist_parse - parse a file's bytes */
struct uidlist *uidlist_parse(const char *text, size_t n, unsigned *line_r, const char **error_r)
{
	struct uidlist *l = make();
	size_t i = 0;
	unsigned lineno = 0;

	while (i < n) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - text) : n, len = end - i;
		const char *line = text + i;

		lineno++;
		i = nl ? end + 1 : n;
		if (len > UIDLIST_LINE_MAX || memchr(line, '\0', len) != NULL) {
			*error_r = "line too long or holds a NUL byte";
			goto bad;
		}
		if (lineno == 1) {
			if (parse_header(l, line, len, error_r) < 0)
				goto bad;
			continue;
		}
		if (len == 0 && i >= n)
			break;
		if (parse_rec(l, line, len) < 0) {
			*error_r = "malformed, out of order or duplicate record";
			goto bad;
		}
	}
	if (lineno == 0) {
		*error_r = "empty file";
		goto bad;
	}
	if (l->n && l->recs[l->n - 1].uid == UINT32_MAX) {
		*error_r = "UIDs exhausted";
		goto bad;
	}
	*line_r = 0;
	return l;
bad:
	*line_r = lineno;
	uidlist_free(&l);
	return NULL;
}

/* uidlist_new - an empty version 3 list */
struct uidlist *uidlist_new(uint32_t uidvalidity, const char *guid)
{
	struct uidlist *l = make();

	l->uidvalidity = uidvalidity ? uidvalidity : 1;
	l->next_uid = 1;
	if (guid && strlen(guid) == 32)
		memcpy(l->guid, guid, 33);
	return l;
}

/* uidlist_add - give name the next uid */
uint32_t uidlist_add(struct uidlist *l, const char *name, const char *fields)
{
	uint32_t uid = l->next_uid;

	if (!valid_name(name, strlen(name)) || uid == 0 || uid == UINT32_MAX || (fields && *fields && !valid_fields(fields)))
		return 0;
	if (push(l, uid, name, strlen(name), fields, fields ? strlen(fields) : 0) < 0)
		return 0;
	l->next_uid = uid + 1;
	return uid;
}

/* index_of - the position of uid in recs, or n */
static size_t index_of(const struct uidlist *l, uint32_t uid)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->recs[lo].uid == uid ? lo : l->n;
}

/* uidlist_find_uid - the record of a uid */
const struct uidlist_rec *uidlist_find_uid(const struct uidlist *l, uint32_t uid)
{
	size_t i = index_of(l, uid);

	return i < l->n ? &l->recs[i] : NULL;
}

/* uidlist_find_name - the record of a base name */
const struct uidlist_rec *uidlist_find_name(const struct uidlist *l, const char *name)
{
	void *v = htab_get(l->names, name);

	return v ? uidlist_find_uid(l, (uint32_t)(uintptr_t)v) : NULL;
}

/* uidlist_remove_uid - forget a record */
bool uidlist_remove_uid(struct uidlist *l, uint32_t uid)
{
	size_t i = index_of(l, uid);

	if (i == l->n)
		return false;
	htab_remove(l->names, l->recs[i].name);
	memmove(&l->recs[i], &l->recs[i + 1], (l->n - i - 1) * sizeof(l->recs[0]));
	l->n--;
	return true;
}

/* uidlist_field - the numeric value of keyed field key */
bool uidlist_field(const struct uidlist_rec *r, char key, uint64_t *value)
{
	const char *p = r->fields;

	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t tn = sp ? (size_t)(sp - p) : strlen(p);

		if (p[0] == key)
			return parse_u64(p + 1, tn - 1, value) == 0;
		p += tn;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* uidlist_format - append the version 3 text */
int uidlist_format(const struct uidlist *l, struct buf *out)
{
	size_t i, start = out->len;

	if (buf_printf(out, "3 V%u N%u", l->uidvalidity, l->next_uid) < 0 ||
	    (l->guid[0] && buf_printf(out, " G%s", l->guid) < 0) ||
	    (l->header_extra[0] && buf_printf(out, " %s", l->header_extra) < 0) || buf_putc(out, '\n') < 0)
		goto full;
	for (i = 0; i < l->n; i++) {
		const struct uidlist_rec *r = &l->recs[i];

		if (buf_printf(out, "%u %s%s:%s\n", r->uid, r->fields, r->fields[0] ? " " : "", r->name) < 0)
			goto full;
	}
	return 0;
full:
	buf_truncate(out, start);
	return -1;
}

/* uidlist_free - release */
void uidlist_free(struct uidlist **lp)
{
	struct uidlist *l = *lp;

	if (l == NULL)
		return;
	htab_free(&l->names);
	arena_free(&l->a);
	free(l->recs);
	free(l);
	*lp = NULL;
}
