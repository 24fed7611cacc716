/*
 * login.c - the generic login process: accept, TLS, command lines, hand-over
 *
 * Runs in:  pop3-login (imap-login next) as mail_owner; input is UNTRUSTED network data
 * Design:   one libevent loop; one bufferevent per client: a socket one
 *           (plaintext) or an OpenSSL socket one (implicit TLS, or after STLS).
 *           STLS: reading stops when the command is answered; once the answer
 *           is written the plaintext bufferevent, and every byte it holds, is
 *           thrown away and a TLS bufferevent starts on the same socket. The
 *           bytes still in the kernel are the client's handshake.
 *           Hand-over (login.h): after the output is flushed, a LOGIN line is
 *           sent to private/<proto> with the client's socket (or one end of a
 *           socketpair for TLS) attached; the dispatcher answers OK <pid> or
 *           FAIL <text>. A TLS connection then becomes a proxy between the TLS
 *           bufferevent and the socketpair, each direction bounded to
 *           LOGIN_PROXY_BUF (reading stops until the other side drains):
 *           login_proxy.c.
 * Limits:   see login.h
 * Tests:    tests/e2e/test_pop3.py
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "auth/auth_client.h"
#include "lib/encode.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "login/access.h"
#include "login/login-private.h"
#include "login/login.h"
#include "master/service.h"

#define STOP_DEADLINE_S 10
#define HANDOVER_TIMEOUT_S 30
#define HANDOVER_REPLY_MAX 1024
#define HANDOVER_INPUT_MAX 8192 /* pipelined bytes passed on with the client */
#define CLIENT_LIMIT_DEFAULT 1000

static struct {
	const struct login_proto *proto;
	struct access_env env;
	struct event_base *base;
	SSL_CTX *ssl_ctx;
	struct auth_client *auth;
	char *handover_path;
	struct event **lev;
	int *lfd;
	bool *lssl;
	size_t n_listen;
	struct login_conn *conns;
	size_t n_conns, client_limit;
	bool stopping;
	struct event *stop_timer;
} L;

static void process_lines(struct login_conn *c);
static void client_read(struct bufferevent *bev, void *arg);
static void client_write(struct bufferevent *bev, void *arg);
static void client_event(struct bufferevent *bev, short what, void *arg);

const struct dconf *login_dconf(void)
{
	return L.env.dc;
}

struct auth_client *login_auth(void)
{
	return L.auth;
}

const struct login_info *login_info(const struct login_conn *c)
{
	return &c->info;
}

/* conn_log - a "Disconnected"/"Login" line with Dovecot's fields */
static void conn_log(struct login_conn *c, const char *what, const char *extra)
{
	log_info("%s: user=<%s>%s%s, rip=%s, lip=%s%s%s%s", what, c->user ? log_sanitize(c->user, 100) : "",
		 c->mech ? ", method=" : "", c->mech ? c->mech : "", c->rip, c->lip, extra ? ", " : "",
		 extra ? extra : "", c->info.tls ? ", TLS" : c->info.secured ? ", secured" : "");
}

/* login_conn_free - release everything of c */
void login_conn_free(struct login_conn *c)
{
	if (c->in_lines) {
		c->dead = true;
		return;
	}
	if (c->st && L.proto->conn_free)
		L.proto->conn_free(c, c->st);
	c->st = NULL;
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		if (ssl)
			(void)SSL_shutdown(ssl);
		bufferevent_free(c->bev);
	}
	if (!c->bev_owns_fd && c->fd >= 0)
		close(c->fd);
	if (c->pbev)
		bufferevent_free(c->pbev);
	if (c->hev)
		event_free(c->hev);
	if (c->hfd >= 0)
		close(c->hfd);
	if (c->pair >= 0)
		close(c->pair);
	event_free(c->kick);
	buf_free(&c->hreply);
	free(c->user);
	free(c->mech);
	free(c->reason);
	if (c->prev)
		c->prev->next = c->next;
	else
		L.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	L.n_conns--;
	free(c);
	if (L.stopping && L.n_conns == 0)
		event_base_loopbreak(L.base);
}

