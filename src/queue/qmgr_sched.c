/*
 * qmgr_sched.c - backoff and expiry of deferred messages (pure)
 *
 * Runs in:  qmgr
 * API:      qmgr_backoff(), qmgr_expired()  -- see qmgr_sched.h
 * Tests:    tests/unit/test_qmgr_sched.c
 */
#include "queue/qmgr_sched.h"

/* qmgr_backoff - age clamped to [min, max] */
int64_t qmgr_backoff(const struct qmgr_times *t, int64_t arrival, int64_t now)
{
	int64_t age = now > arrival ? now - arrival : 0;

	if (age > t->max_backoff)
		age = t->max_backoff;
	if (age < t->min_backoff)
		age = t->min_backoff;
	return age;
}

/* qmgr_expired - older than the queue lifetime? */
bool qmgr_expired(const struct qmgr_times *t, int64_t arrival, int64_t now, bool is_bounce)
{
	int64_t life = is_bounce ? t->bounce_lifetime : t->max_lifetime;

	return now - arrival > life;
}
