/*
 * pop3_login.c - `postern service pop3-login`: POP3 before authentication
 *
 * The AUTHORIZATION state of RFC 1939 on the generic login layer
 * (src/login/login.h): greeting "+OK <login_greeting>" (with the APOP
 * timestamp "<pid.random.time@myhostname>" when the auth service offers
 * APOP), CAPA (RFC 2449), USER/PASS (relayed as PLAIN), APOP, AUTH mech
 * [initial-response] (RFC 5034: "+ challenge" continuations, "*" aborts;
 * AUTH alone lists the mechanisms), STLS (RFC 2595), QUIT. After a successful
 * authentication the login layer hands the client to the pop3 dispatcher.
 *
 * disable_plaintext_auth = yes (default; auth_allow_cleartext = no in 2.4
 * terms): USER/PASS and plaintext mechanisms are refused without TLS unless
 * the client is on a loopback address, with Dovecot's reply. ssl = required:
 * loopback does not count either.
 *
 * Runs in:  pop3-login (mail_owner); input is UNTRUSTED network data
 * API:      pop3_login_main()
 * Limits:   POP3_LOGIN_LINE_MAX per line, POP3_LOGIN_BAD_MAX invalid commands,
 *           POP3_LOGIN_AUTH_FAIL_MAX failed authentications, then disconnect;
 *           3 minutes idle
 * Tests:    tests/e2e/test_pop3.py
 * Refs:     RFC 1939, RFC 2449, RFC 2595, RFC 5034; Dovecot's pop3-login replies
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth/auth_client.h"
#include "lib/buf.h"
#include "lib/encode.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "libmail/pop3_cmd.h"
#include "login/login.h"
#include "pop3d/pop3d.h"

#define POP3_LOGIN_LINE_MAX 4096
#define POP3_LOGIN_BAD_MAX 10
#define POP3_LOGIN_AUTH_FAIL_MAX 3
#define POP3_LOGIN_IDLE_S 180

#define PLAINTEXT_DISALLOWED "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"

struct pop3_login {
	struct login_conn *c;
	char *user;             /* USER name, waiting for PASS */
	char apop[160];         /* the greeting's timestamp, "" when APOP is not offered */
	uint32_t auth_id;       /* request in flight, 0 when none */
	bool sasl_cont;         /* the next line is a SASL response, not a command */
	unsigned bad;
};

/* plaintext_ok - may a password travel in clear on this connection? */
static bool plaintext_ok(struct login_conn *c)
{
	const struct dconf *dc = login_dconf();
	const struct login_info *i = login_info(c);
	bool disable = true, allow = false;

	if (i->tls)
		return true;
	if (strcmp(dconf_get(dc, DCONF_ssl), "required") == 0)
		return false;
	(void)dconf_parse_bool(dconf_get(dc, DCONF_disable_plaintext_auth), &disable);
	(void)dconf_parse_bool(dconf_get(dc, DCONF_auth_allow_cleartext), &allow);
	if (dconf_is_set(dc, DCONF_auth_allow_cleartext))
		disable = !allow;
	return !disable || i->secured;
}

