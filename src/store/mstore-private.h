/*
 * mstore-private.h - what mstore.c (Maildir, the API) and mbox_store.c (mbox) share
 *
 * Runs in:  pop3 (and later imap) sessions
 * Tests:    tests/unit/test_mstore.c, tests/unit/test_mbox_store.c
 */
#ifndef POSTERN_MSTORE_PRIVATE_H
#define POSTERN_MSTORE_PRIVATE_H

#include "store/mstore.h"

/* mbox_store_commit - mstore_commit() for an mbox: rewrite the file without the expunged messages */
size_t mbox_store_commit(struct mstore_box *b, const bool *expunge, const bool *seen, const char **error_r);
/* mbox_stream_open - mstore_stream_open() for an mbox message */
int mbox_stream_open(struct mstore_box *b, struct mstore_msg *m, struct mstore_stream *s);
/* mbox_store_free - release the open mbox file of a box */
void mbox_store_free(struct mstore_mbox **mp);

#endif
