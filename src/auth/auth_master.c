/*
 * auth_master.c - a dispatcher's connection to private/auth-master (REQUEST, USER)
 *
 * Connects on the first request (and again after a break); requests are
 * written at once (the bufferevent queues them while connecting) and answered
 * in order by id. When the connection breaks every request in flight gets
 * AUTH_MASTER_FAIL; a later request connects again. Failures found while
 * starting a request are reported from the event loop, never from inside
 * auth_master_request()/auth_master_user().
 *
 * Runs in:  the pop3/imap dispatcher (root), `postern user` and `postern auth test`
 * API:      auth_master.h
 * Limits:   AUTHPROTO_LINE_MAX a line
 * Tests:    tests/e2e/test_auth.py, tests/e2e/test_pop3.py
 * Refs:     docs/mail-access.md
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "auth/auth_lines.h"
#include "auth/auth_master.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/authproto.h"

struct mreq {
	uint32_t id;
	auth_master_cb *cb;
	void *ctx;
	struct mreq *next;
};

struct auth_master {
	struct event_base *base;
	char *path;
	struct bufferevent *bev;
	struct event *fail_ev; /* reports a failed connect from the loop */
	uint32_t next_id;
	struct mreq *reqs, **tail;
	unsigned in_cb;
	bool freed;
};

/* drop_all - free every request without a callback */
static void drop_all(struct auth_master *m)
{
	while (m->reqs) {
		struct mreq *r = m->reqs;

		m->reqs = r->next;
		free(r);
	}
	m->tail = &m->reqs;
}

/* really_free - release everything */
static void really_free(struct auth_master *m)
{
	drop_all(m);
	if (m->bev)
		bufferevent_free(m->bev);
	event_free(m->fail_ev);
	free(m->path);
	free(m);
}

/* call - run a callback; false when m was freed meanwhile */
static bool call(struct auth_master *m, struct mreq *r, enum auth_master_result res, const struct auth_userdb *u,
		 const char *reason)
{
	m->in_cb++;
	r->cb(res, u, reason, r->ctx);
	m->in_cb--;
	free(r);
	if (m->freed && m->in_cb == 0) {
		really_free(m);
		return false;
	}
	return !m->freed;
}

/* pop - the oldest request, removed */
static struct mreq *pop(struct auth_master *m)
{
	struct mreq *r = m->reqs;

	if (r && !(m->reqs = r->next))
		m->tail = &m->reqs;
	return r;
}

/* take - request id, removed; NULL when unknown */
static struct mreq *take(struct auth_master *m, uint32_t id)
{
	for (struct mreq **pp = &m->reqs; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct mreq *r = *pp;

			*pp = r->next;
			if (*pp == NULL)
				m->tail = pp;
			return r;
		}
	return NULL;
}

/* broken - the connection is gone: fail every request; false when m was freed */
static bool broken(struct auth_master *m, const char *why)
{
	struct mreq *r;

	if (m->bev)
		bufferevent_free(m->bev);
	m->bev = NULL;
	while ((r = pop(m)) != NULL)
		if (!call(m, r, AUTH_MASTER_FAIL, NULL, why))
			return false;
	return true;
}

/* parse_user - "USER id user k=v ..." into u; false when malformed */
static bool parse_user(char **f, int n, struct auth_userdb *u)
{
	uint64_t v;

	memset(u, 0, sizeof(*u));
	if (n < 3 || f[2][0] == '\0')
		return false;
	u->user = f[2];
	u->home = "";
	u->mail = "";
	for (int i = 3; i < n; i++) {
		if (strncmp(f[i], "uid=", 4) == 0) {
			if (parse_u64(f[i] + 4, strlen(f[i] + 4), &v) < 0 || v >= (uid_t)-1)
				return false;
			u->uid = (uid_t)v;
			u->has_uid = true;
		} else if (strncmp(f[i], "gid=", 4) == 0) {
			if (parse_u64(f[i] + 4, strlen(f[i] + 4), &v) < 0 || v >= (gid_t)-1)
				return false;
			u->gid = (gid_t)v;
			u->has_gid = true;
		} else if (strncmp(f[i], "home=", 5) == 0)
			u->home = f[i] + 5;
		else if (strncmp(f[i], "mail=", 5) == 0)
			u->mail = f[i] + 5;
	}
	return true;
}

