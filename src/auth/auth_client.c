/*
 * auth_client.c - a login process's (or smtpd's) connection to private/auth
 *
 * One bufferevent on the caller's event base. The handshake (VERSION, MECH,
 * SPID, CUID, COOKIE, DONE) makes the client ready; requests are then written
 * as AUTH/CONT lines and every reply (CONT, OK, FAIL) goes to the request's
 * callback. When the connection breaks, every request in flight gets
 * AUTH_CLIENT_TEMPFAIL and a reconnect is tried after a backoff (100 ms,
 * doubling, at most 10 s; back to 100 ms after a handshake).
 * Callbacks may start, continue or abort requests and may free the client.
 *
 * Runs in:  pop3-login, imap-login, smtpd (unprivileged); the auth service's
 *           lines are checked strictly (a malformed one closes the connection)
 * API:      auth_client.h
 * Limits:   AUTHPROTO_LINE_MAX a line, 64 mechanisms
 * Tests:    tests/e2e/test_auth.py (through `postern auth test`), tests/e2e/test_pop3.py
 * Refs:     docs/mail-access.md
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "auth/auth_client.h"
#include "auth/auth_lines.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/authproto.h"

#define MECHS_MAX 64
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000

struct creq {
	uint32_t id;
	auth_client_cb *cb;
	void *ctx;
	struct creq *next;
};

struct auth_client {
	struct event_base *base;
	char *path;
	struct bufferevent *bev;
	struct event *retry_ev;
	unsigned backoff_ms;
	bool ready;
	char *mech[MECHS_MAX];
	bool plain[MECHS_MAX], priv[MECHS_MAX];
	size_t n_mechs;
	char cookie[33];
	struct buf mechs_str;
	uint32_t next_id;
	struct creq *reqs;
	unsigned in_cb;  /* callbacks running */
	bool freed;      /* auth_client_free() was called inside a callback */
};

static void client_connect(struct auth_client *c);

/* clear_mechs - forget the handshake */
static void clear_mechs(struct auth_client *c)
{
	for (size_t i = 0; i < c->n_mechs; i++)
		free(c->mech[i]);
	c->n_mechs = 0;
	c->cookie[0] = '\0';
	c->ready = false;
}

/* really_free - release everything (no callbacks) */
static void really_free(struct auth_client *c)
{
	while (c->reqs) {
		struct creq *r = c->reqs;

		c->reqs = r->next;
		free(r);
	}
	if (c->bev)
		bufferevent_free(c->bev);
	event_free(c->retry_ev);
	clear_mechs(c);
	buf_free(&c->mechs_str);
	free(c->path);
	free(c);
}

/* call - run a callback; false when the client was freed meanwhile (the caller must stop) */
static bool call(struct auth_client *c, auth_client_cb *cb, enum auth_client_reply r, const char *data, void *ctx)
{
	c->in_cb++;
	cb(r, data, ctx);
	c->in_cb--;
	if (c->freed && c->in_cb == 0) {
		really_free(c);
		return false;
	}
	return !c->freed;
}

/* take - remove request id from the list; NULL when unknown */
static struct creq *take(struct auth_client *c, uint32_t id)
{
	for (struct creq **pp = &c->reqs; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct creq *r = *pp;

			*pp = r->next;
			return r;
		}
	return NULL;
}

