/*
 * valias.h - virtual_alias_maps expansion with Postfix semantics
 *
 * What Postfix's cleanup(8) does to every recipient (cleanup_map1n.c,
 * mail_addr_map.c), as one pure function over open tables:
 *   - lookup order per address: user+ext@domain, user@domain, @domain
 *     (addr_lookup.h); every table of virtual_alias_maps is tried for one key
 *     before the next key;
 *   - a result is a list of addresses separated by commas and/or white space
 *     ("quoted strings" and <brackets> allowed); an address without '@' gets
 *     "@$myorigin"; a result "@otherdomain" means "the same user (without
 *     extension) at otherdomain";
 *   - when the match was not on the full address (user@domain or @domain
 *     matched user+ext@domain) and propagate_unmatched_extensions lists
 *     "virtual", the extension is appended to each result's local part with
 *     the delimiter the address used (john+foo@... -> john@x gives john+foo@x);
 *   - expansion is recursive until addresses are not found; an address whose
 *     expansion contains itself (case-insensitive) is final (Postfix's
 *     self-reference rule: "allow an address to expand into itself once");
 *   - a result address longer than 1000 bytes is skipped (Postfix's
 *     virtual_alias_address_length_limit, which also logs it);
 *   - limits: more than virtual_alias_recursion_limit nested lookups (capped
 *     at 1000: the walk recurses on the C stack), or more
 *     than virtual_alias_expansion_limit addresses from one recipient, is a
 *     temporary failure ("unreasonable virtual_alias_maps map nesting for X" /
 *     "... map expansion size for X"), as in Postfix;
 *   - Postfix counts every lookup of a chain, the last one (not found)
 *     included: with a limit of N, N - 1 aliases may follow each other;
 *   - loops: a -> b -> a, where walking a again would repeat the same steps
 *     (no self-reference was found on the way), is reported at once as a
 *     temporary failure ("virtual_alias_maps loop: a -> b -> a"); Postfix
 *     walks it until the recursion limit and says "nesting". A loop that
 *     passes a self-reference (a -> {a, b}, b -> a) ends as in Postfix (a);
 *   - de-duplication: each final address appears once per list (compared
 *     case-insensitively), even when several aliases or several recipients
 *     of one message reach it; the first original recipient is kept.
 *
 * Runs in:  smtpd (RCPT validation, resolve.c), queue/cleanup (later)
 * Pure except for dict_lookup(). No logging: errors are returned.
 * Tests:    tests/unit/test_valias.c
 * Refs:     virtual(5), postconf(5) virtual_alias_maps, propagate_unmatched_extensions,
 *           virtual_alias_recursion_limit, virtual_alias_expansion_limit;
 *           Postfix cleanup/cleanup_map1n.c, global/mail_addr_map.c
 */
#ifndef POSTERN_VALIAS_H
#define POSTERN_VALIAS_H

#include <stdbool.h>
#include <stddef.h>

#include "libmail/config.h"
#include "libmail/dict.h"

/* one final recipient */
struct valias_rcpt {
	char *address;  /* the final address (as the table wrote it, ext propagated) */
	char *original; /* the recipient it came from (as given to valias_expand()) */
};

/* the final recipients of one message: fill with valias_expand(), in order */
struct valias_list {
	struct valias_rcpt *v;
	size_t n, cap;
	struct htab *seen; /* lower-cased addresses in v */
};

struct valias_params {
	const char *delims;       /* recipient_delimiter (NULL or "": no extensions) */
	const char *origin;       /* $myorigin, appended to results without '@' */
	bool propagate_ext;       /* propagate_unmatched_extensions lists "virtual" */
	size_t recursion_limit;   /* virtual_alias_recursion_limit */
	size_t expansion_limit;   /* virtual_alias_expansion_limit */
};

struct valias;

/*
 * valias_new - an expander over maps[0..n) (borrowed: they must outlive it)
 * with the given parameters (strings copied).
 */
struct valias *valias_new(struct dict *const *maps, size_t n, const struct valias_params *p);
/*
 * valias_open - open virtual_alias_maps of cfg (owned by the expander) and
 * take the parameters from cfg. NULL with *error_r (a table cannot be opened,
 * a bad parameter); the text is valid until the next valias_open().
 */
struct valias *valias_open(struct config *cfg, const char **error_r);
/* valias_free - release (and close owned tables); sets *vap = NULL */
void valias_free(struct valias **vap);
/* valias_empty - are there no tables (every address maps to itself)? */
bool valias_empty(const struct valias *va);

/* valias_list_init - an empty list */
void valias_list_init(struct valias_list *l);
/* valias_list_free - release the list's entries; it is empty (reusable after init) */
void valias_list_free(struct valias_list *l);

/*
 * valias_expand - expand rcpt and append its final addresses to out (skipping
 * those already in out). Returns 1 when rcpt was aliased, 0 when no table
 * matched it (out gets rcpt itself), or -1 with *error_r (a table failed, a
 * limit was hit, a loop): a TEMPORARY failure (Postfix: 4.3.0, try again
 * later); out is then unchanged. *error_r is valid until the next call on va.
 */
int valias_expand(struct valias *va, const char *rcpt, struct valias_list *out, const char **error_r);

/*
 * valias_find - look addr up (one step, no recursion) in Postfix's key order.
 * Returns 1 with *value_r (valid until the next lookup), 0, or -1 with *error_r.
 */
int valias_find(struct valias *va, const char *addr, const char **value_r, const char **error_r);

#endif
