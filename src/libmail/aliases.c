/*
 * aliases.c - alias value parsing and expansion for local delivery, mailbox paths
 *
 * Runs in:  local (delivery), smtpd (alias_default_absent at RCPT)
 * API:      see aliases.h
 * Tests:    tests/unit/test_aliases.c
 * Refs:     aliases(5), local(8)
 */
#include "libmail/aliases.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/addr_lookup.h"

#define ALIAS_DEFAULT_SPEC "hash:/etc/aliases"

struct expand {
	const struct alias_hooks *h;
	const char *delims;
	struct alias_list *out;
	char **chain; /* names being expanded, outermost first */
	size_t depth;
	char **done;  /* every name expanded so far: each is expanded once (linear time) */
	size_t n_done;
	char err[512];
};

/* item_kind - the kind of one destination text */
static enum alias_dest_kind item_kind(const char *t)
{
	if (t[0] == '|')
		return ALIAS_DEST_COMMAND;
	if (t[0] == '/')
		return ALIAS_DEST_FILE;
	if (strncasecmp(t, ":include:", 9) == 0)
		return ALIAS_DEST_INCLUDE;
	return ALIAS_DEST_USER;
}

/* alias_items_free - release parsed items */
void alias_items_free(struct alias_item **items, size_t n)
{
	size_t i;

	if (*items == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*items)[i].text);
	free(*items);
	*items = NULL;
}

/* alias_parse_value - comma list with quoted elements, scanned left to right */
int alias_parse_value(const char *value, struct alias_item **items_r, size_t *n_r, const char **error_r)
{
	const char *p = value;
	struct alias_item *v = NULL;
	size_t n = 0;

	*items_r = NULL;
	*n_r = 0;
	for (;;) {
		struct buf one = BUF_INIT(0);
		bool quoted = false, any = false;

		while (*p && (ascii_isspace(*p) || *p == ','))
			p++;
		if (!*p)
			break;
		/* one element: up to an unquoted comma; quotes are removed, blanks outside quotes end nothing */
		while (*p && (quoted || *p != ',')) {
			if (*p == '"') {
				quoted = !quoted;
				any = true;
			} else if (*p == '\\' && quoted && p[1]) {
				buf_putc(&one, p[1]);
				p++;
			} else {
				buf_putc(&one, *p);
			}
			p++;
		}
		if (quoted) {
			buf_free(&one);
			alias_items_free(&v, n);
			*error_r = "unbalanced double quote";
			return -1;
		}
		/* trailing blanks of an unquoted element */
		while (one.len && ascii_isspace(one.data[one.len - 1]) && !any)
			one.len--;
		if (one.len == 0) {
			buf_free(&one);
			continue;
		}
		{
			char *t = xstrndup(buf_cstr(&one), one.len);
			size_t tl = strlen(t);

			/* <user@domain> */
			if (tl >= 2 && t[0] == '<' && t[tl - 1] == '>') {
				memmove(t, t + 1, tl - 2);
				t[tl - 2] = '\0';
			}
			if (*t == '\0') { /* "<>" names nobody */
				free(t);
				buf_free(&one);
				continue;
			}
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n].kind = item_kind(t);
			v[n].text = t;
			n++;
		}
		buf_free(&one);
	}
	if (n == 0) {
		*error_r = "empty alias value";
		return -1;
	}
	*items_r = v;
	*n_r = n;
	return 0;
}

/* alias_list_free - release a result */
void alias_list_free(struct alias_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].via);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* add_dest - append a destination unless already there; -1 past the limit */
static int add_dest(struct expand *x, enum alias_dest_kind kind, const char *text, const char *via)
{
	struct alias_list *l = x->out;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].kind == kind && strcmp(l->v[i].text, text) == 0)
			return 0;
	if (l->n >= ALIAS_EXPANSION_MAX) {
		snprintf(x->err, sizeof(x->err), "alias_maps: more than %d destinations", ALIAS_EXPANSION_MAX);
		return -1;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].kind = kind;
	l->v[l->n].text = xstrdup(text);
	l->v[l->n].via = via ? xstrdup(via) : NULL;
	l->n++;
	return 0;
}

/* in_chain - is name being expanded already? */
static bool in_chain(const struct expand *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->depth; i++)
		if (strcmp(x->chain[i], name) == 0)
			return true;
	return false;
}

/* was_expanded - was name expanded already (its destinations are in the list)? */
static bool was_expanded(const struct expand *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->n_done; i++)
		if (strcmp(x->done[i], name) == 0)
			return true;
	return false;
}

static int expand_name(struct expand *x, const char *name, const char *via);

