/*
 * netmatch.c - compiled Postfix match lists: mynetworks-style and domain-list-style
 *
 * Runs in:  smtpd, routing, postern check (see netmatch.h)
 * API:      netmatch_*(), domainlist_*(), match_parent_style(), host_table_match()
 * Tests:    tests/unit/test_netmatch.c
 * Refs:     Postfix util/match_list.c, util/match_ops.c; postconf(5)
 *
 * One internal list type serves both public types: an array of entries, each
 * a network, a host/domain pattern or an open table, with a negation flag.
 * /file/name entries are expanded into the array at compile time.
 */
#include "libmail/netmatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/slice.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/cidr.h"
#include "libmail/config_check.h"
#include "libmail/dict.h"

enum entry_kind { ENTRY_NET, ENTRY_NAME, ENTRY_TABLE };

struct entry {
	enum entry_kind kind;
	bool negate;
	struct cidr net;    /* ENTRY_NET */
	char *name;         /* ENTRY_NAME: lower-cased pattern */
	struct dict *dict;  /* ENTRY_TABLE */
};

struct matchlist {
	char *param;
	bool parent;
	bool net;           /* netmatch (addresses and names) vs domainlist (names only) */
	struct entry *v;
	size_t n, cap;
	char err[512];      /* text of the last match error */
};

struct netmatch {
	struct matchlist l;
};

struct domainlist {
	struct matchlist l;
};

static char compile_err[1024];

/* list_free - release the entries of l */
static void list_free(struct matchlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		dict_close(&l->v[i].dict);
	}
	free(l->v);
	free(l->param);
	memset(l, 0, sizeof(*l));
}

/* list_push - append an entry and return it (zeroed) */
static struct entry *list_push(struct matchlist *l, enum entry_kind kind, bool negate)
{
	struct entry *e;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->negate = negate;
	return e;
}

static int add_item(struct matchlist *l, const char *item, bool negate, match_read_fn *rd, int depth,
		    const char *where);

/* add_file - read path and add each of its entries */
static int add_file(struct matchlist *l, const char *path, bool negate, match_read_fn *rd, int depth)
{
	char *text, *item;
	size_t len;
	struct slice rest, line, tok;
	int rc = 0;

	if (depth >= MATCH_FILE_DEPTH_MAX) {
		snprintf(compile_err, sizeof(compile_err), "%s: file %s: files nested too deeply", l->param,
			 path);
		return -1;
	}
	if (rd(path, &text, &len) < 0) {
		snprintf(compile_err, sizeof(compile_err), "%s: cannot read %s: %s", l->param, path,
			 strerror(errno));
		return -1;
	}
	rest = slice_make(text, len);
	while (rc == 0 && rest.n > 0) {
		long nl = slice_chr(rest, '\n');

		line = nl < 0 ? rest : slice_sub(rest, 0, (size_t)nl);
		rest = nl < 0 ? slice_make(rest.p + rest.n, 0) : slice_sub(rest, (size_t)nl + 1, rest.n);
		line = slice_trim(line);
		if (line.n == 0 || line.p[0] == '#')
			continue;
		while (rc == 0 && slice_next_token(&line, " \t\r,", &tok)) {
			item = xmemdup(tok.p, tok.n);
			rc = add_item(l, item, negate, rd, depth + 1, path);
			free(item);
		}
	}
	free(text);
	return rc;
}

/* add_item - compile one entry ("!" prefix, file, table, network or name) */
static int add_item(struct matchlist *l, const char *item, bool negate, match_read_fn *rd, int depth,
		    const char *where)
{
	const char *err;
	struct entry *e;
	struct dict *d;

	while (*item == '!') {
		negate = !negate;
		item++;
	}
	if (*item == '\0') {
		snprintf(compile_err, sizeof(compile_err), "%s: empty entry after \"!\"%s%s", l->param,
			 where ? " in " : "", where ? where : "");
		return -1;
	}
	if (*item == '/')
		return add_file(l, item, negate, rd, depth);
	if (dict_is_spec(item)) {
		d = dict_open(item, DICT_FLAGS_DEFAULT, &err);
		if (d == NULL) {
			snprintf(compile_err, sizeof(compile_err), "%s: %s", l->param, err);
			return -1;
		}
		list_push(l, ENTRY_TABLE, negate)->dict = d;
		return 0;
	}
	if (l->net && check_network_item(item, l->param, NULL, 0, NULL) == NET_ITEM_NETWORK) {
		struct cidr c;

		if (cidr_parse(item, strlen(item), &c, &err) < 0) {
			snprintf(compile_err, sizeof(compile_err), "%s: bad network \"%s\"%s%s: %s", l->param,
				 item, where ? " in " : "", where ? where : "", err);
			return -1;
		}
		list_push(l, ENTRY_NET, negate)->net = c;
		return 0;
	}
	e = list_push(l, ENTRY_NAME, negate);
	e->name = xstrdup(item);
	str_lower_ascii(e->name, strlen(e->name));
	return 0;
}

