/*
 * sasl_scram.c - the SCRAM-SHA-1 and SCRAM-SHA-256 SASL mechanisms, server side
 *
 * client-first  "n,[a=authzid],n=user,r=cnonce"     (gs2 header "n" or "y": no
 *               channel binding; "p=" needs the -PLUS mechanisms, not offered)
 * server-first  "r=cnonce snonce,s=salt,i=iterations"  (from the passdb's
 *               "iterations,salt,StoredKey,ServerKey": pw_credentials "SCRAM-SHA-*")
 * client-final  "c=base64(gs2 header),r=nonce,p=proof"
 * server-final  "v=ServerSignature", sent as a last challenge
 * The proof is checked as RFC 5802 section 3: ClientKey = proof XOR
 * HMAC(StoredKey, AuthMessage), then H(ClientKey) == StoredKey.
 *
 * Runs in:  the auth service; input is UNTRUSTED client data
 * Tests:    tests/unit/test_sasl.c (RFC 5802 section 5 and RFC 7677 section 3 examples)
 * Refs:     RFC 5802, RFC 7677
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "libmail/sasl-private.h"
#include "lib/encode.h"
#include "lib/strutil.h"

/* s->data: AuthMessage so far; s->data2: the StoredKey then the ServerKey; field[0]: gs2 header */

/* saslname - decode RFC 5802's "=2C" / "=3D" escapes; -1 on a bad escape or ',' */
static int saslname(const uint8_t *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == ',' || p[i] == '\0')
			return -1;
		if (p[i] != '=') {
			if (buf_putc(out, (char)p[i]) < 0)
				return -1;
			continue;
		}
		if (n - i >= 3 && p[i + 1] == '2' && p[i + 2] == 'C') {
			if (buf_putc(out, ',') < 0)
				return -1;
		} else if (n - i >= 3 && p[i + 1] == '3' && p[i + 2] == 'D') {
			if (buf_putc(out, '=') < 0)
				return -1;
		} else {
			return -1;
		}
		i += 2;
	}
	return 0;
}

/* attr - the value of "k=value" at p (up to the next ',' or the end); NULL when p is not k= */
static const uint8_t *attr(const uint8_t *p, const uint8_t *end, char k, size_t *len_r)
{
	const uint8_t *c;

	if (end - p < 2 || p[0] != (uint8_t)k || p[1] != '=')
		return NULL;
	c = memchr(p + 2, ',', (size_t)(end - p - 2));
	*len_r = (size_t)((c ? c : end) - p - 2);
	return p + 2;
}

/* scram_first - parse client-first, ask for the credentials */
static enum sasl_status scram_first(struct sasl_session *s, const uint8_t *in, size_t n, const char **error_r)
{
	const uint8_t *end = in + n, *p = in, *v, *bare;
	struct buf name = BUF_INIT(SASL_FIELD_MAX);
	size_t len;

