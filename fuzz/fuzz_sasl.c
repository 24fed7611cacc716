/*
 * fuzz_sasl.c - libFuzzer target for the SASL mechanisms (src/libmail/sasl*.c)
 *
 * Input: byte 0 picks the mechanism, the rest is split at 0xFF bytes into the
 * client's responses (the first one is the initial response when byte 0's bit
 * 7 is set). Lookups are answered by a fixed passdb with PLAIN credentials, so
 * every mechanism reaches its final checks. Each exchange must end in OK or
 * FAIL (or wait for more input) without a memory error; an OK must name a user.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmail/pwscheme.h"
#include "libmail/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
				     "APOP" };

/* settle - answer lookups from the one-user passdb */
static enum sasl_status settle(struct sasl_session *s, enum sasl_status st, struct buf *out, const char **err_r)
{
	while (st == SASL_LOOKUP) {
		const struct sasl_need *n = sasl_need(s);
		struct buf cred = BUF_INIT(0);

		if (strcmp(n->user, "user") != 0 && strcmp(n->user, "chris@elwood.innosoft.com") != 0)
			st = sasl_lookup_done(s, SASL_LOOKUP_NO_USER, NULL, 0, out, err_r);
		else if (n->kind == SASL_NEED_VERIFY)
			st = sasl_lookup_done(s, strcmp(n->password, "pencil") == 0 ? SASL_LOOKUP_OK : SASL_LOOKUP_MISMATCH,
					      NULL, 0, out, err_r);
		else if (pw_credentials("{PLAIN}pencil", n->scheme, n->user, NULL, &cred, err_r) == 0)
			st = sasl_lookup_done(s, SASL_LOOKUP_OK, cred.data, cred.len, out, err_r);
		else
			st = sasl_lookup_done(s, SASL_LOOKUP_ERROR, NULL, 0, out, err_r);
		buf_free(&cred);
	}
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sasl_params p = { "imap", "mail.example.com", NULL, true, NULL,
					       "<1896.697170952@dbc.mtview.ca.us>", "OA6MG9tEQGm2hh" };
	struct buf out = BUF_INIT(0);
	struct sasl_session *s;
	const uint8_t *cur, *end = data + size;
	enum sasl_status st;
	const char *err;

	if (size < 1)
		return 0;
	s = sasl_new(mechs[(data[0] & 0x7f) % (sizeof(mechs) / sizeof(mechs[0]))], &p, &err);
	if (s == NULL)
		return 0;
	cur = data + 1;
	if (data[0] & 0x80) {
		const uint8_t *sep = memchr(cur, 0xff, (size_t)(end - cur));
		const uint8_t *e = sep ? sep : end;

		st = settle(s, sasl_start(s, cur, (size_t)(e - cur), true, &out, &err), &out, &err);
		cur = sep ? sep + 1 : end;
	} else {
		st = settle(s, sasl_start(s, NULL, 0, false, &out, &err), &out, &err);
	}
	while (st == SASL_CONTINUE && cur < end) {
		const uint8_t *sep = memchr(cur, 0xff, (size_t)(end - cur));
		const uint8_t *e = sep ? sep : end;

		buf_reset(&out);
		st = settle(s, sasl_step(s, cur, (size_t)(e - cur), &out, &err), &out, &err);
		cur = sep ? sep + 1 : end;
	}
	if (st == SASL_OK && sasl_user(s) == NULL)
		abort();
	if (st == SASL_FAIL && err == NULL)
		abort();
	sasl_free(&s);
	buf_free(&out);
	return 0;
}
