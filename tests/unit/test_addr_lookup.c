/*
 * test_addr_lookup.c - unit tests for src/libmail/addr_lookup.c (Postfix's address lookup order)
 */
#include "unit.h"

#include "lib/buf.h"
#include "libmail/addr_lookup.h"
#include "libmail/dict.h"

/* keys - the lookup keys for addr joined with " | " */
static char *keys(const char *addr, const char *delims)
{
	struct addr_keys k;
	struct buf out = BUF_INIT(0);
	size_t i;

	addr_lookup_keys(addr, delims, &k);
	for (i = 0; i < k.n; i++)
		buf_printf(&out, "%s%s", i ? " | " : "", k.key[i]);
	if (k.extension)
		buf_printf(&out, " (ext %s)", k.extension);
	addr_keys_free(&k);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

static void test_keys(void **state)
{
	static const char *const cases[][3] = {
		{ "user+ext@domain", "+", "user+ext@domain | user@domain | @domain (ext ext)" },
		{ "User+Ext@Example.ORG", "+", "user+ext@example.org | user@example.org | @example.org (ext ext)" },
		{ "user@domain", "+", "user@domain | @domain" },
		/* no delimiter configured: the extension is part of the local part */
		{ "user+ext@domain", "", "user+ext@domain | @domain" },
		{ "user+ext@domain", NULL, "user+ext@domain | @domain" },
		/* a set of delimiters: the first of any of them splits */
		{ "user-a+b@domain", "+-", "user-a+b@domain | user@domain | @domain (ext a+b)" },
		{ "user+a-b@domain", "-+", "user+a-b@domain | user@domain | @domain (ext a-b)" },
		{ "user_x@domain", "+-", "user_x@domain | @domain" },
		/* an empty local part after the split: no split */
		{ "+ext@domain", "+", "+ext@domain | @domain" },
		{ "user+@domain", "+", "user+@domain | user@domain | @domain (ext )" },
		/* reserved names, owner-/-request with '-' */
		{ "postmaster+x@domain", "+", "postmaster+x@domain | postmaster@domain | @domain (ext x)" },
		{ "Postmaster@domain", "+", "postmaster@domain | @domain" },
		{ "owner-list@domain", "-", "owner-list@domain | @domain" },
		{ "list-request@domain", "-", "list-request@domain | @domain" },
		{ "list-request@domain", "+", "list-request@domain | @domain" },
		{ "list-foo@domain", "-", "list-foo@domain | list@domain | @domain (ext foo)" },
		/* the domain follows the last '@'; a delimiter in the domain does not split */
		{ "\"a@b\"@domain", "+", "\"a@b\"@domain | @domain" },
		{ "user@do+main", "+", "user@do+main | @do+main" },
		/* no domain */
		{ "user+ext", "+", "user+ext | user (ext ext)" },
		{ "user@", "+", "user@" },
		{ "@domain", "+", "@domain" },
		{ "", "+", "" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = keys(cases[i][0], cases[i][1]);
		if (strcmp(got, cases[i][2]) != 0)
			fail_msg("\"%s\" with \"%s\": got \"%s\", want \"%s\"", cases[i][0],
				 cases[i][1] ? cases[i][1] : "(null)", got, cases[i][2]);
		free(got);
	}
}

/* lookup - addr_lookup() returning "kind key=value" or "none" */
static char *lookup(struct dict *d, const char *addr, const char *delims)
{
	static const char *const kind[] = { "none", "full", "noext", "catchall" };
	struct addr_match m;
	struct buf out = BUF_INIT(0);
	const char *err = NULL;
	int rc = addr_lookup(d, addr, delims, &m, &err);

	if (rc < 0)
		fail_msg("addr_lookup(%s): %s", addr, err);
	if (rc > 0)
		buf_printf(&out, "%s %s=%s", kind[m.kind], m.key, m.value);
	else
		buf_printf(&out, "%s", kind[m.kind]);
	addr_match_free(&m);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

static void test_order(void **state)
{
	const char *err = NULL;
	struct dict *d = dict_open("inline:{ user+ext@example.org=exact, user@example.org=plain, "
				   "@example.org=catchall, other@example.net=o }",
				   DICT_FLAGS_DEFAULT, &err);
	char *got;

	(void)state;
	assert_non_null(d);
#define CHECK(addr, delims, want)                        \
	do {                                             \
		got = lookup(d, addr, delims);           \
		assert_string_equal(got, want);          \
		free(got);                               \
	} while (0)
	CHECK("user+ext@example.org", "+", "full user+ext@example.org=exact");
	CHECK("USER+EXT@Example.Org", "+", "full user+ext@example.org=exact");
	CHECK("user+other@example.org", "+", "noext user@example.org=plain");
	CHECK("user@example.org", "+", "full user@example.org=plain");
	CHECK("someone@example.org", "+", "catchall @example.org=catchall");
	/* without a delimiter the extension is not stripped: only the catch-all is left */
	CHECK("user+other@example.org", "", "catchall @example.org=catchall");
	CHECK("other+x@example.net", "+", "noext other@example.net=o");
	CHECK("other+x@example.net", "-", "none");
	CHECK("nobody@example.com", "+", "none");
#undef CHECK
	dict_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
