/*
 * qmgr_transport.c - concurrent dlvproto requests from the queue manager to a delivery agent
 *
 * Each connection carries at most one request at a time, so a reply always
 * belongs to the connection's current delivery and the agent (which serves one
 * connection per worker process) delivers the connections' requests in
 * parallel. Deliveries wait in a FIFO; a "pump" event, made active by
 * qtransport_submit() and by every reply, hands them to idle connections and
 * opens new ones up to the limit. Pumping from the loop, never from inside a
 * callback, means the done callback may submit new deliveries or finish a
 * message without the transport's state changing under the caller's feet.
 *
 * Runs in:  qmgr (mail_owner)
 * API:      see qmgr_transport.h
 * Tests:    tests/e2e/test_delivery.py
 * Refs:     Postfix qmgr/qmgr_deliver.c
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/qmgr_transport.h"

struct qconn {
	struct qconn *next;
	struct qtransport *t;
	int fd;
	struct event *ev;
	struct qdlv *busy; /* the request in flight, NULL when idle */
	struct buf in;
};

struct qtransport {
	char *name;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t limit;
	struct qconn *conns; /* open connections, busy or idle */
	size_t nconns, inflight;
	struct qdlv *head, *tail; /* waiting deliveries */
	size_t queued;
	struct event *pump;
	struct event_base *evb;
	qtransport_done_fn *done;
	void *arg;
};

/* qtransport_set_outcome - fill an outcome */
void qtransport_set_outcome(struct qoutcome *o, enum dlvproto_status st, const char *dsn, const char *text)
{
	o->st = st;
	snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
	snprintf(o->text, sizeof(o->text), "%s", text);
	o->forward_id[0] = '\0';
}

/* finish - hand d's outcome to the caller and schedule a pump */
static void finish(struct qtransport *t, struct qdlv *d, const struct qoutcome *o, bool agent_logged)
{
	event_active(t->pump, EV_TIMEOUT, 0);
	t->done(t, d, o, agent_logged, t->arg);
}

/* conn_close - close c and unlink it; a request in flight is deferred */
static void conn_close(struct qconn *c, const char *why)
{
	struct qtransport *t = c->t;
	struct qconn **pp;
	struct qdlv *d = c->busy;

	for (pp = &t->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	t->nconns--;
	event_free(c->ev);
	close(c->fd);
	buf_free(&c->in);
	free(c);
	if (d) {
		struct qoutcome o;
		char text[128];

		t->inflight--;
		log_warn("%s: %s with the %s delivery agent (%s)", d->rq.queue_id, why, t->name, t->path);
		snprintf(text, sizeof(text), "lost connection with the %s delivery agent", t->name);
		qtransport_set_outcome(&o, DLVPROTO_DEFER, "4.3.0", text);
		finish(t, d, &o, false);
	}
}

/* conn_arm - wait for a reply (with a deadline) or, idle, for the agent to close */
static void conn_arm(struct qconn *c)
{
	struct timeval tv = { QTRANSPORT_REPLY_TIMEOUT, 0 };

	event_add(c->ev, c->busy ? &tv : NULL);
}

/* conn_event - a reply, an EOF, or the reply deadline */
static void conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct qconn *c = arg;
	struct qtransport *t = c->t;
	const uint8_t *body;
	size_t blen, flen;
	const char *err;
	struct dlvproto_reply rp;
	struct qoutcome o;
	struct qdlv *d;
	struct arena *a;
	char tmp[DLVPROTO_FRAME_MAX + 4];
	ssize_t n;
	int r;

	if (what & EV_TIMEOUT) {
		conn_close(c, "timeout");
		return;
	}
	n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		conn_close(c, n < 0 ? "read error" : "lost connection");
		return;
	}
	if (!c->busy)
		fatal("qmgr: unexpected data from the %s delivery agent", t->name);
	if (buf_append(&c->in, tmp, (size_t)n) < 0)
		fatal("qmgr: reply from the %s delivery agent too long", t->name);
	r = dlvproto_frame(c->in.data, c->in.len, &body, &blen, &flen, &err);
	if (r < 0)
		fatal("qmgr: bad reply from %s: %s", t->name, err);
	if (r == 0)
		return;
	if (flen != c->in.len)
		fatal("qmgr: bad reply from %s: more than one reply to one request", t->name);
	a = arena_new(0);
	if (dlvproto_get_reply(body, blen, a, &rp, &err) < 0)
		fatal("qmgr: bad reply from %s: %s", t->name, err);
	qtransport_set_outcome(&o, rp.status, rp.dsn, rp.text);
	snprintf(o.forward_id, sizeof(o.forward_id), "%s", rp.forward_id);
	arena_free(&a);
	buf_reset(&c->in);
	d = c->busy;
	c->busy = NULL;
	t->inflight--;
	conn_arm(c);
	finish(t, d, &o, true);
}

