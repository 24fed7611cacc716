/*
 * pwscheme.h - Dovecot password schemes: make and verify "{SCHEME}value" strings
 *
 * The encodings are Dovecot's, byte for byte (checked against hashes made by
 * real `doveadm pw` in shared/vectors/dovecot-pw.tsv):
 *   PLAIN, CLEARTEXT           the password itself
 *   PLAIN-MD5 (hex), LDAP-MD5 (base64), SHA = SHA1, SHA256, SHA512 (base64)
 *   SMD5, SSHA, SSHA256, SSHA512   base64(digest(password salt) salt), 4-byte salt
 *   CRAM-MD5 = HMAC-MD5        hex of the HMAC-MD5 context (outer then inner MD5 state)
 *   DIGEST-MD5                 hex MD5("user:realm:password"), realm after the last '@'
 *   MD5-CRYPT (MD5), SHA256-CRYPT, SHA512-CRYPT, BLF-CRYPT, CRYPT   crypt(3) strings
 *   PBKDF2                     $1$salt$rounds$hex(PBKDF2-HMAC-SHA1)
 *   SCRAM-SHA-1, SCRAM-SHA-256 iterations,base64 salt,base64 StoredKey,base64 ServerKey
 *   ARGON2I, ARGON2ID          the Argon2 PHC string
 * A ".HEX", ".B64" or ".BASE64" suffix chooses the encoding of a digest scheme.
 * On verification a digest whose encoding does not decode to the right length
 * is tried in the other encoding, as Dovecot does.
 *
 * Runs in:  the auth service and `postern pw`; no I/O except the random source
 * API:      pw_scheme_known(), pw_generate(), pw_verify(), pw_credentials(), pw_scheme_names()
 * Tests:    tests/unit/test_pwscheme.c, tests/e2e/test_pw.py
 * Refs:     Dovecot password-scheme.c, password-scheme-crypt.c, hmac-cram-md5.c,
 *           RFC 2195 (CRAM-MD5), RFC 2831 (DIGEST-MD5), RFC 5802 (SCRAM), RFC 9106 (Argon2)
 */
#ifndef POSTERN_PWSCHEME_H
#define POSTERN_PWSCHEME_H

#include <stdbool.h>

#include "lib/buf.h"

/* the longest password hashed or verified, in bytes (Dovecot's limit is similar) */
#define PW_PASSWORD_MAX 4096
/* the default scheme of `postern pw` */
#define PW_DEFAULT_SCHEME "SHA512-CRYPT"

/* pw_scheme_known - is NAME (case-insensitive, optionally with .HEX/.B64) a scheme? */
bool pw_scheme_known(const char *name);
/* pw_scheme_names - the scheme names, NULL-terminated, in listing order */
const char *const *pw_scheme_names(void);
/* pw_scheme_needs_user - does the scheme mix the user name into the hash (DIGEST-MD5)? */
bool pw_scheme_needs_user(const char *name);

/*
 * pw_generate - append "{SCHEME}value" for password to out. user is needed by
 * DIGEST-MD5 only (NULL otherwise allowed); rounds 0 means the scheme's
 * default (crypt cost, PBKDF2/SCRAM iterations, Argon2 passes).
 * Returns 0, or -1 with *error_r (unknown scheme, missing user, bad rounds).
 */
int pw_generate(const char *scheme, const char *password, const char *user, unsigned rounds, struct buf *out,
		const char **error_r);

/*
 * pw_verify - does password match stored? stored is "{SCHEME}value", or a bare
 * value in default_scheme (NULL: "CRYPT", Dovecot's default_pass_scheme).
 * Returns 1 match, 0 mismatch, -1 when stored cannot be checked (*error_r:
 * unknown scheme, malformed value, user needed). Digests compare in constant time.
 */
int pw_verify(const char *stored, const char *password, const char *user, const char *default_scheme,
	      const char **error_r);

/*
 * pw_credentials - append to out the secret a SASL mechanism works with, in
 * scheme wanted: "PLAIN" (the password: APOP), "CRAM-MD5" (the 32-byte HMAC-MD5
 * context), "DIGEST-MD5" (the 16-byte MD5 of user:realm:password; user is
 * "name@realm"), "SCRAM-SHA-1"/"SCRAM-SHA-256" (the text
 * "iterations,salt,StoredKey,ServerKey"). stored must be in that scheme (or
 * its alias, HMAC-MD5 for CRAM-MD5) or in PLAIN/CLEARTEXT, from which any of
 * them is derived. Returns 0, or -1 with *error_r (e.g. CRAM-MD5 from a
 * SHA512-CRYPT hash: impossible by design).
 */
int pw_credentials(const char *stored, const char *wanted, const char *user, const char *default_scheme,
		   struct buf *out, const char **error_r);

#endif
