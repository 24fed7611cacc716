/*
 * test_passwdfile.c - unit tests for src/libmail/passwdfile.c (Dovecot's passwd-file format)
 */
#include "unit.h"

#include <stdio.h>

#include "libmail/passwdfile.h"

static void test_howto_file(void **state)
{
	static const char text[] =
		"john@example.org:{PLAIN}john-secret\n"
		"jane@example.org:{CRAM-MD5}166b0f0d59000eb27d40c1bc3fd6e5561cb361114c409b22c77b5bed55dba9f2\n"
		"sales@example.net:{HMAC-MD5}9722e2ba8f01151643e06bc2f3f03a526cb00e181071f082afcc9f617cb0d5d8\n";
	struct diag_list d = DIAG_LIST_INIT;
	struct pwf *f = pwf_parse(text, sizeof(text) - 1, "passwd", &d);
	const struct pwf_entry *e;

	(void)state;
	assert_int_equal(d.n, 0);
	assert_int_equal(pwf_count(f), 3);
	e = pwf_lookup(f, "john@example.org");
	assert_non_null(e);
	assert_string_equal(e->password, "{PLAIN}john-secret");
	assert_false(e->has_uid);
	assert_string_equal(e->home, "");
	assert_string_equal(e->extra, "");
	assert_int_equal(e->line, 1);
	assert_non_null(pwf_lookup(f, "sales@example.net"));
	assert_null(pwf_lookup(f, "John@example.org")); /* exact match: auth_username_format lowercases first */
	assert_null(pwf_lookup(f, "nobody"));
	pwf_free(&f);
	assert_null(f);
	diag_free(&d);
}

static void test_all_fields(void **state)
{
	static const char text[] = "# comment\r\n\r\n"
				   "kim:{SHA512-CRYPT}$6$x$y:5000:5001:Kim K:/home/kim:/bin/false:userdb_mail=maildir:~/M "
				   "allow_nets=10.0.0.0/8,::1 nopassword\r\n"
				   "lee::::::\n"
				   "max:pw";
	struct diag_list d = DIAG_LIST_INIT;
	struct pwf *f = pwf_parse(text, sizeof(text) - 1, "p", &d);
	const struct pwf_entry *e = pwf_lookup(f, "kim");
	char k[32], v[64];
	size_t pos = 0;

	(void)state;
	assert_int_equal(d.n, 0);
	assert_non_null(e);
	assert_int_equal(e->line, 3);
	assert_true(e->has_uid && e->has_gid);
	assert_int_equal(e->uid, 5000);
	assert_int_equal(e->gid, 5001);
	assert_string_equal(e->gecos, "Kim K");
	assert_string_equal(e->home, "/home/kim");
	assert_string_equal(e->shell, "/bin/false");
	/* the extra fields keep their colons */
	assert_string_equal(e->extra, "userdb_mail=maildir:~/M allow_nets=10.0.0.0/8,::1 nopassword");
	assert_true(pwf_extra_next(e->extra, &pos, k, sizeof(k), v, sizeof(v)));
	assert_string_equal(k, "userdb_mail");
	assert_string_equal(v, "maildir:~/M");
	assert_true(pwf_extra_next(e->extra, &pos, k, sizeof(k), v, sizeof(v)));
	assert_string_equal(k, "allow_nets");
	assert_string_equal(v, "10.0.0.0/8,::1");
	assert_true(pwf_extra_next(e->extra, &pos, k, sizeof(k), v, sizeof(v)));
	assert_string_equal(k, "nopassword");
	assert_string_equal(v, "");
	assert_false(pwf_extra_next(e->extra, &pos, k, sizeof(k), v, sizeof(v)));
	/* cut to the buffers' sizes, never past them */
	pos = 0;
	assert_true(pwf_extra_next(e->extra, &pos, k, 4, v, 5));
	assert_string_equal(k, "use");
	assert_string_equal(v, "mail");
	e = pwf_lookup(f, "lee");
	assert_non_null(e);
	assert_string_equal(e->password, "");
	assert_false(e->has_uid);
	e = pwf_lookup(f, "max");
	assert_non_null(e);
	assert_string_equal(e->password, "pw");
	pwf_free(&f);
	diag_free(&d);
}

static void test_errors_and_duplicates(void **state)
{
	static const char text[] = "a:x:notanumber\n"
				   "b:x:1:-2\n"
				   ":nouser\n"
				   "c:first\n"
				   "c:second\n"
				   "d:x:4294967295\n"
				   "e:ok:0:0\n";
	struct diag_list d = DIAG_LIST_INIT;
	struct pwf *f = pwf_parse(text, sizeof(text) - 1, "pf", &d);
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_null(pwf_lookup(f, "a"));
	assert_null(pwf_lookup(f, "b"));
	assert_null(pwf_lookup(f, "d"));
	assert_string_equal(pwf_lookup(f, "c")->password, "first");
	assert_int_equal(pwf_lookup(f, "e")->uid, 0);
	assert_int_equal(d.n_error, 4);
	assert_int_equal(d.n_warn, 1);
	assert_int_equal(d.v[0].line, 1);
	assert_string_equal(d.v[0].file, "pf");
	assert_non_null(strstr(d.v[0].msg, "bad uid"));
	assert_int_equal(d.v[3].line, 5);
	assert_non_null(strstr(d.v[3].msg, "more than once"));
	pwf_free(&f);
	diag_free(&d);
	buf_free(&b);
}

static void test_nul_and_long_lines(void **state)
{
	size_t n = PWF_LINE_MAX + 100;
	char *text = malloc(n + 20);
	struct diag_list d = DIAG_LIST_INIT;
	struct pwf *f;

	(void)state;
	memset(text, 'x', n);
	memcpy(text + n, "\nok:pw\nz\0:pw\n", 13);
	f = pwf_parse(text, n + 13, "p", &d);
	assert_int_equal(pwf_count(f), 1);
	assert_non_null(pwf_lookup(f, "ok"));
	assert_int_equal(d.n_error, 2);
	pwf_free(&f);
	diag_free(&d);
	free(text);
}

/* every prefix of a file parses without a memory error (ASan) */
static void test_every_cut(void **state)
{
	static const char text[] = "kim:{PLAIN}x:5000:5000:g:/h:/s:userdb_mail=maildir:~/M a=b\nlee:y\n";
	size_t i;

	(void)state;
	for (i = 0; i <= sizeof(text) - 1; i++) {
		struct diag_list d = DIAG_LIST_INIT;
		char *copy = malloc(i + 1);
		struct pwf *f;

		memcpy(copy, text, i);
		f = pwf_parse(copy, i, "p", &d);
		pwf_free(&f);
		diag_free(&d);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_howto_file),	      cmocka_unit_test(test_all_fields),
		cmocka_unit_test(test_errors_and_duplicates), cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test(test_every_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