const char *login_disconnect_reason(struct login_conn *c)
{
	long secs = (long)(time(NULL) - c->started);

	free(c->reason);
	if (c->failed == 0)
		c->reason = xasprintf("no auth attempts in %ld secs", secs);
	else
		c->reason = xasprintf("auth failed, %u attempts in %ld secs", c->failed, secs);
	return c->reason;
}

/* disconnected - the client went away or timed out before logging in */
static void disconnected(struct login_conn *c, const char *why)
{
	char *what = xasprintf("Disconnected (%s)", why ? why : login_disconnect_reason(c));

	conn_log(c, what, NULL);
	free(what);
	login_conn_free(c);
}

void login_printf(struct login_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state == C_CLOSING || c->bev == NULL)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

/* out_len - bytes waiting to go to the client */
static size_t out_len(struct login_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

void login_close(struct login_conn *c, const char *reason)
{
	char *what;

	if (c->state == C_CLOSING)
		return;
	what = xasprintf("Disconnected (%s)", reason ? reason : login_disconnect_reason(c));
	conn_log(c, what, NULL);
	free(what);
	c->state = C_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	if (out_len(c) == 0)
		login_conn_free(c);
}

void login_set_user(struct login_conn *c, const char *user, const char *mech)
{
	if (user) {
		free(c->user);
		c->user = xstrdup(user);
	}
	if (mech) {
		free(c->mech);
		c->mech = xstrdup(mech);
	}
}

void login_auth_failed(struct login_conn *c)
{
	c->failed++;
}

unsigned login_failures(const struct login_conn *c)
{
	return c->failed;
}

void login_suspend(struct login_conn *c)
{
	c->suspended = true;
}

void login_resume(struct login_conn *c)
{
	c->suspended = false;
	event_active(c->kick, EV_TIMEOUT, 0);
}

int login_starttls(struct login_conn *c)
{
	if (!c->info.tls_available || c->state != C_PREAUTH)
		return -1;
	c->state = C_TLS_WAIT;
	/* nothing more is read in plaintext: what the kernel holds now is the handshake */
	bufferevent_disable(c->bev, EV_READ);
	return 0;
}

void login_handover(struct login_conn *c, uint32_t auth_id)
{
	c->auth_id = auth_id;
	c->state = C_HANDOVER;
	bufferevent_disable(c->bev, EV_READ);
	event_active(c->kick, EV_TIMEOUT, 0);
}

/* client_setup - callbacks, timeouts and the input bound of a client bufferevent */
static void client_setup(struct login_conn *c)
{
	struct timeval idle = { (time_t)L.proto->idle_s, 0 };

	bufferevent_setcb(c->bev, client_read, client_write, client_event, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	/* above max_line without a line end the reader stops and the line is too long */
	bufferevent_setwatermark(c->bev, EV_READ, 0, L.proto->max_line + 1024);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* tls_start - a TLS bufferevent on c->fd (implicit TLS, or after STLS) */
static int tls_start(struct login_conn *c)
{
	SSL *ssl = SSL_new(L.ssl_ctx);

	if (ssl == NULL)
		return -1;
	c->bev = bufferevent_openssl_socket_new(L.base, c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->bev_owns_fd = true;
	c->info.tls = c->info.secured = true;
	c->info.tls_available = false;
	client_setup(c);
	return 0;
}

/* stls_switch - the STLS answer is written: drop the plaintext side and everything it buffered */
static void stls_switch(struct login_conn *c)
{
	size_t dropped = evbuffer_get_length(bufferevent_get_input(c->bev));

	if (dropped)
		log_info("STLS: discarded %zu byte(s) sent before the TLS handshake: rip=%s", dropped, c->rip);
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (tls_start(c) < 0) {
		disconnected(c, "TLS initialization failed");
		return;
	}
	c->state = C_PREAUTH;
}

/* process_lines - run the protocol on every complete line while it wants more */
static void process_lines(struct login_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (!c->greeted)
		return;
	c->in_lines = true;
	while (c->state == C_PREAUTH && !c->suspended && !c->dead) {
		size_t n;
		char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);

		if (line == NULL) {
			if (evbuffer_get_length(in) > L.proto->max_line) {
				login_printf(c, "%s", L.proto->too_long_reply);
				login_close(c, "input line too long");
			}
			break;
		}
		if (n > L.proto->max_line) {
			free(line);
			login_printf(c, "%s", L.proto->too_long_reply);
			login_close(c, "input line too long");
			break;
		}
		L.proto->conn_line(c, c->st, line, n);
		free(line);
	}
	c->in_lines = false;
	if (c->dead)
		login_conn_free(c);
	else if (c->state == C_CLOSING && out_len(c) == 0)
		login_conn_free(c);
}

/* --- hand-over --------------------------------------------------------------------------- */

/* handover_fail - the dispatcher refused or was unreachable */
static void handover_fail(struct login_conn *c, const char *text)
{
	if (c->hev) {
		event_free(c->hev);
		c->hev = NULL;
	}
	if (c->hfd >= 0) {
		close(c->hfd);
		c->hfd = -1;
	}
	if (c->pair >= 0) {
		close(c->pair);
		c->pair = -1;
	}
	log_warn("hand-over of user=<%s> failed: %s", c->user ? log_sanitize(c->user, 100) : "",
		 log_sanitize(text, 200));
	c->state = C_PREAUTH;
	bufferevent_enable(c->bev, EV_WRITE);
	c->in_lines = true;
	L.proto->handover_failed(c, c->st, text);
	c->in_lines = false;
	if (c->dead)
		login_conn_free(c);
	else if (c->state != C_CLOSING)
		login_close(c, "internal failure");
	else if (out_len(c) == 0)
		login_conn_free(c);
}

/* handover_done - the worker has the client */
static void handover_done(struct login_conn *c, const char *mpid)
{
	char *extra = xasprintf("mpid=%s", mpid);

	conn_log(c, "Login", extra);
	free(extra);
	if (c->hev) {
		event_free(c->hev);
		c->hev = NULL;
	}
	close(c->hfd);
	c->hfd = -1;
	if (c->st && L.proto->conn_free)
		L.proto->conn_free(c, c->st);
	c->st = NULL;
	if (!c->info.tls) {
		login_conn_free(c); /* our copy of the socket; the worker has its own */
		return;
	}
	login_proxy_start(c, L.base);
}

/* handover_reply - the dispatcher's answer */
static void handover_reply(evutil_socket_t fd, short what, void *arg)
{
	struct login_conn *c = arg;
	char tmp[512];
	ssize_t n;
	char *nl;

	if (what & EV_TIMEOUT) {
		handover_fail(c, "the mail session service did not answer");
		return;
	}
	n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || buf_append(&c->hreply, tmp, (size_t)n) < 0) {
		handover_fail(c, "the mail session service closed the connection");
		return;
	}
	nl = memchr(c->hreply.data, '\n', c->hreply.len);
	if (nl == NULL)
		return;
	*nl = '\0';
	if (strncmp(c->hreply.data, "OK\t", 3) == 0)
		handover_done(c, c->hreply.data + 3);
	else if (strncmp(c->hreply.data, "FAIL\t", 5) == 0)
		handover_fail(c, c->hreply.data + 5);
	else
		handover_fail(c, "bad answer from the mail session service");
}

/* handover_start - the output is flushed: send the LOGIN line with the client's socket */
static void handover_start(struct login_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t pending = evbuffer_get_length(in);
	struct buf line = BUF_INIT(HANDOVER_INPUT_MAX * 2 + 1024);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { HANDOVER_TIMEOUT_S, 0 };
	int pass = c->fd, sp[2];

	if (pending > HANDOVER_INPUT_MAX) {
		login_printf(c, "%s", L.proto->too_long_reply);
		login_close(c, "too much pipelined input");
		return;
	}
	buf_printf(&line, "LOGIN\t%u\t%s\t%s\t%u\t%s\t%u\t%d\t%d\t", c->auth_id, auth_client_cookie(L.auth), c->lip,
		   c->info.lport, c->rip, c->info.rport, c->info.secured, c->info.tls);
	(void)base64_encode(&line, evbuffer_pullup(in, (ssize_t)pending), pending);
	buf_putc(&line, '\n');
	evbuffer_drain(in, pending);
	if (c->info.tls) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0) {
			buf_free(&line);
			handover_fail(c, "socketpair failed");
			return;
		}
		c->pair = sp[0];
		pass = sp[1];
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", L.handover_path);
	c->hfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->hfd < 0 || connect(c->hfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    access_fd_send(c->hfd, line.data, line.len, pass) < 0) {
		char *why = xasprintf("%s: %s", L.handover_path, strerror(errno));

		if (pass != c->fd)
			close(pass);
		buf_free(&line);
		handover_fail(c, why);
		free(why);
		return;
	}
	buf_free(&line);
	if (pass != c->fd)
		close(pass);
	buf_init(&c->hreply, HANDOVER_REPLY_MAX);
	c->hev = event_new(L.base, c->hfd, EV_READ | EV_PERSIST, handover_reply, c);
	event_add(c->hev, &tv);
	/* the client is the worker's now: no timeouts of ours */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

/*
 * conn_greet - start the protocol once the auth service is ready (Dovecot
 * greets only then too: the greeting may offer APOP, and no command waits)
 */
static void conn_greet(struct login_conn *c)
{
	struct timeval tv = { 0, 100 * 1000 };

	if (!auth_client_ready(L.auth)) {
		event_add(c->kick, &tv);
		return;
	}
	c->greeted = true;
	c->st = L.proto->conn_start(c);
	process_lines(c);
}

/* kick - deferred work: greet, resume reading after an auth reply, or start a hand-over */
static void kick(evutil_socket_t fd, short what, void *arg)
{
	struct login_conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->greeted)
		conn_greet(c);
	else if (c->state == C_HANDOVER && c->hfd < 0 && out_len(c) == 0)
		handover_start(c);
	else if (c->state == C_PREAUTH)
		process_lines(c);
}

/* --- client events before login ----------------------------------------------------------- */

static void client_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process_lines(arg);
}

