/*
 * login.h - the generic login process: listeners, TLS, pre-auth connections, hand-over
 *
 * A login process (pop3-login now, imap-login next) accepts clients on the
 * listeners the master passes (src/master/service.h), speaks the protocol's
 * pre-authentication commands through a struct login_proto, relays SASL to the
 * auth service (src/auth/auth_client.h) and, after a successful login, hands
 * the client to the protocol's dispatcher (private/<proto>, SCM_RIGHTS):
 *
 *   - plaintext client: its own socket, plus the bytes read but not used, is
 *     passed; this process then forgets it;
 *   - TLS client (implicit TLS listener, or STLS/STARTTLS): a TLS session
 *     cannot move to another process, so one end of a socketpair is passed
 *     and this process stays as a proxy, copying decrypted bytes both ways
 *     with bounded buffers (docs/mail-access.md "TLS after login").
 *
 * STLS/STARTTLS: every byte received before the handshake and not yet used
 * when the command is answered is discarded, so commands injected in the
 * plaintext phase are never run inside TLS (CVE-2011-0411 class).
 *
 * Runs in:  pop3-login (imap-login next) as mail_owner; input is UNTRUSTED network data
 * API:      login_main(); for the protocol: login_printf(), login_close(),
 *           login_starttls(), login_suspend()/login_resume(), login_handover(),
 *           login_info(), login_auth(), login_set_user()
 * Limits:   line length (login_proto.max_line), idle timeout (login_proto.idle_s),
 *           connections per process (service <proto>-login { client_limit }, 1000),
 *           proxy buffers (LOGIN_PROXY_BUF per direction)
 * Tests:    tests/e2e/test_pop3.py
 * Refs:     RFC 2595 (STLS), RFC 8314 (implicit TLS), Dovecot's login-common design
 */
#ifndef POSTERN_LOGIN_H
#define POSTERN_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

struct login_conn;
struct auth_client;
struct dconf;

#define LOGIN_PROXY_BUF (64 * 1024)

/* what the protocol knows of a connection */
struct login_info {
	const char *rip, *lip; /* numeric addresses */
	unsigned rport, lport;
	bool tls;              /* TLS is active (implicit or after STLS) */
	bool secured;          /* TLS, or a loopback client */
	bool tls_available;    /* TLS is configured and not active: offer STLS */
};

struct login_proto {
	const char *name;     /* "pop3": log ident "pop3-login", auth service, socket private/pop3 */
	size_t max_line;      /* longest command line */
	unsigned idle_s;      /* idle timeout before login */
	/* conn_start - a new client: send the greeting; returns the protocol's state */
	void *(*conn_start)(struct login_conn *c);
	/* conn_line - one command line (CRLF removed, NUL-terminated, n bytes) */
	void (*conn_line)(struct login_conn *c, void *st, const char *line, size_t n);
	/* conn_too_long - the reply to a line longer than max_line (the connection then closes) */
	const char *too_long_reply;
	/* handover_failed - the dispatcher refused: tell the client (the connection then closes) */
	void (*handover_failed)(struct login_conn *c, void *st, const char *text);
	/* conn_free - release the state (the connection is gone or handed over) */
	void (*conn_free)(struct login_conn *c, void *st);
};

/*
 * login_main - `postern service <proto>-login`: configuration, TLS context,
 * listeners (fds 3.., $POSTERN_LISTEN_SSL), auth client, event loop until
 * SIGTERM (then: stop accepting, close clients not logged in, let proxies run
 * at most 10 s). Returns the exit status.
 */
int login_main(struct cli *cli, const struct login_proto *proto);

/* login_dconf - the process's dovecot.conf (never NULL while running) */
const struct dconf *login_dconf(void);
/* login_auth - the process's auth client */
struct auth_client *login_auth(void);
/* login_info - addresses and TLS state of c */
const struct login_info *login_info(const struct login_conn *c);

/* login_printf - queue output for the client */
void login_printf(struct login_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * login_close - flush the output, then close; reason goes to the log line
 * "Disconnected (reason): user=<...>, ..." (NULL: "Disconnected: Aborted login
 * by logging out" style text is given as reason by the caller). Safe inside
 * conn_line; no callback of c runs afterwards.
 */
void login_close(struct login_conn *c, const char *reason);
/*
 * login_starttls - after the protocol queued its "go ahead" reply: discard
 * every input byte not yet used, then start the TLS handshake behind that
 * reply. -1 when TLS is not available on c.
 */
int login_starttls(struct login_conn *c);
/* login_suspend, login_resume - stop/restart reading command lines (during an auth request) */
void login_suspend(struct login_conn *c);
void login_resume(struct login_conn *c);
/* login_set_user - the user name and mechanism of the latest attempt, for log lines */
void login_set_user(struct login_conn *c, const char *user, const char *mech);
/* login_auth_attempt - count one failed attempt (for "auth failed, N attempts") */
void login_auth_failed(struct login_conn *c);
/* login_failures - failed attempts so far */
unsigned login_failures(const struct login_conn *c);
/* login_disconnect_reason - Dovecot's reason for a disconnect before login, in buf-owned text */
const char *login_disconnect_reason(struct login_conn *c);
/*
 * login_handover - authentication request auth_id succeeded: pass the client to
 * the dispatcher once the output is flushed. On success the protocol's state
 * is freed and the "Login: " line logged; on failure handover_failed runs.
 */
void login_handover(struct login_conn *c, uint32_t auth_id);

#endif
