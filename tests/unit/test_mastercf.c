/*
 * test_mastercf.c - unit tests for src/libmail/mastercf.c (master.cf service table)
 */
#include "unit.h"

#include <stdio.h>

#include "lib/buf.h"
#include "libmail/config.h"
#include "libmail/mastercf.h"

/* parse - table from a C string; diags collected in *dl */
static struct mastercf *parse(const char *text, struct diag_list *dl)
{
	diag_init(dl);
	return mastercf_parse(text, strlen(text), "master.cf", dl);
}

/* has_error - some finding at line whose message contains text */
static bool has_error(const struct diag_list *dl, int line, const char *text)
{
	size_t i;

	for (i = 0; i < dl->n; i++)
		if (dl->v[i].line == line && strstr(dl->v[i].msg, text) != NULL)
			return true;
	return false;
}

static void test_stock_lines(void **state)
{
	struct diag_list dl;
	struct mastercf *m = parse("# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
				   "smtp      inet  n       -       n       -       -       smtpd\n"
				   "127.0.0.1:2525 inet n - n - - smtpd\n"
				   "[::1]:submission inet n - y - 10 smtpd -v\n"
				   "pickup    unix  n       -       n       60      1       pickup\n"
				   "qmgr      unix  n       -       n       300?    1       qmgr\n"
				   "smtp      unix  -       -       n       -       -       smtp\n",
				   &dl);
	const struct master_service *s;

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_int_equal(m->n, 6);
	s = &m->v[0];
	assert_string_equal(s->name, "smtp");
	assert_int_equal(s->type, MASTER_INET);
	assert_null(s->host);
	assert_int_equal(s->port, 25);
	assert_false(s->private_);
	assert_true(s->unpriv);
	assert_false(s->chroot);
	assert_int_equal(s->wakeup, 0);
	assert_int_equal(s->maxproc, -1);
	assert_string_equal(s->command, "smtpd");
	assert_int_equal(s->n_args, 0);
	assert_int_equal(s->line, 2);
	s = &m->v[1];
	assert_string_equal(s->host, "127.0.0.1");
	assert_int_equal(s->port, 2525);
	s = &m->v[2];
	assert_string_equal(s->host, "::1");
	assert_int_equal(s->port, 587);
	assert_true(s->chroot);
	assert_int_equal(s->maxproc, 10);
	assert_int_equal(s->n_args, 1);
	assert_string_equal(s->args[0], "-v");
	assert_null(s->args[1]);
	s = mastercf_find(m, "pickup", MASTER_UNIX);
	assert_non_null(s);
	assert_false(s->private_);
	assert_int_equal(s->port, 0);
	assert_int_equal(s->wakeup, 60);
	assert_false(s->wakeup_if_used);
	assert_int_equal(s->maxproc, 1);
	s = mastercf_find(m, "qmgr", MASTER_UNIX);
	assert_int_equal(s->wakeup, 300);
	assert_true(s->wakeup_if_used);
	/* same name, different type: two services; "-" private means y */
	s = mastercf_find(m, "smtp", MASTER_UNIX);
	assert_non_null(s);
	assert_true(s->private_);
	assert_null(mastercf_find(m, "smtp", MASTER_FIFO));
	mastercf_free(&m);
	assert_null(m);
	diag_free(&dl);
}

static void test_port_names(void **state)
{
	(void)state;
	assert_int_equal(master_port_by_name("smtp"), 25);
	assert_int_equal(master_port_by_name("submission"), 587);
	assert_int_equal(master_port_by_name("submissions"), 465);
	assert_int_equal(master_port_by_name("smtps"), 465);
	assert_int_equal(master_port_by_name("imaps"), 993);
	assert_int_equal(master_port_by_name("gopher"), -1);
	assert_string_equal(master_type_name(MASTER_UNIX_DGRAM), "unix-dgram");
}

static void test_overrides(void **state)
{
	struct diag_list dl;
	struct mastercf *m = parse("submission inet n - n - - smtpd\n"
				   "  -o syslog_name=postfix/submission\n"
				   "  -o smtpd_tls_security_level=encrypt\n"
				   "#  -o smtpd_tls_auth_only=yes (commented out between options)\n"
				   "  -o { smtpd_banner = $myhostname ESMTP submission ready }\n"
				   "  -osmtpd_sasl_auth_enable=yes -v\n"
				   "  -o smtpd_recipient_restrictions=\n"
				   "smtps inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n",
				   &dl);
	const struct master_service *s;

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_int_equal(m->n, 2);
	s = &m->v[0];
	assert_int_equal(s->port, 587);
	assert_int_equal(s->n_opts, 5);
	assert_string_equal(s->opts[0].name, "syslog_name");
	assert_string_equal(s->opts[0].value, "postfix/submission");
	assert_int_equal(s->opts[0].line, 2);
	assert_int_equal(s->opts[1].line, 3);
	assert_string_equal(s->opts[2].name, "smtpd_banner");
	assert_string_equal(s->opts[2].value, "$myhostname ESMTP submission ready");
	assert_int_equal(s->opts[2].line, 5);
	assert_string_equal(s->opts[3].name, "smtpd_sasl_auth_enable");
	assert_string_equal(s->opts[3].value, "yes");
	assert_int_equal(s->opts[3].line, 6);
	assert_string_equal(s->opts[4].value, "");
	assert_int_equal(s->n_args, 1);
	assert_string_equal(s->args[0], "-v");
	s = &m->v[1];
	assert_int_equal(s->port, 465);
	assert_int_equal(s->line, 8);
	assert_int_equal(s->n_opts, 1);
	mastercf_free(&m);
	diag_free(&dl);
}

