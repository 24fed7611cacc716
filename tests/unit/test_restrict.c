/*
 * test_restrict.c - unit tests for src/libmail/restrict.c (RCPT TO relay and recipient restrictions)
 */
#include "unit.h"

#include <stdio.h>

#include "lib/buf.h"
#include "libmail/config.h"
#include "libmail/resolve.h"
#include "libmail/restrict.h"

/* a HOWTO-like base: local example.com, virtual example.org, relay relay.test */
static const char base[] = "myhostname = mail.example.com\n"
			   "mydomain = example.com\n"
			   "myorigin = $mydomain\n"
			   "mydestination = $myhostname localhost $mydomain\n"
			   "local_recipient_maps =\n"
			   "recipient_delimiter = +\n"
			   "virtual_mailbox_domains = example.org\n"
			   "virtual_mailbox_maps = inline:{ john@example.org=j/ }\n"
			   "virtual_alias_maps = inline:{ team@example.org=john@example.org }\n";

struct fx {
	struct config *cfg;
	struct route *route;
	struct restrictions *r;
	struct diag_list dl;
};

static int user_none(void *ctx, const char *user)
{
	(void)ctx;
	(void)user;
	return 0;
}

/* setup_fx - compile base + extra (relay_domains empty unless extra sets it) */
static void setup_fx(struct fx *f, const char *extra)
{
	struct route_hooks hooks = { user_none, NULL, NULL, NULL };
	struct buf text = BUF_INIT(0);
	const char *err = NULL;

	diag_init(&f->dl);
	buf_puts(&text, base);
	buf_puts(&text, extra);
	f->cfg = config_parse(buf_cstr(&text), text.len, "main.cf", &f->dl);
	buf_free(&text);
	assert_false(diag_has_errors(&f->dl));
	f->route = route_open(f->cfg, &hooks, &err);
	if (f->route == NULL)
		fail_msg("route_open: %s", err);
	f->r = restrict_compile(f->cfg, f->route, &f->dl);
	assert_non_null(f->r);
}

static void teardown_fx(struct fx *f)
{
	restrict_free(&f->r);
	assert_null(f->r);
	route_free(&f->route);
	config_free(&f->cfg);
	diag_free(&f->dl);
}

static enum restrict_dns dns_answer;

/* dns - the injected resolver: nx.test does not exist, tmp.test times out, others exist */
static enum restrict_dns dns(void *ctx, const char *domain)
{
	(void)ctx;
	if (strcmp(domain, "nx.test") == 0)
		return RESTRICT_DNS_NOTFOUND;
	if (strcmp(domain, "tmp.test") == 0)
		return RESTRICT_DNS_TEMPFAIL;
	return dns_answer;
}

