/*
 * pop3_disp.c - `postern service pop3`: the dispatcher between pop3-login and the workers
 *
 * A pop3-login process connects to private/pop3 and sends one line with the
 * client's descriptor attached (docs/mail-access.md):
 *
 *     LOGIN <auth id> <cookie> <lip> <lport> <rip> <rport> <secured> <tls> <base64 input>
 *
 * (fields separated by TAB). The dispatcher reads the login's pid with
 * SO_PEERCRED (never from the line), asks auth-master who that request
 * authenticated (REQUEST), checks the userdb uid/gid (never 0, never below
 * first_valid_uid / first_valid_gid, nor above last_valid_*), and passes the
 * client to the worker of that uid:gid, starting one when there is none:
 *
 *     SESSION <user> <home> <mail location> <uidl format> <lip> <lport> <rip> <rport> <secured> <base64>
 *
 * over a SOCK_SEQPACKET socketpair (one message = one session, with the
 * descriptor). It then answers the login "OK <worker pid>" or "FAIL <text>".
 *
 * A worker is this binary exec'd as `service pop3-worker` after setgroups,
 * setgid and setuid to the user's ids (when root), so a worker can never
 * regain root and serves only mailboxes of one uid:gid. Not root (tests,
 * the demo): workers keep the caller's ids, logged once.
 *
 * Runs in:  pop3 (root, like the delivery agents); reads no client input
 * API:      pop3_disp_main()
 * Limits:   LOGIN line DISP_LINE_MAX, DISP_TIMEOUT_S per login connection
 * Tests:    tests/e2e/test_pop3.py (root: the worker runs as 5000)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/auth_master.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/config.h"
#include "libmail/dovecot_conf.h"
#include "login/access.h"
#include "master/service.h"
#include "pop3d/pop3d.h"

#define DISP_LINE_MAX 16384
#define DISP_TIMEOUT_S 30
#define STOP_DEADLINE_S 10

extern char **environ;

struct worker {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int fd; /* our end of the SOCK_SEQPACKET pair */
	struct worker *next;
};

struct lconn {
	int fd, client;
	pid_t pid;
	struct event *ev;
	struct buf in;
	char *fields[10];
	struct lconn *prev, *next;
};

static struct {
	struct access_env env;
	char *config_dir;
	char exe[PATH_MAX];
	struct event_base *base;
	struct auth_master *am;
	struct worker *workers;
	struct lconn *lconns;
	struct event *lev;
	bool stopping;
} D;

/* lconn_free - close a login's connection */
static void lconn_free(struct lconn *l)
{
	if (l->ev)
		event_free(l->ev);
	close(l->fd);
	if (l->client >= 0)
		close(l->client);
	buf_free(&l->in);
	if (l->prev)
		l->prev->next = l->next;
	else
		D.lconns = l->next;
	if (l->next)
		l->next->prev = l->prev;
	free(l);
}

/* answer - the login's reply, then close */
static void answer(struct lconn *l, const char *fmt, const char *arg)
{
	char line[512];
	int n = snprintf(line, sizeof(line), fmt, arg);

	if (n > 0 && (size_t)n < sizeof(line) && write(l->fd, line, (size_t)n) < 0)
		log_warn("pop3-login pid %ld: %s", (long)l->pid, strerror(errno));
	lconn_free(l);
}

