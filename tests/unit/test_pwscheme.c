/*
 * test_pwscheme.c - unit tests for src/libmail/pwscheme.c against hashes made by real `doveadm pw`
 *
 * Every row of shared/vectors/dovecot-pw.tsv (../shared beside the checkout, else the copy in
 * tests/shared) must verify, and the same password with a prefix must not. Every scheme must
 * make a hash that verifies; malformed values are errors, never matches.
 */
#include "unit.h"

#include <stdio.h>

#include "libmail/pwscheme.h"

#define MAX_ROWS 128

struct row {
	char scheme[32], user[64], password[64], stored[512];
};

static struct row rows[MAX_ROWS];
static size_t nrows;

/* load_vectors - read the tab-separated vector file */
static void load_vectors(void)
{
	static const char *const paths[] = { "../shared/vectors/dovecot-pw.tsv",
					     "tests/shared/vectors/dovecot-pw.tsv" };
	char line[1024];
	FILE *f = NULL;
	size_t i;

	for (i = 0; i < 2 && f == NULL; i++)
		f = fopen(paths[i], "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct row *r = &rows[nrows];
		char *t1, *t2, *t3, *nl;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_true(nrows < MAX_ROWS);
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		t1 = strchr(line, '\t');
		assert_non_null(t1);
		t2 = strchr(t1 + 1, '\t');
		assert_non_null(t2);
		t3 = strchr(t2 + 1, '\t');
		assert_non_null(t3);
		snprintf(r->scheme, sizeof(r->scheme), "%.*s", (int)(t1 - line), line);
		snprintf(r->user, sizeof(r->user), "%.*s", (int)(t2 - t1 - 1), t1 + 1);
		snprintf(r->password, sizeof(r->password), "%.*s", (int)(t3 - t2 - 1), t2 + 1);
		snprintf(r->stored, sizeof(r->stored), "%s", t3 + 1);
		nrows++;
	}
	fclose(f);
	assert_true(nrows >= 58); /* 29 schemes, two passwords each */
}

static void test_dovecot_vectors(void **state)
{
	size_t i;

	(void)state;
	load_vectors();
	for (i = 0; i < nrows; i++) {
		const char *err = NULL;
		char wrong[80];

		if (pw_verify(rows[i].stored, rows[i].password, rows[i].user, NULL, &err) != 1)
			fail_msg("%s: %s does not verify (%s)", rows[i].scheme, rows[i].stored, err ? err : "mismatch");
		snprintf(wrong, sizeof(wrong), "x%s", rows[i].password);
		if (pw_verify(rows[i].stored, wrong, rows[i].user, NULL, &err) != 0)
			fail_msg("%s: a wrong password verifies", rows[i].scheme);
		assert_true(pw_scheme_known(rows[i].scheme));
	}
}

/* the deterministic schemes must produce exactly Dovecot's string */
static void test_deterministic_identical(void **state)
{
	size_t i, checked = 0;

	(void)state;
	if (nrows == 0)
		load_vectors();
	for (i = 0; i < nrows; i++) {
		struct buf b = BUF_INIT(0);
		const char *err = NULL;
		const char *s = rows[i].scheme;

		if (strstr(s, "CRYPT") || strncmp(s, "SS", 2) == 0 || strcmp(s, "SMD5") == 0 ||
		    strncmp(s, "SCRAM", 5) == 0 || strncmp(s, "ARGON", 5) == 0 || strcmp(s, "PBKDF2") == 0)
			continue; /* salted */
		assert_int_equal(pw_generate(s, rows[i].password, rows[i].user, 0, &b, &err), 0);
		assert_string_equal(buf_cstr(&b), rows[i].stored);
		buf_free(&b);
		checked++;
	}
	assert_true(checked >= 30);
}

static void test_every_scheme_roundtrip(void **state)
{
	const char *const *n;

	(void)state;
	for (n = pw_scheme_names(); *n; n++) {
		struct buf b = BUF_INIT(0);
		const char *err = NULL;
		char prefix[40];

		if (pw_generate(*n, "Grüße, 42!", "kim@example.org", 0, &b, &err) != 0)
			fail_msg("%s: %s", *n, err);
		snprintf(prefix, sizeof(prefix), "{%s}", *n);
		assert_true(strncmp(buf_cstr(&b), prefix, strlen(prefix)) == 0);
		assert_int_equal(pw_verify(buf_cstr(&b), "Grüße, 42!", "kim@example.org", NULL, &err), 1);
		assert_int_equal(pw_verify(buf_cstr(&b), "Grüße, 42", "kim@example.org", NULL, &err), 0);
		buf_free(&b);
	}
}

static void test_salts_differ(void **state)
{
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	const char *err;

	(void)state;
	assert_int_equal(pw_generate("SSHA512", "pw", NULL, 0, &a, &err), 0);
	assert_int_equal(pw_generate("SSHA512", "pw", NULL, 0, &b, &err), 0);
	assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
	buf_free(&a);
	buf_free(&b);
}

