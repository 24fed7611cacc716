/*
 * mbox.c - mbox delivery: dotlock + fcntl lock, From_ line, quoting, fdatasync, truncate on failure
 *
 * Runs in:  virtual / local delivery (as the mailbox owner, or root)
 * API:      mbox_deliver()   -- see mbox.h
 * Tests:    tests/unit/test_mbox.c
 * Refs:     Postfix global/mbox_open.c, global/dot_lockfile.c, global/deliver_flock.c,
 *           global/mail_copy.c (From_ line, quoting, truncate on error)
 *
 * A missing parent directory of the mailbox is created (0700, the mailbox
 * owner's, as for a Maildir), so that the first delivery into a new domain
 * directory does not depend on another mailbox having created it first.
 *
 * The content is read from the queue file in 64 KiB pieces and written in
 * pieces of at most 64 KiB (plus one quoted line start), so memory use does
 * not grow with the message.
 *
 * The dotlock and fcntl locks are lib/filelock's, shared with the mbox mail
 * store (src/store/mbox_store.c), which takes them in the same order.
 */
#include "queue/mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/filelock.h"
#include "lib/buf.h"
#include "lib/safefile.h"
#include "lib/xalloc.h"

#define CHUNK (64 * 1024)

static const struct mbox_lock mbox_lock_defaults = MBOX_LOCK_DEFAULTS;

/*
 * Where the bytes of a message go: appended to the mbox (the delivery), or
 * compared with the mbox from offset `at` on (looking for the copy of an
 * earlier attempt: the same stream must already be there).
 */
struct sink {
	int fd;
	struct buf out; /* bytes not yet written or compared */
	bool compare;
	off_t at;       /* compare: the next mbox offset to compare with */
	bool differs;   /* compare: a difference was met */
	bool eof;       /* compare: the file ended while every byte so far was the same */
};

