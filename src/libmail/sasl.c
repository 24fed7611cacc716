/*
 * sasl.c - the SASL exchange framework and the simple mechanisms: PLAIN, LOGIN, ANONYMOUS
 *
 * The framework owns the order of calls (start, step after CONTINUE,
 * lookup_done after LOOKUP, nothing after OK or FAIL), bounds every input and
 * wipes secrets on free. CRAM-MD5 and APOP are in sasl_cram.c, DIGEST-MD5 in
 * sasl_digest.c, SCRAM-SHA-1/256 in sasl_scram.c.
 *
 * Runs in:  the auth service; input is UNTRUSTED client data
 * API:      see sasl.h
 * Tests:    tests/unit/test_sasl.c
 * Refs:     RFC 4422, RFC 4616 (PLAIN), RFC 4505 (ANONYMOUS), draft-murchison-sasl-login
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "libmail/sasl-private.h"
#include "lib/encode.h"
#include "lib/xalloc.h"

/* sasl_set_str - replace *dst by a NUL-terminated copy of p[0..n) */
int sasl_set_str(char **dst, const void *p, size_t n)
{
	if (n > SASL_FIELD_MAX || memchr(p, '\0', n) != NULL)
		return -1;
	free(*dst);
	*dst = xmalloc(n + 1);
	memcpy(*dst, p, n);
	(*dst)[n] = '\0';
	return 0;
}

/* sasl_make_nonce - fill s->nonce */
int sasl_make_nonce(struct sasl_session *s)
{
	unsigned char r[18];
	struct buf b = BUF_INIT(sizeof(s->nonce) - 1);
	int rc = -1;

	if (s->p->nonce) {
		if (strlen(s->p->nonce) >= sizeof(s->nonce))
			return -1;
		memcpy(s->nonce, s->p->nonce, strlen(s->p->nonce) + 1);
		return 0;
	}
	if (RAND_bytes(r, sizeof(r)) == 1 && base64_encode(&b, r, sizeof(r)) == 0) {
		memcpy(s->nonce, b.data, b.len + 1); /* 24 characters, no padding for 18 bytes */
		rc = 0;
	}
	buf_free(&b);
	return rc;
}

/* sasl_fail - set *error_r and return SASL_FAIL */
enum sasl_status sasl_fail(const char **error_r, const char *why)
{
	*error_r = why;
	return SASL_FAIL;
}

/* sasl_need_credentials - ask for s->user's credentials in the mechanism's scheme */
enum sasl_status sasl_need_credentials(struct sasl_session *s)
{
	s->need.kind = SASL_NEED_CREDENTIALS;
	s->need.user = s->user;
	s->need.password = NULL;
	s->need.scheme = s->mech->credentials;
	return SASL_LOOKUP;
}

/* sasl_lookup_failed - the SASL_FAIL for a lookup result other than OK */
enum sasl_status sasl_lookup_failed(enum sasl_lookup_result r, const char **error_r)
{
	switch (r) {
	case SASL_LOOKUP_MISMATCH:
		return sasl_fail(error_r, "Password mismatch");
	case SASL_LOOKUP_NO_USER:
		return sasl_fail(error_r, "unknown user");
	case SASL_LOOKUP_ERROR:
		return sasl_fail(error_r, "password lookup failed");
	case SASL_LOOKUP_OK:
		break;
	}
	return sasl_fail(error_r, "internal error: lookup result");
}

/* need_verify - ask the caller to verify s->password for s->user */
static enum sasl_status need_verify(struct sasl_session *s)
{
	s->need.kind = SASL_NEED_VERIFY;
	s->need.user = s->user;
	s->need.password = s->password;
	s->need.scheme = NULL;
	return SASL_LOOKUP;
}

/* verify_done - PLAIN and LOGIN: the verification result is the outcome */
static enum sasl_status verify_done(struct sasl_session *s, enum sasl_lookup_result r, const uint8_t *cred, size_t n,
				    struct buf *out, const char **error_r)
{
	(void)s, (void)cred, (void)n, (void)out;
	return r == SASL_LOOKUP_OK ? SASL_OK : sasl_lookup_failed(r, error_r);
}

/* plain_step - RFC 4616: [authzid] NUL authcid NUL passwd */
static enum sasl_status plain_step(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				   const char **error_r)
{
	const uint8_t *nul1 = memchr(in, '\0', n), *nul2;
	size_t zlen, clen;