/* list_compile - fill l from items; 0, or -1 with compile_err set (l freed) */
static int list_compile(struct matchlist *l, const char *param, const char *const *items, size_t n,
			bool parent, bool net, match_read_fn *rd)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	l->param = xstrdup(param);
	l->parent = parent;
	l->net = net;
	if (rd == NULL)
		rd = config_read_file;
	for (i = 0; i < n; i++)
		if (add_item(l, items[i], false, rd, 0, NULL) < 0) {
			list_free(l);
			return -1;
		}
	return 0;
}

/* name_match - Postfix match_hostname() for one pattern (pattern lower-case) */
static bool name_match(const char *name, const char *pattern, bool parent)
{
	size_t nl = strlen(name), pl = strlen(pattern);
	const char *pd;

	if (str_casecmp_ascii(name, pattern) == 0)
		return true;
	if (pl >= nl)
		return false;
	pd = name + nl - pl;
	if (parent)
		return pd[-1] == '.' && str_casecmp_ascii(pd, pattern) == 0;
	return pattern[0] == '.' && str_casecmp_ascii(pd, pattern) == 0;
}

/* host_table_match - name, then parent domains, in d */
int host_table_match(struct dict *d, const char *name, bool parent, const char **value_r,
		     const char **error_r)
{
	char *lower = xstrdup(name);
	const char *entry, *next;
	int rc = 0;

	str_lower_ascii(lower, strlen(lower));
	for (entry = lower; *entry != '\0'; entry = next) {
		rc = dict_lookup(d, entry, value_r, error_r);
		if (rc != 0)
			break;
		if ((next = strchr(entry + 1, '.')) == NULL)
			break;
		if (parent)
			next++;
	}
	free(lower);
	return rc;
}

/* set_err - keep a match error in l and point *error_r at it */
static int set_err(struct matchlist *l, const char *err, const char **error_r)
{
	snprintf(l->err, sizeof(l->err), "%s: %s", l->param, err);
	*error_r = l->err;
	return MATCH_ERROR;
}

/*
 * list_match - first matching entry decides. ip may be NULL (domain lists) or
 * not an address; name may be NULL.
 */
static int list_match(struct matchlist *l, const char *ip_text, const char *name, const char **error_r)
{
	struct ip_addr ip;
	bool have_ip = false;
	const char *value, *err;
	char key[64];
	size_t i, n;
	int rc;

	if (ip_text != NULL) {
		/* the table key is the bare address text: "[::1]" is looked up as "::1" */
		n = strlen(ip_text);
		if (n >= 2 && ip_text[0] == '[' && ip_text[n - 1] == ']') {
			ip_text++;
			n -= 2;
		}
		if (n < sizeof(key) && ip_addr_parse(ip_text, n, &ip, &err) == 0) {
			memcpy(key, ip_text, n);
			key[n] = '\0';
			have_ip = true;
		}
	}
	/* Postfix's name for a client without a (verified) host name */
	if (l->net && name != NULL && (*name == '\0' || str_casecmp_ascii(name, "unknown") == 0))
		name = NULL;
	for (i = 0; i < l->n; i++) {
		const struct entry *e = &l->v[i];
		bool hit = false;

		switch (e->kind) {
		case ENTRY_NET:
			hit = have_ip && cidr_match(&e->net, &ip);
			break;
		case ENTRY_NAME:
			hit = name != NULL && name_match(name, e->name, l->parent);
			break;
		case ENTRY_TABLE:
			if (have_ip) {
				rc = dict_lookup(e->dict, key, &value, &err);
				if (rc < 0)
					return set_err(l, err, error_r);
				hit = rc > 0;
			}
			if (!hit && name != NULL) {
				rc = host_table_match(e->dict, name, l->parent, &value, &err);
				if (rc < 0)
					return set_err(l, err, error_r);
				hit = rc > 0;
			}
			break;
		}
		if (hit)
			return e->negate ? MATCH_NO : MATCH_YES;
	}
	return MATCH_NO;
}