/* find - request id, left in the list */
static struct creq *find(struct auth_client *c, uint32_t id)
{
	for (struct creq *r = c->reqs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* disconnect - drop the connection, TEMPFAIL every request, retry later; false when freed */
static bool disconnect(struct auth_client *c, const char *why)
{
	struct timeval tv = { c->backoff_ms / 1000, (suseconds_t)(c->backoff_ms % 1000) * 1000 };

	if (why)
		log_warn("auth client %s: %s", c->path, why);
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	clear_mechs(c);
	event_add(c->retry_ev, &tv);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
	while (c->reqs) {
		struct creq *r = c->reqs;

		c->reqs = r->next;
		auth_client_cb *cb = r->cb;
		void *ctx = r->ctx;

		free(r);
		if (!call(c, cb, AUTH_CLIENT_TEMPFAIL, "Authentication service unavailable", ctx))
			return false;
	}
	return true;
}

/* field - the value of "key=..." among f[from..n), or NULL */
static const char *field(char **f, int from, int n, const char *key)
{
	size_t kl = strlen(key);

	for (int i = from; i < n; i++)
		if (strncmp(f[i], key, kl) == 0 && f[i][kl] == '=')
			return f[i] + kl + 1;
	return NULL;
}

/* has_flag - is bare word among f[from..n)? */
static bool has_flag(char **f, int from, int n, const char *word)
{
	for (int i = from; i < n; i++)
		if (strcmp(f[i], word) == 0)
			return true;
	return false;
}

/* handle_reply - OK, FAIL or CONT; false: the client is gone or the line is bad (*bad_r) */
static bool handle_reply(struct auth_client *c, char **f, int n, bool *bad_r)
{
	uint32_t id;
	struct creq *r;

	if (n < 2 || authproto_parse_id(f[1], &id) < 0) {
		*bad_r = true;
		return false;
	}
	if (strcmp(f[0], "CONT") == 0) {
		if (n != 3) {
			*bad_r = true;
			return false;
		}
		r = find(c, id);
		return r == NULL || call(c, r->cb, AUTH_CLIENT_CONTINUE, f[2], r->ctx);
	}
	if (!(r = take(c, id)))
		return true; /* aborted */
	auth_client_cb *cb = r->cb;
	void *ctx = r->ctx;

	free(r);
	if (strcmp(f[0], "OK") == 0) {
		const char *user = field(f, 2, n, "user");

		return call(c, cb, user ? AUTH_CLIENT_OK : AUTH_CLIENT_TEMPFAIL, user ? user : "no user in OK", ctx);
	}
	return call(c, cb, has_flag(f, 2, n, "temp") ? AUTH_CLIENT_TEMPFAIL : AUTH_CLIENT_FAIL,
		    field(f, 2, n, "reason"), ctx);
}

/* handle_handshake - VERSION, MECH, SPID, CUID, COOKIE, DONE; false: bad */
static bool handle_handshake(struct auth_client *c, char **f, int n)
{
	if (strcmp(f[0], "VERSION") == 0)
		return n >= 3 && strcmp(f[1], "1") == 0;
	if (strcmp(f[0], "MECH") == 0) {
		if (n < 2 || c->n_mechs == MECHS_MAX)
			return n >= 2;
		c->plain[c->n_mechs] = has_flag(f, 2, n, "plaintext");
		c->priv[c->n_mechs] = has_flag(f, 2, n, "private");
		c->mech[c->n_mechs++] = xstrdup(f[1]);
		return true;
	}
	if (strcmp(f[0], "COOKIE") == 0) {
		if (n != 2 || strlen(f[1]) != 32)
			return false;
		memcpy(c->cookie, f[1], 33);
		return true;
	}
	if (strcmp(f[0], "DONE") == 0) {
		if (c->cookie[0] == '\0')
			return false;
		c->ready = true;
		c->backoff_ms = BACKOFF_MIN_MS;
		return true;
	}
	return true; /* SPID, CUID and later additions */
}

/* client_line - one line from the auth service; false: stop (disconnected or freed) */
static bool client_line(void *ctx, char **f, int n)
{
	struct auth_client *c = ctx;
	struct bufferevent *bev = c->bev;
	bool bad = false, alive = true;

	if (strcmp(f[0], "OK") == 0 || strcmp(f[0], "FAIL") == 0 || strcmp(f[0], "CONT") == 0)
		alive = c->ready ? handle_reply(c, f, n, &bad) : !(bad = true);
	else
		bad = !handle_handshake(c, f, n);
	if (bad) {
		disconnect(c, "malformed line from the auth service");
		return false;
	}
	return alive && c->bev == bev;
}

/* on_read - lines from the auth service */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct auth_client *c = arg;
	const char *err;

	if (auth_lines(bev, client_line, c, &err) < 0)
		disconnect(c, err);
}

/* on_event - connected, or lost */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct auth_client *c = arg;
	struct buf b = BUF_INIT(64);

	if (what & BEV_EVENT_CONNECTED) {
		buf_printf(&b, "VERSION\t1\t2\nCPID\t%ld\n", (long)getpid());
		bufferevent_write(bev, b.data, b.len);
		buf_free(&b);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		disconnect(c, (what & BEV_EVENT_EOF) ? "the auth service closed the connection" : "connection error");
}

/* on_retry - the backoff is over */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_connect(arg);
}

