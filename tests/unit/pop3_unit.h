/*
 * pop3_unit.h - helpers shared by the mail store and POP3 unit tests
 *
 * A temporary directory per test (made by setup, removed by teardown) and
 * one POP3 command run to the end of its reply through pop3_txn.
 * Used by tests/unit/test_pop3_txn.c and tests/unit/test_mbox_store.c.
 */
#ifndef POSTERN_POP3_UNIT_H
#define POSTERN_POP3_UNIT_H

#include <stdio.h>

#include "pop3d/pop3_txn.h"

/* unit_tmpdir - make "/tmp/postern-<tag>-XXXXXX" in top (size n); 0 or -1 */
static inline int unit_tmpdir(char *top, size_t n, const char *tag)
{
	snprintf(top, n, "/tmp/postern-%s-XXXXXX", tag);
	return mkdtemp(top) ? 0 : -1;
}

/* unit_rmdir - remove a test directory and everything in it; 0 or -1 */
static inline int unit_rmdir(const char *top)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* unit_pop3 - run one command, taking the streamed reply in pieces of `piece` bytes; the whole reply */
static inline const char *unit_pop3(struct pop3_txn *t, const char *line, size_t piece, enum pop3_txn_status *st_r)
{
	static struct buf out = BUF_INIT(64u << 20);
	enum pop3_txn_status st;

	buf_reset(&out);
	st = pop3_txn_line(t, line, strlen(line), &out);
	while (st == POP3_TXN_MORE)
		st = pop3_txn_more(t, &out, piece);
	if (st_r)
		*st_r = st;
	return buf_cstr(&out);
}

#endif
