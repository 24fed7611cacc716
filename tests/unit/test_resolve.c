/*
 * test_resolve.c - unit tests for src/libmail/resolve.c (address classes, RCPT validation)
 */
#include "unit.h"

#include <stdio.h>

#include "lib/buf.h"
#include "libmail/config.h"
#include "libmail/resolve.h"

/* the HOWTO's main.cf (tables inline), plus a relay domain and an alias domain */
static const char howto[] =
	"myhostname = mail.example.com\n"
	"mydomain = example.com\n"
	"myorigin = $mydomain\n"
	"inet_interfaces = all\n"
	"mydestination = $myhostname localhost.$mydomain localhost $mydomain\n"
	"local_recipient_maps = proxy:unix:passwd.byname inline:{ alias=x }\n"
	"recipient_delimiter = +\n"
	"relay_domains = relay.test\n"
	"relay_recipient_maps = inline:{ known@relay.test=ok }\n"
	"virtual_alias_domains = alias.test\n"
	"virtual_mailbox_domains = example.org, example.net\n"
	"virtual_mailbox_maps = inline:{ john@example.org=example.org/john/, jane@example.org=example.org/jane,"
	" sales@example.net=example.net/sales/ }\n"
	"virtual_alias_maps = inline:{ johnsmith@example.org=john@example.org, "
	"postmaster@example.org=john@example.org, {team@example.org=john@example.org, jane@example.org},"
	" bob@alias.test=john@example.org, {broken@example.org=john@example.org, gone@example.org},"
	" ext@example.org=friend@elsewhere.test, lost@alias.test=nobody@alias.test, "
	"{a@example.org=b@example.org}, {b@example.org=a@example.org} }\n";

static int user_calls;

/* users - the injected system user table: root and fred exist, "tempfail" fails */
static int users(void *ctx, const char *user)
{
	(void)ctx;
	user_calls++;
	if (strcmp(user, "tempfail") == 0)
		return -1;
	return strcmp(user, "root") == 0 || strcmp(user, "fred") == 0;
}

/* local_ip - the injected host addresses: 192.0.2.25 */
static bool local_ip(void *ctx, const char *ip)
{
	(void)ctx;
	return strcmp(ip, "192.0.2.25") == 0;
}

/* open_route - a route over main.cf text plus extra lines */
static struct route *open_route(const char *extra, struct config **cfgp)
{
	struct route_hooks hooks = { users, local_ip, NULL, NULL };
	struct buf text = BUF_INIT(0);
	struct diag_list dl;
	const char *err = NULL;
	struct route *r;

	diag_init(&dl);
	buf_puts(&text, howto);
	buf_puts(&text, extra);
	*cfgp = config_parse(buf_cstr(&text), text.len, "main.cf", &dl);
	assert_false(diag_has_errors(&dl));
	diag_free(&dl);
	buf_free(&text);
	r = route_open(*cfgp, &hooks, &err);
	if (r == NULL)
		fail_msg("route_open: %s", err);
	return r;
}

/* cls - the class name of addr */
static const char *cls(struct route *r, const char *addr)
{
	struct route_addr a;
	const char *err = NULL, *name;

	assert_int_equal(route_classify(r, addr, &a, &err), 0);
	name = addr_class_name(a.cls);
	route_addr_free(&a);
	return name;
}

