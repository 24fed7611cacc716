/*
 * test_config_check.c - unit tests for src/libmail/config_check.c (cross-parameter rules)
 */
#include "unit.h"

#include "libmail/config.h"
#include "libmail/config_check.h"
#include "libmail/diag.h"

/* run - parse text, run config_check(), return the number of errors it added */
static int run(const char *text, struct diag_list *dl)
{
	struct config *cfg;
	int n;

	diag_init(dl);
	cfg = config_parse(text, strlen(text), "main.cf", dl);
	assert_false(diag_has_errors(dl));
	n = config_check(cfg, dl);
	config_free(&cfg);
	return n;
}

/* has - does a finding contain text, at this line? */
static bool has(const struct diag_list *dl, const char *text, int line)
{
	size_t i;

	for (i = 0; i < dl->n; i++)
		if (strstr(dl->v[i].msg, text) && dl->v[i].line == line)
			return true;
	return false;
}

static void test_domain_overlap(void **state)
{
	struct diag_list dl;

	(void)state;
	/* case-insensitive; reported at the virtual_mailbox_domains line */
	assert_int_equal(run("mydestination = localhost Example.ORG\n"
			     "virtual_mailbox_domains = example.org, example.net\n",
			     &dl),
			 1);
	assert_true(has(&dl, "do not list domain example.org in BOTH mydestination and "
			     "virtual_mailbox_domains",
			2));
	assert_non_null(dl.v[0].fix);
	diag_free(&dl);

	assert_int_equal(run("virtual_alias_domains = a.test b.test\nvirtual_mailbox_domains = b.test\n", &dl), 1);
	assert_true(has(&dl, "b.test in BOTH virtual_alias_domains and virtual_mailbox_domains", 2));
	diag_free(&dl);

	/* the HOWTO: disjoint lists, $mydomain expanded; table items are not domains */
	assert_int_equal(run("myhostname = mail.example.com\nmydomain = example.com\n"
			     "mydestination = $myhostname localhost.$mydomain localhost $mydomain\n"
			     "virtual_mailbox_domains = example.org, example.net\n"
			     "virtual_alias_maps = hash:/x/virtual_alias\n",
			     &dl),
			 0);
	assert_int_equal(dl.n, 0);
	diag_free(&dl);

	/* the overlap is found through $expansion too */
	assert_int_equal(run("mydomain = example.com\nmydestination = localhost $mydomain\n"
			     "virtual_mailbox_domains = $mydomain\n",
			     &dl),
			 1);
	diag_free(&dl);
}

static void test_mynetworks(void **state)
{
	struct diag_list dl;

	(void)state;
	assert_int_equal(run("mynetworks = 127.0.0.0/8 [::1]/128 192.168.0.0/16 mail.example.com\n", &dl), 0);
	diag_free(&dl);
	assert_int_equal(run("# comment\nmynetworks = 127.0.0.0/8,\n  0.0.0.0/0\n", &dl), 1);
	assert_true(has(&dl, "open relay", 2));
	diag_free(&dl);
	assert_int_equal(run("mynetworks = [::]/0\n", &dl), 1);
	assert_true(has(&dl, "open relay", 1));
	diag_free(&dl);
	/* an exclusion of everything is not an open relay */
	assert_int_equal(run("mynetworks = !0.0.0.0/0 10.0.0.0/8\n", &dl), 0);
	diag_free(&dl);
	assert_int_equal(run("mynetworks = 10.1.2.3/8\n", &dl), 1);
	assert_true(has(&dl, "bad network \"10.1.2.3/8\"", 1));
	diag_free(&dl);
	assert_int_equal(run("mynetworks = 300.1.1.1\n", &dl), 1);
	diag_free(&dl);
}

static void test_network_item_kinds(void **state)
{
	(void)state;
	assert_int_equal(check_network_item("/etc/postern/nets", "mynetworks", NULL, 0, NULL), NET_ITEM_FILE);
	assert_int_equal(check_network_item("cidr:/etc/postern/nets", "mynetworks", NULL, 0, NULL),
			 NET_ITEM_TABLE);
	assert_int_equal(check_network_item("hash:/x", "mynetworks", NULL, 0, NULL), NET_ITEM_TABLE);
	assert_int_equal(check_network_item("10.0.0.0/8", "mynetworks", NULL, 0, NULL), NET_ITEM_NETWORK);
	assert_int_equal(check_network_item("[2001:db8::]/32", "mynetworks", NULL, 0, NULL), NET_ITEM_NETWORK);
	assert_int_equal(check_network_item("10.1.2.3", "mynetworks", NULL, 0, NULL), NET_ITEM_NETWORK);
	assert_int_equal(check_network_item("mail.example.com", "mynetworks", NULL, 0, NULL), NET_ITEM_HOSTNAME);
	assert_int_equal(check_network_item("1and1.example", "mynetworks", NULL, 0, NULL), NET_ITEM_HOSTNAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_overlap),
		cmocka_unit_test(test_mynetworks),
		cmocka_unit_test(test_network_item_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
