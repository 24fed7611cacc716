/*
 * sasl_digest.c - the DIGEST-MD5 SASL mechanism, server side (authentication only)
 *
 * The server sends realm(s), a nonce, qop="auth", charset=utf-8 and
 * algorithm=md5-sess; the client answers with directives (username, realm,
 * nonce, cnonce, nc, qop, digest-uri, response, authzid). The passdb gives
 * H(username:realm:password) (pw_credentials "DIGEST-MD5"), so the password
 * itself is never needed. On success the server sends "rspauth=..." as a last
 * challenge and the client's empty answer completes the exchange. Integrity
 * and confidentiality layers (auth-int, auth-conf) are not offered: TLS does
 * that job. DIGEST-MD5 is obsolete (RFC 6331) but the HOWTO's clients use it.
 *
 * Runs in:  the auth service; input is UNTRUSTED client data
 * Limits:   directives <= 16, each value <= SASL_FIELD_MAX, nc must be 00000001
 * Tests:    tests/unit/test_sasl.c (RFC 2831 section 4 example)
 * Refs:     RFC 2831, RFC 6331
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "libmail/sasl-private.h"
#include "lib/encode.h"
#include "lib/xalloc.h"

#define DIGEST_DIRECTIVES_MAX 16

enum { F_CNONCE, F_NC, F_QOP, F_URI };

struct directive {
	const char *name;
	char *value;
};

/* skip_lws - past spaces, tabs and line breaks */
static size_t skip_lws(const uint8_t *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/*
 * parse_directives - "name=value" or name="quoted \"value\"", comma-separated
 * (empty elements allowed, as RFC 2831's #rule). Known names go to d[]; a
 * duplicate known name or malformed input is -1. Values are NUL-free copies.
 */
static int parse_directives(const uint8_t *p, size_t n, struct directive *d, size_t nd)
{
	size_t i = 0, count = 0;

	for (;;) {
		size_t ns, ne, k;
		struct buf v = BUF_INIT(SASL_FIELD_MAX);

		i = skip_lws(p, i, n);
		while (i < n && p[i] == ',')
			i = skip_lws(p, i + 1, n);
		if (i >= n)
			return 0;
		if (++count > DIGEST_DIRECTIVES_MAX)
			return -1;
		for (ns = i; i < n && p[i] != '=' && p[i] != ',' && p[i] != ' ' && p[i] != '\t'; i++)
			;
		ne = i;
		i = skip_lws(p, i, n);
		if (ne == ns || i >= n || p[i] != '=')
			return -1;
		i = skip_lws(p, i + 1, n);
		if (i < n && p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++) {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				if (p[i] == '\0' || buf_putc(&v, (char)p[i]) < 0) {
					buf_free(&v);
					return -1;
				}
			}
			if (i >= n) {
				buf_free(&v);
				return -1; /* unterminated quote */
			}
			i++;
		} else {
			for (; i < n && p[i] != ',' && p[i] != ' ' && p[i] != '\t'; i++)
				if (p[i] == '\0' || p[i] == '"' || buf_putc(&v, (char)p[i]) < 0) {
					buf_free(&v);
					return -1;
				}
		}
		for (k = 0; k < nd; k++) {
			if (strlen(d[k].name) == ne - ns && strncasecmp(d[k].name, (const char *)p + ns, ne - ns) == 0) {
				if (d[k].value != NULL) {
					buf_free(&v);
					return -1; /* a directive given twice */
				}
				d[k].value = buf_detach(&v);
				if (d[k].value == NULL)
					d[k].value = xstrdup("");
				break;
			}
		}
		buf_free(&v);
		i = skip_lws(p, i, n);
		if (i < n && p[i] != ',')
			return -1;
	}
}

/* md5_hex - append HEX(MD5(p)) */
static int md5_hex(struct buf *out, const void *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (EVP_Digest(p, n, md, &len, EVP_md5(), NULL) != 1)
		return -1;
	return hex_encode(out, md, len);
}

/* digest_start - the challenge */
static enum sasl_status digest_start(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir,
				     struct buf *out, const char **error_r)
{
	const char *const *r;