static void test_classes(void **state)
{
	struct config *cfg;
	struct route *r = open_route("", &cfg);
	struct route_addr a;
	const char *err = NULL;

	(void)state;
	assert_string_equal(cls(r, "fred@mail.example.com"), "local");
	assert_string_equal(cls(r, "fred@Example.COM"), "local");
	assert_string_equal(cls(r, "fred@localhost"), "local");
	assert_string_equal(cls(r, "fred@example.com."), "local");
	/* mydestination is not parent style: a subdomain is not local */
	assert_string_equal(cls(r, "fred@sub.example.com"), "default");
	/* no domain: @$myorigin */
	assert_string_equal(cls(r, "fred"), "local");
	assert_string_equal(cls(r, "bob@alias.test"), "virtual alias");
	assert_string_equal(cls(r, "john@example.org"), "virtual mailbox");
	assert_string_equal(cls(r, "x@EXAMPLE.NET"), "virtual mailbox");
	assert_string_equal(cls(r, "x@relay.test"), "relay");
	/* relay_domains is parent style by default */
	assert_string_equal(cls(r, "x@mx.relay.test"), "relay");
	assert_string_equal(cls(r, "x@elsewhere.test"), "default");
	/* address literals: our addresses (loopback with inet_interfaces = all, the hook) are local */
	assert_string_equal(cls(r, "fred@[127.0.0.1]"), "local");
	assert_string_equal(cls(r, "fred@[IPv6:::1]"), "local");
	assert_string_equal(cls(r, "fred@[192.0.2.25]"), "local");
	assert_string_equal(cls(r, "fred@[192.0.2.26]"), "default");
	assert_string_equal(cls(r, "fred@[bogus]"), "default");

	assert_int_equal(route_classify(r, "Fred%evil.test@Relay.Test.", &a, &err), 0);
	assert_string_equal(a.address, "Fred%evil.test@relay.test");
	assert_string_equal(a.local, "Fred%evil.test");
	assert_true(a.routed);
	assert_false(addr_class_final(a.cls));
	route_addr_free(&a);
	assert_int_equal(route_classify(r, "fred", &a, &err), 0);
	assert_string_equal(a.address, "fred@example.com");
	assert_false(a.routed);
	assert_true(addr_class_final(a.cls));
	route_addr_free(&a);
	route_free(&r);
	config_free(&cfg);

	/* inet_interfaces listing addresses: only those are local literals */
	r = open_route("inet_interfaces = 198.51.100.7\nproxy_interfaces = 203.0.113.9\n", &cfg);
	assert_string_equal(cls(r, "u@[198.51.100.7]"), "local");
	assert_string_equal(cls(r, "u@[203.0.113.9]"), "local");
	assert_string_equal(cls(r, "u@[127.0.0.1]"), "default");
	route_free(&r);
	config_free(&cfg);
}