	/* gs2-cbind-flag */
	if (n < 3 || (p[0] != 'n' && p[0] != 'y') || p[1] != ',')
		return sasl_fail(error_r, n > 0 && p[0] == 'p' ? "SCRAM: channel binding needs a -PLUS mechanism (not offered)"
						      : "SCRAM: malformed client-first message");
	p += 2;
	if ((v = attr(p, end, 'a', &len)) != NULL) {
		if (saslname(v, len, &name) < 0 || name.len == 0 || sasl_set_str(&s->authzid, name.data, name.len) < 0) {
			buf_free(&name);
			return sasl_fail(error_r, "SCRAM: malformed authzid");
		}
		buf_reset(&name);
		p = v + len;
	}
	if (p >= end || *p != ',') {
		buf_free(&name);
		return sasl_fail(error_r, "SCRAM: malformed gs2 header");
	}
	p++;
	if (sasl_set_str(&s->field[0], in, (size_t)(p - in)) < 0) {
		buf_free(&name);
		return sasl_fail(error_r, "SCRAM: gs2 header too long");
	}
	bare = p;
	/* client-first-message-bare: n=user,r=nonce[,extensions] */
	if (attr(p, end, 'm', &len) != NULL) {
		buf_free(&name);
		return sasl_fail(error_r, "SCRAM: mandatory extension not supported");
	}
	if ((v = attr(p, end, 'n', &len)) == NULL || saslname(v, len, &name) < 0 || name.len == 0 ||
	    sasl_set_str(&s->user, name.data, name.len) < 0) {
		buf_free(&name);
		return sasl_fail(error_r, "SCRAM: malformed user name");
	}
	buf_free(&name);
	p = v + len;
	if (p >= end || *p != ',' || (v = attr(p + 1, end, 'r', &len)) == NULL || len == 0 || len > 256)
		return sasl_fail(error_r, "SCRAM: malformed client nonce");
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ',')
			return sasl_fail(error_r, "SCRAM: malformed client nonce");
	if (s->authzid && strcmp(s->authzid, s->user) != 0)
		return sasl_fail(error_r, "SCRAM: authorization as another user is not allowed");
	/* AuthMessage starts with client-first-message-bare; the nonce is its r= value */
	buf_reset(&s->data);
	if (buf_append(&s->data, bare, (size_t)(end - bare)) < 0 || buf_putc(&s->data, ',') < 0 ||
	    sasl_make_nonce(s) < 0 || sasl_set_str(&s->field[1], v, len) < 0)
		return sasl_fail(error_r, "SCRAM: client-first message too long");
	return sasl_need_credentials(s);
}

/* scram_start - the initial response is client-first; else an empty challenge */
static enum sasl_status scram_start(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir,
				    struct buf *out, const char **error_r)
{
	(void)out;
	return has_ir ? scram_first(s, ir, n, error_r) : SASL_CONTINUE;
}

/* md_of - the mechanism's digest */
static const EVP_MD *md_of(const struct sasl_session *s)
{
	return s->mech == &sasl_mech_scram_sha1 ? EVP_sha1() : EVP_sha256();
}

/* scram_lookup_done - credentials "iter,salt,StoredKey,ServerKey": send server-first */
static enum sasl_status scram_lookup_done(struct sasl_session *s, enum sasl_lookup_result r, const uint8_t *cred,
					  size_t n, struct buf *out, const char **error_r)
{
	const uint8_t *end = cred + n, *c1, *c2, *c3;
	size_t mdlen = (size_t)EVP_MD_get_size(md_of(s)), start = out->len;
	uint64_t iter;

	if (r != SASL_LOOKUP_OK)
		return sasl_lookup_failed(r, error_r);
	if ((c1 = memchr(cred, ',', n)) == NULL || (c2 = memchr(c1 + 1, ',', (size_t)(end - c1 - 1))) == NULL ||
	    (c3 = memchr(c2 + 1, ',', (size_t)(end - c2 - 1))) == NULL ||
	    parse_u64((const char *)cred, (size_t)(c1 - cred), &iter) < 0 || iter == 0 || iter > 10000000)
		return sasl_fail(error_r, "SCRAM: malformed credentials");
	buf_reset(&s->data2);
	if (base64_decode(&s->data2, (const char *)c2 + 1, (size_t)(c3 - c2 - 1)) < 0 || s->data2.len != mdlen ||
	    base64_decode(&s->data2, (const char *)c3 + 1, (size_t)(end - c3 - 1)) < 0 || s->data2.len != 2 * mdlen)
		return sasl_fail(error_r, "SCRAM: malformed credentials");
	if (buf_printf(out, "r=%s%s,s=%.*s,i=%llu", s->field[1], s->nonce, (int)(c2 - c1 - 1), (const char *)c1 + 1,
		       (unsigned long long)iter) < 0 ||
	    buf_append(&s->data, out->data + start, out->len - start) < 0 || buf_putc(&s->data, ',') < 0)
		return sasl_fail(error_r, "SCRAM: server-first message too long");
	s->state = 1;
	return SASL_CONTINUE;
}

