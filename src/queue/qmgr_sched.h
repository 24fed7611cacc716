/*
 * qmgr_sched.h - the queue manager's pure scheduling decisions (no I/O)
 *
 * Backoff, as Postfix's qmgr: the wait before the next attempt of a deferred
 * message is its age (time since arrival) clamped to [minimal_backoff_time,
 * maximal_backoff_time], so the delays roughly double while a message stays
 * young and then settle at the maximum. The next attempt time is stored as
 * the queue file's mtime in deferred/ (Postfix does the same), so no extra
 * record or state file is needed and `postern queue` can show it.
 *
 * Expiry: a message older than maximal_queue_lifetime (bounce_queue_lifetime
 * for a null-sender message) is given up: its deferred recipients fail.
 *
 * Tests:    tests/unit/test_qmgr_sched.c
 * Refs:     Postfix qmgr/qmgr_active.c (qmgr_active_done), postconf(5)
 */
#ifndef POSTERN_QMGR_SCHED_H
#define POSTERN_QMGR_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct qmgr_times {
	int64_t min_backoff;   /* minimal_backoff_time, seconds */
	int64_t max_backoff;   /* maximal_backoff_time */
	int64_t max_lifetime;  /* maximal_queue_lifetime */
	int64_t bounce_lifetime; /* bounce_queue_lifetime */
};

/* qmgr_backoff - seconds to wait before retrying a message that arrived at `arrival` (now, seconds) */
int64_t qmgr_backoff(const struct qmgr_times *t, int64_t arrival, int64_t now);
/* qmgr_expired - has a message (null sender: is_bounce) stayed too long? */
bool qmgr_expired(const struct qmgr_times *t, int64_t arrival, int64_t now, bool is_bounce);

#endif
