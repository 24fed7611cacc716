/*
 * passwdfile.c - Dovecot's passwd-file format: parse it, look users up
 *
 * The whole file is parsed into an arena and a hash table keyed by user name;
 * the auth service parses again when the file changes (new table, then swap).
 *
 * Runs in:  the auth service
 * API:      see passwdfile.h
 * Tests:    tests/unit/test_passwdfile.c, fuzz/fuzz_passwdfile.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/htab.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/passwdfile.h"

struct pwf {
	struct arena *a;
	struct htab *users; /* user -> struct pwf_entry (in the arena) */
};

/* field - the next ':'-separated field of line[*pos..n) (the last field takes the rest) */
static const char *field(struct arena *a, const char *line, size_t n, size_t *pos, bool last)
{
	size_t start = *pos, end;
	const char *c;

	if (start >= n)
		return "";
	c = last ? NULL : memchr(line + start, ':', n - start);
	end = c ? (size_t)(c - line) : n;
	*pos = c ? end + 1 : n;
	return arena_memdup(a, line + start, end - start);
}

/* parse_id - a uid/gid field: empty (absent) or a number below 2^32-1; -1 when bad */
static int parse_id(const char *s, uint32_t *out, bool *has)
{
	uint64_t v;

	*has = false;
	if (*s == '\0')
		return 0;
	if (parse_u64(s, strlen(s), &v) < 0 || v >= UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	*has = true;
	return 0;
}

/* parse_line - one user line into the table */
static void parse_line(struct pwf *f, const char *line, size_t n, const char *path, int lineno,
		       struct diag_list *diags)
{
	struct pwf_entry *e;
	size_t pos = 0;
	uint32_t id = 0;

	if (memchr(line, '\0', n) != NULL) {
		diag_add(diags, DIAG_ERROR, path, lineno, "remove the NUL byte", "passwd-file line holds a NUL byte");
		return;
	}
	e = arena_zalloc(f->a, sizeof(*e));
	e->line = lineno;
	e->user = field(f->a, line, n, &pos, false);
	e->password = field(f->a, line, n, &pos, false);
	if (*e->user == '\0') {
		diag_add(diags, DIAG_ERROR, path, lineno, "start the line with the user name",
			 "passwd-file line without a user name");
		return;
	}
	if (parse_id(field(f->a, line, n, &pos, false), &id, &e->has_uid) < 0) {
		diag_add(diags, DIAG_ERROR, path, lineno, "the third field is a numeric uid (or empty)",
			 "passwd-file: bad uid for user %s", e->user);
		return;
	}
	e->uid = (uid_t)id;
	if (parse_id(field(f->a, line, n, &pos, false), &id, &e->has_gid) < 0) {
		diag_add(diags, DIAG_ERROR, path, lineno, "the fourth field is a numeric gid (or empty)",
			 "passwd-file: bad gid for user %s", e->user);
		return;
	}
	e->gid = (gid_t)id;
	e->gecos = field(f->a, line, n, &pos, false);
	e->home = field(f->a, line, n, &pos, false);
	e->shell = field(f->a, line, n, &pos, false);
	e->extra = field(f->a, line, n, &pos, true);
	if (htab_get(f->users, e->user) != NULL) {
		const struct pwf_entry *first = htab_get(f->users, e->user);

		diag_add(diags, DIAG_WARN, path, lineno, "remove one of the lines",
			 "passwd-file: user %s exists more than once (line %d is used)", e->user, first->line);
		return;
	}
	if (htab_count(f->users) >= PWF_USERS_MAX) {
		diag_add(diags, DIAG_ERROR, path, lineno, "split the file", "passwd-file: too many users");
		return;
	}
	htab_put(f->users, e->user, e);
}

/* pwf_parse - parse text */
struct pwf *pwf_parse(const char *text, size_t n, const char *path, struct diag_list *diags)
{
	struct pwf *f = xcalloc(1, sizeof(*f));
	size_t i = 0;
	int lineno = 0;

	f->a = arena_new(0);
	f->users = htab_new(n / 64 + 16, NULL);
	while (i < n) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - text) : n, len = end - i;
		const char *line = text + i;

		lineno++;
		i = nl ? end + 1 : n;
		if (len && line[len - 1] == '\r')
			len--;
		if (len > PWF_LINE_MAX) {
			diag_add(diags, DIAG_ERROR, path, lineno, "shorten the line", "passwd-file line longer than %d bytes",
				 PWF_LINE_MAX);
			continue;
		}
		if (len == 0 || line[0] == '#')
			continue;
		parse_line(f, line, len, path, lineno, diags);
	}
	return f;
}

/* pwf_lookup - the entry of user */
const struct pwf_entry *pwf_lookup(const struct pwf *f, const char *user)
{
	return htab_get(f->users, user);
}

/* pwf_count - the number of users */
size_t pwf_count(const struct pwf *f)
{
	return htab_count(f->users);
}

/* pwf_foreach - every entry */
void pwf_foreach(const struct pwf *f, void (*fn)(const struct pwf_entry *e, void *ctx), void *ctx)
{
	struct htab_iter it;
	const char *k;
	void *v;

	for (htab_iter_init(f->users, &it); htab_iter_next(&it, &k, &v);)
		fn(v, ctx);
}

/* pwf_free - release the table */
void pwf_free(struct pwf **fp)
{
	struct pwf *f = *fp;

	if (f == NULL)
		return;
	htab_free(&f->users);
	arena_free(&f->a);
	free(f);
	*fp = NULL;
}

/* copy_cut - copy p[0..n) into a buffer of size bn, cut to fit, NUL-terminated */
static void copy_cut(char *b, size_t bn, const char *p, size_t n)
{
	if (bn == 0)
		return;
	if (n >= bn)
		n = bn - 1;
	memcpy(b, p, n);
	b[n] = '\0';
}

/* pwf_extra_next - the next "key=value" item of extra fields */
bool pwf_extra_next(const char *extra, size_t *pos, char *kb, size_t kn, char *vb, size_t vn)
{
	size_t i = *pos, start, eq, end;

	while (extra[i] == ' ' || extra[i] == '\t')
		i++;
	if (extra[i] == '\0') {
		*pos = i;
		return false;
	}
	start = i;
	while (extra[i] != '\0' && extra[i] != ' ' && extra[i] != '\t')
		i++;
	end = i;
	for (eq = start; eq < end && extra[eq] != '='; eq++)
		;
	copy_cut(kb, kn, extra + start, eq - start);
	if (eq < end)
		copy_cut(vb, vn, extra + eq + 1, end - eq - 1);
	else
		copy_cut(vb, vn, "", 0);
	*pos = end;
	return true;
}
