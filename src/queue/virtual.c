/*
 * virtual.c - `postern service virtual`: the virtual mailbox delivery agent
 *
 * Listens on queue_directory/private/virtual (descriptor 3 when the master
 * passes it, else it creates the socket itself: mode 0600, owned by mail_owner
 * when root) and answers dlvproto requests, one delivery per request, in order,
 * per connection.
 *
 * Concurrency: the process forks virtual_destination_concurrency_limit workers
 * (at most default_process_limit; the queue manager opens at most as many
 * connections). Each worker accepts one connection on the shared non-blocking
 * listener and serves it until the queue manager closes it, so the queue
 * manager's connections are delivered in parallel, and their fsyncs share the
 * file system's journal commits. Processes, not threads: the effective uid is
 * per process. SIGTERM and SIGINT are blocked except inside ppoll(), so a
 * worker finishes the request in hand (and any already received) before it
 * exits. The parent only supervises: it forwards SIGTERM, and when a worker
 * ends on its own (a fatal error, a crash) it stops the others and exits 1 so
 * that the master restarts the service. A worker dies with its parent
 * (PR_SET_PDEATHSIG).
 *
 * For each request a worker opens the queue file read-only, looks the
 * final address up in virtual_mailbox_maps (addr_lookup key order: full,
 * without extension, @domain; each key in every table before the next key, as
 * Postfix's mail_addr_find), builds virtual_mailbox_base/result (a trailing "/"
 * means Maildir, else mbox), takes the owner from virtual_uid_maps and
 * virtual_gid_maps, switches effective ids when root (setgroups, setegid,
 * seteuid; back afterwards, as Postfix's virtual(8)), prepends Return-Path: and
 * Delivered-To: and delivers with maildir_deliver()/mbox_deliver().
 *
 * Decisions (documented differences from Postfix):
 *   - a mailbox map result that is absolute or has a ".." component would
 *     escape virtual_mailbox_base: the recipient is deferred (4.3.5 "mail
 *     system configuration error") so that the administrator can fix the table
 *     without losing mail; Postfix simply concatenates.
 *   - a uid below virtual_minimum_uid bounces (5.3.5, Postfix's text "mail
 *     system configuration error"); Postfix defers it.
 *   - table lookup failures defer (4.3.0), unknown users bounce (5.1.1).
 * A malformed request is fatal (typed IPC rule): the peer is the queue manager.
 *
 * Runs in:  virtual (root when the master is root; effective ids per delivery, per worker)
 * API:      virtual_main()  -- see virtual.h
 * Tests:    tests/e2e/test_delivery.py
 * Refs:     Postfix virtual/virtual.c, mailbox.c, maildir.c; virtual(8)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fdio.h"
#include "lib/log.h"
#include "lib/timeid.h"
#include "lib/xalloc.h"
#include "libmail/svclog.h"
#include "libmail/addr_lookup.h"
#include "libmail/config.h"
#include "libmail/diag.h"
#include "libmail/dict.h"
#include "libmail/msghdr.h"
#include "master/service.h"
#include "queue/dlvproto.h"
#include "queue/maildir.h"
#include "queue/mbox.h"
#include "queue/qstore.h"
#include "queue/virtual.h"

struct maps {
	struct dict **d;
	size_t n;
};

struct vagent {
	struct config *cfg;
	struct qstore qs;
	struct maps mailbox, uid, gid;
	const char *base;
	const char *delims;
	int64_t min_uid;
	bool root;
};

static volatile sig_atomic_t stop_requested; /* a worker got SIGTERM or SIGINT */
static pid_t *worker_pids;                   /* the parent's table of workers */

/* maps_open - open every table of a list parameter; fatal on failure (configuration) */
static void maps_open(struct config *cfg, const char *name, struct maps *m)
{
	const char *const *items;
	const char *err;
	size_t i;

	if (config_get_list(cfg, name, &items, &m->n, &err) < 0)
		fatal("%s: %s", name, err);
	m->d = xcalloc(m->n + 1, sizeof(*m->d));
	for (i = 0; i < m->n; i++)
		if (!(m->d[i] = dict_open(items[i], DICT_FLAGS_DEFAULT, &err)))
			fatal("%s: %s: %s", name, items[i], err);
}

