/*
 * qmgr.c - `postern service qmgr`: move mail from incoming/ to the mailboxes
 *
 * At start, every 10 seconds and on an "I<id>" datagram on public/qmgr the
 * queue manager takes each file of incoming/ (and any left in active/ by a
 * crash), moves it to active/ and tries each pending or deferred recipient:
 *   - virtual_alias_maps expansion (valias_expand); each final address is
 *     tried once per message pass, whatever recipients led to it;
 *   - route_classify(): virtual mailbox addresses go to the virtual agent over
 *     private/virtual (dlvproto; connected lazily, unavailable = defer); local
 *     addresses (mydestination) to the local agent over private/local, the
 *     same way; relay and default ones are deferred ("outbound SMTP delivery
 *     is not implemented yet");
 *     an address in a virtual alias domain that no alias matched bounces
 *     (5.1.1, Postfix's "User unknown in virtual alias table").
 * The outcome of each queue-file recipient is marked durably (qstore_mark_rcpt)
 * before the next one: the worst of its final addresses (deferred, then
 * bounced, then delivered). When no recipient is left deferred the file is
 * deleted ("ID: removed"), after a bounce (dsn_compose) for the failed ones has
 * been committed to incoming/ as a new message from <> (unless the sender is <>
 * or MAILER-DAEMON). Otherwise the file moves to deferred/ with its next retry
 * time as mtime (qmgr_sched.h: age clamped to the backoff bounds); deferred/ is
 * scanned every 10 seconds for due files, and entirely on an "F" datagram.
 * A message older than maximal_queue_lifetime (bounce_queue_lifetime for <>)
 * has its deferred recipients failed and bounced. hold/ is never scanned.
 *
 * Limits of this version (documented, not hidden):
 *   - one delivery at a time (the agent call blocks the loop);
 *   - when an alias expands to several addresses and only some of them are
 *     deferred, the whole queue-file recipient is deferred and the addresses
 *     that succeeded are delivered again at the retry (the queue file holds
 *     one status per original recipient).
 * Datagrams come from any local user (public/qmgr): an unknown one is logged
 * and ignored, not fatal. A malformed reply from the agent is fatal.
 *
 * Runs in:  qmgr (mail_owner)
 * API:      qmgr_main()  -- see qmgr.h
 * Tests:    tests/e2e/test_delivery.py, tests/unit/test_qmgr_sched.c
 * Refs:     Postfix qmgr(8), qmgr/qmgr_active.c, bounce(8)
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/buf.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/timeid.h"
#include "lib/xalloc.h"
#include "libmail/svclog.h"
#include "libmail/config.h"
#include "libmail/diag.h"
#include "libmail/dsn.h"
#include "libmail/resolve.h"
#include "libmail/valias.h"
#include "master/service.h"
#include "queue/dlvproto.h"
#include "queue/qmgr.h"
#include "queue/qmgr_sched.h"
#include "queue/qstore.h"

#define QMGR_SCAN_SECONDS 10
#define QMGR_BOUNCE_READ_MAX (1024 * 1024)

struct qmgr {
	struct config *cfg;
	struct qstore qs;
	struct valias *va;
	struct route *rt;
	struct qmgr_times t;
	int vfd; /* connection to the virtual agent, -1 when none */
	char vpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd; /* connection to the local agent, -1 when none */
	char lpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *myhostname, *mail_name;
	struct event_base *evb;
	bool rescan;
};

/* outcome of one address */
struct outcome {
	enum dlvproto_status st;
	char dsn[16];
	char text[DLVPROTO_TEXT_MAX + 1];
};

/* set_outcome - fill an outcome */
static void set_outcome(struct outcome *o, enum dlvproto_status st, const char *dsn, const char *text)
{
	o->st = st;
	snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
	snprintf(o->text, sizeof(o->text), "%s", text);
}

/* agent_close - forget an agent connection */
static void agent_close(int *fdp)
{
	if (*fdp >= 0)
		close(*fdp);
	*fdp = -1;
}

