/*
 * test_config.c - unit tests for src/libmail/config.c, params.c, cfline.c, diag.c (main.cf)
 */
#include "unit.h"

#include <stdio.h>

#include "lib/buf.h"
#include "libmail/config.h"
#include "libmail/diag.h"
#include "libmail/params.h"

/* parse - config from a C string; diags collected in *dl */
static struct config *parse(const char *text, struct diag_list *dl)
{
	diag_init(dl);
	return config_parse(text, strlen(text), "main.cf", dl);
}

/* get - expanded value, failing the test on an error */
static const char *get(struct config *cfg, const char *name)
{
	const char *v, *err = NULL;

	if (config_lookup(cfg, name, &v, &err) < 0)
		fail_msg("lookup %s: %s", name, err);
	return v;
}

/* find_diag - the first finding whose message contains text, or NULL */
static const struct diag *find_diag(const struct diag_list *dl, const char *text)
{
	size_t i;

	for (i = 0; i < dl->n; i++)
		if (strstr(dl->v[i].msg, text) != NULL)
			return &dl->v[i];
	return NULL;
}

/* diag_text - "file, line N: msg" of a finding (static buffer) */
static const char *diag_text(const struct diag *d)
{
	static char out[1024];
	struct buf b = BUF_INIT(0);

	diag_format(d, &b);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

static void test_basic_and_whitespace(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("myhostname=mail.example.com\n"
				   "mydomain   =   example.com   \n"
				   "relay_domains =\n",
				   &dl);

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_string_equal(get(cfg, "myhostname"), "mail.example.com");
	assert_string_equal(get(cfg, "mydomain"), "example.com");
	assert_string_equal(get(cfg, "relay_domains"), "");
	assert_true(config_is_set(cfg, "relay_domains"));
	assert_false(config_is_set(cfg, "myorigin"));
	config_free(&cfg);
	assert_null(cfg);
	diag_free(&dl);
}

static void test_continuation_lines(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("mydestination = a,\n"
				   "    b,\n"
				   "\n"
				   "\tc\n"
				   "    # an indented comment does not end the setting\n"
				   "  d\n"
				   "mail_name = X\n",
				   &dl);
	int line = 0;

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_string_equal(config_get_raw(cfg, "mydestination"), "a, b, c d");
	assert_string_equal(config_where(cfg, "mydestination", &line), "main.cf");
	assert_int_equal(line, 1);
	config_where(cfg, "mail_name", &line);
	assert_int_equal(line, 7);
	config_free(&cfg);
	diag_free(&dl);
}

static void test_comments(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("# a comment\n"
				   "   message_size_limit = ten (continuation of the comment)\n"
				   "\n"
				   "  # indented comment\n"
				   "\tmore continuation of the comment\n"
				   "mail_name = A\n"
				   "#mail_name = B\n"
				   "myorigin = x\n"
				   "#   y\n"
				   "   # z\n"
				   "mydestination = a,\n"
				   "#  commented-out item,\n"
				   "   b\n",
				   &dl);

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_false(config_is_set(cfg, "message_size_limit"));
	assert_string_equal(get(cfg, "mail_name"), "A");
	assert_string_equal(get(cfg, "myorigin"), "x");
	/* as in Postfix, a comment line does not end the logical line around it */
	assert_string_equal(config_get_raw(cfg, "mydestination"), "a, b");
	config_free(&cfg);
	diag_free(&dl);

	/* an indented line at the start, after no comment, continues nothing: warned, ignored */
	cfg = parse("  mail_name = X\nmail_name = Y\n", &dl);
	assert_int_equal(dl.n_warn, 1);
	assert_int_equal(dl.v[0].line, 1);
	assert_non_null(strstr(dl.v[0].msg, "continues nothing"));
	assert_string_equal(get(cfg, "mail_name"), "Y");
	config_free(&cfg);
	diag_free(&dl);
}

static void test_later_setting_wins(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("mail_name = first\n\nmail_name = second\nmail_name =\n  third\n", &dl);
	int line = 0;

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_string_equal(get(cfg, "mail_name"), "third");
	config_where(cfg, "mail_name", &line);
	assert_int_equal(line, 4);
	assert_null(config_where(cfg, "myorigin", &line));
	config_free(&cfg);
	diag_free(&dl);
}

static void test_expansion_forms(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("myhostname = mail.example.com\n"
				   "a = [$myhostname]\n"
				   "b = [${myhostname}]\n"
				   "c = [$(myhostname)]\n"
				   "d = $myhostname.x ${mail_name}y\n"
				   "e = cost $$5 and $$myhostname\n"
				   "f = $a$b\n",
				   &dl);

	(void)state;
	config_note_references(cfg, "$a $b $c $d $e $f");
	assert_string_equal(get(cfg, "a"), "[mail.example.com]");
	assert_string_equal(get(cfg, "b"), "[mail.example.com]");
	assert_string_equal(get(cfg, "c"), "[mail.example.com]");
	assert_string_equal(get(cfg, "d"), "mail.example.com.x Posterny");
	assert_string_equal(get(cfg, "e"), "cost $5 and $myhostname");
	assert_string_equal(get(cfg, "f"), "[mail.example.com][mail.example.com]");
	/* the raw value is kept */
	assert_string_equal(config_get_raw(cfg, "a"), "[$myhostname]");
	config_free(&cfg);
	diag_free(&dl);
}

static void test_lazy_expansion(void **state)
{
	struct diag_list dl;
	/* myorigin refers to mydomain before it is set; the later setting counts */
	struct config *cfg = parse("myorigin = $mydomain\n"
				   "mydestination = $myhostname, localhost.$mydomain\n"
				   "mydomain = early.example\n"
				   "myhostname = mx.example.com\n"
				   "mydomain = example.com\n",
				   &dl);

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_string_equal(get(cfg, "myorigin"), "example.com");
	assert_string_equal(get(cfg, "mydestination"), "mx.example.com, localhost.example.com");
	/* defaults expand lazily too */
	assert_string_equal(get(cfg, "smtpd_banner"), "mx.example.com ESMTP Postern");
	config_free(&cfg);
	diag_free(&dl);
}

static void test_computed_defaults(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("", &dl);

	(void)state;
	config_set_system_hostname(cfg, "host.dom.example");
	assert_string_equal(get(cfg, "myhostname"), "host.dom.example");
	assert_string_equal(get(cfg, "mydomain"), "dom.example");
	assert_string_equal(get(cfg, "myorigin"), "host.dom.example");
	assert_string_equal(get(cfg, "mydestination"),
			    "host.dom.example, localhost.dom.example, localhost");
	/* a short host name gets .localdomain, or .$mydomain when mydomain is set */
	config_set_system_hostname(cfg, "box");
	assert_string_equal(get(cfg, "myhostname"), "box.localdomain");
	assert_string_equal(get(cfg, "mydomain"), "localdomain");
	config_free(&cfg);
	cfg = parse("mydomain = example.org\n", &dl);
	config_set_system_hostname(cfg, "box");
	assert_string_equal(get(cfg, "myhostname"), "box.example.org");
	assert_string_equal(config_default(cfg, "myhostname"), "box.example.org");
	config_free(&cfg);
	diag_free(&dl);
}

static void test_recursion_and_loops(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("x1 = $x2\nx2 = ${x3}\nx3 = $(x4)!\nx4 = deep\n"
				   "myorigin = $mydomain\nmydomain = $myorigin\n"
				   "selfish = a $selfish\n",
				   &dl);
	const char *v, *err = NULL;
	const struct diag *d;

	(void)state;
	config_note_references(cfg, "$x1");
	assert_string_equal(get(cfg, "x1"), "deep!");
	assert_int_equal(config_lookup(cfg, "myorigin", &v, &err), -1);
	assert_string_equal(err, "parameter loop: myorigin -> mydomain -> myorigin");
	assert_null(config_get(cfg, "selfish"));
	/* validation reported the loop at the lines that set the parameters */
	d = find_diag(&dl, "myorigin: parameter loop: myorigin -> mydomain -> myorigin");
	assert_non_null(d);
	assert_int_equal(d->level, DIAG_ERROR);
	assert_int_equal(d->line, 5);
	assert_non_null(find_diag(&dl, "selfish -> selfish"));
	config_free(&cfg);
	diag_free(&dl);
}

static void test_conditionals(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("full = yes\nempty =\n"
				   "r1 = ${full?set}|${empty?set}|${nothere?set}\n"
				   "r2 = ${full:unset}|${empty:unset}\n"
				   "r3 = ${full?$mail_name is ${empty:really} on}\n"
				   "r4 = ${full?{A}:{B}} ${empty?{A}:{B}} ${full?{a b}}\n"
				   "r5 = $(full?(x)) ${empty:${full?${full?nested}}}\n",
				   &dl);

	(void)state;
	config_note_references(cfg, "$r1 $r2 $r3 $r4 $r5");
	assert_string_equal(get(cfg, "r1"), "set||");
	assert_string_equal(get(cfg, "r2"), "|unset");
	assert_string_equal(get(cfg, "r3"), "Postern is really on");
	assert_string_equal(get(cfg, "r4"), "A B a b");
	assert_string_equal(get(cfg, "r5"), "(x) nested");
	config_free(&cfg);
	diag_free(&dl);
}

static void test_expansion_errors(void **state)
{
	static const struct {
		const char *value, *error;
	} cases[] = {
		{ "a $ b", "\"$\" not followed by a name" },
		{ "trailing $", "\"$\" not followed by a name" },
		{ "${mail_name", "unbalanced \"{\"" },
		{ "$(mail_name", "unbalanced \"(\"" },
		{ "${}", "missing parameter name" },
		{ "${mail_name!x}", "unexpected \"!\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl;
		char text[256];
		struct config *cfg;
		const char *v, *err = NULL;
		const struct diag *d;

		snprintf(text, sizeof(text), "\nsmtpd_banner = %s\n", cases[i].value);
		cfg = parse(text, &dl);
		assert_int_equal(config_lookup(cfg, "smtpd_banner", &v, &err), -1);
		if (strstr(err, cases[i].error) == NULL)
			fail_msg("%s: got \"%s\"", cases[i].value, err);
		d = find_diag(&dl, cases[i].error);
		assert_non_null(d);
		assert_int_equal(d->line, 2);
		config_free(&cfg);
		diag_free(&dl);
	}
}

static void test_unknown_parameters(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("mail_name = x\n"
				   "messge_size_limit = 5\n"
				   "my_restrictions = permit_mynetworks, reject\n"
				   "smtpd_recipient_restrictions = $my_restrictions\n"
				   "totally_unheard_of = 1\n"
				   "banner_user = ${undefined_thing}x\n",
				   &dl);
	const struct diag *d;

	(void)state;
	assert_false(diag_has_errors(&dl));
	d = find_diag(&dl, "unknown parameter \"messge_size_limit\"");
	assert_non_null(d);
	assert_int_equal(d->level, DIAG_WARN);
	assert_int_equal(d->line, 2);
	assert_string_equal(diag_text(d), "main.cf, line 2: unknown parameter \"messge_size_limit\"");
	assert_non_null(d->fix);
	assert_non_null(strstr(d->fix, "message_size_limit"));
	d = find_diag(&dl, "unknown parameter \"totally_unheard_of\"");
	assert_non_null(d);
	assert_int_equal(d->line, 5);
	/* referenced as $my_restrictions: a user-defined parameter, no warning */
	assert_null(find_diag(&dl, "\"my_restrictions\""));
	assert_string_equal(get(cfg, "smtpd_recipient_restrictions"), "permit_mynetworks, reject");
	/* an undefined reference expands to nothing, with a warning */
	d = find_diag(&dl, "undefined parameter \"$undefined_thing\"");
	assert_non_null(d);
	assert_int_equal(d->line, 6);
	assert_string_equal(get(cfg, "banner_user"), "x");
	/* lookups of names neither known nor set fail */
	assert_null(config_get(cfg, "no_such_parameter"));
	assert_null(config_get_raw(cfg, "no_such_parameter"));
	config_free(&cfg);
	diag_free(&dl);
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "message_size_limit = ten",
		  "main.cf, line 2: bad value for message_size_limit: \"ten\" (expected a non-negative integer)" },
		{ "message_size_limit = 10k", "bad value for message_size_limit: \"10k\"" },
		{ "message_size_limit = -1", "bad value for message_size_limit: \"-1\"" },
		{ "smtpd_recipient_limit = 99999999999999999999999", "bad value for smtpd_recipient_limit" },
		{ "smtpd_timeout = 5x", "main.cf, line 2: bad value for smtpd_timeout: \"5x\" (expected a time" },
		{ "smtpd_timeout = s", "bad value for smtpd_timeout: \"s\"" },
		{ "smtpd_timeout = 5ss", "bad value for smtpd_timeout: \"5ss\"" },
		{ "smtpd_timeout =", "bad value for smtpd_timeout: \"\"" },
		{ "disable_vrfy_command = maybe",
		  "main.cf, line 2: bad value for disable_vrfy_command: \"maybe\" (expected yes or no)" },
		{ "mynetworks_style = planet",
		  "bad value for mynetworks_style: \"planet\" (expected one of: host subnet class)" },
		{ "limit = ten\nmessage_size_limit = $limit", "line 3: bad value for message_size_limit: \"ten\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl;
		char text[256];
		struct config *cfg;
		size_t k;
		bool found = false;

		snprintf(text, sizeof(text), "# comment\n%s\n", cases[i].text);
		cfg = parse(text, &dl);
		assert_true(diag_has_errors(&dl));
		for (k = 0; k < dl.n; k++)
			if (strstr(diag_text(&dl.v[k]), cases[i].msg) != NULL)
				found = true;
		if (!found)
			fail_msg("%s: no \"%s\" (first: %s)", cases[i].text, cases[i].msg,
				 dl.n ? diag_text(&dl.v[0]) : "none");
		config_free(&cfg);
		diag_free(&dl);
	}
}

static void test_syntax_errors(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("mail_name x\n= value\nbad-name = 1\nok = 1\nnul = a\0b\n", &dl);

	(void)state;
	/* parse() used strlen(): the NUL case is tested below with an explicit length */
	assert_int_equal(dl.v[0].line, 1);
	assert_non_null(strstr(dl.v[0].msg, "missing \"=\""));
	assert_int_equal(dl.v[1].line, 2);
	assert_non_null(strstr(dl.v[1].msg, "missing parameter name"));
	assert_int_equal(dl.v[2].line, 3);
	assert_non_null(strstr(dl.v[2].msg, "bad parameter name"));
	assert_false(config_is_set(cfg, "mail_name"));
	config_free(&cfg);
	diag_free(&dl);

	cfg = config_parse("a = x\0y\n", 8, "main.cf", &dl);
	assert_true(diag_has_errors(&dl));
	assert_non_null(find_diag(&dl, "NUL"));
	config_free(&cfg);
	diag_free(&dl);
}

static void test_every_default_parses(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("", &dl);
	size_t i;

	(void)state;
	/* config_validate() ran over every default: nothing to report */
	assert_int_equal(dl.n, 0);
	for (i = 0; i < PARAM__COUNT; i++) {
		const struct param_info *p = &param_table[i];
		const char *v, *err = NULL, *expect;
		char text[1024];
		struct diag_list dl2;
		struct config *c2;

		assert_ptr_equal(param_find(p->name), p);
		assert_non_null(p->doc);
		assert_true(strlen(p->doc) > 10);
		if (config_lookup(cfg, p->name, &v, &err) < 0)
			fail_msg("default of %s does not expand: %s", p->name, err);
		if (param_check_value(p, v, &expect) < 0)
			fail_msg("default of %s (\"%s\") is not %s", p->name, v, expect);
		/* and the default text written into main.cf parses as user input */
		snprintf(text, sizeof(text), "%s = %s\n", p->name, p->def);
		c2 = parse(text, &dl2);
		if (dl2.n != 0)
			fail_msg("%s: %s", text, dl2.v[0].msg);
		config_free(&c2);
		diag_free(&dl2);
	}
	config_free(&cfg);
	diag_free(&dl);
}

static void test_typed_getters(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("message_size_limit = 20480000\n"
				   "smtpd_timeout = 60\n"
				   "maximal_queue_lifetime = 2\n"
				   "bounce_queue_lifetime = 1w\n"
				   "minimal_backoff_time = 5M\n"
				   "smtpd_helo_required = YES\n"
				   "mydestination = a,b , c\n  d,,\te\n"
				   "relay_domains = ,\n"
				   "smtpd_recipient_restrictions = check_client_access inline:{ 1.2.3.4=OK, x=y },"
				   " reject\n",
				   &dl);
	int64_t i;
	bool b;
	const char *const *items;
	size_t n;
	const char *err;

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_int_equal(config_get_int(cfg, "message_size_limit", &i, &err), 0);
	assert_int_equal(i, 20480000);
	assert_int_equal(config_get_int(cfg, "smtpd_recipient_limit", &i, &err), 0);
	assert_int_equal(i, 1000);
	/* bare numbers use the parameter's default unit */
	assert_int_equal(config_get_time(cfg, "smtpd_timeout", &i, &err), 0);
	assert_int_equal(i, 60);
	assert_int_equal(config_get_time(cfg, "maximal_queue_lifetime", &i, &err), 0);
	assert_int_equal(i, 2 * 86400);
	assert_int_equal(config_get_time(cfg, "bounce_queue_lifetime", &i, &err), 0);
	assert_int_equal(i, 7 * 86400);
	assert_int_equal(config_get_time(cfg, "minimal_backoff_time", &i, &err), 0);
	assert_int_equal(i, 300);
	assert_int_equal(config_get_time(cfg, "maximal_backoff_time", &i, &err), 0);
	assert_int_equal(i, 4000);
	assert_int_equal(config_get_bool(cfg, "smtpd_helo_required", &b, &err), 0);
	assert_true(b);
	assert_int_equal(config_get_bool(cfg, "disable_vrfy_command", &b, &err), 0);
	assert_false(b);
	assert_int_equal(config_get_list(cfg, "mydestination", &items, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(items[0], "a");
	assert_string_equal(items[1], "b");
	assert_string_equal(items[2], "c");
	assert_string_equal(items[3], "d");
	assert_string_equal(items[4], "e");
	assert_null(items[5]);
	assert_int_equal(config_get_list(cfg, "relay_domains", &items, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(config_get_list(cfg, "smtpd_recipient_restrictions", &items, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[1], "inline:{ 1.2.3.4=OK, x=y }");
	assert_int_equal(config_get_list(cfg, "smtpd_relay_restrictions", &items, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[2], "defer_unauth_destination");
	/* a typed getter on a value that does not parse */
	assert_int_equal(config_get_int(cfg, "mail_name", &i, &err), -1);
	assert_non_null(strstr(err, "bad value for mail_name: \"Postern\""));
	config_free(&cfg);
	diag_free(&dl);
}

static void test_value_parsers(void **state)
{
	int64_t v;
	bool b;

	(void)state;
	assert_int_equal(param_parse_time("10", 'd', &v), 0);
	assert_int_equal(v, 864000);
	assert_int_equal(param_parse_time("3h", 's', &v), 0);
	assert_int_equal(v, 10800);
	assert_int_equal(param_parse_time("1W", 's', &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(param_parse_time("", 's', &v), -1);
	assert_int_equal(param_parse_time("h", 's', &v), -1);
	assert_int_equal(param_parse_time("1.5h", 's', &v), -1);
	assert_int_equal(param_parse_time("99999999999999999w", 's', &v), -1);
	assert_int_equal(param_parse_int("0", &v), 0);
	assert_int_equal(param_parse_int(" 1", &v), -1);
	assert_int_equal(param_parse_int("9223372036854775808", &v), -1);
	assert_int_equal(param_parse_bool("No", &b), 0);
	assert_false(b);
	assert_int_equal(param_parse_bool("true", &b), -1);
	assert_true(param_enum_ok("host subnet class", "SUBNET"));
	assert_false(param_enum_ok("host subnet class", "sub"));
	assert_int_equal(param_time_unit(param_find("maximal_queue_lifetime")), 'd');
	assert_int_equal(param_time_unit(param_find("smtpd_timeout")), 's');
	assert_int_equal(param_find("myhostname")->type, PARAM_STR);
	assert_true(param_default_is_computed(param_find("mydomain")));
	assert_false(param_default_is_computed(param_find("myorigin")));
}

static void test_derived_overrides(void **state)
{
	struct diag_list dl;
	static const char text[] = "myhostname = mail.example.com\nsmtpd_banner = $myhostname hi\n"
				   "mua_client_restrictions = permit_sasl_authenticated, reject\n";
	struct config *base, *d;
	const struct config_setting **list;
	size_t n;
	int line;

	(void)state;
	diag_init(&dl);
	base = config_new("main.cf");
	/* mua_client_restrictions is used only in master.cf: tell the parser */
	config_note_references(base, "-o smtpd_client_restrictions=$mua_client_restrictions");
	config_feed(base, text, strlen(text), &dl);
	assert_int_equal(config_validate(base, &dl), 0);
	assert_int_equal(dl.n, 0);

	d = config_derive(base);
	assert_int_equal(config_override(d, "myhostname", "sub.example.com", "master.cf", 7, &dl), 0);
	assert_int_equal(config_override(d, "smtpd_client_restrictions", "$mua_client_restrictions",
					 "master.cf", 8, &dl),
			 0);
	assert_int_equal(config_validate(d, &dl), 0);
	assert_string_equal(get(d, "smtpd_banner"), "sub.example.com hi");
	assert_string_equal(get(base, "smtpd_banner"), "mail.example.com hi");
	assert_string_equal(get(d, "smtpd_client_restrictions"), "permit_sasl_authenticated, reject");
	assert_string_equal(config_where(d, "myhostname", &line), "master.cf");
	assert_int_equal(line, 7);
	assert_string_equal(config_where(d, "smtpd_banner", &line), "main.cf");
	n = config_settings(d, &list);
	assert_int_equal(n, 4);
	assert_string_equal(list[0]->name, "mua_client_restrictions");
	assert_string_equal(list[1]->name, "myhostname");
	assert_string_equal(list[1]->value, "sub.example.com");
	assert_string_equal(list[2]->name, "smtpd_banner");
	free(list);

	/* bad override values are errors at the override's line */
	assert_int_equal(config_override(d, "smtpd_timeout", "soon", "master.cf", 9, &dl), 0);
	assert_int_equal(config_validate(d, &dl), -1);
	assert_int_equal(dl.v[dl.n - 1].line, 9);
	assert_int_equal(config_override(d, "bad name", "x", "master.cf", 10, &dl), -1);
	config_free(&d);
	config_free(&base);
	diag_free(&dl);
}

static void test_settings_sorted(void **state)
{
	struct diag_list dl;
	struct config *cfg = parse("mydomain = b\nmail_name = a\nmyorigin = c\nmail_name = z\n", &dl);
	const struct config_setting **list;
	size_t n = config_settings(cfg, &list);

	(void)state;
	assert_int_equal(n, 3);
	assert_string_equal(list[0]->name, "mail_name");
	assert_string_equal(list[0]->value, "z");
	assert_int_equal(list[0]->line, 4);
	assert_string_equal(list[1]->name, "mydomain");
	assert_string_equal(list[2]->name, "myorigin");
	free(list);
	config_free(&cfg);
	diag_free(&dl);
}

static void test_expand_limits(void **state)
{
	struct diag_list dl;
	struct buf text = BUF_INIT(0), out = BUF_INIT(0);
	struct config *cfg;
	const char *err = NULL;
	int i;

	(void)state;
	/* doubling chain: a0 = x, a1 = $a0$a0, ... grows past the value maximum */
	buf_puts(&text, "a0 = xxxxxxxxxxxxxxxx\n");
	for (i = 1; i < 40; i++)
		buf_printf(&text, "a%d = $a%d$a%d\n", i, i - 1, i - 1);
	diag_init(&dl);
	cfg = config_new("main.cf");
	config_set_max_value(cfg, 4096);
	config_feed(cfg, text.data, text.len, &dl);
	config_note_references(cfg, "$a39");
	assert_int_equal(config_validate(cfg, &dl), -1);
	assert_null(config_get(cfg, "a39"));
	assert_non_null(find_diag(&dl, "longer than 4096 bytes"));
	assert_int_equal(config_expand_text(cfg, "<$a3>", &out, &err), 0);
	assert_int_equal(out.len, 2 + 16 * 8);
	config_free(&cfg);
	diag_free(&dl);

	/* a long chain of references is cut at CONFIG_MAX_DEPTH */
	buf_reset(&text);
	for (i = 0; i < 300; i++)
		buf_printf(&text, "c%d = $c%d\n", i, i + 1);
	cfg = parse(text.data, &dl);
	assert_null(config_get(cfg, "c0"));
	assert_non_null(find_diag(&dl, "nested deeper than"));
	config_free(&cfg);
	diag_free(&dl);
	buf_free(&text);
	buf_free(&out);
}

static void test_truncation_robustness(void **state)
{
	static const char text[] = "# main.cf\nmyhostname = mail.example.com\nmydomain = example.com\n"
				   "myorigin = $mydomain\nmydestination = $myhostname, localhost.$mydomain,\n"
				   "  ${mydomain?{$mydomain}:{x}} $(myorigin:y)\nx = $$ ${a\n"
				   "message_size_limit = 10240000\nsmtpd_timeout = 300s\n";
	size_t cut, i;

	(void)state;
	/* every prefix parses without crashing, and every parameter expands or errs cleanly */
	for (cut = 0; cut <= sizeof(text) - 1; cut++) {
		struct diag_list dl;
		struct config *cfg;
		char *copy = malloc(cut ? cut : 1);

		memcpy(copy, text, cut); /* exact length: ASan catches any overread */
		diag_init(&dl);
		cfg = config_parse(copy, cut, "main.cf", &dl);
		for (i = 0; i < PARAM__COUNT; i++)
			(void)config_get(cfg, param_table[i].name);
		config_free(&cfg);
		diag_free(&dl);
		free(copy);
	}
}

static void test_diag_list(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct buf b = BUF_INIT(0);
	int i;

	(void)state;
	diag_add(&dl, DIAG_WARN, "f", 3, "fix it", "w %d", 1);
	diag_add(&dl, DIAG_ERROR, NULL, 0, NULL, "plain");
	diag_add(&dl, DIAG_ERROR, "f", 0, NULL, "no line");
	diag_add(NULL, DIAG_ERROR, "f", 0, NULL, "ignored");
	assert_true(diag_has_errors(&dl));
	diag_format(&dl.v[0], &b);
	assert_string_equal(buf_cstr(&b), "f, line 3: w 1");
	assert_string_equal(dl.v[0].fix, "fix it");
	buf_reset(&b);
	diag_format(&dl.v[1], &b);
	assert_string_equal(buf_cstr(&b), "plain");
	buf_reset(&b);
	diag_format(&dl.v[2], &b);
	assert_string_equal(buf_cstr(&b), "f: no line");
	assert_string_equal(diag_level_name(DIAG_WARN), "warning");
	for (i = 0; i < DIAG_MAX + 10; i++)
		diag_add(&dl, DIAG_WARN, NULL, 0, NULL, "many");
	assert_int_equal(dl.n, DIAG_MAX);
	assert_int_equal(dl.dropped, 13);
	assert_int_equal(dl.n_warn, DIAG_MAX + 11);
	buf_free(&b);
	diag_free(&dl);
	assert_int_equal(dl.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_and_whitespace),
		cmocka_unit_test(test_continuation_lines),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_later_setting_wins),
		cmocka_unit_test(test_expansion_forms),
		cmocka_unit_test(test_lazy_expansion),
		cmocka_unit_test(test_computed_defaults),
		cmocka_unit_test(test_recursion_and_loops),
		cmocka_unit_test(test_conditionals),
		cmocka_unit_test(test_expansion_errors),
		cmocka_unit_test(test_unknown_parameters),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_every_default_parses),
		cmocka_unit_test(test_typed_getters),
		cmocka_unit_test(test_value_parsers),
		cmocka_unit_test(test_derived_overrides),
		cmocka_unit_test(test_settings_sorted),
		cmocka_unit_test(test_expand_limits),
		cmocka_unit_test(test_truncation_robustness),
		cmocka_unit_test(test_diag_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
