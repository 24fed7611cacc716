/*
 * dlv.h - what the mailbox writers (maildir.c, mbox.c) share: the message to
 * write, the owner of created files, the outcome, and the copy loop
 *
 * A delivery agent reads the message from its queue file (qstore_msg: fd,
 * content_offset, content_size) and gives the writers the headers to prepend
 * (Return-Path:, Delivered-To:, already formatted, LF line ends). The writers
 * do no uid switching: the caller has switched to the mailbox owner already,
 * or runs as root and passes the owner for newly created files and dirs.
 *
 * Outcome classes follow Postfix's virtual(8) and mbox_dsn(): a mailbox
 * problem is temporary (4.2.0: try again later; the mailbox location is the
 * administrator's), a full file system is 4.3.0, a full mailbox (EDQUOT,
 * EFBIG) is a permanent 5.2.2, and a mailbox path that can never work (not
 * absolute, a file where a directory must be, too long, a symlink loop) is a
 * permanent 5.2.0 - Postfix would defer that too; we bounce it because no retry
 * can fix it without an administrator, who sees the bounce.
 *
 * Runs in:  virtual / local delivery (as the mailbox owner, or root)
 * API:      dlv_copy(), dlv_dsn_errno(), dlv_set()
 * Tests:    tests/unit/test_maildir.c, tests/unit/test_mbox.c
 * Refs:     Postfix global/mbox_open.c (mbox_dsn), virtual/maildir.c, virtual/mailbox.c
 */
#ifndef POSTERN_DLV_H
#define POSTERN_DLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"

enum dlv_status {
	DLV_OK = 0,      /* delivered: dsn 2.0.0 */
	DLV_DEFER = -1,  /* temporary failure: dsn 4.x.y; keep the message and retry */
	DLV_BOUNCE = -2, /* permanent failure: dsn 5.x.y; bounce */
};

struct dlv_msg {
	const char *prepend; /* headers to write first ("Return-Path: <a@b>\nDelivered-To: c@d\n") */
	size_t prepend_len;
	int fd;              /* the content: size bytes at offset of fd (pread: fd's offset is untouched) */
	uint64_t offset;
	uint64_t size;
	/*
	 * Idempotence (a retry must not store a second copy; see maildir.h and mbox.h).
	 * key: NULL, or [0-9A-Za-z]{1,80} naming this delivery (queue id and recipient):
	 * the Maildir file name is derived from key and arrival, so a retry finds it.
	 * recheck: an earlier attempt may have stored the message: look for it first.
	 */
	const char *key;
	uint64_t arrival_us;
	bool recheck;
};

/* owner for files and directories the writer creates; (uid_t)-1: leave as created */
struct dlv_owner {
	uid_t uid;
	gid_t gid;
};

struct dlv_result {
	enum dlv_status status;
	char dsn[16];    /* "2.0.0", "4.2.0", "5.2.2", ... */
	char text[600];  /* "delivered to maildir", "maildir delivery failed: ..." */
	char where[512]; /* on success: the file written (Maildir) or appended to (mbox) */
	bool found;      /* on success: an earlier attempt's copy was found, nothing was written */
	char forward_id[33]; /* local forwarding: the queue id of the staged new message, else "" */
};

/*
 * dlv_copy - copy len bytes of in_fd at offset off to out_fd's current position
 * (copy_file_range(2), falling back to a bounded pread/write loop). 0, or -1 with errno.
 */
int dlv_copy(int out_fd, int in_fd, uint64_t off, uint64_t len);
/* dlv_dsn_errno - the DSN code for a failed system call (mbox_dsn): def when nothing specific */
const char *dlv_dsn_errno(int err, const char *def);
/* dlv_set - fill r: status from the first digit of dsn, text formatted */
void dlv_set(struct dlv_result *r, const char *dsn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* dlv_make_dir - mkdir one directory (0700, own), fsync its parent; 0 (also when it exists), or -1 with errno */
int dlv_make_dir(const char *path, const struct dlv_owner *own);
/*
 * dlv_make_dirs - create the directory path[0..len) and its missing parents as dlv_make_dir();
 * 0, or -1 with errno and the failing directory in *what
 */
int dlv_make_dirs(const char *path, size_t len, const struct dlv_owner *own, struct buf *what);
/* dlv_chown - as root with an owner given, fchown(fd); 0, or -1 with errno */
int dlv_chown(int fd, const struct dlv_owner *own);

#endif
