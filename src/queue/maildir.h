/*
 * maildir.h - deliver one message into a Maildir (Dovecot-compatible names, durable)
 *
 * maildir_deliver(path, ...) creates path, path/tmp, path/new and path/cur when
 * missing (mode 0700; each new directory is fsync'ed into its parent), writes
 * the prepended headers and the content into tmp/<name>, fdatasync()s it,
 * renames it into new/<name> without replacing anything, and fsync()s new/:
 * when it returns DLV_OK the message survives a crash. A failure leaves
 * nothing in tmp/ or new/.
 *
 * Names: <secs>.M<usecs>P<pid>Q<n>.<host>,S=<size> where n counts deliveries
 * of this process, host is gethostname() with '/' and ':' written as \057 and
 * \072 (maildir(5)), and S= is the exact byte size of the stored file (prepended
 * headers + content), which Dovecot uses instead of stat().
 *
 * Keyed deliveries (msg->key, the agents' "Q<queue id>A<recipient hash>"):
 * the name in new/ is <arrival secs>.K<key>.<host>,S=<size>, the same for
 * every attempt of that delivery (still unique: one queue id per message and
 * host), and tmp/ gets <arrival secs>.K<key>P<pid>Q<n>.<host>,S=<size>. The
 * rename into new/ never replaces: finding the name taken means an earlier
 * attempt stored it (DLV_OK, res->found). With msg->recheck the delivery first
 * looks for "<arrival secs>.K<key>." in new/ and cur/ (moved and flagged by a
 * reader), and removes an interrupted attempt's "<...K<key>P..." in tmp/.
 *
 * No uid switching here: call as the mailbox owner, or as root with owner set
 * so that created directories and the file are given to it.
 *
 * Outcomes (dlv.h): DLV_OK 2.0.0 "delivered to maildir"; failures as Postfix's
 * virtual(8): "maildir delivery failed: <what>: <strerror>", 4.2.0 unless the
 * error says otherwise (4.3.0 disk full, 5.2.2 quota, 5.2.0 impossible path).
 *
 * Runs in:  virtual / local delivery
 * Tests:    tests/unit/test_maildir.c
 * Refs:     maildir(5) (cr.yp.to/proto/maildir.html), Dovecot maildir-filename.c naming,
 *           Postfix virtual/maildir.c
 */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H

#include "queue/dlv.h"

/*
 * maildir_deliver - deliver msg into the Maildir at path (a trailing '/' is allowed).
 * own may be NULL. Fills *res and returns res->status.
 */
enum dlv_status maildir_deliver(const char *path, const struct dlv_msg *msg, const struct dlv_owner *own,
				struct dlv_result *res);

/* maildir_hostname - the host part of names (sanitised, cached); for tests and logs */
const char *maildir_hostname(void);

#endif