/* handle - one reply line; false: stop reading (bad line handled, or m freed) */
static bool handle(struct auth_master *m, char **f, int n)
{
	struct auth_userdb u;
	struct mreq *r;
	uint32_t id;
	const char *reason = NULL;

	if (strcmp(f[0], "VERSION") == 0 || strcmp(f[0], "SPID") == 0)
		return true;
	if (n < 2 || authproto_parse_id(f[1], &id) < 0) {
		broken(m, "malformed reply from the auth service");
		return false;
	}
	if (!(r = take(m, id)))
		return true;
	if (strcmp(f[0], "USER") == 0) {
		if (!parse_user(f, n, &u)) {
			if (call(m, r, AUTH_MASTER_FAIL, NULL, "malformed USER reply"))
				broken(m, "malformed reply from the auth service");
			return false;
		}
		return call(m, r, AUTH_MASTER_OK, &u, NULL);
	}
	if (strcmp(f[0], "NOTFOUND") == 0)
		return call(m, r, AUTH_MASTER_NOTFOUND, NULL, NULL);
	for (int i = 2; i < n; i++)
		if (strncmp(f[i], "reason=", 7) == 0)
			reason = f[i] + 7;
	return call(m, r, AUTH_MASTER_FAIL, NULL, reason ? reason : "auth service failure");
}

/* master_line - one reply line; false: stop (connection broken or m freed) */
static bool master_line(void *ctx, char **f, int n)
{
	struct auth_master *m = ctx;
	struct bufferevent *bev = m->bev;

	return handle(m, f, n) && m->bev == bev;
}

/* on_read - reply lines */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct auth_master *m = arg;
	const char *err;

	if (auth_lines(bev, master_line, m, &err) < 0)
		broken(m, "malformed reply from the auth service");
}

/* on_event - EOF or error */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		broken(arg, "connection to the auth service lost");
}

/* on_fail - a connect failed inside a request call: report it from the loop */
static void on_fail(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	broken(arg, "cannot connect to the auth service");
}

struct auth_master *auth_master_new(struct event_base *base, const char *path)
{
	struct auth_master *m = xcalloc(1, sizeof(*m));

	m->base = base;
	m->path = xstrdup(path);
	m->next_id = 1;
	m->tail = &m->reqs;
	m->fail_ev = evtimer_new(base, on_fail, m);
	return m;
}

/* send - queue request line b for cb; connects first when needed */
static void send_req(struct auth_master *m, struct buf *b, uint32_t id, auth_master_cb *cb, void *ctx)
{
	static const struct timeval zero = { 0, 0 };
	struct mreq *r = xcalloc(1, sizeof(*r));

	r->id = id;
	r->cb = cb;
	r->ctx = ctx;
	*m->tail = r;
	m->tail = &r->next;
	if (m->bev == NULL && !event_pending(m->fail_ev, EV_TIMEOUT, NULL)) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", m->path);
		m->bev = bufferevent_socket_new(m->base, -1, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(m->bev, on_read, NULL, on_event, m);
		bufferevent_enable(m->bev, EV_READ);
		if (bufferevent_socket_connect(m->bev, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			bufferevent_free(m->bev);
			m->bev = NULL;
			event_add(m->fail_ev, &zero);
		}
	}
	if (m->bev)
		bufferevent_write(m->bev, b->data, b->len);
}

/* next_id - a fresh request id */
static uint32_t next_id(struct auth_master *m)
{
	uint32_t id = m->next_id++;

	if (m->next_id == 0)
		m->next_id = 1;
	return id;
}

void auth_master_request(struct auth_master *m, pid_t login_pid, uint32_t auth_id, const char *cookie,
			 auth_master_cb *cb, void *ctx)
{
	struct buf b = BUF_INIT(AUTHPROTO_LINE_MAX);
	uint32_t id = next_id(m);

	buf_printf(&b, "REQUEST\t%u\t%ld\t%u\t", id, (long)login_pid, auth_id);
	authproto_escape(&b, cookie);
	buf_putc(&b, '\n');
	send_req(m, &b, id, cb, ctx);
	buf_free(&b);
}

void auth_master_user(struct auth_master *m, const char *user, const char *service, auth_master_cb *cb,
		      void *ctx)
{
	struct buf b = BUF_INIT(AUTHPROTO_LINE_MAX);
	uint32_t id = next_id(m);

	buf_printf(&b, "USER\t%u\t", id);
	authproto_escape(&b, user);
	buf_puts(&b, "\tservice=");
	authproto_escape(&b, service ? service : "");
	buf_putc(&b, '\n');
	send_req(m, &b, id, cb, ctx);
	buf_free(&b);
}

void auth_master_free(struct auth_master **mp)
{
	struct auth_master *m = *mp;

	*mp = NULL;
	if (m == NULL)
		return;
	if (m->in_cb > 0) {
		m->freed = true;
		drop_all(m);
		return;
	}
	really_free(m);
}
