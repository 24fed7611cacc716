/*
 * agent.h - what the delivery agents (virtual, local) share: the server loop
 * on their private/ socket, the per-delivery effective-id switch, the
 * prepended headers and the choice between Maildir and mbox
 *
 * An agent is a struct agent filled by agent_init() (log, configuration,
 * queue store, mail_owner), then given its deliver callback and run by
 * agent_run(): it listens on queue_directory/<socket> (descriptor 3 when the
 * master passes it, else it binds the socket itself: mode 0600, owned by
 * mail_owner when root), reads dlvproto requests, opens each queue file
 * read-only, calls deliver() for the recipient, logs Postfix's line
 *
 *     ID: to=<final>, orig_to=<original>, relay=NAME, delay=S, dsn=X.Y.Z, status=sent (text)
 *
 * (orig_to only when it differs) and writes the reply. Requests on one
 * connection are answered in order. A malformed request is fatal (the peer is
 * the queue manager: typed IPC rule).
 *
 * Runs in:  virtual, local (root when the master is root)
 * API:      agent_init(), agent_run(), agent_set_eids(), agent_restore_eids(),
 *           agent_prepend(), agent_mailbox()
 * Tests:    tests/e2e/test_delivery.py, tests/e2e/test_local.py
 * Refs:     Postfix virtual/virtual.c, local/local.c (the request loop), set_eugid.c
 */
#ifndef POSTERN_AGENT_H
#define POSTERN_AGENT_H

#include <stdbool.h>
#include <sys/types.h>


#include "cli/cli.h"
#include "lib/buf.h"
#include "libmail/config.h"
#include "queue/dlv.h"
#include "queue/dlvproto.h"
#include "queue/qstore.h"

struct agent;

/* deliver one recipient of m (q->rcpt is a valid index); fill res */
typedef void agent_deliver_fn(struct agent *a, const struct dlvproto_request *q, struct qstore_msg *m,
			      struct dlv_result *res);

struct agent {
	const char *name;   /* service name: "virtual", "local" (log prefix and relay=) */
	const char *socket; /* SERVICE_*_SOCKET, relative to queue_directory */
	struct config *cfg;
	struct qstore qs;
	const char *qdir;
	bool root;          /* euid 0: switch effective ids per delivery */
	uid_t owner_uid;    /* mail_owner when root, else -1 */
	gid_t owner_gid;
	agent_deliver_fn *deliver;
	void *ctx;          /* the agent's own state */
};

/*
 * agent_init - log setup, configuration from cli->config_dir, mail_owner (when
 * root; supplementary groups dropped), queue store. Fatal on any error.
 */
void agent_init(struct agent *a, struct cli *cli, const char *name, const char *socket);
/*
 * agent_run - serve the socket with a pool of worker processes (see agent.c)
 * until SIGTERM/SIGINT, then release everything; returns 0, or 1 when a
 * worker died on its own (the master restarts the service)
 */
int agent_run(struct agent *a);

/* agent_set_eids - switch effective ids to uid:gid (groups: gid only); 0, or -1 with errno */
int agent_set_eids(uid_t uid, gid_t gid);
/* agent_restore_eids - back to root; fatal when impossible (never keep a user's ids) */
void agent_restore_eids(void);

/*
 * agent_prepend - append "Return-Path: <sender>" and "Delivered-To: rcpt" to pre;
 * 0, or -1 when pre's maximum would be passed.
 */
int agent_prepend(struct buf *pre, const char *sender, const char *rcpt);

/*
 * agent_mailbox - deliver m (with the headers in pre) to path: a trailing '/'
 * means Maildir (maildir_deliver), else an mbox file (mbox_deliver). rcpt is
 * the address written in Delivered-To: with m's queue id it is the delivery's
 * identity (the Maildir name: Q<queue id>A<hash of rcpt>), so that recheck
 * (DLVPROTO_F_RECHECK) finds an earlier attempt's copy instead of writing a
 * second one. own may be NULL. The caller has switched ids already. Fills res.
 */
void agent_mailbox(const char *path, const struct buf *pre, struct qstore_msg *m, const char *rcpt, bool recheck,
		   const struct dlv_owner *own, struct dlv_result *res);

#endif
