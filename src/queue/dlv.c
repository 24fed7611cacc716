/*
 * dlv.c - shared helpers of the mailbox writers: copy loop, DSN mapping, results
 *
 * Runs in:  virtual / local delivery
 * API:      see dlv.h
 * Tests:    tests/unit/test_maildir.c, tests/unit/test_mbox.c
 * Refs:     Postfix global/mbox_open.c (mbox_dsn)
 */
#include "queue/dlv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/safefile.h"

#define COPY_CHUNK (64 * 1024)

/* copy_loop - bounded pread/write copy */
static int copy_loop(int out_fd, int in_fd, uint64_t off, uint64_t len)
{
	char buf[COPY_CHUNK];

	while (len > 0) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t r = pread(in_fd, buf, want, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* the queue file is shorter than its envelope says */
			return -1;
		}
		if (fd_write_all(out_fd, buf, (size_t)r) != 0)
			return -1;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* dlv_copy - in-kernel copy when possible */
int dlv_copy(int out_fd, int in_fd, uint64_t off, uint64_t len)
{
	loff_t in_off = (loff_t)off;

	while (len > 0) {
		ssize_t r = copy_file_range(in_fd, &in_off, out_fd, NULL, len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
			      errno == EBADF))
			return copy_loop(out_fd, in_fd, (uint64_t)in_off, len);
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		len -= (uint64_t)r;
	}
	return 0;
}

/* dlv_dsn_errno - Postfix's mbox_dsn() classes */
const char *dlv_dsn_errno(int err, const char *def)
{
	if (err == EAGAIN || err == ESTALE)
		return "4.2.0";
	if (err == ENOSPC)
		return "4.3.0";
	if (err == EDQUOT || err == EFBIG)
		return "5.2.2";
	if (err == ENOTDIR || err == ENAMETOOLONG || err == ELOOP || err == EISDIR)
		return "5.2.0"; /* the path can never work: see dlv.h */
	return def;
}

/* dlv_set - fill in an outcome */
void dlv_set(struct dlv_result *r, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	r->status = dsn[0] == '2' ? DLV_OK : dsn[0] == '4' ? DLV_DEFER : DLV_BOUNCE;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* dlv_chown - give a created file or directory to the mailbox owner when root */
int dlv_chown(int fd, const struct dlv_owner *own)
{
	if (own == NULL || own->uid == (uid_t)-1 || geteuid() != 0)
		return 0;
	return fchown(fd, own->uid, own->gid);
}

/* dlv_make_dir - mkdir one directory (0700, owner), fsync'ing its parent; 0 (also when it exists), or -1 */
int dlv_make_dir(const char *path, const struct dlv_owner *own)
{
	int fd, saved;

	if (mkdir(path, 0700) != 0)
		return errno == EEXIST ? 0 : -1;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (dlv_chown(fd, own) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return fsync_dir_of(path);
}

/* dlv_make_dirs - create path[0..len) and its missing parents; 0, or -1 with errno and *what the failing one */
int dlv_make_dirs(const char *path, size_t len, const struct dlv_owner *own, struct buf *what)
{
	size_t i;

	for (i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (i < len && path[i - 1] == '/')
			continue;
		buf_reset(what);
		if (buf_append(what, path, i) != 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (dlv_make_dir(buf_cstr(what), own) != 0)
			return -1;
	}
	return 0;
}
