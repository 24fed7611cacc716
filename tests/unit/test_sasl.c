/*
 * test_sasl.c - unit tests for the SASL mechanisms (src/libmail/sasl*.c) with the RFCs' examples
 *
 * A small passdb of "{SCHEME}value" strings answers the lookups through pw_verify() and
 * pw_credentials(), so credentials stored in the mechanism's own scheme and in {PLAIN} are
 * both exercised. Exchanges: RFC 4616 (PLAIN), RFC 2195 (CRAM-MD5), RFC 2831 section 4
 * (DIGEST-MD5), RFC 5802 section 5 (SCRAM-SHA-1), RFC 7677 section 3 (SCRAM-SHA-256),
 * RFC 1939 section 7 (APOP).
 */
#include "unit.h"

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/encode.h"
#include "libmail/pwscheme.h"
#include "libmail/sasl.h"

struct user {
	const char *name, *stored;
};

static const struct user *passdb;

/* answer - resolve SASL_LOOKUP against passdb until another status comes */
static enum sasl_status answer(struct sasl_session *s, enum sasl_status st, struct buf *out, const char **err)
{
	while (st == SASL_LOOKUP) {
		const struct sasl_need *need = sasl_need(s);
		const struct user *u;
		struct buf cred = BUF_INIT(0);
		const char *e;

		assert_non_null(need);
		for (u = passdb; u->name && strcmp(u->name, need->user) != 0; u++)
			;
		if (u->name == NULL) {
			st = sasl_lookup_done(s, SASL_LOOKUP_NO_USER, NULL, 0, out, err);
		} else if (need->kind == SASL_NEED_VERIFY) {
			int r = pw_verify(u->stored, need->password, u->name, NULL, &e);

			st = sasl_lookup_done(s, r == 1 ? SASL_LOOKUP_OK : r == 0 ? SASL_LOOKUP_MISMATCH : SASL_LOOKUP_ERROR,
					      NULL, 0, out, err);
		} else if (pw_credentials(u->stored, need->scheme, u->name, NULL, &cred, &e) < 0) {
			st = sasl_lookup_done(s, SASL_LOOKUP_ERROR, NULL, 0, out, err);
		} else {
			st = sasl_lookup_done(s, SASL_LOOKUP_OK, cred.data, cred.len, out, err);
		}
		buf_free(&cred);
	}
	return st;
}

/* start - sasl_start + lookups */
static enum sasl_status start(struct sasl_session *s, const char *ir, size_t n, struct buf *out, const char **err)
{
	buf_reset(out);
	return answer(s, sasl_start(s, ir, n, ir != NULL, out, err), out, err);
}

/* step - sasl_step + lookups */
static enum sasl_status step(struct sasl_session *s, const char *in, size_t n, struct buf *out, const char **err)
{
	buf_reset(out);
	return answer(s, sasl_step(s, in, n, out, err), out, err);
}

#define STEP(s, str, out, err) step((s), (str), strlen(str), (out), (err))

static const struct sasl_params params = { "imap", "mail.example.com", NULL, false, NULL, NULL, NULL };

static void test_plain(void **state)
{
	static const struct user db[] = { { "tim", "{SHA256-CRYPT}$5$rounds=1000$abcdefgh$" }, { "kim", "{PLAIN}pw" },
					   { NULL, NULL } };
	struct buf out = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;

	(void)state;
	passdb = db;
	s = sasl_new("plain", &params, &err);
	assert_non_null(s);
	assert_int_equal(start(s, "\0kim\0pw", 7, &out, &err), SASL_OK);
	assert_string_equal(sasl_user(s), "kim");
	assert_null(sasl_authzid(s));
	/* after the end, nothing more is taken */
	assert_int_equal(step(s, "x", 1, &out, &err), SASL_FAIL);
	sasl_free(&s);
	assert_null(s);

	s = sasl_new("PLAIN", &params, &err);
	assert_int_equal(start(s, "kim\0kim\0pw", 10, &out, &err), SASL_OK);
	assert_string_equal(sasl_authzid(s), "kim");
	sasl_free(&s);

	s = sasl_new("PLAIN", &params, &err);
	assert_int_equal(start(s, "\0kim\0PW", 7, &out, &err), SASL_FAIL);
	assert_string_equal(err, "Password mismatch");
	sasl_free(&s);

	s = sasl_new("PLAIN", &params, &err);
	assert_int_equal(start(s, "\0nobody\0pw", 10, &out, &err), SASL_FAIL);
	assert_string_equal(err, "unknown user");
	sasl_free(&s);

	static const char *const bad[] = { "kim", "\0kim", "\0\0pw", "tim\0kim\0pw", "\0k\0im\0pw" };
	static const size_t badlen[] = { 3, 4, 4, 10, 9 };
	for (size_t i = 0; i < 5; i++) {
		s = sasl_new("PLAIN", &params, &err);
		assert_int_equal(start(s, bad[i], badlen[i], &out, &err), SASL_FAIL);
		assert_non_null(err);
		sasl_free(&s);
	}

	/* no initial response: an empty challenge first */
	s = sasl_new("PLAIN", &params, &err);
	assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
	assert_int_equal(out.len, 0);
	assert_int_equal(step(s, "\0kim\0pw", 7, &out, &err), SASL_OK);
	sasl_free(&s);
	buf_free(&out);
}