static void client_write(struct bufferevent *bev, void *arg)
{
	struct login_conn *c = arg;

	(void)bev;
	if (c->state == C_CLOSING)
		login_conn_free(c);
	else if (c->state == C_TLS_WAIT)
		stls_switch(c);
	else if (c->state == C_HANDOVER && c->hfd < 0)
		handover_start(c);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct login_conn *c = arg;

	(void)bev;
	if (c->state == C_HANDOVER && c->hfd >= 0)
		return; /* the dispatcher's answer decides */
	if (c->state == C_CLOSING) {
		login_conn_free(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (!c->info.tls) /* best effort: the socket is closed next */
			(void)!write(c->fd, "-ERR Disconnected for inactivity.\r\n", 35);
		char *why = xasprintf("%s, timed out", login_disconnect_reason(c));

		disconnected(c, why);
		free(why);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		disconnected(c, NULL);
}

/* --- accepting ---------------------------------------------------------------------------- */

/* addr_text - numeric address and port of a sockaddr */
static void addr_text(const struct sockaddr_storage *ss, char *out, size_t n, unsigned *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)n);
		*port = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)n);
		*port = ntohs(s4->sin_port);
	} else {
		snprintf(out, n, "unknown");
		*port = 0;
	}
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	bool implicit_tls = *(bool *)arg;
	struct sockaddr_storage ra, la;
	socklen_t rl = sizeof(ra), ll = sizeof(la);
	struct login_conn *c;
	int fd;

	(void)what;
	fd = accept4(lfd, (struct sockaddr *)&ra, &rl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (L.stopping || L.n_conns >= L.client_limit) {
		if (!L.stopping)
			log_warn("client_limit (%zu) reached: connection refused", L.client_limit);
		close(fd);
		return;
	}
	if (implicit_tls && L.ssl_ctx == NULL) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->hfd = c->pair = -1;
	c->started = time(NULL);
	(void)getsockname(fd, (struct sockaddr *)&la, &ll);
	addr_text(&ra, c->rip, sizeof(c->rip), &c->info.rport);
	addr_text(&la, c->lip, sizeof(c->lip), &c->info.lport);
	c->info.rip = c->rip;
	c->info.lip = c->lip;
	c->info.secured = access_loopback(c->rip);
	c->info.tls_available = L.ssl_ctx != NULL;
	c->kick = event_new(L.base, -1, 0, kick, c);
	c->next = L.conns;
	if (L.conns)
		L.conns->prev = c;
	L.conns = c;
	L.n_conns++;
	if (implicit_tls) {
		if (tls_start(c) < 0) {
			disconnected(c, "TLS initialization failed");
			return;
		}
	} else {
		c->bev = bufferevent_socket_new(L.base, fd, 0);
		client_setup(c);
	}
	conn_greet(c);
}

