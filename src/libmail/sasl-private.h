/*
 * sasl-private.h - what the SASL framework (sasl.c) shares with the mechanism files
 *
 * Each mechanism is a struct sasl_mech of callbacks; the framework checks the
 * order of calls, the input bounds and the finished state, so a mechanism's
 * callbacks only see well-ordered, bounded input.
 *
 * Tests:    tests/unit/test_sasl.c
 */
#ifndef POSTERN_SASL_PRIVATE_H
#define POSTERN_SASL_PRIVATE_H

#include <stdint.h>

#include "libmail/sasl.h"

struct sasl_mech {
	const char *name;
	bool plaintext;          /* the password travels in the clear */
	const char *credentials; /* scheme needed from the passdb, NULL: plaintext verify */
	enum sasl_status (*start)(struct sasl_session *s, const uint8_t *ir, size_t n, bool has_ir, struct buf *out,
				  const char **error_r);
	enum sasl_status (*step)(struct sasl_session *s, const uint8_t *in, size_t n, struct buf *out,
				 const char **error_r);
	enum sasl_status (*lookup_done)(struct sasl_session *s, enum sasl_lookup_result r, const uint8_t *cred,
					size_t n, struct buf *out, const char **error_r);
};

struct sasl_session {
	const struct sasl_mech *mech;
	const struct sasl_params *p;
	enum sasl_status last;   /* the status of the previous call */
	bool started;            /* sasl_start() was called */
	int state;               /* the mechanism's own step counter */
	char *user, *authzid;    /* owned, NUL-terminated */
	char *password;          /* plaintext mechanisms; wiped on free */
	struct sasl_need need;
	struct buf data;         /* mechanism scratch: challenge, auth message (wiped on free) */
	struct buf data2;
	char nonce[64];
	char *field[4];          /* mechanism strings (DIGEST-MD5: cnonce, nc, qop, digest-uri) */
};

extern const struct sasl_mech sasl_mech_cram_md5, sasl_mech_apop, sasl_mech_digest_md5, sasl_mech_scram_sha1,
	sasl_mech_scram_sha256;

/* sasl_set_str - replace *dst by a NUL-terminated copy of p[0..n); -1 when n > SASL_FIELD_MAX or p has a NUL */
int sasl_set_str(char **dst, const void *p, size_t n);
/* sasl_make_nonce - fill s->nonce: p->nonce when set (tests), else 24 random base64 characters */
int sasl_make_nonce(struct sasl_session *s);
/* sasl_fail - set *error_r and return SASL_FAIL */
enum sasl_status sasl_fail(const char **error_r, const char *why);
/* sasl_need_credentials - ask the caller for s->user's credentials in the mechanism's scheme */
enum sasl_status sasl_need_credentials(struct sasl_session *s);
/* sasl_lookup_failed - the SASL_FAIL for a lookup result other than OK */
enum sasl_status sasl_lookup_failed(enum sasl_lookup_result r, const char **error_r);

#endif
