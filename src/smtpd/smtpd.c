/*
 * smtpd.c - `postern service smtpd`: startup, libevent I/O glue, limits, group commit
 *
 * Runs in:  smtpd, started by the master (src/master/service.h): listening
 *           sockets on fds 3.., the master.cf line in $POSTERN_SERVICE_LINE.
 * Events:   one libevent loop; per session one read/write event that always
 *           carries smtpd_timeout, so every io has a deadline.
 * Group commit (DESIGN.md "Durability without one sync per message"): a
 *           session whose message is complete is appended to `pending` and
 *           reads nothing more. One worker thread (pthread) waits on a
 *           condition variable, takes ALL pending files as one batch, runs
 *           qstore_commit_batch() (one syncfs + renames + one directory
 *           fsync) and writes one byte to a pipe. The loop reads the pipe,
 *           answers 250 to every session of the batch, and hands the next
 *           batch (everything that arrived during the sync) to the worker.
 *           So the fsync never stalls other sessions' protocol handling, a
 *           batch grows with the load, and no message waits for a timer.
 *           Chosen over a 0-ms timer in the loop (which would block every
 *           session during the sync) and over a thread per batch (creation
 *           cost, no bound on concurrent syncs).
 * Logging:  Postfix's lines: connect from, ID: client=, NOQUEUE: reject: RCPT,
 *           ID: from=<..>, size=N, nrcpt=N (smtpd logs it after the commit,
 *           since Postern has no cleanup process), disconnect from ... counters.
 *           Client names are "unknown": no reverse DNS yet.
 * SIGTERM:  stop accepting, let sessions finish, at most 10 s, then 421 and exit 0.
 * Tests:    tests/e2e/test_smtpd.py
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/svclog.h"
#include "libmail/mastercf.h"
#include "libmail/resolve.h"
#include "master/service.h"
#include "smtpd/smtpd.h"

#define STOP_DEADLINE_S 10
#define READ_CHUNK 65536

struct conn {
	struct smtpd_session *s;
	struct glue *g;
	int fd;
	struct event *ev;
	struct event *sleep_ev;
	bool writing;       /* waiting for EV_WRITE */
	bool waiting;       /* SMTPD_WANT_COMMIT */
	bool closing;       /* close after the output is written */
	bool eof;
	struct conn *prev, *next;
	struct conn *next_commit;
};

struct glue {
	struct smtpd_server srv;
	struct event_base *base;
	struct event **listen_ev;
	int *listen_fd;
	size_t n_listen;
	struct conn *conns;
	size_t n_conns;
	int64_t timeout_s, error_sleep_s, client_limit, session_limit;
	bool stopping;
	bool stop_expired;      /* the SIGTERM deadline passed */
	struct event *stop_timer;
	int qmgr_fd;
	struct sockaddr_un qmgr_addr;
	struct event *notify_ev;   /* resends a lost notification as a bare "I" (scan incoming/) */
	/* group commit */
	struct conn *pending, **pending_tail;
	struct conn *batch;        /* owned by the worker while busy */
	bool busy;
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct qstore_file **files;
	size_t n_files;
	bool has_job, quit;
	int done_pipe[2];
	struct event *done_ev;
};

static void conn_step(struct conn *c);

/* conn_free - close and release a connection */
static void conn_free(struct conn *c)
{
	struct glue *g = c->g;

	smtpd_session_free(&c->s);
	event_free(c->ev);
	if (c->sleep_ev)
		event_free(c->sleep_ev);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->n_conns--;
	free(c);
	if (g->stopping && g->n_conns == 0)
		event_base_loopbreak(g->base);
}

