/*
 * pwscheme.c - Dovecot password schemes: make and verify "{SCHEME}value" strings
 *
 * One table lists every scheme with its kind (digest, crypt(3), PBKDF2, SCRAM,
 * Argon2), its digest and its default encoding; generation and verification
 * are written once per kind. Digests come from OpenSSL's EVP, crypt strings
 * from libxcrypt, Argon2 from libargon2: nothing cryptographic is written here.
 *
 * Runs in:  the auth service and `postern pw`
 * API:      see pwscheme.h
 * Tests:    tests/unit/test_pwscheme.c (every row of shared/vectors/dovecot-pw.tsv)
 * Refs:     Dovecot src/auth/password-scheme*.c, src/lib/hmac-cram-md5.c (formats only)
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5_CTX: the CRAM-MD5 context is MD5's raw state */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/rand.h>

#include "libmail/pwscheme.h"
#include "lib/encode.h"
#include "lib/strutil.h"

enum kind { K_PLAIN, K_DIGEST, K_CRAM, K_DIGEST_MD5, K_CRYPT, K_PBKDF2, K_SCRAM, K_ARGON2 };
enum enc { ENC_NONE, ENC_HEX, ENC_B64 };

struct scheme {
	const char *name;
	enum kind kind;
	enum enc enc;              /* default encoding of a digest */
	const char *md;            /* OpenSSL digest name (digests, SCRAM) */
	size_t salt_len;           /* salted digests: bytes of salt made */
	const char *crypt_prefix;  /* crypt(3): setting prefix made; NULL: any accepted */
	unsigned rounds;           /* default cost / iterations */
};

