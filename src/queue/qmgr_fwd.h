/*
 * qmgr_fwd.h - the queue manager's side of local forwarding (staged forwards, qstore.h)
 *
 * The local agent stages a forward and names it in its reply; the queue
 * manager marks the recipient with a text that names every forward first
 * ("forwarded as ID; ..."), syncs the mark, then releases them. At start,
 * qmgr_fwd_recover() decides each staged forward from its parent's mark.
 *
 * Runs in:  qmgr (mail_owner)
 * Tests:    tests/e2e/test_local.py
 */
#ifndef POSTERN_QMGR_FWD_H
#define POSTERN_QMGR_FWD_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/timeid.h"
#include "queue/qstore.h"

/* forwards one queue-file recipient may produce in a pass: their names must fit in its mark's text */
#define QMGR_FWD_MAX 8

/* qmgr_fwd_token - the words of a mark that name a forward: "forwarded as ID" */
void qmgr_fwd_token(char *out, size_t size, const char *id);
/*
 * qmgr_fwd_text - append to text the mark of a recipient with n forwards: their tokens,
 * then "; outcome" unless outcome is the single token itself
 */
void qmgr_fwd_text(struct buf *text, char (*ids)[TIMEID_QUEUE_SIZE], size_t n, const char *outcome);
/*
 * qmgr_fwd_recover - at start, before anything is taken: each staged forward is
 * released when its parent's recipient is done with a mark naming it, else removed
 */
void qmgr_fwd_recover(struct qstore *qs);

#endif
