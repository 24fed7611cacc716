/*
 * pop3_txn.h - the POP3 TRANSACTION and UPDATE states over an open mailbox
 *
 * After login a pop3 worker opens the user's mailbox (mstore_open*()) and
 * feeds each client command line here; the replies are appended to a buf.
 * No sockets here (the worker owns them), so every command is unit-testable
 * on a real Maildir/mbox: STAT, LIST, UIDL (pop3_uidl_format with %u %v %f
 * %g %m, values as Dovecot gives them), RETR and TOP (CRLF line ends and
 * dot-stuffing whatever the stored line ends), DELE, RSET, NOOP, CAPA, QUIT.
 * Deletions are applied only by QUIT (pop3_txn_quit()); freeing a transaction
 * without QUIT (dropped connection) deletes nothing.
 *
 * RETR of a large message does not build the whole reply at once: after
 * pop3_txn_line() returns POP3_TXN_MORE, the caller calls pop3_txn_more()
 * whenever its output buffer has drained below its watermark.
 *
 * Runs in:  the pop3 worker, as the mail user; input is UNTRUSTED client data
 * API:      pop3_txn_new(), pop3_txn_line(), pop3_txn_more(), pop3_txn_free()
 * Tests:    tests/unit/test_pop3_txn.c
 * Refs:     RFC 1939, RFC 2449, Dovecot's pop3_uidl_format documentation
 */
#ifndef POSTERN_POP3_TXN_H
#define POSTERN_POP3_TXN_H

#include <stddef.h>

#include "lib/buf.h"
#include "store/mstore.h"

enum pop3_txn_status {
	POP3_TXN_DONE, /* the reply is complete in out; read the next command */
	POP3_TXN_MORE, /* more reply to come: call pop3_txn_more() */
	POP3_TXN_QUIT, /* QUIT done (deletions applied); send out, then close */
};

struct pop3_txn_settings {
	const char *uidl_format; /* pop3_uidl_format, e.g. "%08Xu%08Xv" */
	const char *user;        /* for log lines and %variables */
	const char *capa;        /* extra CAPA lines after login, or NULL */
};

struct pop3_txn;

/* pop3_txn_new - a transaction over box (the txn owns box and closes it); never NULL */
struct pop3_txn *pop3_txn_new(struct mstore_box *box, const struct pop3_txn_settings *s);
/* pop3_txn_line - one command line (without CRLF); the reply goes to out */
enum pop3_txn_status pop3_txn_line(struct pop3_txn *t, const char *line, size_t n, struct buf *out);
/* pop3_txn_more - up to about max more bytes of a POP3_TXN_MORE reply */
enum pop3_txn_status pop3_txn_more(struct pop3_txn *t, struct buf *out, size_t max);
/*
 * pop3_txn_logout_stats - Dovecot's disconnect log fields:
 * "top=0/0, retr=1/491, del=0/4, size=491"
 */
const char *pop3_txn_logout_stats(struct pop3_txn *t);
/*
 * pop3_txn_error - the last storage error (a static phrase for the log), or
 * NULL. Set when a reply was "-ERR [SYS/TEMP] ..." and when QUIT is returned
 * without a QUIT command: a message could not be read after its "+OK" was
 * sent, a UIDL could not be made (Dovecot disconnects then too), or too
 * many bad commands; the caller sends what is in out, then closes.
 * While a reply streams (POP3_TXN_MORE) the caller must not call
 * pop3_txn_line(): it reads the next command only after POP3_TXN_DONE.
 */
const char *pop3_txn_error(const struct pop3_txn *t);
/* pop3_txn_free - end without QUIT: nothing is deleted; *tp = NULL */
void pop3_txn_free(struct pop3_txn **tp);

#endif
