/*
 * qmgr.c - `postern service qmgr`: move mail from incoming/ to the mailboxes
 *
 * The queue manager takes a message when smtpd notifies it ("I<id>" datagram
 * on public/qmgr), and by scanning incoming/ at start and every 10 seconds
 * (with any file a crash left in active/, at start): it renames the file into
 * active/ (qstore_take) and examines each pending or deferred recipient:
 *   - virtual_alias_maps expansion (valias_expand); each final address is
 *     tried once per message pass, whatever recipients led to it;
 *   - route_classify() picks a transport from a small table by address class:
 *     virtual mailbox addresses go to "virtual" (private/virtual), local ones to
 *     "local" (private/local); a transport whose agent is missing or refuses the
 *     connection defers (4.3.0). Relay and default addresses are deferred
 *     ("outbound SMTP delivery is not implemented yet"); an address in a
 *     virtual alias domain that no alias matched bounces (5.1.1, Postfix's
 *     "User unknown in virtual alias table").
 * Deliveries are concurrent (qmgr_transport.c): each transport keeps up to
 * <name>_destination_concurrency_limit requests in flight, one per connection
 * to its agent, and this event loop goes on taking messages and reading
 * replies meanwhile. When every final address of a queue-file recipient has an
 * outcome, the recipient is marked (qstore_mark_rcpt): the worst of them
 * (deferred, then bounced, then delivered); the mark's fdatasync runs in
 * qmgr_sync's threads, off the loop. When every recipient of a message is
 * marked and synced: with none left deferred the file is deleted ("ID:
 * removed"), after a bounce (dsn_compose) for the failed ones has been
 * committed to incoming/ as a new message from <> (unless the sender is <> or
 * MAILER-DAEMON). Otherwise the file moves to deferred/ with its next retry
 * time as mtime (qmgr_sched.h: age clamped to the backoff bounds); deferred/ is
 * scanned every 10 seconds for due files, and entirely on an "F" datagram.
 * A message older than maximal_queue_lifetime (bounce_queue_lifetime for <>)
 * has its deferred recipients failed and bounced. hold/ is never scanned.
 * At most qmgr_message_active_limit messages (and no more than half the
 * descriptor limit) are in memory; the rest wait in incoming/ for a scan.
 * On SIGTERM deliveries not sent yet are dropped (their file stays in active/,
 * retried at the next start) and the replies in flight are awaited for up to
 * QMGR_STOP_SECONDS.
 *
 * Exactly once: requests carry DLVPROTO_F_RECHECK for a message recovered
 * after a crash (in active/ at start, or in incoming/ from before the start)
 * and for a deferred recipient whose aliases give several addresses; the
 * agent then looks for an earlier attempt's copy (docs/architecture.md).
 * Forwarding: a local agent reply may name a staged forward (qstore.h): the
 * recipient's mark, naming it, is synced at once, then the forward is released
 * and taken; a deferred recipient's forwards are removed. At start every
 * staged forward is released or removed by what its parent's mark says.
 * Datagrams come from any local user (public/qmgr): an unknown one is logged
 * and ignored, not fatal. A malformed reply from an agent is fatal.
 *
 * Runs in:  qmgr (mail_owner)
 * API:      qmgr_main()  -- see qmgr.h
 * Tests:    tests/e2e/test_delivery.py, tests/e2e/test_crash.py, tests/e2e/test_local.py (forwarding),
 *           tests/unit/test_qmgr_sched.c
 * Refs:     Postfix qmgr(8), qmgr/qmgr_active.c, qmgr_transport.c, bounce(8)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/buf.h"
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
#include "queue/qmgr_fwd.h"
#include "queue/qmgr_sched.h"
#include "queue/qmgr_sync.h"
#include "queue/qmgr_transport.h"
#include "queue/qstore.h"

#define QMGR_SCAN_SECONDS 10
#define QMGR_STOP_SECONDS 10
#define QMGR_BOUNCE_READ_MAX (1024 * 1024)
#define QMGR_SYNC_THREADS 4

/* the transports: which address class goes to which agent socket */
static const struct transport_def {
	const char *name;
	const char *socket;      /* under queue_directory */
	const char *limit_param; /* most requests in flight */
	enum addr_class cls;
} transport_defs[] = {
	{ "virtual", SERVICE_VIRTUAL_SOCKET, "virtual_destination_concurrency_limit", ADDR_CLASS_VIRTUAL_MAILBOX },
	{ "local", SERVICE_LOCAL_SOCKET, "local_destination_concurrency_limit", ADDR_CLASS_LOCAL },
};
#define NTRANSPORTS (sizeof(transport_defs) / sizeof(transport_defs[0]))