/* the order `postern pw -l` lists them in */
static const struct scheme schemes[] = {
	{ "SHA1", K_DIGEST, ENC_B64, "SHA1", 0, NULL, 0 },
	{ "SSHA512", K_DIGEST, ENC_B64, "SHA512", 4, NULL, 0 },
	{ "BLF-CRYPT", K_CRYPT, ENC_NONE, NULL, 0, "$2y$", 5 },
	{ "PLAIN", K_PLAIN, ENC_NONE, NULL, 0, NULL, 0 },
	{ "HMAC-MD5", K_CRAM, ENC_HEX, NULL, 0, NULL, 0 },
	{ "SHA", K_DIGEST, ENC_B64, "SHA1", 0, NULL, 0 },
	{ "SHA256-CRYPT", K_CRYPT, ENC_NONE, NULL, 0, "$5$", 0 },
	{ "SMD5", K_DIGEST, ENC_B64, "MD5", 4, NULL, 0 },
	{ "SSHA", K_DIGEST, ENC_B64, "SHA1", 4, NULL, 0 },
	{ "PBKDF2", K_PBKDF2, ENC_NONE, "SHA1", 16, NULL, 5000 },
	{ "SHA256", K_DIGEST, ENC_B64, "SHA256", 0, NULL, 0 },
	{ "CRAM-MD5", K_CRAM, ENC_HEX, NULL, 0, NULL, 0 },
	{ "PLAIN-MD5", K_DIGEST, ENC_HEX, "MD5", 0, NULL, 0 },
	{ "SHA512", K_DIGEST, ENC_B64, "SHA512", 0, NULL, 0 },
	{ "SCRAM-SHA-1", K_SCRAM, ENC_NONE, "SHA1", 16, NULL, 4096 },
	{ "SCRAM-SHA-256", K_SCRAM, ENC_NONE, "SHA256", 16, NULL, 4096 },
	{ "DIGEST-MD5", K_DIGEST_MD5, ENC_HEX, NULL, 0, NULL, 0 },
	{ "SSHA256", K_DIGEST, ENC_B64, "SHA256", 4, NULL, 0 },
	{ "LDAP-MD5", K_DIGEST, ENC_B64, "MD5", 0, NULL, 0 },
	{ "MD5-CRYPT", K_CRYPT, ENC_NONE, NULL, 0, "$1$", 0 },
	{ "MD5", K_CRYPT, ENC_NONE, NULL, 0, "$1$", 0 },
	{ "SHA512-CRYPT", K_CRYPT, ENC_NONE, NULL, 0, "$6$", 0 },
	{ "CLEARTEXT", K_PLAIN, ENC_NONE, NULL, 0, NULL, 0 },
	{ "CRYPT", K_CRYPT, ENC_NONE, NULL, 0, NULL, 5 },
	{ "ARGON2I", K_ARGON2, ENC_NONE, NULL, 16, NULL, 4 },
	{ "ARGON2ID", K_ARGON2, ENC_NONE, NULL, 16, NULL, 3 },
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

#define SCHEME_NAME_MAX 32
#define CRAM_CONTEXT_LEN 32

/* lookup - split "NAME[.ENC]" into its scheme and encoding; NULL when unknown */
static const struct scheme *lookup(const char *name, size_t n, enum enc *enc_r)
{
	const char *dot = memchr(name, '.', n);
	size_t base = dot ? (size_t)(dot - name) : n, i;
	enum enc enc = ENC_NONE;
	bool have_enc = false;

	if (dot) {
		const char *suf = dot + 1;
		size_t sn = n - base - 1;

		if (sn == 3 && strncasecmp(suf, "HEX", 3) == 0)
			enc = ENC_HEX;
		else if ((sn == 3 && strncasecmp(suf, "B64", 3) == 0) || (sn == 6 && strncasecmp(suf, "BASE64", 6) == 0))
			enc = ENC_B64;
		else
			return NULL;
		have_enc = true;
	}
	for (i = 0; i < NSCHEMES; i++) {
		const struct scheme *s = &schemes[i];

		if (strlen(s->name) != base || strncasecmp(s->name, name, base) != 0)
			continue;
		/* an encoding suffix only makes sense where the value is binary */
		if (have_enc && s->kind != K_DIGEST && s->kind != K_PLAIN && s->kind != K_CRAM &&
		    s->kind != K_DIGEST_MD5)
			return NULL;
		*enc_r = have_enc ? enc : s->enc;
		return s;
	}
	return NULL;
}

/* pw_scheme_known - is NAME a scheme? */
bool pw_scheme_known(const char *name)
{
	enum enc enc;

	return lookup(name, strlen(name), &enc) != NULL;
}

/* pw_scheme_names - the scheme names, NULL-terminated */
const char *const *pw_scheme_names(void)
{
	static const char *names[NSCHEMES + 1];
	size_t i;

	for (i = 0; i < NSCHEMES; i++)
		names[i] = schemes[i].name;
	names[NSCHEMES] = NULL;
	return names;
}

/* pw_scheme_needs_user - does the scheme mix in the user name? */
bool pw_scheme_needs_user(const char *name)
{
	enum enc enc;
	const struct scheme *s = lookup(name, strlen(name), &enc);

	return s != NULL && s->kind == K_DIGEST_MD5;
}

/* digest - out = md(a || b); returns the digest length, 0 on failure */
static unsigned digest(const char *md, const void *a, size_t an, const void *b, size_t bn,
		       unsigned char out[EVP_MAX_MD_SIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 0;

	if (ctx == NULL)
		return 0;
	if (EVP_DigestInit_ex(ctx, EVP_get_digestbyname(md), NULL) != 1 || EVP_DigestUpdate(ctx, a, an) != 1 ||
	    EVP_DigestUpdate(ctx, b, bn) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1)
		len = 0;
	EVP_MD_CTX_free(ctx);
	return len;
}

/* put_le32 - store v little-endian */
static unsigned char *put_le32(unsigned char *p, MD5_LONG v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8 & 0xff);
	p[2] = (unsigned char)(v >> 16 & 0xff);
	p[3] = (unsigned char)(v >> 24 & 0xff);
	return p + 4;
}

/*
 * cram_context - the HMAC-MD5 precomputed context Dovecot stores for CRAM-MD5:
 * the MD5 state after the key XOR opad block, then after the key XOR ipad
 * block, each as four little-endian 32-bit words (RFC 2195 section 3's "contexts").
 */
static void cram_context(const char *pw, size_t n, unsigned char out[CRAM_CONTEXT_LEN])
{
	unsigned char key[64], pad[64];
	MD5_CTX ictx, octx;
	unsigned char *p = out;
	size_t i;

	memset(key, 0, sizeof(key));
	if (n > sizeof(key))
		MD5((const unsigned char *)pw, n, key);
	else
		memcpy(key, pw, n);
	for (i = 0; i < 64; i++)
		pad[i] = key[i] ^ 0x36;
	MD5_Init(&ictx);
	MD5_Update(&ictx, pad, 64);
	for (i = 0; i < 64; i++)
		pad[i] = key[i] ^ 0x5c;
	MD5_Init(&octx);
	MD5_Update(&octx, pad, 64);
	p = put_le32(p, octx.A);
	p = put_le32(p, octx.B);
	p = put_le32(p, octx.C);
	p = put_le32(p, octx.D);
	p = put_le32(p, ictx.A);
	p = put_le32(p, ictx.B);
	p = put_le32(p, ictx.C);
	put_le32(p, ictx.D);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(&ictx, sizeof(ictx));
	OPENSSL_cleanse(&octx, sizeof(octx));
}

/*
 * raw_value - the binary value of a digest-kind scheme for pw, salted with
 * salt (appended after the digest, as Dovecot's S* schemes). 0 or -1 (*error_r).
 */
static int raw_value(const struct scheme *s, const char *pw, const char *user, const unsigned char *salt,
		     size_t salt_len, struct buf *out, const char **error_r)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len;
	size_t pn = strlen(pw);

	switch (s->kind) {
	case K_PLAIN:
		return buf_append(out, pw, pn);
	case K_CRAM:
		cram_context(pw, pn, md);
		return buf_append(out, md, CRAM_CONTEXT_LEN);
	case K_DIGEST_MD5: {
		const char *at;
		struct buf a1 = BUF_INIT(PW_PASSWORD_MAX * 3);
		int r;

		if (user == NULL || *user == '\0') {
			*error_r = "DIGEST-MD5 needs the user name (-u USER)";
			return -1;
		}
		/* user@realm; the realm is after the last '@' (user@domain@realm also works) */
		at = strrchr(user, '@');
		if (at)
			r = buf_printf(&a1, "%.*s:%s:%s", (int)(at - user), user, at + 1, pw);
		else
			r = buf_printf(&a1, "%s::%s", user, pw);
		len = r < 0 ? 0 : digest("MD5", a1.data, a1.len, "", 0, md);
		OPENSSL_cleanse(a1.data, a1.len);
		buf_free(&a1);
		if (len == 0) {
			*error_r = "MD5 failed";
			return -1;
		}
		return buf_append(out, md, len);
	}
	case K_DIGEST:
		len = digest(s->md, pw, pn, salt, salt_len, md);
		if (len == 0) {
			*error_r = "digest failed";
			return -1;
		}
		if (buf_append(out, md, len) < 0 || buf_append(out, salt, salt_len) < 0)
			return -1;
		return 0;
	default:
		*error_r = "not a digest scheme";
		return -1;
	}
}