/* --- process life ------------------------------------------------------------------------- */

static void stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	while (L.conns)
		login_conn_free(L.conns);
	event_base_loopbreak(L.base);
}

/* sigterm - stop accepting; clients not logged in go now, proxied sessions get STOP_DEADLINE_S */
static void sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { STOP_DEADLINE_S, 0 };
	struct login_conn *c, *next;

	(void)sig;
	(void)what;
	(void)arg;
	if (L.stopping)
		return;
	L.stopping = true;
	for (size_t i = 0; i < L.n_listen; i++)
		event_del(L.lev[i]);
	for (c = L.conns; c; c = next) {
		next = c->next;
		if (c->state == C_PREAUTH || c->state == C_TLS_WAIT || !c->greeted)
			disconnected(c, "server shutting down");
	}
	if (L.n_conns == 0) {
		event_base_loopbreak(L.base);
		return;
	}
	L.stop_timer = evtimer_new(L.base, stop_deadline, NULL);
	evtimer_add(L.stop_timer, &tv);
}

/* client_limit - service <proto>-login { client_limit = N } */
static size_t client_limit(void)
{
	char *svc = xasprintf("%s-login", L.proto->name);
	const struct dconf_service *s = dconf_service_find(L.env.dc, svc);
	size_t n = CLIENT_LIMIT_DEFAULT;

	free(svc);
	for (const struct dconf_kv *kv = s ? s->settings : NULL; kv; kv = kv->next)
	{
		uint64_t v;

		if (strcmp(kv->name, "client_limit") == 0 && parse_u64(kv->value, strlen(kv->value), &v) == 0 &&
		    v > 0 && v <= 1000000)
			n = (size_t)v;
	}
	return n;
}

