/*
 * test_dovecot_conf.c - unit tests for src/libmail/dovecot_conf.c, dovecot_params.c, dovecot_conf_write.c
 *
 * The HOWTO's two dovecot.conf files (1.x and 2.x syntax) give the same model;
 * includes through an in-memory struct dconf_io (relative, glob, include_try,
 * loops); overrides; obsolete and unknown settings; bad values; braces; every
 * prefix of an input parses without crashing.
 */
#include "unit.h"

#include <fnmatch.h>
#include <stdio.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "libmail/config.h"
#include "libmail/dovecot_conf.h"

/* --- an in-memory file system for includes ------------------------------------------ */

struct memfile {
	const char *path, *text;
};

struct memfs {
	const struct memfile *files;
	size_t n;
};

/* mem_match - fnmatch over the table (already sorted by path) */
static int mem_match(void *ctx, const char *pattern, char ***paths_r, size_t *n_r, const char **error_r)
{
	struct memfs *fs = ctx;
	size_t i;

	(void)error_r;
	*paths_r = xcalloc(fs->n + 1, sizeof(char *));
	*n_r = 0;
	if (strpbrk(pattern, "*?[") == NULL) {
		(*paths_r)[(*n_r)++] = xstrdup(pattern);
		return 0;
	}
	for (i = 0; i < fs->n; i++)
		if (fnmatch(pattern, fs->files[i].path, FNM_PATHNAME) == 0)
			(*paths_r)[(*n_r)++] = xstrdup(fs->files[i].path);
	return 0;
}

/* mem_read - a file of the table; 1 when absent */
static int mem_read(void *ctx, const char *path, char **text_r, size_t *len_r, const char **error_r)
{
	struct memfs *fs = ctx;
	size_t i;

	(void)error_r;
	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->files[i].path, path) == 0) {
			*len_r = strlen(fs->files[i].text);
			*text_r = xmemdup(fs->files[i].text, *len_r);
			return 0;
		}
	return 1;
}

/* parse_fs - parse the first file of a memfs */
static struct dconf *parse_fs(const struct memfile *files, size_t n, struct diag_list *dl)
{
	static struct memfs fs;
	static struct dconf_io io = { mem_match, mem_read, &fs };

	fs.files = files;
	fs.n = n;
	diag_init(dl);
	return dconf_parse(files[0].text, strlen(files[0].text), files[0].path, &io, NULL, dl);
}

/* parse - one text, no includes */
static struct dconf *parse(const char *text, struct diag_list *dl)
{
	diag_init(dl);
	return dconf_parse(text, strlen(text), "/etc/postern/dovecot.conf", NULL, NULL, dl);
}

