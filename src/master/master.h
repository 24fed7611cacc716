/*
 * master.h - the supervisor: validate the configuration, bind listeners, run services
 *
 * Runs in:  master (root when started by root); parses no network input
 * API:      master_load(), master_listen(), master_run()   -- see below
 * Contract: src/master/service.h (what each service process gets)
 * Tests:    tests/e2e/test_master.py
 */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "libmail/config.h"
#include "libmail/diag.h"
#include "libmail/mastercf.h"

#define POSTERN_VERSION "0.1"

/* one bound listening socket, shared by every process generation that uses it */
struct listener {
	char *host; /* numeric address as bound ("127.0.0.1", "::") */
	int port;
	int fd;     /* -1: closed */
	bool used;  /* wanted by the current configuration */
};

/* a validated configuration: main.cf, master.cf and the services they name */
struct master_conf {
	struct config *cfg;
	struct mastercf *mcf; /* NULL when master.cf does not exist */
};

/*
 * master_load - load and validate dir's main.cf and master.cf (like `postern
 * check`, without the table and mailbox checks). Findings go to diags.
 * Returns 0 and fills *mc, or -1 when an error was found (*mc is empty).
 */
int master_load(const char *dir, struct master_conf *mc, struct diag_list *diags);
/* master_conf_free - release what master_load() filled */
void master_conf_free(struct master_conf *mc);

/*
 * master_addresses - the addresses an inet service listens on: its host, else
 * inet_interfaces (all, loopback-only or a list) filtered by inet_protocols.
 * Returns a NULL-terminated array of strdup'ed strings (free each, then it).
 */
char **master_addresses(struct config *cfg, const struct master_service *svc);

/*
 * master_bind - a listening TCP socket on host:port (SO_REUSEADDR, IPV6_V6ONLY,
 * close-on-exec). Returns the fd, or -1 with errno set.
 */
int master_bind(const char *host, int port);

/*
 * master_run - become the master: create the queue directories, lock the pid
 * file, bind listeners, start services, then supervise until SIGTERM.
 * Unless foreground, daemonizes first; the calling process returns only when
 * the daemon reported success (0) or an error (its exit status, message
 * printed on stderr). Returns the exit status for the command.
 */
int master_run(const char *dir, struct master_conf *mc, bool foreground);

/* master_dirs - create queue_directory and pid/ public/ private/; 0 or -1 (*error_r) */
int master_dirs(struct config *cfg, const char **error_r);

/*
 * master_running - pid of the running master of this configuration (the holder
 * of the pid file lock), 0 when none. Never trusts a stale pid file.
 */
long master_running(struct config *cfg);

/*
 * master_unix_socket - bind the unix socket queue_directory/NAME of a service
 * (SOCK_STREAM sockets also listen) with mode, owned by uid:gid when root.
 * Returns the descriptor, or -1 with *error_r.
 */
int master_unix_socket(const char *qdir, const char *name, int type, mode_t mode, bool root, uid_t uid,
		       gid_t gid, const char **error_r);

#endif