static void *p3_start(struct login_conn *c)
{
	struct pop3_login *p = xcalloc(1, sizeof(*p));
	bool plain;

	p->c = c;
	if (auth_client_ready(login_auth()) && auth_client_mech_ok(login_auth(), "APOP", &plain)) {
		unsigned char rnd[8];
		char host[256] = "localhost";

		RAND_bytes(rnd, sizeof(rnd));
		(void)gethostname(host, sizeof(host) - 1);
		snprintf(p->apop, sizeof(p->apop), "<%lx.%02x%02x%02x%02x%02x%02x%02x%02x.%lx@%.64s>",
			 (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
			 (long)time(NULL), host);
	}
	login_printf(c, "+OK %s%s%s\r\n", dconf_get_proto(login_dconf(), "pop3", DCONF_login_greeting),
		     p->apop[0] ? " " : "", p->apop);
	return p;
}

static void p3_free(struct login_conn *c, void *st)
{
	struct pop3_login *p = st;

	(void)c;
	if (p->auth_id)
		auth_request_abort(login_auth(), p->auth_id);
	if (p->user) {
		OPENSSL_cleanse(p->user, strlen(p->user));
		free(p->user);
	}
	free(p);
}

static void p3_handover_failed(struct login_conn *c, void *st, const char *text)
{
	(void)st;
	(void)text;
	/* the reason is in the log; the client learns only that it is temporary */
	login_printf(c, "-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n");
	login_close(c, "internal failure, hand-over failed");
}

/* auth_reply - the auth service answered a request of ours */
static void auth_reply(enum auth_client_reply r, const char *data, void *ctx)
{
	struct pop3_login *p = ctx;
	struct login_conn *c = p->c;
	uint32_t id = p->auth_id;

	if (r == AUTH_CLIENT_CONTINUE) {
		login_printf(c, "+ %s\r\n", data ? data : "");
		p->sasl_cont = true;
		login_resume(c);
		return;
	}
	p->auth_id = 0;
	p->sasl_cont = false;
	switch (r) {
	case AUTH_CLIENT_OK:
		login_set_user(c, data, NULL);
		login_handover(c, id);
		return;
	case AUTH_CLIENT_FAIL:
		login_auth_failed(c);
		login_printf(c, "-ERR [AUTH] %s\r\n", data ? data : "Authentication failed.");
		break;
	case AUTH_CLIENT_TEMPFAIL:
		login_printf(c, "-ERR [SYS/TEMP] %s\r\n", data ? data : "Temporary authentication failure.");
		break;
	case AUTH_CLIENT_CONTINUE:
		panic("pop3-login: CONTINUE handled above");
	}
	if (login_failures(c) >= POP3_LOGIN_AUTH_FAIL_MAX) {
		login_close(c, NULL);
		return;
	}
	login_resume(c);
}

/* auth_begin - start a request; ir is base64 or NULL */
static void auth_begin(struct pop3_login *p, const char *mech, const char *ir)
{
	struct login_conn *c = p->c;
	const struct login_info *i = login_info(c);
	struct auth_request_info ai = {
		.mech = mech, .service = "pop3", .lip = i->lip, .rip = i->rip, .lport = i->lport,
		.rport = i->rport, .secured = i->secured, .initial_response = ir,
		.apop_challenge = strcmp(mech, "APOP") == 0 ? p->apop : NULL,
	};

	login_set_user(c, NULL, mech);
	p->auth_id = auth_request_start(login_auth(), &ai, auth_reply, p);
	if (p->auth_id == 0) {
		login_printf(c, "-ERR [SYS/TEMP] Waiting for authentication process to respond.\r\n");
		return;
	}
	login_suspend(c);
}

/* auth_with - base64 of "a NUL b" (PLAIN without authzid: "NUL user NUL pass") as a request */
static void auth_with(struct pop3_login *p, const char *mech, const char *authz, struct slice a,
		      struct slice b)
{
	struct buf raw = BUF_INIT(3 * POP3_ARG_MAX), enc = BUF_INIT(8 * POP3_ARG_MAX);

	if (authz) {
		buf_puts(&raw, authz);
		buf_putc(&raw, '\0');
	}
	buf_append_slice(&raw, a);
	buf_putc(&raw, '\0');
	buf_append_slice(&raw, b);
	(void)base64_encode(&enc, raw.data, raw.len);
	auth_begin(p, mech, buf_cstr(&enc));
	OPENSSL_cleanse(raw.data, raw.len);
	OPENSSL_cleanse(enc.data, enc.len);
	buf_free(&raw);
	buf_free(&enc);
}

/* capa - RFC 2449 capabilities before login */
static void capa(struct pop3_login *p)
{
	struct login_conn *c = p->c;
	bool plain = plaintext_ok(c);

	login_printf(c, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n");
	if (login_info(c)->tls_available)
		login_printf(c, "STLS\r\n");
	if (plain)
		login_printf(c, "USER\r\n");
	if (auth_client_ready(login_auth()))
		login_printf(c, "SASL %s\r\n", auth_client_mechs(login_auth(), plain));
	login_printf(c, ".\r\n");
}

/* sasl_line - the client's answer to a "+ challenge" */
static void sasl_line(struct pop3_login *p, const char *line, size_t n)
{
	p->sasl_cont = false;
	if (n == 1 && line[0] == '*') {
		auth_request_abort(login_auth(), p->auth_id);
		p->auth_id = 0;
		login_printf(p->c, "-ERR [AUTH] Authentication aborted by client.\r\n");
		return;
	}
	auth_request_continue(login_auth(), p->auth_id, line);
	login_suspend(p->c);
}

/* p3_auth - AUTH [mech [initial-response]] */
static void p3_auth(struct pop3_login *p, const struct pop3_cmd *cmd)
{
	struct login_conn *c = p->c;
	char mech[64], *ir = NULL;
	bool plain = false;

	if (cmd->arg1.n == 0) {
		const char *m = auth_client_ready(login_auth()) ? auth_client_mechs(login_auth(), plaintext_ok(c))
								 : "";

		login_printf(c, "+OK\r\n");
		for (const char *s = m; *s;) {
			size_t k = strcspn(s, " ");

			if (k)
				login_printf(c, "%.*s\r\n", (int)k, s);
			s += k + (s[k] == ' ');
		}
		login_printf(c, ".\r\n");
		return;
	}
	if (cmd->arg1.n >= sizeof(mech)) {
		login_printf(c, "-ERR Unsupported authentication mechanism.\r\n");
		return;
	}
	memcpy(mech, cmd->arg1.p, cmd->arg1.n);
	mech[cmd->arg1.n] = '\0';
	for (char *q = mech; *q; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 'a' + 'A');
	if (strcmp(mech, "APOP") == 0 || !auth_client_ready(login_auth()) ||
	    !auth_client_mech_ok(login_auth(), mech, &plain)) {
		login_printf(c, "-ERR Unsupported authentication mechanism.\r\n");
		return;
	}
	if (plain && !plaintext_ok(c)) {
		login_set_user(c, NULL, mech);
		login_printf(c, PLAINTEXT_DISALLOWED);
		return;
	}
	if (cmd->arg2.n)
		ir = xstrndup(cmd->arg2.p, cmd->arg2.n);
	auth_begin(p, mech, ir && strcmp(ir, "=") == 0 ? "" : ir);
	if (ir) {
		OPENSSL_cleanse(ir, strlen(ir));
		free(ir);
	}
}

static void p3_line(struct login_conn *c, void *st, const char *line, size_t n)
{
	struct pop3_login *p = st;
	struct pop3_cmd cmd;
	const char *err;
	bool plain;

	if (p->sasl_cont) {
		sasl_line(p, line, n);
		return;
	}
	if (pop3_cmd_parse(line, n, POP3_LOGIN_LINE_MAX, &cmd, &err) < 0 ||
	    (!(cmd.states & POP3_IN_AUTHORIZATION) && (err = "Unknown command."))) {
		login_printf(c, "-ERR %s\r\n", err);
		if (++p->bad >= POP3_LOGIN_BAD_MAX) {
			login_printf(c, "-ERR Too many invalid commands.\r\n");
			login_close(c, "too many invalid commands");
		}
		return;
	}
	switch (cmd.id) {
	case POP3_CAPA:
		capa(p);
		break;
	case POP3_QUIT:
		login_printf(c, "+OK Logging out\r\n");
		login_close(c, NULL);
		break;
	case POP3_STLS:
		if (login_info(c)->tls)
			login_printf(c, "-ERR TLS is already active.\r\n");
		else if (!login_info(c)->tls_available)
			login_printf(c, "-ERR TLS support isn't enabled.\r\n");
		else {
			login_printf(c, "+OK Begin TLS negotiation now.\r\n");
			(void)login_starttls(c);
		}
		break;
	case POP3_USER:
		if (!plaintext_ok(c)) {
			login_printf(c, PLAINTEXT_DISALLOWED);
			break;
		}
		free(p->user);
		p->user = xstrndup(cmd.arg1.p, cmd.arg1.n);
		login_set_user(c, p->user, NULL);
		login_printf(c, "+OK\r\n");
		break;
	case POP3_PASS:
		if (!plaintext_ok(c)) {
			login_printf(c, PLAINTEXT_DISALLOWED);
			break;
		}
		if (p->user == NULL) {
			login_printf(c, "-ERR No username given.\r\n");
			break;
		}
		if (!auth_client_ready(login_auth()) || !auth_client_mech_ok(login_auth(), "PLAIN", &plain)) {
			login_printf(c, "-ERR [SYS/TEMP] Waiting for authentication process to respond.\r\n");
			break;
		}
		auth_with(p, "PLAIN", "", (struct slice){ p->user, strlen(p->user) }, cmd.arg1);
		break;
	case POP3_APOP:
		if (p->apop[0] == '\0') {
			login_printf(c, "-ERR APOP not enabled.\r\n");
			break;
		}
		free(p->user);
		p->user = xstrndup(cmd.arg1.p, cmd.arg1.n);
		login_set_user(c, p->user, NULL);
		auth_with(p, "APOP", NULL, cmd.arg1, cmd.arg2);
		break;
	case POP3_AUTH:
		p3_auth(p, &cmd);
		break;
	default:
		login_printf(c, "-ERR Unknown command.\r\n");
		break;
	}
}

static const struct login_proto pop3_proto = {
	.name = "pop3",
	.max_line = POP3_LOGIN_LINE_MAX,
	.idle_s = POP3_LOGIN_IDLE_S,
	.conn_start = p3_start,
	.conn_line = p3_line,
	.too_long_reply = "-ERR Input line too long.\r\n",
	.handover_failed = p3_handover_failed,
	.conn_free = p3_free,
};

/* pop3_login_main - `postern service pop3-login` */
int pop3_login_main(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return login_main(cli, &pop3_proto);
}