/* md_len - the digest length of a digest-kind scheme (0: any, PLAIN) */
static size_t md_len(const struct scheme *s)
{
	switch (s->kind) {
	case K_CRAM:
		return CRAM_CONTEXT_LEN;
	case K_DIGEST_MD5:
		return 16;
	case K_DIGEST:
		return (size_t)EVP_MD_get_size(EVP_get_digestbyname(s->md));
	default:
		return 0;
	}
}

/* encode - append raw in encoding enc */
static int encode(struct buf *out, enum enc enc, const void *raw, size_t n)
{
	switch (enc) {
	case ENC_NONE:
		return buf_append(out, raw, n);
	case ENC_HEX:
		return hex_encode(out, raw, n);
	case ENC_B64:
		return base64_encode(out, raw, n);
	}
	return -1;
}

/* decode - append the bytes of value in encoding enc; 0 or -1 */
static int decode(struct buf *out, enum enc enc, const char *v, size_t n)
{
	switch (enc) {
	case ENC_NONE:
		return buf_append(out, v, n);
	case ENC_HEX:
		return hex_decode(out, v, n);
	case ENC_B64:
		return base64_decode(out, v, n);
	}
	return -1;
}

/* crypt_make - a new crypt(3) string with a fresh salt */
static int crypt_make(const struct scheme *s, const char *pw, unsigned rounds, struct buf *out, const char **error_r)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *prefix = s->crypt_prefix ? s->crypt_prefix : "$2y$";
	const char *h;
	int r = -1;

	if (cd == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (rounds == 0)
		rounds = s->rounds;
	if (crypt_gensalt_rn(prefix, rounds, NULL, 0, setting, sizeof(setting)) == NULL) {
		*error_r = "crypt: cannot make a salt (bad rounds?)";
	} else if ((h = crypt_rn(pw, setting, cd, sizeof(*cd))) == NULL || h[0] == '*') {
		*error_r = "crypt failed";
	} else {
		r = buf_puts(out, h);
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return r;
}

/* crypt_check - 1 when crypt(pw, v) == v, 0 when not, -1 when v is no crypt string */
static int crypt_check(const struct scheme *s, const char *pw, const char *v, const char **error_r)
{
	struct crypt_data *cd;
	const char *h;
	int r;

	if (s->crypt_prefix && strncmp(v, s->crypt_prefix, strlen(s->crypt_prefix)) != 0 &&
	    !(strcmp(s->crypt_prefix, "$2y$") == 0 && (strncmp(v, "$2a$", 4) == 0 || strncmp(v, "$2b$", 4) == 0))) {
		*error_r = "the value is not in this scheme's crypt format";
		return -1;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	h = crypt_rn(pw, v, cd, sizeof(*cd));
	if (h == NULL || h[0] == '*') {
		*error_r = "malformed crypt string";
		r = -1;
	} else {
		r = strlen(h) == strlen(v) && CRYPTO_memcmp(h, v, strlen(v)) == 0;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return r;
}

/* random_salt_chars - n characters of the crypt alphabet, for PBKDF2's text salt */
static int random_salt_chars(char *out, size_t n)
{
	static const char alpha[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char r[64];
	size_t i;

	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = alpha[r[i] & 63];
	out[n] = '\0';
	return 0;
}

/* pbkdf2 - out = PBKDF2-HMAC(md, pw, salt, iter, len) */
static int pbkdf2(const char *md, const char *pw, const void *salt, size_t salt_len, unsigned iter, unsigned char *out,
		  size_t len)
{
	return PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)salt_len, (int)iter, EVP_get_digestbyname(md),
				 (int)len, out) == 1
		       ? 0
		       : -1;
}

/* scram_keys - StoredKey and ServerKey of RFC 5802 for pw */
static int scram_keys(const struct scheme *s, const char *pw, const void *salt, size_t salt_len, unsigned iter,
		      unsigned char stored[EVP_MAX_MD_SIZE], unsigned char server[EVP_MAX_MD_SIZE], unsigned *len_r)
{
	const EVP_MD *md = EVP_get_digestbyname(s->md);
	unsigned char salted[EVP_MAX_MD_SIZE], client[EVP_MAX_MD_SIZE];
	unsigned n = (unsigned)EVP_MD_get_size(md), l1 = 0, l2 = 0, l3 = 0;
	int r = -1;

	if (pbkdf2(s->md, pw, salt, salt_len, iter, salted, n) == 0 &&
	    HMAC(md, salted, (int)n, (const unsigned char *)"Client Key", 10, client, &l1) != NULL &&
	    HMAC(md, salted, (int)n, (const unsigned char *)"Server Key", 10, server, &l2) != NULL &&
	    EVP_Digest(client, l1, stored, &l3, md, NULL) == 1 && l1 == n && l2 == n && l3 == n) {
		*len_r = n;
		r = 0;
	}
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client, sizeof(client));
	return r;
}

/* argon2_params - Dovecot's defaults: ARGON2I m=32 MiB t=4, ARGON2ID m=64 MiB t=3, p=1 */
static argon2_type argon2_kind(const struct scheme *s, uint32_t *m_kib)
{
	if (strcmp(s->name, "ARGON2I") == 0) {
		*m_kib = 32768;
		return Argon2_i;
	}
	*m_kib = 65536;
	return Argon2_id;
}

/* pw_generate - append "{SCHEME}value" for password */
int pw_generate(const char *scheme, const char *password, const char *user, unsigned rounds, struct buf *out,
		const char **error_r)
{
	enum enc enc;
	const struct scheme *s = lookup(scheme, strlen(scheme), &enc);
	unsigned char salt[64];
	size_t start = out->len;
	int r = -1;

	*error_r = NULL;
	if (s == NULL) {
		*error_r = "unknown password scheme";
		return -1;
	}
	if (strlen(password) > PW_PASSWORD_MAX) {
		*error_r = "password too long";
		return -1;
	}
	if (s->salt_len && RAND_bytes(salt, (int)s->salt_len) != 1) {
		*error_r = "no random bytes";
		return -1;
	}
	if (buf_printf(out, "{%.*s}", SCHEME_NAME_MAX, scheme) < 0)
		goto full;
	/* the scheme name as the user wrote it, upper-cased, like doveadm pw */
	for (size_t i = start + 1; i < out->len - 1; i++)
		out->data[i] = ascii_toupper(out->data[i]);

	switch (s->kind) {
	case K_PLAIN:
	case K_CRAM:
	case K_DIGEST_MD5:
	case K_DIGEST: {
		struct buf raw = BUF_INIT(PW_PASSWORD_MAX + EVP_MAX_MD_SIZE + sizeof(salt));

		if (raw_value(s, password, user, salt, s->salt_len, &raw, error_r) == 0)
			r = encode(out, enc, raw.data, raw.len);
		else if (*error_r == NULL)
			*error_r = "value too long";
		if (raw.data)
			OPENSSL_cleanse(raw.data, raw.len);
		buf_free(&raw);
		break;
	}
	case K_CRYPT:
		r = crypt_make(s, password, rounds, out, error_r);
		break;
	case K_PBKDF2: {
		char tsalt[17];
		unsigned char key[20];
		unsigned iter = rounds ? rounds : s->rounds;

		if (random_salt_chars(tsalt, 16) < 0 || pbkdf2(s->md, password, tsalt, 16, iter, key, sizeof(key)) < 0) {
			*error_r = "PBKDF2 failed";
			break;
		}
		r = buf_printf(out, "$1$%s$%u$", tsalt, iter) < 0 ? -1 : hex_encode(out, key, sizeof(key));
		break;
	}
	case K_SCRAM: {
		unsigned char stored[EVP_MAX_MD_SIZE], server[EVP_MAX_MD_SIZE];
		unsigned iter = rounds ? rounds : s->rounds, n;

		if (scram_keys(s, password, salt, s->salt_len, iter, stored, server, &n) < 0) {
			*error_r = "SCRAM key derivation failed";
			break;
		}
		r = buf_printf(out, "%u,", iter) < 0 || base64_encode(out, salt, s->salt_len) < 0 ||
				    buf_putc(out, ',') < 0 || base64_encode(out, stored, n) < 0 ||
				    buf_putc(out, ',') < 0 || base64_encode(out, server, n) < 0
			    ? -1
			    : 0;
		break;
	}
	case K_ARGON2: {
		uint32_t m_kib, t = rounds ? rounds : s->rounds;
		argon2_type type = argon2_kind(s, &m_kib);
		size_t elen = argon2_encodedlen(t, m_kib, 1, (uint32_t)s->salt_len, 32, type);
		char *enc_s = calloc(1, elen + 1);
		int ar;

		if (enc_s == NULL) {
			*error_r = "out of memory";
			break;
		}
		ar = argon2_hash(t, m_kib, 1, password, strlen(password), salt, s->salt_len, NULL, 32, enc_s, elen, type,
				 ARGON2_VERSION_13);
		if (ar != ARGON2_OK)
			*error_r = argon2_error_message(ar);
		else
			r = buf_puts(out, enc_s);
		free(enc_s);
		break;
	}
	}
	OPENSSL_cleanse(salt, sizeof(salt));
	if (r == 0)
		return 0;
full:
	buf_truncate(out, start);
	if (*error_r == NULL)
		*error_r = "hash too long";
	return -1;
}

/*
 * decode_digest - the binary value of a digest-kind stored value into out: in
 * its encoding, else (no explicit suffix) in the other one when the length
 * says so, as Dovecot does. 0, or -1 with *error_r.
 */
static int decode_digest(const struct scheme *s, enum enc enc, bool enc_given, const char *v, struct buf *out,
			 const char **error_r)
{
	size_t vn = strlen(v), need = md_len(s), start = out->len;

	if (decode(out, enc, v, vn) == 0 && out->len - start >= need &&
	    (need == 0 || s->salt_len != 0 || out->len - start == need))
		return 0;
	buf_truncate(out, start);
	if (!enc_given && need != 0 &&
	    (vn == need * 2 ? hex_decode(out, v, vn) : base64_decode(out, v, vn)) == 0 && out->len - start >= need &&
	    (s->salt_len != 0 || out->len - start == need))
		return 0;
	buf_truncate(out, start);
	*error_r = "the stored value has the wrong length or encoding for its scheme";
	return -1;
}

/* verify_digest - digest kinds: decode, re-derive with the stored salt, compare */
static int verify_digest(const struct scheme *s, enum enc enc, bool enc_given, const char *v, const char *pw,
			 const char *user, const char **error_r)
{
	struct buf stored = BUF_INIT(PW_PASSWORD_MAX * 2 + 256), calc = BUF_INIT(PW_PASSWORD_MAX * 2 + 256);
	size_t need = md_len(s);
	int r = -1;

	if (decode_digest(s, enc, enc_given, v, &stored, error_r) < 0)
		goto out;
	if (raw_value(s, pw, user, (const unsigned char *)stored.data + need, need ? stored.len - need : 0, &calc,
		      error_r) < 0) {
		if (*error_r == NULL)
			*error_r = "password too long";
		goto out;
	}
	r = calc.len == stored.len && CRYPTO_memcmp(calc.data, stored.data, calc.len) == 0;
out:
	if (stored.data)
		OPENSSL_cleanse(stored.data, stored.len);
	if (calc.data)
		OPENSSL_cleanse(calc.data, calc.len);
	buf_free(&stored);
	buf_free(&calc);
	return r;
}

/* verify_pbkdf2 - "$1$salt$rounds$hex" */
static int verify_pbkdf2(const struct scheme *s, const char *v, const char *pw, const char **error_r)
{
	const char *salt, *d1, *d2;
	struct buf want = BUF_INIT(64);
	unsigned char key[64];
	uint64_t iter;
	int r = -1;

	if (strncmp(v, "$1$", 3) != 0 || (d1 = strchr(salt = v + 3, '$')) == NULL || (d2 = strchr(d1 + 1, '$')) == NULL ||
	    parse_u64(d1 + 1, (size_t)(d2 - d1 - 1), &iter) < 0 || iter == 0 || iter > 10000000 ||
	    hex_decode(&want, d2 + 1, strlen(d2 + 1)) < 0 || want.len == 0 || want.len > sizeof(key)) {
		*error_r = "malformed PBKDF2 value (want $1$salt$rounds$hex)";
		goto out;
	}
	if (pbkdf2(s->md, pw, salt, (size_t)(d1 - salt), (unsigned)iter, key, want.len) < 0) {
		*error_r = "PBKDF2 failed";
		goto out;
	}
	r = CRYPTO_memcmp(key, want.data, want.len) == 0;
out:
	buf_free(&want);
	return r;
}

/* verify_scram - "iterations,salt,StoredKey,ServerKey" */
static int verify_scram(const struct scheme *s, const char *v, const char *pw, const char **error_r)
{
	struct buf salt = BUF_INIT(256), want = BUF_INIT(EVP_MAX_MD_SIZE);
	unsigned char stored[EVP_MAX_MD_SIZE], server[EVP_MAX_MD_SIZE];
	const char *c1 = strchr(v, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL, *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
	uint64_t iter;
	unsigned n;
	int r = -1;

	if (c3 == NULL || parse_u64(v, (size_t)(c1 - v), &iter) < 0 || iter == 0 || iter > 10000000 ||
	    base64_decode(&salt, c1 + 1, (size_t)(c2 - c1 - 1)) < 0 ||
	    base64_decode(&want, c2 + 1, (size_t)(c3 - c2 - 1)) < 0) {
		*error_r = "malformed SCRAM value (want iterations,salt,StoredKey,ServerKey)";
		goto out;
	}
	if (scram_keys(s, pw, salt.data, salt.len, (unsigned)iter, stored, server, &n) < 0) {
		*error_r = "SCRAM key derivation failed";
		goto out;
	}
	r = want.len == n && CRYPTO_memcmp(stored, want.data, n) == 0;
out:
	buf_free(&salt);
	buf_free(&want);
	return r;
}

/*
 * parse_stored - split "{SCHEME}value" (or a bare value in default_scheme,
 * NULL: CRYPT) into its scheme, encoding and value. NULL when unknown.
 */
static const struct scheme *parse_stored(const char *stored, const char *default_scheme, enum enc *enc_r,
					 bool *enc_given_r, const char **value_r)
{
	const char *name = default_scheme ? default_scheme : "CRYPT", *end;
	size_t n = strlen(name);

	*value_r = stored;
	if (stored[0] == '{' && (end = strchr(stored, '}')) != NULL) {
		name = stored + 1;
		n = (size_t)(end - stored - 1);
		*value_r = end + 1;
	}
	*enc_given_r = memchr(name, '.', n) != NULL;
	return lookup(name, n, enc_r);
}

/* pw_verify - does password match stored? */
int pw_verify(const char *stored, const char *password, const char *user, const char *default_scheme,
	      const char **error_r)
{
	const struct scheme *s;
	const char *v;
	bool enc_given;
	enum enc enc;

	*error_r = NULL;
	if (strlen(password) > PW_PASSWORD_MAX) {
		*error_r = "password too long";
		return -1;
	}
	s = parse_stored(stored, default_scheme, &enc, &enc_given, &v);
	if (s == NULL) {
		*error_r = "unknown password scheme";
		return -1;
	}
	switch (s->kind) {
	case K_PLAIN:
	case K_CRAM:
	case K_DIGEST_MD5:
	case K_DIGEST:
		return verify_digest(s, enc, enc_given, v, password, user, error_r);
	case K_CRYPT:
		return crypt_check(s, password, v, error_r);
	case K_PBKDF2:
		return verify_pbkdf2(s, v, password, error_r);
	case K_SCRAM:
		return verify_scram(s, v, password, error_r);
	case K_ARGON2: {
		uint32_t m;
		int ar = argon2_verify(v, password, strlen(password), argon2_kind(s, &m));

		if (ar == ARGON2_OK)
			return 1;
		if (ar == ARGON2_VERIFY_MISMATCH)
			return 0;
		*error_r = argon2_error_message(ar);
		return -1;
	}
	}
	*error_r = "unknown password scheme kind";
	return -1;
}

/* same_credentials - can a value stored in scheme a serve as scheme b's credentials? */
static bool same_credentials(const struct scheme *a, const struct scheme *b)
{
	if (a->kind != b->kind)
		return false;
	return a->kind == K_CRAM || a->kind == K_DIGEST_MD5 || (a->kind == K_SCRAM && strcmp(a->md, b->md) == 0);
}

/* pw_credentials - the secret a SASL mechanism works with, in scheme wanted */
int pw_credentials(const char *stored, const char *wanted, const char *user, const char *default_scheme,
		   struct buf *out, const char **error_r)
{
	enum enc enc, wenc;
	bool enc_given;
	const char *v;
	const struct scheme *s = parse_stored(stored, default_scheme, &enc, &enc_given, &v);
	const struct scheme *w = lookup(wanted, strlen(wanted), &wenc);
	struct buf plain = BUF_INIT(PW_PASSWORD_MAX);
	size_t start = out->len;
	int r = -1;

	*error_r = NULL;
	if (s == NULL || w == NULL) {
		*error_r = "unknown password scheme";
		return -1;
	}
	if (w->kind != K_PLAIN && w->kind != K_CRAM && w->kind != K_DIGEST_MD5 && w->kind != K_SCRAM) {
		*error_r = "no SASL mechanism works with this scheme";
		return -1;
	}
	if (same_credentials(s, w)) {
		/* the stored form is the one wanted: hand it over as is */
		if (s->kind != K_SCRAM)
			return decode_digest(s, enc, enc_given, v, out, error_r);
		if (buf_puts(out, v) < 0) {
			*error_r = "value too long";
			return -1;
		}
		return 0;
	}
	if (s->kind != K_PLAIN) {
		*error_r = "the stored hash cannot give what this mechanism needs (it needs the password in "
			   "{PLAIN} or in its own scheme)";
		return -1;
	}
	/* the plaintext can be turned into anything */
	if (decode(&plain, enc, v, strlen(v)) < 0 || memchr(plain.data ? plain.data : "", '\0', plain.len)) {
		*error_r = "malformed stored value";
	} else if (w->kind == K_SCRAM) {
		unsigned char salt[16], stored_key[EVP_MAX_MD_SIZE], server_key[EVP_MAX_MD_SIZE];
		unsigned n;

		if (RAND_bytes(salt, sizeof(salt)) == 1 &&
		    scram_keys(w, buf_cstr(&plain), salt, sizeof(salt), w->rounds, stored_key, server_key, &n) == 0 &&
		    buf_printf(out, "%u,", w->rounds) == 0 && base64_encode(out, salt, sizeof(salt)) == 0 &&
		    buf_putc(out, ',') == 0 && base64_encode(out, stored_key, n) == 0 && buf_putc(out, ',') == 0 &&
		    base64_encode(out, server_key, n) == 0)
			r = 0;
		else
			*error_r = "SCRAM key derivation failed";
	} else {
		r = raw_value(w, buf_cstr(&plain), user, NULL, 0, out, error_r);
	}
	if (plain.data)
		OPENSSL_cleanse(plain.data, plain.len);
	buf_free(&plain);
	if (r < 0)
		buf_truncate(out, start);
	return r;
}
