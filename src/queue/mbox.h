/*
 * mbox.h - append one message to an mbox file, locked, durable, all or nothing
 *
 * mbox_deliver() opens (creating with 0600 if missing; the parent directory is
 * fsync'ed after a creation) the regular, singly-linked file at path, takes a
 * dotlock (<path>.lock, O_EXCL, holding "<pid> <hostname>"; a lock older than
 * stale_s seconds is broken, as Postfix's dot_lockfile(), and so is one whose
 * pid names a process of this host that no longer exists: a delivery killed
 * while it held the lock) and then an fcntl(F_SETLK) write lock, each
 * retried `attempts` times `delay_ms` apart (Postfix: deliver_lock_attempts,
 * deliver_lock_delay, stale_lock_time). It then appends
 *
 *     From <sender, or MAILER-DAEMON for <>> <arrival as asctime(3), local time>
 *     <prepended headers>
 *     <content, with ">" before every line that starts with "From ">
 *     <an empty line>
 *
 * and fdatasync()s the file. Quoting follows Postfix (mboxo/mboxcl style):
 * only "From " at the start of a line is quoted; ">From " is left as it is
 * (mboxrd would make it ">>From "), so readers that unquote one level see
 * what Postfix-delivered mailboxes give them. On any failure after the locks
 * the file is truncated back to its size before the append, so a failed
 * delivery leaves nothing behind.
 *
 * Outcomes as Postfix's virtual(8) (see dlv.h): DLV_OK 2.0.0 "delivered to
 * mailbox"; "mailbox <path>: unable to lock for exclusive access: <strerror>" or
 * "mailbox <path>: unable to create lock file <path>.lock: File exists" 4.2.0
 * when someone holds the mailbox past the retries; write errors 4.2.0 / 4.3.0
 * (disk full) / 5.2.2 (quota, file too large).
 *
 * With msg->recheck (a retry that may follow a delivery) the mbox, opened
 * read-write, is first searched for this delivery's exact bytes: found, it is
 * DLV_OK "delivered to mailbox (the copy of an earlier attempt)" with
 * res->found and nothing is written; found cut short at the end of the file
 * (an attempt killed while appending), the file is truncated back to it and
 * the message appended whole.
 *
 * No uid switching here: call as the mailbox owner, or as root with owner set
 * so that a created mailbox is given to it.
 *
 * Runs in:  virtual / local delivery
 * Tests:    tests/unit/test_mbox.c
 * Refs:     Postfix global/mbox_open.c, dot_lockfile.c, deliver_flock.c, mail_copy.c; mbox(5)
 */
#ifndef POSTERN_MBOX_H
#define POSTERN_MBOX_H

#include <time.h>

#include "queue/dlv.h"

struct mbox_lock {
	unsigned attempts; /* tries for each lock (>= 1) */
	unsigned delay_ms; /* pause between tries */
	unsigned stale_s;  /* a dotlock older than this is removed */
};

/* Postfix's defaults: deliver_lock_attempts = 20, deliver_lock_delay = 1s, stale_lock_time = 500s */
#define MBOX_LOCK_DEFAULTS { 20, 1000, 500 }

/*
 * mbox_deliver - append msg to the mbox at path. sender "" means the null sender;
 * arrival is the time for the From_ line; lk NULL means MBOX_LOCK_DEFAULTS; own may
 * be NULL. Fills *res and returns res->status.
 */
enum dlv_status mbox_deliver(const char *path, const struct dlv_msg *msg, const char *sender, time_t arrival,
			     const struct mbox_lock *lk, const struct dlv_owner *own, struct dlv_result *res);

#endif