/* maps_find - first value for addr: keys in Postfix order, each key in every table; 1/0/-1 */
static int maps_find(struct maps *m, const char *addr, const char *delims, char **value_r, const char **error_r)
{
	struct addr_keys k;
	size_t i, j;
	int rc = 0;

	addr_lookup_keys(addr, delims, &k);
	for (i = 0; i < k.n && rc == 0; i++)
		for (j = 0; j < m->n && rc == 0; j++) {
			const char *v;
			int r = dict_lookup(m->d[j], k.key[i], &v, error_r);

			if (r < 0)
				rc = -1;
			else if (r > 0) {
				*value_r = xstrdup(v);
				rc = 1;
			}
		}
	addr_keys_free(&k);
	return rc;
}

/* path_escapes - is a map result absolute, or has it a ".." component? */
static bool path_escapes(const char *p)
{
	const char *s = p;

	if (*p == '/')
		return true;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s += n;
		if (*s == '/')
			s++;
	}
	return false;
}

/* parse_id - a decimal uid/gid */
static int parse_id(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return (errno || end == s || *end || *v < 0 || *v > 0x7fffffff) ? -1 : 0;
}

/* set_eids - switch effective ids to uid:gid (root only); 0 or -1 */
static int set_eids(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0)
		return -1;
	return 0;
}

/* restore_eids - back to root; failure is fatal (we must never keep a user's ids) */
static void restore_eids(void)
{
	if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
		fatal("cannot restore root privileges: %m");
}

/* deliver - one recipient; fills res */
static void deliver(struct vagent *va, const struct dlvproto_request *q, struct qstore_msg *m,
		    struct dlv_result *res)
{
	char *mbox = NULL, *uids = NULL, *gids = NULL;
	const char *err = "";
	struct buf path = BUF_INIT(4096), pre = BUF_INIT(8192);
	long long uid, gid;
	int r;

	r = maps_find(&va->mailbox, q->addr, va->delims, &mbox, &err);
	if (r < 0) {
		dlv_set(res, "4.3.0", "virtual_mailbox_maps lookup failure: %s", err);
		goto out;
	}
	if (r == 0) {
		dlv_set(res, "5.1.1", "unknown user: \"%s\"", q->addr);
		goto out;
	}
	if (path_escapes(mbox) || !*va->base) {
		log_warn("recipient %s: mailbox path \"%s\" escapes or has no virtual_mailbox_base", q->addr,
			 log_sanitize(mbox, 200));
		dlv_set(res, "4.3.5", "mail system configuration error");
		goto out;
	}
	if ((r = maps_find(&va->uid, q->addr, va->delims, &uids, &err)) <= 0 || parse_id(uids, &uid) < 0) {
		log_warn("recipient %s: no valid uid in virtual_uid_maps%s%s", q->addr, r < 0 ? ": " : "", r < 0 ? err : "");
		dlv_set(res, "4.3.5", "mail system configuration error");
		goto out;
	}
	if (uid < va->min_uid) {
		log_warn("recipient %s: bad uid %lld in virtual_uid_maps", q->addr, uid);
		dlv_set(res, "5.3.5", "mail system configuration error");
		goto out;
	}
	if ((r = maps_find(&va->gid, q->addr, va->delims, &gids, &err)) <= 0 || parse_id(gids, &gid) < 0) {
		log_warn("recipient %s: no valid gid in virtual_gid_maps%s%s", q->addr, r < 0 ? ": " : "", r < 0 ? err : "");
		dlv_set(res, "4.3.5", "mail system configuration error");
		goto out;
	}
	if (buf_printf(&path, "%s/%s", va->base, mbox) < 0 || msghdr_return_path(&pre, m->env.sender) < 0 ||
	    msghdr_delivered_to(&pre, q->addr) < 0) {
		dlv_set(res, "5.3.5", "mailbox path or headers too long");
		goto out;
	}
	{
		struct dlv_msg msg = { buf_cstr(&pre), pre.len, m->fd, m->env.content_offset, m->env.content_size };
		struct dlv_owner own = { (uid_t)-1, (gid_t)-1 };

		if (va->root) {
			own.uid = (uid_t)uid;
			own.gid = (gid_t)gid;
			if (set_eids((uid_t)uid, (gid_t)gid) < 0) {
				dlv_set(res, "4.3.0", "cannot switch to uid %lld gid %lld: %s", uid, gid, strerror(errno));
				restore_eids();
				goto out;
			}
		}
		if (path.len && path.data[path.len - 1] == '/')
			maildir_deliver(buf_cstr(&path), &msg, &own, res);
		else
			mbox_deliver(buf_cstr(&path), &msg, m->env.sender, (time_t)(m->env.arrival_us / 1000000), NULL,
				     &own, res);
		if (va->root)
			restore_eids();
	}
out:
	free(mbox);
	free(uids);
	free(gids);
	buf_free(&path);
	buf_free(&pre);
}

