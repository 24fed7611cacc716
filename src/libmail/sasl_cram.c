/*
 * sasl_cram.c - the CRAM-MD5 SASL mechanism and POP3's APOP, server side
 *
 * CRAM-MD5 (RFC 2195): the server sends "<random.time@hostname>", the client
 * answers "user HEX(HMAC-MD5(password, challenge))". The passdb gives the
 * HMAC-MD5 context (pw_credentials "CRAM-MD5": the MD5 states after the
 * key-XOR-opad and key-XOR-ipad blocks), from which the HMAC of the challenge
 * is finished without the password, as Dovecot stores it.
 * APOP (RFC 1939): the POP3 greeting carries "<timestamp@host>", the client
 * sends "APOP user HEX(MD5(timestamp password))"; the POP3 server passes
 * "user NUL digest" as the initial response. It needs the plaintext.
 *
 * Runs in:  the auth service; input is UNTRUSTED client data
 * Tests:    tests/unit/test_sasl.c (RFC 2195 section 2 example)
 * Refs:     RFC 2195, RFC 2104 (HMAC), RFC 1939 section 7 (APOP)
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5_CTX: resuming from a stored MD5 state */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/rand.h>

#include "libmail/sasl-private.h"
#include "lib/encode.h"

#define CRAM_CONTEXT_LEN 32

/* get_le32 - a little-endian 32-bit word */
static MD5_LONG get_le32(const uint8_t *p)
{
	return (MD5_LONG)p[0] | (MD5_LONG)p[1] << 8 | (MD5_LONG)p[2] << 16 | (MD5_LONG)p[3] << 24;
}

/* md5_resume - an MD5 context in state st (four words) after one 64-byte block */
static void md5_resume(MD5_CTX *c, const uint8_t *st)
{
	memset(c, 0, sizeof(*c));
	c->A = get_le32(st);
	c->B = get_le32(st + 4);
	c->C = get_le32(st + 8);
	c->D = get_le32(st + 12);
	c->Nl = 64 * 8; /* bits processed: the padded key block */
}

/* cram_hmac - finish HMAC-MD5(key, msg) from the stored context (outer state, inner state) */
static void cram_hmac(const uint8_t ctx[CRAM_CONTEXT_LEN], const void *msg, size_t n, uint8_t out[MD5_DIGEST_LENGTH])
{
	MD5_CTX c;
	uint8_t inner[MD5_DIGEST_LENGTH];

	md5_resume(&c, ctx + 16);
	MD5_Update(&c, msg, n);
	MD5_Final(inner, &c);
	md5_resume(&c, ctx);
	MD5_Update(&c, inner, sizeof(inner));
	MD5_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}

/* cram_start - send the challenge "<random.time@hostname>" */
static enum sasl_status cram_start(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir, struct buf *out,
				   const char **error_r)
{
	uint32_t r;

	(void)ir;
	if (has_ir && n > 0)
		return sasl_fail(error_r, "CRAM-MD5: the server speaks first (no initial response)");
	if (s->p->nonce) {
		if (buf_puts(&s->data, s->p->nonce) < 0)
			return sasl_fail(error_r, "CRAM-MD5: challenge too long");
	} else {
		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			return sasl_fail(error_r, "CRAM-MD5: no random bytes");
		if (buf_printf(&s->data, "<%u.%lld@%.200s>", r, (long long)time(NULL),
			       s->p->hostname ? s->p->hostname : "localhost") < 0)
			return sasl_fail(error_r, "CRAM-MD5: challenge too long");
	}
	if (buf_append(out, s->data.data, s->data.len) < 0)
		return sasl_fail(error_r, "CRAM-MD5: challenge too long");
	return SASL_CONTINUE;
}

/* digest_response - split "user HEX" at the last space; the 16 digest bytes into s->data2 */
static enum sasl_status digest_response(struct sasl_session *s, const uint8_t *in, size_t n, char sep,
					const char *mech, const char **error_r)
{
	const uint8_t *sp = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (in[i] == (uint8_t)sep)
			sp = in + i;
	if (sp == NULL || sp == in || (size_t)(in + n - sp - 1) != 32)
		return sasl_fail(error_r, mech);
	buf_reset(&s->data2);
	if (hex_decode(&s->data2, (const char *)sp + 1, 32) < 0 || sasl_set_str(&s->user, in, (size_t)(sp - in)) < 0)
		return sasl_fail(error_r, mech);
	return sasl_need_credentials(s);
}

/* cram_step - "user digest" */
static enum sasl_status cram_step(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				  const char **error_r)
{
	(void)out;
	return digest_response(s, in, n, ' ', "CRAM-MD5: invalid response (want \"user hexdigest\")", error_r);
}

/* cram_lookup_done - compare the client's digest with the one made from the stored context */
static enum sasl_status cram_lookup_done(struct sasl_session *s, enum sasl_lookup_result r, const uint8_t *cred,
					 size_t n, struct buf *out, const char **error_r)
{
	uint8_t want[MD5_DIGEST_LENGTH];
	int same;

	(void)out;
	if (r != SASL_LOOKUP_OK)
		return sasl_lookup_failed(r, error_r);
	if (n != CRAM_CONTEXT_LEN)
		return sasl_fail(error_r, "CRAM-MD5: credentials of the wrong size");
	cram_hmac(cred, s->data.data, s->data.len, want);
	same = CRYPTO_memcmp(want, s->data2.data, sizeof(want)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return same ? SASL_OK : sasl_fail(error_r, "Password mismatch");
}

const struct sasl_mech sasl_mech_cram_md5 = { "CRAM-MD5", false, "CRAM-MD5", cram_start, cram_step,
					      cram_lookup_done };

/* apop_start - "user NUL hexdigest" as the initial response; the challenge from the params */
static enum sasl_status apop_start(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir, struct buf *out,
				   const char **error_r)
{
	const char *ch = s->p->apop_challenge;

	(void)out;
	if (ch == NULL || ch[0] != '<' || !has_ir)
		return sasl_fail(error_r, "APOP: no challenge was sent");
	if (buf_puts(&s->data, ch) < 0)
		return sasl_fail(error_r, "APOP: challenge too long");
	return digest_response(s, ir, n, '\0', "APOP: invalid response", error_r);
}

/* apop_step - APOP has no further steps */
static enum sasl_status apop_step(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				  const char **error_r)
{
	(void)s, (void)in, (void)n, (void)out;
	return sasl_fail(error_r, "APOP: unexpected response");
}

/* apop_lookup_done - MD5(challenge password) against the client's digest */
static enum sasl_status apop_lookup_done(struct sasl_session *s, enum sasl_lookup_result r, const uint8_t *cred,
					 size_t n, struct buf *out, const char **error_r)
{
	unsigned char want[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_MD_CTX *c;
	int same = 0;

	(void)out;
	if (r != SASL_LOOKUP_OK)
		return sasl_lookup_failed(r, error_r);
	c = EVP_MD_CTX_new();
	if (c && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1 && EVP_DigestUpdate(c, s->data.data, s->data.len) == 1 &&
	    EVP_DigestUpdate(c, cred, n) == 1 && EVP_DigestFinal_ex(c, want, &len) == 1 && len == MD5_DIGEST_LENGTH)
		same = CRYPTO_memcmp(want, s->data2.data, MD5_DIGEST_LENGTH) == 0;
	EVP_MD_CTX_free(c);
	OPENSSL_cleanse(want, sizeof(want));
	return same ? SASL_OK : sasl_fail(error_r, "Password mismatch");
}

const struct sasl_mech sasl_mech_apop = { "APOP", false, "PLAIN", apop_start, apop_step, apop_lookup_done };