/* validate - "ACCEPT target(class) ..." or the reply */
static char *validate(struct route *r, const char *rcpt)
{
	struct route_decision d;
	struct buf out = BUF_INIT(0);
	size_t i;

	route_validate(r, rcpt, &d);
	if (d.verdict == ROUTE_ACCEPT) {
		buf_puts(&out, d.postmaster ? "ACCEPT(postmaster)" : "ACCEPT");
		for (i = 0; i < d.n_targets; i++)
			buf_printf(&out, " %s(%s)", d.targets[i].address, addr_class_name(d.targets[i].cls));
	} else {
		assert_int_equal(d.n_targets, 0);
		assert_true(d.detail[0] != '\0');
		buf_puts(&out, d.reply);
	}
	route_decision_free(&d);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

#define V(r, rcpt, want)                                                        \
	do {                                                                    \
		char *got_ = validate(r, rcpt);                                 \
		if (strcmp(got_, want) != 0)                                    \
			fail_msg("%s: got \"%s\", want \"%s\"", rcpt, got_, want); \
		free(got_);                                                     \
	} while (0)

static void test_virtual_mailbox(void **state)
{
	struct config *cfg;
	struct route *r = open_route("", &cfg);

	(void)state;
	V(r, "john@example.org", "ACCEPT john@example.org(virtual mailbox)");
	V(r, "John@Example.ORG", "ACCEPT John@example.org(virtual mailbox)");
	/* an extension: found through user@domain */
	V(r, "john+lists@example.org", "ACCEPT john+lists@example.org(virtual mailbox)");
	V(r, "sales@example.net", "ACCEPT sales@example.net(virtual mailbox)");
	V(r, "nobody@example.org",
	  "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table");
	V(r, "john@example.net",
	  "550 5.1.1 <john@example.net>: Recipient address rejected: User unknown in virtual mailbox table");
	route_free(&r);
	config_free(&cfg);

	/* Postfix's reply codes are parameters; a 4xx code makes the DSN 4.1.1 */
	r = open_route("unknown_virtual_mailbox_reject_code = 450\nshow_user_unknown_table_name = no\n", &cfg);
	V(r, "nobody@example.org", "450 4.1.1 <nobody@example.org>: Recipient address rejected: User unknown");
	route_free(&r);
	config_free(&cfg);
}

static void test_aliases(void **state)
{
	struct config *cfg;
	struct route *r = open_route("", &cfg);

	(void)state;
	V(r, "johnsmith@example.org", "ACCEPT john@example.org(virtual mailbox)");
	V(r, "postmaster@example.org", "ACCEPT john@example.org(virtual mailbox)");
	V(r, "team@example.org", "ACCEPT john@example.org(virtual mailbox) jane@example.org(virtual mailbox)");
	V(r, "bob@alias.test", "ACCEPT john@example.org(virtual mailbox)");
	/* external targets are accepted (delivered by the outbound path) */
	V(r, "ext@example.org", "ACCEPT friend@elsewhere.test(default)");
	/* alias domain, no alias */
	V(r, "carol@alias.test",
	  "550 5.1.1 <carol@alias.test>: Recipient address rejected: User unknown in virtual alias table");
	/* an alias to an unknown target is rejected at RCPT, not bounced later */
	V(r, "broken@example.org",
	  "550 5.1.1 <broken@example.org>: Recipient address rejected: User unknown in virtual mailbox table");
	V(r, "lost@alias.test",
	  "550 5.1.1 <lost@alias.test>: Recipient address rejected: User unknown in virtual alias table");
	/* a loop is a temporary failure */
	V(r, "a@example.org", "451 4.3.0 <a@example.org>: Recipient address rejected: virtual_alias_maps loop: "
			      "a@example.org -> b@example.org -> a@example.org");
	route_free(&r);
	config_free(&cfg);
}

static void test_local(void **state)
{
	struct config *cfg;
	struct route *r = open_route("", &cfg);

	(void)state;
	user_calls = 0;
	V(r, "fred@example.com", "ACCEPT fred@example.com(local)");
	assert_int_equal(user_calls, 1);
	V(r, "fred+x@mail.example.com", "ACCEPT fred+x@mail.example.com(local)");
	V(r, "root@localhost", "ACCEPT root@localhost(local)");
	/* the other table of local_recipient_maps: looked up by local part */
	V(r, "alias@example.com", "ACCEPT alias@example.com(local)");
	V(r, "wilma@example.com",
	  "550 5.1.1 <wilma@example.com>: Recipient address rejected: User unknown in local recipient table");
	V(r, "fred@[127.0.0.1]", "ACCEPT fred@[127.0.0.1](local)");
	/* postmaster, mailer-daemon and double-bounce are always valid locally */
	user_calls = 0;
	V(r, "Postmaster@example.com", "ACCEPT Postmaster@example.com(local)");
	V(r, "MAILER-DAEMON@example.com", "ACCEPT MAILER-DAEMON@example.com(local)");
	V(r, "double-bounce@example.com", "ACCEPT double-bounce@example.com(local)");
	assert_int_equal(user_calls, 0);
	/* bare postmaster (RFC 5321) */
	V(r, "postmaster", "ACCEPT(postmaster) postmaster@mail.example.com(local)");
	V(r, "tempfail@example.com", "451 4.3.0 <tempfail@example.com>: Temporary lookup failure");
	route_free(&r);
	config_free(&cfg);

	/* empty local_recipient_maps: no validation */
	r = open_route("local_recipient_maps =\n", &cfg);
	V(r, "wilma@example.com", "ACCEPT wilma@example.com(local)");
	route_free(&r);
	config_free(&cfg);

	/* a table that cannot be opened defers instead of rejecting */
	r = open_route("local_recipient_maps = hash:/nonexistent/postern/aliases\n", &cfg);
	V(r, "wilma@example.com", "451 4.3.0 <wilma@example.com>: Temporary lookup failure");
	route_free(&r);
	config_free(&cfg);

	/* the untouched default (proxy:unix:passwd.byname $alias_maps, alias_maps = hash:/etc/aliases) on
	 * a system without /etc/aliases: no aliases, so unknown users are rejected, not deferred (aliases.h) */
	r = open_route("local_recipient_maps = proxy:unix:passwd.byname $alias_maps\n", &cfg);
	if (access("/etc/aliases", F_OK) != 0 && access("/etc/aliases.db", F_OK) != 0)
		V(r, "wilma@example.com",
		  "550 5.1.1 <wilma@example.com>: Recipient address rejected: User unknown in local recipient table");
	V(r, "fred@example.com", "ACCEPT fred@example.com(local)");
	route_free(&r);
	config_free(&cfg);
	/* the same table named in main.cf: a missing file is a temporary failure, as in Postfix */
	r = open_route("local_recipient_maps = proxy:unix:passwd.byname $alias_maps\nalias_maps = hash:/etc/aliases\n",
		       &cfg);
	if (access("/etc/aliases.db", F_OK) != 0)
		V(r, "wilma@example.com", "451 4.3.0 <wilma@example.com>: Temporary lookup failure");
	route_free(&r);
	config_free(&cfg);
}

static void test_postmaster(void **state)
{
	struct config *cfg;
	struct route *r = open_route("", &cfg);

	(void)state;
	/* aliased: goes where the alias says */
	V(r, "postmaster@example.org", "ACCEPT john@example.org(virtual mailbox)");
	/* not in any table, but one of our domains: to the local postmaster */
	V(r, "postmaster@example.net", "ACCEPT(postmaster) postmaster@mail.example.com(local)");
	V(r, "POSTMASTER@alias.test", "ACCEPT(postmaster) postmaster@mail.example.com(local)");
	/* not ours: no special case */
	V(r, "postmaster@elsewhere.test", "ACCEPT postmaster@elsewhere.test(default)");
	/* mailer-daemon is exempt in local domains only */
	V(r, "mailer-daemon@example.net",
	  "550 5.1.1 <mailer-daemon@example.net>: Recipient address rejected: User unknown in virtual mailbox table");
	route_free(&r);
	config_free(&cfg);
}

static void test_relay_and_default(void **state)
{
	struct config *cfg;
	struct route *r = open_route("", &cfg);

	(void)state;
	V(r, "known@relay.test", "ACCEPT known@relay.test(relay)");
	V(r, "unknown@relay.test",
	  "550 5.1.1 <unknown@relay.test>: Recipient address rejected: User unknown in relay recipient table");
	V(r, "anyone@elsewhere.test", "ACCEPT anyone@elsewhere.test(default)");
	route_free(&r);
	config_free(&cfg);

	/* tables that fail to open: temporary failures, never "unknown" */
	r = open_route("virtual_mailbox_maps = hash:/nonexistent/postern/vm\n", &cfg);
	V(r, "john@example.org", "451 4.3.0 <john@example.org>: Temporary lookup failure");
	route_free(&r);
	config_free(&cfg);
	r = open_route("virtual_alias_maps = hash:/nonexistent/postern/va\n", &cfg);
	V(r, "john@example.org", "451 4.3.0 <john@example.org>: Temporary lookup failure");
	route_free(&r);
	config_free(&cfg);
}

static void test_open_errors(void **state)
{
	const char *text = "relay_domains = /nonexistent/postern/relay\n", *err = NULL;
	struct config *cfg = config_parse(text, strlen(text), "main.cf", NULL);

	(void)state;
	assert_null(route_open(cfg, NULL, &err));
	assert_non_null(strstr(err, "relay_domains"));
	config_free(&cfg);
	assert_string_equal(addr_class_name(ADDR_CLASS_DEFAULT), "default");
	assert_false(addr_class_final(ADDR_CLASS_RELAY));
	assert_true(addr_class_final(ADDR_CLASS_VIRTUAL_ALIAS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),		  cmocka_unit_test(test_virtual_mailbox),
		cmocka_unit_test(test_aliases),		  cmocka_unit_test(test_local),
		cmocka_unit_test(test_postmaster),	  cmocka_unit_test(test_relay_and_default),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