/* expand_value - the destinations of one alias value */
static int expand_value(struct expand *x, const char *alias, const char *value)
{
	struct alias_item *items;
	size_t n, i;
	const char *err;
	int rc = 0;

	if (alias_parse_value(value, &items, &n, &err) < 0) {
		snprintf(x->err, sizeof(x->err), "alias_maps: bad value for \"%s\": %s", alias, err);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		char *t = items[i].text, *local = NULL;

		str_lower_ascii(t, strlen(t));
		if (items[i].kind != ALIAS_DEST_USER) {
			rc = add_dest(x, items[i].kind, t, alias);
			continue;
		}
		if (strchr(t, '@') != NULL) {
			int r = x->h->classify(x->h->ctx, t, &local, &err);

			if (r < 0) {
				snprintf(x->err, sizeof(x->err), "%s", err);
				rc = -1;
				continue;
			}
			if (r == 0) {
				rc = add_dest(x, ALIAS_DEST_REMOTE, t, alias);
				continue;
			}
			str_lower_ascii(local, strlen(local));
		}
		if (in_chain(x, local ? local : t))
			rc = add_dest(x, ALIAS_DEST_USER, local ? local : t, alias);
		else if (!was_expanded(x, local ? local : t))
			rc = expand_name(x, local ? local : t, alias);
		free(local);
	}
	alias_items_free(&items, n);
	return rc;
}

/* expand_name - look one local name up; expand its value or deliver to its mailbox */
static int expand_name(struct expand *x, const char *name, const char *via)
{
	struct addr_keys k;
	const char *err;
	char *value = NULL, *found = NULL;
	size_t i;
	int rc = 0;

	if (x->depth >= ALIAS_DEPTH_MAX) {
		snprintf(x->err, sizeof(x->err), "alias_maps: unreasonable alias nesting for \"%s\"", name);
		return -1;
	}
	if (x->n_done >= ALIAS_EXPANSION_MAX) {
		snprintf(x->err, sizeof(x->err), "alias_maps: more than %d names expanded", ALIAS_EXPANSION_MAX);
		return -1;
	}
	x->done = xreallocarray(x->done, x->n_done + 1, sizeof(*x->done));
	x->done[x->n_done++] = xstrdup(name);
	addr_lookup_keys(name, x->delims, &k);
	for (i = 0; i < k.n && rc == 0; i++) {
		rc = x->h->lookup(x->h->ctx, k.key[i], &value, &err);
		if (rc > 0)
			found = k.key[i];
	}
	if (rc < 0) {
		snprintf(x->err, sizeof(x->err), "%s", err);
	} else if (rc == 0) {
		/* no alias: the mailbox of the name without its extension */
		rc = add_dest(x, ALIAS_DEST_USER, k.key[k.n - 1], via);
	} else {
		x->chain[x->depth++] = found;
		rc = expand_value(x, found, value);
		x->depth--;
	}
	free(value);
	addr_keys_free(&k);
	return rc;
}

/* alias_expand - expand a local name into its final destinations */
int alias_expand(const struct alias_hooks *h, const char *user, const char *delims, struct alias_list *out,
		 const char **error_r)
{
	static char err[512];
	struct expand x;
	char *name = xstrdup(user);
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	x.h = h;
	x.delims = delims;
	x.out = out;
	x.chain = xcalloc(ALIAS_DEPTH_MAX, sizeof(*x.chain));
	str_lower_ascii(name, strlen(name));
	rc = expand_name(&x, name, NULL);
	if (rc < 0) {
		snprintf(err, sizeof(err), "%s", x.err);
		*error_r = err;
		alias_list_free(out);
	}
	while (x.n_done > 0)
		free(x.done[--x.n_done]);
	free(x.done);
	free(x.chain);
	free(name);
	return rc < 0 ? -1 : 0;
}

/* alias_mailbox_path - home/home_mailbox or spool/user */
int alias_mailbox_path(struct buf *out, const char *home_mailbox, const char *home, const char *spool,
		       const char *user)
{
	int rc;

	buf_reset(out);
	if (home_mailbox && *home_mailbox)
		rc = buf_printf(out, "%s%s%s", home, home[0] && home[strlen(home) - 1] == '/' ? "" : "/",
				home_mailbox);
	else
		rc = buf_printf(out, "%s%s%s", spool, spool[0] && spool[strlen(spool) - 1] == '/' ? "" : "/", user);
	if (rc < 0 || out->len == 0 || out->data[0] != '/')
		return -1;
	return 0;
}

/* alias_default_absent - the untouched default table on a system without aliases */
bool alias_default_absent(struct config *cfg, const char *spec)
{
	struct stat st;

	if (strcmp(spec, ALIAS_DEFAULT_SPEC) != 0 || config_is_set(cfg, "alias_maps"))
		return false;
	if (stat("/etc/aliases", &st) == 0 || errno != ENOENT)
		return false;
	if (stat("/etc/aliases.db", &st) == 0 || errno != ENOENT)
		return false;
	return true;
}