/* flush - write buffered replies; 1 all written, 0 would block, -1 error */
static int flush(struct conn *c)
{
	struct buf *out = smtpd_session_output(c->s);

	while (out->len > 0) {
		ssize_t n = send(c->fd, out->data, out->len, MSG_NOSIGNAL);

		if (n > 0) {
			buf_consume(out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return 1;
}

/* conn_wait - (re)register the session's event for what, with the timeout */
static void conn_wait(struct conn *c, short what)
{
	struct timeval tv = { (time_t)c->g->timeout_s, 0 };

	event_del(c->ev);
	event_assign(c->ev, c->g->base, c->fd, what | EV_PERSIST, event_get_callback(c->ev), c);
	event_add(c->ev, c->g->timeout_s > 0 ? &tv : NULL);
}

/* read_input - read what the socket has into the session; false on EOF or error */
static void read_input(struct conn *c)
{
	struct linereader *lr = smtpd_session_input(c->s);
	size_t avail;
	char *p = linereader_space(lr, READ_CHUNK, &avail);
	ssize_t n;

	if (!p)
		return; /* full: run will drain it first */
	n = recv(c->fd, p, avail, 0);
	if (n > 0) {
		linereader_commit(lr, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	c->eof = true;
}

/* sleep_done - the error sleep is over */
static void sleep_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_step(arg);
}

/* conn_step - run the session and wait for whatever it needs next */
static void conn_step(struct conn *c)
{
	enum smtpd_want w;
	int f;

	for (;;) {
		w = smtpd_session_run(c->s, c->eof);
		f = flush(c);
		if (f < 0) {
			smtpd_session_lost(c->s);
			conn_free(c);
			return;
		}
		if (w == SMTPD_WANT_CLOSE) {
			if (f == 0) {
				c->closing = true;
				conn_wait(c, EV_WRITE);
				return;
			}
			conn_free(c);
			return;
		}
		if (f == 0) {
			c->writing = true;
			conn_wait(c, EV_WRITE);
			return;
		}
		c->writing = false;
		if (w == SMTPD_WANT_FLUSH)
			continue;
		if (w == SMTPD_WANT_COMMIT) {
			event_del(c->ev);
			return;
		}
		if (w == SMTPD_WANT_SLEEP) {
			struct timeval tv = { (time_t)c->g->error_sleep_s, 0 };

			event_del(c->ev);
			if (!c->sleep_ev)
				c->sleep_ev = evtimer_new(c->g->base, sleep_done, c);
			evtimer_add(c->sleep_ev, &tv);
			return;
		}
		smtpd_session_idle(c->s);
		if (c->g->stop_expired) {
			/* its commit finished after the deadline: no further transactions */
			smtpd_session_shutdown(c->s);
			(void)flush(c);
			conn_free(c);
			return;
		}
		conn_wait(c, EV_READ);
		return;
	}
}

/* conn_event - readable, writable or timed out */
static void conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		smtpd_session_timeout(c->s);
		(void)flush(c);
		conn_free(c);
		return;
	}
	if (what & EV_WRITE) {
		int f = flush(c);

		if (f < 0 || (f == 1 && c->closing)) {
			if (f < 0)
				smtpd_session_lost(c->s);
			conn_free(c);
			return;
		}
		if (f == 0)
			return;
		conn_step(c);
		return;
	}
	read_input(c);
	conn_step(c);
}

/* count_client - sessions from this address */
static size_t count_client(struct glue *g, const char *addr)
{
	size_t n = 0;
	struct conn *c;

	for (c = g->conns; c; c = c->next)
		if (strcmp(smtpd_session_addr(c->s), addr) == 0)
			n++;
	return n;
}

/* refuse - one 421 line on a fresh connection, then close */
static void refuse(int fd, const char *text)
{
	(void)send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* accept_event - new connections on a listening socket */
static void accept_event(evutil_socket_t lfd, short what, void *arg)
{
	struct glue *g = arg;
	struct sockaddr_storage ss;
	char addr[INET6_ADDRSTRLEN] = "unknown";
	char t[600];
	int fd;

	(void)what;
	for (int i = 0; i < 64; i++) {
		socklen_t len = sizeof(ss);

		fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
		else if (ss.ss_family == AF_INET6) {
			struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;

			if (IN6_IS_ADDR_V4MAPPED(a6))
				inet_ntop(AF_INET, &a6->s6_addr[12], addr, sizeof(addr));
			else
				inet_ntop(AF_INET6, a6, addr, sizeof(addr));
		}
		if (g->session_limit > 0 && g->n_conns >= (size_t)g->session_limit) {
			snprintf(t, sizeof(t), "421 4.3.2 %s Service currently unavailable\r\n", g->srv.myhostname);
			log_warn("too many sessions (smtpd_session_limit %lld): refusing %s", (long long)g->session_limit,
				 addr);
			refuse(fd, t);
			continue;
		}
		if (g->client_limit > 0 && count_client(g, addr) >= (size_t)g->client_limit) {
			snprintf(t, sizeof(t), "421 4.7.0 %s Error: too many connections from %s\r\n",
				 g->srv.myhostname, addr);
			log_warn("Connection concurrency limit exceeded: %zu from unknown[%s] for service %s",
				 count_client(g, addr) + 1, addr, getenv(SERVICE_ENV_NAME) ? getenv(SERVICE_ENV_NAME) : "smtpd");
			refuse(fd, t);
			continue;
		}
		struct conn *c = xcalloc(1, sizeof(*c));

		c->g = g;
		c->fd = fd;
		c->s = smtpd_session_new(&g->srv, addr, NULL);
		c->ev = event_new(g->base, fd, EV_READ | EV_PERSIST, conn_event, c);
		c->next = g->conns;
		if (g->conns)
			g->conns->prev = c;
		g->conns = c;
		g->n_conns++;
		conn_step(c);
	}
}

/* worker_main - the commit thread: take a batch, commit it, signal the loop */
static void *worker_main(void *arg)
{
	struct glue *g = arg;
	char one = 1;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->has_job && !g->quit)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->quit)
			break;
		pthread_mutex_unlock(&g->mu);
		(void)qstore_commit_batch(g->files, g->n_files);
		pthread_mutex_lock(&g->mu);
		g->has_job = false;
		while (write(g->done_pipe[1], &one, 1) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* start_batch - hand every pending file to the worker (when it is idle) */
static void start_batch(struct glue *g)
{
	struct conn *c;
	size_t n = 0;

	if (g->busy || !g->pending)
		return;
	for (c = g->pending; c; c = c->next_commit)
		n++;
	g->files = xreallocarray(g->files, n, sizeof(*g->files));
	n = 0;
	for (c = g->pending; c; c = c->next_commit)
		g->files[n++] = smtpd_session_file(c->s);
	g->batch = g->pending;
	g->pending = NULL;
	g->pending_tail = &g->pending;
	g->busy = true;
	pthread_mutex_lock(&g->mu);
	g->n_files = n;
	g->has_job = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* commit_enqueue - the session hook: queue this session's finished file */
static void commit_enqueue(struct smtpd_server *srv, struct smtpd_session *s)
{
	struct glue *g = srv->glue;
	struct conn *c;

	for (c = g->conns; c && c->s != s; c = c->next)
		;
	ASSERT(c != NULL);
	c->waiting = true;
	c->next_commit = NULL;
	*g->pending_tail = c;
	g->pending_tail = &c->next_commit;
	/* the batch starts after this loop iteration's other events: let them join */
	if (!g->busy) {
		char one = 1;

		g->busy = true; /* reserve: the pipe event starts the batch */
		g->batch = NULL;
		while (write(g->done_pipe[1], &one, 1) < 0 && errno == EINTR)
			;
	}
}

/* done_event - the worker finished a batch (or a batch should start) */
static void done_event(evutil_socket_t fd, short what, void *arg)
{
	struct glue *g = arg;
	struct conn *c, *next;
	char b[64];

	(void)what;
	while (read(fd, b, sizeof(b)) > 0)
		;
	for (c = g->batch; c; c = next) {
		next = c->next_commit;
		c->waiting = false;
		smtpd_session_committed(c->s);
		conn_step(c);
	}
	g->batch = NULL;
	g->busy = false;
	start_batch(g);
}

/* notify_retry - a notification was lost (the queue manager's socket queue was full): ask for a scan */
static void notify_retry(evutil_socket_t fd, short what, void *arg)
{
	struct glue *g = arg;
	struct timeval tv = { 0, 20000 };
	char m = QMGR_MSG_NEW;

	(void)fd;
	(void)what;
	if (sendto(g->qmgr_fd, &m, 1, MSG_DONTWAIT, (struct sockaddr *)&g->qmgr_addr, sizeof(g->qmgr_addr)) < 0 &&
	    errno == EAGAIN)
		evtimer_add(g->notify_ev, &tv);
}

/*
 * smtpd_notify_qmgr - "I<id>" to public/qmgr. When the queue manager's socket is
 * full (it is busy), the notification is not lost: a bare "I" follows a little
 * later, and the queue manager scans incoming/ for every message it missed.
 */
void smtpd_notify_qmgr(struct smtpd_server *srv, const char *id)
{
	struct glue *g = srv->glue;
	struct timeval tv = { 0, 20000 };
	char m[64];
	int n;

	if (!g || g->qmgr_fd < 0)
		return;
	n = snprintf(m, sizeof(m), "%c%s", QMGR_MSG_NEW, id);
	if (sendto(g->qmgr_fd, m, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&g->qmgr_addr,
		   sizeof(g->qmgr_addr)) < 0) {
		if (errno == EAGAIN && g->notify_ev && !evtimer_pending(g->notify_ev, NULL))
			evtimer_add(g->notify_ev, &tv);
		else if (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN)
			log_warn("notify qmgr: %s", strerror(errno));
	}
}

/* stop_deadline - sessions did not finish in time */
static void stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct glue *g = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	g->stop_expired = true;
	for (c = g->conns; c; c = next) {
		next = c->next;
		if (c->waiting)
			continue; /* its commit is running: the answer comes first */
		smtpd_session_shutdown(c->s);
		(void)flush(c);
		conn_free(c);
	}
	if (g->n_conns == 0)
		event_base_loopbreak(g->base);
}

/* sigterm_event - stop accepting; finish sessions in progress */
static void sigterm_event(evutil_socket_t sig, short what, void *arg)
{
	struct glue *g = arg;
	struct timeval tv = { STOP_DEADLINE_S, 0 };

	(void)sig;
	(void)what;
	if (g->stopping)
		return;
	g->stopping = true;
	log_info("stopping: %zu session(s) in progress", g->n_conns);
	for (size_t i = 0; i < g->n_listen; i++)
		event_del(g->listen_ev[i]);
	if (g->n_conns == 0) {
		event_base_loopbreak(g->base);
		return;
	}
	g->stop_timer = evtimer_new(g->base, stop_deadline, g);
	evtimer_add(g->stop_timer, &tv);
}

/* report_diags - log configuration findings; true when there were errors */
static bool report_diags(struct diag_list *dl)
{
	struct buf b = BUF_INIT(0);

	for (size_t i = 0; i < dl->n; i++) {
		buf_reset(&b);
		diag_format(&dl->v[i], &b);
		if (dl->v[i].level == DIAG_ERROR)
			log_err("%s", buf_cstr(&b));
		else
			log_warn("%s", buf_cstr(&b));
	}
	buf_free(&b);
	return diag_has_errors(dl);
}

/* service_config - main.cf plus this master.cf line's -o overrides */
static struct config *service_config(const char *dir, struct config *base, struct mastercf **mcf_r,
				     struct diag_list *dl)
{
	const char *line_env = getenv(SERVICE_ENV_LINE);
	char *path, *text = NULL, *end;
	size_t len;
	long line;

	*mcf_r = NULL;
	if (!line_env || !*line_env)
		return NULL;
	errno = 0;
	line = strtol(line_env, &end, 10);
	if (errno || *end || line <= 0)
		fatal("bad $%s: \"%s\"", SERVICE_ENV_LINE, line_env);
	path = xasprintf("%s/master.cf", dir);
	if (config_read_file(path, &text, &len) < 0)
		fatal("open %s: %s", path, strerror(errno));
	*mcf_r = mastercf_parse(text, len, path, dl);
	free(text);
	free(path);
	for (size_t i = 0; i < (*mcf_r)->n; i++)
		if ((*mcf_r)->v[i].line == line)
			return mastercf_service_config(base, &(*mcf_r)->v[i], dl);
	fatal("master.cf has no service at line %ld", line);
}

/* setup_logging - maillog_file or syslog, with this service's syslog_name */
static void setup_logging(struct config *cfg)
{
	const char *err;

	if (service_log_init(cfg, "smtpd", 0, &err) < 0)
		log_warn("maillog_file: %s", err);
}

/* setup_server - read the settings the sessions use */
static void setup_server(struct glue *g, struct config *cfg)
{
	struct smtpd_server *srv = &g->srv;
	const char *v, *err;
	struct buf b = BUF_INIT(4096);

	srv->cfg = cfg;
	srv->myhostname = config_get(cfg, "myhostname");
	srv->mail_name = config_get(cfg, "mail_name");
	if (config_expand_text(cfg, config_get_raw(cfg, "smtpd_banner"), &b, &err) < 0)
		fatal("smtpd_banner: %s", err);
	srv->banner = buf_detach(&b);
	srv->message_size_limit = (uint64_t)service_int(cfg, "message_size_limit");
	srv->line_limit = (size_t)service_int(cfg, "line_length_limit");
	if (srv->line_limit < 512)
		srv->line_limit = 512;
	srv->recipient_limit = service_int(cfg, "smtpd_recipient_limit");
	srv->soft_error_limit = service_int(cfg, "smtpd_soft_error_limit");
	srv->hard_error_limit = service_int(cfg, "smtpd_hard_error_limit");
	srv->junk_command_limit = service_int(cfg, "smtpd_junk_command_limit");
	srv->bare_lf_code = (int)service_int(cfg, "smtpd_forbid_bare_newline_reject_code");
	if (srv->bare_lf_code < 400 || srv->bare_lf_code > 599)
		srv->bare_lf_code = 550;
	srv->cmd_lim.line_max = srv->line_limit;
	srv->cmd_lim.path_max = 256;
	srv->cmd_lim.param_max = 10;
	srv->cmd_lim.param_len = 500;
	srv->cmd_lim.size_max = srv->message_size_limit;
	srv->data_lim.max_size = srv->message_size_limit;
	srv->data_lim.max_line = srv->line_limit;
	v = config_get(cfg, "smtpd_forbid_bare_newline");
	if (v && strcasecmp(v, "reject") == 0)
		srv->data_lim.bare_lf = SMTP_BARE_LF_REJECT;
	else if (v && strcasecmp(v, "no") == 0)
		srv->data_lim.bare_lf = SMTP_BARE_LF_NO;
	else
		srv->data_lim.bare_lf = SMTP_BARE_LF_NORMALIZE; /* yes = normalize (Postfix 3.9) */
	srv->data_lim.bare_cr = SMTP_BARE_CR_KEEP;
	srv->commit_enqueue = commit_enqueue;
	srv->glue = g;
	g->timeout_s = service_time(cfg, "smtpd_timeout");
	g->error_sleep_s = service_time(cfg, "smtpd_error_sleep_time");
	g->client_limit = service_int(cfg, "smtpd_client_connection_count_limit");
	g->session_limit = service_int(cfg, "smtpd_session_limit");
}

/* setup_listeners - the descriptors 3.. the master passed */
static void setup_listeners(struct glue *g)
{
	g->n_listen = service_listen_fds(NULL);
	if (g->n_listen == 0)
		fatal("no listening sockets ($%s)", SERVICE_ENV_LISTEN_FDS);
	g->listen_ev = xcalloc(g->n_listen, sizeof(*g->listen_ev));
	g->listen_fd = xcalloc(g->n_listen, sizeof(*g->listen_fd));
	for (size_t i = 0; i < g->n_listen; i++) {
		g->listen_fd[i] = SERVICE_LISTEN_FD_BASE + (int)i;
		g->listen_ev[i] = event_new(g->base, g->listen_fd[i], EV_READ | EV_PERSIST, accept_event, g);
		event_add(g->listen_ev[i], NULL);
	}
}

/* setup_qmgr - the datagram socket for "I<id>" notices */
static void setup_qmgr(struct glue *g, const char *queue_dir)
{
	g->qmgr_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&g->qmgr_addr, 0, sizeof(g->qmgr_addr));
	g->qmgr_addr.sun_family = AF_UNIX;
	if ((size_t)snprintf(g->qmgr_addr.sun_path, sizeof(g->qmgr_addr.sun_path), "%s/%s", queue_dir,
			     SERVICE_QMGR_SOCKET) >= sizeof(g->qmgr_addr.sun_path)) {
		log_warn("queue_directory too long for %s: qmgr will find new mail by scanning", SERVICE_QMGR_SOCKET);
		close(g->qmgr_fd);
		g->qmgr_fd = -1;
	}
}

/* smtpd_main - `postern service smtpd` */
int smtpd_main(struct cli *cli, int argc, char **argv)
{
	struct glue g = { 0 };
	struct diag_list dl;
	struct config *base, *cfg;
	struct mastercf *mcf = NULL;
	struct route *route;
	struct qstore qs;
	struct event *sig_term, *sig_hup;
	const char *err, *qdir;

	(void)argc;
	(void)argv;
	diag_init(&dl);
	base = config_load(cli->config_dir, &dl);
	if (!base) {
		report_diags(&dl);
		fatal("cannot read the configuration in %s", cli->config_dir);
	}
	cfg = service_config(cli->config_dir, base, &mcf, &dl);
	if (!cfg)
		cfg = base;
	setup_logging(cfg);
	if (report_diags(&dl))
		fatal("configuration errors: see above");
	diag_free(&dl);
	signal(SIGPIPE, SIG_IGN);

	qdir = config_get(cfg, "queue_directory");
	if (qstore_open(&qs, qdir, (uid_t)-1, (gid_t)-1, &err) < 0)
		fatal("queue_directory %s: %s", qdir, err);
	route = route_open(cfg, NULL, &err);
	if (!route)
		fatal("%s", err);
	diag_init(&dl);
	g.srv.restr = restrict_compile(cfg, route, &dl);
	if (report_diags(&dl))
		log_warn("restriction errors: affected RCPT commands get 451 4.3.5");
	diag_free(&dl);
	g.srv.qs = &qs;
	setup_server(&g, cfg);
	setup_qmgr(&g, qdir);

	g.base = event_base_new();
	if (!g.base)
		fatal("event_base_new failed");
	g.pending_tail = &g.pending;
	g.notify_ev = evtimer_new(g.base, notify_retry, &g);
	if (pipe2(g.done_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		fatal("pipe: %s", strerror(errno));
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	if (pthread_create(&g.worker, NULL, worker_main, &g) != 0)
		fatal("cannot start the commit thread");
	g.done_ev = event_new(g.base, g.done_pipe[0], EV_READ | EV_PERSIST, done_event, &g);
	event_add(g.done_ev, NULL);
	setup_listeners(&g);
	sig_term = evsignal_new(g.base, SIGTERM, sigterm_event, &g);
	event_add(sig_term, NULL);
	signal(SIGHUP, SIG_IGN); /* the master reloads by starting new processes */
	sig_hup = NULL;
	log_info("daemon started -- %zu listener(s), queue %s", g.n_listen, qdir);

	event_base_dispatch(g.base);

	/* after loopbreak every session is gone, so no batch can be pending */
	pthread_mutex_lock(&g.mu);
	g.quit = true;
	pthread_cond_signal(&g.cv);
	pthread_mutex_unlock(&g.mu);
	pthread_join(g.worker, NULL);
	log_info("stopped");
	for (size_t i = 0; i < g.n_listen; i++) {
		event_free(g.listen_ev[i]);
		close(g.listen_fd[i]);
	}
	free(g.listen_ev);
	free(g.listen_fd);
	if (g.stop_timer)
		event_free(g.stop_timer);
	event_free(sig_term);
	(void)sig_hup;
	event_free(g.done_ev);
	event_free(g.notify_ev);
	event_base_free(g.base);
	close(g.done_pipe[0]);
	close(g.done_pipe[1]);
	if (g.qmgr_fd >= 0)
		close(g.qmgr_fd);
	free(g.files);
	free(g.srv.banner);
	restrict_free(&g.srv.restr);
	route_free(&route);
	qstore_close(&qs);
	if (cfg != base)
		config_free(&cfg);
	config_free(&base);
	mastercf_free(&mcf);
	return 0;
}
