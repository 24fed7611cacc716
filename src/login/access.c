/*
 * access.c - start-up and descriptor passing shared by the mail access services
 *
 * Runs in:  pop3-login, pop3 dispatcher and workers (imap next)
 * API:      see access.h
 * Tests:    tests/e2e/test_pop3.py
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/config.h"
#include "libmail/dovecot_conf.h"
#include "libmail/svclog.h"
#include "login/access.h"
#include "master/service.h"

/* report - log findings; true when one is an error */
static bool report(struct diag_list *dl)
{
	struct buf b = BUF_INIT(0);

	for (size_t i = 0; i < dl->n; i++) {
		buf_reset(&b);
		diag_format(&dl->v[i], &b);
		log_msg(dl->v[i].level == DIAG_ERROR ? LOG_LVL_ERR : LOG_LVL_WARN, "%s", buf_cstr(&b));
	}
	buf_free(&b);
	return diag_has_errors(dl);
}

/* access_setup - main.cf, logging, dovecot.conf */
void access_setup(const char *config_dir, const char *ident, struct access_env *env)
{
	struct diag_list dl;
	const char *err;
	bool missing = false;

	memset(env, 0, sizeof(*env));
	diag_init(&dl);
	env->cfg = config_load(config_dir, &dl);
	if (env->cfg == NULL) {
		report(&dl);
		fatal("cannot read the configuration in %s", config_dir);
	}
	diag_free(&dl);
	if (service_log_init(env->cfg, ident, 0, &err) < 0 && getenv(ACCESS_ENV_LOG_FD) == NULL)
		log_warn("maillog_file: %s", err);
	if (access_env_fd(ACCESS_ENV_LOG_FD) >= 0)
		log_use_fd(access_env_fd(ACCESS_ENV_LOG_FD));
	diag_init(&dl);
	env->dc = dconf_load(config_dir, &missing, &dl);
	if (env->dc == NULL && !missing) {
		report(&dl);
		fatal("cannot read %s/dovecot.conf", config_dir);
	}
	/* warnings were shown by `postern start`; only errors stop a service */
	if (env->dc && diag_has_errors(&dl)) {
		report(&dl);
		fatal("%s/dovecot.conf has errors", config_dir);
	}
	diag_free(&dl);
	if (env->dc == NULL)
		env->dc = dconf_parse("", 0, "dovecot.conf", NULL, NULL, NULL);
	env->qdir = config_get(env->cfg, "queue_directory");
	env->root = geteuid() == 0;
}

void access_free(struct access_env *env)
{
	dconf_free(&env->dc);
	config_free(&env->cfg);
}

char *access_socket_path(const struct access_env *env, const char *name)
{
	return xasprintf("%s/%s", env->qdir, name);
}

/* access_fd_send - one sendmsg with an optional SCM_RIGHTS descriptor */
int access_fd_send(int sock, const void *msg, size_t n, int fd)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = n };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if ((size_t)r != n) {
		errno = EMSGSIZE; /* the messages are small: a short write means a full socket */
		return -1;
	}
	return 0;
}

/* access_fd_recv - recvmsg into b, collecting at most one descriptor */
ssize_t access_fd_recv(int sock, struct buf *b, size_t max, int *fd_r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t r;

	if (buf_reserve(b, max) < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	iov.iov_base = b->data + b->len;
	iov.iov_len = max;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*fd_r < 0)
				*fd_r = fd;
			else
				close(fd);
		}
	}
	b->len += (size_t)r;
	b->data[b->len] = '\0';
	return r;
}

/* access_split - TAB-separated fields */
int access_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *t = strchr(p, '\t');

		if (n == max)
			return -1;
		fields[n++] = p;
		if (!t)
			return n;
		*t = '\0';
		p = t + 1;
	}
}

/* access_loopback - 127/8, ::1, ::ffff:127/104 */
bool access_loopback(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0)
			return true;
		return memcmp(a6.s6_addr, v4mapped, 12) == 0 && a6.s6_addr[12] == 127;
	}
	return false;
}

int access_env_fd(const char *name)
{
	const char *v = getenv(name);
	uint64_t n;

	if (v == NULL || parse_u64(v, strlen(v), &n) != 0 || n > 65535)
		return -1;
	return (int)n;
}
