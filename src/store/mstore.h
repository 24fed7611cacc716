/*
 * mstore.h - a mailbox (Maildir or mbox) opened by a mail session: messages with persistent UIDs
 *
 * One API over two formats: mstore_open() (Maildir), mstore_open_mbox() (an
 * mbox file, src/store/mbox_store.c) or mstore_open_location() (either, from
 * a mail_location). The box is a snapshot sorted by UID; messages are read
 * with mstore_stream_*() (as a client sees them), changed with
 * mstore_commit(), and the box freed with mstore_close().
 *
 * Maildir: mstore_open() takes the mailbox's dovecot-uidlist lock (the file
 * dovecot-uidlist.lock, created exclusively, as Dovecot does), moves new/ mail
 * into cur/ (adding ":2,"), scans cur/, gives every message not yet in
 * dovecot-uidlist the next UID (in file name order), forgets records whose file
 * is gone, writes the new uidlist through the lock file (write, fsync, rename
 * over dovecot-uidlist) and releases the lock. The result is a snapshot,
 * sorted by UID: what POP3 serves for a whole session. UIDs, UIDVALIDITY and
 * sizes agree with what Dovecot gives for the same directory, so a mailbox
 * moves between the two without clients downloading everything again.
 *
 * Sizes: the physical size from ",S=" in the name or stat(); the virtual size
 * (CRLF line ends: POP3 LIST, IMAP RFC822.SIZE) from ",W=", the uidlist's W
 * field, or by reading the file once, after which it is stored as W in the uidlist.
 *
 * Runs in:  pop3 (and later imap) sessions, as the mail user
 * API:      mstore_open(), mstore_open_mbox(), mstore_open_location(),
 *           mstore_stream_open()/_read()/_close(), mstore_msg_open(),
 *           mstore_commit(), mstore_find_uid(), mstore_close()
 * Tests:    tests/unit/test_mstore.c (the Maildir real Dovecot served, shared/vectors),
 *           tests/unit/test_mbox_store.c, tests/unit/test_pop3_txn.c
 * Refs:     Dovecot's Maildir and mbox documentation, maildir(5), mbox(5)
 */
#ifndef POSTERN_MSTORE_H
#define POSTERN_MSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "libmail/maildir_name.h"

struct mstore_msg {
	uint32_t uid;
	char *name;       /* file name in cur/ */
	char *base;       /* base name (the uidlist key) */
	char flags[MAILDIR_FLAGS_MAX + 1];
	uint64_t size;    /* physical */
	uint64_t vsize;   /* with CRLF line ends */
	bool recent;      /* this session moved it from new/ */
	char *guid;       /* the uidlist's G field (Dovecot's GUID), or NULL: the GUID is the base name */
	char *pop3_uidl;  /* the uidlist's P field (a UIDL Dovecot saved), or NULL */
	char hdr_md5[33]; /* mbox: Dovecot's header MD5 (pop3_uidl_format %m) in hex; "" for Maildir */
	struct {          /* mbox: where the message is in the file (see libmail/mbox_parse.h) */
		uint64_t from, hdr, hdr_end, body, end;
	} mbox;
};

enum mstore_driver { MSTORE_MAILDIR, MSTORE_MBOX };
struct mstore_mbox;

struct mstore_box {
	char *path;
	uint32_t uidvalidity;
	uint32_t next_uid;
	char guid[33];
	struct mstore_msg *msgs; /* ascending uid */
	size_t n;
	const char *warning;     /* a non-fatal finding for the log (rebuilt uidlist), or NULL */
	enum mstore_driver driver;
	struct mstore_mbox *mbox; /* mbox: the open file (private to mbox_store.c), NULL for Maildir */
};

/* mstore_open - lock, sync and snapshot the Maildir at path; 0, or -1 with *error_r */
int mstore_open(const char *path, struct mstore_box **out, const char **error_r);
/*
 * mstore_open_location - open the INBOX of a parsed mail_location (dovecot.conf
 * mail_location or a userdb mail field, %variables already expanded): "maildir:"
 * opens the Maildir; "mbox:" opens the file INBOX= names, else <path>/inbox;
 * INDEX=, CONTROL= and LAYOUT= are accepted (Postern keeps no index files);
 * no driver: a directory with cur/ is a Maildir, a file an mbox. A leading
 * "~/" is home's. 0, or -1 with *error_r.
 */
struct mail_location;
int mstore_open_location(const struct mail_location *loc, const char *home, struct mstore_box **out,
			 const char **error_r);
/*
 * mstore_open_mbox - lock (dotlock + fcntl, as mbox delivery does), read and
 * snapshot the mbox file at path; a message without a valid X-UID gets the
 * next UID, which is written back (X-UID, X-IMAPbase in the first message) by
 * rewriting the file: see mbox_store.c. A missing file is an empty mailbox.
 */
int mstore_open_mbox(const char *path, struct mstore_box **out, const char **error_r);
/* mstore_msg_open - Maildir: open a message read-only (following a rename by another session); fd or -1
 * (mbox: -1, EOPNOTSUPP: use mstore_stream_open()) */
int mstore_msg_open(struct mstore_box *b, struct mstore_msg *m);
/*
 * mstore_commit - end of session: unlink the messages with expunge[i], add
 * the \Seen flag (S) to those with seen[i] (either array may be NULL), and
 * fsync cur/. Returns the number of messages that could not be expunged
 * (0: all done), with *error_r for the first failure.
 */
size_t mstore_commit(struct mstore_box *b, const bool *expunge, const bool *seen, const char **error_r);
/*
 * A message's bytes as a client sees them, read in pieces (a 10 MB message is
 * never held in memory): mstore_stream_open(), then mstore_stream_read() until
 * it returns 0, then mstore_stream_close().
 */
struct mstore_stream {
	int fd;
	uint64_t off;    /* mbox: where the body continues in the file */
	uint64_t left;   /* bytes still to read (Maildir: UINT64_MAX, to the end of the file) */
	struct buf head; /* mbox: the header a client sees, served first */
	size_t head_pos;
};
/* mstore_stream_open - open message m of b for reading; 0, or -1 (gone: errno ENOENT) */
int mstore_stream_open(struct mstore_box *b, struct mstore_msg *m, struct mstore_stream *s);
/* mstore_stream_read - up to n bytes into dst; the count, 0 at the end, -1 on a read error */
ssize_t mstore_stream_read(struct mstore_stream *s, void *dst, size_t n);
/* mstore_stream_close - release (safe on a stream that failed to open) */
void mstore_stream_close(struct mstore_stream *s);

/* mstore_find_uid - the index of uid in b->msgs (binary search), or -1 */
long mstore_find_uid(const struct mstore_box *b, uint32_t uid);

/* mstore_close - free the snapshot; *bp = NULL */
void mstore_close(struct mstore_box **bp);

#endif
