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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/filelock.h"
#include "lib/buf.h"
#include "lib/safefile.h"

#define CHUNK (64 * 1024)

static const struct mbox_lock mbox_lock_defaults = MBOX_LOCK_DEFAULTS;

/* put - append to the output buffer, writing it out when full; 0, or -1 with errno */
static int put(struct buf *out, int fd, const void *p, size_t n)
{
	if (out->len + n > CHUNK) {
		if (fd_write_all(fd, out->data, out->len) != 0)
			return -1;
		buf_reset(out);
	}
	if (n >= CHUNK)
		return fd_write_all(fd, p, n);
	if (buf_append(out, p, n) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* copy_quoted - copy the content, quoting "From " at line starts; 0, or -1 with errno */
static int copy_quoted(struct buf *out, int fd, const struct dlv_msg *msg)
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
				if (np == 5 && put(out, fd, ">", 1) != 0)
					return -1;
				if (put(out, fd, pend, np) != 0)
					return -1;
				np = 0;
				bol = false;
			}
			nl = memchr(in + i, '\n', (size_t)r - i);
			end = nl ? (size_t)(nl - in) + 1 : (size_t)r;
			if (put(out, fd, in + i, end - i) != 0)
				return -1;
			i = end;
			bol = nl != NULL;
		}
	}
	return put(out, fd, pend, np);
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
	struct buf out = BUF_INIT(2 * CHUNK), lockpath = BUF_INIT(4200);
	bool locked = false, created = false;
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
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && strrchr(path, '/') != path) {
		/* a missing parent (a new domain directory, say), as for a Maildir: create it */
		struct buf what = BUF_INIT(4200);
		int made = dlv_make_dirs(path, (size_t)(strrchr(path, '/') - path), own, &what), e = errno;

		buf_free(&what);
		errno = e;
		if (made == 0)
			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	}
	if (fd >= 0)
		created = true;
	else if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
	if (buf_printf(&out, "From %s %s\n", sender[0] ? sender : "MAILER-DAEMON", date) != 0 ||
	    put(&out, fd, msg->prepend, msg->prepend_len) != 0 || copy_quoted(&out, fd, msg) != 0 ||
	    put(&out, fd, "\n", 1) != 0 || fd_write_all(fd, out.data, out.len) != 0 || fdatasync(fd) != 0) {
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
	buf_free(&out);
	buf_free(&lockpath);
	return rc;
}