/* worker_spawn - fork + exec `service pop3-worker` as uid:gid */
static struct worker *worker_spawn(uid_t uid, gid_t gid, const char **error_r)
{
	int sp[2];
	pid_t pid;
	struct worker *w;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		*error_r = "socketpair failed";
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		*error_r = "fork failed";
		return NULL;
	}
	if (pid == 0) {
		char *argv[] = { D.exe, "-c", D.config_dir, "service", "pop3-worker", NULL };
		sigset_t none;

		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(sp[1], SERVICE_LISTEN_FD_BASE) < 0)
			_exit(126);
		/* the worker cannot open maillog_file as the mail user: it inherits it on 4 */
		const char *logf = config_get(D.env.cfg, "maillog_file");
		int lfd = logf && *logf ? open(logf, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC) : -1;

		unsetenv(ACCESS_ENV_LOG_FD);
		if (lfd >= 0 && dup2(lfd, SERVICE_LISTEN_FD_BASE + 1) >= 0 &&
		    fcntl(SERVICE_LISTEN_FD_BASE + 1, F_SETFD, 0) == 0)
			setenv(ACCESS_ENV_LOG_FD, "4", 1);
		/* dup2 onto itself keeps close-on-exec: clear it explicitly */
		if (fcntl(SERVICE_LISTEN_FD_BASE, F_SETFD, 0) < 0)
			_exit(126);
		for (int fd = SERVICE_LISTEN_FD_BASE + 2; fd < 1024; fd++)
			close(fd);
		if (D.env.root) {
			/* groups first, then the gid, then the uid; root must be gone for good */
			if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
			    setuid(0) == 0 || geteuid() == 0)
				_exit(126);
		}
		setenv(SERVICE_ENV_LISTEN_FDS, "1", 1);
		execve(D.exe, argv, environ);
		_exit(127);
	}
	close(sp[1]);
	w = xcalloc(1, sizeof(*w));
	w->uid = uid;
	w->gid = gid;
	w->pid = pid;
	w->fd = sp[0];
	w->next = D.workers;
	D.workers = w;
	log_info("started pop3 worker pid %ld for uid %ld gid %ld", (long)pid, (long)uid, (long)gid);
	return w;
}

/* worker_forget - a worker exited (or its socket broke) */
static void worker_forget(struct worker *w)
{
	for (struct worker **pp = &D.workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			close(w->fd);
			free(w);
			return;
		}
}

/* dconf_uint - an unsigned setting */
static unsigned long dconf_uint(enum dconf_id id)
{
	return strtoul(dconf_get(D.env.dc, id), NULL, 10);
}

/* id_ok - the Dovecot uid/gid range checks; NULL or the reason */
static const char *id_ok(uid_t uid, gid_t gid)
{
	static char why[128];
	unsigned long fu = dconf_uint(DCONF_first_valid_uid), lu = dconf_uint(DCONF_last_valid_uid),
		      fg = dconf_uint(DCONF_first_valid_gid), lg = dconf_uint(DCONF_last_valid_gid);

	if (uid == 0)
		return "Logins with UID 0 not permitted";
	if (uid < fu || (lu && uid > lu)) {
		snprintf(why, sizeof(why), "Logins with UID %lu not permitted (see first_valid_uid in config file)",
			 (unsigned long)uid);
		return why;
	}
	if (gid < fg || (lg && gid > lg)) {
		snprintf(why, sizeof(why), "Logins with GID %lu not permitted (see first_valid_gid in config file)",
			 (unsigned long)gid);
		return why;
	}
	return NULL;
}

/* default_id - mail_uid / mail_gid when the userdb gave none: a number or a name */
static bool default_id(enum dconf_id id, bool is_uid, unsigned long *out)
{
	const char *v = dconf_get(D.env.dc, id);
	uint64_t n;

	if (v == NULL || *v == '\0')
		return false;
	if (parse_u64(v, strlen(v), &n) == 0) {
		*out = (unsigned long)n;
		return true;
	}
	if (is_uid) {
		struct passwd *pw = getpwnam(v);

		if (pw)
			*out = pw->pw_uid;
		return pw != NULL;
	}
	struct group *gr = getgrnam(v);

	if (gr)
		*out = gr->gr_gid;
	return gr != NULL;
}

/* field_ok - a userdb value may go into a TAB-separated line */
static bool field_ok(const char *s)
{
	return strpbrk(s, "\t\r\n") == NULL;
}

