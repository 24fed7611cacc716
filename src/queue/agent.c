/*
 * agent.c - the request loop and helpers shared by the delivery agents
 *
 * Concurrency (agent_run): the process forks <name>_destination_concurrency_limit
 * workers (at most default_process_limit: the queue manager opens at most as
 * many connections). Each worker accepts one connection on the shared
 * non-blocking listener and serves it until the queue manager closes it, so
 * deliveries run in parallel and their fsyncs share the file system's journal
 * commits. Processes, not threads: the effective uid is per process. SIGTERM
 * and SIGINT are blocked except inside ppoll(), so a worker finishes the
 * request in hand before it exits. The parent only supervises: it forwards
 * SIGTERM, and when a worker ends on its own (fatal error, crash) it stops the
 * others and exits 1 so that the master restarts the service. A worker dies
 * with its parent (PR_SET_PDEATHSIG).
 *
 * Runs in:  virtual, local (root when the master is root; effective ids per delivery)
 * API:      see agent.h
 * Tests:    tests/e2e/test_delivery.py, tests/e2e/test_local.py
 * Refs:     Postfix virtual/virtual.c, local/local.c, util/set_eugid.c
 */
#include "queue/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
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

/* addr_hash - FNV-1a 64 of an address folded to lower case */
static uint64_t addr_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		h ^= (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* agent_mailbox - Maildir for a trailing '/', else mbox */
void agent_mailbox(const char *path, const struct buf *pre, struct qstore_msg *m, const char *rcpt, bool recheck,
		   const struct dlv_owner *own, struct dlv_result *res)
{
	char key[TIMEID_QUEUE_SIZE + 20];
	struct dlv_msg msg = { buf_cstr(pre), pre->len, m->fd, m->env.content_offset, m->env.content_size,
			       key, m->env.arrival_us, recheck };
	size_t n = strlen(path);

	/* one delivery: this queue file to this address (see maildir.h) */
	snprintf(key, sizeof(key), "Q%sA%016llx", m->id, (unsigned long long)addr_hash(rcpt));

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
	rep.forward_id = res.forward_id;
	if (dlvproto_put_reply(&out, &rep) < 0)
		panic("%s: cannot encode reply dsn=%s", a->name, res.dsn);
	if (fd_write_all(fd, out.data, out.len) < 0)
		log_warn("%s: write reply: %m", a->name);
	buf_free(&out);
}

static volatile sig_atomic_t stop_requested; /* a worker got SIGTERM or SIGINT */

/* on_stop - SIGTERM/SIGINT in a worker: finish the request in hand, then exit */
static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* wait_readable - poll fd with the stop signals unblocked; 1 readable, 0 stop requested or timeout */
static int wait_readable(int fd, const sigset_t *open_mask, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };

	for (;;) {
		int r;

		if (stop_requested && timeout_ms != 0)
			return 0;
		r = ppoll(&p, 1, timeout_ms < 0 ? NULL : &ts, open_mask);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			fatal("agent: poll: %m");
	}
}

/* serve - one connection from the queue manager: its requests in order, until EOF or a stop */
static void serve(struct agent *a, int fd, const sigset_t *open_mask)
{
	struct buf in = BUF_INIT(2 * (DLVPROTO_FRAME_MAX + 4));
	char tmp[4096];

	for (;;) {
		ssize_t n;

		/* stopping: only what the queue manager has already sent is still served */
		if (!wait_readable(fd, open_mask, stop_requested ? 0 : -1))
			break;
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (buf_append(&in, tmp, (size_t)n) < 0)
			fatal("%s: request buffer overflow", a->name);
		for (;;) {
			const uint8_t *body;
			size_t blen, flen;
			const char *err;
			struct dlvproto_request q;
			struct arena *ar;
			int r = dlvproto_frame(in.data, in.len, &body, &blen, &flen, &err);

			if (r < 0)
				fatal("%s: bad request from qmgr: %s", a->name, err);
			if (r == 0)
				break;
			ar = arena_new(0);
			if (dlvproto_get_request(body, blen, ar, &q, &err) < 0)
				fatal("%s: bad request from qmgr: %s", a->name, err);
			handle_request(a, fd, &q);
			arena_free(&ar);
			buf_consume(&in, flen);
		}
	}
	buf_free(&in);
}

/* worker - accept a connection, serve it to the end, accept the next; returns on a stop */
static void worker(struct agent *a, int lfd, pid_t parent)
{
	sigset_t block, open_mask;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
	/* the stop signals are delivered only inside ppoll(): no request is cut in the middle */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &open_mask);
	sigdelset(&open_mask, SIGTERM);
	sigdelset(&open_mask, SIGINT);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		stop_requested = 1;
	while (!stop_requested) {
		int fd;

		if (!wait_readable(lfd, &open_mask, -1))
			break;
		/* the listener is non-blocking: another worker may have taken the connection */
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("%s: accept: %m", a->name);
			continue;
		}
		serve(a, fd, &open_mask);
		close(fd);
	}
}

/* spawn - start one worker; its pid in the parent, 0 in the worker once it is done */
static pid_t spawn(struct agent *a, int lfd)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		fatal("%s: fork: %m", a->name);
	if (pid == 0)
		worker(a, lfd, parent);
	return pid;
}

/* supervise - the parent: forward a stop to the workers; a worker that dies ends the service */
static int supervise(pid_t *pids, size_t n)
{
	sigset_t set;
	size_t alive = n, i;
	bool stopping = false;
	int status = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	while (alive) {
		int sig = sigwaitinfo(&set, NULL), st;
		pid_t pid;

		if (sig < 0)
			continue;
		if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			stopping = true;
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (i = 0; i < n; i++)
				if (pids[i] == pid) {
					pids[i] = 0;
					alive--;
				}
			if (stopping && WIFEXITED(st) && WEXITSTATUS(st) == 0)
				continue;
			/* a worker ended on its own (fatal error, crash): stop all; the master restarts us */
			if (WIFSIGNALED(st))
				log_warn("worker %ld killed by signal %d", (long)pid, WTERMSIG(st));
			else
				log_warn("worker %ld exited with status %d", (long)pid, WEXITSTATUS(st));
			status = 1;
			if (!stopping) {
				stopping = true;
				for (i = 0; i < n; i++)
					if (pids[i] > 0)
						kill(pids[i], SIGTERM);
			}
		}
	}
	return status;
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

/* agent_workers - how many deliveries at once: the queue manager's concurrency for this agent */
static size_t agent_workers(struct agent *a)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_destination_concurrency_limit", a->name);
	return service_concurrency(a->cfg, name);
}

/* agent_run - a supervisor and a pool of worker processes, one queue manager connection each */
int agent_run(struct agent *a)
{
	sigset_t set;
	pid_t *pids;
	size_t nworkers, i;
	int lfd, status;

	signal(SIGPIPE, SIG_IGN);
	lfd = listen_socket(a);
	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0)
		fatal("%s: non-blocking listener: %m", a->name);
	nworkers = agent_workers(a);
	pids = xcalloc(nworkers, sizeof(*pids));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	log_info("daemon started (%s; %zu worker processes)",
		 a->root ? "root, per-delivery uid switch" : "not root: no uid switch", nworkers);
	status = 0;
	for (i = 0; i < nworkers; i++) {
		if ((pids[i] = spawn(a, lfd)) == 0)
			break; /* a worker that is done: release what it inherited, return to exit */
	}
	if (i == nworkers)
		status = supervise(pids, nworkers);
	free(pids);
	close(lfd);
	qstore_close(&a->qs);
	config_free(&a->cfg);
	return status;
}
