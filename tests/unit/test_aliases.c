/*
 * test_aliases.c - unit tests for src/libmail/aliases.c (alias values, expansion, mailbox paths)
 */
#include "unit.h"

#include <stdio.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "libmail/aliases.h"
#include "libmail/diag.h"

/* parse - describe the items of a value as "kind:text;" (U user/address, C command, F file, I include) */
static char *parse(const char *value)
{
	struct alias_item *it;
	struct buf out = BUF_INIT(0);
	const char *err;
	size_t n, i;

	if (alias_parse_value(value, &it, &n, &err) < 0) {
		buf_printf(&out, "error: %s", err);
	} else {
		for (i = 0; i < n; i++)
			buf_printf(&out, "%c:%s;", "URCFI"[it[i].kind], it[i].text);
		alias_items_free(&it, n);
	}
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

static void test_parse_value(void **state)
{
	static const char *const cases[][2] = {
		{ "john", "U:john;" },
		{ "john, jane", "U:john;U:jane;" },
		{ " john ,jane,, ", "U:john;U:jane;" },
		{ "john@example.com, <jane@example.org>", "U:john@example.com;U:jane@example.org;" },
		{ "|/usr/bin/cmd", "C:|/usr/bin/cmd;" },
		{ "\"|/usr/bin/cmd -a, b\", john", "C:|/usr/bin/cmd -a, b;U:john;" },
		{ "/var/log/mail.copy", "F:/var/log/mail.copy;" },
		{ ":include:/etc/list, :INCLUDE:/x", "I::include:/etc/list;I::INCLUDE:/x;" },
		{ "\"a\\\"b\"", "U:a\"b;" },
		{ "\"unbalanced, x", "error: unbalanced double quote" },
		{ " , ,", "error: empty alias value" },
		{ "<>, john", "U:john;" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = parse(cases[i][0]);

		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("case %zu \"%s\": got \"%s\" want \"%s\"", i, cases[i][0], got, cases[i][1]);
		free(got);
	}
}

/* a fake alias table and domain classification */
static const char *const table[][2] = {
	{ "root", "admin" },
	{ "admin", "john, root" },
	{ "postmaster", "root" },
	{ "team", "john, Jane@Local.Test, bob@remote.test, \"|/bin/cmd\"" },
	{ "john+lists", "/var/mail/lists" },
	{ "loop1", "loop2" },
	{ "loop2", "loop1" },
	{ "self", "self, john" },
	{ "deep0", "deep1" },
	{ "broken", "\"x" },
	{ "fails", "failing" },
};
static int lookups;

static int fake_lookup(void *ctx, const char *name, char **value_r, const char **error_r)
{
	size_t i;

	(void)ctx;
	lookups++;
	if (strcmp(name, "failing") == 0) {
		*error_r = "alias_maps: hash:/x: read error";
		return -1;
	}
	/* deepN -> deepN+1 forever */
	if (strncmp(name, "deep", 4) == 0) {
		*value_r = xasprintf("deep%d", (int)strtol(name + 4, NULL, 10) + 1);
		return 1;
	}
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i][0], name) == 0) {
			*value_r = xstrdup(table[i][1]);
			return 1;
		}
	return 0;
}

static int fake_classify(void *ctx, const char *addr, char **local_r, const char **error_r)
{
	const char *at = strrchr(addr, '@');

	(void)ctx;
	(void)error_r;
	if (strcmp(at + 1, "local.test") != 0)
		return 0;
	*local_r = xstrndup(addr, (size_t)(at - addr));
	return 1;
}

