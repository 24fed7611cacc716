/*
 * test_strtab.c - unit tests for src/lib/strtab.c (name <-> code tables)
 */
#include "unit.h"

#include "lib/strtab.h"

enum { V_NONE = -1, V_HELO = 1, V_EHLO, V_MAIL, V_YES, V_NO };

static const struct strtab verbs[] = {
	{ "HELO", V_HELO }, { "EHLO", V_EHLO }, { "MAIL", V_MAIL },
	{ "yes", V_YES },   { "true", V_YES },  { "no", V_NO },
	{ "", 99 },	    STRTAB_END,
};

static const struct strtab empty[] = { STRTAB_END };

#define C_BOUNCE 0x1
#define C_2BOUNCE 0x2
#define C_RESOURCE 0x4
#define C_SOFTWARE 0x8

static const struct strtab classes[] = {
	{ "bounce", C_BOUNCE },	    { "2bounce", C_2BOUNCE }, { "resource", C_RESOURCE },
	{ "software", C_SOFTWARE }, { "all", 0xf },	      STRTAB_END,
};

static void test_code(void **state)
{
	(void)state;
	assert_int_equal(strtab_code(verbs, "HELO", STRTAB_EXACT, V_NONE), V_HELO);
	assert_int_equal(strtab_code(verbs, "MAIL", STRTAB_EXACT, V_NONE), V_MAIL);
	assert_int_equal(strtab_code(verbs, "mail", STRTAB_EXACT, V_NONE), V_NONE);
	assert_int_equal(strtab_code(verbs, "mail", STRTAB_NOCASE, V_NONE), V_MAIL);
	assert_int_equal(strtab_code(verbs, "MaIl", STRTAB_NOCASE, V_NONE), V_MAIL);
	assert_int_equal(strtab_code(verbs, "TRUE", STRTAB_NOCASE, V_NONE), V_YES);
	/* prefixes and extensions do not match */
	assert_int_equal(strtab_code(verbs, "MAI", STRTAB_NOCASE, V_NONE), V_NONE);
	assert_int_equal(strtab_code(verbs, "MAILX", STRTAB_NOCASE, V_NONE), V_NONE);
	/* the empty name is a name like any other */
	assert_int_equal(strtab_code(verbs, "", STRTAB_EXACT, V_NONE), 99);
	assert_int_equal(strtab_code(empty, "", STRTAB_EXACT, V_NONE), V_NONE);
	assert_int_equal(strtab_code(empty, "x", STRTAB_NOCASE, 7), 7);
	/* non-ASCII bytes do not fold */
	assert_int_equal(strtab_code(verbs, "H\xc3\x89LO", STRTAB_NOCASE, V_NONE), V_NONE);
}

static void test_code_n_and_slice(void **state)
{
	const char *line = "EHLO mx.example.org";
	struct slice verb;

	(void)state;
	assert_int_equal(strtab_code_n(verbs, line, 4, STRTAB_EXACT, V_NONE), V_EHLO);
	assert_int_equal(strtab_code_n(verbs, line, 5, STRTAB_EXACT, V_NONE), V_NONE);
	assert_int_equal(strtab_code_n(verbs, line, 3, STRTAB_EXACT, V_NONE), V_NONE);
	assert_int_equal(strtab_code_n(verbs, line, 0, STRTAB_EXACT, V_NONE), 99);
	/* a NUL inside the counted name never matches */
	assert_int_equal(strtab_code_n(verbs, "no\0", 3, STRTAB_EXACT, V_NONE), V_NONE);
	assert_int_equal(strtab_code_n(verbs, "no\0", 3, STRTAB_NOCASE, V_NONE), V_NONE);
	assert_int_equal(strtab_code_n(verbs, "n\0o", 3, STRTAB_EXACT, V_NONE), V_NONE);
	assert_int_equal(strtab_code_n(verbs, "no\0", 2, STRTAB_EXACT, V_NONE), V_NO);
	verb = slice_make("ehlo there", 4);
	assert_int_equal(strtab_code_slice(verbs, verb, STRTAB_NOCASE, V_NONE), V_EHLO);
	assert_int_equal(strtab_code_slice(verbs, slice_make(NULL, 0), STRTAB_EXACT, V_NONE), 99);
	assert_int_equal(strtab_find(verbs, "true", 4, STRTAB_EXACT), 4);
	assert_int_equal(strtab_find(verbs, "TRUE", 4, STRTAB_EXACT), -1);
}

static void test_name(void **state)
{
	(void)state;
	assert_string_equal(strtab_name(verbs, V_MAIL, NULL), "MAIL");
	/* aliases: the first row of a code names it */
	assert_string_equal(strtab_name(verbs, V_YES, NULL), "yes");
	assert_null(strtab_name(verbs, 12345, NULL));
	assert_string_equal(strtab_name(verbs, 12345, "unknown"), "unknown");
	assert_null(strtab_name(empty, 0, NULL));
}

static void test_mask(void **state)
{
	struct slice bad = { NULL, 0 };
	int mask = -1;

	(void)state;
	assert_int_equal(strtab_mask(classes, SLICE_LIT("bounce, resource"), ", \t", STRTAB_EXACT, &mask,
				     &bad),
			 0);
	assert_int_equal(mask, C_BOUNCE | C_RESOURCE);
	assert_int_equal(
		strtab_mask(classes, SLICE_LIT("  Software\t2BOUNCE,,"), ", \t", STRTAB_NOCASE, &mask, NULL),
		0);
	assert_int_equal(mask, C_SOFTWARE | C_2BOUNCE);
	assert_int_equal(strtab_mask(classes, SLICE_LIT("all bounce"), ", ", STRTAB_EXACT, &mask, NULL),
			 0);
	assert_int_equal(mask, 0xf);
	assert_int_equal(strtab_mask(classes, SLICE_LIT(""), ", ", STRTAB_EXACT, &mask, NULL), 0);
	assert_int_equal(mask, 0);
	assert_int_equal(strtab_mask(classes, SLICE_LIT(" , "), ", ", STRTAB_EXACT, &mask, NULL), 0);
	assert_int_equal(mask, 0);
	/* the first unknown name is reported, the mask left alone */
	mask = 42;
	assert_int_equal(strtab_mask(classes, SLICE_LIT("bounce, delay, bogus"), ", ", STRTAB_EXACT,
				     &mask, &bad),
			 -1);
	assert_true(slice_eq_cstr(bad, "delay"));
	assert_int_equal(mask, 42);
	assert_int_equal(strtab_mask(classes, SLICE_LIT("Bounce"), ", ", STRTAB_EXACT, &mask, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code),
		cmocka_unit_test(test_code_n_and_slice),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