/* match_parent_style - is name listed in parent_domain_matches_subdomains? */
bool match_parent_style(struct config *cfg, const char *name)
{
	const char *const *items, *err;
	size_t n, i;

	if (config_get_list(cfg, "parent_domain_matches_subdomains", &items, &n, &err) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(items[i], name) == 0)
			return true;
	return false;
}

/* netmatch_compile - compile a mynetworks-style list */
struct netmatch *netmatch_compile(const char *param, const char *const *items, size_t n, bool parent,
				  match_read_fn *read, const char **error_r)
{
	struct netmatch *m = xcalloc(1, sizeof(*m));

	if (list_compile(&m->l, param, items, n, parent, true, read) < 0) {
		free(m);
		*error_r = compile_err;
		return NULL;
	}
	return m;
}

/* config_items - the items of list parameter param, or NULL with *error_r */
static const char *const *config_items(struct config *cfg, const char *param, size_t *n,
				       const char **error_r)
{
	const char *const *items;

	if (config_get_list(cfg, param, &items, n, error_r) < 0)
		return NULL;
	return items;
}

/* netmatch_from_config - compile a list parameter of cfg as a network list */
struct netmatch *netmatch_from_config(struct config *cfg, const char *param, match_read_fn *read,
				      const char **error_r)
{
	const char *const *items;
	size_t n;

	if ((items = config_items(cfg, param, &n, error_r)) == NULL)
		return NULL;
	return netmatch_compile(param, items, n, match_parent_style(cfg, param), read, error_r);
}

/* netmatch_match - match a client address */
int netmatch_match(struct netmatch *m, const char *client_ip, const char **error_r)
{
	return list_match(&m->l, client_ip, NULL, error_r);
}

/* netmatch_match_client - match a client address and host name */
int netmatch_match_client(struct netmatch *m, const char *client_ip, const char *client_name,
			  const char **error_r)
{
	return list_match(&m->l, client_ip, client_name, error_r);
}

/* netmatch_free - release a network list */
void netmatch_free(struct netmatch **mp)
{
	if (*mp == NULL)
		return;
	list_free(&(*mp)->l);
	xfree(mp);
}

/* domainlist_compile - compile a domain list */
struct domainlist *domainlist_compile(const char *param, const char *const *items, size_t n, bool parent,
				      match_read_fn *read, const char **error_r)
{
	struct domainlist *l = xcalloc(1, sizeof(*l));

	if (list_compile(&l->l, param, items, n, parent, false, read) < 0) {
		free(l);
		*error_r = compile_err;
		return NULL;
	}
	return l;
}

/* domainlist_from_config - compile a list parameter of cfg as a domain list */
struct domainlist *domainlist_from_config(struct config *cfg, const char *param, match_read_fn *read,
					  const char **error_r)
{
	const char *const *items;
	size_t n;

	if ((items = config_items(cfg, param, &n, error_r)) == NULL)
		return NULL;
	return domainlist_compile(param, items, n, match_parent_style(cfg, param), read, error_r);
}

/* domainlist_match - match a domain */
int domainlist_match(struct domainlist *l, const char *domain, const char **error_r)
{
	if (domain == NULL || *domain == '\0')
		return MATCH_NO;
	return list_match(&l->l, NULL, domain, error_r);
}

/* domainlist_empty - has the list no entries? */
bool domainlist_empty(const struct domainlist *l)
{
	return l->l.n == 0;
}

/* domainlist_free - release a domain list */
void domainlist_free(struct domainlist **lp)
{
	if (*lp == NULL)
		return;
	list_free(&(*lp)->l);
	xfree(lp);
}