/* the state of one queue-file recipient during a pass */
struct qrcpt {
	size_t pending;        /* final addresses without an outcome yet */
	bool examined;         /* every final address is known (submitted or decided) */
	struct qoutcome worst; /* worst outcome so far */
	char fwd[QMGR_FWD_MAX][TIMEID_QUEUE_SIZE]; /* forwards staged by the local agent (qstore.h) */
	size_t nfwd;
};

/* one message in active/ */
struct qjob {
	struct qjob *prev, *next;
	struct qstore_msg *m;
	struct qrcpt *rs;        /* one per queue-file recipient */
	size_t pending;          /* deliveries and mark syncs not done yet */
	bool examining;          /* still expanding its recipients */
	bool broken;             /* a mark failed or a delivery was dropped: do not finish, leave the file in active/ */
	bool recovered;          /* an earlier queue manager may have delivered some of it: DLVPROTO_F_RECHECK */
	struct valias_list seen; /* the final addresses of this pass */
};

struct qmgr {
	struct config *cfg;
	struct qstore qs;
	struct valias *va;
	struct route *rt;
	struct qmgr_times t;
	struct qtransport *tr[NTRANSPORTS];
	struct qsync *sync; /* the fdatasync of recipient marks, off the loop */
	const char *myhostname, *mail_name;
	struct event_base *evb;
	struct event *scan_ev, *stop_ev;
	struct qjob *jobs;
	size_t njobs, max_jobs;
	bool backlog;  /* a message was left in incoming/ because of max_jobs */
	time_t started; /* files older than this may have been handled by an earlier queue manager */
	bool stopping;
};

/* log_outcome - Postfix-style line for outcomes decided here (the agent logs its own) */
static void log_outcome(const char *id, const char *addr, const char *orig, uint64_t arrival_us,
			const struct qoutcome *o)
{
	uint64_t now = time_wall_us();
	bool show_orig = *orig && strcasecmp(orig, addr) != 0;

	log_info("%s: to=<%s>, %s%s%srelay=none, delay=%.2f, dsn=%s, status=%s (%s)", id, log_sanitize(addr, 300),
		 show_orig ? "orig_to=<" : "", show_orig ? log_sanitize(orig, 300) : "", show_orig ? ">, " : "",
		 now > arrival_us ? (double)(now - arrival_us) / 1e6 : 0.0, o->dsn,
		 o->st == DLVPROTO_DEFER ? "deferred" : o->st == DLVPROTO_BOUNCE ? "bounced" : "sent", o->text);
}

/* merge - keep the worse of two outcomes in *w: deferred, then bounced, then delivered */
static void merge(struct qoutcome *w, const struct qoutcome *o)
{
	if (o->st == DLVPROTO_DEFER || (o->st == DLVPROTO_BOUNCE && w->st == DLVPROTO_OK))
		*w = *o;
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
	event_active(q->scan_ev, EV_TIMEOUT, 0); /* take the bounce */
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

		/* the retry time first: a scan never sees the file in deferred/ without it */
		if (futimens(m->fd, ts) < 0)
			log_warn("%s: set retry time: %m", m->id);
		if (qstore_move(&q->qs, m->id, m->queue, QSTORE_DEFERRED, &err) < 0)
			log_warn("%s: %s", m->id, err);
	}
	qstore_msg_close(mp);
}