/* queue_by_name - the qstore queue of a request (dlvproto already checked the name) */
static enum qstore_queue queue_by_name(const char *name)
{
	int q;

	for (q = 0; q < QSTORE_NQUEUES; q++)
		if (strcmp(qstore_queue_name((enum qstore_queue)q), name) == 0)
			return (enum qstore_queue)q;
	panic("virtual: queue name \"%s\" passed dlvproto", name);
}

/* handle_request - deliver one recipient and write the reply */
static void handle_request(struct vagent *va, int fd, const struct dlvproto_request *q)
{
	struct dlv_result res;
	struct qstore_msg *m = NULL;
	const char *err;
	struct buf out = BUF_INIT(0);
	struct dlvproto_reply rep;
	uint64_t start = time_wall_us();
	int rc;

	memset(&res, 0, sizeof(res));
	rc = qstore_msg_open(&va->qs, queue_by_name(q->queue_name), q->queue_id, false, &m, &err);
	if (rc != QSTORE_OPEN_OK)
		dlv_set(&res, "4.3.0", "cannot open queue file %s: %s", q->queue_id, err);
	else if (q->rcpt >= m->env.nrcpt)
		fatal("virtual: request for recipient %u of %s, which has %zu", (unsigned)q->rcpt, q->queue_id,
		      m->env.nrcpt);
	else
		deliver(va, q, m, &res);
	{
		uint64_t now = time_wall_us(), arr = m ? m->env.arrival_us : start;
		double delay = now > arr ? (double)(now - arr) / 1e6 : 0;
		const char *status = res.status == DLV_OK ? "sent" : res.status == DLV_DEFER ? "deferred" : "bounced";
		bool orig = *q->orig && strcasecmp(q->orig, q->addr) != 0;

		log_info("%s: to=<%s>, %s%s%srelay=virtual, delay=%.2f, dsn=%s, status=%s (%s)", q->queue_id,
			 log_sanitize(q->addr, 300), orig ? "orig_to=<" : "", orig ? log_sanitize(q->orig, 300) : "",
			 orig ? ">, " : "", delay, res.dsn, status, res.text);
	}
	qstore_msg_close(&m);
	rep.status = res.status == DLV_OK ? DLVPROTO_OK : res.status == DLV_DEFER ? DLVPROTO_DEFER : DLVPROTO_BOUNCE;
	rep.dsn = res.dsn;
	rep.text = res.text;
	if (dlvproto_put_reply(&out, &rep) < 0)
		panic("virtual: cannot encode reply dsn=%s", res.dsn);
	if (fd_write_all(fd, out.data, out.len) < 0)
		log_warn("virtual: write reply: %m");
	buf_free(&out);
}

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
			fatal("virtual: poll: %m");
	}
}

/* serve - one connection from the queue manager: its requests in order, until EOF or a stop */
static void serve(struct vagent *va, int fd, const sigset_t *open_mask)
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
			fatal("virtual: request buffer overflow");
		for (;;) {
			const uint8_t *body;
			size_t blen, flen;
			const char *err;
			struct dlvproto_request q;
			struct arena *a;
			int r = dlvproto_frame(in.data, in.len, &body, &blen, &flen, &err);

			if (r < 0)
				fatal("virtual: bad request from qmgr: %s", err);
			if (r == 0)
				break;
			a = arena_new(0);
			if (dlvproto_get_request(body, blen, a, &q, &err) < 0)
				fatal("virtual: bad request from qmgr: %s", err);
			handle_request(va, fd, &q);
			arena_free(&a);
			buf_consume(&in, flen);
		}
	}
	buf_free(&in);
}

/* worker - accept a connection, serve it to the end, accept the next; exits on a stop */
static _Noreturn void worker(struct vagent *va, int lfd, pid_t parent)
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
				log_warn("virtual: accept: %m");
			continue;
		}
		serve(va, fd, &open_mask);
		close(fd);
	}
	exit(0);
}

/* spawn - start one worker; its pid */
static pid_t spawn(struct vagent *va, int lfd)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		fatal("virtual: fork: %m");
	if (pid == 0)
		worker(va, lfd, parent);
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

