/*
 * qmgr_transport.h - the queue manager's delivery transports: concurrent requests to agents
 *
 * A transport is a small table entry: a name ("virtual", "local"), the agent's
 * socket under queue_directory (private/virtual, private/local) and a
 * concurrency limit (<name>_destination_concurrency_limit, at most
 * default_process_limit). The queue manager submits deliveries (one final
 * address of one queue-file recipient); the transport keeps a FIFO of them and
 * up to `limit` of them in flight, one per unix stream connection to the agent
 * (dlvproto: one request, then one reply, per connection at a time). Everything
 * runs in the caller's libevent loop: connections are opened on demand (a
 * blocking connect(2) on a local socket, which does not wait for the agent),
 * kept open while idle, and their replies are read when readable.
 *
 * Outcomes come back through the done callback, always from the event loop,
 * never from inside qtransport_submit():
 *   - the agent's reply (status, DSN, text; the agent logged the delivery);
 *   - "delivery agent NAME is unavailable" (4.3.0) when the socket does not
 *     exist or refuses the connection;
 *   - "lost connection with the NAME delivery agent" (4.3.0) when it closes or
 *     fails with a request in flight, or gives no reply within
 *     QTRANSPORT_REPLY_TIMEOUT seconds;
 *   - a request that cannot be encoded (address too long) bounces (5.1.3).
 * For the last three the transport has not logged anything: the caller does.
 * A reply that fails to decode, or comes when no request is in flight, is fatal
 * (typed IPC rule: the peer is a Postern process).
 *
 * Runs in:  qmgr (mail_owner)
 * API:      qtransport_new/submit/drop_queued/inflight/free
 * Tests:    tests/e2e/test_delivery.py (test_qmgr_delivers_concurrently, test_qmgr_*local*)
 * Refs:     Postfix qmgr/qmgr_transport.c, qmgr_deliver.c (delivery agent streams)
 */
#ifndef POSTERN_QMGR_TRANSPORT_H
#define POSTERN_QMGR_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "queue/dlvproto.h"

#define QTRANSPORT_REPLY_TIMEOUT 600 /* seconds a delivery may take */

/* the outcome of one delivery */
struct qoutcome {
	enum dlvproto_status st;
	char dsn[16];
	char text[DLVPROTO_TEXT_MAX + 1];
	char forward_id[DLVPROTO_ID_MAX + 1]; /* the agent staged this forward (qstore.h), else "" */
};

/* one delivery: owned by the caller, which frees it in (or after) the done callback */
struct qdlv {
	struct qdlv *next;            /* the transport's FIFO; the caller does not touch it */
	struct dlvproto_request rq;   /* strings owned by the caller, valid until done */
	void *owner;                  /* the caller's (the message being delivered) */
	size_t rcpt;                  /* the caller's (index of the queue-file recipient) */
};

struct qtransport;

/* qtransport_done_fn - a delivery finished with outcome o (see the top for who logged it) */
typedef void qtransport_done_fn(struct qtransport *t, struct qdlv *d, const struct qoutcome *o, bool agent_logged,
				void *arg);

/*
 * qtransport_new - a transport named name talking to the socket at path (absolute, copied),
 * with at most limit (>= 1) requests in flight; done is called for every submitted delivery.
 */
struct qtransport *qtransport_new(struct event_base *evb, const char *name, const char *path, size_t limit,
				  qtransport_done_fn *done, void *arg);
/* qtransport_name - "virtual", "local" */
const char *qtransport_name(const struct qtransport *t);
/* qtransport_submit - queue d; it is sent when a connection is free (from the event loop) */
void qtransport_submit(struct qtransport *t, struct qdlv *d);
/*
 * qtransport_drop_queued - hand back every delivery not sent yet (fn(d, arg) for each,
 * in order; no outcome): for a stopping queue manager. Returns how many.
 */
size_t qtransport_drop_queued(struct qtransport *t, void (*fn)(struct qdlv *d, void *arg), void *arg);
/* qtransport_inflight - requests sent and not answered yet */
size_t qtransport_inflight(const struct qtransport *t);
/* qtransport_queued - deliveries waiting for a connection */
size_t qtransport_queued(const struct qtransport *t);
/* qtransport_set_outcome - fill an outcome */
void qtransport_set_outcome(struct qoutcome *o, enum dlvproto_status st, const char *dsn, const char *text);
/*
 * qtransport_free - close every connection and free the transport (sets *tp = NULL).
 * Deliveries still queued or in flight are handed to drop (as qtransport_drop_queued).
 */
void qtransport_free(struct qtransport **tp, void (*drop)(struct qdlv *d, void *arg), void *arg);

#endif