static void test_login(void **state)
{
	static const struct user db[] = { { "kim@example.org", "{SSHA}e4vX7KWhCyMtBNknhndm6yv92OWj82Dm" },
					   { NULL, NULL } };
	struct buf out = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;

	(void)state;
	passdb = db;
	s = sasl_new("LOGIN", &params, &err);
	assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&out), "Username:");
	assert_int_equal(STEP(s, "kim@example.org", &out, &err), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&out), "Password:");
	assert_int_equal(STEP(s, "secret", &out, &err), SASL_OK);
	assert_string_equal(sasl_user(s), "kim@example.org");
	sasl_free(&s);

	/* SMTP's AUTH LOGIN <user> */
	s = sasl_new("LOGIN", &params, &err);
	assert_int_equal(start(s, "kim@example.org", 15, &out, &err), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&out), "Password:");
	assert_int_equal(STEP(s, "wrong", &out, &err), SASL_FAIL);
	sasl_free(&s);
	buf_free(&out);
}

static void test_cram_md5_rfc2195(void **state)
{
	struct user db[] = { { "tim", "{PLAIN}tanstaaftanstaaf" }, { NULL, NULL } };
	struct sasl_params p = params;
	struct buf out = BUF_INIT(0), h = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;
	int round;

	(void)state;
	p.nonce = "<1896.697170952@postoffice.reston.mci.net>";
	/* the same exchange with the password in PLAIN and as Dovecot's CRAM-MD5 context */
	assert_int_equal(pw_generate("CRAM-MD5", "tanstaaftanstaaf", NULL, 0, &h, &err), 0);
	for (round = 0; round < 2; round++) {
		if (round == 1)
			db[0].stored = buf_cstr(&h);
		passdb = db;
		s = sasl_new("CRAM-MD5", &p, &err);
		assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
		assert_string_equal(buf_cstr(&out), p.nonce);
		assert_int_equal(STEP(s, "tim b913a602c7eda7a495b4e6e7334d3890", &out, &err), SASL_OK);
		sasl_free(&s);

		s = sasl_new("CRAM-MD5", &p, &err);
		assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
		assert_int_equal(STEP(s, "tim b913a602c7eda7a495b4e6e7334d3891", &out, &err), SASL_FAIL);
		sasl_free(&s);
	}
	/* the HOWTO's jane, whose {CRAM-MD5} hash real doveadm made; HMAC computed independently */
	static const struct user howto[] = {
		{ "jane@example.org", "{CRAM-MD5}166b0f0d59000eb27d40c1bc3fd6e5561cb361114c409b22c77b5bed55dba9f2" },
		{ NULL, NULL } };
	passdb = howto;
	p.nonce = "<12345.67890@mail.example.com>";
	s = sasl_new("CRAM-MD5", &p, &err);
	assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
	assert_int_equal(STEP(s, "jane@example.org 738403ed36c3435df2cea0d761629588", &out, &err), SASL_OK);
	sasl_free(&s);

	/* a random challenge names the host */
	s = sasl_new("CRAM-MD5", &params, &err);
	assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
	assert_true(out.data[0] == '<' && strstr(out.data, "@mail.example.com>") != NULL);
	assert_int_equal(STEP(s, "tim nothex", &out, &err), SASL_FAIL);
	sasl_free(&s);

	/* a SHA512-CRYPT passdb cannot serve CRAM-MD5 */
	static const struct user crypt_db[] = { { "tim", "{SHA512-CRYPT}$6$abc$def" }, { NULL, NULL } };
	passdb = crypt_db;
	p.nonce = "<1896.697170952@postoffice.reston.mci.net>";
	s = sasl_new("CRAM-MD5", &p, &err);
	assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
	assert_int_equal(STEP(s, "tim b913a602c7eda7a495b4e6e7334d3890", &out, &err), SASL_FAIL);
	assert_string_equal(err, "password lookup failed");
	sasl_free(&s);
	buf_free(&out);
	buf_free(&h);
}

