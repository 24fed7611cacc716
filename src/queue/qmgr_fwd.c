/*
 * qmgr_fwd.c - the queue manager's side of local forwarding: the mark text
 * that names staged forwards, and their recovery at start
 *
 * Runs in:  qmgr (mail_owner)
 * API:      see qmgr_fwd.h
 * Tests:    tests/e2e/test_local.py (test_staged_forward_recovery, test_kill9_between_forward_and_mark)
 * Refs:     qstore.h (staging), docs/architecture.md "Forwarding"
 */
#include "queue/qmgr_fwd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* qmgr_fwd_token - "forwarded as ID" */
void qmgr_fwd_token(char *out, size_t size, const char *id)
{
	snprintf(out, size, "forwarded as %s", id);
}

/* qmgr_fwd_text - the tokens first (the mark is cut at QFILE_TEXT_MAX), then the outcome's own text */
void qmgr_fwd_text(struct buf *text, char (*ids)[TIMEID_QUEUE_SIZE], size_t n, const char *outcome)
{
	char tok[64] = "";
	size_t k;

	for (k = 0; k < n; k++) {
		qmgr_fwd_token(tok, sizeof(tok), ids[k]);
		buf_printf(text, "%s%s", k ? "; " : "", tok);
	}
	if (!(n == 1 && strcmp(outcome, tok) == 0))
		buf_printf(text, "; %s", outcome);
}

/* fwd_named - is recipient n of the parent (looked for in every queue) done, with a mark naming id? */
static bool fwd_named(struct qstore *qs, const struct qstore_fwd *f)
{
	static const enum qstore_queue where[] = { QSTORE_ACTIVE, QSTORE_INCOMING, QSTORE_DEFERRED, QSTORE_HOLD };
	struct qstore_msg *m = NULL;
	const char *err;
	char tok[64];
	bool named = false;
	size_t k;

	qmgr_fwd_token(tok, sizeof(tok), f->id);
	for (k = 0; k < sizeof(where) / sizeof(where[0]) && m == NULL; k++)
		if (qstore_msg_open(qs, where[k], f->parent, false, &m, &err) != QSTORE_OPEN_OK)
			m = NULL;
	if (m && f->n < m->env.nrcpt) {
		const struct qfile_rcpt *r = &m->env.rcpts[f->n];

		named = (r->status == QFILE_RCPT_DELIVERED || r->status == QFILE_RCPT_FAILED) && strstr(r->text, tok);
	}
	qstore_msg_close(&m);
	return named;
}

/*
 * qmgr_fwd_recover - at start: each staged forward is released when its parent's
 * mark names it (the crash came before the release), else removed (the mark
 * was never made durable: the parent's retry forwards again)
 */
void qmgr_fwd_recover(struct qstore *qs)
{
	struct qstore_fwd *fw;
	const char *err;
	size_t n, i;

	if (qstore_fwd_scan(qs, &fw, &n, &err) < 0) {
		log_warn("%s", err);
		return;
	}
	for (i = 0; i < n; i++) {
		bool named = fwd_named(qs, &fw[i]);
		int rc = named ? qstore_fwd_release(qs, fw[i].id, fw[i].parent, fw[i].n, &err)
			       : qstore_fwd_discard(qs, fw[i].id, fw[i].parent, fw[i].n, &err);

		if (rc < 0)
			log_warn("%s: %s", fw[i].parent, err);
		else
			log_info("%s: forward %s %s after a restart", fw[i].parent, fw[i].id,
				 named ? "released" : "removed (to be made again)");
	}
	free(fw);
}

