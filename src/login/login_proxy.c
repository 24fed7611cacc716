/*
 * login_proxy.c - after a TLS client logged in: copy bytes between its TLS
 * connection and the socketpair whose other end the worker has
 *
 * A TLS session cannot move to the worker (docs/mail-access.md), so the login
 * process keeps it and copies decrypted bytes both ways. Each direction holds
 * at most about LOGIN_PROXY_BUF: reading from one side stops while the
 * other's output is that full, and starts again when it drained to half.
 * The client going away ends the session (the worker sees EOF); the worker
 * ending it flushes what is left to the client, then closes.
 *
 * Runs in:  login processes (mail_owner); the bytes are the client's, not parsed here
 * API:      login_proxy_start() (login-private.h)
 * Tests:    tests/e2e/test_pop3.py (POP3S and STLS sessions, a 3 MB RETR)
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "login/login-private.h"
#include "login/login.h"

/* proxy_pump - move what from has read to to, stopping from while to is full */
static void proxy_pump(struct bufferevent *from, struct bufferevent *to)
{
	bufferevent_write_buffer(to, bufferevent_get_input(from));
	if (evbuffer_get_length(bufferevent_get_output(to)) >= LOGIN_PROXY_BUF)
		bufferevent_disable(from, EV_READ);
}

static void proxy_client_read(struct bufferevent *bev, void *arg)
{
	struct login_conn *c = arg;

	proxy_pump(bev, c->pbev);
}

static void proxy_worker_read(struct bufferevent *bev, void *arg)
{
	struct login_conn *c = arg;

	proxy_pump(bev, c->bev);
}

/* proxy_client_write - the client took its data: read from the worker again; or finish closing */
static void proxy_client_write(struct bufferevent *bev, void *arg)
{
	struct login_conn *c = arg;

	(void)bev;
	if (c->pbev == NULL) {
		login_conn_free(c);
		return;
	}
	bufferevent_enable(c->pbev, EV_READ);
}

static void proxy_worker_write(struct bufferevent *bev, void *arg)
{
	struct login_conn *c = arg;

	(void)bev;
	bufferevent_enable(c->bev, EV_READ);
}

/* proxy_client_event - the client is gone: so is the session (the worker sees EOF) */
static void proxy_client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		login_conn_free(arg);
}

/* proxy_worker_event - the worker ended the session: flush to the client, then close */
static void proxy_worker_event(struct bufferevent *bev, short what, void *arg)
{
	struct login_conn *c = arg;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	bufferevent_write_buffer(c->bev, bufferevent_get_input(bev));
	bufferevent_free(c->pbev);
	c->pbev = NULL;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		login_conn_free(c);
	else
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

void login_proxy_start(struct login_conn *c, struct event_base *base)
{
	c->state = C_PROXY;
	c->pbev = bufferevent_socket_new(base, c->pair, BEV_OPT_CLOSE_ON_FREE);
	c->pair = -1;
	bufferevent_setcb(c->pbev, proxy_worker_read, proxy_worker_write, proxy_worker_event, c);
	bufferevent_setcb(c->bev, proxy_client_read, proxy_client_write, proxy_client_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, LOGIN_PROXY_BUF / 2, 0);
	bufferevent_setwatermark(c->pbev, EV_WRITE, LOGIN_PROXY_BUF / 2, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, LOGIN_PROXY_BUF);
	bufferevent_setwatermark(c->pbev, EV_READ, 0, LOGIN_PROXY_BUF);
	bufferevent_enable(c->pbev, EV_READ | EV_WRITE);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}
