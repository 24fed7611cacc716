/*
 * valias.c - recursive virtual_alias_maps expansion (Postfix cleanup_map1n semantics)
 *
 * Runs in:  smtpd RCPT validation, queue (see valias.h)
 * API:      valias_new(), valias_open(), valias_expand(), valias_find()
 * Tests:    tests/unit/test_valias.c
 * Refs:     Postfix cleanup/cleanup_map1n.c, global/mail_addr_map.c, virtual(5)
 *
 * The expansion is a depth-first walk: each address is looked up; a miss is
 * final; a hit is replaced by its results, which are walked in turn. The
 * walk keeps the chain of addresses above the current one (for loop
 * detection), the set of self-referencing addresses (final wherever they are
 * met again), and the number of addresses the recipient has become (the
 * expansion limit counts them as Postfix's argv does: one, plus n - 1 for
 * every lookup that gave n results).
 */
#include "libmail/valias.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/htab.h"
#include "lib/slice.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/addr_lookup.h"

#define VALIAS_ADDR_MAX 1000  /* longest result address kept (Postfix: virtual_alias_address_length_limit) */
#define VALIAS_DEPTH_MAX 1000 /* the walk recurses: virtual_alias_recursion_limit is capped here */

struct valias {
	struct dict **maps;
	size_t n;
	bool own_maps;
	char *delims, *origin;
	bool propagate_ext;
	size_t recursion_limit, expansion_limit;
	char err[1024];
	struct addr_keys keys;
};

/* the state of one valias_expand() walk */
struct walk {
	struct valias *va;
	const char *rcpt;
	struct valias_list *out;
	size_t first_new;      /* out->n before the walk: undone on error */
	struct htab *self;     /* lower-cased self-referencing addresses */
	const char **chain;    /* the addresses above the current one */
	size_t *chain_self;    /* the size of self when each was entered */
	size_t depth;
	size_t slots;          /* addresses the recipient currently expands to */
};

static char open_err[1024];

/* valias_new - an expander over borrowed tables */
struct valias *valias_new(struct dict *const *maps, size_t n, const struct valias_params *p)
{
	struct valias *va = xcalloc(1, sizeof(*va));

	va->maps = xcalloc(n ? n : 1, sizeof(*va->maps));
	if (n)
		memcpy(va->maps, maps, n * sizeof(*maps));
	va->n = n;
	va->delims = xstrdup(p->delims ? p->delims : "");
	va->origin = xstrdup(p->origin ? p->origin : "");
	va->propagate_ext = p->propagate_ext;
	va->recursion_limit = p->recursion_limit < VALIAS_DEPTH_MAX ? p->recursion_limit : VALIAS_DEPTH_MAX;
	va->expansion_limit = p->expansion_limit;
	return va;
}

/* list_has - does the list parameter name contain word? */
static bool list_has(struct config *cfg, const char *name, const char *word)
{
	const char *const *items, *err;
	size_t n, i;

	if (config_get_list(cfg, name, &items, &n, &err) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (str_casecmp_ascii(items[i], word) == 0)
			return true;
	return false;
}

/* valias_open - an expander over virtual_alias_maps of cfg */
struct valias *valias_open(struct config *cfg, const char **error_r)
{
	const char *const *items, *err;
	struct valias_params p;
	struct dict **maps;
	struct valias *va;
	int64_t rec, exp;
	size_t n, i;

	if (config_get_int(cfg, "virtual_alias_recursion_limit", &rec, &err) < 0 ||
	    config_get_int(cfg, "virtual_alias_expansion_limit", &exp, &err) < 0 ||
	    config_get_list(cfg, "virtual_alias_maps", &items, &n, &err) < 0) {
		snprintf(open_err, sizeof(open_err), "%s", err);
		*error_r = open_err;
		return NULL;
	}
	maps = xcalloc(n ? n : 1, sizeof(*maps));
	for (i = 0; i < n; i++) {
		maps[i] = dict_open(items[i], DICT_FLAGS_DEFAULT, &err);
		if (maps[i] == NULL) {
			snprintf(open_err, sizeof(open_err), "virtual_alias_maps: %s", err);
			while (i > 0)
				dict_close(&maps[--i]);
			free(maps);
			*error_r = open_err;
			return NULL;
		}
	}
	p.delims = config_get(cfg, "recipient_delimiter");
	p.origin = config_get(cfg, "myorigin");
	p.propagate_ext = list_has(cfg, "propagate_unmatched_extensions", "virtual");
	p.recursion_limit = (size_t)rec;
	p.expansion_limit = (size_t)exp;
	va = valias_new(maps, n, &p);
	va->own_maps = true;
	free(maps);
	return va;
}

/* valias_free - release the expander and its own tables */
void valias_free(struct valias **vap)
{
	struct valias *va = *vap;
	size_t i;

	if (va == NULL)
		return;
	if (va->own_maps)
		for (i = 0; i < va->n; i++)
			dict_close(&va->maps[i]);
	free(va->maps);
	free(va->delims);
	free(va->origin);
	addr_keys_free(&va->keys);
	xfree(vap);
}

/* valias_empty - no tables at all? */
bool valias_empty(const struct valias *va)
{
	return va->n == 0;
}

/* valias_list_init - an empty result list */
void valias_list_init(struct valias_list *l)
{
	memset(l, 0, sizeof(*l));
}

/* valias_list_free - release a result list */
void valias_list_free(struct valias_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].address);
		free(l->v[i].original);
	}
	free(l->v);
	htab_free(&l->seen);
	memset(l, 0, sizeof(*l));
}