/* count_diag - findings whose message contains text */
static size_t count_diag(const struct diag_list *dl, const char *text)
{
	size_t i, n = 0;

	for (i = 0; i < dl->n; i++)
		if (strstr(dl->v[i].msg, text) != NULL)
			n++;
	return n;
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

/* read_howto - a HOWTO file from ../shared or the copy in tests/shared (malloc'd) */
static char *read_howto(const char *name, size_t *len_r)
{
	char path[256], *text = NULL;

	snprintf(path, sizeof(path), "../shared/howto/%s", name);
	if (config_read_file(path, &text, len_r) == 0)
		return text;
	snprintf(path, sizeof(path), "tests/shared/howto/%s", name);
	assert_int_equal(config_read_file(path, &text, len_r), 0);
	return text;
}

/* load_howto - parse a HOWTO file */
static struct dconf *load_howto(const char *name, struct diag_list *dl)
{
	size_t len;
	char *text = read_howto(name, &len);
	struct dconf *cf;

	diag_init(dl);
	cf = dconf_parse(text, len, name, NULL, NULL, dl);
	free(text);
	return cf;
}

/* written - dconf_write() output (static buffer) */
static const char *written(const struct dconf *cf)
{
	static char out[16384];
	struct buf b = BUF_INIT(0);

	assert_int_equal(dconf_write(cf, false, &b), 0);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

/* --- tests -------------------------------------------------------------------------- */

/* check_howto_model - what both HOWTO files must give */
static void check_howto_model(const struct dconf *cf)
{
	const struct dconf_listener *l;

	assert_string_equal(dconf_get(cf, DCONF_protocols), "imap pop3");
	assert_string_equal(dconf_get(cf, DCONF_mail_location), "maildir:/var/spool/mail/%d/%n/");
	assert_string_equal(dconf_get(cf, DCONF_pop3_uidl_format), "%08Xu%08Xv");
	assert_string_equal(dconf_get_proto(cf, "pop3", DCONF_pop3_uidl_format), "%08Xu%08Xv");
	assert_string_equal(dconf_get(cf, DCONF_auth_mechanisms), "plain login cram-md5");
	assert_string_equal(dconf_get(cf, DCONF_auth_verbose), "yes");
	assert_string_equal(dconf_get(cf, DCONF_ssl), "yes");
	assert_string_equal(dconf_get(cf, DCONF_ssl_cert), "</etc/pki/dovecot/certs/dovecot.pem");
	assert_string_equal(dconf_get(cf, DCONF_ssl_key), "</etc/pki/dovecot/private/dovecot.pem");
	assert_non_null(cf->passdbs);
	assert_null(cf->passdbs->next);
	assert_string_equal(cf->passdbs->driver, "passwd-file");
	assert_string_equal(cf->passdbs->args, "/etc/postfix/passwd");
	assert_non_null(cf->userdbs);
	assert_null(cf->userdbs->next);
	assert_string_equal(cf->userdbs->driver, "static");
	assert_true(strncmp(cf->userdbs->args, "uid=5000 gid=5000 home=/var/spool/mail/%d/%", 43) == 0);
	l = dconf_listener_find(cf, "imap-login", "imaps");
	assert_non_null(l);
	assert_int_equal(l->port, 993);
	assert_int_equal(l->ssl, 1);
	l = dconf_listener_find(cf, "pop3-login", "pop3s");
	assert_non_null(l);
	assert_int_equal(l->port, 995);
	assert_int_equal(l->ssl, 1);
	l = dconf_listener_find(cf, "imap-login", "imap");
	assert_non_null(l);
	assert_int_equal(l->port, 143);
	l = dconf_listener_find(cf, "pop3-login", "pop3");
	assert_non_null(l);
	assert_int_equal(l->port, 110);
}

static void test_howto_both_syntaxes_same_model(void **state)
{
	struct diag_list d1, d2;
	struct dconf *v1 = load_howto("dovecot.conf", &d1), *v2 = load_howto("dovecot-2x.conf", &d2);
	char out1[16384];
	const char *p;

	(void)state;
	assert_false(diag_has_errors(&d1));
	assert_false(diag_has_errors(&d2));
	assert_int_equal(d2.n, 0); /* the 2.x file is clean */
	check_howto_model(v1);
	check_howto_model(v2);
	/* the 1.x file prints in 2.x form: the same text but for the lines the files differ in */
	snprintf(out1, sizeof(out1), "%s", written(v1));
	assert_non_null(strstr(out1, "passdb {\n  args = /etc/postfix/passwd\n  driver = passwd-file\n}\n"));
	assert_non_null(strstr(out1, "service imap-login {\n  inet_listener imap {\n    port = 143\n  }\n"
				     "  inet_listener imaps {\n    port = 993\n    ssl = yes\n  }\n}\n"));
	assert_null(strstr(out1, "executable"));
	assert_null(strstr(out1, "auth default"));
	assert_non_null(strstr(out1, "protocol pop3 {\n  pop3_uidl_format = %08Xu%08Xv\n}\n"));
	p = written(v2);
	assert_non_null(strstr(p, "service pop3-login {\n  inet_listener pop3 {\n    port = 110\n  }\n"
				  "  inet_listener pop3s {\n    port = 995\n    ssl = yes\n  }\n}\n"));
	assert_non_null(strstr(p, "ssl_cert = </etc/pki/dovecot/certs/dovecot.pem\n"));
	dconf_free(&v1);
	dconf_free(&v2);
	diag_free(&d1);
	diag_free(&d2);
}

static void test_howto_obsolete_warned_once_each(void **state)
{
	struct diag_list dl;
	struct dconf *cf = load_howto("dovecot.conf", &dl);
	const struct diag *d;

	(void)state;
	assert_int_equal(count_diag(&dl, "\"login_executable\""), 1);
	assert_int_equal(count_diag(&dl, "\"mail_executable\""), 1);
	assert_int_equal(count_diag(&dl, "\"auth_executable\""), 1);
	assert_int_equal(count_diag(&dl, "\"ssl_cert_file\""), 1);
	assert_int_equal(count_diag(&dl, "\"ssl_key_file\""), 1);
	assert_int_equal(dl.n, 5);
	assert_int_equal(dl.n_error, 0);
	d = find_diag(&dl, "login_executable");
	assert_int_equal(d->line, 15);
	assert_non_null(strstr(d->msg, "service imap-login"));
	assert_non_null(d->fix);
	dconf_free(&cf);
	diag_free(&dl);

	/* the same obsolete name twice: one warning */
	cf = parse("login_process_size = 64\nprotocol imap {\n login_process_size = 128\n}\n", &dl);
	assert_int_equal(count_diag(&dl, "login_process_size"), 1);
	assert_int_equal(dl.n, 1);
	dconf_free(&cf);
	diag_free(&dl);
}

static void test_later_setting_overrides(void **state)
{
	struct diag_list dl;
	struct dconf *cf = parse("mail_location = maildir:~/Maildir\n"
				 "auth_mechanisms = plain\n"
				 "mail_location =mbox:~/mail:INBOX=/var/mail/%u\n"
				 "protocol imap {\n  mail_location = maildir:~/imap\n}\n"
				 "protocol imap {\n  login_greeting = hi\n}\n"
				 "auth_mechanisms = $auth_mechanisms login\n",
				 &dl);
	struct mail_location ml;
	const char *err;

	(void)state;
	assert_int_equal(dl.n, 0);
	assert_string_equal(dconf_get(cf, DCONF_mail_location), "mbox:~/mail:INBOX=/var/mail/%u");
	assert_int_equal(cf->v[DCONF_mail_location].line, 3);
	assert_string_equal(dconf_get_proto(cf, "imap", DCONF_mail_location), "maildir:~/imap");
	assert_string_equal(dconf_get_proto(cf, "imap", DCONF_login_greeting), "hi");
	assert_string_equal(dconf_get_proto(cf, "pop3", DCONF_mail_location), "mbox:~/mail:INBOX=/var/mail/%u");
	assert_string_equal(dconf_get(cf, DCONF_auth_mechanisms), "plain login");
	assert_string_equal(dconf_get(cf, DCONF_first_valid_uid), "500"); /* default */
	assert_int_equal(mail_location_parse(dconf_get(cf, DCONF_mail_location), cf->arena, &ml, &err), 0);
	assert_string_equal(ml.driver, "mbox");
	assert_string_equal(ml.path, "~/mail");
	assert_string_equal(ml.inbox, "/var/mail/%u");
	assert_null(ml.index);
	assert_int_equal(mail_location_parse("maildir:~/Maildir:INDEX=/var/idx/%u:LAYOUT=fs", cf->arena,
					     &ml, &err), 0);
	assert_string_equal(ml.driver, "maildir");
	assert_string_equal(ml.index, "/var/idx/%u");
	assert_string_equal(ml.layout, "fs");
	assert_int_equal(mail_location_parse("", cf->arena, &ml, &err), 0);
	assert_string_equal(ml.driver, "");
	assert_int_equal(mail_location_parse("foo:/x", cf->arena, &ml, &err), -1);
	assert_int_equal(mail_location_parse("maildir:/x:BOGUS=1", cf->arena, &ml, &err), -1);
	assert_int_equal(mail_location_parse("maildir:/x:LAYOUT=odd", cf->arena, &ml, &err), -1);
	dconf_free(&cf);
	diag_free(&dl);
}

static void test_syntax_forms(void **state)
{
	struct diag_list dl;
	struct dconf *cf = parse("  # comment\n"
				 "login_greeting = \"Hello # not a comment\"  # a comment\n"
				 "auth_default_realm='example.com'\n"
				 "auth_mechanisms = plain \\\n   login\n"
				 "ssl = required\n"
				 "passdb {\n driver = pam\n}\n"
				 "passdb {\n driver = passwd-file\n args = scheme=CRYPT /etc/%d/passwd\n"
				 " default_fields = nopassword=y\n deny = no\n}\n"
				 "userdb passwd {\n}\n"
				 "service imap-login {\n process_limit = 100\n inet_listener imap {\n"
				 "  address = 127.0.0.1\n  port = 0\n }\n}\n"
				 "plugin {\n  quota = maildir\n}\n"
				 "namespace inbox {\n  inbox = yes\n  mailbox Drafts {\n   special_use = \\Drafts\n  }\n}\n",
				 &dl);
	const struct dconf_listener *l;

	(void)state;
	if (dl.n)
		fail_msg("%s", dl.v[0].msg);
	assert_string_equal(dconf_get(cf, DCONF_login_greeting), "Hello # not a comment");
	assert_string_equal(dconf_get(cf, DCONF_auth_default_realm), "example.com");
	assert_string_equal(dconf_get(cf, DCONF_auth_mechanisms), "plain login");
	assert_string_equal(dconf_get(cf, DCONF_ssl), "required");
	assert_string_equal(cf->passdbs->driver, "pam");
	assert_string_equal(cf->passdbs->next->driver, "passwd-file");
	assert_string_equal(cf->passdbs->next->default_fields, "nopassword=y");
	assert_string_equal(cf->passdbs->next->extra->name, "deny");
	assert_string_equal(cf->userdbs->driver, "passwd");
	l = dconf_listener_find(cf, "imap-login", "imap");
	assert_int_equal(l->port, 0);
	assert_string_equal(l->address, "127.0.0.1");
	assert_int_equal(l->ssl, -1);
	assert_non_null(strstr(written(cf), "  process_limit = 100\n"));
	assert_null(dconf_listener_find(cf, "imap-login", "imaps")); /* 2.x: defaults are not listed */
	dconf_free(&cf);
	diag_free(&dl);
}

static void test_unknown_and_bad_values(void **state)
{
	static const struct {
		const char *text, *want;
		int line;
		bool error;
	} cases[] = {
		{ "# x\nno_such_setting = 1\n", "unknown setting \"no_such_setting\"", 2, false },
		{ "auth_failure_delay = soon\n", "bad value for auth_failure_delay: \"soon\"", 1, true },
		{ "\nssl = maybe\n", "expected one of: yes no required", 2, true },
		{ "auth_verbose = sometimes\n", "expected yes or no", 1, true },
		{ "first_valid_uid = -1\n", "unsigned integer", 1, true },
		{ "imap_max_line_length = 64q\n", "size", 1, true },
		{ "mail_location = maildir:/var/%q/%n\n", "unknown variable \"%q\"", 1, true },
		{ "mail_location = bogus:/var\n", "unknown mail storage driver", 1, true },
		{ "pop3_uidl_format = %08Xu%n\n", "unknown variable", 1, true },
		{ "auth_username_format = %Lu%\n", "at the end", 1, true },
		{ "userdb {\n driver = static\n args = home=/h/%z\n}\n", "unknown variable", 3, true },
		{ "passdb {\n args = /etc/x\n}\n", "passdb without a driver", 1, true },
		{ "service imap-login {\n inet_listener imap {\n  port = 99999\n }\n}\n", "port", 3, true },
		{ "service imap-login {\n inet_listener imap {\n  ssl = perhaps\n }\n}\n", "expected yes or no", 3, true },
		{ "service imap-login {\n frobnicate = 1\n}\n", "unknown service setting", 2, false },
		{ "bogus_section x {\n a = b\n}\n", "unknown section \"bogus_section x\"", 1, false },
		{ "mail_location maildir:~/Maildir\n", "expected \"=\" or \"{\"", 1, true },
		{ "login_greeting = \"unterminated\n", "unterminated quoted", 1, true },
		{ "!frob x\n", "bad directive", 1, true },
		{ "!include x.conf\n", "not possible", 1, true },
		{ "ssl_disable = maybe\n", "ssl_disable", 1, true },
		{ "disable_plaintext_auth = no\n\nauth_allow_cleartext = no\n", "contradicts", 3, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl;
		struct dconf *cf = parse(cases[i].text, &dl);
		const struct diag *d = find_diag(&dl, cases[i].want);

		if (d == NULL)
			fail_msg("case %zu: no finding \"%s\" (%zu findings%s%s)", i, cases[i].want, dl.n,
				 dl.n ? ": " : "", dl.n ? dl.v[0].msg : "");
		assert_int_equal(d->line, cases[i].line);
		assert_string_equal(d->file, "/etc/postern/dovecot.conf");
		assert_int_equal(d->level, cases[i].error ? DIAG_ERROR : DIAG_WARN);
		dconf_free(&cf);
		diag_free(&dl);
	}
}

static void test_braces(void **state)
{
	struct diag_list dl;
	struct dconf *cf = parse("protocol pop3 {\n  pop3_uidl_format = %u\n", &dl);
	const struct diag *d;

	(void)state;
	d = find_diag(&dl, "not closed");
	assert_non_null(d);
	assert_int_equal(d->line, 1);
	assert_int_equal(d->level, DIAG_ERROR);
	dconf_free(&cf);
	diag_free(&dl);

	cf = parse("ssl = yes\n}\nauth_verbose = yes\n", &dl);
	d = find_diag(&dl, "stray \"}\"");
	assert_non_null(d);
	assert_int_equal(d->line, 2);
	assert_string_equal(dconf_get(cf, DCONF_auth_verbose), "yes"); /* parsing goes on */
	dconf_free(&cf);
	diag_free(&dl);

	/* nesting past the limit is an error, and the braces still balance */
	{
		struct buf t = BUF_INIT(0);
		int k;

		for (k = 0; k < 40; k++)
			buf_puts(&t, "plugin {\n");
		for (k = 0; k < 40; k++)
			buf_puts(&t, "}\n");
		buf_puts(&t, "auth_debug = yes\n");
		cf = parse(buf_cstr(&t), &dl);
		assert_int_equal(count_diag(&dl, "nested deeper"), 1);
		assert_int_equal(count_diag(&dl, "stray"), 0);
		assert_string_equal(dconf_get(cf, DCONF_auth_debug), "yes");
		dconf_free(&cf);
		diag_free(&dl);
		buf_free(&t);
	}
}

static void test_dollar_expansion_is_bounded(void **state)
{
	struct buf t = BUF_INIT(0);
	struct diag_list dl;
	struct dconf *cf;
	int k;

	(void)state;
	buf_puts(&t, "login_greeting = abcdefghijklmnop\n");
	for (k = 0; k < 40; k++)
		buf_puts(&t, "login_greeting = $login_greeting$login_greeting\n");
	cf = parse(buf_cstr(&t), &dl);
	assert_true(count_diag(&dl, "after $ expansion") > 0);
	assert_true(strlen(dconf_get(cf, DCONF_login_greeting)) <= 4 * 64 * 1024 + 64);
	dconf_free(&cf);
	diag_free(&dl);
	buf_free(&t);
	/* unknown names stay as written */
	cf = parse("login_greeting = $nosuch and $$ $\n", &dl);
	assert_string_equal(dconf_get(cf, DCONF_login_greeting), "$nosuch and $$ $");
	assert_int_equal(dl.n, 0);
	dconf_free(&cf);
	diag_free(&dl);
}

static void test_includes(void **state)
{
	static const struct memfile files[] = {
		{ "/etc/d/dovecot.conf", "auth_verbose = yes\n!include conf.d/*.conf\n"
					 "!include_try /etc/d/missing.conf\n!include_try local.conf\n"
					 "protocol imap {\n  !include imap.inc\n}\n" },
		{ "/etc/d/conf.d/10-auth.conf", "auth_mechanisms = plain login\n" },
		{ "/etc/d/conf.d/10-mail.conf", "mail_location = maildir:~/A\n" },
		{ "/etc/d/conf.d/20-mail.conf", "mail_location = maildir:~/B\nno_such = 1\n" },
		{ "/etc/d/conf.d/readme.txt", "garbage without equals\n" },
		{ "/etc/d/imap.inc", "login_greeting = imap here\n" },
		{ "/etc/d/local.conf", "ssl = required\n" },
	};
	static const struct memfile loop[] = {
		{ "/l/dovecot.conf", "!include a.conf\n" },
		{ "/l/a.conf", "!include b.conf\n" },
		{ "/l/b.conf", "ssl = no\n!include a.conf\n" },
	};
	static const struct memfile missing[] = {
		{ "/m/dovecot.conf", "!include nothere.conf\n!include none/*.conf\n!include_try none/*.conf\n" },
	};
	static const struct memfile unbalanced[] = {
		{ "/u/dovecot.conf", "!include a.conf\nssl = no\n" },
		{ "/u/a.conf", "protocol imap {\n" },
	};
	struct diag_list dl;
	struct dconf *cf = parse_fs(files, sizeof(files) / sizeof(files[0]), &dl);
	const struct diag *d;

	(void)state;
	assert_int_equal(dl.n, 1);
	d = find_diag(&dl, "no_such");
	assert_string_equal(d->file, "/etc/d/conf.d/20-mail.conf");
	assert_int_equal(d->line, 2);
	assert_string_equal(dconf_get(cf, DCONF_auth_mechanisms), "plain login");
	assert_string_equal(dconf_get(cf, DCONF_mail_location), "maildir:~/B"); /* sorted: 20 after 10 */
	assert_string_equal(cf->v[DCONF_mail_location].file, "/etc/d/conf.d/20-mail.conf");
	assert_string_equal(dconf_get(cf, DCONF_ssl), "required");
	assert_string_equal(dconf_get_proto(cf, "imap", DCONF_login_greeting), "imap here");
	dconf_free(&cf);
	diag_free(&dl);

	cf = parse_fs(loop, 3, &dl);
	d = find_diag(&dl, "include loop");
	assert_non_null(d);
	assert_string_equal(d->file, "/l/b.conf");
	assert_int_equal(d->line, 2);
	assert_string_equal(dconf_get(cf, DCONF_ssl), "no");
	dconf_free(&cf);
	diag_free(&dl);

	cf = parse_fs(missing, 1, &dl);
	assert_int_equal(count_diag(&dl, "no such file"), 2);
	assert_int_equal(dl.n, 2);
	dconf_free(&cf);
	diag_free(&dl);

	cf = parse_fs(unbalanced, 2, &dl);
	d = find_diag(&dl, "not closed");
	assert_non_null(d);
	assert_string_equal(d->file, "/u/a.conf");
	assert_string_equal(dconf_get(cf, DCONF_ssl), "no"); /* back at top level after the include */
	dconf_free(&cf);
	diag_free(&dl);
}

static void test_v1_protocols_and_aliases(void **state)
{
	struct diag_list dl;
	struct dconf *cf = parse("protocols = imap pop3s\nssl_disable = yes\nauth default {\n"
				 "  mechanisms = plain\n  user = root\n  socket listen {\n"
				 "    client {\n      path = /var/spool/postfix/private/auth\n    }\n  }\n"
				 "  passdb pam {\n  }\n}\n",
				 &dl);

	(void)state;
	assert_false(diag_has_errors(&dl));
	assert_string_equal(dconf_get(cf, DCONF_protocols), "imap pop3");
	assert_string_equal(dconf_get(cf, DCONF_ssl), "no");
	assert_string_equal(dconf_get(cf, DCONF_auth_mechanisms), "plain");
	assert_string_equal(cf->passdbs->driver, "pam");
	assert_int_equal(dconf_listener_find(cf, "imap-login", "imap")->port, 143);
	assert_int_equal(dconf_listener_find(cf, "imap-login", "imaps")->port, 0);
	assert_int_equal(dconf_listener_find(cf, "pop3-login", "pop3")->port, 0);
	assert_int_equal(dconf_listener_find(cf, "pop3-login", "pop3s")->port, 995);
	assert_int_equal(count_diag(&dl, "\"auth_user\""), 1);
	assert_int_equal(count_diag(&dl, "\"socket\""), 1);
	assert_int_equal(count_diag(&dl, "ssl_disable"), 1);
	dconf_free(&cf);
	diag_free(&dl);
}

static void test_defaults(void **state)
{
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);
	const char *err;
	size_t i;

	(void)state;
	/* every default passes its own type check */
	for (i = 0; i < DCONF__COUNT; i++)
		if (dconf_check_value(&dconf_table[i], dconf_table[i].def, a, &err) < 0)
			fail_msg("default of %s: %s", dconf_table[i].name, err);
	assert_int_equal(dconf_write(NULL, true, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "auth_failure_delay = 2 secs\n"));
	assert_non_null(strstr(buf_cstr(&b), "pop3_uidl_format = %08Xu%08Xv\n"));
	assert_non_null(strstr(buf_cstr(&b), "disable_plaintext_auth = yes\n"));
	assert_non_null(strstr(buf_cstr(&b), "mail_location = \n"));
	assert_non_null(strstr(buf_cstr(&b), "inet_listener imaps {\n    port = 993\n    ssl = yes\n"));
	assert_non_null(dconf_find("auth_allow_cleartext"));
	assert_null(dconf_find("ssl_cert_file"));
	buf_free(&b);
	arena_free(&a);
}

static void test_value_parsers(void **state)
{
	uint64_t v;
	bool b;

	(void)state;
	assert_int_equal(dconf_parse_time("2 secs", &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(dconf_parse_time("1 hour", &v), 0);
	assert_int_equal(v, 3600000);
	assert_int_equal(dconf_parse_time("2mins", &v), 0);
	assert_int_equal(v, 120000);
	assert_int_equal(dconf_parse_time("500 ms", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(dconf_parse_time("30", &v), 0);
	assert_int_equal(v, 30000);
	assert_int_equal(dconf_parse_time("soon", &v), -1);
	assert_int_equal(dconf_parse_time("5 fortnights", &v), -1);
	assert_int_equal(dconf_parse_time("99999999999999999999 weeks", &v), -1);
	assert_int_equal(dconf_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(dconf_parse_size("10 M", &v), 0);
	assert_int_equal(v, 10485760);
	assert_int_equal(dconf_parse_size("k", &v), -1);
	assert_int_equal(dconf_parse_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(dconf_parse_bool("1", &b), -1);
}

static void test_every_prefix(void **state)
{
	size_t len, cut;
	char *text = read_howto("dovecot.conf", &len), *t2;
	size_t len2;

	(void)state;
	t2 = read_howto("dovecot-2x.conf", &len2);
	for (cut = 0; cut <= len + len2; cut++) {
		struct diag_list dl;
		struct dconf *cf;
		struct buf b = BUF_INIT(0);
		const char *src = cut <= len ? text : t2;
		size_t n = cut <= len ? cut : cut - len;
		char *copy = malloc(n ? n : 1);

		memcpy(copy, src, n); /* exact length: ASan catches an overread */
		diag_init(&dl);
		cf = dconf_parse(copy, n, "dovecot.conf", NULL, NULL, &dl);
		(void)dconf_write(cf, false, &b);
		dconf_free(&cf);
		diag_free(&dl);
		buf_free(&b);
		free(copy);
	}
	free(text);
	free(t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_howto_both_syntaxes_same_model),
		cmocka_unit_test(test_howto_obsolete_warned_once_each),
		cmocka_unit_test(test_later_setting_overrides),
		cmocka_unit_test(test_syntax_forms),
		cmocka_unit_test(test_unknown_and_bad_values),
		cmocka_unit_test(test_braces),
		cmocka_unit_test(test_dollar_expansion_is_bounded),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_v1_protocols_and_aliases),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_value_parsers),
		cmocka_unit_test(test_every_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
