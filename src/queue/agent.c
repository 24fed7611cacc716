/*
 * agent.c - the request loop and helpers shared by the delivery agents
 *
 * Runs in:  virtual, local (root when the master is root; effective ids per delivery)
 * API:      see agent.h
 * Tests:    tests/e2e/test_delivery.py, tests/e2e/test_local.py
 * Refs:     Postfix virtual/virtual.c, local/local.c, util/set_eugid.c
 */
#include "queue/agent.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/timeid.h"
#include "lib/xalloc.h"
#include "libmail/diag.h"
#include "libmail/msghdr.h"
#include "libmail/svclog.h"
#include "master/service.h"
#include "queue/maildir.h"
#include "queue/mbox.h"

struct aconn {
	struct aconn *next, **prevp; /* in agent.conns */
	struct agent *a;
	int fd;
	struct event *ev;
	struct buf in;
};

/* agent_set_eids - switch effective ids (root only) */
int agent_set_eids(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0)
		return -1;
	return 0;
}

/* agent_restore_eids - back to root; failure is fatal (we must never keep a user's ids) */
void agent_restore_eids(void)
{
	if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
		fatal("cannot restore root privileges: %m");
}

/* agent_prepend - Return-Path: and Delivered-To:, as Postfix's delivery agents write them */
int agent_prepend(struct buf *pre, const char *sender, const char *rcpt)
{
	if (msghdr_return_path(pre, sender) < 0 || msghdr_delivered_to(pre, rcpt) < 0)
		return -1;
	return 0;
}

/* agent_mailbox - Maildir for a trailing '/', else mbox */
void agent_mailbox(const char *path, const struct buf *pre, struct qstore_msg *m, const struct dlv_owner *own,
		   struct dlv_result *res)
{
	struct dlv_msg msg = { buf_cstr(pre), pre->len, m->fd, m->env.content_offset, m->env.content_size };
	size_t n = strlen(path);

	if (n && path[n - 1] == '/')
		maildir_deliver(path, &msg, own, res);
	else
		mbox_deliver(path, &msg, m->env.sender, (time_t)(m->env.arrival_us / 1000000), NULL, own, res);
}

/* queue_by_name - the qstore queue of a request (dlvproto already checked the name) */
static enum qstore_queue queue_by_name(const char *name)
{
	int q;

	for (q = 0; q < QSTORE_NQUEUES; q++)
		if (strcmp(qstore_queue_name((enum qstore_queue)q), name) == 0)
			return (enum qstore_queue)q;
	panic("agent: queue name \"%s\" passed dlvproto", name);
}

/* handle_request - deliver one recipient, log the outcome, write the reply */
static void handle_request(struct agent *a, int fd, const struct dlvproto_request *q)
{
	struct dlv_result res;
	struct qstore_msg *m = NULL;
	const char *err;
	struct buf out = BUF_INIT(0);
	struct dlvproto_reply rep;
	uint64_t start = time_wall_us();
	int rc;

	memset(&res, 0, sizeof(res));
	rc = qstore_msg_open(&a->qs, queue_by_name(q->queue_name), q->queue_id, false, &m, &err);
	if (rc != QSTORE_OPEN_OK)
		dlv_set(&res, "4.3.0", "cannot open queue file %s: %s", q->queue_id, err);
	else if (q->rcpt >= m->env.nrcpt)
		fatal("%s: request for recipient %u of %s, which has %zu", a->name, (unsigned)q->rcpt, q->queue_id,
		      m->env.nrcpt);
	else
		a->deliver(a, q, m, &res);
	{
		uint64_t now = time_wall_us(), arr = m ? m->env.arrival_us : start;
		double delay = now > arr ? (double)(now - arr) / 1e6 : 0;
		const char *status = res.status == DLV_OK ? "sent" : res.status == DLV_DEFER ? "deferred" : "bounced";
		bool orig = *q->orig && strcasecmp(q->orig, q->addr) != 0;

		log_info("%s: to=<%s>, %s%s%srelay=%s, delay=%.2f, dsn=%s, status=%s (%s)", q->queue_id,
			 log_sanitize(q->addr, 300), orig ? "orig_to=<" : "", orig ? log_sanitize(q->orig, 300) : "",
			 orig ? ">, " : "", a->name, delay, res.dsn, status, log_sanitize(res.text, sizeof(res.text)));
	}
	qstore_msg_close(&m);
	rep.status = res.status == DLV_OK ? DLVPROTO_OK : res.status == DLV_DEFER ? DLVPROTO_DEFER : DLVPROTO_BOUNCE;
	rep.dsn = res.dsn;
	rep.text = res.text;
	if (dlvproto_put_reply(&out, &rep) < 0)
		panic("%s: cannot encode reply dsn=%s", a->name, res.dsn);
	if (fd_write_all(fd, out.data, out.len) < 0)
		log_warn("%s: write reply: %m", a->name);
	buf_free(&out);
}

/* conn_close - forget a connection */
static void conn_close(struct aconn *c)
{
	if (c->next)
		c->next->prevp = c->prevp;
	*c->prevp = c->next;
	event_free(c->ev);
	close(c->fd);
	buf_free(&c->in);
	free(c);
}