/* job_free - close and forget a job (the file stays where it is) */
static void job_free(struct qmgr *q, struct qjob *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		q->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	q->njobs--;
	valias_list_free(&j->seen);
	qstore_msg_close(&j->m);
	free(j->rs);
	free(j);
	if (q->backlog && !q->stopping)
		event_active(q->scan_ev, EV_TIMEOUT, 0);
}

/* job_check - finish a job whose every recipient has an outcome */
static void job_check(struct qmgr *q, struct qjob *j)
{
	if (j->examining || j->pending)
		return;
	if (!j->broken)
		finish_msg(q, &j->m);
	job_free(q, j);
}

static void take(struct qmgr *q, enum qstore_queue from, const char *id);

/* fwd_discard - remove the forwards recipient i staged in this pass (it is deferred: the retry forwards again) */
static void fwd_discard(struct qmgr *q, struct qjob *j, size_t i)
{
	struct qrcpt *r = &j->rs[i];
	const char *err;
	size_t k;

	for (k = 0; k < r->nfwd; k++)
		if (qstore_fwd_discard(&q->qs, r->fwd[k], j->m->id, i, &err) < 0)
			log_warn("%s: %s", j->m->id, err);
	r->nfwd = 0;
}

/*
 * fwd_mark - recipient i forwarded: its mark names every forward first (the
 * text is cut at QFILE_TEXT_MAX), synced here, then the forwards are released
 * and taken. 0, or -1 (the job is broken; recovery at the next start decides).
 */
static int fwd_mark(struct qmgr *q, struct qjob *j, size_t i, enum qfile_rcpt_status st)
{
	struct qrcpt *r = &j->rs[i];
	struct buf text = BUF_INIT(0);
	const char *err;
	size_t k;
	int rc = 0;

	qmgr_fwd_text(&text, r->fwd, r->nfwd, r->worst.text);
	if (qstore_mark_rcpt(j->m, i, st, r->worst.dsn, buf_cstr(&text), 0, &err) < 0) {
		log_warn("%s: %s", j->m->id, err);
		j->broken = true;
		rc = -1;
	}
	buf_free(&text);
	for (k = 0; rc == 0 && k < r->nfwd; k++) {
		if (qstore_fwd_release(&q->qs, r->fwd[k], j->m->id, i, &err) < 0) {
			log_warn("%s: %s", j->m->id, err); /* staged and named: the next start releases it */
			j->broken = true;
			continue;
		}
		take(q, QSTORE_INCOMING, r->fwd[k]);
	}
	r->nfwd = 0;
	return rc;
}

/* rcpt_check - mark recipient i once all its final addresses have an outcome; the sync follows */
static void rcpt_check(struct qmgr *q, struct qjob *j, size_t i)
{
	struct qrcpt *r = &j->rs[i];
	const struct qoutcome *o = &r->worst;
	enum qfile_rcpt_status st;
	const char *err;

	/* a job left unfinished (a delivery dropped at stop) still records what was delivered */
	if (!r->examined || r->pending)
		return;
	st = o->st == DLVPROTO_OK ? QFILE_RCPT_DELIVERED : o->st == DLVPROTO_DEFER ? QFILE_RCPT_DEFERRED : QFILE_RCPT_FAILED;
	if (r->nfwd && st == QFILE_RCPT_DEFERRED)
		fwd_discard(q, j, i);
	if (r->nfwd) {
		(void)fwd_mark(q, j, i, st);
		return;
	}
	if (qstore_mark_rcpt(j->m, i, st, o->dsn, o->text, QSTORE_MARK_NOSYNC, &err) < 0) {
		/* cannot record: leave the file in active/; it is retried at the next start */
		log_warn("%s: %s", j->m->id, err);
		j->broken = true;
		return;
	}
	/* durable before the message can be finished (deleted): the job waits for the sync */
	j->pending++;
	qsync_submit(q->sync, j->m->fd, j);
}