/* read_exact - n bytes or -1 */
static int read_exact(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* agent_call - one request to agent name (connection *fdp, socket path); fills o (unavailable: defer) */
static void agent_call(int *fdp, const char *path, const char *name, const struct dlvproto_request *rq,
		       struct outcome *o)
{
	char text[DLVPROTO_TEXT_MAX];
	struct buf b = BUF_INIT(0);
	uint8_t hdr[4];
	const uint8_t *bp;
	size_t blen, flen;
	const char *err;
	struct dlvproto_reply rp;
	struct arena *a;
	uint32_t len;

	if (*fdp < 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		struct timeval tv = { 600, 0 };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		*fdp = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (*fdp < 0 || connect(*fdp, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			snprintf(text, sizeof(text), "delivery agent %s is unavailable", name);
			set_outcome(o, DLVPROTO_DEFER, "4.3.0", text);
			log_warn("connect to %s: %m", path);
			agent_close(fdp);
			return;
		}
		setsockopt(*fdp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (dlvproto_put_request(&b, rq) < 0) {
		set_outcome(o, DLVPROTO_BOUNCE, "5.1.3", "recipient address too long or malformed");
		buf_free(&b);
		return;
	}
	snprintf(text, sizeof(text), "lost connection with the %s delivery agent", name);
	if (fd_write_all(*fdp, b.data, b.len) < 0 || read_exact(*fdp, hdr, 4) < 0) {
		set_outcome(o, DLVPROTO_DEFER, "4.3.0", text);
		agent_close(fdp);
		buf_free(&b);
		return;
	}
	buf_free(&b);
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len < 2 || len > DLVPROTO_FRAME_MAX)
		fatal("qmgr: bad reply length %u from %s", (unsigned)len, name);
	{
		uint8_t frame[DLVPROTO_FRAME_MAX + 4];

		memcpy(frame, hdr, 4);
		if (read_exact(*fdp, frame + 4, len) < 0) {
			set_outcome(o, DLVPROTO_DEFER, "4.3.0", text);
			agent_close(fdp);
			return;
		}
		if (dlvproto_frame(frame, len + 4, &bp, &blen, &flen, &err) != 1)
			fatal("qmgr: bad reply from %s", name);
		a = arena_new(0);
		if (dlvproto_get_reply(bp, blen, a, &rp, &err) < 0)
			fatal("qmgr: bad reply from %s: %s", name, err);
		set_outcome(o, rp.status, rp.dsn, rp.text);
		arena_free(&a);
	}
}

/* log_outcome - Postfix-style line for outcomes decided here (the agent logs its own) */
static void log_outcome(const char *id, const char *addr, const char *orig, uint64_t arrival_us,
			const struct outcome *o)
{
	uint64_t now = time_wall_us();
	bool show_orig = *orig && strcasecmp(orig, addr) != 0;

	log_info("%s: to=<%s>, %s%s%srelay=none, delay=%.2f, dsn=%s, status=%s (%s)", id, log_sanitize(addr, 300),
		 show_orig ? "orig_to=<" : "", show_orig ? log_sanitize(orig, 300) : "", show_orig ? ">, " : "",
		 now > arrival_us ? (double)(now - arrival_us) / 1e6 : 0.0, o->dsn,
		 o->st == DLVPROTO_DEFER ? "deferred" : o->st == DLVPROTO_BOUNCE ? "bounced" : "sent", o->text);
}

/* try_address - deliver one final address */
static void try_address(struct qmgr *q, struct qstore_msg *m, size_t i, const char *final, struct outcome *o)
{
	struct route_addr ra;
	const char *err;
	const struct qfile_rcpt *r = &m->env.rcpts[i];

	memset(&ra, 0, sizeof(ra));
	if (route_classify(q->rt, final, &ra, &err) < 0) {
		set_outcome(o, DLVPROTO_DEFER, "4.3.0", err);
	} else if (ra.cls == ADDR_CLASS_VIRTUAL_MAILBOX) {
		struct dlvproto_request rq = { m->id, qstore_queue_name(m->queue), (uint32_t)i, ra.address, r->orig };

		agent_call(&q->vfd, q->vpath, "virtual", &rq, o);
		route_addr_free(&ra);
		return;
	} else if (ra.cls == ADDR_CLASS_LOCAL) {
		struct dlvproto_request rq = { m->id, qstore_queue_name(m->queue), (uint32_t)i, ra.address, r->orig };

		agent_call(&q->lfd, q->lpath, "local", &rq, o);
		route_addr_free(&ra);
		return;
	} else if (ra.cls == ADDR_CLASS_VIRTUAL_ALIAS) {
		set_outcome(o, DLVPROTO_BOUNCE, "5.1.1", "User unknown in virtual alias table");
	} else {
		set_outcome(o, DLVPROTO_DEFER, "4.4.1", "outbound SMTP delivery is not implemented yet");
	}
	log_outcome(m->id, final, r->orig, m->env.arrival_us, o);
	route_addr_free(&ra);
}

/* try_rcpt - expand recipient i and deliver each new final address; o = the worst outcome */
static void try_rcpt(struct qmgr *q, struct qstore_msg *m, size_t i, struct valias_list *seen, struct outcome *o)
{
	const char *err;
	size_t before = seen->n, k;
	int r = valias_expand(q->va, m->env.rcpts[i].addr, seen, &err);

	set_outcome(o, DLVPROTO_OK, "2.0.0", "delivered");
	if (r < 0) {
		set_outcome(o, DLVPROTO_DEFER, "4.3.0", err);
		log_outcome(m->id, m->env.rcpts[i].addr, m->env.rcpts[i].orig, m->env.arrival_us, o);
		return;
	}
	for (k = before; k < seen->n; k++) {
		struct outcome one;

		try_address(q, m, i, seen->v[k].address, &one);
		if (one.st == DLVPROTO_DEFER || (one.st == DLVPROTO_BOUNCE && o->st == DLVPROTO_OK))
			*o = one;
	}
}

/* enqueue_bounce - compose a non-delivery notification for m's failed recipients into incoming/ */
static void enqueue_bounce(struct qmgr *q, struct qstore_msg *m)
{
	struct dsn_rcpt *dr = xcalloc(m->env.nrcpt, sizeof(*dr));
	struct dsn_report rep;
	struct buf out = BUF_INIT(0);
	size_t n = 0, i, clen = m->env.content_size > QMGR_BOUNCE_READ_MAX ? QMGR_BOUNCE_READ_MAX : m->env.content_size;
	char *content = xmalloc(clen + 1);
	struct qfile_env env;
	struct qfile_rcpt rc;
	struct qstore_file *f = NULL;
	const char *err;
	char unique[64];

	for (i = 0; i < m->env.nrcpt; i++)
		if (m->env.rcpts[i].status == QFILE_RCPT_FAILED) {
			dr[n].final = m->env.rcpts[i].addr;
			dr[n].original = m->env.rcpts[i].orig;
			dr[n].action = "failed";
			dr[n].status = m->env.rcpts[i].dsn;
			dr[n].diagnostic = m->env.rcpts[i].text;
			n++;
		}
	if (pread(m->fd, content, clen, (off_t)m->env.content_offset) != (ssize_t)clen)
		clen = 0;
	snprintf(unique, sizeof(unique), "%s.%llu", m->id, (unsigned long long)time_wall_us());
	memset(&rep, 0, sizeof(rep));
	rep.reporting_mta = q->myhostname;
	rep.mail_name = q->mail_name;
	rep.queue_id = m->id;
	rep.sender = m->env.sender;
	rep.arrival = (time_t)(m->env.arrival_us / 1000000);
	rep.now = time(NULL);
	rep.rcpts = dr;
	rep.n_rcpts = n;
	rep.content = content;
	rep.content_len = clen;
	rep.return_limit = 50000;
	rep.headers_only = m->env.params.ret == QFILE_RET_HDRS || clen < m->env.content_size;
	rep.unique = unique;
	memset(&env, 0, sizeof(env));
	env.sender = "";
	env.client = (struct qfile_client){ "", "localhost", "", "local", "" };
	env.params.envid = "";
	memset(&rc, 0, sizeof(rc));
	rc.orig = m->env.sender;
	rc.addr = m->env.sender;
	rc.orcpt = "";
	rc.status = QFILE_RCPT_PENDING;
	rc.text = "";
	if (dsn_compose(&out, &rep) < 0 || qstore_begin(&q->qs, &env, &f, &err) < 0 ||
	    qstore_add_rcpt(f, &rc, &err) < 0 || qstore_append(f, out.data, out.len, &err) < 0 ||
	    qstore_finish(f, &err) < 0 || qstore_commit(f, &err) < 0) {
		/* the original stays queued: we retry the bounce later rather than lose it */
		fatal("%s: cannot queue the non-delivery notification", m->id);
	}
	log_info("%s: sender non-delivery notification: %s", qstore_file_id(f), m->id);
	qstore_file_free(&f);
	q->rescan = true;
	buf_free(&out);
	free(content);
	free(dr);
}

/* finish_msg - delete, or defer with the next retry time */
static void finish_msg(struct qmgr *q, struct qstore_msg **mp)
{
	struct qstore_msg *m = *mp;
	size_t i, deferred = 0, failed = 0;
	int64_t now = (int64_t)time(NULL), arrival = (int64_t)(m->env.arrival_us / 1000000);
	const char *err;

	for (i = 0; i < m->env.nrcpt; i++)
		deferred += m->env.rcpts[i].status == QFILE_RCPT_DEFERRED;
	if (deferred && qmgr_expired(&q->t, arrival, now, *m->env.sender == '\0')) {
		for (i = 0; i < m->env.nrcpt; i++) {
			struct qfile_rcpt *r = &m->env.rcpts[i];
			char text[QFILE_TEXT_MAX + 1];

			if (r->status != QFILE_RCPT_DEFERRED)
				continue;
			snprintf(text, sizeof(text), "delivery time expired: %s", r->text);
			log_info("%s: to=<%s>, relay=none, dsn=4.4.7, status=expired, returned to sender (%s)", m->id,
				 log_sanitize(r->addr, 300), r->text);
			if (qstore_mark_rcpt(m, i, QFILE_RCPT_FAILED, "5.4.7", text, 0, &err) < 0) {
				log_warn("%s: %s", m->id, err);
				qstore_msg_close(mp);
				return;
			}
		}
		deferred = 0;
	}
	for (i = 0; i < m->env.nrcpt; i++)
		failed += m->env.rcpts[i].status == QFILE_RCPT_FAILED;
	if (deferred == 0) {
		if (failed && dsn_should_bounce(m->env.sender))
			enqueue_bounce(q, m);
		if (qstore_delete(&q->qs, m->queue, m->id, &err) < 0)
			log_warn("%s: %s", m->id, err);
		else
			log_info("%s: removed", m->id);
	} else {
		int64_t next = now + qmgr_backoff(&q->t, arrival, now);
		struct timespec ts[2] = { { next, 0 }, { next, 0 } };

		if (qstore_move(&q->qs, m->id, m->queue, QSTORE_DEFERRED, &err) < 0)
			log_warn("%s: %s", m->id, err);
		else if (utimensat(q->qs.dirfd[QSTORE_DEFERRED], m->id, ts, 0) < 0)
			log_warn("%s: set retry time: %m", m->id);
	}
	qstore_msg_close(mp);
}

/* deliver_msg - take q/id into active/ and try its recipients */
static void deliver_msg(struct qmgr *q, enum qstore_queue from, const char *id)
{
	struct qstore_msg *m = NULL;
	struct valias_list seen;
	const char *err;
	size_t i;
	int rc;

	if (from != QSTORE_ACTIVE && qstore_move(&q->qs, id, from, QSTORE_ACTIVE, &err) < 0) {
		log_warn("%s: %s", id, err);
		return;
	}
	rc = qstore_msg_open(&q->qs, QSTORE_ACTIVE, id, true, &m, &err);
	if (rc == QSTORE_OPEN_CORRUPT) {
		log_warn("%s: %s: moved to corrupt/", id, err);
		if (qstore_move(&q->qs, id, QSTORE_ACTIVE, QSTORE_CORRUPT, &err) < 0)
			log_warn("%s: %s", id, err);
		return;
	}
	if (rc != QSTORE_OPEN_OK) {
		log_warn("%s", err);
		return;
	}
	if (from == QSTORE_INCOMING)
		log_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)", id, log_sanitize(m->env.sender, 300),
			 (unsigned long long)m->env.content_size, m->env.nrcpt);
	valias_list_init(&seen);
	for (i = 0; i < m->env.nrcpt; i++) {
		struct qfile_rcpt *r = &m->env.rcpts[i];
		struct outcome o;
		enum qfile_rcpt_status st;

		if (r->status != QFILE_RCPT_PENDING && r->status != QFILE_RCPT_DEFERRED)
			continue;
		try_rcpt(q, m, i, &seen, &o);
		st = o.st == DLVPROTO_OK ? QFILE_RCPT_DELIVERED : o.st == DLVPROTO_DEFER ? QFILE_RCPT_DEFERRED : QFILE_RCPT_FAILED;
		if (qstore_mark_rcpt(m, i, st, o.dsn, o.text, 0, &err) < 0) {
			/* cannot record: stop here; the file stays in active/ and is retried at the next scan */
			log_warn("%s: %s", id, err);
			valias_list_free(&seen);
			qstore_msg_close(&m);
			return;
		}
	}
	valias_list_free(&seen);
	finish_msg(q, &m);
}

/* run_queue - deliver every file of queue qu (deferred: only the due ones unless all) */
static void run_queue(struct qmgr *q, enum qstore_queue qu, bool all)
{
	struct qstore_ids ids;
	const char *err;
	time_t now = time(NULL);
	size_t i;

	if (qstore_scan(&q->qs, qu, &ids, &err) < 0) {
		log_warn("scan %s: %s", qstore_queue_name(qu), err);
		return;
	}
	for (i = 0; i < ids.n; i++) {
		struct stat st;

		if (qu == QSTORE_DEFERRED && !all &&
		    (fstatat(q->qs.dirfd[qu], ids.id[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_mtime > now))
			continue;
		deliver_msg(q, qu, ids.id[i]);
	}
	qstore_ids_free(&ids);
}

/* run_incoming - incoming/ until no bounce was added */
static void run_incoming(struct qmgr *q)
{
	do {
		q->rescan = false;
		run_queue(q, QSTORE_INCOMING, true);
	} while (q->rescan);
}

/* on_timer - periodic scan */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;

	(void)fd;
	(void)what;
	run_incoming(q);
	run_queue(q, QSTORE_DEFERRED, false);
	run_incoming(q);
}

/* on_datagram - "I<id>" or "F" */
static void on_datagram(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;
	char d[64];
	ssize_t n;

	(void)what;
	while ((n = recv(fd, d, sizeof(d), MSG_DONTWAIT)) > 0) {
		if (d[0] == QMGR_MSG_NEW)
			run_incoming(q);
		else if (d[0] == QMGR_MSG_FLUSH && n == 1) {
			run_incoming(q);
			run_queue(q, QSTORE_DEFERRED, true);
			run_incoming(q);
		} else
			log_warn("ignoring an unknown request on %s", SERVICE_QMGR_SOCKET);
	}
}

/* on_term - stop */
static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* bind_public - descriptor 3 from the master, or bind public/qmgr here (mode 0666: anyone may notify) */
static int bind_public(const char *qdir)
{
	const char *env = getenv(SERVICE_ENV_LISTEN_FDS);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[4096];
	int fd;

	if (env && *env && strcmp(env, "0") != 0)
		return SERVICE_LISTEN_FD_BASE;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/public", qdir) >= sizeof(dir) ||
	    (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", qdir, SERVICE_QMGR_SOCKET) >=
		    sizeof(sun.sun_path))
		fatal("queue_directory too long for a socket path");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fatal("mkdir %s: %m", dir);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %m");
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(sun.sun_path, 0666) < 0)
		fatal("bind %s: %m", sun.sun_path);
	return fd;
}

/* get_time - a TIME parameter or fatal */
static int64_t get_time(struct config *cfg, const char *name)
{
	int64_t v;
	const char *err;

	if (config_get_time(cfg, name, &v, &err) < 0)
		fatal("%s", err);
	return v;
}

/* qmgr_main - `postern service qmgr` */
int qmgr_main(struct cli *cli, int argc, char **argv)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct qmgr q;
	struct event *dev, *tev, *sterm, *sint;
	struct timeval tv = { QMGR_SCAN_SECONDS, 0 };
	const char *qdir, *err;
	int dfd;

	(void)argc;
	(void)argv;
	memset(&q, 0, sizeof(q));
	q.vfd = q.lfd = -1;
	log_init("postern", "qmgr", LOG_TO_STDERR, NULL, NULL);
	if (!(q.cfg = config_load(cli->config_dir, &dl)) || diag_has_errors(&dl))
		fatal("cannot load the configuration from %s", cli->config_dir);
	diag_free(&dl);
	if (service_log_init(q.cfg, "qmgr", LOG_TO_STDERR, &err) < 0)
		log_warn("maillog_file: %s", err);
	if (!(qdir = config_get(q.cfg, "queue_directory")))
		fatal("no queue_directory");
	q.myhostname = config_get(q.cfg, "myhostname");
	q.mail_name = config_get(q.cfg, "mail_name");
	q.t.min_backoff = get_time(q.cfg, "minimal_backoff_time");
	q.t.max_backoff = get_time(q.cfg, "maximal_backoff_time");
	q.t.max_lifetime = get_time(q.cfg, "maximal_queue_lifetime");
	q.t.bounce_lifetime = get_time(q.cfg, "bounce_queue_lifetime");
	if (!(q.va = valias_open(q.cfg, &err)))
		fatal("virtual_alias_maps: %s", err);
	if (!(q.rt = route_open(q.cfg, NULL, &err)))
		fatal("%s", err);
	if (qstore_open(&q.qs, qdir, (uid_t)-1, (gid_t)-1, &err) < 0)
		fatal("queue %s: %s", qdir, err);
	qstore_clean_temp(&q.qs, 3600);
	if ((size_t)snprintf(q.vpath, sizeof(q.vpath), "%s/%s", qdir, SERVICE_VIRTUAL_SOCKET) >= sizeof(q.vpath) ||
	    (size_t)snprintf(q.lpath, sizeof(q.lpath), "%s/%s", qdir, SERVICE_LOCAL_SOCKET) >= sizeof(q.lpath))
		fatal("queue_directory too long for a socket path");
	signal(SIGPIPE, SIG_IGN);
	dfd = bind_public(qdir);
	q.evb = event_base_new();
	dev = event_new(q.evb, dfd, EV_READ | EV_PERSIST, on_datagram, &q);
	tev = event_new(q.evb, -1, EV_PERSIST, on_timer, &q);
	sterm = evsignal_new(q.evb, SIGTERM, on_term, q.evb);
	sint = evsignal_new(q.evb, SIGINT, on_term, q.evb);
	event_add(dev, NULL);
	event_add(tev, &tv);
	event_add(sterm, NULL);
	event_add(sint, NULL);
	log_info("daemon started");
	run_queue(&q, QSTORE_ACTIVE, true);
	on_timer(-1, 0, &q);
	event_base_dispatch(q.evb);
	event_free(dev);
	event_free(tev);
	event_free(sterm);
	event_free(sint);
	event_base_free(q.evb);
	agent_close(&q.vfd);
	agent_close(&q.lfd);
	close(dfd);
	valias_free(&q.va);
	route_free(&q.rt);
	qstore_close(&q.qs);
	config_free(&q.cfg);
	return 0;
}
