/*
 * test_mapsrc.c - unit tests for src/libmail/mapsrc.c (postmap(1) text format, inline: lists)
 */
#include "unit.h"

#include "lib/buf.h"
#include "libmail/mapsrc.h"

/* run - parse n bytes and describe every result as "key=value@line;" / "E@line:text;" / "W@line:text;" */
static char *run(const char *in, size_t n, size_t line_max)
{
	struct mapsrc_limits lim = { line_max, 0 };
	struct mapsrc ms;
	struct mapsrc_entry e;
	struct buf out = BUF_INIT(0);
	enum mapsrc_result r;
	const char *why;

	mapsrc_init(&ms, in, n, line_max ? &lim : NULL);
	while ((r = mapsrc_next(&ms, &e, &why)) != MAPSRC_END) {
		if (r == MAPSRC_ENTRY)
			buf_printf(&out, "%.*s=%.*s@%u;", (int)e.key.n, e.key.p, (int)e.value.n, e.value.p,
				   e.line);
		else
			buf_printf(&out, "%c@%u:%s;", r == MAPSRC_ERROR ? 'E' : 'W', e.line, why);
	}
	mapsrc_free(&ms);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

struct tcase {
	const char *in;
	const char *want;
};

static const struct tcase cases[] = {
	{ "", "" },
	{ "a b\n", "a=b@1;" },
	{ "a b", "a=b@1;" },
	{ "a\tb\n", "a=b@1;" },
	{ "a   b c  \n", "a=b c@1;" },
	{ "team@example.org  john@example.org, jane@example.org\n",
	  "team@example.org=john@example.org, jane@example.org@1;" },
	/* comments and blank lines, also indented */
	{ "# c\n\n   \n\t# indented\na b\n", "a=b@5;" },
	/* a '#' after the key is data */
	{ "a b # not a comment\n", "a=b # not a comment@1;" },
	{ "a #b\n", "a=#b@1;" },
	/* continuation lines are joined as they are (no newline) */
	{ "a b\n c\nd e\n", "a=b c@1;d=e@3;" },
	{ "a\n  b\n", "a=b@1;" },
	{ "a b,\n\tc,\n\td\n", "a=b,\tc,\td@1;" },
	/* a comment or blank line inside a continued line is skipped */
	{ "a b\n# x\n c\n\n d\n", "a=b c d@1;" },
	/* missing value: error, the iterator goes on */
	{ "a\nb c\n", "E@1:expected format: key whitespace value;b=c@2;" },
	{ "a    \n", "E@1:expected format: key whitespace value;" },
	/* CRLF lines */
	{ "a b\r\nc d\r\n", "a=b@1;c=d@2;" },
	{ "a\r\n", "E@1:expected format: key whitespace value;" },
	{ "a b\r\n c\r\n", "a=b\r c@1;" },
	/* a continuation with nothing to continue: warning, skipped with its own continuations */
	{ "  a b\n  c\nd e\n", "W@1:logical line must not start with whitespace;d=e@3;" },
	/* anything up to the first white space is the key */
	{ "x@y.z\t \tv\n", "x@y.z=v@1;" },
};

static void test_cases(void **state)
{
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = run(cases[i].in, strlen(cases[i].in), 0);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\": got \"%s\", want \"%s\"", i, cases[i].in, got,
				 cases[i].want);
		free(got);
	}
}

static void test_nul_bytes(void **state)
{
	static const char in[] = "a b\0c\nd e\n\0\n";
	char *got;

	(void)state;
	got = run(in, sizeof(in) - 1, 0);
	assert_string_equal(got, "E@1:NUL byte in line;d=e@2;E@3:NUL byte in line;");
	free(got);
}

static void test_line_limit(void **state)
{
	char *got;

	(void)state;
	/* exactly at the limit is fine, one byte more is not */
	got = run("k 23456789\nk2 3456789a\n", 22, 10);
	assert_string_equal(got, "k=23456789@1;E@2:line too long;");
	free(got);
	/* the limit covers the joined logical line; the next line still parses */
	got = run("k 2345\n 78901\nx y\n", 18, 10);
	assert_string_equal(got, "E@1:line too long;x=y@3;");
	free(got);
}

static void test_very_long_line(void **state)
{
	size_t n = 3 * MAPSRC_LINE_MAX_DEFAULT;
	char *in = malloc(n + 16), *got;

	(void)state;
	memset(in, 'v', n);
	in[0] = 'k';
	in[1] = ' ';
	memcpy(in + n, "\nok fine\n", 9);
	got = run(in, n + 9, 0);
	assert_string_equal(got, "E@1:line too long;ok=fine@2;");
	free(got);
	free(in);
}

