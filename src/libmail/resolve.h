/*
 * resolve.h - Postfix address classes and RCPT-time recipient validation
 *
 * Classes (Postfix ADDRESS_CLASS_README, trivial-rewrite resolve.c), tried in
 * this order on the recipient's domain:
 *   LOCAL            mydestination, or an address literal ([127.0.0.1],
 *                    [IPv6:::1]) naming one of our addresses (inet_interfaces,
 *                    proxy_interfaces; see route_hooks.local_ip); an address
 *                    without a domain gets @$myorigin first (append_at_myorigin)
 *   VIRTUAL_ALIAS    virtual_alias_domains
 *   VIRTUAL_MAILBOX  virtual_mailbox_domains
 *   RELAY            relay_domains
 *   DEFAULT          everything else
 * The domain is compared lower-cased, one trailing dot dropped. LOCAL,
 * VIRTUAL_ALIAS and VIRTUAL_MAILBOX are "final" (we are the destination).
 * A local part with '%', '!' or '@' is "routed" (sender-specified routing):
 * it never authorizes relaying (allow_untrusted_routing = no; Postern has no
 * percent hack and never forwards on it).
 *
 * Validation (what smtpd asks at RCPT with smtpd_reject_unlisted_recipient =
 * yes, Postfix smtpd_check.c check_rcpt_maps()), reply codes from the
 * unknown_*_reject_code parameters, DSN 5.1.1:
 *   - the bare address "postmaster" is always accepted (RFC 5321 4.5.1);
 *   - virtual_alias_maps apply to every class: a recipient they match is
 *     expanded (valias.h) and EACH final address is then checked in its own
 *     class below. Postfix accepts any aliased recipient and bounces bad
 *     targets later; Postern rejects at RCPT (the issue: "validated at RCPT
 *     time, never accepted and bounced later"), naming the recipient as given;
 *   - VIRTUAL_ALIAS, not aliased: "550 5.1.1 <a>: Recipient address rejected:
 *     User unknown in virtual alias table";
 *   - VIRTUAL_MAILBOX: the address must be in virtual_mailbox_maps (keys
 *     user+ext@domain, user@domain, @domain), else "... User unknown in
 *     virtual mailbox table" (no check when virtual_mailbox_maps is empty);
 *   - LOCAL: local_recipient_maps (empty: no check): "unix:passwd.byname"
 *     (also with "proxy:") asks route_hooks.user_exists for the local part
 *     (user+ext, then user); other tables are tried with user+ext@domain,
 *     user@domain, user+ext, user, @domain (Postfix mail_addr_find() for a
 *     local domain); else "... User unknown in local recipient table".
 *     postmaster@, mailer-daemon@ and $double_bounce_sender@ are exempt;
 *   - RELAY: relay_recipient_maps (empty: no check), "... relay recipient table";
 *   - DEFAULT: accepted here (relaying is decided by restrict.h).
 *   - postmaster@ of every local and virtual domain is accepted (the issue;
 *     Postfix only exempts local domains). When no table knows it, the
 *     decision says so (postmaster = true) and its one target is
 *     "postmaster@$myhostname" in class LOCAL: local delivery resolves it
 *     through alias_maps (postmaster: root) like Postfix's local(8).
 *   - the untouched default alias table (alias_maps = hash:/etc/aliases, via
 *     local_recipient_maps) on a system with neither /etc/aliases nor its
 *     .db is an empty table, not a failure (aliases.h alias_default_absent());
 *   - a table that fails (or could not be opened), an alias expansion that
 *     hits a limit: "451 4.3.0 <a>: Temporary lookup failure" (Postfix
 *     reject_dict_retry()), or for limits and loops "451 4.3.0 <a>: Recipient
 *     address rejected: unreasonable virtual_alias_maps map nesting for a".
 *
 * Runs in:  smtpd (RCPT), queue (delivery routing)
 * Pure logic over config + tables; the only system access is the default
 * user_exists hook (getpwnam()). No logging: decisions carry their reasons.
 * Tests:    tests/unit/test_resolve.c
 * Refs:     Postfix ADDRESS_CLASS_README, VIRTUAL_README, LOCAL_RECIPIENT_README,
 *           smtpd/smtpd_check.c (check_rcpt_maps), global/resolve_local.c
 */
