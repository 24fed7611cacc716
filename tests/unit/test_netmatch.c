/*
 * test_netmatch.c - unit tests for src/libmail/netmatch.c (mynetworks and domain lists)
 */
#include "unit.h"

#include <stdio.h>

#include "lib/xalloc.h"
#include "libmail/config.h"
#include "libmail/netmatch.h"

static char tmpdir[] = "/tmp/test_netmatch.XXXXXX";

/* path_of - tmpdir/name (static storage, one at a time) */
static const char *path_of(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* write_file - create tmpdir/name with text */
static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* net - compile a space separated list of entries */
static struct netmatch *net(const char *list, bool parent, const char **err)
{
	struct config *cfg = config_new("main.cf");
	const char *const *items;
	struct netmatch *m;
	size_t n;

	assert_int_equal(config_override(cfg, "mynetworks", list, "main.cf", 1, NULL), 0);
	assert_int_equal(config_get_list(cfg, "mynetworks", &items, &n, err), 0);
	m = netmatch_compile("mynetworks", items, n, parent, NULL, err);
	config_free(&cfg);
	return m;
}

/* ip_in - netmatch_match() must not fail */
static int ip_in(struct netmatch *m, const char *ip)
{
	const char *err = NULL;
	int rc = netmatch_match(m, ip, &err);

	if (rc < 0)
		fail_msg("netmatch_match(%s): %s", ip, err);
	return rc;
}

static void test_networks(void **state)
{
	const char *err = NULL;
	struct netmatch *m = net("127.0.0.0/8 [::1]/128 192.168.1.5 [2001:db8::]/32 10.1.0.0/16", true, &err);

	(void)state;
	assert_non_null(m);
	assert_int_equal(ip_in(m, "127.0.0.1"), MATCH_YES);
	assert_int_equal(ip_in(m, "127.255.0.9"), MATCH_YES);
	assert_int_equal(ip_in(m, "128.0.0.1"), MATCH_NO);
	assert_int_equal(ip_in(m, "::1"), MATCH_YES);
	assert_int_equal(ip_in(m, "[::1]"), MATCH_YES);
	assert_int_equal(ip_in(m, "::2"), MATCH_NO);
	assert_int_equal(ip_in(m, "192.168.1.5"), MATCH_YES);
	assert_int_equal(ip_in(m, "192.168.1.6"), MATCH_NO);
	assert_int_equal(ip_in(m, "2001:db8:ffff::1"), MATCH_YES);
	assert_int_equal(ip_in(m, "2001:db9::1"), MATCH_NO);
	assert_int_equal(ip_in(m, "10.1.200.3"), MATCH_YES);
	assert_int_equal(ip_in(m, "10.2.0.1"), MATCH_NO);
	/* an IPv4-mapped IPv6 client matches IPv4 networks */
	assert_int_equal(ip_in(m, "::ffff:127.0.0.1"), MATCH_YES);
	/* not an address: no match, not an error */
	assert_int_equal(ip_in(m, "garbage"), MATCH_NO);
	assert_int_equal(ip_in(m, ""), MATCH_NO);
	netmatch_free(&m);
	assert_null(m);

	/* an empty list matches nothing */
	m = net("", true, &err);
	assert_non_null(m);
	assert_int_equal(ip_in(m, "127.0.0.1"), MATCH_NO);
	netmatch_free(&m);
}

static void test_exclusions(void **state)
{
	const char *err = NULL;
	struct netmatch *m = net("!10.1.2.3 !10.9.0.0/16 10.0.0.0/8", true, &err);

	(void)state;
	assert_non_null(m);
	assert_int_equal(ip_in(m, "10.1.2.3"), MATCH_NO);
	assert_int_equal(ip_in(m, "10.1.2.4"), MATCH_YES);
	assert_int_equal(ip_in(m, "10.9.1.1"), MATCH_NO);
	assert_int_equal(ip_in(m, "10.10.1.1"), MATCH_YES);
	netmatch_free(&m);
	/* first match wins: an exclusion after a match has no effect */
	m = net("10.0.0.0/8 !10.1.2.3", true, &err);
	assert_int_equal(ip_in(m, "10.1.2.3"), MATCH_YES);
	netmatch_free(&m);
}

static void test_bad_entries(void **state)
{
	const char *err = NULL;

	(void)state;
	assert_null(net("127.0.0.0/8 10.1.2.3/8", true, &err));
	assert_non_null(strstr(err, "bad network \"10.1.2.3/8\""));
	assert_non_null(strstr(err, "mynetworks"));
	assert_null(net("300.1.1.1", true, &err));
	assert_null(net("[::1]/129", true, &err));
	assert_null(net("!", true, &err));
	assert_null(net("/nonexistent/postern/nets", true, &err));
	assert_non_null(strstr(err, "cannot read /nonexistent/postern/nets"));
	assert_null(net("hash:/nonexistent/postern/nets", true, &err));
}

static void test_file_entries(void **state)
{
	const char *err = NULL;
	struct netmatch *m;
	char list[512];

	(void)state;
	write_file("nets", "# trusted networks\n192.168.0.0/16, 172.16.0.0/12\n\n  !10.5.0.0/16 10.0.0.0/8\n");
	snprintf(list, sizeof(list), "127.0.0.0/8 %s", path_of("nets"));
	m = net(list, true, &err);
	assert_non_null(m);
	assert_int_equal(ip_in(m, "192.168.3.4"), MATCH_YES);
	assert_int_equal(ip_in(m, "172.20.0.1"), MATCH_YES);
	assert_int_equal(ip_in(m, "10.5.1.1"), MATCH_NO);
	assert_int_equal(ip_in(m, "10.6.1.1"), MATCH_YES);
	assert_int_equal(ip_in(m, "11.0.0.1"), MATCH_NO);
	netmatch_free(&m);

	write_file("badnets", "10.0.0.0/8\n10.1.2.3/8\n");
	snprintf(list, sizeof(list), "%s", path_of("badnets"));
	assert_null(net(list, true, &err));
	assert_non_null(strstr(err, "badnets"));

	/* a file that names itself: nested too deeply, not an endless loop */
	snprintf(list, sizeof(list), "%s\n", path_of("self"));
	write_file("self", list);
	assert_null(net(path_of("self"), true, &err));
	assert_non_null(strstr(err, "nested"));
}

static void test_table_entries(void **state)
{
	const char *err = NULL;
	struct netmatch *m;
	char list[512];

	(void)state;
	write_file("access.cidr", "10.0.0.0/8 OK\n2001:db8::/32 OK\n");
	snprintf(list, sizeof(list), "cidr:%s inline:{ 192.0.2.7=yes }", path_of("access.cidr"));
	m = net(list, true, &err);
	assert_non_null(m);
	assert_int_equal(ip_in(m, "10.3.3.3"), MATCH_YES);
	assert_int_equal(ip_in(m, "2001:db8::5"), MATCH_YES);
	assert_int_equal(ip_in(m, "[2001:db8::5]"), MATCH_YES);
	assert_int_equal(ip_in(m, "192.0.2.7"), MATCH_YES);
	assert_int_equal(ip_in(m, "192.0.2.8"), MATCH_NO);
	netmatch_free(&m);
}

static void test_client_names(void **state)
{
	const char *err = NULL;
	struct netmatch *m = net("example.com inline:{ trusted.example.net=1 }", true, &err);

	(void)state;
	assert_non_null(m);
	assert_int_equal(netmatch_match_client(m, "192.0.2.1", "mail.example.com", &err), MATCH_YES);
	assert_int_equal(netmatch_match_client(m, "192.0.2.1", "EXAMPLE.COM", &err), MATCH_YES);
	assert_int_equal(netmatch_match_client(m, "192.0.2.1", "badexample.com", &err), MATCH_NO);
	assert_int_equal(netmatch_match_client(m, "192.0.2.1", "a.trusted.example.net", &err), MATCH_YES);
	assert_int_equal(netmatch_match_client(m, "192.0.2.1", "unknown", &err), MATCH_NO);
	assert_int_equal(netmatch_match_client(m, "192.0.2.1", NULL, &err), MATCH_NO);
	/* names are never matched by netmatch_match() */
	assert_int_equal(ip_in(m, "192.0.2.1"), MATCH_NO);
	netmatch_free(&m);
}

/* dl - compile a domain list */
static struct domainlist *dl(const char *list, bool parent)
{
	struct config *cfg = config_new("main.cf");
	const char *const *items, *err = NULL;
	struct domainlist *l;
	size_t n;

	assert_int_equal(config_override(cfg, "relay_domains", list, "main.cf", 1, NULL), 0);
	assert_int_equal(config_get_list(cfg, "relay_domains", &items, &n, &err), 0);
	l = domainlist_compile("relay_domains", items, n, parent, NULL, &err);
	if (l == NULL)
		fail_msg("domainlist_compile(%s): %s", list, err);
	config_free(&cfg);
	return l;
}

/* dm - domainlist_match() must not fail */
static int dm(struct domainlist *l, const char *domain)
{
	const char *err = NULL;
	int rc = domainlist_match(l, domain, &err);

	if (rc < 0)
		fail_msg("domainlist_match(%s): %s", domain, err);
	return rc;
}

static void test_domains_parent_style(void **state)
{
	struct domainlist *l = dl("example.com, .example.net !bad.example.org example.org", true);

	(void)state;
	assert_int_equal(dm(l, "example.com"), MATCH_YES);
	assert_int_equal(dm(l, "Example.COM"), MATCH_YES);
	assert_int_equal(dm(l, "mx.sub.example.com"), MATCH_YES);
	assert_int_equal(dm(l, "badexample.com"), MATCH_NO);
	assert_int_equal(dm(l, "example.co"), MATCH_NO);
	/* with parent style, Postfix's ".domain" form matches nothing */
	assert_int_equal(dm(l, "a.example.net"), MATCH_NO);
	assert_int_equal(dm(l, "example.net"), MATCH_NO);
	assert_int_equal(dm(l, "bad.example.org"), MATCH_NO);
	assert_int_equal(dm(l, "x.bad.example.org"), MATCH_NO);
	assert_int_equal(dm(l, "good.example.org"), MATCH_YES);
	assert_int_equal(dm(l, ""), MATCH_NO);
	assert_false(domainlist_empty(l));
	domainlist_free(&l);
	l = dl("", true);
	assert_true(domainlist_empty(l));
	assert_int_equal(dm(l, "example.com"), MATCH_NO);
	domainlist_free(&l);
}

static void test_domains_exact_style(void **state)
{
	struct domainlist *l = dl("example.com .example.net", false);

	(void)state;
	assert_int_equal(dm(l, "example.com"), MATCH_YES);
	assert_int_equal(dm(l, "sub.example.com"), MATCH_NO);
	assert_int_equal(dm(l, "example.net"), MATCH_NO);
	assert_int_equal(dm(l, "sub.example.net"), MATCH_YES);
	assert_int_equal(dm(l, "a.b.example.net"), MATCH_YES);
	domainlist_free(&l);
}

static void test_domain_tables(void **state)
{
	struct domainlist *l;
	char list[512];

	(void)state;
	write_file("domains", "# relay\nrelay.test\n!no.relay2.test relay2.test\n");
	snprintf(list, sizeof(list), "inline:{ example.com=ok, .example.net=ok } %s", path_of("domains"));
	l = dl(list, true);
	assert_int_equal(dm(l, "EXAMPLE.com"), MATCH_YES);
	assert_int_equal(dm(l, "sub.example.com"), MATCH_YES); /* parent key "example.com" */
	assert_int_equal(dm(l, "sub.example.net"), MATCH_NO);  /* ".example.net" keys only without */
	assert_int_equal(dm(l, "relay.test"), MATCH_YES);
	assert_int_equal(dm(l, "x.relay.test"), MATCH_YES);
	assert_int_equal(dm(l, "no.relay2.test"), MATCH_NO);
	assert_int_equal(dm(l, "relay2.test"), MATCH_YES);
	domainlist_free(&l);

	l = dl(list, false);
	assert_int_equal(dm(l, "sub.example.com"), MATCH_NO);
	assert_int_equal(dm(l, "sub.example.net"), MATCH_YES);
	assert_int_equal(dm(l, "x.relay.test"), MATCH_NO);
	domainlist_free(&l);
}

static void test_parent_style_param(void **state)
{
	struct config *cfg = config_new("main.cf");
	struct domainlist *l;
	const char *err = NULL;

	(void)state;
	/* Postfix's default: relay_domains and mynetworks are parent style, mydestination is not */
	assert_true(match_parent_style(cfg, "relay_domains"));
	assert_true(match_parent_style(cfg, "mynetworks"));
	assert_true(match_parent_style(cfg, "smtpd_access_maps"));
	assert_false(match_parent_style(cfg, "mydestination"));
	assert_int_equal(config_override(cfg, "relay_domains", "example.com", "main.cf", 2, NULL), 0);
	l = domainlist_from_config(cfg, "relay_domains", NULL, &err);
	assert_int_equal(dm(l, "sub.example.com"), MATCH_YES);
	domainlist_free(&l);
	assert_int_equal(config_override(cfg, "parent_domain_matches_subdomains", "mynetworks", "main.cf", 3,
					 NULL),
			 0);
	assert_false(match_parent_style(cfg, "relay_domains"));
	l = domainlist_from_config(cfg, "relay_domains", NULL, &err);
	assert_int_equal(dm(l, "sub.example.com"), MATCH_NO);
	assert_int_equal(dm(l, "example.com"), MATCH_YES);
	domainlist_free(&l);
	config_free(&cfg);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks),	     cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_bad_entries),	     cmocka_unit_test(test_file_entries),
		cmocka_unit_test(test_table_entries),	     cmocka_unit_test(test_client_names),
		cmocka_unit_test(test_domains_parent_style), cmocka_unit_test(test_domains_exact_style),
		cmocka_unit_test(test_domain_tables),	     cmocka_unit_test(test_parent_style_param),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
