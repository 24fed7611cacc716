/*
 * master_conf.c - the master's configuration, addresses, sockets and queue directories
 *
 * Runs in:  master and the `postern start|stop|status|reload` commands
 * API:      master_load(), master_addresses(), master_bind(), master_dirs(),
 *           master_running()   -- see master.h
 * Tests:    tests/e2e/test_master.py
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "libmail/config_check.h"
#include "libmail/restrict.h"
#include "auth/auth_main.h"
#include "master/master.h"
#include "master/service.h"
#include "queue/qstore.h"

/* master_check_dovecot - the errors of dir/dovecot.conf (its warnings are `postern check`'s) */
static void master_check_dovecot(const char *dir, struct diag_list *diags)
{
	struct diag_list dl;

	diag_init(&dl);
	if (auth_conf_check(dir, false, &dl) < 0)
		for (size_t i = 0; i < dl.n; i++)
			if (dl.v[i].level == DIAG_ERROR)
				diag_add(diags, DIAG_ERROR, dl.v[i].file, dl.v[i].line, dl.v[i].fix, "%s", dl.v[i].msg);
	diag_free(&dl);
}

/* master_load - main.cf + master.cf, validated as `postern check` does */
int master_load(const char *dir, struct master_conf *mc, struct diag_list *diags)
{
	char *path, *text;
	size_t len, i;

	mc->cfg = config_load(dir, diags);
	mc->mcf = NULL;
	if (mc->cfg == NULL)
		return -1;
	path = xasprintf("%s/master.cf", dir);
	if (config_read_file(path, &text, &len) == 0) {
		mc->mcf = mastercf_parse(text, len, path, diags);
		for (i = 0; i < mc->mcf->n; i++) {
			struct config *svc = mastercf_service_config(mc->cfg, &mc->mcf->v[i], diags);

			config_free(&svc);
		}
		free(text);
	} else if (errno != ENOENT) {
		diag_add(diags, DIAG_ERROR, path, 0, "make it readable by root", "cannot read: %s",
			 strerror(errno));
	}
	free(path);
	config_check(mc->cfg, diags);
	restrict_check(mc->cfg, diags);
	master_check_dovecot(dir, diags);
	if (diag_has_errors(diags)) {
		master_conf_free(mc);
		return -1;
	}
	return 0;
}

/* master_conf_free - release a loaded configuration */
void master_conf_free(struct master_conf *mc)
{
	if (mc->mcf)
		mastercf_free(&mc->mcf);
	config_free(&mc->cfg);
}

/* push - append a copy of s to a NULL-terminated array of n entries */
static char **push(char **v, size_t *n, const char *s)
{
	v = xreallocarray(v, *n + 2, sizeof(*v));
	v[(*n)++] = xstrdup(s);
	v[*n] = NULL;
	return v;
}

/* master_addresses - where an inet service listens */
char **master_addresses(struct config *cfg, const struct master_service *svc)
{
	const char *const *ifs = NULL, *const *protos = NULL;
	const char *err;
	bool v4 = false, v6 = false;
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0, i, cnt;

	if (svc->host)
		return push(v, &n, svc->host);
	if (config_get_list(cfg, "inet_protocols", &protos, &cnt, &err) == 0 && protos)
		for (i = 0; protos[i]; i++) {
			if (strcmp(protos[i], "all") == 0)
				v4 = v6 = true;
			else if (strcmp(protos[i], "ipv4") == 0)
				v4 = true;
			else if (strcmp(protos[i], "ipv6") == 0)
				v6 = true;
		}
	if (!v4 && !v6)
		v4 = true;
	if (config_get_list(cfg, "inet_interfaces", &ifs, &cnt, &err) != 0 || ifs == NULL || ifs[0] == NULL ||
	    strcmp(ifs[0], "all") == 0) {
		if (v4)
			v = push(v, &n, "0.0.0.0");
		if (v6)
			v = push(v, &n, "::");
		return v;
	}
	if (strcmp(ifs[0], "loopback-only") == 0) {
		if (v4)
			v = push(v, &n, "127.0.0.1");
		if (v6)
			v = push(v, &n, "::1");
		return v;
	}
	for (i = 0; ifs[i]; i++) {
		const char *a = ifs[i];
		size_t l = strlen(a);

		if (l > 2 && a[0] == '[' && a[l - 1] == ']') {
			char *inner = xstrndup(a + 1, l - 2);

			v = push(v, &n, inner);
			free(inner);
		} else {
			v = push(v, &n, a);
		}
	}
	return v;
}