/* conn_open - a new connection to the agent, or NULL (logged) */
static struct qconn *conn_open(struct qtransport *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct qconn *c;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_warn("connect to %s: %m", t->path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->t = t;
	c->fd = fd;
	buf_init(&c->in, 2 * (DLVPROTO_FRAME_MAX + 4));
	c->ev = event_new(t->evb, fd, EV_READ | EV_PERSIST, conn_event, c);
	c->next = t->conns;
	t->conns = c;
	t->nconns++;
	conn_arm(c);
	return c;
}

/* idle_conn - an idle connection, a new one within the limit, or NULL (none free; *failed on error) */
static struct qconn *idle_conn(struct qtransport *t, bool *failed)
{
	struct qconn *c;

	*failed = false;
	for (c = t->conns; c; c = c->next)
		if (!c->busy)
			return c;
	if (t->nconns >= t->limit)
		return NULL;
	if (!(c = conn_open(t)))
		*failed = true;
	return c;
}

/* send_request - write d's request on c (an idle connection: the socket buffer is empty) */
static void send_request(struct qtransport *t, struct qconn *c, struct qdlv *d)
{
	struct buf b = BUF_INIT(0);
	struct qoutcome o;

	if (dlvproto_put_request(&b, &d->rq) < 0) {
		buf_free(&b);
		qtransport_set_outcome(&o, DLVPROTO_BOUNCE, "5.1.3", "recipient address too long or malformed");
		finish(t, d, &o, false);
		return;
	}
	c->busy = d;
	t->inflight++;
	if (fd_write_all(c->fd, b.data, b.len) < 0) {
		buf_free(&b);
		conn_close(c, "write error");
		return;
	}
	buf_free(&b);
	conn_arm(c);
}

/* pump - hand waiting deliveries to free connections */
static void pump(evutil_socket_t fd, short what, void *arg)
{
	struct qtransport *t = arg;

	(void)fd;
	(void)what;
	while (t->head) {
		bool failed;
		struct qconn *c = idle_conn(t, &failed);
		struct qdlv *d;

		if (!c && !failed)
			break;
		d = t->head;
		if (!(t->head = d->next))
			t->tail = NULL;
		t->queued--;
		d->next = NULL;
		if (c) {
			send_request(t, c, d);
		} else {
			struct qoutcome o;
			char text[128];

			snprintf(text, sizeof(text), "delivery agent %s is unavailable", t->name);
			qtransport_set_outcome(&o, DLVPROTO_DEFER, "4.3.0", text);
			finish(t, d, &o, false);
		}
	}
}

/* qtransport_new - a transport with no connection yet */
struct qtransport *qtransport_new(struct event_base *evb, const char *name, const char *path, size_t limit,
				  qtransport_done_fn *done, void *arg)
{
	struct qtransport *t = xcalloc(1, sizeof(*t));

	if (strlen(path) >= sizeof(t->path))
		fatal("socket path too long: %s", path);
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->name = xstrdup(name);
	t->limit = limit ? limit : 1;
	t->evb = evb;
	t->done = done;
	t->arg = arg;
	t->pump = event_new(evb, -1, 0, pump, t);
	return t;
}

/* qtransport_name - the transport's name */
const char *qtransport_name(const struct qtransport *t)
{
	return t->name;
}

/* qtransport_submit - append to the FIFO and schedule a pump */
void qtransport_submit(struct qtransport *t, struct qdlv *d)
{
	d->next = NULL;
	if (t->tail)
		t->tail->next = d;
	else
		t->head = d;
	t->tail = d;
	t->queued++;
	event_active(t->pump, EV_TIMEOUT, 0);
}

/* qtransport_drop_queued - give back what was not sent */
size_t qtransport_drop_queued(struct qtransport *t, void (*fn)(struct qdlv *d, void *arg), void *arg)
{
	size_t n = 0;

	while (t->head) {
		struct qdlv *d = t->head;

		if (!(t->head = d->next))
			t->tail = NULL;
		t->queued--;
		d->next = NULL;
		fn(d, arg);
		n++;
	}
	return n;
}

/* qtransport_inflight - requests without a reply */
size_t qtransport_inflight(const struct qtransport *t)
{
	return t->inflight;
}

/* qtransport_queued - deliveries without a connection */
size_t qtransport_queued(const struct qtransport *t)
{
	return t->queued;
}

/* qtransport_free - close everything */
void qtransport_free(struct qtransport **tp, void (*drop)(struct qdlv *d, void *arg), void *arg)
{
	struct qtransport *t = *tp;

	if (!t)
		return;
	qtransport_drop_queued(t, drop, arg);
	while (t->conns) {
		struct qconn *c = t->conns;

		t->conns = c->next;
		if (c->busy)
			drop(c->busy, arg);
		event_free(c->ev);
		close(c->fd);
		buf_free(&c->in);
		free(c);
	}
	event_free(t->pump);
	free(t->name);
	free(t);
	*tp = NULL;
}
