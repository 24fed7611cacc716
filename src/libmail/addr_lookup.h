/*
 * addr_lookup.h - look an email address up in a table in Postfix's order
 *
 * virtual(5), "ADDRESS EXTENSION": for user+ext@domain with recipient_delimiter
 * "+" the keys tried are
 *     user+ext@domain    (ADDR_MATCH_FULL)
 *     user@domain        (ADDR_MATCH_NOEXT, only when there is an extension)
 *     @domain            (ADDR_MATCH_CATCHALL)
 * All keys are lower-cased (ASCII). The delimiter may be a set of characters
 * (Postfix >= 2.11): the local part is split at the first of any of them. As
 * Postfix's split_addr(), an address is not split when the split would leave
 * an empty local part, nor for postmaster, mailer-daemon and double-bounce,
 * nor (when '-' is a delimiter) for owner-* and *-request. An address without
 * '@' gives "user+ext", then "user". The domain is what follows the last '@'.
 *
 * Pure except for the dict_lookup() calls.
 * Tests:    tests/unit/test_addr_lookup.c
 * Refs:     virtual(5), postconf(5) recipient_delimiter, Postfix global/split_addr.c
 */
#ifndef POSTERN_ADDR_LOOKUP_H
#define POSTERN_ADDR_LOOKUP_H

#include <stddef.h>

#include "libmail/dict.h"

enum addr_match_kind {
	ADDR_MATCH_NONE = 0,
	ADDR_MATCH_FULL,     /* the address as given (with its extension) */
	ADDR_MATCH_NOEXT,    /* the address without the extension */
	ADDR_MATCH_CATCHALL, /* @domain */
};

#define ADDR_KEYS_MAX 3

/* the keys to try, in order; built by addr_lookup_keys() */
struct addr_keys {
	size_t n;
	char *key[ADDR_KEYS_MAX];		  /* lower-cased, NUL-terminated, owned */
	enum addr_match_kind kind[ADDR_KEYS_MAX];
	char *extension;			  /* the extension without its delimiter, or NULL */
};

/*
 * addr_lookup_keys - fill *k with the keys for addr in lookup order (pure).
 * delims: recipient_delimiter (a set of characters; NULL or "" for none).
 * Free with addr_keys_free().
 */
void addr_lookup_keys(const char *addr, const char *delims, struct addr_keys *k);
/* addr_keys_free - release the keys */
void addr_keys_free(struct addr_keys *k);

/* the result of addr_lookup() */
struct addr_match {
	enum addr_match_kind kind; /* ADDR_MATCH_NONE when not found */
	const char *key;           /* the key that matched (in keys), or NULL */
	const char *value;         /* valid until the next lookup on the dict */
	const char *extension;     /* the address extension, or NULL */
	struct addr_keys keys;     /* storage; free with addr_match_free() */
};

/*
 * addr_lookup - try the keys of addr in order in d; stop at the first found.
 * Returns 1 (found: m->kind, m->key, m->value set), 0 (not found: kind NONE),
 * or -1 with *error_r (the table failed: a temporary error, do not treat it
 * as "not found"). Always call addr_match_free(m) afterwards.
 */
int addr_lookup(struct dict *d, const char *addr, const char *delims, struct addr_match *m,
		const char **error_r);
/* addr_match_free - release m's storage */
void addr_match_free(struct addr_match *m);

#endif