/* client_connect - start connecting */
static void client_connect(struct auth_client *c)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->path);
	c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		disconnect(c, NULL); /* no requests can be in flight: not ready yet */
}

struct auth_client *auth_client_new(struct event_base *base, const char *path)
{
	struct auth_client *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->path = xstrdup(path);
	c->backoff_ms = BACKOFF_MIN_MS;
	c->next_id = 1;
	buf_init(&c->mechs_str, 4096);
	c->retry_ev = evtimer_new(base, on_retry, c);
	client_connect(c);
	return c;
}

bool auth_client_ready(const struct auth_client *c)
{
	return c->ready;
}

bool auth_client_mech_ok(const struct auth_client *c, const char *mech, bool *plaintext_r)
{
	for (size_t i = 0; i < c->n_mechs; i++)
		if (strcasecmp(c->mech[i], mech) == 0) {
			if (plaintext_r)
				*plaintext_r = c->plain[i];
			return true;
		}
	return false;
}

const char *auth_client_mechs(const struct auth_client *c, bool allow_plaintext)
{
	struct buf *b = (struct buf *)&c->mechs_str;

	buf_reset(b);
	for (size_t i = 0; i < c->n_mechs; i++)
		if (!c->priv[i] && (allow_plaintext || !c->plain[i]))
			buf_printf(b, "%s%s", b->len ? " " : "", c->mech[i]);
	return buf_cstr(b);
}

const char *auth_client_cookie(const struct auth_client *c)
{
	return c->ready ? c->cookie : "";
}

/* add_param - "\tkey=value", escaped */
static void add_param(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "\t%s=", key);
	authproto_escape(b, value);
}

uint32_t auth_request_start(struct auth_client *c, const struct auth_request_info *info, auth_client_cb *cb,
			    void *ctx)
{
	struct buf b = BUF_INIT(AUTHPROTO_LINE_MAX);
	struct creq *r;
	uint32_t id;

	if (!c->ready || c->bev == NULL)
		return 0;
	do {
		id = c->next_id++;
		if (c->next_id == 0)
			c->next_id = 1;
	} while (find(c, id));
	buf_printf(&b, "AUTH\t%u\t", id);
	authproto_escape(&b, info->mech);
	add_param(&b, "service", info->service ? info->service : "");
	if (info->secured)
		buf_puts(&b, "\tsecured");
	if (info->lip && info->lip[0])
		add_param(&b, "lip", info->lip);
	if (info->rip && info->rip[0])
		add_param(&b, "rip", info->rip);
	if (info->lport)
		buf_printf(&b, "\tlport=%u", info->lport);
	if (info->rport)
		buf_printf(&b, "\trport=%u", info->rport);
	if (info->initial_response)
		add_param(&b, "resp", info->initial_response);
	if (info->apop_challenge)
		add_param(&b, "apop-challenge", info->apop_challenge);
	if (buf_putc(&b, '\n') < 0) {
		buf_free(&b);
		return 0;
	}
	r = xcalloc(1, sizeof(*r));
	r->id = id;
	r->cb = cb;
	r->ctx = ctx;
	r->next = c->reqs;
	c->reqs = r;
	bufferevent_write(c->bev, b.data, b.len);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	return id;
}

void auth_request_continue(struct auth_client *c, uint32_t id, const char *response_b64)
{
	struct buf b = BUF_INIT(AUTHPROTO_LINE_MAX);

	if (!find(c, id) || c->bev == NULL)
		return;
	buf_printf(&b, "CONT\t%u\t", id);
	if (authproto_escape(&b, response_b64) < 0 || buf_putc(&b, '\n') < 0) {
		buf_reset(&b);
		buf_printf(&b, "CONT\t%u\t*\n", id); /* too long: let the service fail it */
	}
	bufferevent_write(c->bev, b.data, b.len);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
}

void auth_request_abort(struct auth_client *c, uint32_t id)
{
	free(take(c, id));
}

void auth_client_free(struct auth_client **cp)
{
	struct auth_client *c = *cp;

	*cp = NULL;
	if (c == NULL)
		return;
	if (c->in_cb > 0) {
		c->freed = true;
		return;
	}
	really_free(c);
}