	(void)out;
	if (nul1 == NULL || (nul2 = memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - in))) == NULL)
		return sasl_fail(error_r, "PLAIN: invalid input (want authzid NUL authcid NUL password)");
	zlen = (size_t)(nul1 - in);
	clen = (size_t)(nul2 - nul1 - 1);
	if (clen == 0)
		return sasl_fail(error_r, "PLAIN: empty authentication identity");
	if (sasl_set_str(&s->user, nul1 + 1, clen) < 0 ||
	    sasl_set_str(&s->password, nul2 + 1, n - (size_t)(nul2 + 1 - in)) < 0)
		return sasl_fail(error_r, "PLAIN: a field is too long or holds a NUL");
	if (zlen > 0) {
		if (sasl_set_str(&s->authzid, in, zlen) < 0)
			return sasl_fail(error_r, "PLAIN: authorization identity too long");
		/* acting as another user needs master users, which Postern does not have yet */
		if (strcmp(s->authzid, s->user) != 0)
			return sasl_fail(error_r, "PLAIN: authorization as another user is not allowed");
	}
	return need_verify(s);
}

/* plain_start - PLAIN: the initial response is the whole exchange; else an empty challenge */
static enum sasl_status plain_start(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir,
				    struct buf *out, const char **error_r)
{
	return has_ir ? plain_step(s, ir, n, out, error_r) : SASL_CONTINUE;
}

/* login_step - LOGIN: "Username:" then "Password:" */
static enum sasl_status login_step(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				   const char **error_r)
{
	if (s->state == 0) {
		if (n == 0 || sasl_set_str(&s->user, in, n) < 0)
			return sasl_fail(error_r, "LOGIN: invalid user name");
		s->state = 1;
		buf_puts(out, "Password:");
		return SASL_CONTINUE;
	}
	if (sasl_set_str(&s->password, in, n) < 0)
		return sasl_fail(error_r, "LOGIN: invalid password");
	return need_verify(s);
}

/* login_start - LOGIN: an initial response is the user name */
static enum sasl_status login_start(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir,
				    struct buf *out, const char **error_r)
{
	if (has_ir)
		return login_step(s, ir, n, out, error_r);
	buf_puts(out, "Username:");
	return SASL_CONTINUE;
}

/* anonymous_step - RFC 4505: optional trace information, logged by the caller */
static enum sasl_status anonymous_step(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				       const char **error_r)
{
	const char *u = s->p->anonymous_user ? s->p->anonymous_user : "anonymous";

	(void)out;
	if (n > 255 || memchr(in, '\0', n) != NULL) /* RFC 4505: trace <= 255 characters */
		return sasl_fail(error_r, "ANONYMOUS: invalid trace information");
	if (sasl_set_str(&s->authzid, in, n) < 0 || sasl_set_str(&s->user, u, strlen(u)) < 0)
		return sasl_fail(error_r, "ANONYMOUS: invalid trace information");
	return SASL_OK;
}

/* anonymous_start - ANONYMOUS: the initial response is the trace */
static enum sasl_status anonymous_start(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir,
					struct buf *out, const char **error_r)
{
	return has_ir ? anonymous_step(s, ir, n, out, error_r) : SASL_CONTINUE;
}

static const struct sasl_mech mech_plain = { "PLAIN", true, NULL, plain_start, plain_step, verify_done };
static const struct sasl_mech mech_login = { "LOGIN", true, NULL, login_start, login_step, verify_done };
static const struct sasl_mech mech_anonymous = { "ANONYMOUS", false, NULL, anonymous_start, anonymous_step, NULL };

static const struct sasl_mech *const mechs[] = {
	&mech_plain,	      &mech_login,	     &sasl_mech_cram_md5,    &sasl_mech_digest_md5,
	&sasl_mech_scram_sha1, &sasl_mech_scram_sha256, &sasl_mech_apop,	     &mech_anonymous,
};

/* find_mech - the mechanism called name, or NULL */
static const struct sasl_mech *find_mech(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(mechs[i]->name, name) == 0)
			return mechs[i];
	return NULL;
}

/* sasl_mech_known - 1 implemented, 0 unknown, -1 obsolete */
int sasl_mech_known(const char *name)
{
	if (strcasecmp(name, "NTLM") == 0 || strcasecmp(name, "RPA") == 0)
		return -1;
	return find_mech(name) != NULL;
}