/* expand - "kind:text<via;" for each destination, or "error: ..." */
static char *expand(const char *user)
{
	struct alias_hooks h = { fake_lookup, fake_classify, NULL };
	struct alias_list l;
	struct buf out = BUF_INIT(0);
	const char *err;
	size_t i;

	if (alias_expand(&h, user, "+", &l, &err) < 0) {
		buf_printf(&out, "error: %s", err);
	} else {
		for (i = 0; i < l.n; i++)
			buf_printf(&out, "%c:%s<%s;", "URCFI"[l.v[i].kind], l.v[i].text, l.v[i].via ? l.v[i].via : "");
		alias_list_free(&l);
	}
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

static void test_expand(void **state)
{
	static const char *const cases[][2] = {
		/* not aliased: the user's own mailbox, without the extension, folded */
		{ "john", "U:john<;" },
		{ "John+Tag", "U:john<;" },
		/* aliases recurse; a name met again goes to its own mailbox (root: admin; admin: john, root) */
		{ "postmaster", "U:john<admin;U:root<admin;" },
		{ "ROOT", "U:john<admin;U:root<admin;" },
		{ "team", "U:john<team;U:jane<team;R:bob@remote.test<team;C:|/bin/cmd<team;" },
		/* the address with extension is looked up first */
		{ "john+lists", "F:/var/mail/lists<john+lists;" },
		{ "john+other", "U:john<;" },
		{ "loop1", "U:loop1<loop2;" },
		{ "self", "U:self<self;U:john<self;" },
		{ "deep0", "error: alias_maps: unreasonable alias nesting for \"deep100\"" },
		{ "broken", "error: alias_maps: bad value for \"broken\": unbalanced double quote" },
		{ "fails", "error: alias_maps: hash:/x: read error" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = expand(cases[i][0]);

		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("case %zu \"%s\": got \"%s\" want \"%s\"", i, cases[i][0], got, cases[i][1]);
		free(got);
	}
}

/* big_lookup - "wide" expands to 2000 distinct users */
static int big_lookup(void *ctx, const char *name, char **value_r, const char **error_r)
{
	struct buf b = BUF_INIT(0);
	int i;

	(void)ctx;
	(void)error_r;
	if (strcmp(name, "wide") != 0)
		return 0;
	for (i = 0; i < 2000; i++)
		buf_printf(&b, "u%d,", i);
	buf_putc(&b, '\0');
	*value_r = buf_detach(&b);
	return 1;
}

static void test_expansion_limit(void **state)
{
	struct alias_hooks h = { big_lookup, fake_classify, NULL };
	struct alias_list l;
	const char *err;

	(void)state;
	assert_int_equal(alias_expand(&h, "wide", "", &l, &err), -1);
	assert_non_null(strstr(err, "alias_maps: more than 1000 "));
	assert_int_equal(l.n, 0);
}

/* graph_lookup - gN: g0, g1, ..., g29 (every name points to every name) */
static int graph_lookup(void *ctx, const char *name, char **value_r, const char **error_r)
{
	struct buf b = BUF_INIT(0);
	int i;

	(void)ctx;
	(void)error_r;
	lookups++;
	if (name[0] != 'g')
		return 0;
	for (i = 0; i < 30; i++)
		buf_printf(&b, "g%d, ", i);
	buf_putc(&b, '\0');
	*value_r = buf_detach(&b);
	return 1;
}

/* test_linear - a densely connected table is expanded once per name, not once per path */
static void test_linear(void **state)
{
	struct alias_hooks h = { graph_lookup, fake_classify, NULL };
	struct alias_list l;
	const char *err;
	size_t i;

	(void)state;
	lookups = 0;
	assert_int_equal(alias_expand(&h, "g0", "", &l, &err), 0);
	assert_int_equal(l.n, 30);
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.v[i].kind, ALIAS_DEST_USER);
	assert_true(lookups <= 30);
	alias_list_free(&l);
}

static void test_mailbox_path(void **state)
{
	struct buf b = BUF_INIT(64);

	(void)state;
	assert_int_equal(alias_mailbox_path(&b, "Maildir/", "/home/john", "/var/mail", "john"), 0);
	assert_string_equal(buf_cstr(&b), "/home/john/Maildir/");
	assert_int_equal(alias_mailbox_path(&b, "Mailbox", "/home/john/", "/var/mail", "john"), 0);
	assert_string_equal(buf_cstr(&b), "/home/john/Mailbox");
	assert_int_equal(alias_mailbox_path(&b, "", "/home/john", "/var/mail", "john"), 0);
	assert_string_equal(buf_cstr(&b), "/var/mail/john");
	assert_int_equal(alias_mailbox_path(&b, NULL, "/home/john", "/var/mail/", "john"), 0);
	assert_string_equal(buf_cstr(&b), "/var/mail/john");
	/* a relative home or spool, or a path past the buffer's maximum, is refused */
	assert_int_equal(alias_mailbox_path(&b, "Maildir/", "relative", "/var/mail", "john"), -1);
	assert_int_equal(alias_mailbox_path(&b, "", "/home/john", "spool", "john"), -1);
	assert_int_equal(alias_mailbox_path(&b, "", "/home/john", "/var/mail",
					    "a-very-long-user-name-that-does-not-fit-in-sixty-four-bytes-at-all"), -1);
	buf_free(&b);
}

static void test_default_absent(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct config *unset = config_parse("", 0, "main.cf", &dl);
	struct config *set = config_parse("alias_maps = hash:/etc/aliases\n", 32, "main.cf", &dl);
	bool none = access("/etc/aliases", F_OK) != 0 && access("/etc/aliases.db", F_OK) != 0;

	(void)state;
	assert_non_null(unset);
	assert_non_null(set);
	/* only the untouched default, and only when neither file exists */
	assert_true(alias_default_absent(unset, "hash:/etc/aliases") == none);
	assert_false(alias_default_absent(set, "hash:/etc/aliases"));
	assert_false(alias_default_absent(unset, "hash:/etc/postern/aliases"));
	config_free(&unset);
	config_free(&set);
	diag_free(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_value),    cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expansion_limit), cmocka_unit_test(test_mailbox_path),
		cmocka_unit_test(test_default_absent), cmocka_unit_test(test_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
