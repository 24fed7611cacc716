/*
 * auth.c - `postern service auth`: the authentication service (startup, sockets, signals)
 *
 * Reads main.cf (queue_directory, logging, myhostname) and dovecot.conf (auth
 * settings, passdbs, userdbs), then serves, on one libevent loop:
 *   private/auth         login processes' SASL requests (auth_conn.c), mode 0660 mail_owner
 *   private/auth-master  dispatchers' REQUEST/USER lookups (auth_mconn.c), mode 0600 root
 * The master binds both (descriptors 3 and 4, $POSTERN_LISTEN_FDS=2); run by
 * hand without them, the service binds them itself under queue_directory.
 * It runs as mail_owner when the master is root, so the passwd-file must be
 * readable by mail_owner (as by Dovecot's auth user).
 * SIGTERM: exit at once; logins see their requests fail temporarily.
 *
 * Runs in:  the auth service
 * Tests:    tests/e2e/test_auth.py
 * Refs:     docs/mail-access.md, Dovecot's auth settings
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/auth.h"
#include "auth/auth_main.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/config.h"
#include "libmail/dovecot_conf.h"
#include "libmail/sasl.h"
#include "libmail/svclog.h"
#include "master/service.h"

struct listener {
	struct auth *a;
	int fd;
	bool master;
	struct event *ev;
};

/* split_words - a space/comma separated list into a NULL-terminated array (upper case when upper) */
static char **split_words(const char *s, bool upper)
{
	char **v = xcalloc(strlen(s) / 2 + 2, sizeof(*v));
	size_t n = 0;

	while (*s) {
		size_t k = 0;

		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		while (s[k] && s[k] != ' ' && s[k] != ',' && s[k] != '\t')
			k++;
		if (k == 0)
			break;
		v[n] = xstrndup(s, k);
		if (upper)
			for (char *p = v[n]; *p; p++)
				*p = ascii_toupper(*p);
		n++;
		s += k;
	}
	return v;
}

/* free_words - an array of split_words */
static void free_words(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* getbool - a boolean setting (validated by the parser) */
static bool getbool(const struct dconf *cf, enum dconf_id id)
{
	bool b = false;

	(void)dconf_parse_bool(dconf_get(cf, id), &b);
	return b;
}

/* auth_settings_load - the auth settings of cf; 0, or -1 with *error_r (malloc'd) */
int auth_settings_load(struct auth_settings *set, const struct dconf *cf, const char *myhostname, char **error_r)
{
	const char *v;

	memset(set, 0, sizeof(*set));
	set->verbose = getbool(cf, DCONF_auth_verbose) || getbool(cf, DCONF_auth_debug);
	set->debug = getbool(cf, DCONF_auth_debug);
	set->allow_plaintext = dconf_is_set(cf, DCONF_auth_allow_cleartext) ? getbool(cf, DCONF_auth_allow_cleartext)
									    : !getbool(cf, DCONF_disable_plaintext_auth);
	if (dconf_parse_time(dconf_get(cf, DCONF_auth_failure_delay), &set->failure_delay_ms) < 0)
		set->failure_delay_ms = 2000;
	set->username_format = xstrdup(dconf_get(cf, DCONF_auth_username_format));
	set->username_chars = xstrdup(dconf_get(cf, DCONF_auth_username_chars));
	set->default_realm = xstrdup(dconf_get(cf, DCONF_auth_default_realm));
	set->anonymous_user = xstrdup(dconf_get(cf, DCONF_auth_anonymous_username));
	v = dconf_get(cf, DCONF_hostname);
	set->hostname = xstrdup(v && v[0] ? v : myhostname ? myhostname : "localhost");
	set->realms = split_words(dconf_get(cf, DCONF_auth_realms), false);
	set->mechs = split_words(dconf_get(cf, DCONF_auth_mechanisms), true);
	for (char **m = set->mechs; *m; m++)
		if (sasl_mech_known(*m) != 1) {
			*error_r = xasprintf("auth_mechanisms: %s mechanism \"%s\"",
					     sasl_mech_known(*m) < 0 ? "obsolete" : "unknown", *m);
			return -1;
		}
	if (set->mechs[0] == NULL) {
		*error_r = xstrdup("auth_mechanisms is empty");
		return -1;
	}
	return 0;
}

/* auth_settings_free - release what auth_settings_load made */
void auth_settings_free(struct auth_settings *set)
{
	free(set->username_format);
	free(set->username_chars);
	free(set->default_realm);
	free(set->anonymous_user);
	free(set->hostname);
	free_words(set->realms);
	free_words(set->mechs);
	memset(set, 0, sizeof(*set));
}

/* on_accept - a new connection on one of the two sockets */
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	int c;

	(void)what;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if ((l->master ? l->a->n_mconns : l->a->n_conns) >= AUTH_MAX_CONNS || l->a->stopping) {
			log_warn("%s: too many connections (%d)", l->master ? "auth-master" : "auth", AUTH_MAX_CONNS);
			close(c);
			continue;
		}
		if (l->master)
			auth_mconn_accept(l->a, c);
		else
			auth_conn_accept(l->a, c);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
		log_warn("accept: %s", strerror(errno));
}

