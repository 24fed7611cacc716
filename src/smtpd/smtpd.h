/*
 * smtpd.h - the SMTP server: process-wide state and the session engine's contract
 *
 * One smtpd process serves many sessions from one libevent loop (DESIGN.md).
 * The code is split in two:
 *   smtpd_session.c  the session engine: bytes in (a linereader), replies out (a
 *                    buf), the SMTP state machine, RCPT policy, queue file writing.
 *                    No sockets, no libevent: it can be driven by a test.
 *   smtpd.c          the I/O glue: startup, listeners, per-session events and
 *                    timeouts, connection limits, SIGTERM, and the group commit
 *                    (a worker thread that runs qstore_commit_batch()).
 *
 * Group commit: a session whose message is complete calls its server's
 * commit hook (smtpd_commit_enqueue) and stops processing input until
 * smtpd_session_committed() gives it the result; only then does it answer
 * "250 2.0.0 Ok: queued as ID". See smtpd.c for the thread design.
 *
 * Runs in:  smtpd (as mail_owner when the master is root); input is UNTRUSTED
 * Tests:    tests/unit/test_smtpd_session.c, tests/e2e/test_smtpd.py
 * Refs:     RFC 5321, 1870, 2920, 3030, 6152, 6531; Postfix smtpd(8)
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/linereader.h"
#include "libmail/config.h"
#include "libmail/restrict.h"
#include "libmail/smtp_cmd.h"
#include "libmail/smtp_data.h"
#include "queue/qstore.h"

/* smtpd_main - `postern service smtpd` (see src/master/service.h) */
cli_cmd_fn smtpd_main;

struct smtpd_session;

/* process-wide settings, read once at start */
struct smtpd_server {
	struct config *cfg;               /* the service's config (base + -o overrides) */
	struct qstore *qs;                /* NULL: no queue (unit tests answer 451 at DATA) */
	struct restrictions *restr;
	const char *myhostname;
	const char *mail_name;
	char *banner;                     /* expanded smtpd_banner */
	struct smtp_cmd_limits cmd_lim;
	struct smtp_data_limits data_lim;
	uint64_t message_size_limit;      /* 0: none */
	size_t line_limit;                /* line_length_limit */
	int64_t recipient_limit;
	int64_t soft_error_limit;
	int64_t hard_error_limit;
	int64_t junk_command_limit;
	int bare_lf_code;                 /* smtpd_forbid_bare_newline_reject_code */
	/* hook: queue a FINISHED file for the group commit (the glue's) */
	void (*commit_enqueue)(struct smtpd_server *srv, struct smtpd_session *s);
	void *glue;                       /* the glue's state */
};

/* what a session needs from the glue after smtpd_session_run() */
enum smtpd_want {
	SMTPD_WANT_READ,   /* flush replies, then wait for input */
	SMTPD_WANT_FLUSH,  /* too many replies buffered: flush, then call run again */
	SMTPD_WANT_COMMIT, /* waiting for the group commit: flush, read nothing */
	SMTPD_WANT_SLEEP,  /* soft error limit: flush, wait smtpd_error_sleep_time, run again */
	SMTPD_WANT_CLOSE,  /* flush what is left, then close */
};

/*
 * smtpd_session_new - a session for a client at addr (text); name is its
 * verified host name or NULL ("unknown"). The banner is already in the
 * output. Never NULL.
 */
struct smtpd_session *smtpd_session_new(struct smtpd_server *srv, const char *addr, const char *name);
/* smtpd_session_free - release the session (a file not committed is removed); *sp = NULL */
void smtpd_session_free(struct smtpd_session **sp);
/* smtpd_session_input - the session's line reader: the glue reads into it */
struct linereader *smtpd_session_input(struct smtpd_session *s);
/* smtpd_session_output - replies waiting to be written; the glue consumes what it wrote */
struct buf *smtpd_session_output(struct smtpd_session *s);
/*
 * smtpd_session_run - process buffered input in order (PIPELINING), appending
 * replies to the output, until the input runs dry or the session must wait.
 * eof: the client closed its side (no more input will come).
 */
enum smtpd_want smtpd_session_run(struct smtpd_session *s, bool eof);
/* smtpd_session_file - the file handed to commit_enqueue (NULL when none) */
struct qstore_file *smtpd_session_file(struct smtpd_session *s);
/*
 * smtpd_session_committed - the group commit ran: reply 250 (or 451 when the
 * file FAILED), log, release the file. The glue calls run again afterwards.
 */
void smtpd_session_committed(struct smtpd_session *s);
/* smtpd_session_timeout - the client was idle too long: 421 reply and log; then close */
void smtpd_session_timeout(struct smtpd_session *s);
/* smtpd_session_shutdown - the server stops: 421 reply; then close */
void smtpd_session_shutdown(struct smtpd_session *s);
/* smtpd_session_lost - the connection broke: log "lost connection after CMD" */
void smtpd_session_lost(struct smtpd_session *s);
/* smtpd_session_idle - release buffers while nothing is pending (memory per idle session) */
void smtpd_session_idle(struct smtpd_session *s);
/* smtpd_session_addr - the client address given to smtpd_session_new() */
const char *smtpd_session_addr(const struct smtpd_session *s);

/* smtpd_notify_qmgr - send "I<id>" to queue_directory/public/qmgr; errors are ignored (qmgr rescans) */
void smtpd_notify_qmgr(struct smtpd_server *srv, const char *id);

#endif