static void test_digest_md5_rfc2831(void **state)
{
	struct user db[] = { { "chris@elwood.innosoft.com", "{PLAIN}secret" }, { NULL, NULL } };
	static const char *const realms[] = { "elwood.innosoft.com", NULL };
	struct sasl_params p = params;
	struct buf out = BUF_INIT(0), h = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;
	const char *resp = "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
			   "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
			   "response=d388dad90d4bbd760a152321f2143af7,qop=auth";

	(void)state;
	p.nonce = "OA6MG9tEQGm2hh";
	p.realms = realms;
	assert_int_equal(pw_generate("DIGEST-MD5", "secret", "chris@elwood.innosoft.com", 0, &h, &err), 0);
	for (int round = 0; round < 2; round++) {
		if (round == 1)
			db[0].stored = buf_cstr(&h);
		passdb = db;
		s = sasl_new("DIGEST-MD5", &p, &err);
		assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
		assert_string_equal(buf_cstr(&out), "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\","
						    "charset=utf-8,algorithm=md5-sess");
		assert_int_equal(STEP(s, resp, &out, &err), SASL_CONTINUE);
		assert_string_equal(buf_cstr(&out), "rspauth=ea40f60335c427b5527b84dbabcdfffd");
		assert_string_equal(sasl_user(s), "chris@elwood.innosoft.com");
		assert_int_equal(step(s, "", 0, &out, &err), SASL_OK);
		sasl_free(&s);
	}
	/* wrong password, replayed nc, another service, another nonce, duplicates, garbage */
	static const char *const bad[] = {
		"username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,"
		"cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af8",
		"username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",nc=00000002,"
		"cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,"
		"cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"smtp/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"XXXXXXXXXXXXXX\",nc=00000001,"
		"cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris\",username=\"eve\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"x\","
		"digest-uri=\"imap/h\",response=d388dad90d4bbd760a152321f2143af7",
		"username=\"chris,nonce=\"OA6MG9tEQGm2hh\"",
		"=,=,=",
		"",
	};
	passdb = db;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = sasl_new("DIGEST-MD5", &p, &err);
		assert_int_equal(start(s, NULL, 0, &out, &err), SASL_CONTINUE);
		if (STEP(s, bad[i], &out, &err) != SASL_FAIL)
			fail_msg("accepted: %s", bad[i]);
		sasl_free(&s);
	}
	buf_free(&out);
	buf_free(&h);
}

/* scram_exchange - RFC 5802/7677 examples against credentials stored as given */
static void scram_exchange(const char *mech, const char *stored, const char *snonce, const char *first,
			   const char *server_first, const char *final, const char *server_final)
{
	struct user db[] = { { "user", stored }, { NULL, NULL } };
	struct sasl_params p = params;
	struct buf out = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;

	passdb = db;
	p.nonce = snonce;
	s = sasl_new(mech, &p, &err);
	assert_int_equal(start(s, first, strlen(first), &out, &err), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&out), server_first);
	assert_int_equal(STEP(s, final, &out, &err), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&out), server_final);
	assert_int_equal(step(s, "", 0, &out, &err), SASL_OK);
	assert_string_equal(sasl_user(s), "user");
	sasl_free(&s);

	/* one bit off in the proof */
	s = sasl_new(mech, &p, &err);
	assert_int_equal(start(s, first, strlen(first), &out, &err), SASL_CONTINUE);
	char *tampered = strdup(final);
	char *pp = strstr(tampered, ",p=") + 3;
	*pp = *pp == 'A' ? 'B' : 'A';
	assert_int_equal(STEP(s, tampered, &out, &err), SASL_FAIL);
	assert_string_equal(err, "Password mismatch");
	free(tampered);
	sasl_free(&s);
	buf_free(&out);
}