/* virtual_workers - how many deliveries at once: the queue manager's concurrency for us */
static size_t virtual_workers(struct config *cfg)
{
	int64_t n, procs;
	const char *err;

	if (config_get_int(cfg, "virtual_destination_concurrency_limit", &n, &err) < 0 ||
	    config_get_int(cfg, "default_process_limit", &procs, &err) < 0)
		fatal("%s", err);
	if (n > procs)
		n = procs;
	return n < 1 ? 1 : (size_t)n;
}

/* listen_socket - descriptor 3 from the master, or bind private/virtual ourselves */
static int listen_socket(struct vagent *va, const char *qdir, uid_t owner, gid_t group)
{
	const char *env = getenv(SERVICE_ENV_LISTEN_FDS);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[4096];
	int fd;

	if (env && *env && strcmp(env, "0") != 0)
		return SERVICE_LISTEN_FD_BASE;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/private", qdir) >= sizeof(dir) ||
	    (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", qdir, SERVICE_VIRTUAL_SOCKET) >=
		    sizeof(sun.sun_path))
		fatal("queue_directory too long for a socket path");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		fatal("mkdir %s: %m", dir);
	if (va->root && chown(dir, owner, group) < 0)
		fatal("chown %s: %m", dir);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %m");
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fatal("bind %s: %m", sun.sun_path);
	if (chmod(sun.sun_path, 0600) < 0 || (va->root && chown(sun.sun_path, owner, group) < 0))
		fatal("chmod/chown %s: %m", sun.sun_path);
	if (listen(fd, 64) < 0)
		fatal("listen: %m");
	return fd;
}

/* virtual_main - `postern service virtual` */
int virtual_main(struct cli *cli, int argc, char **argv)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct vagent va;
	struct passwd *pw;
	const char *qdir, *err, *owner;
	sigset_t set;
	pid_t *pids;
	size_t nworkers, i;
	int status;
	uid_t ouid = (uid_t)-1;
	gid_t ogid = (gid_t)-1;
	int lfd;

	(void)argc;
	(void)argv;
	memset(&va, 0, sizeof(va));
	log_init("postern", "virtual", LOG_TO_STDERR, NULL, NULL);
	if (!(va.cfg = config_load(cli->config_dir, &dl)) || diag_has_errors(&dl))
		fatal("cannot load the configuration from %s", cli->config_dir);
	diag_free(&dl);
	if (service_log_init(va.cfg, "virtual", LOG_TO_STDERR, &err) < 0)
		log_warn("maillog_file: %s", err);
	va.root = geteuid() == 0;
	qdir = config_get(va.cfg, "queue_directory");
	owner = config_get(va.cfg, "mail_owner");
	if (va.root) {
		if (!owner || !(pw = getpwnam(owner)))
			fatal("mail_owner %s: no such user", owner ? owner : "?");
		ouid = pw->pw_uid;
		ogid = pw->pw_gid;
		if (setgroups(0, NULL) < 0)
			fatal("setgroups: %m");
	}
	va.base = config_get(va.cfg, "virtual_mailbox_base");
	va.delims = config_get(va.cfg, "recipient_delimiter");
	if (!qdir || !va.base || config_get_int(va.cfg, "virtual_minimum_uid", &va.min_uid, &err) < 0)
		fatal("bad configuration for the virtual agent");
	maps_open(va.cfg, "virtual_mailbox_maps", &va.mailbox);
	maps_open(va.cfg, "virtual_uid_maps", &va.uid);
	maps_open(va.cfg, "virtual_gid_maps", &va.gid);
	if (qstore_open(&va.qs, qdir, ouid, ogid, &err) < 0)
		fatal("queue %s: %s", qdir, err);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_socket(&va, qdir, ouid, ogid);
	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0)
		fatal("virtual: non-blocking listener: %m");
	nworkers = virtual_workers(va.cfg);
	pids = worker_pids = xcalloc(nworkers, sizeof(*pids));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	log_info("daemon started (%s; %zu worker processes)", va.root ? "root, per-delivery uid switch" : "not root: no uid switch",
		 nworkers);
	for (i = 0; i < nworkers; i++)
		pids[i] = spawn(&va, lfd);
	status = supervise(pids, nworkers);
	xfree(&worker_pids);
	close(lfd);
	qstore_close(&va.qs);
	config_free(&va.cfg);
	return status;

}
