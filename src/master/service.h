/*
 * service.h - the contract between the master and the services it starts
 *
 * The master (root when started by root) binds every listener, then starts each
 * service by fork + execve of the postern binary itself:
 *
 *     postern -c CONFIG_DIR service NAME
 *
 * with, in the child, before execve:
 *   - the service's listening sockets on descriptors 3, 4, ... (SERVICE_LISTEN_FD_BASE),
 *     their count in $POSTERN_LISTEN_FDS (0 or unset: none);
 *   - $POSTERN_SERVICE: the master.cf service field of the line that started it
 *     (e.g. "127.0.0.1:2525" or "smtp"), and $POSTERN_SERVICE_LINE its line number,
 *     so the service applies that line's -o overrides (mastercf_service_config());
 *   - privileges dropped when the master is root: network-facing services (smtpd)
 *     and the queue manager run as mail_owner (setgroups, setgid, setuid, in that
 *     order); the delivery agents "virtual" and "local" stay root and switch their
 *     effective uid/gid to the mailbox owner for each delivery, as Postfix's
 *     virtual(8) and local(8) do.
 *     When the master is not root, nothing changes uid (it logs that once).
 *
 * Signals from the master to a service:
 *   SIGTERM  stop: stop accepting, let sessions in progress finish (bounded by a
 *            deadline), exit 0. Reload = the master starts new processes with
 *            the new configuration and sends SIGTERM to the old ones.
 *   SIGKILL  the deadline passed.
 * A service that exits non-zero or on a signal is restarted by the master with
 * a backoff, and the master logs why.
 *
 * Between services (all under queue_directory, created by the master):
 *   public/qmgr      unix datagram socket of the queue manager. smtpd sends
 *                    "I<queue id>" after each committed message (a bare "I", scan
 *                    incoming/, when a notification found the socket full);
 *                    `postern queue flush` sends "F". The queue manager also rescans incoming/
 *                    at start and periodically, so a lost datagram delays, never loses.
 *   private/virtual  unix stream socket of the virtual delivery agent: requests
 *                    from the queue manager, one per recipient (see queue/dlvproto.h),
 *                    on up to virtual_destination_concurrency_limit connections at
 *                    once; the agent serves each connection in its own worker process.
 *   private/local    the same protocol for the local delivery agent (system users);
 *                    while it does not exist, local recipients are deferred.
 *   private/pop3     unix stream socket of the pop3 dispatcher (root), mode 0600,
 *                    owned by mail_owner: pop3-login hands a logged-in client
 *                    over with one LOGIN line and SCM_RIGHTS (docs/mail-access.md).
 *                    pop3-login gets its inet listeners on 3.. with
 *                    $POSTERN_LISTEN_SSL; the dispatcher runs as root and starts
 *                    one `service pop3-worker` per uid:gid (as that uid:gid).
 *   pid/master.pid   the master's pid, locked (fcntl) while it runs: `postern
 *                    status|stop|reload` read it; a stale file is never trusted.
 *
 * Tests:    tests/e2e/test_master.py, tests/e2e/test_smtpd.py
 */
#ifndef POSTERN_SERVICE_H
#define POSTERN_SERVICE_H

#define SERVICE_LISTEN_FD_BASE 3
#define SERVICE_ENV_LISTEN_FDS "POSTERN_LISTEN_FDS"
#define SERVICE_ENV_NAME "POSTERN_SERVICE"
#define SERVICE_ENV_LINE "POSTERN_SERVICE_LINE"
/* login services: one flag per listening descriptor, "1" = implicit TLS (pop3s), e.g. "01" */
#define SERVICE_ENV_LISTEN_SSL "POSTERN_LISTEN_SSL"
/*
 * login services: the ssl_key file, opened by the master as root (the login runs
 * as mail_owner and the key is usually root's, mode 0600), on the descriptor
 * right after the listeners; unset when the master did not open it
 */
#define SERVICE_ENV_SSL_KEY_FD "POSTERN_SSL_KEY_FD"

#define SERVICE_QMGR_SOCKET "public/qmgr"
#define SERVICE_VIRTUAL_SOCKET "private/virtual"
#define SERVICE_LOCAL_SOCKET "private/local"
#define SERVICE_AUTH_SOCKET "private/auth"               /* auth client protocol, docs/mail-access.md */
#define SERVICE_AUTH_MASTER_SOCKET "private/auth-master" /* REQUEST/USER, root only */
#define SERVICE_PID_FILE "pid/master.pid"
/* the pop3 dispatcher (root): hand-over from pop3-login, docs/mail-access.md */
#define SERVICE_POP3_SOCKET "private/pop3"

/* datagrams to the queue manager */
#define QMGR_MSG_NEW 'I'   /* "I<queue id>": a message was committed to incoming/ */
#define QMGR_MSG_FLUSH 'F' /* "F": retry every deferred message now */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/*
 * service_int, service_time - a parameter already validated by the master;
 * fatal when bad. service_concurrency - how many deliveries a transport runs
 * at once (limit_param, e.g. "virtual_destination_concurrency_limit", capped
 * by default_process_limit, at least 1): the queue manager and the agent's
 * worker pool both use it, so they always agree.
 */
int64_t service_int(struct config *cfg, const char *name);
int64_t service_time(struct config *cfg, const char *name);
size_t service_concurrency(struct config *cfg, const char *limit_param);

/*
 * service_listen_fds - the listening sockets from the master (fds 3..,
 * $POSTERN_LISTEN_FDS of them, at most 64), made non-blocking and
 * close-on-exec; *ssl_r (may be NULL) gets a malloc'd array of flags from
 * $POSTERN_LISTEN_SSL ("01": the second is implicit TLS). Returns the count.
 */
size_t service_listen_fds(bool **ssl_r);

#endif