/* find_kind - valias_find() that also tells which key matched (va->keys holds them) */
static int find_kind(struct valias *va, const char *addr, const char **value_r,
		     enum addr_match_kind *kind_r, const char **error_r)
{
	const char *err;
	size_t k, t;
	int rc;

	addr_keys_free(&va->keys);
	addr_lookup_keys(addr, va->delims, &va->keys);
	for (k = 0; k < va->keys.n; k++)
		for (t = 0; t < va->n; t++) {
			rc = dict_lookup(va->maps[t], va->keys.key[k], value_r, &err);
			if (rc < 0) {
				snprintf(va->err, sizeof(va->err), "virtual_alias_maps: %s", err);
				*error_r = va->err;
				return -1;
			}
			if (rc > 0) {
				*kind_r = va->keys.kind[k];
				return 1;
			}
		}
	return 0;
}

/* valias_find - one lookup in Postfix key order */
int valias_find(struct valias *va, const char *addr, const char **value_r, const char **error_r)
{
	enum addr_match_kind kind;

	return find_kind(va, addr, value_r, &kind, error_r);
}

/* lower_dup - lower-cased copy (the de-duplication and comparison key) */
static char *lower_dup(const char *s)
{
	char *l = xstrdup(s);

	str_lower_ascii(l, strlen(l));
	return l;
}

/* emit - append a final address to the list unless it is there */
static void emit(struct walk *w, const char *addr)
{
	struct valias_list *l = w->out;
	char *key = lower_dup(addr);

	if (l->seen == NULL)
		l->seen = htab_new(16, NULL);
	if (!htab_has(l->seen, key)) {
		htab_put(l->seen, key, NULL);
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 8;
			l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		}
		l->v[l->n].address = xstrdup(addr);
		l->v[l->n].original = xstrdup(w->rcpt);
		l->n++;
	}
	free(key);
}

/* result_next - the next address of a table result: comma/space separated, quotes kept, <> dropped */
static bool result_next(struct slice *rest, struct buf *addr)
{
	const char *p = rest->p, *end = rest->p + rest->n;
	bool quoted = false;

	buf_reset(addr);
	while (p < end && (*p == ',' || ascii_isspace(*p)))
		p++;
	if (p == end) {
		*rest = slice_make(end, 0);
		return false;
	}
	for (; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\\' && quoted && p + 1 < end) {
			buf_putc(addr, *p++);
		} else if (!quoted && (*p == ',' || ascii_isspace(*p)))
			break;
		else if (!quoted && (*p == '<' || *p == '>'))
			continue;
		buf_putc(addr, *p);
	}
	*rest = slice_make(p, (size_t)(end - p));
	return true;
}

/*
 * rewrite_result - one result address as Postfix canonicalises it: "@dom"
 * takes the looked-up user (without extension), a bare user gets @origin,
 * and the unmatched extension is inserted before the '@' when propagated.
 */
static void rewrite_result(struct valias *va, const char *looked_up, const char *found_ext,
			   const char *ext, char delim, struct buf *a)
{
	struct buf out = BUF_INIT(0);
	const char *s = buf_cstr(a), *at;

	if (s[0] == '@') {
		const char *lat = strrchr(looked_up, '@');
		size_t ln = lat ? (size_t)(lat - looked_up) : strlen(looked_up);

		if (found_ext != NULL)
			ln -= strlen(found_ext) + 1;
		buf_append(&out, looked_up, ln);
		buf_puts(&out, s);
	} else {
		buf_puts(&out, s);
		if (strchr(s, '@') == NULL && *va->origin != '\0')
			buf_printf(&out, "@%s", va->origin);
	}
	if (ext != NULL) {
		s = buf_cstr(&out);
		at = strrchr(s, '@');
		buf_reset(a);
		buf_append(a, s, at ? (size_t)(at - s) : strlen(s));
		buf_putc(a, delim);
		buf_puts(a, ext);
		if (at)
			buf_puts(a, at);
	} else {
		buf_reset(a);
		buf_puts(a, buf_cstr(&out));
	}
	buf_free(&out);
}

/* walk_fail - format a walk error into va->err */
static int walk_fail(struct walk *w, const char *fmt, const char *a)
{
	snprintf(w->va->err, sizeof(w->va->err), fmt, a);
	return -1;
}