/* stop_if_idle - stopping and nothing in flight any more: leave the loop */
static void stop_if_idle(struct qmgr *q)
{
	size_t k, busy = q->sync ? qsync_pending(q->sync) : 0;

	if (!q->stopping)
		return;
	for (k = 0; k < NTRANSPORTS; k++)
		busy += q->tr[k] ? qtransport_inflight(q->tr[k]) : 0;
	if (!busy)
		event_base_loopbreak(q->evb);
}

/* on_synced - a recipient mark is durable (or could not be made so) */
static void on_synced(void *item, int err, void *arg)
{
	struct qmgr *q = arg;
	struct qjob *j = item;

	if (err) {
		log_warn("%s: cannot fsync queue file: %s", j->m->id, strerror(err));
		j->broken = true;
	}
	j->pending--;
	job_check(q, j);
	stop_if_idle(q);
}

/* dlv_free - release a delivery */
static void dlv_free(struct qdlv *d)
{
	free((char *)d->rq.addr);
	free(d);
}

/* on_done - a transport's outcome for one final address */
static void on_done(struct qtransport *t, struct qdlv *d, const struct qoutcome *o, bool agent_logged, void *arg)
{
	struct qmgr *q = arg;
	struct qjob *j = d->owner;

	struct qrcpt *r = &j->rs[d->rcpt];
	struct qoutcome over;

	(void)t;
	if (!agent_logged)
		log_outcome(j->m->id, d->rq.addr, d->rq.orig, j->m->env.arrival_us, o);
	if (*o->forward_id) {
		if (r->nfwd < QMGR_FWD_MAX && strlen(o->forward_id) == TIMEID_QUEUE_LEN) {
			memcpy(r->fwd[r->nfwd++], o->forward_id, TIMEID_QUEUE_SIZE);
		} else {
			const char *err;

			/* its name would not fit in the mark: drop it, and defer (the retry forwards again) */
			if (qstore_fwd_discard(&q->qs, o->forward_id, j->m->id, d->rcpt, &err) < 0)
				log_warn("%s: %s", j->m->id, err);
			qtransport_set_outcome(&over, DLVPROTO_DEFER, "4.3.0", "too many forwards for one recipient");
			o = &over;
		}
	}
	merge(&r->worst, o);
	j->rs[d->rcpt].pending--;
	j->pending--;
	rcpt_check(q, j, d->rcpt);
	dlv_free(d);
	job_check(q, j);
	stop_if_idle(q);
}

/* on_drop - a delivery that will not be sent (stopping): its message stays in active/ */
static void on_drop(struct qdlv *d, void *arg)
{
	struct qmgr *q = arg;
	struct qjob *j = d->owner;

	j->broken = true;
	j->rs[d->rcpt].pending--;
	j->pending--;
	dlv_free(d);
	job_check(q, j);
}

