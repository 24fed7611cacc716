/*
 * master.c - the supervisor process: daemonize, lock, bind, start and restart services
 *
 * Runs in:  master (root when started by root); parses no network input
 * API:      master_run()   -- see master.h; the service side is in service.h
 * Design:   `postern start` validates the configuration, then forks; the daemon
 *           (setsid, second fork, stdio on /dev/null) locks pid/master.pid,
 *           binds every listener and starts the services, and only then writes
 *           "ok" on a pipe: the command exits 0 only when the listeners are
 *           bound, else it prints the daemon's error and exits with its status.
 *           Signals (libevent): SIGCHLD reap + restart with backoff (1 s doubling
 *           to 60 s, reset after 60 s of running), SIGTERM/SIGINT stop (forward
 *           SIGTERM, SIGKILL after STOP_DEADLINE), SIGHUP reload (new processes
 *           with the new configuration, SIGTERM to the old ones).
 * Tests:    tests/e2e/test_master.py
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "libmail/svclog.h"
#include "master/master.h"
#include "master/service.h"

extern char **environ;

#define STOP_DEADLINE 15
#define BACKOFF_MAX 60

struct proc {
	char *command;      /* service name: smtpd, qmgr, virtual, local */
	char *svcname;      /* master.cf service field, NULL when implicit */
	int line;           /* master.cf line, 0 when implicit */
	int *fds;           /* listening sockets, n_fds of them */
	size_t n_fds;
	char *ssl_flags;    /* login services: '1' per implicit-TLS listener ($POSTERN_LISTEN_SSL), or NULL */
	int key_fd;         /* login services: ssl_key opened as root, the last of fds; -1: none */
	pid_t pid;          /* 0: not running (waiting for restart) */
	time_t started;
	int backoff;
	bool retiring;      /* SIGTERM sent after a reload; not restarted */
	struct event *timer;
	struct master *m;
};

struct master {
	char *dir;
	char exe[PATH_MAX];
	struct master_conf mc;
	struct listener *ls;
	size_t n_ls;
	struct proc **procs;
	size_t n_procs;
	struct event_base *base;
	struct event *sig[5];
	struct event *kill_timer;
	bool stopping, root;
	bool foreground; /* started with -f: services keep the master's stderr */
	int qmgr_fd;       /* public/qmgr, bound by the master before any service starts */
	int virtual_fd;    /* private/virtual, likewise: no start-up race between services */
	int local_fd;      /* private/local, likewise */
	int pop3_fd;       /* private/pop3 (the pop3 dispatcher), likewise */
	int auth_fd[2];    /* private/auth, private/auth-master: when dovecot.conf exists */
	uid_t uid;
	gid_t gid;
	int report_fd;      /* readiness pipe to `postern start`, -1 when done */
	int pid_fd;
	char *pid_path;
};

/* report - tell `postern start` how startup went (status, message), once */
static void report(struct master *m, int status, const char *msg)
{
	struct buf b = BUF_INIT(4096);

	if (m->report_fd < 0)
		return;
	buf_printf(&b, "%d %s", status, msg ? msg : "");
	if (write(m->report_fd, buf_cstr(&b), b.len) < 0)
		log_warn("cannot report startup status: %s", strerror(errno));
	close(m->report_fd);
	m->report_fd = -1;
	buf_free(&b);
}

/* startup_fail - log an error, report it, exit */
static _Noreturn void startup_fail(struct master *m, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static _Noreturn void startup_fail(struct master *m, int status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m->report_fd >= 0)
		report(m, status, msg);
	log_err("%s", msg);
	exit(status);
}

/* listener_get - the pooled socket for host:port, binding it when new; NULL on error */
static struct listener *listener_get(struct master *m, const char *host, int port, const char **error_r)
{
	size_t i;
	int fd;