/* bind_socket - queue_directory/name, bound here (the service run by hand) */
static int bind_socket(const char *qdir, const char *name, mode_t mode)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[4096];
	int fd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/private", qdir) >= sizeof(dir) ||
	    (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", qdir, name) >= sizeof(sun.sun_path))
		fatal("queue_directory too long for a socket path");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		fatal("mkdir %s: %s", dir, strerror(errno));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(sun.sun_path, mode) < 0 || listen(fd, 128) < 0)
		fatal("bind %s: %s", sun.sun_path, strerror(errno));
	return fd;
}

/* get_fds - descriptors 3 and 4 from the master, or bound here */
static void get_fds(const char *qdir, int fds[2])
{
	const char *env = getenv(SERVICE_ENV_LISTEN_FDS);

	if (env && *env && strcmp(env, "0") != 0) {
		if (strcmp(env, "2") != 0)
			fatal("auth needs 2 listening sockets ($%s=%s)", SERVICE_ENV_LISTEN_FDS, env);
		fds[0] = SERVICE_LISTEN_FD_BASE;
		fds[1] = SERVICE_LISTEN_FD_BASE + 1;
	} else {
		fds[0] = bind_socket(qdir, SERVICE_AUTH_SOCKET, 0660);
		fds[1] = bind_socket(qdir, SERVICE_AUTH_MASTER_SOCKET, 0600);
	}
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0)
			fatal("listening descriptor %d: %s", fds[i], strerror(errno));
		(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
}

/* on_term - SIGTERM/SIGINT: stop */
static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct auth *a = arg;

	(void)sig;
	(void)what;
	a->stopping = true;
	event_base_loopbreak(a->base);
}

/* load - main.cf and dovecot.conf into a; returns the queue directory (in cfg) */
static const char *load(struct auth *a, struct cli *cli, struct config **cfg_r)
{
	struct diag_list dl;
	struct dconf *cf;
	const char *err, *qdir;
	char *e = NULL;
	bool missing = false;

	diag_init(&dl);
	if (!(*cfg_r = config_load(cli->config_dir, &dl)) || diag_has_errors(&dl))
		fatal("cannot load the configuration from %s", cli->config_dir);
	diag_free(&dl);
	if (service_log_init(*cfg_r, "auth", LOG_TO_STDERR, &err) < 0)
		log_warn("maillog_file: %s", err);
	if (!(qdir = config_get(*cfg_r, "queue_directory")))
		fatal("no queue_directory");
	cf = dconf_load(cli->config_dir, &missing, &dl);
	for (size_t i = 0; i < dl.n; i++)
		if (dl.v[i].level == DIAG_ERROR)
			log_err("%s:%d: %s", dl.v[i].file ? dl.v[i].file : "dovecot.conf", dl.v[i].line, dl.v[i].msg);
	if (!cf || diag_has_errors(&dl))
		fatal(missing ? "%s/dovecot.conf does not exist: no authentication without it"
			      : "%s/dovecot.conf has errors (see `postern check`)",
		      cli->config_dir);
	diag_free(&dl);
	if (auth_settings_load(&a->set, cf, config_get(*cfg_r, "myhostname"), &e) < 0 || auth_db_open(a, cf, &e) < 0)
		fatal("dovecot.conf: %s", e);
	for (struct authdb *db = a->passdbs; db; db = db->next)
		db->log_reads = true;
	for (struct authdb *db = a->userdbs; db; db = db->next)
		db->log_reads = true;
	dconf_free(&cf);
	return qdir;
}

/* auth_main - `postern service auth` */
int auth_main(struct cli *cli, int argc, char **argv)
{
	struct auth a;
	struct config *cfg;
	struct listener l[2];
	struct event *sterm, *sint;
	const char *qdir;
	int fds[2];

	(void)argc;
	(void)argv;
	memset(&a, 0, sizeof(a));
	log_init("postern", "auth", LOG_TO_STDERR, NULL, NULL);
	qdir = load(&a, cli, &cfg);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* the master reloads by starting a new process */
	get_fds(qdir, fds);
	if (!(a.base = event_base_new()))
		fatal("event_base_new failed");
	for (int i = 0; i < 2; i++) {
		l[i].a = &a;
		l[i].fd = fds[i];
		l[i].master = i == 1;
		l[i].ev = event_new(a.base, fds[i], EV_READ | EV_PERSIST, on_accept, &l[i]);
		event_add(l[i].ev, NULL);
	}
	sterm = evsignal_new(a.base, SIGTERM, on_term, &a);
	sint = evsignal_new(a.base, SIGINT, on_term, &a);
	event_add(sterm, NULL);
	event_add(sint, NULL);
	{
		struct buf mb = BUF_INIT(1024);

		for (char **m = a.set.mechs; *m; m++)
			buf_printf(&mb, "%s%s", m == a.set.mechs ? "" : " ", *m);
		log_info("daemon started -- mechanisms %s%s", buf_cstr(&mb),
			 a.set.allow_plaintext ? "" : "; plaintext ones only when secured");
		buf_free(&mb);
	}
	event_base_dispatch(a.base);
	log_info("stopped");
	auth_conn_free_all(&a);
	auth_mconn_free_all(&a);
	for (int i = 0; i < 2; i++) {
		event_free(l[i].ev);
		close(fds[i]);
	}
	event_free(sterm);
	event_free(sint);
	event_base_free(a.base);
	auth_db_close(&a);
	auth_settings_free(&a.set);
	config_free(&cfg);
	return 0;
}