/* scram_final - check client-final's channel binding, nonce and proof; send v= */
static enum sasl_status scram_final(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				    const char **error_r)
{
	const EVP_MD *md = md_of(s);
	const uint8_t *end = in + n, *v, *pv;
	size_t len, plen, mdlen = (size_t)EVP_MD_get_size(md), i;
	struct buf cb = BUF_INIT(SASL_FIELD_MAX), proof = BUF_INIT(EVP_MAX_MD_SIZE), nonce = BUF_INIT(600);
	unsigned char sig[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE], h[EVP_MAX_MD_SIZE];
	unsigned sl = 0, hl = 0;
	enum sasl_status st = SASL_FAIL;

	*error_r = "SCRAM: malformed client-final message";
	/* c=base64(gs2 header),r=nonce[,extensions],p=proof */
	if ((v = attr(in, end, 'c', &len)) == NULL || base64_decode(&cb, (const char *)v, len) < 0 ||
	    cb.len != strlen(s->field[0]) || memcmp(cb.data, s->field[0], cb.len) != 0) {
		*error_r = "SCRAM: channel binding data does not match the gs2 header";
		goto out;
	}
	v += len;
	if (v >= end || *v != ',' || (v = attr(v + 1, end, 'r', &len)) == NULL)
		goto out;
	if (buf_printf(&nonce, "%s%s", s->field[1], s->nonce) < 0 || len != nonce.len ||
	    memcmp(v, nonce.data, len) != 0) {
		*error_r = "SCRAM: wrong nonce";
		goto out;
	}
	/* the proof is the last attribute */
	for (pv = end; pv > v && !(pv[-1] == ',' && end - pv >= 2 && pv[0] == 'p' && pv[1] == '='); pv--)
		;
	if (pv <= v || attr(pv, end, 'p', &plen) == NULL || base64_decode(&proof, (const char *)pv + 2, plen) < 0 ||
	    proof.len != mdlen)
		goto out;
	/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
	if (buf_append(&s->data, in, (size_t)(pv - 1 - in)) < 0)
		goto out;
	if (HMAC(md, s->data2.data, (int)mdlen, (const unsigned char *)s->data.data, s->data.len, sig, &sl) == NULL ||
	    sl != mdlen)
		goto out;
	for (i = 0; i < mdlen; i++)
		key[i] = (unsigned char)proof.data[i] ^ sig[i];
	if (EVP_Digest(key, mdlen, h, &hl, md, NULL) != 1 || hl != mdlen)
		goto out;
	if (CRYPTO_memcmp(h, s->data2.data, mdlen) != 0) {
		*error_r = "Password mismatch";
		goto out;
	}
	if (HMAC(md, s->data2.data + mdlen, (int)mdlen, (const unsigned char *)s->data.data, s->data.len, sig, &sl) ==
		    NULL ||
	    buf_puts(out, "v=") < 0 || base64_encode(out, sig, sl) < 0)
		goto out;
	*error_r = NULL;
	s->state = 2;
	st = SASL_CONTINUE;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(sig, sizeof(sig));
	buf_free(&cb);
	buf_free(&proof);
	buf_free(&nonce);
	return st;
}

/* scram_step - client-first (no initial response), client-final, then the empty end */
static enum sasl_status scram_step(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				   const char **error_r)
{
	switch (s->state) {
	case 0:
		return scram_first(s, in, n, error_r);
	case 1:
		return scram_final(s, in, n, out, error_r);
	default:
		return n == 0 ? SASL_OK : sasl_fail(error_r, "SCRAM: unexpected data after server-final");
	}
}

const struct sasl_mech sasl_mech_scram_sha1 = { "SCRAM-SHA-1", false, "SCRAM-SHA-1", scram_start, scram_step,
						scram_lookup_done };
const struct sasl_mech sasl_mech_scram_sha256 = { "SCRAM-SHA-256", false, "SCRAM-SHA-256", scram_start, scram_step,
						  scram_lookup_done };
