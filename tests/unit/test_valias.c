/*
 * test_valias.c - unit tests for src/libmail/valias.c (virtual_alias_maps expansion)
 */
#include "unit.h"

#include "lib/buf.h"
#include "libmail/config.h"
#include "libmail/dict.h"
#include "libmail/valias.h"

/* the HOWTO's virtual_alias table plus the cases below */
#define HOWTO "johnsmith@example.org=john@example.org, postmaster@example.org=john@example.org, " \
	      "{team@example.org=john@example.org, jane@example.org}"

struct fixture {
	struct dict *d;
	struct valias *va;
};

/* make - an expander over an inline table with Postfix's defaults and "+" as delimiter */
static void make(struct fixture *f, const char *table, size_t recursion, size_t expansion, bool propagate)
{
	struct valias_params p = { "+", "example.com", propagate, recursion, expansion };
	const char *err = NULL;
	struct buf spec = BUF_INIT(0);

	buf_printf(&spec, "inline:{ %s }", table);
	f->d = dict_open(buf_cstr(&spec), DICT_FLAGS_DEFAULT, &err);
	if (f->d == NULL)
		fail_msg("%s: %s", buf_cstr(&spec), err);
	buf_free(&spec);
	f->va = valias_new(&f->d, 1, &p);
}

static void unmake(struct fixture *f)
{
	valias_free(&f->va);
	assert_null(f->va);
	dict_close(&f->d);
}