	(void)ir;
	if (has_ir && n > 0)
		return sasl_fail(error_r, "DIGEST-MD5: the server speaks first (no initial response)");
	if (sasl_make_nonce(s) < 0)
		return sasl_fail(error_r, "DIGEST-MD5: no nonce");
	for (r = s->p->realms; r && *r; r++)
		buf_printf(out, "realm=\"%.200s\",", *r);
	if (buf_printf(out, "nonce=\"%s\",qop=\"auth\",charset=utf-8,algorithm=md5-sess", s->nonce) < 0)
		return sasl_fail(error_r, "DIGEST-MD5: challenge too long");
	return SASL_CONTINUE;
}

/* free_directives - release parsed values */
static void free_directives(struct directive *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i].value) {
			OPENSSL_cleanse(d[i].value, strlen(d[i].value));
			free(d[i].value);
		}
	}
}

/* check_response - validate the client's directives and keep what the digest needs */
static enum sasl_status check_response(struct sasl_session *s, struct directive *d, const char **error_r)
{
	/* d[]: username realm nonce cnonce nc qop digest-uri response charset authzid */
	const char *uri = d[6].value, *qop = d[5].value ? d[5].value : "auth", *slash;
	size_t svc = s->p->service ? strlen(s->p->service) : 0;

	if (d[0].value == NULL || d[2].value == NULL || d[3].value == NULL || d[4].value == NULL ||
	    d[7].value == NULL || uri == NULL)
		return sasl_fail(error_r, "DIGEST-MD5: a required directive is missing");
	if (strcmp(d[2].value, s->nonce) != 0)
		return sasl_fail(error_r, "DIGEST-MD5: wrong nonce");
	if (strcmp(d[4].value, "00000001") != 0)
		return sasl_fail(error_r, "DIGEST-MD5: nc must be 00000001 (no re-authentication)");
	if (strcmp(qop, "auth") != 0)
		return sasl_fail(error_r, "DIGEST-MD5: only qop=auth is offered");
	if (d[8].value && strcasecmp(d[8].value, "utf-8") != 0)
		return sasl_fail(error_r, "DIGEST-MD5: charset must be utf-8");
	slash = strchr(uri, '/');
	if (slash == NULL || slash == uri || slash[1] == '\0' ||
	    (svc && ((size_t)(slash - uri) != svc || strncasecmp(uri, s->p->service, svc) != 0)))
		return sasl_fail(error_r, "DIGEST-MD5: digest-uri names another service");
	buf_reset(&s->data2);
	if (strlen(d[7].value) != 32 || hex_decode(&s->data2, d[7].value, 32) < 0)
		return sasl_fail(error_r, "DIGEST-MD5: malformed response");
	if (sasl_set_str(&s->field[F_CNONCE], d[3].value, strlen(d[3].value)) < 0 ||
	    sasl_set_str(&s->field[F_NC], d[4].value, strlen(d[4].value)) < 0 ||
	    sasl_set_str(&s->field[F_QOP], qop, strlen(qop)) < 0 ||
	    sasl_set_str(&s->field[F_URI], uri, strlen(uri)) < 0 ||
	    (d[9].value && sasl_set_str(&s->authzid, d[9].value, strlen(d[9].value)) < 0))
		return sasl_fail(error_r, "DIGEST-MD5: a directive is too long");
	/* the user the passdb knows: username@realm when a realm was given */
	buf_reset(&s->data);
	if (buf_puts(&s->data, d[0].value) < 0 ||
	    (d[1].value && *d[1].value && buf_printf(&s->data, "@%s", d[1].value) < 0) ||
	    sasl_set_str(&s->user, s->data.data, s->data.len) < 0)
		return sasl_fail(error_r, "DIGEST-MD5: user name too long");
	if (s->authzid && strcmp(s->authzid, s->user) != 0)
		return sasl_fail(error_r, "DIGEST-MD5: authorization as another user is not allowed");
	return sasl_need_credentials(s);
}

