/*
 * access.h - start-up shared by the mail access services (logins, dispatchers, workers)
 *
 * Every process of the access side reads main.cf (queue_directory, logging,
 * mail_owner) and dovecot.conf (when present; else Dovecot's defaults), logs
 * as "$syslog_name/IDENT", and some take listening sockets from the master.
 *
 * Runs in:  pop3-login, pop3 (dispatcher and workers); imap next
 * API:      access_setup(), access_free(), access_socket_path(),
 *           access_fd_send(), access_fd_recv(), access_split()
 * Tests:    tests/e2e/test_pop3.py
 */
#ifndef POSTERN_ACCESS_H
#define POSTERN_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

struct config;
struct dconf;

/* a log file descriptor opened by a privileged parent (log_use_fd()) */
#define ACCESS_ENV_LOG_FD "POSTERN_LOG_FD"

struct access_env {
	struct config *cfg;  /* main.cf */
	struct dconf *dc;    /* dovecot.conf, or the defaults */
	const char *qdir;    /* queue_directory */
	bool root;           /* running as root */
};

/* access_setup - load both files and start logging as ident; fatal on configuration errors */
void access_setup(const char *config_dir, const char *ident, struct access_env *env);
void access_free(struct access_env *env);

/* access_socket_path - "queue_directory/name" (malloc'd) */
char *access_socket_path(const struct access_env *env, const char *name);

/* access_fd_send - send msg (n bytes) with descriptor fd attached (-1: none); 0 or -1 (errno) */
int access_fd_send(int sock, const void *msg, size_t n, int fd);
/*
 * access_fd_recv - receive up to max bytes into buf (appended); a descriptor
 * that came with them goes to *fd_r (extra ones are closed; *fd_r untouched
 * when none). Returns bytes read, 0 at EOF, -1 (errno).
 */
ssize_t access_fd_recv(int sock, struct buf *b, size_t max, int *fd_r);

/*
 * access_split - split line at TABs into at most max fields (in place); the
 * count, or -1 when there are more than max
 */
int access_split(char *line, char **fields, int max);

/* access_loopback - is the numeric address a loopback one (127.0.0.0/8, ::1, ::ffff:127.x)? */
bool access_loopback(const char *ip);
/* access_env_fd - the descriptor number in environment variable name, or -1 when unset or not a number */
int access_env_fd(const char *name);

#endif