/* expand - "rc: addr<-orig addr<-orig ..." for the given recipients, all into one list */
static char *expand(struct fixture *f, const char *const *rcpts)
{
	struct valias_list l;
	struct buf out = BUF_INIT(0);
	const char *err = NULL;
	size_t i;
	int rc = 0;

	valias_list_init(&l);
	for (; *rcpts; rcpts++) {
		rc = valias_expand(f->va, *rcpts, &l, &err);
		if (rc < 0) {
			buf_printf(&out, "error %s | ", err);
			continue;
		}
	}
	buf_printf(&out, "%d:", rc);
	for (i = 0; i < l.n; i++)
		buf_printf(&out, " %s<-%s", l.v[i].address, l.v[i].original);
	valias_list_free(&l);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

#define CHECK(f, want, ...)                                              \
	do {                                                             \
		const char *const rc_[] = { __VA_ARGS__, NULL };        \
		char *got_ = expand(f, rc_);                            \
		if (strcmp(got_, want) != 0)                            \
			fail_msg("got \"%s\", want \"%s\"", got_, want); \
		free(got_);                                             \
	} while (0)

static void test_howto_aliases(void **state)
{
	struct fixture f;

	(void)state;
	make(&f, HOWTO, 1000, 1000, true);
	CHECK(&f, "1: john@example.org<-johnsmith@example.org", "johnsmith@example.org");
	CHECK(&f, "1: john@example.org<-postmaster@example.org", "postmaster@example.org");
	CHECK(&f, "1: john@example.org<-team@example.org jane@example.org<-team@example.org", "team@example.org");
	/* not aliased: the address itself, case kept */
	CHECK(&f, "0: John@Example.org<-John@Example.org", "John@Example.org");
	/* keys are case-insensitive */
	CHECK(&f, "1: john@example.org<-TEAM@Example.ORG jane@example.org<-TEAM@Example.ORG", "TEAM@Example.ORG");
	/* each final recipient once, even when several recipients of one message reach it */
	CHECK(&f, "0: john@example.org<-team@example.org jane@example.org<-team@example.org",
	      "team@example.org", "johnsmith@example.org", "john@example.org");
	unmake(&f);
}

static void test_dedupe_within_expansion(void **state)
{
	struct fixture f;

	(void)state;
	/* team reaches john directly and through johnsmith and again through staff */
	make(&f, "johnsmith@example.org=john@example.org, "
		 "staff@example.org=johnsmith@example.org, "
		 "{team@example.org=john@example.org jane@example.org, johnsmith@example.org, staff@example.org,"
		 " JOHN@example.org}",
	     1000, 1000, true);
	CHECK(&f, "1: john@example.org<-team@example.org jane@example.org<-team@example.org", "team@example.org");
	unmake(&f);
}

static void test_catchall(void **state)
{
	struct fixture f;

	(void)state;
	make(&f, "@example.net=catchall@example.org, sales@example.net=sales@example.net, "
		 "@alias.test=@example.org, bob@alias.test=robert@example.org",
	     1000, 1000, true);
	CHECK(&f, "1: catchall@example.org<-anyone@example.net", "anyone@example.net");
	/* a specific entry wins over the catch-all; mapping to itself makes it final */
	CHECK(&f, "1: sales@example.net<-sales@example.net", "sales@example.net");
	/* "@domain" result: same user at the other domain */
	CHECK(&f, "1: alice@example.org<-alice@alias.test", "alice@alias.test");
	CHECK(&f, "1: robert@example.org<-bob@alias.test", "bob@alias.test");
	unmake(&f);
}

static void test_external_and_unqualified(void **state)
{
	struct fixture f;

	(void)state;
	make(&f, "{fwd@example.org=someone@elsewhere.test, \"odd name\"@example.org <angle@example.org>}, "
		 "local@example.org=root",
	     1000, 1000, true);
	CHECK(&f,
	      "1: someone@elsewhere.test<-fwd@example.org \"odd name\"@example.org<-fwd@example.org "
	      "angle@example.org<-fwd@example.org",
	      "fwd@example.org");
	/* a bare user gets @$myorigin */
	CHECK(&f, "1: root@example.com<-local@example.org", "local@example.org");
	unmake(&f);
}

static void test_self_reference(void **state)
{
	struct fixture f;

	(void)state;
	/* keep a copy and forward one: the self-reference is final */
	make(&f, "{john@example.org=john@example.org, copy@elsewhere.test}, "
		 "{a@example.org=a@example.org, b@example.org}, b@example.org=a@example.org",
	     1000, 1000, true);
	CHECK(&f, "1: john@example.org<-john@example.org copy@elsewhere.test<-john@example.org",
	      "john@example.org");
	/* the result replaces the address: the table's spelling is kept */
	CHECK(&f, "1: john@example.org<-JOHN@example.org copy@elsewhere.test<-JOHN@example.org",
	      "JOHN@example.org");
	/* a -> {a, b}, b -> a: a is final wherever it is met again (no loop) */
	CHECK(&f, "1: a@example.org<-a@example.org", "a@example.org");
	/* b -> a -> {a (self), b}: walking b again ends at the self-referencing a, as in Postfix */
	CHECK(&f, "1: a@example.org<-b@example.org", "b@example.org");
	unmake(&f);
}

static void test_loops(void **state)
{
	struct fixture f;

	(void)state;
	make(&f, "a@example.org=b@example.org, b@example.org=a@example.org, c@example.org=c@example.org", 1000,
	     1000, true);
	CHECK(&f, "error virtual_alias_maps loop: a@example.org -> b@example.org -> a@example.org | -1:",
	      "a@example.org");
	/* an error leaves the list as it was */
	CHECK(&f, "error virtual_alias_maps loop: b@example.org -> a@example.org -> b@example.org | -1: "
		  "x@example.org<-x@example.org",
	      "x@example.org", "b@example.org");
	CHECK(&f, "1: c@example.org<-c@example.org", "c@example.org");
	unmake(&f);
}

static void test_limits(void **state)
{
	struct fixture f;

	(void)state;
	/* 4 aliases in a chain are 5 lookups (the last finds nothing): limit 5 fine, 4 "nesting" */
	make(&f, "a@x.test=b@x.test, b@x.test=c@x.test, c@x.test=d@x.test, d@x.test=e@x.test", 5, 1000, true);
	CHECK(&f, "1: e@x.test<-a@x.test", "a@x.test");
	unmake(&f);
	make(&f, "a@x.test=b@x.test, b@x.test=c@x.test, c@x.test=d@x.test, d@x.test=e@x.test", 4, 1000, true);
	CHECK(&f, "error unreasonable virtual_alias_maps map nesting for a@x.test | -1:", "a@x.test");
	unmake(&f);
	/* expansion to 4 addresses: fine with limit 4, "expansion size" with limit 3 */
	make(&f, "{l@x.test=1@x.test 2@x.test 3@x.test 4@x.test}", 1000, 4, true);
	CHECK(&f, "1: 1@x.test<-l@x.test 2@x.test<-l@x.test 3@x.test<-l@x.test 4@x.test<-l@x.test", "l@x.test");
	unmake(&f);
	make(&f, "{l@x.test=1@x.test 2@x.test 3@x.test 4@x.test}", 1000, 3, true);
	CHECK(&f, "error unreasonable virtual_alias_maps map expansion size for l@x.test | -1:", "l@x.test");
	unmake(&f);
	/* nested lists count together */
	make(&f, "{l@x.test=m@x.test n@x.test}, {m@x.test=1@x.test 2@x.test}, {n@x.test=3@x.test 4@x.test}", 1000,
	     3, true);
	CHECK(&f, "error unreasonable virtual_alias_maps map expansion size for l@x.test | -1:", "l@x.test");
	unmake(&f);
}

static void test_extensions(void **state)
{
	struct fixture f;

	(void)state;
	make(&f, HOWTO ", @example.net=catch@example.org, exact+tag@example.org=tagged@example.org", 1000, 1000,
	     true);
	/* matched without the extension: it is propagated to every result */
	CHECK(&f, "1: john+news@example.org<-johnsmith+news@example.org", "johnsmith+news@example.org");
	CHECK(&f, "1: john+x@example.org<-team+x@example.org jane+x@example.org<-team+x@example.org",
	      "team+x@example.org");
	CHECK(&f, "1: catch+y@example.org<-who+y@example.net", "who+y@example.net");
	/* matched with the extension: nothing to propagate */
	CHECK(&f, "1: tagged@example.org<-exact+tag@example.org", "exact+tag@example.org");
	/* an unaliased address keeps its extension */
	CHECK(&f, "0: john+z@example.org<-john+z@example.org", "john+z@example.org");
	unmake(&f);

	/* propagate_unmatched_extensions without "virtual": dropped */
	make(&f, HOWTO ", @alias.test=@example.org", 1000, 1000, false);
	CHECK(&f, "1: john@example.org<-johnsmith+news@example.org", "johnsmith+news@example.org");
	CHECK(&f, "1: alice@example.org<-alice+x@alias.test", "alice+x@alias.test");
	unmake(&f);
}

static void test_open_from_config(void **state)
{
	const char *text = "recipient_delimiter = -\nmyorigin = origin.test\n"
			   "virtual_alias_maps = inline:{ a@x.test=b }, inline:{ a@x.test=never, c@x.test=d@x.test }\n"
			   "propagate_unmatched_extensions = canonical\n";
	struct config *cfg = config_parse(text, strlen(text), "main.cf", NULL);
	const char *err = NULL, *value = NULL;
	struct valias_list l;
	struct valias *va = valias_open(cfg, &err);

	(void)state;
	assert_non_null(va);
	assert_false(valias_empty(va));
	valias_list_init(&l);
	assert_int_equal(valias_expand(va, "a-ext@x.test", &l, &err), 1);
	assert_int_equal(valias_expand(va, "c@x.test", &l, &err), 1);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].address, "b@origin.test"); /* first table wins; no propagation */
	assert_string_equal(l.v[1].address, "d@x.test");
	valias_list_free(&l);
	assert_int_equal(valias_find(va, "C@X.test", &value, &err), 1);
	assert_string_equal(value, "d@x.test");
	assert_int_equal(valias_find(va, "z@x.test", &value, &err), 0);
	valias_free(&va);
	config_free(&cfg);

	text = "virtual_alias_maps = hash:/nonexistent/postern/va\n";
	cfg = config_parse(text, strlen(text), "main.cf", NULL);
	assert_null(valias_open(cfg, &err));
	assert_non_null(strstr(err, "virtual_alias_maps"));
	config_free(&cfg);

	cfg = config_new("main.cf");
	va = valias_open(cfg, &err);
	assert_true(valias_empty(va));
	valias_list_init(&l);
	assert_int_equal(valias_expand(va, "x@y.test", &l, &err), 0);
	assert_int_equal(l.n, 1);
	valias_list_free(&l);
	valias_free(&va);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_howto_aliases),	 cmocka_unit_test(test_dedupe_within_expansion),
		cmocka_unit_test(test_catchall),	 cmocka_unit_test(test_external_and_unqualified),
		cmocka_unit_test(test_self_reference),	 cmocka_unit_test(test_loops),
		cmocka_unit_test(test_limits),		 cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_open_from_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