static void test_service_config(void **state)
{
	static const char maincf[] = "myhostname = mail.example.com\n";
	struct diag_list dl;
	struct mastercf *m = parse("submission inet n - n - - smtpd\n"
				   "  -o { smtpd_banner = $myhostname submission }\n"
				   "  -o smtpd_timeout=soon\n"
				   "  -o smtpd_frobnicate=1\n",
				   &dl);
	struct config *base = config_parse(maincf, strlen(maincf), "main.cf", &dl), *svc;
	const char *v;
	int line;

	(void)state;
	assert_int_equal(dl.n, 0);
	svc = mastercf_service_config(base, &m->v[0], &dl);
	assert_true(has_error(&dl, 3, "bad value for smtpd_timeout: \"soon\""));
	assert_true(has_error(&dl, 4, "unknown parameter \"smtpd_frobnicate\""));
	assert_string_equal(dl.v[0].file, "master.cf");
	v = config_get(svc, "smtpd_banner");
	assert_string_equal(v, "mail.example.com submission");
	assert_string_equal(config_where(svc, "smtpd_banner", &line), "master.cf");
	assert_int_equal(line, 2);
	config_free(&svc);
	config_free(&base);
	mastercf_free(&m);
	diag_free(&dl);
}

static void test_errors(void **state)
{
	static const struct {
		const char *line, *error;
	} cases[] = {
		{ "smtp inet n - n - -", "expected at least 8 fields, found 7" },
		{ "smtp tcp n - n - - smtpd", "bad type field \"tcp\" (expected inet, unix" },
		{ "smtp inet x - n - - smtpd", "bad private field \"x\"" },
		{ "smtp inet n yes n - - smtpd", "bad unpriv field \"yes\"" },
		{ "smtp inet n - maybe - - smtpd", "bad chroot field" },
		{ "smtp inet n - n soon - smtpd", "bad wakeup field \"soon\"" },
		{ "smtp inet n - n - -1 smtpd", "bad maxproc field \"-1\"" },
		{ "gopher inet n - n - - smtpd", "unknown service name \"gopher\"" },
		{ "127.0.0.1:0 inet n - n - - smtpd", "bad port \"0\"" },
		{ "127.0.0.1:70000 inet n - n - - smtpd", "bad port \"70000\"" },
		{ ":25 inet n - n - - smtpd", "missing host" },
		{ "::1:25 inet n - n - - smtpd", "bad service address" },
		{ "smtp inet y - n - - smtpd", "an inet service cannot be private" },
		{ "smtp inet n - n - - smtpd -o", "-o without name=value" },
		{ "smtp inet n - n - - smtpd -o novalue", "missing \"=\" in -o option" },
		{ "smtp inet n - n - - smtpd -o bad-name=1", "bad parameter name in -o option" },
		{ "smtp inet n - n - - smtpd -o { a = b", "unbalanced \"{\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl;
		char text[256];
		struct mastercf *m;

		snprintf(text, sizeof(text), "# header\n\n%s\npickup unix n - n 60 1 pickup\n", cases[i].line);
		m = parse(text, &dl);
		if (!has_error(&dl, 3, cases[i].error))
			fail_msg("\"%s\": wanted line 3 \"%s\", got \"%s\" (line %d)", cases[i].line,
				 cases[i].error, dl.n ? dl.v[0].msg : "nothing", dl.n ? dl.v[0].line : 0);
		/* the bad line is left out, the good one kept */
		assert_int_equal(m->n, 1);
		assert_string_equal(m->v[0].name, "pickup");
		mastercf_free(&m);
		diag_free(&dl);
	}
}

static void test_error_on_continuation_line(void **state)
{
	struct diag_list dl;
	struct mastercf *m = parse("submission inet n - n - - smtpd\n"
				   "  -o syslog_name=ok\n"
				   "  -o broken\n",
				   &dl);

	(void)state;
	assert_true(has_error(&dl, 3, "missing \"=\" in -o option \"broken\""));
	assert_int_equal(m->n, 0);
	mastercf_free(&m);
	diag_free(&dl);
}

static void test_duplicates(void **state)
{
	struct diag_list dl;
	struct mastercf *m = parse("smtp inet n - n - - smtpd\nsmtp inet n - n - - smtpd -v\n", &dl);

	(void)state;
	assert_true(has_error(&dl, 2, "duplicate service \"smtp\" (inet), first defined at line 1"));
	assert_int_equal(m->n, 1);
	mastercf_free(&m);
	diag_free(&dl);
}

static void test_truncation_robustness(void **state)
{
	static const char text[] = "# master.cf\nsmtp inet n - n - - smtpd\n"
				   "[::1]:2525 inet n - n - - smtpd\n  -o { smtpd_banner = a b }\n"
				   "  -osyslog_name=x -o a=b\nqmgr unix n - n 300? 1 qmgr\n";
	size_t cut;

	(void)state;
	for (cut = 0; cut <= sizeof(text) - 1; cut++) {
		struct diag_list dl = DIAG_LIST_INIT;
		char *copy = malloc(cut ? cut : 1);
		struct mastercf *m;

		memcpy(copy, text, cut);
		m = mastercf_parse(copy, cut, "master.cf", &dl);
		assert_non_null(m);
		mastercf_free(&m);
		diag_free(&dl);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stock_lines),
		cmocka_unit_test(test_port_names),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_service_config),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_on_continuation_line),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_truncation_robustness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
