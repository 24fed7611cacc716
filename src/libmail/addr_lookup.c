/*
 * addr_lookup.c - Postfix's address lookup order: user+ext@domain, user@domain, @domain
 *
 * Runs in:  delivery and recipient validation (later issues)
 * API:      addr_lookup_keys(), addr_lookup()   -- see addr_lookup.h
 * Tests:    tests/unit/test_addr_lookup.c
 * Refs:     virtual(5), Postfix global/split_addr.c
 */
#include "libmail/addr_lookup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "lib/xalloc.h"

/* ci_eq - local part of n bytes equals the (lower-case) word? */
static bool ci_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* ext_offset - where the extension delimiter is in the local part, or 0 for "do not split" */
static size_t ext_offset(const char *local, size_t n, const char *delims)
{
	size_t i;

	if (delims == NULL || *delims == '\0')
		return 0;
	/* reserved names are never split (the local part is already lower-case) */
	if (ci_eq(local, n, "postmaster") || ci_eq(local, n, "mailer-daemon")
	    || ci_eq(local, n, "double-bounce"))
		return 0;
	if (strchr(delims, '-') != NULL) {
		if (n >= 6 && memcmp(local, "owner-", 6) == 0)
			return 0;
		if (n > 8 && memcmp(local + n - 8, "-request", 8) == 0)
			return 0;
	}
	for (i = 0; i < n; i++)
		if (local[i] != '\0' && strchr(delims, local[i]) != NULL)
			break;
	/* no delimiter, or a delimiter first (empty local part): no split */
	return i == n ? 0 : i;
}

/* add_key - append a key unless it equals the previous one */
static void add_key(struct addr_keys *k, char *key, enum addr_match_kind kind)
{
	if (k->n > 0 && strcmp(k->key[k->n - 1], key) == 0) {
		free(key);
		return;
	}
	k->key[k->n] = key;
	k->kind[k->n] = kind;
	k->n++;
}

/* addr_lookup_keys - build the lookup keys in order */
void addr_lookup_keys(const char *addr, const char *delims, struct addr_keys *k)
{
	size_t n = strlen(addr), local_n, ext;
	char *a = xmemdup(addr, n);
	const char *at;
	char *noext;
	size_t dn;

	memset(k, 0, sizeof(*k));
	str_lower_ascii(a, n);
	at = strrchr(a, '@');
	local_n = at ? (size_t)(at - a) : n;
	ext = ext_offset(a, local_n, delims);
	if (ext > 0)
		k->extension = xmemdup(a + ext + 1, local_n - ext - 1);
	add_key(k, xstrdup(a), ADDR_MATCH_FULL);
	if (ext > 0) {
		dn = at ? strlen(at) : 0;
		noext = xmalloc(ext + dn + 1);
		memcpy(noext, a, ext);
		if (dn)
			memcpy(noext + ext, at, dn);
		noext[ext + dn] = '\0';
		add_key(k, noext, ADDR_MATCH_NOEXT);
	}
	if (at != NULL && at[1] != '\0')
		add_key(k, xstrdup(at), ADDR_MATCH_CATCHALL);
	free(a);
}

/* addr_keys_free - free the key strings */
void addr_keys_free(struct addr_keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		xfree(&k->key[i]);
	xfree(&k->extension);
	k->n = 0;
}

/* addr_lookup - first key found wins; a table error stops the search */
int addr_lookup(struct dict *d, const char *addr, const char *delims, struct addr_match *m,
		const char **error_r)
{
	size_t i;
	int rc;

	memset(m, 0, sizeof(*m));
	addr_lookup_keys(addr, delims, &m->keys);
	m->extension = m->keys.extension;
	for (i = 0; i < m->keys.n; i++) {
		rc = dict_lookup(d, m->keys.key[i], &m->value, error_r);
		if (rc < 0) {
			m->value = NULL;
			return -1;
		}
		if (rc > 0) {
			m->kind = m->keys.kind[i];
			m->key = m->keys.key[i];
			return 1;
		}
	}
	m->value = NULL;
	return 0;
}

/* addr_match_free - release the keys */
void addr_match_free(struct addr_match *m)
{
	addr_keys_free(&m->keys);
	m->key = NULL;
	m->value = NULL;
	m->extension = NULL;
}