	for (i = 0; i < m->n_ls; i++)
		if (m->ls[i].fd >= 0 && m->ls[i].port == port && strcmp(m->ls[i].host, host) == 0) {
			m->ls[i].used = true;
			return &m->ls[i];
		}
	fd = master_bind(host, port);
	if (fd < 0) {
		*error_r = strerror(errno);
		return NULL;
	}
	m->ls = xreallocarray(m->ls, m->n_ls + 1, sizeof(*m->ls));
	m->ls[m->n_ls].host = xstrdup(host);
	m->ls[m->n_ls].port = port;
	m->ls[m->n_ls].fd = fd;
	m->ls[m->n_ls].used = true;
	return &m->ls[m->n_ls++];
}

/* proc_new - a process slot (not started yet) */
static struct proc *proc_new(struct master *m, const char *command, const struct master_service *svc)
{
	struct proc *p = xcalloc(1, sizeof(*p));

	p->command = xstrdup(command);
	p->svcname = svc ? xstrdup(svc->name) : NULL;
	p->line = svc ? svc->line : 0;
	p->backoff = 1;
	p->key_fd = -1;
	p->m = m;
	m->procs = xreallocarray(m->procs, m->n_procs + 1, sizeof(*m->procs));
	m->procs[m->n_procs++] = p;
	return p;
}

/* proc_free - forget a process slot */
static void proc_free(struct master *m, struct proc *p)
{
	size_t i;

	for (i = 0; i < m->n_procs; i++)
		if (m->procs[i] == p) {
			m->procs[i] = m->procs[--m->n_procs];
			break;
		}
	if (p->timer)
		event_free(p->timer);
	free(p->command);
	free(p->svcname);
	free(p->fds);
	free(p->ssl_flags);
	if (p->key_fd >= 0)
		close(p->key_fd);
	free(p);
}

/* child_exec - in the child: listeners on 3.., environment, privileges, execve */
static _Noreturn void child_exec(struct master *m, struct proc *p)
{
	sigset_t none;
	int tmp[64], fd, maxfd;
	size_t i, n = p->n_fds < 64 ? p->n_fds : 64;
	char num[32];
	char *argv[] = { m->exe, "-c", m->dir, "service", p->command, NULL };

	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			signal((int)i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < n; i++)
		if ((tmp[i] = fcntl(p->fds[i], F_DUPFD_CLOEXEC, SERVICE_LISTEN_FD_BASE + (int)n)) < 0)
			_exit(126);
	for (i = 0; i < n; i++)
		if (dup2(tmp[i], SERVICE_LISTEN_FD_BASE + (int)i) < 0)
			_exit(126);
	/* everything above the listeners: one system call (Linux 5.9), else a bounded loop */
	if (close_range((unsigned)SERVICE_LISTEN_FD_BASE + (unsigned)n, ~0U, 0) != 0) {
		maxfd = (int)sysconf(_SC_OPEN_MAX);
		if (maxfd < 0 || maxfd > 65536)
			maxfd = 65536;
		for (fd = SERVICE_LISTEN_FD_BASE + (int)n; fd < maxfd; fd++)
			close(fd);
	}
	/*
	 * A daemonized master's stderr is /dev/null: give the service maillog_file
	 * as its stderr instead, so an error before its own logging is set up
	 * (an unreadable main.cf, say) is in the log and not lost.
	 */
	const char *maillog = config_get(m->mc.cfg, "maillog_file");

	if (!m->foreground && maillog && *maillog) {
		int lfd = open(maillog, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);

		if (lfd >= 0) {
			dup2(lfd, STDERR_FILENO);
			close(lfd);
		}
	}
	/* the ssl_key descriptor is the last one and not a listener */
	snprintf(num, sizeof(num), "%zu", p->key_fd >= 0 && n > 0 ? n - 1 : n);
	setenv(SERVICE_ENV_LISTEN_FDS, num, 1);
	snprintf(num, sizeof(num), "%d", SERVICE_LISTEN_FD_BASE + (int)n - 1);
	if (p->key_fd >= 0 && n > 0)
		setenv(SERVICE_ENV_SSL_KEY_FD, num, 1);
	else
		unsetenv(SERVICE_ENV_SSL_KEY_FD);
	if (p->svcname) {
		setenv(SERVICE_ENV_NAME, p->svcname, 1);
		snprintf(num, sizeof(num), "%d", p->line);
		setenv(SERVICE_ENV_LINE, num, 1);
	} else {
		unsetenv(SERVICE_ENV_NAME);
		unsetenv(SERVICE_ENV_LINE);
	}
	if (p->ssl_flags)
		setenv(SERVICE_ENV_LISTEN_SSL, p->ssl_flags, 1);
	else
		unsetenv(SERVICE_ENV_LISTEN_SSL);
	/* service.h: all but the delivery agents and the pop3 dispatcher run as mail_owner */
	if (m->root && strcmp(p->command, "virtual") != 0 && strcmp(p->command, "local") != 0 &&
	    strcmp(p->command, "pop3") != 0) {
		if (setgroups(1, &m->gid) < 0 || setresgid(m->gid, m->gid, m->gid) < 0 ||
		    setresuid(m->uid, m->uid, m->uid) < 0 || setuid(0) == 0)
			_exit(126);
	}
	execve(m->exe, argv, environ);
	_exit(127);
}