/* conn_read - read what is there, handle every whole request */
static void conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct aconn *c = arg;
	char tmp[4096];
	ssize_t n;

	(void)what;
	n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (buf_append(&c->in, tmp, (size_t)n) < 0)
		fatal("%s: request buffer overflow", c->a->name);
	for (;;) {
		const uint8_t *body;
		size_t blen, flen;
		const char *err;
		struct dlvproto_request q;
		struct arena *ar;
		int r = dlvproto_frame(c->in.data, c->in.len, &body, &blen, &flen, &err);

		if (r < 0)
			fatal("%s: bad request from qmgr: %s", c->a->name, err);
		if (r == 0)
			break;
		ar = arena_new(0);
		if (dlvproto_get_request(body, blen, ar, &q, &err) < 0)
			fatal("%s: bad request from qmgr: %s", c->a->name, err);
		handle_request(c->a, fd, &q);
		arena_free(&ar);
		buf_consume(&c->in, flen);
	}
}

/* on_accept - a new connection from the queue manager */
static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct agent *a = arg;
	struct aconn *c;
	int fd;

	(void)what;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("%s: accept: %m", a->name);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->a = a;
	c->fd = fd;
	c->next = a->conns;
	if (c->next)
		c->next->prevp = &c->next;
	c->prevp = &a->conns;
	a->conns = c;
	buf_init(&c->in, 2 * (DLVPROTO_FRAME_MAX + 4));
	c->ev = event_new(a->evb, fd, EV_READ | EV_PERSIST, conn_read, c);
	event_add(c->ev, NULL);
}

/* on_term - SIGTERM/SIGINT: stop */
static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* listen_socket - descriptor 3 from the master, or bind the socket ourselves */
static int listen_socket(struct agent *a)
{
	const char *env = getenv(SERVICE_ENV_LISTEN_FDS);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[4096];
	int fd;

	if (env && *env && strcmp(env, "0") != 0)
		return SERVICE_LISTEN_FD_BASE;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/private", a->qdir) >= sizeof(dir) ||
	    (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", a->qdir, a->socket) >= sizeof(sun.sun_path))
		fatal("queue_directory too long for a socket path");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		fatal("mkdir %s: %m", dir);
	if (a->root && chown(dir, a->owner_uid, a->owner_gid) < 0)
		fatal("chown %s: %m", dir);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %m");
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fatal("bind %s: %m", sun.sun_path);
	if (chmod(sun.sun_path, 0600) < 0 || (a->root && chown(sun.sun_path, a->owner_uid, a->owner_gid) < 0))
		fatal("chmod/chown %s: %m", sun.sun_path);
	if (listen(fd, 64) < 0)
		fatal("listen: %m");
	return fd;
}

/* agent_init - everything an agent needs before its own tables */
void agent_init(struct agent *a, struct cli *cli, const char *name, const char *socket)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const char *err, *owner;
	struct passwd *pw;

	memset(a, 0, sizeof(*a));
	a->name = name;
	a->socket = socket;
	a->owner_uid = (uid_t)-1;
	a->owner_gid = (gid_t)-1;
	log_init("postern", name, LOG_TO_STDERR, NULL, NULL);
	if (!(a->cfg = config_load(cli->config_dir, &dl)) || diag_has_errors(&dl))
		fatal("cannot load the configuration from %s", cli->config_dir);
	diag_free(&dl);
	if (service_log_init(a->cfg, name, LOG_TO_STDERR, &err) < 0)
		log_warn("maillog_file: %s", err);
	a->root = geteuid() == 0;
	a->qdir = config_get(a->cfg, "queue_directory");
	owner = config_get(a->cfg, "mail_owner");
	if (a->root) {
		if (!owner || !(pw = getpwnam(owner)))
			fatal("mail_owner %s: no such user", owner ? owner : "?");
		a->owner_uid = pw->pw_uid;
		a->owner_gid = pw->pw_gid;
		if (setgroups(0, NULL) < 0)
			fatal("setgroups: %m");
	}
	if (!a->qdir)
		fatal("bad configuration for the %s agent: no queue_directory", name);
	if (qstore_open(&a->qs, a->qdir, a->owner_uid, a->owner_gid, &err) < 0)
		fatal("queue %s: %s", a->qdir, err);
}

/* agent_run - the event loop */
int agent_run(struct agent *a)
{
	struct event *lev, *sterm, *sint;
	int lfd;

	signal(SIGPIPE, SIG_IGN);
	lfd = listen_socket(a);
	a->evb = event_base_new();
	lev = event_new(a->evb, lfd, EV_READ | EV_PERSIST, on_accept, a);
	sterm = evsignal_new(a->evb, SIGTERM, on_term, a->evb);
	sint = evsignal_new(a->evb, SIGINT, on_term, a->evb);
	event_add(lev, NULL);
	event_add(sterm, NULL);
	event_add(sint, NULL);
	log_info("daemon started (%s)", a->root ? "root, per-delivery uid switch" : "not root: no uid switch");
	event_base_dispatch(a->evb);
	while (a->conns)
		conn_close(a->conns);
	event_free(lev);
	event_free(sterm);
	event_free(sint);
	event_base_free(a->evb);
	qstore_close(&a->qs);
	config_free(&a->cfg);
	return 0;
}
