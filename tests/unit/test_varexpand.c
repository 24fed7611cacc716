/*
 * test_varexpand.c - unit tests for src/libmail/varexpand.c (Dovecot %variable templates)
 *
 * Table-driven: template + key table -> output or error; Dovecot's outputs
 * (pop3_uidl_format %08Xu%08Xv, %Lu, %1u, %-2.2d, long names).
 */
#include "unit.h"

#include "lib/buf.h"
#include "libmail/varexpand.h"

struct vcase {
	const char *tmpl;
	const char *want; /* NULL: an error is expected */
	const char *err;  /* part of the error phrase */
};

/* user_table - keys of user "John.Doe@Example.COM" with home /home/jd */
static size_t user_table(struct var_entry *tab, char *scratch, const char *user)
{
	return var_user_table(tab, user, "/home/jd", scratch);
}

/* run_cases - each case through var_expand and var_check */
static void run_cases(const struct vcase *c, size_t n, const struct var_entry *tab, size_t ntab)
{
	size_t i, at;

	for (i = 0; i < n; i++) {
		struct buf out = BUF_INIT(4096);
		const char *err = NULL;
		int rc = var_expand(c[i].tmpl, tab, ntab, &out, &err, &at);
		int rc2 = var_check(c[i].tmpl, tab, ntab, &err, &at);

		if (c[i].want) {
			if (rc != 0)
				fail_msg("%s: error %s", c[i].tmpl, err);
			assert_int_equal(rc2, 0);
			if (strcmp(buf_cstr(&out), c[i].want) != 0)
				fail_msg("%s: got \"%s\", want \"%s\"", c[i].tmpl, buf_cstr(&out), c[i].want);
		} else {
			if (rc != -1 || rc2 != -1)
				fail_msg("%s: no error", c[i].tmpl);
			if (strstr(err, c[i].err) == NULL)
				fail_msg("%s: error \"%s\", want \"%s\"", c[i].tmpl, err, c[i].err);
		}
		buf_free(&out);
	}
}

static void test_user_variables(void **state)
{
	static const struct vcase cases[] = {
		{ "%u", "John.Doe@Example.COM", NULL },
		{ "%n", "John.Doe", NULL },
		{ "%d", "Example.COM", NULL },
		{ "%h", "/home/jd", NULL },
		{ "100%%", "100%", NULL },
		{ "%Lu", "john.doe@example.com", NULL },
		{ "%Ud", "EXAMPLE.COM", NULL },
		{ "%Ln@%Ld", "john.doe@example.com", NULL },
		{ "%1u", "J", NULL },
		{ "%3n", "Joh", NULL },
		{ "%2.1n", "h", NULL },
		{ "%-2.2d", "OM", NULL },
		{ "%1.-1n", "ohn.Do", NULL },
		{ "%0.4n", "John", NULL },
		{ "%20n", "John.Doe", NULL },
		{ "%{user}", "John.Doe@Example.COM", NULL },
		{ "%{username}", "John.Doe", NULL },
		{ "%{domain}", "Example.COM", NULL },
		{ "%{home}", "/home/jd", NULL },
		{ "%L{domain}", "example.com", NULL },
		{ "/var/spool/mail/%d/%n/", "/var/spool/mail/Example.COM/John.Doe/", NULL },
		{ "maildir:~/Maildir", "maildir:~/Maildir", NULL },
		{ "%Rn", "eoD.nhoJ", NULL },
		{ "%Dd", "Example,dc=COM", NULL },
		{ "%LRn", "eod.nhoj", NULL },
		{ "", "", NULL },
		{ "%q", NULL, "unknown variable" },
		{ "%{nosuch}", NULL, "unknown variable" },
		{ "%{user", NULL, "unterminated" },
		{ "abc%", NULL, "at the end" },
		{ "%L", NULL, "at the end" },
		{ "%Hu", NULL, "not supported" },
		{ "%Mu", NULL, "not supported" },
	};
	struct var_entry tab[VAR_USER_ENTRIES];
	char scratch[64];
	size_t n = user_table(tab, scratch, "John.Doe@Example.COM");

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]), tab, n);
}