/* userdb_reply - auth-master answered the REQUEST of login connection l */
static void userdb_reply(enum auth_master_result r, const struct auth_userdb *u, const char *reason, void *ctx)
{
	struct lconn *l = ctx;
	char **f = l->fields;
	const char *why, *mail;
	unsigned long uid = 0, gid = 0;
	struct worker *w;
	struct buf line = BUF_INIT(DISP_LINE_MAX + 4096);
	char pid[32];

	if (r != AUTH_MASTER_OK) {
		log_warn("auth-master refused the login of pop3-login pid %ld (auth id %s): %s", (long)l->pid, f[1],
			 r == AUTH_MASTER_NOTFOUND ? "no such authentication" : reason ? reason : "failed");
		answer(l, "FAIL\t%s\n", "Authentication verification failed.");
		return;
	}
	if ((!u->has_uid && !default_id(DCONF_mail_uid, true, &uid)) ||
	    (!u->has_gid && !default_id(DCONF_mail_gid, false, &gid))) {
		log_err("user %s: the userdb gives no uid/gid and mail_uid/mail_gid are not set",
			log_sanitize(u->user, 100));
		answer(l, "FAIL\t%s\n", "Mail access is not configured for this user.");
		return;
	}
	if (u->has_uid)
		uid = u->uid;
	if (u->has_gid)
		gid = u->gid;
	if ((why = id_ok((uid_t)uid, (gid_t)gid)) != NULL) {
		log_err("user %s: %s", log_sanitize(u->user, 100), why);
		answer(l, "FAIL\t%s\n", why);
		return;
	}
	mail = u->mail && *u->mail ? u->mail : dconf_get_proto(D.env.dc, "pop3", DCONF_mail_location);
	if (!field_ok(u->user) || !field_ok(u->home ? u->home : "") || !field_ok(mail)) {
		answer(l, "FAIL\t%s\n", "Invalid user data.");
		return;
	}
	for (w = D.workers; w; w = w->next)
		if (w->uid == (uid_t)uid && w->gid == (gid_t)gid)
			break;
	if (w == NULL && (w = worker_spawn((uid_t)uid, (gid_t)gid, &why)) == NULL) {
		log_err("cannot start a pop3 worker: %s", why);
		answer(l, "FAIL\t%s\n", "Cannot start a mail session.");
		return;
	}
	buf_printf(&line, "SESSION\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", u->user, u->home ? u->home : "", mail,
		   dconf_get_proto(D.env.dc, "pop3", DCONF_pop3_uidl_format), f[3], f[4], f[5], f[6], f[7], f[9]);
	if (access_fd_send(w->fd, line.data, line.len, l->client) < 0) {
		log_err("pop3 worker pid %ld: %s", (long)w->pid, strerror(errno));
		buf_free(&line);
		worker_forget(w); /* a new one next time */
		answer(l, "FAIL\t%s\n", "Cannot start a mail session.");
		return;
	}
	buf_free(&line);
	snprintf(pid, sizeof(pid), "%ld", (long)w->pid);
	answer(l, "OK\t%s\n", pid);
}

/* lconn_read - the LOGIN line (and the client's descriptor) */
static void lconn_read(evutil_socket_t fd, short what, void *arg)
{
	struct lconn *l = arg;
	ssize_t n;
	char *nl;
	uint64_t id;

	if (what & EV_TIMEOUT) {
		lconn_free(l);
		return;
	}
	n = access_fd_recv(fd, &l->in, 4096, &l->client);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		lconn_free(l);
		return;
	}
	nl = memchr(l->in.data, '\n', l->in.len);
	if (nl == NULL)
		return;
	event_free(l->ev);
	l->ev = NULL;
	*nl = '\0';
	if (access_split(l->in.data, l->fields, 10) != 10 || strcmp(l->fields[0], "LOGIN") != 0 ||
	    parse_u64(l->fields[1], strlen(l->fields[1]), &id) < 0 || id == 0 || id > UINT32_MAX ||
	    l->client < 0) {
		/* a login process is not the client: a malformed line is a bug there */
		log_err("malformed hand-over from pop3-login pid %ld", (long)l->pid);
		answer(l, "FAIL\t%s\n", "Internal error.");
		return;
	}
	auth_master_request(D.am, l->pid, (uint32_t)id, l->fields[2], userdb_reply, l);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct timeval tv = { DISP_TIMEOUT_S, 0 };
	struct lconn *l;
	int fd;

	(void)what;
	(void)arg;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->fd = fd;
	l->client = -1;
	l->pid = cred.pid;
	buf_init(&l->in, DISP_LINE_MAX);
	l->next = D.lconns;
	if (D.lconns)
		D.lconns->prev = l;
	D.lconns = l;
	l->ev = event_new(D.base, fd, EV_READ | EV_PERSIST, lconn_read, l);
	event_add(l->ev, &tv);
}

