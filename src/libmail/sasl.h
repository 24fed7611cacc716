/*
 * sasl.h - server side of the SASL mechanisms, as pure state machines
 *
 * A mechanism never reads a password database itself: when it needs one it
 * stops with SASL_LOOKUP and says what it needs (sasl_need()): either "verify
 * this plaintext password for this user" (PLAIN, LOGIN) or "give me this
 * user's credentials in scheme X" (CRAM-MD5, DIGEST-MD5, SCRAM-*, APOP; see
 * pw_credentials()). The caller (the auth service) answers with
 * sasl_lookup_done(), possibly much later: lookups may be asynchronous and
 * failures are delayed by the caller, never here. No I/O, no logging, no
 * globals; the only outside input is the random source for nonces.
 *
 * Exchange, for every mechanism:
 *     sasl_new(mech)                      -> session (or NULL: unknown/refused mechanism)
 *     sasl_start(s, initial response?)    -> status, out
 *     while status == SASL_CONTINUE:      send out as a challenge; sasl_step(s, response)
 *     while status == SASL_LOOKUP:        look up sasl_need(s); sasl_lookup_done(s, ...)
 *     SASL_OK: authenticated as sasl_user(s) (authorization id: sasl_authzid(s))
 *     SASL_FAIL: *error_r says why (for the log; the client gets a generic failure)
 * Server data sent with success (DIGEST-MD5's rspauth, SCRAM's v=) is sent as
 * one more challenge, and the empty response to it ends with SASL_OK.
 * Challenges and responses here are raw bytes: the protocol does base64.
 *
 * Runs in:  the auth service (unprivileged); input is UNTRUSTED client data
 * API:      sasl_mech_known(), sasl_new(), sasl_start(), sasl_step(),
 *           sasl_need(), sasl_lookup_done(), sasl_user(), sasl_authzid(), sasl_free()
 * Limits:   every client field <= SASL_FIELD_MAX bytes, responses <= SASL_INPUT_MAX
 * Tests:    tests/unit/test_sasl.c (RFC 2195, RFC 2831, RFC 5802, RFC 7677 examples)
 * Refs:     RFC 4422 (SASL), RFC 4616 (PLAIN), RFC 2195 (CRAM-MD5), RFC 2831
 *           (DIGEST-MD5), RFC 5802 / RFC 7677 (SCRAM), RFC 4505 (ANONYMOUS),
 *           RFC 1939 (APOP), draft-murchison-sasl-login (LOGIN)
 */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define SASL_INPUT_MAX 8192 /* one decoded client response */
#define SASL_FIELD_MAX 1024 /* a user name, realm, nonce, ... */

enum sasl_status {
	SASL_CONTINUE, /* send out as a challenge, then call sasl_step() */
	SASL_LOOKUP,   /* answer sasl_need() with sasl_lookup_done() */
	SASL_OK,       /* authenticated */
	SASL_FAIL,     /* refused: *error_r */
};

enum sasl_need_kind {
	SASL_NEED_VERIFY,      /* check password for user */
	SASL_NEED_CREDENTIALS, /* fetch user's credentials in scheme */
};

struct sasl_need {
	enum sasl_need_kind kind;
	const char *user;     /* the authentication identity as the client gave it */
	const char *password; /* VERIFY: the plaintext (wiped by sasl_free()) */
	const char *scheme;   /* CREDENTIALS: "PLAIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" */
};

enum sasl_lookup_result {
	SASL_LOOKUP_OK,       /* VERIFY: the password matched; CREDENTIALS: cred holds them */
	SASL_LOOKUP_MISMATCH, /* VERIFY: wrong password */
	SASL_LOOKUP_NO_USER,  /* no such user */
	SASL_LOOKUP_ERROR,    /* the passdb failed, or cannot serve this scheme */
};

struct sasl_params {
	const char *service;   /* "imap", "pop3", "smtp": DIGEST-MD5's digest-uri service */
	const char *hostname;  /* CRAM-MD5 challenge, DIGEST-MD5 default realm */
	const char *const *realms; /* DIGEST-MD5 realms offered, NULL-terminated; NULL: none */
	bool anonymous;        /* ANONYMOUS allowed (auth_anonymous_username) */
	const char *anonymous_user; /* NULL: "anonymous" */
	const char *apop_challenge; /* POP3 APOP: the banner's <timestamp@host> */
	const char *nonce;     /* tests only: a fixed server nonce / CRAM-MD5 challenge */
};

struct sasl_session;

/*
 * sasl_mech_known - 1: a mechanism this server implements; 0: unknown; -1:
 * obsolete and refused (NTLM, RPA: removed from Dovecot 2.4). Case-insensitive.
 */
int sasl_mech_known(const char *name);
/* sasl_mech_plaintext - does the mechanism send the password in the clear (PLAIN, LOGIN)? */
bool sasl_mech_plaintext(const char *name);
/*
 * sasl_mech_needs_credentials - the credentials scheme a mechanism needs from
 * the passdb (e.g. "CRAM-MD5"), or NULL when it only verifies plaintext.
 */
const char *sasl_mech_needs_credentials(const char *name);

/* sasl_new - a session for mechanism name; NULL with *error_r when unknown or not allowed */
struct sasl_session *sasl_new(const char *name, const struct sasl_params *p, const char **error_r);
/*
 * sasl_start - begin; ir is the initial response when has_ir (it may be empty,
 * e.g. "=" in IMAP). Returns the status; a challenge goes to out.
 */
enum sasl_status sasl_start(struct sasl_session *s, const void *ir, size_t n, bool has_ir, struct buf *out,
			    const char **error_r);
/* sasl_step - one client response (after a SASL_CONTINUE) */
enum sasl_status sasl_step(struct sasl_session *s, const void *in, size_t n, struct buf *out, const char **error_r);
/* sasl_need - what the SASL_LOOKUP status asks for (valid until the next call) */
const struct sasl_need *sasl_need(const struct sasl_session *s);
/* sasl_lookup_done - the answer to sasl_need(); cred/n: the credentials for SASL_NEED_CREDENTIALS */
enum sasl_status sasl_lookup_done(struct sasl_session *s, enum sasl_lookup_result r, const void *cred, size_t n,
				  struct buf *out, const char **error_r);
/* sasl_user - the authenticated user (after SASL_OK), else the claimed one or NULL */
const char *sasl_user(const struct sasl_session *s);
/* sasl_authzid - the authorization identity asked for, or NULL */
const char *sasl_authzid(const struct sasl_session *s);
/* sasl_mech_name - the mechanism's canonical (upper-case) name */
const char *sasl_mech_name(const struct sasl_session *s);
/* sasl_free - wipe secrets and free; *sp = NULL */
void sasl_free(struct sasl_session **sp);

#endif