/* digest_step - the client's response, then the empty answer to rspauth */
static enum sasl_status digest_step(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				    const char **error_r)
{
	struct directive d[] = {
		{ "username", NULL }, { "realm", NULL },	{ "nonce", NULL },    { "cnonce", NULL },
		{ "nc", NULL },	      { "qop", NULL },		{ "digest-uri", NULL }, { "response", NULL },
		{ "charset", NULL },  { "authzid", NULL },
	};
	enum sasl_status st;

	(void)out;
	if (s->state == 1)
		return n == 0 ? SASL_OK : sasl_fail(error_r, "DIGEST-MD5: unexpected data after rspauth");
	if (parse_directives(in, n, d, sizeof(d) / sizeof(d[0])) < 0)
		st = sasl_fail(error_r, "DIGEST-MD5: malformed response");
	else
		st = check_response(s, d, error_r);
	free_directives(d, sizeof(d) / sizeof(d[0]));
	return st;
}

/*
 * response_value - HEX(MD5(HEX(MD5(A1)) ":" nonce ":" nc ":" cnonce ":" qop ":" HEX(MD5(A2))))
 * with A1 = H(URP) ":" nonce ":" cnonce [":" authzid] and A2 = prefix digest-uri.
 */
static int response_value(struct sasl_session *s, const uint8_t *hurp, const char *a2_prefix, struct buf *out)
{
	struct buf a1 = BUF_INIT(4 * SASL_FIELD_MAX), kd = BUF_INIT(8 * SASL_FIELD_MAX);
	struct buf a2 = BUF_INIT(2 * SASL_FIELD_MAX);
	int r = -1;

	if (buf_append(&a1, hurp, 16) == 0 && buf_printf(&a1, ":%s:%s", s->nonce, s->field[F_CNONCE]) == 0 &&
	    (s->authzid == NULL || buf_printf(&a1, ":%s", s->authzid) == 0) && md5_hex(&kd, a1.data, a1.len) == 0 &&
	    buf_printf(&kd, ":%s:%s:%s:%s:", s->nonce, s->field[F_NC], s->field[F_CNONCE], s->field[F_QOP]) == 0 &&
	    buf_printf(&a2, "%s%s", a2_prefix, s->field[F_URI]) == 0 && md5_hex(&kd, a2.data, a2.len) == 0 &&
	    md5_hex(out, kd.data, kd.len) == 0)
		r = 0;
	OPENSSL_cleanse(a1.data, a1.len);
	OPENSSL_cleanse(kd.data, kd.len);
	buf_free(&a1);
	buf_free(&kd);
	buf_free(&a2);
	return r;
}

/* digest_lookup_done - compare the response; send rspauth */
static enum sasl_status digest_lookup_done(struct sasl_session *s, enum sasl_lookup_result r, const uint8_t *cred,
					   size_t n, struct buf *out, const char **error_r)
{
	struct buf want = BUF_INIT(64), got = BUF_INIT(64);
	enum sasl_status st;

	if (r != SASL_LOOKUP_OK)
		return sasl_lookup_failed(r, error_r);
	if (n != 16)
		return sasl_fail(error_r, "DIGEST-MD5: credentials of the wrong size");
	if (response_value(s, cred, "AUTHENTICATE:", &want) < 0 || hex_encode(&got, s->data2.data, 16) < 0) {
		st = sasl_fail(error_r, "DIGEST-MD5: digest failed");
	} else if (CRYPTO_memcmp(want.data, got.data, 32) != 0) {
		st = sasl_fail(error_r, "Password mismatch");
	} else {
		buf_reset(&want);
		if (buf_puts(out, "rspauth=") < 0 || response_value(s, cred, ":", &want) < 0 ||
		    buf_append(out, want.data, want.len) < 0) {
			st = sasl_fail(error_r, "DIGEST-MD5: digest failed");
		} else {
			s->state = 1;
			st = SASL_CONTINUE;
		}
	}
	buf_free(&want);
	buf_free(&got);
	return st;
}

const struct sasl_mech sasl_mech_digest_md5 = { "DIGEST-MD5", false, "DIGEST-MD5", digest_start, digest_step,
						digest_lookup_done };