/* sigchld - reap workers */
static void sigchld(evutil_socket_t sig, short what, void *arg)
{
	pid_t pid;
	int status;

	(void)sig;
	(void)what;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct worker *w = D.workers; w; w = w->next)
			if (w->pid == pid) {
				if (!D.stopping && (WIFSIGNALED(status) || WEXITSTATUS(status) != 0))
					log_warn("pop3 worker pid %ld ended with %s %d", (long)pid,
						 WIFSIGNALED(status) ? "signal" : "status",
						 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
				worker_forget(w);
				break;
			}
	}
	if (D.stopping && D.workers == NULL)
		event_base_loopbreak(D.base);
}

static void stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	for (struct worker *w = D.workers; w; w = w->next)
		kill(w->pid, SIGKILL);
	event_base_loopbreak(D.base);
}

/* sigterm - stop: the workers end their sessions (nothing is deleted), then we go */
static void sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { STOP_DEADLINE_S, 0 };

	(void)sig;
	(void)what;
	(void)arg;
	if (D.stopping)
		return;
	D.stopping = true;
	event_del(D.lev);
	for (struct worker *w = D.workers; w; w = w->next)
		kill(w->pid, SIGTERM);
	if (D.workers == NULL) {
		event_base_loopbreak(D.base);
		return;
	}
	event_base_once(D.base, -1, EV_TIMEOUT, stop_deadline, NULL, &tv);
}

/* pop3_disp_main - `postern service pop3` */
int pop3_disp_main(struct cli *cli, int argc, char **argv)
{
	struct event *sc, *st;
	ssize_t n;
	char *path;

	(void)argc;
	(void)argv;
	memset(&D, 0, sizeof(D));
	access_setup(cli->config_dir, "pop3", &D.env);
	D.config_dir = xstrdup(cli->config_dir);
	n = readlink("/proc/self/exe", D.exe, sizeof(D.exe) - 1);
	if (n <= 0)
		fatal("cannot find my own executable: %s", strerror(errno));
	D.exe[n] = '\0';
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (service_listen_fds(NULL) != 1)
		fatal("expected the %s socket on descriptor %d", SERVICE_POP3_SOCKET, SERVICE_LISTEN_FD_BASE);
	if (!D.env.root)
		log_info("running as uid %ld: pop3 workers keep this uid", (long)getuid());
	D.base = event_base_new();
	if (D.base == NULL)
		fatal("event_base_new failed");
	path = access_socket_path(&D.env, SERVICE_AUTH_MASTER_SOCKET);
	D.am = auth_master_new(D.base, path);
	free(path);
	D.lev = event_new(D.base, SERVICE_LISTEN_FD_BASE, EV_READ | EV_PERSIST, accept_cb, NULL);
	event_add(D.lev, NULL);
	sc = evsignal_new(D.base, SIGCHLD, sigchld, NULL);
	st = evsignal_new(D.base, SIGTERM, sigterm, NULL);
	event_add(sc, NULL);
	event_add(st, NULL);
	log_info("daemon started");
	event_base_dispatch(D.base);
	log_info("stopped");
	while (D.lconns)
		lconn_free(D.lconns);
	while (D.workers)
		worker_forget(D.workers);
	auth_master_free(&D.am);
	event_free(D.lev);
	event_free(sc);
	event_free(st);
	event_base_free(D.base);
	free(D.config_dir);
	access_free(&D.env);
	return 0;
}
