/*
 * restrict.h - smtpd_relay_restrictions and smtpd_recipient_restrictions at RCPT TO
 *
 * Postfix's evaluation (smtpd_check.c smtpd_check_rcpt(), generic_checks()):
 *   1. smtpd_relay_restrictions, then smtpd_recipient_restrictions; in each
 *      list the first restriction that does not say DUNNO decides that list;
 *      a PERMIT ends only its own list, a REJECT (or DEFER) ends everything;
 *   2. a temporary problem noted by a "defer if permit" restriction
 *      (reject_unknown_recipient_domain without a DNS answer, defer_if_permit)
 *      turns a final PERMIT/DUNNO into that deferral;
 *   3. with smtpd_reject_unlisted_recipient = yes (default), a recipient not
 *      yet validated by reject_unlisted_recipient is validated (resolve.h).
 * Each list is parsed once (restrict_compile()), its tables opened once.
 *
 * Restrictions: permit, reject, defer, permit_mynetworks,
 * permit_sasl_authenticated, permit_auth_destination,
 * reject_unauth_destination, defer_unauth_destination,
 * reject_unknown_recipient_domain, reject_unlisted_recipient,
 * check_client_access type:table, check_recipient_access type:table (a bare
 * type:table means check_recipient_access, as in Postfix), defer_if_permit,
 * defer_if_reject. Names are case-insensitive.
 *
 * Replies (Postfix wording; codes from the *_code parameters; the DSN class
 * always follows the reply code's first digit):
 *   reject_unauth_destination  554 5.7.1 <rcpt>: Relay access denied
 *   defer_unauth_destination   454 4.7.1 <rcpt>: Relay access denied   (relay code - 100)
 *   reject                     554 5.7.1 <rcpt>: Recipient address rejected: Access denied
 *   defer                      450 4.3.2 <rcpt>: Recipient address rejected: Try again later
 *   reject_unknown_recipient_domain
 *                              450 4.1.2 <rcpt>: Recipient address rejected: Domain not found
 *   check_client_access REJECT 554 5.7.1 <name[addr]>: Client host rejected: Access denied
 *   a broken configuration     451 4.3.5 Server configuration error
 *   a failed table lookup      451 4.3.0 <rcpt>: Temporary lookup failure
 * Access table results (access(5)): OK, RELAY, all-numeric (permit); DUNNO,
 * INFO, WARN (no decision); REJECT [text], DEFER [text] (optional RFC 3463
 * code first); 4NN text, 5NN text; DEFER_IF_PERMIT, DEFER_IF_REJECT [text];
 * or a list of the restrictions above that take no table (evaluated in
 * place, nesting at most 100 deep). Table names in results, and the
 * actions HOLD, DISCARD, FILTER, REDIRECT, BCC, PREPEND, HANGUP (which need
 * the queue) give "451 4.3.5 Server configuration error" instead of being
 * silently ignored. An OK for a routed recipient (user%host@...) is DUNNO.
 * Client lookups: the client name and its parent domains, then the address
 * and its parent networks (1.2.3.4, 1.2.3, 1.2, 1). Recipient lookups:
 * user+ext@domain, user@domain, domain and its parents, user+ext@, user@.
 * Parent domains are "example.com" keys when smtpd_access_maps is in
 * parent_domain_matches_subdomains (the default), ".example.com" otherwise.
 *
 * Never an open relay: when neither list holds reject_unauth_destination,
 * defer_unauth_destination, reject, defer or defer_if_permit, Postfix
 * refuses to start; restrict_check() reports it as an error and a compiled
 * list answers every RCPT with 451 4.3.5. Unknown restriction names and
 * tables that cannot be opened are errors too and answer 451 4.3.5.
 *
 * Not supported (reported as unknown restrictions): smtpd_restriction_classes,
 * warn_if_reject, check_policy_service, RBL/DNSWL, MX/NS/A access checks.
 *
 * Runs in:  smtpd (RCPT TO), postern check (restrict_check)
 * Pure logic over config, tables, netmatch and resolve; DNS through a
 * callback. No logging: results carry the reply and what decided.
 * Tests:    tests/unit/test_restrict.c, tests/e2e/test_check.py
 * Refs:     postconf(5) smtpd_relay_restrictions, smtpd_recipient_restrictions,
 *           permit_mynetworks, reject_unauth_destination, defer_unauth_destination,
 *           reject_unknown_recipient_domain, check_client_access, check_recipient_access;
 *           access(5); SMTPD_ACCESS_README; Postfix smtpd/smtpd_check.c
 */
#ifndef POSTERN_RESTRICT_H
#define POSTERN_RESTRICT_H

#include <stdbool.h>

#include "libmail/config.h"
#include "libmail/diag.h"
#include "libmail/resolve.h"

enum restrict_verdict {
	RESTRICT_DUNNO,  /* no restriction decided: accepted */
	RESTRICT_PERMIT, /* accepted explicitly */
	RESTRICT_REJECT, /* 5xx reply */
	RESTRICT_DEFER,  /* 4xx reply */
};

/* the answer of the DNS callback for a recipient domain */
enum restrict_dns { RESTRICT_DNS_OK, RESTRICT_DNS_NOTFOUND, RESTRICT_DNS_TEMPFAIL };
/* restrict_dns_fn - does domain have an MX, A or AAAA record? */
typedef enum restrict_dns restrict_dns_fn(void *ctx, const char *domain);

/* what the SMTP server knows when RCPT TO arrives */
struct restrict_ctx {
	const char *client_addr; /* "192.0.2.1" or "2001:db8::1" */
	const char *client_name; /* verified host name, or "unknown" (NULL: "unknown") */
	const char *sasl_login;  /* NULL when not authenticated */
	const char *helo;        /* may be NULL */
	const char *sender;      /* MAIL FROM address, "" for <> */
	const char *recipient;   /* RCPT TO address, without <> */
	restrict_dns_fn *dns;    /* NULL: every DNS answer is a temporary error */
	void *dns_ctx;
};

struct restrict_result {
	enum restrict_verdict verdict;
	char reply[512];          /* REJECT/DEFER: the full SMTP reply line */
	char detail[512];         /* REJECT/DEFER: a reason for the log ("" when the reply says it all) */
	const char *where;        /* the parameter that decided, or NULL */
	const char *restriction;  /* the restriction that decided, or NULL */
	bool validated;           /* route holds the recipient's validation */
	struct route_decision route;
};

struct restrictions;

/*
 * restrict_compile - parse both lists of cfg once and open their tables and
 * mynetworks. route is borrowed (it must outlive the result). Errors go to
 * diags (may be NULL) with file:line; the result is never NULL: broken
 * entries answer 451 4.3.5 when evaluated.
 */
struct restrictions *restrict_compile(struct config *cfg, struct route *route, struct diag_list *diags);
/* restrict_free - release; sets *rp = NULL */
void restrict_free(struct restrictions **rp);

/*
 * restrict_rcpt - evaluate one RCPT TO. Always fills *out; release it with
 * restrict_result_free().
 */
void restrict_rcpt(struct restrictions *r, const struct restrict_ctx *ctx, struct restrict_result *out);
/* restrict_result_free - release the validation it holds */
void restrict_result_free(struct restrict_result *out);

/*
 * restrict_check - for `postern check`: compile both lists of cfg and report
 * unknown restrictions, missing or unopenable tables and a missing relay
 * guard at the parameter's file:line. mynetworks is left to config_check().
 * Returns the number of errors added.
 */
int restrict_check(struct config *cfg, struct diag_list *diags);

#endif