/* master_bind - one listening socket */
int master_bind(const char *host, int port)
{
	struct addrinfo hints, *res = NULL;
	char portstr[16];
	int fd, on = 1, rc, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0 || res == NULL) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		saved = errno;
		freeaddrinfo(res);
		errno = saved;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		saved = errno;
		close(fd);
		freeaddrinfo(res);
		errno = saved;
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* make_dir - mkdir -m mode, then fix mode and (as root) owner */
static int make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, const char **error_r)
{
	static char err[512];

	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		snprintf(err, sizeof(err), "create %s: %s", path, strerror(errno));
		*error_r = err;
		return -1;
	}
	if (geteuid() == 0 && chown(path, uid, gid) < 0) {
		snprintf(err, sizeof(err), "chown %s: %s", path, strerror(errno));
		*error_r = err;
		return -1;
	}
	if (chmod(path, mode) < 0) {
		snprintf(err, sizeof(err), "chmod %s: %s", path, strerror(errno));
		*error_r = err;
		return -1;
	}
	return 0;
}

/* make_log - create maillog_file (0640) writable by mail_owner; nothing to do when unset */
static int make_log(const char *path, uid_t uid, gid_t gid, const char **error_r)
{
	static char err[600];
	int fd;

	if (path == NULL || *path == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || (geteuid() == 0 && fchown(fd, uid, gid) < 0)) {
		snprintf(err, sizeof(err), "maillog_file %s: %s", path, strerror(errno));
		*error_r = err;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * master_dirs - the queue directory with its queues and pid/ public/ private/,
 * and maillog_file, all made here before any service starts: the services run
 * as mail_owner and cannot create them in the root-owned queue directory, and
 * they must be able to append to the log.
 */
int master_dirs(struct config *cfg, const char **error_r)
{
	const char *q = config_get(cfg, "queue_directory");
	uid_t uid = 0;
	gid_t gid = 0;
	char *p;
	int rc;

	if (geteuid() == 0) {
		const char *owner = config_get(cfg, "mail_owner");
		struct passwd *pw = getpwnam(owner ? owner : "");

		if (pw == NULL) {
			static char err[512];

			snprintf(err, sizeof(err),
				 "mail_owner \"%s\" is not a user; create it (useradd -r -d /nonexistent -s "
				 "/usr/sbin/nologin %s) or set mail_owner in main.cf",
				 owner ? owner : "", owner ? owner : "");
			*error_r = err;
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (make_dir(q, 0755, 0, 0, error_r) < 0)
		return -1;
	p = xasprintf("%s/pid", q);
	rc = make_dir(p, 0755, 0, 0, error_r);
	free(p);
	if (rc == 0) {
		p = xasprintf("%s/public", q);
		rc = make_dir(p, 0710, uid, gid, error_r);
		free(p);
	}
	if (rc == 0) {
		p = xasprintf("%s/private", q);
		rc = make_dir(p, 0700, uid, gid, error_r);
		free(p);
	}
	if (rc == 0) {
		/* incoming/ active/ deferred/ ...: owned by mail_owner, as qstore makes them */
		struct qstore qs;

		if (qstore_open(&qs, q, uid, gid, error_r) < 0)
			return -1;
		qstore_close(&qs);
	}
	if (rc == 0)
		rc = make_log(config_get(cfg, "maillog_file"), uid, gid, error_r);
	return rc;
}

/* master_unix_socket - bind queue_directory/NAME (stream: also listen) for a service; fd or -1 */
int master_unix_socket(const char *qdir, const char *name, int type, mode_t mode, bool root, uid_t uid,
		       gid_t gid, const char **error_r)
{
	static char err[600];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", qdir, name) >= sizeof(sun.sun_path)) {
		snprintf(err, sizeof(err), "queue_directory %s: too long for a socket path", qdir);
		*error_r = err;
		return -1;
	}
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(sun.sun_path, mode) < 0 ||
	    (root && chown(sun.sun_path, uid, gid) < 0) || (type == SOCK_STREAM && listen(fd, 128) < 0))
		goto fail;
	return fd;
fail:
	snprintf(err, sizeof(err), "socket %s: %s", sun.sun_path, strerror(errno));
	*error_r = err;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* master_running - the pid file lock's holder, or 0 */
long master_running(struct config *cfg)
{
	char *path = xasprintf("%s/" SERVICE_PID_FILE, config_get(cfg, "queue_directory"));
	struct flock lk;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	free(path);
	if (fd < 0)
		return 0;
	memset(&lk, 0, sizeof(lk));
	lk.l_type = F_WRLCK;
	lk.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &lk) < 0 || lk.l_type == F_UNLCK) {
		close(fd);
		return 0;
	}
	close(fd);
	return (long)lk.l_pid;
}