/* sink_emit - write p[0..n), or compare it with the mbox at s->at; 0, or -1 (errno, or s->differs) */
static int sink_emit(struct sink *s, const void *p, size_t n)
{
	char have[4096];
	const char *c = p;

	if (!s->compare)
		return fd_write_all(s->fd, p, n);
	while (n > 0) {
		ssize_t r = pread(s->fd, have, n < sizeof(have) ? n : sizeof(have), s->at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || memcmp(have, c, (size_t)r) != 0) {
			s->eof = r == 0;
			s->differs = r > 0;
			return -1;
		}
		s->at += r;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* put - append to the sink's buffer, emitting it when full; 0, or -1 */
static int put(struct sink *s, const void *p, size_t n)
{
	if (s->out.len + n > CHUNK) {
		if (sink_emit(s, s->out.data, s->out.len) != 0)
			return -1;
		buf_reset(&s->out);
	}
	if (n >= CHUNK)
		return sink_emit(s, p, n);
	if (buf_append(&s->out, p, n) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* copy_quoted - copy the content, quoting "From " at line starts; 0, or -1 with errno */
static int copy_quoted(struct sink *out, const struct dlv_msg *msg)
{
	static const char from[] = "From ";
	char in[CHUNK], pend[5];
	uint64_t off = msg->offset, left = msg->size;
	size_t np = 0;
	bool bol = true;

	while (left > 0) {
		ssize_t r = pread(msg->fd, in, left < sizeof(in) ? (size_t)left : sizeof(in), (off_t)off);
		size_t i = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* the queue file is shorter than its envelope says */
			return -1;
		}
		off += (uint64_t)r;
		left -= (uint64_t)r;
		while (i < (size_t)r) {
			const char *nl;
			size_t end;

			if (bol) {
				while (i < (size_t)r && np < 5 && in[i] == from[np])
					pend[np++] = in[i++];
				if (np < 5 && i == (size_t)r)
					break; /* the decision needs the next piece */
				if (np == 5 && put(out, ">", 1) != 0)
					return -1;
				if (put(out, pend, np) != 0)
					return -1;
				np = 0;
				bol = false;
			}
			nl = memchr(in + i, '\n', (size_t)r - i);
			end = nl ? (size_t)(nl - in) + 1 : (size_t)r;
			if (put(out, in + i, end - i) != 0)
				return -1;
			i = end;
			bol = nl != NULL;
		}
	}
	return put(out, pend, np);
}

/* emit_message - the whole appended stream: From_ line, prepended headers, quoted content, empty line */
static int emit_message(struct sink *s, const char *from_line, const struct dlv_msg *msg)
{
	if (put(s, from_line, strlen(from_line)) != 0 || put(s, msg->prepend, msg->prepend_len) != 0 ||
	    copy_quoted(s, msg) != 0 || put(s, "\n", 1) != 0)
		return -1;
	return sink_emit(s, s->out.data, s->out.len);
}

/*
 * copy_at - is the exact stream of this delivery in the mbox at offset o? 1
 * yes; 2 the file ends inside it (an attempt killed while it appended, under
 * the locks, so nothing can follow); 0 no
 */
static int copy_at(int fd, off_t o, const char *from_line, const struct dlv_msg *msg)
{
	struct sink s = { fd, BUF_INIT(2 * CHUNK), true, o, false, false };
	int rc = emit_message(&s, from_line, msg) == 0 ? 1 : s.eof ? 2 : 0;

	buf_free(&s.out);
	return rc;
}

/*
 * earlier_copy - recheck: did an earlier attempt append this very delivery?
 * Its identity is its bytes: the From_ line (sender and arrival time to the
 * second), Return-Path: and Delivered-To: (the recipient), then the content,
 * which starts with the Received: header naming the queue id. The file is
 * searched from its end backwards for "\nFrom_ line + prepended headers"
 * (only From_ lines start a line with "From ": content is quoted), and a
 * candidate must match the whole stream. A candidate that matches up to the
 * end of the file is this delivery's own interrupted append (it was the last
 * writer: it held the locks): *cut_r gets its offset, to truncate back to.
 * Runs under both locks. Why not a
 * marker header or a journal: nothing is added to every message for the rare
 * retry, and no second file must be kept in step with the mailbox; the price,
 * a read of the mbox, is paid only by a delivery the queue manager flagged.
 */
static bool earlier_copy(int fd, off_t size, const char *from_line, const struct dlv_msg *msg, off_t *cut_r)
{
	struct buf needle = BUF_INIT(0);
	char *chunk;
	size_t nlen, cap;
	off_t end = size, *cand = NULL;
	size_t ncand, capcand = 0;
	bool found = false;
	int rc;

	*cut_r = -1;
	if (buf_putc(&needle, '\n') != 0 || buf_puts(&needle, from_line) != 0 ||
	    buf_append(&needle, msg->prepend, msg->prepend_len) != 0)
		return false;
	nlen = needle.len;
	cap = CHUNK + nlen;
	chunk = xmalloc(cap);
	if (size > 0 && (rc = copy_at(fd, 0, from_line, msg)) != 0) {
		found = rc == 1;
		if (rc == 2)
			*cut_r = 0;
	}
	while (!found && *cut_r < 0 && end > 0) {
		off_t start = end > CHUNK ? end - CHUNK : 0;
		size_t want = (size_t)(end - start) + nlen, got = 0;
		const char *p;

		if ((off_t)(start + (off_t)want) > size)
			want = (size_t)(size - start);
		while (got < want) {
			ssize_t r = pread(fd, chunk + got, want - got, start + (off_t)got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		/* candidates whose newline lies in [start, end), checked the latest first */
		ncand = 0;
		for (p = chunk; got >= nlen && (p = memmem(p, got - (size_t)(p - chunk), needle.data, nlen)) != NULL &&
				start + (p - chunk) < end;
		     p++) {
			if (ncand == capcand)
				cand = xreallocarray(cand, capcand = capcand ? 2 * capcand : 16, sizeof(*cand));
			cand[ncand++] = start + (p - chunk) + 1;
		}
		while (ncand > 0 && !found && *cut_r < 0) {
			off_t o = cand[--ncand];

			rc = copy_at(fd, o, from_line, msg);
			found = rc == 1;
			if (rc == 2)
				*cut_r = o;
		}
		end = start;
	}
	free(cand);
	free(chunk);
	buf_free(&needle);
	return found;
}

/* fail - a failure outcome; dsn from errno unless given */
static enum dlv_status fail(struct dlv_result *res, const char *path, int err, const char *what)
{
	dlv_set(res, dlv_dsn_errno(err, "4.2.0"), "mailbox %s: %s: %s", path, what, strerror(err));
	return res->status;
}

/* mbox_deliver - open, lock, append, sync; truncate back on failure */
enum dlv_status mbox_deliver(const char *path, const struct dlv_msg *msg, const char *sender, time_t arrival,
			     const struct mbox_lock *lk, const struct dlv_owner *own, struct dlv_result *res)
{
	struct buf from_line = BUF_INIT(0), lockpath = BUF_INIT(4200);
	struct sink out = { -1, BUF_INIT(2 * CHUNK), false, 0, false, false };
	bool locked = false, created = false;
	/* a recheck reads the mbox */
	int mode = msg->recheck ? O_RDWR : O_WRONLY;
	enum dlv_status rc;
	struct stat st;
	struct tm tm;
	char date[64];
	off_t orig = -1;
	int fd;

	memset(res, 0, sizeof(*res));
	if (lk == NULL)
		lk = &mbox_lock_defaults;
	if (path[0] != '/' || buf_printf(&lockpath, "%s.lock", path) != 0) {
		dlv_set(res, "5.2.0", "mailbox %.100s: bad mailbox path", path);
		return res->status;
	}
	fd = open(path, mode | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && strrchr(path, '/') != path) {
		/* a missing parent (a new domain directory, say), as for a Maildir: create it */
		struct buf what = BUF_INIT(4200);
		int made = dlv_make_dirs(path, (size_t)(strrchr(path, '/') - path), own, &what), e = errno;

		buf_free(&what);
		errno = e;
		if (made == 0)
			fd = open(path, mode | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	}
	if (fd >= 0)
		created = true;
	else if (errno == EEXIST)
		fd = open(path, mode | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = fail(res, path, errno, "cannot open file");
		goto out;
	}
	if (created && (dlv_chown(fd, own) != 0 || fsync_dir_of(path) != 0)) {
		rc = fail(res, path, errno, "cannot create file");
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		dlv_set(res, "5.2.0", "mailbox %s: destination is not a regular file", path);
		rc = res->status;
		goto out;
	}
	if (file_dotlock(buf_cstr(&lockpath), lk->attempts, lk->delay_ms, lk->stale_s) != 0) {
		int err = errno;

		dlv_set(res, dlv_dsn_errno(err == EEXIST ? EAGAIN : err, "4.2.0"),
			"mailbox %s: unable to create lock file %s: %s", path, buf_cstr(&lockpath), strerror(err));
		rc = res->status;
		goto out;
	}
	locked = true;
	if (file_fcntl_lock(fd, true, lk->attempts, lk->delay_ms) != 0) {
		rc = fail(res, path, errno, "unable to lock for exclusive access");
		goto out;
	}
	/* someone may have replaced or removed the file between open and lock */
	if (fstat(fd, &st) != 0 || st.st_nlink != 1) {
		dlv_set(res, "4.2.0", "mailbox %s: target file status changed unexpectedly", path);
		rc = res->status;
		goto out;
	}
	orig = st.st_size;
	localtime_r(&arrival, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	if (buf_printf(&from_line, "From %s %s\n", sender[0] ? sender : "MAILER-DAEMON", date) != 0) {
		dlv_set(res, "5.3.5", "mailbox %s: sender address too long", path);
		rc = res->status;
		goto out;
	}
	if (msg->recheck) {
		off_t cut;

		if (earlier_copy(fd, orig, buf_cstr(&from_line), msg, &cut)) {
			dlv_set(res, "2.0.0", "delivered to mailbox (the copy of an earlier attempt)");
			res->found = true;
			snprintf(res->where, sizeof(res->where), "%s", path);
			rc = DLV_OK;
			goto out;
		}
		/* the mbox ends with the beginning of this very delivery: an attempt killed while appending */
		if (cut >= 0) {
			if (ftruncate(fd, cut) != 0 || fdatasync(fd) != 0) {
				rc = fail(res, path, errno, "cannot remove an interrupted delivery");
				goto out;
			}
			orig = cut;
		}
	}
	out.fd = fd;
	errno = 0;
	if (emit_message(&out, buf_cstr(&from_line), msg) != 0 || fdatasync(fd) != 0) {
		int err = errno == 0 ? EIO : errno;

		/* leave nothing behind: back to the size before this append */
		if (ftruncate(fd, orig) == 0)
			(void)fdatasync(fd);
		rc = fail(res, path, err, "error writing message");
		goto out;
	}
	dlv_set(res, "2.0.0", "delivered to mailbox");
	snprintf(res->where, sizeof(res->where), "%s", path);
	rc = DLV_OK;
out:
	if (locked)
		unlink(buf_cstr(&lockpath));
	if (fd >= 0)
		close(fd); /* releases the fcntl lock */
	buf_free(&out.out);
	buf_free(&from_line);
	buf_free(&lockpath);
	return rc;
}