/* proc_start - fork and exec one service process */
static void proc_start(struct master *m, struct proc *p)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_warn("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		child_exec(m, p);
	p->pid = pid;
	p->started = time(NULL);
}

/* restart_cb - the backoff timer of a process ran out */
static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	(void)fd;
	(void)what;
	if (!p->m->stopping && !p->retiring && p->pid == 0)
		proc_start(p->m, p);
}

/* list_has - is w one of the words of a space- or comma-separated list? */
static bool list_has(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; *p;) {
		size_t k;

		p += strspn(p, ", \t");
		k = strcspn(p, ", \t");
		if (k == n && strncmp(p, w, n) == 0)
			return true;
		p += k;
	}
	return false;
}

/* proc_listen - add the listener host:port to p (ssl: implicit TLS); -1 with err on a bind error */
static int proc_listen(struct master *m, struct proc *p, const char *host, int port, bool ssl, bool optional,
		       char *err, size_t errlen)
{
	const char *why = NULL;
	struct listener *l = listener_get(m, host, port, &why);
	size_t k = p->n_fds;

	if (l == NULL) {
		/* the default "listen = *, ::" on a host without IPv6 */
		if (optional && (strcmp(why, strerror(EAFNOSUPPORT)) == 0 || strcmp(why, strerror(EADDRNOTAVAIL)) == 0))
			return 0;
		snprintf(err, errlen, "dovecot.conf: %s: cannot listen on %s%s%s:%d: %s", p->command,
			 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port, why);
		return -1;
	}
	p->fds = xreallocarray(p->fds, k + 1, sizeof(*p->fds));
	p->fds[k] = l->fd;
	p->n_fds = k + 1;
	p->ssl_flags = xrealloc(p->ssl_flags, k + 2);
	p->ssl_flags[k] = ssl ? '1' : '0';
	p->ssl_flags[k + 1] = '\0';
	return 0;
}

/* login_listen - one inet_listener of a login service: every address of its address or of listen */
static int login_listen(struct master *m, struct proc *p, const struct dconf *dc, const struct dconf_listener *l,
			int port, bool ssl, char *err, size_t errlen)
{
	const char *list = l && l->address ? l->address : dconf_get(dc, DCONF_listen);
	char *copy = xstrdup(list), *save = NULL;
	int rc = 0;

	for (char *a = strtok_r(copy, ", \t", &save); a && rc == 0; a = strtok_r(NULL, ", \t", &save)) {
		size_t n = strlen(a);

		if (n > 2 && a[0] == '[' && a[n - 1] == ']') {
			a[n - 1] = '\0';
			a++;
		}
		rc = proc_listen(m, p, strcmp(a, "*") == 0 ? "0.0.0.0" : a, port, ssl, !(l && l->address), err, errlen);
	}
	free(copy);
	return rc;
}

