/*
 * netmatch.h - Postfix match lists: client networks (mynetworks) and domain lists (relay_domains, ...)
 *
 * A match list is a parameter value read once into a compiled form (files
 * read and tables opened at compile time), then matched many times. Entries
 * are tried in order and the first that matches decides; "!entry" is an
 * exclusion: when it matches, the answer is "no match" (Postfix match_list(3)).
 *
 * netmatch (mynetworks, namadr_list in Postfix) entries:
 *   10.0.0.0/8  192.168.1.5  [2001:db8::]/32  [::1]  2001:db8::1   networks and hosts (cidr.h)
 *   /file/name       the file's white-space/comma separated entries ("#" comments), inlined
 *   type:table       the client IP address text is looked up (cidr:, hash:, inline:...);
 *                    with a client name, also the name and its parent domains
 *   host.name        matches the client host name (netmatch_match_client()), with
 *                    domain-list semantics (below)
 * A malformed network ("10.1.2.3/8", "300.1.1.1") is a compile error, as in Postfix.
 *
 * domainlist (relay_domains, mydestination, virtual_*_domains) entries:
 *   example.com      the domain itself; when the parameter is listed in
 *                    parent_domain_matches_subdomains ("parent style", Postfix's
 *                    default for relay_domains and mynetworks) also every
 *                    subdomain (sub.example.com), never "badexample.com"
 *   .example.com     without parent style: every subdomain of example.com (not
 *                    example.com itself). With parent style Postfix's
 *                    match_hostname() matches nothing with it; so do we.
 *   /file/name       entries read from the file
 *   type:table       the domain is looked up, then its parent domains: "example.com"
 *                    keys with parent style, ".example.com" keys without
 * Matching is ASCII case-insensitive.
 *
 * Runs in:  smtpd (RCPT checks), trivial routing (resolve.c), postern check
 * Pure except for reading /file/name entries (through a reader callback,
 * config_read_file() by default) and dict_open()/dict_lookup().
 * Tests:    tests/unit/test_netmatch.c
 * Refs:     postconf(5) mynetworks, relay_domains, parent_domain_matches_subdomains;
 *           Postfix util/match_list.c, util/match_ops.c (match_hostname, match_hostaddr)
 */
#ifndef POSTERN_NETMATCH_H
#define POSTERN_NETMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "libmail/config.h"

/* results of netmatch_match() and domainlist_match() */
#define MATCH_ERROR (-1) /* a table lookup failed: a temporary error */
#define MATCH_NO 0
#define MATCH_YES 1

/* nested /file/name entries deeper than this are a compile error */
#define MATCH_FILE_DEPTH_MAX 5

/*
 * match_read_fn - read a whole file into a malloc'd NUL-terminated *text_r of
 * *len_r bytes; 0, or -1 with errno. config_read_file() has this shape.
 */
typedef int match_read_fn(const char *path, char **text_r, size_t *len_r);

struct netmatch;
struct domainlist;

/*
 * netmatch_compile - compile items (as config_get_list() gives them) of
 * parameter param. parent: param is in parent_domain_matches_subdomains
 * (affects host name entries and table lookups of names). read: NULL for
 * config_read_file(). Returns the matcher, or NULL with *error_r (valid
 * until the next compile call) naming param and the bad entry, file or table.
 */
struct netmatch *netmatch_compile(const char *param, const char *const *items, size_t n, bool parent,
				  match_read_fn *read, const char **error_r);
/* netmatch_from_config - netmatch_compile() of a list parameter of cfg, parent style from cfg */
struct netmatch *netmatch_from_config(struct config *cfg, const char *param, match_read_fn *read,
				      const char **error_r);
/*
 * netmatch_match - is client_ip (address text, "[...]" allowed) in the list?
 * MATCH_YES, MATCH_NO (also for text that is not an address), or MATCH_ERROR
 * with *error_r (a table failed; valid until the next call on m).
 */
int netmatch_match(struct netmatch *m, const char *client_ip, const char **error_r);
/* netmatch_match_client - the same, also matching host name entries against
 * client_name (NULL or "unknown": no name) */
int netmatch_match_client(struct netmatch *m, const char *client_ip, const char *client_name,
			  const char **error_r);
/* netmatch_free - release; sets *mp = NULL (no-op for NULL) */
void netmatch_free(struct netmatch **mp);

/* domainlist_compile - as netmatch_compile(), for a list of domains */
struct domainlist *domainlist_compile(const char *param, const char *const *items, size_t n, bool parent,
				      match_read_fn *read, const char **error_r);
/* domainlist_from_config - domainlist_compile() of a list parameter of cfg */
struct domainlist *domainlist_from_config(struct config *cfg, const char *param, match_read_fn *read,
					  const char **error_r);
/* domainlist_match - does domain match? MATCH_YES, MATCH_NO or MATCH_ERROR with *error_r */
int domainlist_match(struct domainlist *l, const char *domain, const char **error_r);
/* domainlist_empty - has the list no entries at all? */
bool domainlist_empty(const struct domainlist *l);
/* domainlist_free - release; sets *lp = NULL (no-op for NULL) */
void domainlist_free(struct domainlist **lp);

/*
 * match_parent_style - is name listed in parent_domain_matches_subdomains
 * (Postfix match_parent_style())? Names like "smtpd_access_maps" are allowed.
 */
bool match_parent_style(struct config *cfg, const char *name);

/*
 * host_table_match - look name up in d, then its parent domains
 * ("example.com" keys when parent, ".example.com" keys otherwise); the
 * lookup Postfix uses for host names in match lists and access maps.
 * Returns 1 with *value_r, 0, or -1 with *error_r.
 */
struct dict;
int host_table_match(struct dict *d, const char *name, bool parent, const char **value_r,
		     const char **error_r);

#endif
