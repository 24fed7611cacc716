/*
 * aliases.h - alias_maps for local delivery: value syntax, recursive expansion,
 * the mailbox path of a local user
 *
 * Value syntax (aliases(5)): a list of destinations separated by commas (and
 * white space around them). A destination in double quotes may contain commas
 * and blanks; the quotes are removed ("|/usr/bin/x -a, b"). Blanks do not
 * separate destinations (use commas): "john jane" is one destination, which
 * then fails as an unknown user rather than reaching someone unintended. Kinds:
 *   |command       ALIAS_DEST_COMMAND
 *   /file/name     ALIAS_DEST_FILE
 *   :include:/path ALIAS_DEST_INCLUDE (name compared without case)
 *   user, user@domain, <user@domain>
 *                  an address: a bare name is a local user; with a domain the
 *                  classify hook says whether the domain is local (then its
 *                  local part is the user) or not (ALIAS_DEST_REMOTE).
 *
 * Expansion (Postfix local(8) semantics, with Postern's documented choices):
 *   - everything is folded to lower case (local(8) "CASE FOLDING");
 *   - the name is looked up with its address extension, then without
 *     (recipient_delimiter, addr_lookup_keys()); a name no table knows is a
 *     mailbox delivery to the name without its extension (ALIAS_DEST_USER);
 *   - local names in a value are expanded again; a name that is already
 *     being expanded (itself or an ancestor: "root: root, admin", or a loop
 *     "a: b" / "b: a") is delivered to its own mailbox instead of expanded
 *     again, as Postfix's duplicate filter does;
 *   - each name is expanded at most once per call (a name reached again by
 *     another path adds nothing), so the work is linear in the table size;
 *   - every destination appears once in the result (first occurrence order);
 *   - more than ALIAS_DEPTH_MAX nested lookups, ALIAS_EXPANSION_MAX
 *     destinations or ALIAS_EXPANSION_MAX expanded names is an error (the caller defers: never lose mail);
 *   - a table failure is an error with the hook's text.
 *
 * Pure: lookups and address classification come through hooks; no I/O except
 * alias_default_absent() (two stat calls).
 * Tests:    tests/unit/test_aliases.c
 * Refs:     aliases(5), local(8) "SYSTEM-WIDE AND USER-LEVEL ALIASING", "CASE FOLDING",
 *           postconf(5) home_mailbox, mail_spool_directory, alias_maps
 */
#ifndef POSTERN_ALIASES_H
#define POSTERN_ALIASES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "libmail/config.h"

#define ALIAS_DEPTH_MAX 100
#define ALIAS_EXPANSION_MAX 1000

enum alias_dest_kind {
	ALIAS_DEST_USER,    /* deliver to the mailbox of a local user (text: user name) */
	ALIAS_DEST_REMOTE,  /* an address in a non-local domain (text: the address) */
	ALIAS_DEST_COMMAND, /* "|command" (text with the '|') */
	ALIAS_DEST_FILE,    /* "/file" */
	ALIAS_DEST_INCLUDE, /* ":include:/path" */
};

struct alias_dest {
	enum alias_dest_kind kind;
	char *text;
	char *via; /* the alias name whose value named it, NULL for the recipient itself */
};

struct alias_list {
	struct alias_dest *v;
	size_t n, cap;
};

/* split one value into destinations: ALIAS_DEST_USER here means "an address" (text as written) */
struct alias_item {
	enum alias_dest_kind kind;
	char *text;
};

/*
 * alias_parse_value - split value into items (*items_r, *n_r; free with
 * alias_items_free()). Returns 0, or -1 with *error_r (an unbalanced quote, an
 * empty destination list).
 */
int alias_parse_value(const char *value, struct alias_item **items_r, size_t *n_r, const char **error_r);
/* alias_items_free - release parsed items */
void alias_items_free(struct alias_item **items, size_t n);

struct alias_hooks {
	/* look name up in alias_maps: 1 with *value_r (malloc'ed), 0 not found, -1 with *error_r */
	int (*lookup)(void *ctx, const char *name, char **value_r, const char **error_r);
	/* an address with '@': 1 local (*local_r malloc'ed local part), 0 not local, -1 with *error_r */
	int (*classify)(void *ctx, const char *addr, char **local_r, const char **error_r);
	void *ctx;
};

/*
 * alias_expand - expand the local name user (without domain). delims:
 * recipient_delimiter. Returns 0 with out filled (free with alias_list_free()),
 * or -1 with *error_r (valid until the next call; out freed).
 */
int alias_expand(const struct alias_hooks *h, const char *user, const char *delims, struct alias_list *out,
		 const char **error_r);
/* alias_list_free - release a result */
void alias_list_free(struct alias_list *l);

/*
 * alias_mailbox_path - where a local user's mail goes: home/home_mailbox when
 * home_mailbox is set (a trailing '/' keeps meaning Maildir), else
 * spool/user (mbox). Returns 0, or -1 when out's maximum would be passed or
 * the result is not absolute.
 */
int alias_mailbox_path(struct buf *out, const char *home_mailbox, const char *home, const char *spool,
		       const char *user);

/*
 * alias_default_absent - is spec the unchanged default alias table
 * ("hash:/etc/aliases", alias_maps not set in main.cf) while neither
 * /etc/aliases nor /etc/aliases.db exists? Then Postern treats it as an
 * empty table (a system without aliases), where Postfix would defer.
 */
bool alias_default_absent(struct config *cfg, const char *spec);

#endif