/*
 * login_key - open ssl_key as root for a login service (it runs as
 * mail_owner); it goes last in p's descriptors. Not readable here: the login
 * tries the file itself and says why it cannot.
 */
static void login_key(struct proc *p, const struct dconf *dc)
{
	const char *key = dconf_get(dc, DCONF_ssl_key);

	if (strcmp(dconf_get(dc, DCONF_ssl), "no") == 0 || key == NULL || *key == '\0')
		return;
	p->key_fd = open(*key == '<' ? key + 1 : key, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (p->key_fd < 0)
		return;
	p->fds = xreallocarray(p->fds, p->n_fds + 1, sizeof(*p->fds));
	p->fds[p->n_fds++] = p->key_fd;
}

/*
 * pop3_procs - when DIR/dovecot.conf names pop3 in protocols: pop3-login on
 * the inet listeners of service pop3-login (defaults pop3 110 and pop3s 995
 * with ssl; 1.x: those protocols lists; port 0: off) and the pop3 dispatcher
 * on private/pop3, bound once like public/qmgr.
 */
static int pop3_procs(struct master *m, struct master_conf *mc, char *err, size_t errlen)
{
	struct diag_list dl;
	bool missing = false;
	struct dconf *dc;
	struct proc *p;
	const struct dconf_service *svc;
	const char *why = NULL;
	int rc = 0;

	diag_init(&dl);
	dc = dconf_load(m->dir, &missing, &dl);
	diag_free(&dl); /* findings are master_load()'s and `postern check`'s */
	if (dc == NULL)
		return 0;
	if (!service_known("pop3-login") || !list_has(dconf_get(dc, DCONF_protocols), "pop3")) {
		dconf_free(&dc);
		return 0;
	}
	p = proc_new(m, "pop3-login", NULL);
	svc = dconf_service_find(dc, "pop3-login");
	for (const struct dconf_listener *l = svc ? svc->listeners : NULL; l && rc == 0; l = l->next) {
		int port = l->port, ssl = l->ssl;

		for (size_t i = 0; i < dconf_default_listener_count; i++)
			if (strcmp(dconf_default_listeners[i].service, "pop3-login") == 0 &&
			    strcmp(dconf_default_listeners[i].name, l->name) == 0) {
				port = port < 0 ? (int)dconf_default_listeners[i].port : port;
				ssl = ssl < 0 ? dconf_default_listeners[i].ssl : ssl;
			}
		if (port > 0)
			rc = login_listen(m, p, dc, l, port, ssl == 1, err, errlen);
	}
	for (size_t i = 0; i < dconf_default_listener_count && rc == 0; i++) {
		const struct dconf_listener_default *d = &dconf_default_listeners[i];

		if (strcmp(d->service, "pop3-login") == 0 && dconf_listener_find(dc, "pop3-login", d->name) == NULL)
			rc = login_listen(m, p, dc, NULL, (int)d->port, d->ssl, err, errlen);
	}
	if (rc == 0 && p->n_fds > 0)
		login_key(p, dc);
	dconf_free(&dc);
	if (rc < 0)
		return -1;
	if (p->n_fds == 0) {
		log_warn("dovecot.conf: protocols has pop3 but pop3-login has no listener");
		proc_free(m, p);
		return 0;
	}
	if (m->pop3_fd < 0 &&
	    (m->pop3_fd = master_unix_socket(config_get(mc->cfg, "queue_directory"), SERVICE_POP3_SOCKET, SOCK_STREAM,
					     0600, m->root, m->uid, m->gid, &why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	p = proc_new(m, "pop3", NULL);
	p->fds = xmalloc(sizeof(*p->fds));
	p->fds[0] = m->pop3_fd;
	p->n_fds = 1;
	return 0;
}

/*
 * auth_proc - with DIR/dovecot.conf, the auth service and its two sockets,
 * bound once (like public/qmgr) before any service starts: private/auth
 * (0660, mail_owner: the login processes) and private/auth-master (0600,
 * root: the dispatchers). auth runs as mail_owner (service.h).
 */
static int auth_proc(struct master *m, struct master_conf *mc, char *err, size_t errlen)
{
	const char *qdir = config_get(mc->cfg, "queue_directory"), *why = NULL;
	char *conf = xasprintf("%s/dovecot.conf", m->dir);
	bool have = access(conf, F_OK) == 0;
	struct proc *p;

	free(conf);
	if (!have || !service_known("auth"))
		return 0;
	if (m->auth_fd[0] < 0 &&
	    (m->auth_fd[0] = master_unix_socket(qdir, SERVICE_AUTH_SOCKET, SOCK_STREAM, 0660, m->root, m->uid, m->gid,
						&why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (m->auth_fd[1] < 0 &&
	    (m->auth_fd[1] = master_unix_socket(qdir, SERVICE_AUTH_MASTER_SOCKET, SOCK_STREAM, 0600, m->root, 0, 0,
						&why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	p = proc_new(m, "auth", NULL);
	p->fds = xmalloc(2 * sizeof(*p->fds));
	p->fds[0] = m->auth_fd[0];
	p->fds[1] = m->auth_fd[1];
	p->n_fds = 2;
	return 0;
}

/* conf_procs - listeners and process slots for a configuration; -1 (*error_r) on bind error */
static int conf_procs(struct master *m, struct master_conf *mc, char *err, size_t errlen)
{
	static const char *const implicit[] = { "qmgr", "virtual", "local", NULL };
	size_t i, k;

	for (i = 0; mc->mcf && i < mc->mcf->n; i++) {
		const struct master_service *svc = &mc->mcf->v[i];
		struct proc *p;
		char **addrs;

		if (!service_known(svc->command)) {
			log_warn("master.cf line %d: service %s is not part of Postern; ignored", svc->line,
				 svc->command);
			continue;
		}
		p = proc_new(m, svc->command, svc);
		if (svc->type != MASTER_INET)
			continue;
		addrs = master_addresses(mc->cfg, svc);
		for (k = 0; addrs[k]; k++) {
			const char *why = NULL;
			struct listener *l = listener_get(m, addrs[k], svc->port, &why);

			if (l == NULL) {
				snprintf(err, errlen, "%s, line %d: cannot listen on %s%s%s:%d: %s", svc->file,
					 svc->line, strchr(addrs[k], ':') ? "[" : "", addrs[k],
					 strchr(addrs[k], ':') ? "]" : "", svc->port, why);
				for (; addrs[k]; k++)
					free(addrs[k]);
				free(addrs);
				return -1;
			}
			p->fds = xreallocarray(p->fds, p->n_fds + 1, sizeof(*p->fds));
			p->fds[p->n_fds++] = l->fd;
			free(addrs[k]);
		}
		free(addrs);
	}
	for (i = 0; implicit[i]; i++) {
		int *fdp = strcmp(implicit[i], "qmgr") == 0      ? &m->qmgr_fd
			   : strcmp(implicit[i], "virtual") == 0 ? &m->virtual_fd
								 : &m->local_fd;
		struct proc *p;

		if (!service_known(implicit[i]))
			continue;
		/* the socket exists before any service runs, so none can miss another's */
		if (*fdp < 0) {
			const char *why = NULL;

			*fdp = strcmp(implicit[i], "qmgr") == 0
				       ? master_unix_socket(config_get(mc->cfg, "queue_directory"), SERVICE_QMGR_SOCKET,
							    SOCK_DGRAM, 0666, m->root, m->uid, m->gid, &why)
				       : master_unix_socket(config_get(mc->cfg, "queue_directory"),
							    fdp == &m->virtual_fd ? SERVICE_VIRTUAL_SOCKET
										  : SERVICE_LOCAL_SOCKET,
							    SOCK_STREAM, 0600, m->root, m->uid, m->gid, &why);
			if (*fdp < 0) {
				snprintf(err, errlen, "%s", why);
				return -1;
			}
		}
		p = proc_new(m, implicit[i], NULL);
		p->fds = xmalloc(sizeof(*p->fds));
		p->fds[0] = *fdp;
		p->n_fds = 1;
	}
	if (auth_proc(m, mc, err, errlen) < 0)
		return -1;
	return pop3_procs(m, mc, err, errlen);
}

/* close_unused - close pooled listeners the current configuration does not use */
static void close_unused(struct master *m)
{
	size_t i, j = 0;

	for (i = 0; i < m->n_ls; i++) {
		if (!m->ls[i].used) {
			close(m->ls[i].fd);
			free(m->ls[i].host);
			continue;
		}
		m->ls[j++] = m->ls[i];
	}
	m->n_ls = j;
}

/* start_new - start every process slot that never ran */
static void start_new(struct master *m)
{
	size_t i;

	for (i = 0; i < m->n_procs; i++)
		if (m->procs[i]->pid == 0 && !m->procs[i]->retiring && m->procs[i]->started == 0)
			proc_start(m, m->procs[i]);
}

/* maybe_done - stopping and every child is gone: remove the pid file and leave */
static void maybe_done(struct master *m)
{
	size_t i;

	if (!m->stopping)
		return;
	for (i = 0; i < m->n_procs; i++)
		if (m->procs[i]->pid > 0)
			return;
	unlink(m->pid_path);
	event_base_loopbreak(m->base);
}

/* sigchld_cb - reap children; log abnormal exits; restart with backoff */
static void sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	int status;
	pid_t pid;
	size_t i;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct proc *p = NULL;

		for (i = 0; i < m->n_procs; i++)
			if (m->procs[i]->pid == pid)
				p = m->procs[i];
		if (p == NULL)
			continue;
		p->pid = 0;
		if (m->stopping || p->retiring) {
			if (p->retiring && !m->stopping)
				proc_free(m, p);
			continue;
		}
		if (WIFSIGNALED(status))
			log_warn("process %s pid %ld killed by signal %d", m->exe, (long)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			log_warn("process %s pid %ld exit status %d", m->exe, (long)pid, WEXITSTATUS(status));
		else
			log_warn("process %s pid %ld exited unexpectedly", m->exe, (long)pid);
		if (time(NULL) - p->started >= BACKOFF_MAX)
			p->backoff = 1;
		if (p->timer == NULL)
			p->timer = evtimer_new(m->base, restart_cb, p);
		struct timeval tv = { p->backoff, 0 };
		evtimer_add(p->timer, &tv);
		p->backoff = p->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : p->backoff * 2;
	}
	maybe_done(m);
}

/* kill_cb - the stop deadline passed: SIGKILL what is left */
static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < m->n_procs; i++)
		if (m->procs[i]->pid > 0) {
			log_warn("process %s pid %ld did not stop in %d s: killing it", m->exe,
				 (long)m->procs[i]->pid, STOP_DEADLINE);
			kill(m->procs[i]->pid, SIGKILL);
		}
}

/* term_cb - SIGTERM/SIGINT: stop every child, then exit */
static void term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	struct timeval tv = { STOP_DEADLINE, 0 };
	size_t i;

	(void)what;
	if (m->stopping)
		return;
	log_info("terminating on signal %d", (int)sig);
	m->stopping = true;
	for (i = 0; i < m->n_procs; i++)
		if (m->procs[i]->pid > 0)
			kill(m->procs[i]->pid, SIGTERM);
	m->kill_timer = evtimer_new(m->base, kill_cb, m);
	evtimer_add(m->kill_timer, &tv);
	maybe_done(m);
}

/* hup_cb - SIGHUP: reload; the old configuration stays when the new one is bad */
static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	struct diag_list dl;
	struct master_conf mc;
	struct buf line = BUF_INIT(8192);
	size_t i, n_old = m->n_procs;
	char err[1024];

	(void)sig;
	(void)what;
	if (m->stopping)
		return;
	diag_init(&dl);
	if (master_load(m->dir, &mc, &dl) < 0) {
		for (i = 0; i < dl.n; i++) {
			buf_reset(&line);
			diag_format(&dl.v[i], &line);
			log_msg(dl.v[i].level == DIAG_ERROR ? LOG_LVL_ERR : LOG_LVL_WARN, "%s", buf_cstr(&line));
		}
		log_err("reload failed: configuration errors; still running the old configuration");
		diag_free(&dl);
		buf_free(&line);
		return;
	}
	diag_free(&dl);
	buf_free(&line);
	for (i = 0; i < m->n_ls; i++)
		m->ls[i].used = false;
	if (conf_procs(m, &mc, err, sizeof(err)) < 0) {
		log_err("reload failed: %s; still running the old configuration", err);
		while (m->n_procs > n_old)
			proc_free(m, m->procs[m->n_procs - 1]);
		for (i = 0; i < m->n_ls; i++)
			m->ls[i].used = true;
		master_conf_free(&mc);
		return;
	}
	/* old processes: finish their sessions and go */
	for (i = 0; i < n_old; i++) {
		struct proc *p = m->procs[i];

		p->retiring = true;
		if (p->timer)
			event_del(p->timer);
		if (p->pid > 0)
			kill(p->pid, SIGTERM);
	}
	for (i = n_old; i-- > 0;)
		if (m->procs[i]->pid == 0)
			proc_free(m, m->procs[i]);
	master_conf_free(&m->mc);
	m->mc = mc;
	start_new(m);
	close_unused(m);
	log_info("reload -- version %s, configuration %s", POSTERN_VERSION, m->dir);
}

/* lock_pid - take the pid file lock and write our pid */
static void lock_pid(struct master *m)
{
	struct flock lk;
	char num[32];
	int n;

	m->pid_path = xasprintf("%s/" SERVICE_PID_FILE, config_get(m->mc.cfg, "queue_directory"));
	m->pid_fd = open(m->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (m->pid_fd < 0)
		startup_fail(m, 1, "open %s: %s", m->pid_path, strerror(errno));
	memset(&lk, 0, sizeof(lk));
	lk.l_type = F_WRLCK;
	lk.l_whence = SEEK_SET;
	if (fcntl(m->pid_fd, F_SETLK, &lk) < 0) {
		long pid = master_running(m->mc.cfg);

		startup_fail(m, 1, "the Postern mail system is already running (pid %ld)", pid);
	}
	n = snprintf(num, sizeof(num), "%ld\n", (long)getpid());
	if (ftruncate(m->pid_fd, 0) < 0 || write(m->pid_fd, num, (size_t)n) != n)
		startup_fail(m, 1, "write %s: %s", m->pid_path, strerror(errno));
}

/* daemonize - fork twice; the original process waits for the readiness report */
static int daemonize(struct master *m, bool *parent_r)
{
	int pfd[2], null;
	char msg[4096];
	ssize_t r;
	size_t got = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(pfd[1]);
		while (got < sizeof(msg) - 1 && (r = read(pfd[0], msg + got, sizeof(msg) - 1 - got)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;
			got += (size_t)r;
		}
		msg[got] = '\0';
		close(pfd[0]);
		waitpid(pid, NULL, 0);
		*parent_r = true;
		if (got == 0) {
			fprintf(stderr, "postern/master: fatal: the master exited during startup; see the mail log\n");
			return 1;
		}
		if (msg[0] == '0')
			return 0;
		fprintf(stderr, "postern/master: fatal: %s\n", strchr(msg, ' ') ? strchr(msg, ' ') + 1 : msg);
		return msg[0] - '0';
	}
	close(pfd[0]);
	setsid();
	if ((pid = fork()) < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		_exit(1);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	m->report_fd = pfd[1];
	*parent_r = false;
	return 0;
}

/* log_setup - the master's log destinations */
static void log_setup(struct master *m, bool with_stderr)
{
	const char *err;

	service_log_init(m->mc.cfg, "master", with_stderr ? LOG_TO_STDERR : 0, &err);
}

int master_run(const char *dir, struct master_conf *mc, bool foreground)
{
	struct master m;
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
	event_callback_fn cbs[] = { sigchld_cb, term_cb, term_cb, hup_cb };
	char err[1024];
	const char *why;
	bool parent = false;
	ssize_t n;
	size_t i;
	int rc;

	memset(&m, 0, sizeof(m));
	m.report_fd = -1;
	m.pid_fd = -1;
	m.mc = *mc;
	m.dir = realpath(dir, NULL);
	if (m.dir == NULL)
		m.dir = xstrdup(dir);
	n = readlink("/proc/self/exe", m.exe, sizeof(m.exe) - 1);
	if (n <= 0)
		fatal("cannot find my own executable: %s", strerror(errno));
	m.exe[n] = '\0';
	m.root = geteuid() == 0;
	m.qmgr_fd = m.virtual_fd = m.local_fd = m.auth_fd[0] = m.auth_fd[1] = -1;
	m.pop3_fd = -1;
	m.foreground = foreground;
	if (m.root) {
		const char *owner = config_get(m.mc.cfg, "mail_owner");
		struct passwd *pw = getpwnam(owner ? owner : "");

		if (pw == NULL) {
			fprintf(stderr,
				"postern/master: fatal: mail_owner \"%s\" is not a user; create it with "
				"\"useradd -r -d /nonexistent -s /usr/sbin/nologin %s\" or set mail_owner in main.cf\n",
				owner ? owner : "", owner ? owner : "");
			return EXIT_USAGE;
		}
		m.uid = pw->pw_uid;
		m.gid = pw->pw_gid;
	}
	if (master_dirs(m.mc.cfg, &why) < 0) {
		fprintf(stderr, "postern/master: fatal: %s\n", why);
		return 1;
	}
	if ((rc = (int)master_running(m.mc.cfg)) > 0) {
		fprintf(stderr, "postern/master: fatal: the Postern mail system is already running (pid %d)\n", rc);
		return 1;
	}
	if (!foreground) {
		rc = daemonize(&m, &parent);
		if (parent) {
			free(m.dir);
			return rc;
		}
	}
	log_setup(&m, foreground);
	lock_pid(&m);
	signal(SIGPIPE, SIG_IGN);
	if (!m.root)
		log_info("running as uid %ld: not changing user ids", (long)getuid());
	if (conf_procs(&m, &m.mc, err, sizeof(err)) < 0) {
		unlink(m.pid_path);
		startup_fail(&m, 1, "%s", err);
	}
	m.base = event_base_new();
	if (m.base == NULL)
		startup_fail(&m, 1, "event_base_new failed");
	for (i = 0; i < 4; i++) {
		m.sig[i] = evsignal_new(m.base, sigs[i], cbs[i], &m);
		evsignal_add(m.sig[i], NULL);
	}
	start_new(&m);
	log_info("daemon started -- version %s, configuration %s", POSTERN_VERSION, m.dir);
	report(&m, 0, "started");
	event_base_dispatch(m.base);
	while (m.n_procs)
		proc_free(&m, m.procs[0]);
	free(m.procs);
	for (i = 0; i < m.n_ls; i++) {
		close(m.ls[i].fd);
		free(m.ls[i].host);
	}
	free(m.ls);
	for (i = 0; i < 4; i++)
		event_free(m.sig[i]);
	if (m.kill_timer)
		event_free(m.kill_timer);
	event_base_free(m.base);
	master_conf_free(&m.mc);
	*mc = m.mc;
	free(m.pid_path);
	free(m.dir);
	if (m.pid_fd >= 0)
		close(m.pid_fd);
	return 0;
}