/* try_address - route one final address: submit it to a transport, or decide here */
static void try_address(struct qmgr *q, struct qjob *j, size_t i, const char *final, unsigned flags)
{
	struct route_addr ra;
	struct qoutcome o;
	const char *err;
	const struct qfile_rcpt *r = &j->m->env.rcpts[i];
	size_t k;

	memset(&ra, 0, sizeof(ra));
	if (route_classify(q->rt, final, &ra, &err) < 0) {
		qtransport_set_outcome(&o, DLVPROTO_DEFER, "4.3.0", err);
	} else {
		for (k = 0; k < NTRANSPORTS; k++)
			if (transport_defs[k].cls == ra.cls) {
				struct qdlv *d = xcalloc(1, sizeof(*d));

				d->rq = (struct dlvproto_request){ j->m->id, qstore_queue_name(QSTORE_ACTIVE), (uint32_t)i,
								   ra.address, r->orig, flags };
				ra.address = NULL; /* now the delivery's */
				d->owner = j;
				d->rcpt = i;
				j->rs[i].pending++;
				j->pending++;
				qtransport_submit(q->tr[k], d);
				route_addr_free(&ra);
				return;
			}
		if (ra.cls == ADDR_CLASS_VIRTUAL_ALIAS)
			qtransport_set_outcome(&o, DLVPROTO_BOUNCE, "5.1.1", "User unknown in virtual alias table");
		else
			qtransport_set_outcome(&o, DLVPROTO_DEFER, "4.4.1", "outbound SMTP delivery is not implemented yet");
	}
	log_outcome(j->m->id, final, r->orig, j->m->env.arrival_us, &o);
	merge(&j->rs[i].worst, &o);
	route_addr_free(&ra);
}

/* try_rcpt - expand recipient i and route each new final address */
static void try_rcpt(struct qmgr *q, struct qjob *j, size_t i)
{
	const struct qfile_rcpt *r = &j->m->env.rcpts[i];
	const char *err;
	size_t before = j->seen.n, k;
	int rc = valias_expand(q->va, r->addr, &j->seen, &err);

	qtransport_set_outcome(&j->rs[i].worst, DLVPROTO_OK, "2.0.0", "delivered");
	if (rc < 0) {
		qtransport_set_outcome(&j->rs[i].worst, DLVPROTO_DEFER, "4.3.0", err);
		log_outcome(j->m->id, r->addr, r->orig, j->m->env.arrival_us, &j->rs[i].worst);
	} else {
		/*
		 * Recheck (the agent looks for an earlier copy before writing one) when a
		 * crash may have come between a delivery and its mark, or when an earlier
		 * pass deferred this recipient while delivering some of its addresses.
		 */
		unsigned flags = j->recovered || (r->status == QFILE_RCPT_DEFERRED && j->seen.n - before > 1)
					 ? DLVPROTO_F_RECHECK
					 : 0;

		for (k = before; k < j->seen.n; k++)
			try_address(q, j, i, j->seen.v[k].address, flags);
	}
	j->rs[i].examined = true;
	rcpt_check(q, j, i);
}

