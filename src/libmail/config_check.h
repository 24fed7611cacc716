/*
 * config_check.h - cross-parameter rules of main.cf, checked without I/O
 *
 * The rules an administrator most often gets wrong, each reported as a finding
 * at the main.cf line that causes it, with a one-line fix:
 *   - a domain listed in BOTH mydestination and virtual_mailbox_domains (or
 *     virtual_alias_domains), or in both virtual_alias_domains and
 *     virtual_mailbox_domains: Postfix delivers it with the wrong agent;
 *   - a mynetworks entry that covers every address (0.0.0.0/0, [::]/0): an
 *     open relay; a malformed network ("10.1.2.3/8" has host bits set).
 * File-backed parts (mynetworks /file/name entries, lookup tables, mailbox
 * directories) are checked by `postern check` (src/cli/cmd_check.c), which
 * uses check_network_item() on each entry it reads.
 *
 * Tests:    tests/e2e/test_check.py, tests/unit/test_config_check.c
 */
#ifndef POSTERN_CONFIG_CHECK_H
#define POSTERN_CONFIG_CHECK_H

#include "libmail/config.h"
#include "libmail/diag.h"

/* config_check - apply the rules above to cfg; returns the number of errors added */
int config_check(struct config *cfg, struct diag_list *diags);

enum net_item_kind { NET_ITEM_NETWORK, NET_ITEM_FILE, NET_ITEM_TABLE, NET_ITEM_HOSTNAME };

/*
 * check_network_item - classify one mynetworks entry and, when it is an
 * address or network, check it: a parse error or an entry covering every
 * address is an error at file:line, naming param. "!entry" (an exclusion)
 * is parsed but never an open relay. Returns the kind of the entry.
 */
enum net_item_kind check_network_item(const char *item, const char *param, const char *file, int line,
				      struct diag_list *diags);

#endif