static void test_scram_rfc5802_rfc7677(void **state)
{
	(void)state;
	scram_exchange("SCRAM-SHA-1", "{SCRAM-SHA-1}4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=",
		       "3rfcNHYJY1ZVvWVs7j", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		       "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		       "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		       "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	scram_exchange("SCRAM-SHA-256",
		       "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
		       "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
		       "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		       "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		       "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

/* a SCRAM client, to log in against a {PLAIN} passdb (salt and iterations chosen by the server) */
static void test_scram_from_plain(void **state)
{
	static const struct user db[] = { { "kim", "{PLAIN}Grüße" }, { NULL, NULL } };
	struct buf out = BUF_INIT(0), salt = BUF_INIT(0), final = BUF_INIT(0), am = BUF_INIT(0);
	struct sasl_session *s;
	const char *err, *first = "n,,n=kim,r=clientnonce";
	unsigned char salted[32], ck[32], sk[32], sig[32], proof[32];
	unsigned l;
	char *sf, *sp, *ip;

	(void)state;
	passdb = db;
	s = sasl_new("SCRAM-SHA-256", &params, &err);
	assert_int_equal(start(s, first, strlen(first), &out, &err), SASL_CONTINUE);
	sf = strdup(buf_cstr(&out));
	sp = strstr(sf, ",s=") + 3;
	ip = strstr(sf, ",i=");
	assert_int_equal(base64_decode(&salt, sp, (size_t)(ip - sp)), 0);
	assert_int_equal(atoi(ip + 3), 4096);
	assert_int_equal(PKCS5_PBKDF2_HMAC("Grüße", (int)strlen("Grüße"), (unsigned char *)salt.data, (int)salt.len, 4096,
					   EVP_sha256(), 32, salted), 1);
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10, ck, &l);
	EVP_Digest(ck, 32, sk, &l, EVP_sha256(), NULL);
	*strchr(sf, ',') = '\0'; /* r=... */
	buf_printf(&final, "c=biws,%s", sf);
	buf_printf(&am, "n=kim,r=clientnonce,%s,%s", buf_cstr(&out), buf_cstr(&final));
	HMAC(EVP_sha256(), sk, 32, (unsigned char *)am.data, am.len, sig, &l);
	for (int i = 0; i < 32; i++)
		proof[i] = ck[i] ^ sig[i];
	buf_puts(&final, ",p=");
	base64_encode(&final, proof, 32);
	assert_int_equal(step(s, final.data, final.len, &out, &err), SASL_CONTINUE);
	assert_true(strncmp(buf_cstr(&out), "v=", 2) == 0);
	assert_int_equal(step(s, "", 0, &out, &err), SASL_OK);
	sasl_free(&s);
	free(sf);
	buf_free(&out);
	buf_free(&salt);
	buf_free(&final);
	buf_free(&am);
}

static void test_scram_malformed(void **state)
{
	static const struct user db[] = { { "user", "{PLAIN}pencil" }, { NULL, NULL } };
	static const char *const bad_first[] = {
		"p=tls-unique,,n=user,r=abc", "n,,n=,r=abc", "n,,n=us=2Xer,r=abc", "n,,r=abc", "n,,n=user",
		"n,,n=user,r=", "x,,n=user,r=abc", "n,a=other,n=user,r=abc", "n,,m=ext,n=user,r=abc", "",
	};
	struct buf out = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;

	(void)state;
	passdb = db;
	for (size_t i = 0; i < sizeof(bad_first) / sizeof(bad_first[0]); i++) {
		s = sasl_new("SCRAM-SHA-1", &params, &err);
		if (start(s, bad_first[i], strlen(bad_first[i]), &out, &err) != SASL_FAIL)
			fail_msg("accepted: %s", bad_first[i]);
		sasl_free(&s);
	}
	/* escaped names decode: =2C is ',' and =3D is '=' */
	static const struct user esc[] = { { "a,b=c", "{PLAIN}pencil" }, { NULL, NULL } };
	passdb = esc;
	s = sasl_new("SCRAM-SHA-1", &params, &err);
	assert_int_equal(start(s, "n,,n=a=2Cb=3Dc,r=abc", 20, &out, &err), SASL_CONTINUE);
	assert_string_equal(sasl_user(s), "a,b=c");
	/* a final message with the wrong channel binding or nonce */
	assert_int_equal(STEP(s, "c=eSws,r=abc,p=AAAA", &out, &err), SASL_FAIL);
	sasl_free(&s);
	buf_free(&out);
}

static void test_apop_rfc1939(void **state)
{
	static const struct user db[] = { { "mrose", "{PLAIN}tanstaaf" }, { NULL, NULL } };
	struct sasl_params p = params;
	struct buf out = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;

	(void)state;
	passdb = db;
	p.apop_challenge = "<1896.697170952@dbc.mtview.ca.us>";
	s = sasl_new("APOP", &p, &err);
	assert_int_equal(start(s, "mrose\0c4c9334bac560ecc979e58001b3e22fb", 38, &out, &err), SASL_OK);
	assert_string_equal(sasl_user(s), "mrose");
	sasl_free(&s);
	s = sasl_new("APOP", &p, &err);
	assert_int_equal(start(s, "mrose\0c4c9334bac560ecc979e58001b3e22fc", 38, &out, &err), SASL_FAIL);
	sasl_free(&s);
	/* without a challenge in the greeting there is no APOP */
	s = sasl_new("APOP", &params, &err);
	assert_int_equal(start(s, "mrose\0c4c9334bac560ecc979e58001b3e22fb", 38, &out, &err), SASL_FAIL);
	sasl_free(&s);
	buf_free(&out);
}

static void test_mechanism_table(void **state)
{
	struct sasl_params p = params;
	struct buf out = BUF_INIT(0);
	struct sasl_session *s;
	const char *err;

	(void)state;
	assert_int_equal(sasl_mech_known("ntlm"), -1);
	assert_int_equal(sasl_mech_known("RPA"), -1);
	assert_int_equal(sasl_mech_known("GSSAPI"), 0);
	assert_int_equal(sasl_mech_known("scram-sha-256"), 1);
	assert_null(sasl_new("NTLM", &p, &err));
	assert_non_null(strstr(err, "obsolete"));
	assert_true(sasl_mech_plaintext("LOGIN"));
	assert_false(sasl_mech_plaintext("CRAM-MD5"));
	assert_string_equal(sasl_mech_needs_credentials("DIGEST-MD5"), "DIGEST-MD5");
	assert_null(sasl_mech_needs_credentials("PLAIN"));

	assert_null(sasl_new("ANONYMOUS", &p, &err));
	p.anonymous = true;
	s = sasl_new("ANONYMOUS", &p, &err);
	assert_int_equal(start(s, "sirhc@example.net", 17, &out, &err), SASL_OK);
	assert_string_equal(sasl_user(s), "anonymous");
	sasl_free(&s);

	/* order: a step before start, a lookup answer nobody asked for, oversized input */
	s = sasl_new("PLAIN", &p, &err);
	assert_int_equal(sasl_step(s, "x", 1, &out, &err), SASL_FAIL);
	sasl_free(&s);
	s = sasl_new("LOGIN", &p, &err);
	assert_int_equal(sasl_start(s, NULL, 0, false, &out, &err), SASL_CONTINUE);
	assert_int_equal(sasl_lookup_done(s, SASL_LOOKUP_OK, NULL, 0, &out, &err), SASL_FAIL);
	sasl_free(&s);
	char *big = calloc(1, SASL_INPUT_MAX + 1);
	s = sasl_new("PLAIN", &p, &err);
	assert_int_equal(sasl_start(s, big, SASL_INPUT_MAX + 1, true, &out, &err), SASL_FAIL);
	sasl_free(&s);
	free(big);
	buf_free(&out);
}

/* every mechanism fed mutated inputs at every step must fail or succeed cleanly (ASan watches) */
static void test_mutations(void **state)
{
	static const struct user db[] = { { "user", "{PLAIN}pencil" }, { "chris@elwood.innosoft.com", "{PLAIN}secret" },
					   { NULL, NULL } };
	static const char *const mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" };
	static const char *const seeds[] = {
		"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		"username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"x\"",
		"user b913a602c7eda7a495b4e6e7334d3890",
	};
	struct sasl_params p = params;
	struct buf out = BUF_INIT(0);
	unsigned seed = 1;

	(void)state;
	passdb = db;
	p.nonce = "OA6MG9tEQGm2hh";
	for (size_t m = 0; m < sizeof(mechs) / sizeof(mechs[0]); m++) {
		for (int iter = 0; iter < 300; iter++) {
			const char *err;
			struct sasl_session *s = sasl_new(mechs[m], &p, &err);
			enum sasl_status st = start(s, NULL, 0, &out, &err);

			for (int k = 0; k < 3 && st == SASL_CONTINUE; k++) {
				char in[256];
				const char *sd = seeds[(size_t)(iter + k) % 4];
				size_t n = strlen(sd) < sizeof(in) ? strlen(sd) : sizeof(in);

				memcpy(in, sd, n);
				for (int f = 0; f < 1 + iter % 5; f++) {
					seed = seed * 1103515245u + 12345u;
					in[(seed >> 8) % n] = (char)(seed >> 16);
				}
				seed = seed * 1103515245u + 12345u;
				st = step(s, in, (seed >> 8) % (n + 1), &out, &err);
			}
			sasl_free(&s);
		}
	}
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_cram_md5_rfc2195),
		cmocka_unit_test(test_digest_md5_rfc2831),
		cmocka_unit_test(test_scram_rfc5802_rfc7677),
		cmocka_unit_test(test_scram_from_plain),
		cmocka_unit_test(test_scram_malformed),
		cmocka_unit_test(test_apop_rfc1939),
		cmocka_unit_test(test_mechanism_table),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
