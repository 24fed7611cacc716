/*
 * qstore.h - the queue directory: durable queue files, group commit, moves, scans
 *
 * Layout (Postfix-like), under queue_directory:
 *     incoming/  new messages; "<ID>.tmp" while being written, "<ID>" once committed
 *     active/    messages the queue manager is delivering
 *     deferred/  messages waiting for a retry
 *     hold/      messages put on hold by the administrator
 *     corrupt/   files that failed to decode (kept for inspection)
 *     bounce/    reserved for per-message delivery status logs
 * Every subdirectory is mode 0700, owned by mail_owner when running as root.
 * File names are queue ids (timeid_queue(): 16 characters, sortable by time);
 * the file format is qfile.h's.
 *
 * Writing (smtpd): qstore_begin() creates incoming/<ID>.tmp with O_EXCL |
 * O_NOFOLLOW and writes the envelope; qstore_add_rcpt() per recipient;
 * qstore_append() streams content in with bounded buffering (at most
 * qs->write_buffer bytes are held in memory); qstore_finish() writes the end
 * record. The file is NOT durable and NOT visible to scanners yet.
 *
 * Commit: qstore_commit_batch() makes many finished files durable at once:
 *   1. the data of every file reaches stable storage: one syncfs(2) on the
 *      queue file system (QSTORE_SYNC_SYNCFS, the default), or one fdatasync(2)
 *      per file (QSTORE_SYNC_FDATASYNC);
 *   2. each file is renamed from <ID>.tmp to <ID> (renameat2 RENAME_NOREPLACE:
 *      an existing message is never replaced);
 *   3. one fsync(2) of incoming/ makes all the new names durable.
 * Only a file that was fully on disk gets its final name, so a crash at any
 * instant leaves either a complete committed file or a stale .tmp (never
 * acknowledged; qstore_clean_temp() removes it). Only after commit returns
 * success for a file may the SMTP server answer 250 for it. Measured on the
 * development machine (ext4, 64 x 4 KiB files per batch): syncfs + one
 * directory fsync ~15,000 files/s; fdatasync per file + one directory fsync
 * ~3,000 files/s; fsync + rename + directory fsync per file ~1,000 files/s.
 * syncfs flushes every dirty page of that file system, so on a file system
 * shared with heavy unrelated writers QSTORE_SYNC_FDATASYNC may be the better
 * choice; both are correct. syncfs reports write-back errors of the file
 * system since Linux 5.8; any error fails the whole batch.
 *
 * Moves between queues: rename, then fsync of the destination directory, then
 * of the source: after a crash the file is in the new place, or in both (a
 * duplicate delivery at worst), never in neither.
 *
 * Recipient outcomes: qstore_mark_rcpt() overwrites the recipient's status
 * slot in place and fdatasync()s the file, so a crash after delivering
 * recipient 1 of 3 does not deliver recipient 1 again. A crash between the
 * mailbox write and the mark leaves the recipient pending; the agents then
 * find the earlier copy (DLVPROTO_F_RECHECK, maildir.h, mbox.h).
 *
 * Deleting a delivered file does not sync the directory: if the unlink is
 * lost in a crash, every recipient of the file that reappears is already
 * marked done, and the queue manager deletes it again.
 *
 * Runs in:  smtpd (begin .. commit), qmgr and delivery agents (open, mark, move,
 *           delete), postern queue (scan, open, move, delete); as mail_owner
 * Threads: qstore_commit_batch() touches no global state and keeps its errors
 * per file, so an event-driven smtpd may run it in a worker thread while the
 * loop goes on serving sessions. Everything else (qstore_begin() takes queue
 * ids from timeid, and errors of the qstore-level calls are static texts)
 * belongs to one thread.
 * Tests:    tests/unit/test_qstore.c
 * Refs:     Postfix global/mail_stream.c (mail_stream_finish_file), global/mail_queue.c;
 *           DESIGN.md "Durability without one sync per message"
 */
#ifndef POSTERN_QSTORE_H
#define POSTERN_QSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/arena.h"
#include "lib/timeid.h"
#include "libmail/qfile.h"

enum qstore_queue {
	QSTORE_INCOMING,
	QSTORE_ACTIVE,
	QSTORE_DEFERRED,
	QSTORE_HOLD,
	QSTORE_CORRUPT,
	QSTORE_BOUNCE,
	QSTORE_NQUEUES
};

enum qstore_sync {
	QSTORE_SYNC_SYNCFS,    /* one syncfs(2) per batch (default: fastest, see above) */
	QSTORE_SYNC_FDATASYNC, /* one fdatasync(2) per file */
};

#define QSTORE_WRITE_BUFFER_DEFAULT (64 * 1024)

struct qstore {
	char *path;                      /* queue_directory */
	int dirfd[QSTORE_NQUEUES];       /* open O_DIRECTORY descriptors */
	enum qstore_sync sync;           /* how a batch reaches stable storage */
	size_t write_buffer;             /* bytes a writer buffers before write(2) */
};