/* rcpt - evaluate; "PERMIT"/"DUNNO" (+ " by restriction") or the reply */
static char *rcpt(struct fx *f, const char *client, const char *name, const char *sasl, const char *to)
{
	struct restrict_ctx c = { client, name, sasl, "helo.test", "sender@example.net", to, dns, NULL };
	struct restrict_result res;
	struct buf out = BUF_INIT(0);

	restrict_rcpt(f->r, &c, &res);
	switch (res.verdict) {
	case RESTRICT_PERMIT:
		buf_printf(&out, "PERMIT %s", res.restriction ? res.restriction : "?");
		break;
	case RESTRICT_DUNNO:
		buf_puts(&out, "DUNNO");
		break;
	case RESTRICT_REJECT:
		assert_true(res.reply[0] == '5');
		buf_puts(&out, res.reply);
		break;
	case RESTRICT_DEFER:
		assert_true(res.reply[0] == '4');
		buf_puts(&out, res.reply);
		break;
	}
	restrict_result_free(&res);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

#define R(f, client, name, sasl, to, want)                                                   \
	do {                                                                                 \
		char *got_ = rcpt(f, client, name, sasl, to);                               \
		if (strcmp(got_, want) != 0)                                                \
			fail_msg("%s from %s: got \"%s\", want \"%s\"", to, client, got_, want); \
		free(got_);                                                                 \
	} while (0)

static void test_defaults(void **state)
{
	struct fx f;

	(void)state;
	setup_fx(&f, "");
	assert_int_equal(f.dl.n, 0);
	/* mynetworks (loopback by default) may relay */
	R(&f, "127.0.0.1", NULL, NULL, "x@elsewhere.test", "PERMIT permit_mynetworks");
	R(&f, "::1", "localhost", NULL, "x@elsewhere.test", "PERMIT permit_mynetworks");
	/* others may not: the default ends with defer_unauth_destination */
	R(&f, "192.0.2.1", "client.test", NULL, "x@elsewhere.test", "454 4.7.1 <x@elsewhere.test>: Relay access denied");
	/* a SASL-authenticated client may */
	R(&f, "192.0.2.1", "client.test", "john", "x@elsewhere.test", "PERMIT permit_sasl_authenticated");
	R(&f, "192.0.2.1", "client.test", "", "x@elsewhere.test", "454 4.7.1 <x@elsewhere.test>: Relay access denied");
	/* our own domains: accepted from anyone, then validated */
	R(&f, "192.0.2.1", NULL, NULL, "john@example.org", "DUNNO");
	R(&f, "192.0.2.1", NULL, NULL, "team@example.org", "DUNNO");
	R(&f, "192.0.2.1", NULL, NULL, "fred@example.com", "DUNNO");
	R(&f, "192.0.2.1", NULL, NULL, "nobody@example.org",
	  "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table");
	/* a mynetworks client is validated too (smtpd_reject_unlisted_recipient) */
	R(&f, "127.0.0.1", NULL, NULL, "nobody@example.org",
	  "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table");
	teardown_fx(&f);
}

static void test_validation_result(void **state)
{
	struct restrict_ctx c = { "192.0.2.1", NULL, NULL, NULL, "", "team@example.org", NULL, NULL };
	struct restrict_result res;
	struct fx f;

	(void)state;
	setup_fx(&f, "");
	restrict_rcpt(f.r, &c, &res);
	assert_int_equal(res.verdict, RESTRICT_DUNNO);
	assert_true(res.validated);
	assert_int_equal(res.route.n_targets, 1);
	assert_string_equal(res.route.targets[0].address, "john@example.org");
	restrict_result_free(&res);
	teardown_fx(&f);

	/* smtpd_reject_unlisted_recipient = no: unknown recipients pass the restrictions */
	setup_fx(&f, "smtpd_reject_unlisted_recipient = no\n");
	R(&f, "192.0.2.1", NULL, NULL, "nobody@example.org", "DUNNO");
	teardown_fx(&f);
	/* ... unless a restriction asks */
	setup_fx(&f, "smtpd_reject_unlisted_recipient = no\n"
		     "smtpd_recipient_restrictions = reject_unlisted_recipient\n");
	R(&f, "192.0.2.1", NULL, NULL, "nobody@example.org",
	  "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table");
	R(&f, "192.0.2.1", NULL, NULL, "john@example.org", "DUNNO");
	teardown_fx(&f);
}

static void test_reject_unauth_destination(void **state)
{
	struct fx f;

	(void)state;
	setup_fx(&f, "smtpd_relay_restrictions =\n"
		     "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n"
		     "relay_domains = relay.test\n");
	R(&f, "192.0.2.1", NULL, NULL, "x@elsewhere.test", "554 5.7.1 <x@elsewhere.test>: Relay access denied");
	R(&f, "127.0.0.1", NULL, NULL, "x@elsewhere.test", "PERMIT permit_mynetworks");
	/* relay_domains and its subdomains (parent style) */
	R(&f, "192.0.2.1", NULL, NULL, "x@relay.test", "DUNNO");
	R(&f, "192.0.2.1", NULL, NULL, "x@Mx.Relay.Test.", "DUNNO");
	R(&f, "192.0.2.1", NULL, NULL, "x@badrelay.test", "554 5.7.1 <x@badrelay.test>: Relay access denied");
	/* sender-specified routing is never relayed */
	R(&f, "192.0.2.1", NULL, NULL, "x%elsewhere.test@relay.test",
	  "554 5.7.1 <x%elsewhere.test@relay.test>: Relay access denied");
	R(&f, "192.0.2.1", NULL, NULL, "x!elsewhere.test@example.com",
	  "554 5.7.1 <x!elsewhere.test@example.com>: Relay access denied");
	teardown_fx(&f);

	/* the reply code is a parameter; defer uses it minus 100 */
	setup_fx(&f, "relay_domains_reject_code = 550\n");
	R(&f, "192.0.2.1", NULL, NULL, "x@elsewhere.test", "450 4.7.1 <x@elsewhere.test>: Relay access denied");
	teardown_fx(&f);
	setup_fx(&f, "relay_domains_reject_code = 550\nsmtpd_relay_restrictions = reject_unauth_destination\n");
	R(&f, "192.0.2.1", NULL, NULL, "x@elsewhere.test", "550 5.7.1 <x@elsewhere.test>: Relay access denied");
	teardown_fx(&f);
}

static void test_order(void **state)
{
	struct fx f;

	(void)state;
	/* a PERMIT in the relay list does not skip the recipient list */
	setup_fx(&f, "smtpd_relay_restrictions = permit_mynetworks, reject\n"
		     "smtpd_recipient_restrictions = check_recipient_access inline:{ {x@elsewhere.test=REJECT no x} }\n");
	R(&f, "127.0.0.1", NULL, NULL, "x@elsewhere.test",
	  "554 5.7.1 <x@elsewhere.test>: Recipient address rejected: no x");
	R(&f, "127.0.0.1", NULL, NULL, "y@elsewhere.test", "PERMIT permit_mynetworks");
	R(&f, "192.0.2.1", NULL, NULL, "y@elsewhere.test",
	  "554 5.7.1 <y@elsewhere.test>: Recipient address rejected: Access denied");
	teardown_fx(&f);
	/* a REJECT in the relay list ends everything; a PERMIT in the recipient list cannot undo it */
	setup_fx(&f, "smtpd_relay_restrictions = reject_unauth_destination\nsmtpd_recipient_restrictions = permit\n");
	R(&f, "127.0.0.1", NULL, NULL, "y@elsewhere.test", "554 5.7.1 <y@elsewhere.test>: Relay access denied");
	R(&f, "127.0.0.1", NULL, NULL, "john@example.org", "PERMIT permit");
	teardown_fx(&f);
	/* first match wins within a list; names are case-insensitive */
	setup_fx(&f, "smtpd_relay_restrictions = PERMIT_MYNETWORKS, defer, permit\n");
	R(&f, "127.0.0.1", NULL, NULL, "y@elsewhere.test", "PERMIT permit_mynetworks");
	R(&f, "192.0.2.1", NULL, NULL, "y@elsewhere.test",
	  "450 4.3.2 <y@elsewhere.test>: Recipient address rejected: Try again later");
	teardown_fx(&f);
}

static void test_client_access(void **state)
{
	struct fx f;

	(void)state;
	setup_fx(&f, "smtpd_relay_restrictions = check_client_access inline:{ "
		     "{192.0.2.66=REJECT go away}, 192.0.2=OK, 2001:db8:1=OK, {spam.test=550 5.7.9 Spammer}, "
		     "trusted.test=OK, 198.51.100.9=DUNNO, {198.51.100=REJECT} }, defer_unauth_destination\n");
	R(&f, "192.0.2.66", "host.test", NULL, "x@elsewhere.test",
	  "554 5.7.1 <host.test[192.0.2.66]>: Client host rejected: go away");
	R(&f, "192.0.2.7", NULL, NULL, "x@elsewhere.test", "PERMIT check_client_access");
	R(&f, "2001:db8:1::5", NULL, NULL, "x@elsewhere.test", "PERMIT check_client_access");
	R(&f, "203.0.113.5", "mx.spam.test", NULL, "x@elsewhere.test",
	  "550 5.7.9 <mx.spam.test[203.0.113.5]>: Client host rejected: Spammer");
	R(&f, "203.0.113.5", "a.b.trusted.test", NULL, "x@elsewhere.test", "PERMIT check_client_access");
	R(&f, "203.0.113.5", "nottrusted.test", NULL, "x@elsewhere.test",
	  "454 4.7.1 <x@elsewhere.test>: Relay access denied");
	/* DUNNO stops the search without a decision */
	R(&f, "198.51.100.9", NULL, NULL, "x@elsewhere.test", "454 4.7.1 <x@elsewhere.test>: Relay access denied");
	R(&f, "198.51.100.10", NULL, NULL, "x@elsewhere.test",
	  "554 5.7.1 <unknown[198.51.100.10]>: Client host rejected: Access denied");
	teardown_fx(&f);

	/* cidr: tables work on the address */
	{
		char path[64], cf[256];
		FILE *fp;

		snprintf(path, sizeof(path), "/tmp/test_restrict.%d.cidr", (int)getpid());
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs("10.0.0.0/8 REJECT private\n203.0.113.0/24 OK\n", fp);
		fclose(fp);
		snprintf(cf, sizeof(cf), "smtpd_relay_restrictions = check_client_access cidr:%s, "
					 "permit_mynetworks, reject_unauth_destination\n", path);
		setup_fx(&f, cf);
		unlink(path);
		R(&f, "10.9.9.9", NULL, NULL, "x@elsewhere.test",
		  "554 5.7.1 <unknown[10.9.9.9]>: Client host rejected: private");
		R(&f, "203.0.113.7", NULL, NULL, "x@elsewhere.test", "PERMIT check_client_access");
		R(&f, "127.0.0.1", NULL, NULL, "x@elsewhere.test", "PERMIT permit_mynetworks");
		teardown_fx(&f);
	}
}

static void test_recipient_access(void **state)
{
	struct fx f;

	(void)state;
	setup_fx(&f, "smtpd_relay_restrictions =\n"
		     "smtpd_recipient_restrictions = check_recipient_access inline:{ "
		     "{blocked@example.org=REJECT 5.7.2 no thanks}, {example.net=550 go elsewhere}, "
		     "{slow@example.org=DEFER busy}, ok@elsewhere.test=OK, 12345@elsewhere.test=12345, "
		     "{list@elsewhere.test=permit_mynetworks reject}, sales@=REJECT, "
		     "held@example.org=HOLD, tbl@example.org=hash:/x, dunno@example.net=DUNNO, "
		     "{mixed@example.org=DEFER_IF_PERMIT Maybe later}, "
		     "{dflt@example.org=5.7.3} }, reject_unauth_destination\n");
	R(&f, "192.0.2.1", NULL, NULL, "blocked@example.org",
	  "554 5.7.2 <blocked@example.org>: Recipient address rejected: no thanks");
	/* user+ext@domain falls back to user@domain */
	R(&f, "192.0.2.1", NULL, NULL, "blocked+x@Example.ORG",
	  "554 5.7.2 <blocked+x@Example.ORG>: Recipient address rejected: no thanks");
	/* the domain, and its subdomains (smtpd_access_maps is parent style) */
	R(&f, "192.0.2.1", NULL, NULL, "a@example.net", "550 5.7.1 <a@example.net>: Recipient address rejected: go elsewhere");
	R(&f, "192.0.2.1", NULL, NULL, "a@sub.example.net",
	  "550 5.7.1 <a@sub.example.net>: Recipient address rejected: go elsewhere");
	R(&f, "192.0.2.1", NULL, NULL, "dunno@example.net", "554 5.7.1 <dunno@example.net>: Relay access denied");
	R(&f, "192.0.2.1", NULL, NULL, "slow@example.org", "450 4.7.1 <slow@example.org>: Recipient address rejected: busy");
	/* OK permits relaying (Postfix: yes, an access table can open the relay for one address) */
	R(&f, "192.0.2.1", NULL, NULL, "ok@elsewhere.test", "PERMIT check_recipient_access");
	R(&f, "192.0.2.1", NULL, NULL, "12345@elsewhere.test", "PERMIT check_recipient_access");
	/* a restriction list as the result */
	R(&f, "127.0.0.1", NULL, NULL, "list@elsewhere.test", "PERMIT permit_mynetworks");
	R(&f, "192.0.2.1", NULL, NULL, "list@elsewhere.test",
	  "554 5.7.1 <list@elsewhere.test>: Recipient address rejected: Access denied");
	/* user@ (any domain) */
	R(&f, "127.0.0.1", NULL, NULL, "sales@example.com",
	  "554 5.7.1 <sales@example.com>: Recipient address rejected: Access denied");
	/* unsupported actions and tables in results: a configuration error, not silence */
	R(&f, "192.0.2.1", NULL, NULL, "held@example.org", "451 4.3.5 Server configuration error");
	R(&f, "192.0.2.1", NULL, NULL, "tbl@example.org", "451 4.3.5 Server configuration error");
	/* DEFER_IF_PERMIT: a later permit (here: none, DUNNO at the end) becomes the deferral */
	R(&f, "192.0.2.1", NULL, NULL, "mixed@example.org",
	  "450 4.7.1 <mixed@example.org>: Recipient address rejected: Maybe later");
	/* an unknown verb is an unknown restriction: configuration error */
	R(&f, "192.0.2.1", NULL, NULL, "dflt@example.org", "451 4.3.5 Server configuration error");
	teardown_fx(&f);

	/* a bare table means check_recipient_access; routed recipients are never OK'd */
	setup_fx(&f, "smtpd_relay_restrictions =\n"
		     "smtpd_recipient_restrictions = inline:{ relay.test=OK }, reject_unauth_destination\n");
	R(&f, "192.0.2.1", NULL, NULL, "a@relay.test", "PERMIT check_recipient_access");
	R(&f, "192.0.2.1", NULL, NULL, "a%elsewhere.test@relay.test",
	  "554 5.7.1 <a%elsewhere.test@relay.test>: Relay access denied");
	teardown_fx(&f);
}

static void test_unknown_recipient_domain(void **state)
{
	struct fx f;

	(void)state;
	setup_fx(&f, "smtpd_recipient_restrictions = reject_unknown_recipient_domain, permit_mynetworks, "
		     "reject_unauth_destination\nsmtpd_relay_restrictions =\n");
	dns_answer = RESTRICT_DNS_OK;
	R(&f, "127.0.0.1", NULL, NULL, "x@nx.test", "450 4.1.2 <x@nx.test>: Recipient address rejected: Domain not found");
	R(&f, "127.0.0.1", NULL, NULL, "x@exists.test", "PERMIT permit_mynetworks");
	/* a temporary DNS error defers what would be permitted ... */
	R(&f, "127.0.0.1", NULL, NULL, "x@tmp.test", "450 4.1.2 <x@tmp.test>: Recipient address rejected: Domain not found");
	/* ... but does not soften a rejection */
	R(&f, "192.0.2.1", NULL, NULL, "x@tmp.test", "554 5.7.1 <x@tmp.test>: Relay access denied");
	/* our own domains are never looked up */
	R(&f, "192.0.2.1", NULL, NULL, "john@example.org", "DUNNO");
	teardown_fx(&f);
	setup_fx(&f, "smtpd_relay_restrictions = reject_unknown_recipient_domain, permit_mynetworks, reject\n"
		     "unknown_address_reject_code = 550\n");
	R(&f, "127.0.0.1", NULL, NULL, "x@nx.test", "550 5.1.2 <x@nx.test>: Recipient address rejected: Domain not found");
	teardown_fx(&f);
}

static void test_defer_if(void **state)
{
	struct fx f;

	(void)state;
	setup_fx(&f, "smtpd_relay_restrictions = defer_if_reject, reject_unauth_destination\n");
	R(&f, "192.0.2.1", NULL, NULL, "x@elsewhere.test",
	  "450 4.7.0 <x@elsewhere.test>: Recipient address rejected: defer_if_reject requested");
	teardown_fx(&f);
	setup_fx(&f, "smtpd_relay_restrictions = defer_if_permit, permit_mynetworks, reject_unauth_destination\n");
	R(&f, "127.0.0.1", NULL, NULL, "x@elsewhere.test",
	  "450 4.7.0 <x@elsewhere.test>: Recipient address rejected: defer_if_permit requested");
	teardown_fx(&f);
}

/* has - does a finding contain text at this line? */
static bool has(const struct diag_list *dl, const char *text, int line)
{
	size_t i;

	for (i = 0; i < dl->n; i++)
		if (strstr(dl->v[i].msg, text) && dl->v[i].line == line && dl->v[i].level == DIAG_ERROR)
			return true;
	return false;
}

/* check - restrict_check() on main.cf text */
static int check(const char *text, struct diag_list *dl)
{
	struct config *cfg;
	int n;

	diag_init(dl);
	cfg = config_parse(text, strlen(text), "main.cf", dl);
	n = restrict_check(cfg, dl);
	config_free(&cfg);
	return n;
}

static void test_config_errors(void **state)
{
	struct diag_list dl;
	struct fx f;

	(void)state;
	assert_int_equal(check("mydestination = localhost\n", &dl), 0);
	assert_int_equal(dl.n, 0);
	diag_free(&dl);
	assert_int_equal(check("# x\nsmtpd_recipient_restrictions = permit_mynetworks,\n"
			       "  reject_unath_destination\n",
			       &dl),
			 1);
	assert_true(has(&dl, "smtpd_recipient_restrictions: unknown restriction \"reject_unath_destination\"", 2));
	assert_non_null(dl.v[0].file);
	assert_string_equal(dl.v[0].file, "main.cf");
	diag_free(&dl);
	assert_int_equal(check("smtpd_relay_restrictions = check_client_access, reject\n", &dl), 1);
	assert_true(has(&dl, "needs a type:table argument", 1));
	diag_free(&dl);
	assert_int_equal(check("smtpd_relay_restrictions = permit_mynetworks, check_client_access "
			       "hash:/nonexistent/postern/access, reject\n",
			       &dl),
			 1);
	assert_true(has(&dl, "/nonexistent/postern/access", 1));
	diag_free(&dl);
	assert_int_equal(check("smtpd_relay_restrictions = check_client_access nosuch:/x reject\n", &dl), 1);
	diag_free(&dl);
	/* no relay guard anywhere: Postfix refuses to start */
	assert_int_equal(check("\nsmtpd_relay_restrictions = permit_mynetworks\n"
			       "smtpd_recipient_restrictions = permit_mynetworks permit_sasl_authenticated\n",
			       &dl),
			 1);
	assert_true(has(&dl, "specify at least one working instance of", 3));
	diag_free(&dl);
	assert_int_equal(check("smtpd_relay_restrictions =\n", &dl), 1);
	assert_true(has(&dl, "open relay", 1));
	diag_free(&dl);

	/* at run time, broken configurations answer 451 4.3.5 */
	setup_fx(&f, "smtpd_relay_restrictions = permit_mynetworks, bogus, reject_unauth_destination\n");
	assert_true(diag_has_errors(&f.dl));
	R(&f, "127.0.0.1", NULL, NULL, "x@elsewhere.test", "PERMIT permit_mynetworks");
	R(&f, "192.0.2.1", NULL, NULL, "x@elsewhere.test", "451 4.3.5 Server configuration error");
	teardown_fx(&f);
	setup_fx(&f, "smtpd_relay_restrictions = permit\n");
	R(&f, "192.0.2.1", NULL, NULL, "x@elsewhere.test", "451 4.3.5 Server configuration error");
	R(&f, "127.0.0.1", NULL, NULL, "john@example.org", "451 4.3.5 Server configuration error");
	teardown_fx(&f);
	setup_fx(&f, "mynetworks = 10.1.2.3/8\n");
	assert_true(diag_has_errors(&f.dl));
	R(&f, "10.1.2.3", NULL, NULL, "x@elsewhere.test", "451 4.3.5 Server configuration error");
	teardown_fx(&f);
}

/*
 * The open-relay matrix: every combination of default-ish settings, a client
 * outside mynetworks and a recipient in a foreign domain (in every spelling)
 * must be refused.
 */
static void test_never_open_relay(void **state)
{
	static const char *const settings[] = {
		"",
		"mynetworks = 127.0.0.0/8\n",
		"mynetworks = 127.0.0.0/8 [::1]/128 10.0.0.0/8\n",
		"relay_domains = relay.test\n",
		"relay_domains = $mydestination\n",
		"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n",
		"smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, "
		"permit_sasl_authenticated, reject_unauth_destination\n",
		"smtpd_recipient_restrictions = reject_unknown_recipient_domain\n",
		"smtpd_reject_unlisted_recipient = no\n",
		"mydestination =\n",
		"inet_interfaces = loopback-only\n",
		"parent_domain_matches_subdomains =\n",
	};
	static const char *const clients[][2] = {
		{ "192.0.2.1", NULL },	      { "192.0.2.1", "localhost" }, { "203.0.113.9", "mail.example.com" },
		{ "2001:db8::1", "unknown" }, { "128.0.0.1", NULL },	    { "::ffff:192.0.2.1", NULL },
		{ "11.0.0.1", "relay.test" },
	};
	static const char *const rcpts[] = {
		"x@elsewhere.test",	   "X@ELSEWHERE.TEST",		   "x@elsewhere.test.",
		"x@sub.example.com",	   "x@badexample.com",		   "x@example.com.evil.test",
		"x@localhost.evil.test",   "x%elsewhere.test@example.com", "x!elsewhere.test@example.org",
		"\"x@elsewhere\"@evil.test", "x@[192.0.2.99]",		   "x@[IPv6:2001:db8::99]",
		"@example.com:x@evil.test", "x@example.org.evil.test",	   "x@mail.example.com.evil.test",
	};
	size_t s, c, t, checked = 0;
	char *got;

	(void)state;
	dns_answer = RESTRICT_DNS_OK;
	for (s = 0; s < sizeof(settings) / sizeof(settings[0]); s++) {
		struct fx f;

		setup_fx(&f, settings[s]);
		for (c = 0; c < sizeof(clients) / sizeof(clients[0]); c++)
			for (t = 0; t < sizeof(rcpts) / sizeof(rcpts[0]); t++) {
				/* a subdomain of a relay domain is a relay destination by design */
				if (strstr(settings[s], "$mydestination") && strcmp(rcpts[t], "x@sub.example.com") == 0)
					continue;
				got = rcpt(&f, clients[c][0], clients[c][1], NULL, rcpts[t]);
				if (got[0] != '4' && got[0] != '5')
					fail_msg("OPEN RELAY with \"%s\": %s from %s: %s", settings[s], rcpts[t],
						 clients[c][0], got);
				free(got);
				checked++;
			}
		teardown_fx(&f);
	}
	assert_int_equal(checked, 12 * 7 * 15 - 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_validation_result),
		cmocka_unit_test(test_reject_unauth_destination),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_client_access),
		cmocka_unit_test(test_recipient_access),
		cmocka_unit_test(test_unknown_recipient_domain),
		cmocka_unit_test(test_defer_if),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_never_open_relay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