/*
 * endless - is addr above the current address, with no self-reference found
 * since it was entered? Then walking it again repeats the same steps forever
 * (Postfix would walk it until the recursion limit). When a self-reference
 * was found meanwhile, Postfix's walk may end there, so it is walked again.
 */
static bool endless(const struct walk *w, const char *addr)
{
	size_t i;

	for (i = 0; i < w->depth; i++)
		if (str_casecmp_ascii(w->chain[i], addr) == 0 && w->chain_self[i] == htab_count(w->self))
			return true;
	return false;
}

/* loop_error - "virtual_alias_maps loop: a -> b -> a" */
static int loop_error(struct walk *w, const char *addr)
{
	struct buf b = BUF_INIT(sizeof(w->va->err) - 1);
	size_t i;

	buf_puts(&b, "virtual_alias_maps loop:");
	for (i = 0; i < w->depth; i++)
		buf_printf(&b, " %s ->", w->chain[i]);
	buf_printf(&b, " %s", addr);
	snprintf(w->va->err, sizeof(w->va->err), "%s", buf_cstr(&b));
	buf_free(&b);
	return -1;
}

/* expand - walk addr: 1 aliased, 0 final, -1 error (va->err set) */
static int expand(struct walk *w, const char *addr)
{
	struct valias *va = w->va;
	const char *value, *err;
	char *ext = NULL, *found_ext = NULL;
	enum addr_match_kind kind = ADDR_MATCH_NONE;
	char delim = '+', *saved_value, *self_key;
	struct buf a = BUF_INIT(0);
	struct slice rest;
	size_t nres = 0, i;
	int rc;

	if (w->depth >= va->recursion_limit)
		return walk_fail(w, "unreasonable virtual_alias_maps map nesting for %s", w->rcpt);
	rc = find_kind(va, addr, &value, &kind, &err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		emit(w, addr);
		return 0;
	}
	/* the unmatched extension, the delimiter the address used, and whether to propagate it */
	if (kind != ADDR_MATCH_FULL && va->keys.extension != NULL) {
		for (i = 0; i < va->keys.n; i++)
			if (va->keys.kind[i] == ADDR_MATCH_NOEXT) {
				const char *at = strrchr(va->keys.key[i], '@');

				delim = addr[at ? (size_t)(at - va->keys.key[i]) : strlen(va->keys.key[i])];
			}
		found_ext = xstrdup(va->keys.extension);
		if (va->propagate_ext)
			ext = found_ext;
	}
	saved_value = xstrdup(value); /* the next lookup overwrites value */
	w->chain_self[w->depth] = htab_count(w->self);
	w->chain[w->depth++] = addr;
	rest = slice_cstr(saved_value);
	rc = 1;
	while (rc >= 0 && result_next(&rest, &a)) {
		char *r;

		if (a.len == 0)
			continue;
		rewrite_result(va, addr, found_ext, ext, delim, &a);
		if (a.len > VALIAS_ADDR_MAX)
			continue; /* Postfix skips (and logs) it */
		r = xstrdup(buf_cstr(&a));
		if (++nres > 1 && ++w->slots > va->expansion_limit)
			rc = walk_fail(w, "unreasonable virtual_alias_maps map expansion size for %s", w->rcpt);
		else if (str_casecmp_ascii(r, addr) == 0) {
			/* self-reference: final here and wherever it is met again */
			self_key = lower_dup(r);
			htab_put(w->self, self_key, NULL);
			free(self_key);
			emit(w, r);
		} else {
			self_key = lower_dup(r);
			if (htab_has(w->self, self_key))
				emit(w, r);
			else if (endless(w, r))
				rc = loop_error(w, r);
			else if (expand(w, r) < 0)
				rc = -1;
			free(self_key);
		}
		free(r);
	}
	w->depth--;
	free(saved_value);
	free(found_ext);
	buf_free(&a);
	return rc;
}

/* valias_expand - expand one recipient into the result list */
int valias_expand(struct valias *va, const char *rcpt, struct valias_list *out, const char **error_r)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.va = va;
	w.rcpt = rcpt;
	w.out = out;
	w.first_new = out->n;
	w.self = htab_new(8, NULL);
	w.chain = xcalloc(va->recursion_limit + 1, sizeof(*w.chain));
	w.chain_self = xcalloc(va->recursion_limit + 1, sizeof(*w.chain_self));
	w.slots = 1;
	rc = expand(&w, rcpt);
	if (rc < 0) {
		/* undo: out is unchanged on failure */
		while (out->n > w.first_new) {
			char *key = lower_dup(out->v[--out->n].address);

			htab_remove(out->seen, key);
			free(key);
			free(out->v[out->n].address);
			free(out->v[out->n].original);
		}
		*error_r = va->err;
	}
	htab_free(&w.self);
	free(w.chain);
	free(w.chain_self);
	return rc;
}