/*
 * qstore_open - open queue_directory, creating it (0755) and its subdirectories
 * (0700) as needed; when running as root and uid != (uid_t)-1 the subdirectories are
 * owned by uid:gid (mail_owner). Existing subdirectories get mode 0700 (and that owner).
 * Newly created directories are fsync'ed into their parents. Returns 0, or -1 with *error_r.
 */
int qstore_open(struct qstore *qs, const char *queue_directory, uid_t uid, gid_t gid, const char **error_r);
/* qstore_close - close the directories and free the path */
void qstore_close(struct qstore *qs);
/* qstore_queue_name - "incoming", "active", ... */
const char *qstore_queue_name(enum qstore_queue q);

/* --- writing a new message ----------------------------------------------------------- */

struct qstore_file;

enum qstore_file_state { QSTORE_FILE_WRITING, QSTORE_FILE_FINISHED, QSTORE_FILE_COMMITTED, QSTORE_FILE_FAILED };

/*
 * qstore_begin - create incoming/<ID>.tmp with a new queue id and write the envelope of env
 * (sender, client, params; env->queue_id and env->arrival_us are set by qstore, rcpts ignored).
 * Returns 0 with *f_r, or -1 with *error_r (static text, valid until the next qstore call).
 */
int qstore_begin(struct qstore *qs, const struct qfile_env *env, struct qstore_file **f_r, const char **error_r);
/* qstore_file_id - the queue id (valid until qstore_file_free) */
const char *qstore_file_id(const struct qstore_file *f);
/* qstore_file_state - where the file stands */
enum qstore_file_state qstore_file_state(const struct qstore_file *f);
/* qstore_file_error - why the file failed ("" otherwise) */
const char *qstore_file_error(const struct qstore_file *f);
/* qstore_file_size - content bytes so far (the message size once finished) */
uint64_t qstore_file_size(const struct qstore_file *f);
/*
 * qstore_add_rcpt - add a recipient (its status is written as given, normally pending).
 * Only before the first qstore_append(). 0, or -1 with *error_r (the file is then FAILED
 * if the error was I/O).
 */
int qstore_add_rcpt(struct qstore_file *f, const struct qfile_rcpt *r, const char **error_r);
/*
 * qstore_append - add n content bytes (LF-terminated lines; the SMTP server has
 * already turned CR LF into LF and removed dot-stuffing). 0, or -1 with *error_r
 * (write error, or the content would pass QFILE_CONTENT_MAX): the file is FAILED.
 */
int qstore_append(struct qstore_file *f, const void *p, size_t n, const char **error_r);
/*
 * qstore_finish - end the content (a missing final LF is added), patch its length,
 * write the end record and hand everything to the kernel. Not durable yet: commit.
 * 0, or -1 with *error_r (FAILED).
 */
int qstore_finish(struct qstore_file *f, const char **error_r);
/*
 * qstore_commit_batch - make n FINISHED files (all of the same qstore) durable and
 * visible under their queue ids, with one sync for the data and one directory fsync
 * for the names (see the top of this file). Returns how many were committed; each
 * file's state is then COMMITTED or FAILED (qstore_file_error() says why; a FAILED
 * file has no final name). Files that are not FINISHED become FAILED.
 */
size_t qstore_commit_batch(struct qstore_file *const *files, size_t n);
/* qstore_commit - a batch of one: 0, or -1 with *error_r */
int qstore_commit(struct qstore_file *f, const char **error_r);
/*
 * qstore_file_free - release a writer. A file that is not COMMITTED is removed from
 * incoming/ (abort). Sets *fp = NULL; NULL is ignored.
 */
void qstore_file_free(struct qstore_file **fp);

/* --- forwarding: a new message that appears only once its parent's mark is durable -------- */

/*
 * A delivery agent that forwards a recipient (local aliases) writes the new
 * message with qstore_begin() .. qstore_finish() and then STAGES it: its data
 * and the name incoming/<ID>.fwd.<PARENT>.<N> are made durable (N: the index
 * of the parent's recipient), but scans and `postern queue` do not see it.
 * The queue manager marks the parent's recipient "forwarded as <ID>", syncs
 * that mark, then releases the file (renamed to incoming/<ID>, synced). After
 * a crash, qmgr looks at every staged file at start: released when the
 * parent's recipient is done with a text naming "forwarded as <ID>",
 * discarded otherwise (the parent's retry forwards again). So the new message
 * is neither lost (the mark exists only after the staged file is durable) nor
 * doubled (a staged file that no mark names never becomes visible).
 */
#define QSTORE_FWD_TAG ".fwd."

/*
 * qstore_stage - instead of qstore_commit: make the FINISHED file f durable as
 * the forward of recipient n of parent. 0 (f is then COMMITTED: freeing it keeps
 * the file), or -1 with *error_r (f FAILED).
 */
