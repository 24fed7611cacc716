/*
 * qmgr_sync.h - fdatasync(2) off the queue manager's event loop, several at once
 *
 * The queue manager marks each recipient's outcome in its queue file
 * durably. Doing the fdatasync in the event loop would serialise every mark
 * behind the previous one and stall the loop (replies, notifications) for a
 * disk flush each time. Instead the loop writes the mark (pwrite) and submits
 * the file descriptor here: a few threads run the fdatasyncs concurrently (the
 * file system merges concurrent flushes) and the loop gets each completion
 * through a pipe, in its own thread, where the message may then be finished.
 * The threads only call fdatasync(2): no logging, no shared state besides the
 * two locked queues.
 *
 * Runs in:  qmgr (mail_owner)
 * API:      qsync_new(), qsync_submit(), qsync_pending(), qsync_free()
 * Tests:    tests/e2e/test_delivery.py (every qmgr test marks through it)
 * Refs:     smtpd.c's commit thread (the same completion-through-a-pipe pattern)
 */
#ifndef POSTERN_QMGR_SYNC_H
#define POSTERN_QMGR_SYNC_H

#include <stddef.h>

#include <event2/event.h>

struct qsync;

/* qsync_done_fn - the fdatasync of item's descriptor finished: err is 0 or an errno value */
typedef void qsync_done_fn(void *item, int err, void *arg);

/* qsync_new - nthreads (>= 1) sync threads; done is called from evb's loop */
struct qsync *qsync_new(struct event_base *evb, size_t nthreads, qsync_done_fn *done, void *arg);
/* qsync_submit - fdatasync(fd) soon; fd must stay open until done(item) is called */
void qsync_submit(struct qsync *s, int fd, void *item);
/* qsync_pending - submitted and not reported done yet */
size_t qsync_pending(const struct qsync *s);
/* qsync_free - finish every submitted sync (reporting each to done), stop the threads, free */
void qsync_free(struct qsync **sp);

#endif