int login_main(struct cli *cli, const struct login_proto *proto)
{
	char *ident = xasprintf("%s-login", proto->name), *sock;
	struct event *sig;
	bool any_tls = false;

	memset(&L, 0, sizeof(L));
	L.proto = proto;
	access_setup(cli->config_dir, ident, &L.env);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	L.n_listen = service_listen_fds(&L.lssl);
	if (L.n_listen == 0)
		fatal("no listening sockets ($%s)", SERVICE_ENV_LISTEN_FDS);
	for (size_t i = 0; i < L.n_listen; i++)
		any_tls |= L.lssl[i];
	L.ssl_ctx = login_tls_ctx(L.env.dc, access_env_fd(SERVICE_ENV_SSL_KEY_FD));
	if (any_tls && L.ssl_ctx == NULL)
		log_warn("an ssl listener is configured but TLS is not: its clients are refused");
	L.client_limit = client_limit();
	L.base = event_base_new();
	if (L.base == NULL)
		fatal("event_base_new failed");
	sock = access_socket_path(&L.env, SERVICE_AUTH_SOCKET);
	L.auth = auth_client_new(L.base, sock);
	free(sock);
	L.handover_path = xasprintf("%s/private/%s", L.env.qdir, proto->name);
	L.lev = xcalloc(L.n_listen, sizeof(*L.lev));
	for (size_t i = 0; i < L.n_listen; i++) {
		L.lev[i] = event_new(L.base, SERVICE_LISTEN_FD_BASE + (int)i, EV_READ | EV_PERSIST, accept_cb,
				     &L.lssl[i]);
		event_add(L.lev[i], NULL);
	}
	sig = evsignal_new(L.base, SIGTERM, sigterm, NULL);
	event_add(sig, NULL);
	log_info("daemon started -- %zu listener(s)%s", L.n_listen, L.ssl_ctx ? ", TLS" : "");
	event_base_dispatch(L.base);
	log_info("stopped");
	while (L.conns)
		login_conn_free(L.conns);
	for (size_t i = 0; i < L.n_listen; i++)
		event_free(L.lev[i]);
	free(L.lev);
	free(L.lssl);
	event_free(sig);
	if (L.stop_timer)
		event_free(L.stop_timer);
	auth_client_free(&L.auth);
	event_base_free(L.base);
	if (L.ssl_ctx)
		SSL_CTX_free(L.ssl_ctx);
	free(L.handover_path);
	access_free(&L.env);
	free(ident);
	return 0;
}