static void test_slices_point_into_input(void **state)
{
	const char *in = "key value\n";
	struct mapsrc ms;
	struct mapsrc_entry e;
	const char *why;

	(void)state;
	mapsrc_init(&ms, in, strlen(in), NULL);
	assert_int_equal(mapsrc_next(&ms, &e, &why), MAPSRC_ENTRY);
	assert_ptr_equal(e.key.p, in);
	assert_ptr_equal(e.value.p, in + 4);
	assert_int_equal(mapsrc_next(&ms, &e, &why), MAPSRC_END);
	assert_int_equal(mapsrc_next(&ms, &e, &why), MAPSRC_END);
	mapsrc_free(&ms);
}

/* inline_run - describe an inline: list as "key=value;" or "E:text" */
static char *inline_run(const char *s)
{
	struct mapsrc_inline it;
	struct slice k, v;
	struct buf out = BUF_INIT(0);
	const char *why;
	int r;

	if (mapsrc_inline_init(&it, s, strlen(s), &why) != 0) {
		buf_printf(&out, "E:%s", why);
		return buf_detach(&out);
	}
	while ((r = mapsrc_inline_next(&it, &k, &v, &why)) == 1)
		buf_printf(&out, "%.*s=%.*s;", (int)k.n, k.p, (int)v.n, v.p);
	if (r < 0)
		buf_printf(&out, "E:%s", why);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

static void test_inline(void **state)
{
	static const struct tcase ic[] = {
		{ "{ a=1, b=2 }", "a=1;b=2;" },
		{ "{a=1,b=2}", "a=1;b=2;" },
		{ "  { a=1  b=2 , , c= }  ", "a=1;b=2;c=;" },
		{ "{}", "" },
		{ "{ {a = x, y}, b=2 }", "a=x, y;b=2;" },
		{ "{ { a = {nested} }, b=2 }", "a={nested};b=2;" },
		{ "{ a=b=c }", "a=b=c;" },
		{ "a=1", "E:expected \"{ key=value, ... }\"" },
		{ "{ a=1", "E:expected \"{ key=value, ... }\"" },
		{ "{ a }", "E:expected key=value in inline: entry" },
		{ "{ =1 }", "E:missing key before '=' in inline: entry" },
		{ "{ a = 1 }", "E:expected key=value in inline: entry" },
		{ "{ {a=1 }", "E:missing '}' in inline: entry" },
		{ "{ {a=1}x }", "E:text after '}' in inline: entry" },
		{ "{ a=1} }", "E:unexpected '}' in inline: entry" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(ic) / sizeof(ic[0]); i++) {
		got = inline_run(ic[i].in);
		if (strcmp(got, ic[i].want) != 0)
			fail_msg("inline case %zu: \"%s\": got \"%s\", want \"%s\"", i, ic[i].in, got,
				 ic[i].want);
		free(got);
	}
}

/* alias_run - parse with the aliases(5) syntax, as run() */
static char *alias_run(const char *in)
{
	struct mapsrc_limits lim = { 0, 1 };
	struct mapsrc ms;
	struct mapsrc_entry e;
	struct buf out = BUF_INIT(0);
	enum mapsrc_result r;
	const char *why;

	mapsrc_init(&ms, in, strlen(in), &lim);
	while ((r = mapsrc_next(&ms, &e, &why)) != MAPSRC_END) {
		if (r == MAPSRC_ENTRY)
			buf_printf(&out, "%.*s=%.*s@%u;", (int)e.key.n, e.key.p, (int)e.value.n, e.value.p,
				   e.line);
		else
			buf_printf(&out, "%c@%u:%s;", r == MAPSRC_ERROR ? 'E' : 'W', e.line, why);
	}
	mapsrc_free(&ms);
	buf_putc(&out, '\0');
	return buf_detach(&out);
}

/* test_alias_syntax - "name: value" lines (postalias) */
static void test_alias_syntax(void **state)
{
	static const struct tcase alias_cases[] = {
		{ "root: john\n", "root=john@1;" },
		{ "root:john", "root=john@1;" },
		{ "root : john , jane\n", "root=john , jane@1;" },
		{ "# c\nteam: a,\n  b\n\nx: \"|cmd: y\"\n", "team=a,  b@2;x=\"|cmd: y\"@5;" },
		{ "root john\n", "E@1:expected format: key: value;" },
		{ ": john\n", "E@1:expected format: key: value;" },
		{ "root:\n", "E@1:expected format: key: value;" },
		{ "a b: c\n", "E@1:expected format: key: value;" },
		{ "a: b\nbad\nc: d\n", "a=b@1;E@2:expected format: key: value;c=d@3;" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(alias_cases) / sizeof(alias_cases[0]); i++) {
		char *got = alias_run(alias_cases[i].in);

		if (strcmp(got, alias_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\" want \"%s\"", i, got, alias_cases[i].want);
		free(got);
	}
	/* without the flag the same line is a postmap line */
	{
		char *got = run("root: john\n", 11, 0);

		assert_string_equal(got, "root:=john@1;");
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_very_long_line),
		cmocka_unit_test(test_slices_point_into_input),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_alias_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