/* take - bring q/id into active/ and start its deliveries */
static void take(struct qmgr *q, enum qstore_queue from, const char *id)
{
	struct qstore_msg *m = NULL;
	struct qjob *j;
	const char *err;
	size_t i;
	int rc;

	if (q->stopping)
		return;
	if (q->njobs >= q->max_jobs) {
		q->backlog = true;
		return;
	}
	if (from != QSTORE_ACTIVE && (rc = qstore_take(&q->qs, id, from, &err)) <= 0) {
		if (rc < 0)
			log_warn("%s", err);
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
	j = xcalloc(1, sizeof(*j));
	j->m = m;
	{
		struct stat st;

		/* in active/ at start, or committed before we started: its rename into active/ may be lost */
		j->recovered = from == QSTORE_ACTIVE ||
			       (from == QSTORE_INCOMING && (fstat(m->fd, &st) != 0 || st.st_mtime <= q->started));
	}
	j->rs = xcalloc(m->env.nrcpt ? m->env.nrcpt : 1, sizeof(*j->rs));
	j->examining = true;
	valias_list_init(&j->seen);
	j->next = q->jobs;
	if (q->jobs)
		q->jobs->prev = j;
	q->jobs = j;
	q->njobs++;
	for (i = 0; i < m->env.nrcpt; i++) {
		const struct qfile_rcpt *r = &m->env.rcpts[i];

		if (r->status == QFILE_RCPT_PENDING || r->status == QFILE_RCPT_DEFERRED)
			try_rcpt(q, j, i);
	}
	j->examining = false;
	job_check(q, j);
}

/* run_queue - take every file of queue qu (deferred: only the due ones unless all) */
static void run_queue(struct qmgr *q, enum qstore_queue qu, bool all)
{
	struct qstore_ids ids;
	const char *err;
	time_t now = time(NULL);
	size_t i;

	if (qu == QSTORE_INCOMING)
		q->backlog = false;
	if (qstore_scan(&q->qs, qu, &ids, &err) < 0) {
		log_warn("scan %s: %s", qstore_queue_name(qu), err);
		return;
	}
	for (i = 0; i < ids.n && !q->stopping; i++) {
		struct stat st;

		if (q->njobs >= q->max_jobs) {
			q->backlog = true;
			break;
		}
		if (qu == QSTORE_DEFERRED && !all &&
		    (fstatat(q->qs.dirfd[qu], ids.id[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_mtime > now))
			continue;
		take(q, qu, ids.id[i]);
	}
	qstore_ids_free(&ids);
}

/* on_scan - scan incoming/ (after a bounce was queued, or when room was made for a backlog) */
static void on_scan(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;

	(void)fd;
	(void)what;
	if (!q->stopping)
		run_queue(q, QSTORE_INCOMING, true);
}

/* on_timer - periodic scan */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;

	(void)fd;
	(void)what;
	run_queue(q, QSTORE_INCOMING, true);
	run_queue(q, QSTORE_DEFERRED, false);
}

/* on_datagram - "I<id>" (take that message) or "F" (flush) */
static void on_datagram(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;
	char d[64];
	ssize_t n;

	(void)what;
	while ((n = recv(fd, d, sizeof(d) - 1, MSG_DONTWAIT)) > 0) {
		d[n] = '\0';
		if (d[0] == QMGR_MSG_NEW && n == TIMEID_QUEUE_LEN + 1 && strlen(d) == (size_t)n)
			take(q, QSTORE_INCOMING, d + 1);
		else if (d[0] == QMGR_MSG_NEW)
			run_queue(q, QSTORE_INCOMING, true);
		else if (d[0] == QMGR_MSG_FLUSH && n == 1) {
			run_queue(q, QSTORE_INCOMING, true);
			run_queue(q, QSTORE_DEFERRED, true);
		} else
			log_warn("ignoring an unknown request on %s", SERVICE_QMGR_SOCKET);
	}
}

/* on_stop_deadline - replies did not come in time: stop anyway (their files stay in active/) */
static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* on_term - stop taking work, drop what was not sent, wait for the replies and syncs in flight */
static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct qmgr *q = arg;
	struct timeval tv = { QMGR_STOP_SECONDS, 0 };
	size_t k;

	(void)sig;
	(void)what;
	if (q->stopping)
		return;
	q->stopping = true;
	for (k = 0; k < NTRANSPORTS; k++)
		qtransport_drop_queued(q->tr[k], on_drop, q);
	event_add(q->stop_ev, &tv);
	stop_if_idle(q);
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

/* setup - read the configuration, open tables, queue and transports */
static void setup(struct qmgr *q, struct cli *cli, const char **qdir_r)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct rlimit rl;
	const char *qdir, *err;
	size_t k;

	if (!(q->cfg = config_load(cli->config_dir, &dl)) || diag_has_errors(&dl))
		fatal("cannot load the configuration from %s", cli->config_dir);
	diag_free(&dl);
	if (service_log_init(q->cfg, "qmgr", LOG_TO_STDERR, &err) < 0)
		log_warn("maillog_file: %s", err);
	q->started = time(NULL);
	if (!(qdir = config_get(q->cfg, "queue_directory")))
		fatal("no queue_directory");
	q->myhostname = config_get(q->cfg, "myhostname");
	q->mail_name = config_get(q->cfg, "mail_name");
	q->t.min_backoff = service_time(q->cfg, "minimal_backoff_time");
	q->t.max_backoff = service_time(q->cfg, "maximal_backoff_time");
	q->t.max_lifetime = service_time(q->cfg, "maximal_queue_lifetime");
	q->t.bounce_lifetime = service_time(q->cfg, "bounce_queue_lifetime");
	q->max_jobs = (size_t)service_int(q->cfg, "qmgr_message_active_limit");
	/* each message in memory holds its queue file open */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && q->max_jobs > rl.rlim_cur / 2)
		q->max_jobs = (size_t)(rl.rlim_cur / 2);
	if (q->max_jobs < 1)
		q->max_jobs = 1;
	if (!(q->va = valias_open(q->cfg, &err)))
		fatal("virtual_alias_maps: %s", err);
	if (!(q->rt = route_open(q->cfg, NULL, &err)))
		fatal("%s", err);
	if (qstore_open(&q->qs, qdir, (uid_t)-1, (gid_t)-1, &err) < 0)
		fatal("queue %s: %s", qdir, err);
	qstore_clean_temp(&q->qs, 3600);
	q->evb = event_base_new();
	q->sync = qsync_new(q->evb, QMGR_SYNC_THREADS, on_synced, q);
	for (k = 0; k < NTRANSPORTS; k++) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", qdir, transport_defs[k].socket) >= sizeof(path))
			fatal("queue_directory too long for a socket path");
		q->tr[k] = qtransport_new(q->evb, transport_defs[k].name, path,
					  service_concurrency(q->cfg, transport_defs[k].limit_param), on_done, q);
	}
	*qdir_r = qdir;
}