static void test_encodings(void **state)
{
	const char *err;
	struct buf b = BUF_INIT(0);

	(void)state;
	/* SHA1 of "secret" stored in hex under the base64 scheme name: Dovecot accepts it */
	assert_int_equal(pw_verify("{SHA1}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret", NULL, NULL, &err), 1);
	assert_int_equal(pw_verify("{SHA1.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret", NULL, NULL, &err), 1);
	/* an explicit encoding is not second-guessed */
	assert_int_equal(pw_verify("{SHA1.B64}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret", NULL, NULL, &err), -1);
	assert_int_equal(pw_generate("sha256.hex", "secret", NULL, 0, &b, &err), 0);
	assert_string_equal(buf_cstr(&b), "{SHA256.HEX}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b");
	buf_free(&b);
	assert_false(pw_scheme_known("SHA512-CRYPT.HEX"));
	assert_false(pw_scheme_known("SHA1.ROT13"));
}

static void test_rounds(void **state)
{
	struct buf b = BUF_INIT(0);
	const char *err;

	(void)state;
	assert_int_equal(pw_generate("SHA512-CRYPT", "pw", NULL, 10000, &b, &err), 0);
	assert_non_null(strstr(buf_cstr(&b), "$6$rounds=10000$"));
	buf_reset(&b);
	assert_int_equal(pw_generate("BLF-CRYPT", "pw", NULL, 6, &b, &err), 0);
	assert_non_null(strstr(buf_cstr(&b), "$2y$06$"));
	buf_reset(&b);
	assert_int_equal(pw_generate("PBKDF2", "pw", NULL, 1000, &b, &err), 0);
	assert_non_null(strstr(buf_cstr(&b), "$1000$"));
	assert_int_equal(pw_verify(buf_cstr(&b), "pw", NULL, NULL, &err), 1);
	buf_reset(&b);
	assert_int_equal(pw_generate("SCRAM-SHA-256", "pw", NULL, 5000, &b, &err), 0);
	assert_true(strncmp(buf_cstr(&b), "{SCRAM-SHA-256}5000,", 20) == 0);
	assert_int_equal(pw_verify(buf_cstr(&b), "pw", NULL, NULL, &err), 1);
	buf_reset(&b);
	assert_int_equal(pw_generate("BLF-CRYPT", "pw", NULL, 99, &b, &err), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_default_scheme_and_bare_values(void **state)
{
	const char *err;

	(void)state;
	/* no {SCHEME}: CRYPT by default (Dovecot's default_pass_scheme), else the given one */
	assert_int_equal(pw_verify("$1$3erhqIl5$Gd6TyZA930Yg2KyNyXeqM0", "secret", NULL, NULL, &err), 1);
	assert_int_equal(pw_verify("secret", "secret", NULL, "PLAIN", &err), 1);
	assert_int_equal(pw_verify("5ebe2294ecd0e0f08eab7690d2a6ee69", "secret", NULL, "PLAIN-MD5", &err), 1);
	assert_int_equal(pw_verify("5ebe2294ecd0e0f08eab7690d2a6ee69", "secreT", NULL, "PLAIN-MD5", &err), 0);
}

static void test_errors(void **state)
{
	static const char *const bad[] = {
		"{NOPE}x",
		"{SHA256}tooshort",
		"{SHA512-CRYPT}$1$3erhqIl5$Gd6TyZA930Yg2KyNyXeqM0", /* MD5-CRYPT under another name */
		"{CRYPT}*",
		"{PBKDF2}$1$salt$notanumber$00",
		"{PBKDF2}$1$salt$5000$zz",
		"{SCRAM-SHA-1}4096,onlytwo",
		"{SCRAM-SHA-1}x,AAAA,AAAA,AAAA",
		"{ARGON2ID}$argon2id$v=19$garbage",
		"{PLAIN.B64}not base64!",
	};
	struct buf b = BUF_INIT(0);
	char *longpw;
	const char *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (pw_verify(bad[i], "secret", "u@d", NULL, &err) != -1)
			fail_msg("%s: not an error", bad[i]);
		assert_non_null(err);
	}
	/* DIGEST-MD5 needs the user */
	assert_int_equal(pw_generate("DIGEST-MD5", "secret", NULL, 0, &b, &err), -1);
	assert_int_equal(pw_verify("{DIGEST-MD5}8f241fa631198eb85d1c5e1b4a8ac2ce", "secret", NULL, NULL, &err), -1);
	assert_true(pw_scheme_needs_user("digest-md5"));
	assert_false(pw_scheme_needs_user("SHA1"));
	assert_int_equal(pw_generate("NOPE", "secret", NULL, 0, &b, &err), -1);
	/* bounded password length */
	longpw = malloc(PW_PASSWORD_MAX + 2);
	assert_non_null(longpw);
	memset(longpw, 'a', PW_PASSWORD_MAX + 1);
	longpw[PW_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(pw_generate("SHA1", longpw, NULL, 0, &b, &err), -1);
	assert_int_equal(pw_verify("{PLAIN}a", longpw, NULL, NULL, &err), -1);
	longpw[PW_PASSWORD_MAX] = '\0';
	assert_int_equal(pw_generate("PLAIN", longpw, NULL, 0, &b, &err), 0);
	assert_int_equal(pw_verify(buf_cstr(&b), longpw, NULL, NULL, &err), 1);
	free(longpw);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_vectors),
		cmocka_unit_test(test_deterministic_identical),
		cmocka_unit_test(test_every_scheme_roundtrip),
		cmocka_unit_test(test_salts_differ),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_rounds),
		cmocka_unit_test(test_default_scheme_and_bare_values),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