static void test_user_without_domain(void **state)
{
	static const struct vcase cases[] = {
		{ "%n", "bob", NULL },
		{ "[%d]", "[]", NULL },
		{ "%u", "bob", NULL },
	};
	struct var_entry tab[VAR_USER_ENTRIES];
	char scratch[16];
	size_t n = user_table(tab, scratch, "bob");

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]), tab, n);
}

static void test_uidl_variables(void **state)
{
	static const struct vcase cases[] = {
		/* Dovecot's %X prints lowercase hex (printf %llx) */
		{ "%08Xu%08Xv", "000000015f5e1000", NULL },
		{ "%Xv", "5f5e1000", NULL },
		{ "%XUv", "5F5E1000", NULL }, /* modifiers apply left to right */
		{ "%UXv", "5f5e1000", NULL },
		{ "%u.%v", "1.1600000000", NULL },
		{ "%08u", "00000001", NULL },
		{ "%02v", "1600000000", NULL }, /* zero padding never truncates */
		{ "%v-%u", "1600000000-1", NULL },
		{ "%f", "1600000000.M1P2.host", NULL },
		{ "%g", "b2a4c1d02e8f", NULL },
		{ "%m", "0123456789abcdef0123456789abcdef", NULL },
		{ "%{uid}/%{uidvalidity}", "1/1600000000", NULL },
		{ "%Xf", "0", NULL }, /* not a number: Dovecot gives 0 */
		{ "%n", NULL, "unknown variable" },
	};
	static const struct var_entry tab[] = {
		{ 'u', "uid", "1" },
		{ 'v', "uidvalidity", "1600000000" },
		{ 'f', "filename", "1600000000.M1P2.host" },
		{ 'g', "guid", "b2a4c1d02e8f" },
		{ 'm', "md5", "0123456789abcdef0123456789abcdef" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]), tab, sizeof(tab) / sizeof(tab[0]));
}

static void test_error_offset_and_bound(void **state)
{
	static const struct var_entry tab[] = { { 'u', "user", "abcdefgh" } };
	struct buf out = BUF_INIT(5);
	const char *err = NULL;
	size_t at = 99;

	(void)state;
	assert_int_equal(var_check("ok %u then %q", tab, 1, &err, &at), -1);
	assert_int_equal(at, 11);
	/* the output is bounded by the caller's buffer */
	assert_int_equal(var_expand("%u", tab, 1, &out, &err, &at), -1);
	assert_non_null(strstr(err, "too long"));
	buf_free(&out);
	/* a NULL value counts as empty */
	{
		static const struct var_entry t2[] = { { 'x', NULL, NULL } };
		struct buf o2 = BUF_INIT(64);

		assert_int_equal(var_expand("[%x]", t2, 1, &o2, &err, &at), 0);
		assert_string_equal(buf_cstr(&o2), "[]");
		buf_free(&o2);
	}
}

static void test_truncated_templates(void **state)
{
	static const char tmpl[] = "%-2.08LXu%{username}%%%1.2Rd%{x{y}}%";
	static const struct var_entry tab[] = { { 'u', "username", "42" }, { 'd', NULL, "dom" } };
	size_t cut, at;

	(void)state;
	for (cut = 0; cut < sizeof(tmpl); cut++) {
		char *copy = malloc(cut + 1);
		struct buf out = BUF_INIT(1024);
		const char *err;

		memcpy(copy, tmpl, cut);
		copy[cut] = '\0';
		(void)var_expand(copy, tab, 2, &out, &err, &at);
		buf_free(&out);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_variables),
		cmocka_unit_test(test_user_without_domain),
		cmocka_unit_test(test_uidl_variables),
		cmocka_unit_test(test_error_offset_and_bound),
		cmocka_unit_test(test_truncated_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