/* qmgr_main - `postern service qmgr` */
int qmgr_main(struct cli *cli, int argc, char **argv)
{
	struct qmgr q;
	struct event *dev, *tev, *sterm, *sint;
	struct timeval tv = { QMGR_SCAN_SECONDS, 0 };
	const char *qdir;
	size_t k;
	int dfd;

	(void)argc;
	(void)argv;
	memset(&q, 0, sizeof(q));
	log_init("postern", "qmgr", LOG_TO_STDERR, NULL, NULL);
	setup(&q, cli, &qdir);
	signal(SIGPIPE, SIG_IGN);
	dfd = bind_public(qdir);
	dev = event_new(q.evb, dfd, EV_READ | EV_PERSIST, on_datagram, &q);
	tev = event_new(q.evb, -1, EV_PERSIST, on_timer, &q);
	q.scan_ev = event_new(q.evb, -1, 0, on_scan, &q);
	q.stop_ev = event_new(q.evb, -1, 0, on_stop_deadline, q.evb);
	sterm = evsignal_new(q.evb, SIGTERM, on_term, &q);
	sint = evsignal_new(q.evb, SIGINT, on_term, &q);
	event_add(dev, NULL);
	event_add(tev, &tv);
	event_add(sterm, NULL);
	event_add(sint, NULL);
	log_info("daemon started (%zu virtual, %zu local deliveries at a time)", service_concurrency(q.cfg, transport_defs[0].limit_param),
		 service_concurrency(q.cfg, transport_defs[1].limit_param));
	qmgr_fwd_recover(&q.qs);
	run_queue(&q, QSTORE_ACTIVE, true);
	on_timer(-1, 0, &q);
	event_base_dispatch(q.evb);
	q.stopping = true;
	for (k = 0; k < NTRANSPORTS; k++)
		qtransport_free(&q.tr[k], on_drop, &q);
	qsync_free(&q.sync); /* reports the last syncs: their messages may still be finished */
	while (q.jobs)
		job_free(&q, q.jobs);
	event_free(dev);
	event_free(tev);
	event_free(q.scan_ev);
	event_free(q.stop_ev);
	event_free(sterm);
	event_free(sint);
	event_base_free(q.evb);
	close(dfd);
	valias_free(&q.va);
	route_free(&q.rt);
	qstore_close(&q.qs);
	config_free(&q.cfg);
	return 0;
}
