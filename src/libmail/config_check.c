/*
 * config_check.c - cross-parameter rules of main.cf (domain overlaps, open relay)
 *
 * API:      see config_check.h
 * Tests:    tests/e2e/test_check.py, tests/unit/test_config_check.c
 * Refs:     Postfix VIRTUAL_README ("do not list a domain in BOTH ..."),
 *           postconf(5) mynetworks
 */
#include "libmail/config_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/cidr.h"
#include "libmail/dict.h"

/* where - file and line of name's explicit setting (or the file alone) */
static const char *where(struct config *cfg, const char *name, int *line_r)
{
	const char *file = config_where(cfg, name, line_r);

	if (file == NULL)
		*line_r = 0;
	return file;
}

/* domain_in - is domain (case-insensitive) an item of list? */
static bool domain_in(const char *const *list, const char *domain)
{
	for (; *list; list++)
		if (str_casecmp_ascii(*list, domain) == 0)
			return true;
	return false;
}

/* check_overlap - report every domain of param b that is also in param a */
static int check_overlap(struct config *cfg, const char *a, const char *b, const char *fix_fmt,
			 struct diag_list *diags)
{
	const char *const *la, *const *lb;
	size_t na, nb, i;
	const char *err, *file;
	char **copy;
	int line, errors = 0;

	if (config_get_list(cfg, a, &la, &na, &err) < 0)
		return 0; /* expansion errors are reported by config_validate() */
	/* copy a's items: the next config_get_list() may reuse its storage */
	copy = xcalloc(na + 1, sizeof(*copy));
	for (i = 0; i < na; i++)
		copy[i] = xstrdup(la[i]);
	if (config_get_list(cfg, b, &lb, &nb, &err) < 0)
		nb = 0;
	file = where(cfg, b, &line);
	if (file == NULL)
		file = where(cfg, a, &line);
	for (i = 0; i < nb; i++) {
		char fix[512];

		if (dict_is_spec(lb[i]) || !domain_in((const char *const *)copy, lb[i]))
			continue;
		snprintf(fix, sizeof(fix), fix_fmt, lb[i]);
		diag_add(diags, DIAG_ERROR, file, line, fix, "do not list domain %s in BOTH %s and %s", lb[i],
			 a, b);
		errors++;
	}
	for (i = 0; i < na; i++)
		free(copy[i]);
	free(copy);
	return errors;
}

enum net_item_kind check_network_item(const char *item, const char *param, const char *file, int line,
				      struct diag_list *diags)
{
	const char *p = item, *err;
	bool negated = false;
	struct cidr c;

	if (*p == '!') {
		negated = true;
		p++;
	}
	if (*p == '/')
		return NET_ITEM_FILE;
	if (dict_is_spec(p))
		return NET_ITEM_TABLE;
	/* an address or network: digits and dots, or IPv6 (in brackets or with ':') */
	if (!(*p == '[' || strchr(p, ':') || strchr(p, '/') || ascii_isdigit(*p)))
		return NET_ITEM_HOSTNAME;
	if (ascii_isdigit(*p) && !strchr(p, '/') && !strchr(p, ':')) {
		const char *q;

		for (q = p; *q && (ascii_isdigit(*q) || *q == '.'); q++)
			;
		if (*q) /* "1and1.example": a host name that starts with a digit */
			return NET_ITEM_HOSTNAME;
	}
	if (cidr_parse(p, strlen(p), &c, &err) < 0) {
		diag_add(diags, DIAG_ERROR, file, line, "write a network as address/prefix, e.g. 192.168.0.0/16",
			 "%s: bad network \"%s\": %s", param, item, err);
		return NET_ITEM_NETWORK;
	}
	if (!negated && cidr_is_everything(&c))
		diag_add(diags, DIAG_ERROR, file, line,
			 "list only the networks of your own clients, e.g. 127.0.0.0/8 192.168.1.0/24",
			 "%s entry %s matches every address: this makes the server an open relay", param,
			 item);
	return NET_ITEM_NETWORK;
}

int config_check(struct config *cfg, struct diag_list *diags)
{
	size_t before = diags ? diags->n_error : 0, n, i;
	const char *const *items, *err, *file;
	int line;

	check_overlap(cfg, "mydestination", "virtual_mailbox_domains",
		      "remove %s from mydestination: virtual mailbox domains are delivered by the virtual agent",
		      diags);
	check_overlap(cfg, "mydestination", "virtual_alias_domains",
		      "remove %s from mydestination: alias domains must not be local", diags);
	check_overlap(cfg, "virtual_alias_domains", "virtual_mailbox_domains",
		      "remove %s from virtual_alias_domains: it already has mailboxes", diags);

	if (config_get_list(cfg, "mynetworks", &items, &n, &err) == 0) {
		file = where(cfg, "mynetworks", &line);
		for (i = 0; i < n; i++)
			check_network_item(items[i], "mynetworks", file, line, diags);
	}
	return diags ? (int)(diags->n_error - before) : 0;
}
