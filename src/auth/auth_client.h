/*
 * auth_client.h - a login process's (or smtpd's) connection to the auth service
 *
 * Speaks the auth client protocol of docs/mail-access.md (Dovecot's, 1.2) over
 * private/auth, on the caller's libevent base. One connection carries many
 * authentications at once, each identified by its request id; the callback of
 * a request is called once per server reply (CONT, OK, FAIL). When the
 * connection to the auth service breaks, every request in flight gets
 * AUTH_CLIENT_TEMPFAIL and the client reconnects on its own (with backoff).
 * The caller ignores SIGPIPE (every service does): a write to a broken
 * connection must fail, not kill the process.
 *
 * Runs in:  pop3-login, imap-login, smtpd (unprivileged)
 * API:      auth_client_new(), auth_client_ready(), auth_client_mech_ok(),
 *           auth_client_cookie(), auth_request_start(), auth_request_continue(),
 *           auth_request_abort(), auth_client_free()
 * Tests:    tests/e2e/test_auth.py (a real auth service), tests/e2e/test_pop3.py
 * Refs:     docs/mail-access.md; Dovecot's "Authentication protocol" documentation
 */
#ifndef POSTERN_AUTH_CLIENT_H
#define POSTERN_AUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct auth_client;

enum auth_client_reply {
	AUTH_CLIENT_CONTINUE, /* data: the server's challenge, base64, to relay to the client */
	AUTH_CLIENT_OK,       /* data: the authenticated user name */
	AUTH_CLIENT_FAIL,     /* data: the reason to show the client, or NULL (then "Authentication failed.") */
	AUTH_CLIENT_TEMPFAIL, /* the auth service is unreachable or failed internally; data: reason or NULL */
};

/* called once per reply; after OK, FAIL or TEMPFAIL the request is over and its id is free */
typedef void auth_client_cb(enum auth_client_reply r, const char *data, void *ctx);

struct auth_request_info {
	const char *mech;      /* "PLAIN", "LOGIN", "CRAM-MD5", "APOP", ... */
	const char *service;   /* "pop3", "imap", "smtp" */
	const char *lip, *rip; /* local and remote address, numeric */
	unsigned lport, rport;
	bool secured;          /* TLS, or a loopback connection */
	const char *initial_response; /* base64, or NULL; "" for an empty one ("=") */
	const char *apop_challenge;   /* APOP only: the banner's <...@host> */
};

/* auth_client_new - connect (asynchronously) to the socket at path; never NULL */
struct auth_client *auth_client_new(struct event_base *base, const char *path);
/* auth_client_ready - the handshake is done (mechanisms and cookie known) */
bool auth_client_ready(const struct auth_client *c);
/* auth_client_mech_ok - the service offers mech; *plaintext_r: it sends the password in clear */
bool auth_client_mech_ok(const struct auth_client *c, const char *mech, bool *plaintext_r);
/*
 * auth_client_mechs - the mechanisms to advertise, space-separated ("PLAIN
 * LOGIN CRAM-MD5"); plaintext ones omitted unless allow_plaintext
 */
const char *auth_client_mechs(const struct auth_client *c, bool allow_plaintext);
/* auth_client_cookie - the COOKIE of this connection (32 hex digits), "" before ready */
const char *auth_client_cookie(const struct auth_client *c);
/*
 * auth_request_start - begin an authentication; returns the request id (> 0),
 * or 0 when the service is not reachable (cb is then not called).
 */
uint32_t auth_request_start(struct auth_client *c, const struct auth_request_info *info, auth_client_cb *cb,
			    void *ctx);
/* auth_request_continue - the client's base64 response to a CONTINUE ("*" aborts, as the client asked) */
void auth_request_continue(struct auth_client *c, uint32_t id, const char *response_b64);
/* auth_request_abort - forget a request (client disconnected); its callback is never called again */
void auth_request_abort(struct auth_client *c, uint32_t id);
/* auth_client_free - close; requests in flight are dropped without callbacks; *cp = NULL */
void auth_client_free(struct auth_client **cp);

#endif