#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "libmail/config.h"
#include "libmail/netmatch.h"

enum addr_class {
	ADDR_CLASS_LOCAL,
	ADDR_CLASS_VIRTUAL_ALIAS,
	ADDR_CLASS_VIRTUAL_MAILBOX,
	ADDR_CLASS_RELAY,
	ADDR_CLASS_DEFAULT,
};

/* addr_class_name - "local", "virtual alias", "virtual mailbox", "relay", "default" */
const char *addr_class_name(enum addr_class c);
/* addr_class_final - is c one of our own destinations (local or virtual)? */
bool addr_class_final(enum addr_class c);

/* user_exists hook: 1 the system user exists, 0 no, -1 temporary error */
typedef int route_user_fn(void *ctx, const char *user);
/* local_ip hook: is ip (bare address text) one of this host's addresses? */
typedef bool route_local_ip_fn(void *ctx, const char *ip);

struct route_hooks {
	route_user_fn *user_exists;    /* NULL: route_getpwnam() */
	route_local_ip_fn *local_ip;   /* NULL: see route_open() */
	match_read_fn *read;           /* for /file/name entries; NULL: config_read_file() */
	void *ctx;                     /* passed to the hooks */
};

/* route_getpwnam - the default user_exists hook: getpwnam(user) */
int route_getpwnam(void *ctx, const char *user);

struct route;

/*
 * route_open - compile the domain lists and open the tables of cfg once.
 * hooks may be NULL (all defaults). An address literal is local when it is
 * listed in inet_interfaces or proxy_interfaces, when it is a loopback
 * address and inet_interfaces is "all" or "loopback-only", or when the
 * local_ip hook says so (the caller knows the host's interface addresses). Domain lists that cannot be compiled are an error (NULL,
 * *error_r valid until the next route_open()); recipient tables that cannot
 * be opened are not: lookups in them give temporary failures.
 */
struct route *route_open(struct config *cfg, const struct route_hooks *hooks, const char **error_r);
/* route_free - release; sets *rp = NULL */
void route_free(struct route **rp);

/* a classified address */
struct route_addr {
	enum addr_class cls;
	char *address;  /* local@domain: domain lower-cased, trailing dot dropped, @$myorigin added */
	char *local;    /* the local part, as given */
	char *domain;   /* the domain part */
	bool routed;    /* the local part has '%', '!' or '@' */
};

/*
 * route_classify - classify addr. Returns 0, or -1 with *error_r when a
 * domain table failed (temporary). Free out with route_addr_free() (also on error).
 */
int route_classify(struct route *r, const char *addr, struct route_addr *out, const char **error_r);
/* route_addr_free - release a classified address */
void route_addr_free(struct route_addr *a);

enum route_verdict { ROUTE_ACCEPT, ROUTE_REJECT, ROUTE_DEFER };

/* where an accepted recipient goes */
struct route_target {
	char *address;
	enum addr_class cls;
};

struct route_decision {
	enum route_verdict verdict;
	char reply[512];                /* REJECT/DEFER: the full SMTP reply ("550 5.1.1 <a>: ...") */
	char detail[512];               /* REJECT/DEFER: the reason for the log (may name tables) */
	enum addr_class cls;            /* the recipient's class */
	bool aliased;                   /* virtual_alias_maps matched the recipient */
	bool postmaster;                /* accepted only as postmaster@ (see above) */
	struct route_target *targets;   /* ACCEPT: the final recipients, each once */
	size_t n_targets;
};

/*
 * route_validate - classify, alias-expand and validate recipient rcpt (as
 * given in RCPT TO, without <>). Always fills *d; free it with
 * route_decision_free().
 */
void route_validate(struct route *r, const char *rcpt, struct route_decision *d);
/* route_decision_free - release the targets */
void route_decision_free(struct route_decision *d);

#endif