int qstore_stage(struct qstore_file *f, const char *parent, size_t n, const char **error_r);
/* qstore_fwd_release - make the staged forward id visible (rename, fsync incoming/). 0, or -1 with *error_r */
int qstore_fwd_release(struct qstore *qs, const char *id, const char *parent, size_t n, const char **error_r);
/* qstore_fwd_discard - remove a staged forward (0; also when it is gone already), or -1 with *error_r */
int qstore_fwd_discard(struct qstore *qs, const char *id, const char *parent, size_t n, const char **error_r);

struct qstore_fwd {
	char id[TIMEID_QUEUE_SIZE];
	char parent[TIMEID_QUEUE_SIZE];
	size_t n;
};

/*
 * qstore_fwd_scan - the staged forwards in incoming/: *out_r (free it) and
 * *n_r. 0, or -1 with *error_r.
 */
int qstore_fwd_scan(struct qstore *qs, struct qstore_fwd **out_r, size_t *n_r, const char **error_r);

/* --- the queue manager's side ---------------------------------------------------------- */

struct qstore_ids {
	char (*id)[TIMEID_QUEUE_SIZE]; /* sorted: oldest first */
	size_t n;
};

/*
 * qstore_scan - the committed queue files in queue q, oldest first. Names that are
 * not queue ids (temporary files, strays) and non-regular files are skipped.
 * Returns 0 (free with qstore_ids_free), or -1 with *error_r.
 */
int qstore_scan(struct qstore *qs, enum qstore_queue q, struct qstore_ids *out, const char **error_r);
/* qstore_ids_free - release a scan result */
void qstore_ids_free(struct qstore_ids *ids);
/*
 * qstore_clean_temp - remove temporary files in incoming/ older than min_age seconds
 * (0: all; only when no writer can be running, e.g. at start). Returns the count removed.
 */
size_t qstore_clean_temp(struct qstore *qs, unsigned min_age);

/*
 * qstore_move - move id from queue `from` to queue `to` durably (rename, fsync `to`,
 * fsync `from`). Never replaces a file of the same id in `to`. 0, or -1 with *error_r.
 */
int qstore_move(struct qstore *qs, const char *id, enum qstore_queue from, enum qstore_queue to,
		const char **error_r);
/*
 * qstore_take - the queue manager takes id from queue `from` into active/: a rename
 * WITHOUT directory syncs. Why that is safe: the file is already durable where it is;
 * a rename within one file system is atomic, so after a crash the file is in `from`
 * or in active/ (never in neither), and the queue manager scans both (active/ at
 * start). Its recipient marks live in the file's data (qstore_mark_rcpt syncs them),
 * whatever its name. Returns 1 taken, 0 no such file in `from` (taken already by an
 * earlier scan or notification), or -1 with *error_r.
 */
int qstore_take(struct qstore *qs, const char *id, enum qstore_queue from, const char **error_r);
/* qstore_delete - remove a finished message (no directory sync: see the top). 0, or -1 */
int qstore_delete(struct qstore *qs, enum qstore_queue q, const char *id, const char **error_r);

struct qstore_msg {
	char id[TIMEID_QUEUE_SIZE];
	enum qstore_queue queue;
	int fd;               /* read the content with pread(fd, .., env.content_size, env.content_offset) */
	bool writable;        /* opened for qstore_mark_rcpt() */
	uint64_t file_size;
	struct qfile_env env; /* decoded envelope; strings live in arena */
	struct arena *arena;
};

#define QSTORE_OPEN_OK 0
#define QSTORE_OPEN_ERROR (-1)   /* could not open or read: try again later */
#define QSTORE_OPEN_CORRUPT (-2) /* incomplete or corrupt: move it to corrupt/ */

/*
 * qstore_msg_open - open queue file q/id and decode its envelope (the content is not read:
 * the file is mapped and only its envelope pages are touched). writable: open O_RDWR so that
 * recipients can be marked. Returns QSTORE_OPEN_OK with *m_r, or QSTORE_OPEN_ERROR /
 * QSTORE_OPEN_CORRUPT with *error_r.
 */
int qstore_msg_open(struct qstore *qs, enum qstore_queue q, const char *id, bool writable,
		    struct qstore_msg **m_r, const char **error_r);
/* qstore_msg_close - close and free; sets *mp = NULL; NULL is ignored */
void qstore_msg_close(struct qstore_msg **mp);

#define QSTORE_MARK_NOSYNC 0x1 /* leave the fdatasync to a later qstore_msg_sync() */

/*
 * qstore_mark_rcpt - record recipient i's outcome in place (status, DSN code "2.0.0",
 * text) and, unless QSTORE_MARK_NOSYNC, fdatasync the file: when this returns 0 the
 * outcome survives a crash. Also updates m->env.rcpts[i]. 0, or -1 with *error_r.
 */
int qstore_mark_rcpt(struct qstore_msg *m, size_t i, enum qfile_rcpt_status st, const char *dsn,
		     const char *text, unsigned flags, const char **error_r);
/* qstore_msg_sync - fdatasync the file (after NOSYNC marks). 0, or -1 with *error_r */
int qstore_msg_sync(struct qstore_msg *m, const char **error_r);

#endif