/* sasl_mech_plaintext - does the mechanism send the password in the clear? */
bool sasl_mech_plaintext(const char *name)
{
	const struct sasl_mech *m = find_mech(name);

	return m != NULL && m->plaintext;
}

/* sasl_mech_needs_credentials - the scheme a mechanism needs, or NULL */
const char *sasl_mech_needs_credentials(const char *name)
{
	const struct sasl_mech *m = find_mech(name);

	return m ? m->credentials : NULL;
}

/* sasl_new - a session for mechanism name */
struct sasl_session *sasl_new(const char *name, const struct sasl_params *p, const char **error_r)
{
	const struct sasl_mech *m = find_mech(name);
	struct sasl_session *s;

	if (m == NULL) {
		*error_r = sasl_mech_known(name) < 0 ? "obsolete mechanism (removed from Dovecot 2.4)"
						      : "unsupported authentication mechanism";
		return NULL;
	}
	if (m == &mech_anonymous && !p->anonymous) {
		*error_r = "ANONYMOUS is not enabled";
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->mech = m;
	s->p = p;
	s->last = SASL_CONTINUE;
	buf_init(&s->data, SASL_INPUT_MAX * 2);
	buf_init(&s->data2, SASL_INPUT_MAX);
	return s;
}

/* finish - remember the status; a finished exchange takes no more input */
static enum sasl_status finish(struct sasl_session *s, enum sasl_status st)
{
	s->last = st;
	return st;
}

/* sasl_start - begin the exchange */
enum sasl_status sasl_start(struct sasl_session *s, const void *ir, size_t n, bool has_ir, struct buf *out,
			    const char **error_r)
{
	*error_r = NULL;
	if (s->started)
		return finish(s, sasl_fail(error_r, "exchange already started"));
	s->started = true;
	if (n > SASL_INPUT_MAX)
		return finish(s, sasl_fail(error_r, "initial response too long"));
	return finish(s, s->mech->start(s, has_ir ? ir : (const uint8_t *)"", has_ir ? n : 0, has_ir, out, error_r));
}

/* sasl_step - one client response */
enum sasl_status sasl_step(struct sasl_session *s, const void *in, size_t n, struct buf *out, const char **error_r)
{
	*error_r = NULL;
	if (!s->started || s->last != SASL_CONTINUE)
		return finish(s, sasl_fail(error_r, "unexpected response"));
	if (n > SASL_INPUT_MAX)
		return finish(s, sasl_fail(error_r, "response too long"));
	return finish(s, s->mech->step(s, in, n, out, error_r));
}

/* sasl_need - what SASL_LOOKUP asks for */
const struct sasl_need *sasl_need(const struct sasl_session *s)
{
	return s->last == SASL_LOOKUP ? &s->need : NULL;
}

/* sasl_lookup_done - the answer to sasl_need() */
enum sasl_status sasl_lookup_done(struct sasl_session *s, enum sasl_lookup_result r, const void *cred, size_t n,
				  struct buf *out, const char **error_r)
{
	*error_r = NULL;
	if (s->last != SASL_LOOKUP || s->mech->lookup_done == NULL)
		return finish(s, sasl_fail(error_r, "unexpected lookup result"));
	if (r == SASL_LOOKUP_OK && s->need.kind == SASL_NEED_CREDENTIALS && cred == NULL)
		return finish(s, sasl_fail(error_r, "no credentials"));
	return finish(s, s->mech->lookup_done(s, r, cred ? cred : (const uint8_t *)"", cred ? n : 0, out, error_r));
}

const char *sasl_user(const struct sasl_session *s)
{
	return s->user;
}

const char *sasl_authzid(const struct sasl_session *s)
{
	return s->authzid;
}

const char *sasl_mech_name(const struct sasl_session *s)
{
	return s->mech->name;
}

/* wipe_str - clear and free a secret string */
static void wipe_str(char **p)
{
	if (*p) {
		OPENSSL_cleanse(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* wipe_buf - clear and free a buffer that may hold secrets */
static void wipe_buf(struct buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

/* sasl_free - wipe secrets and free */
void sasl_free(struct sasl_session **sp)
{
	struct sasl_session *s = *sp;

	if (s == NULL)
		return;
	wipe_str(&s->password);
	free(s->user);
	free(s->authzid);
	for (size_t i = 0; i < sizeof(s->field) / sizeof(s->field[0]); i++)
		wipe_str(&s->field[i]);
	wipe_buf(&s->data);
	wipe_buf(&s->data2);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	*sp = NULL;
}
