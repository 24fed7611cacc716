/*
 * maildir.c - Maildir delivery: tmp/, fdatasync, rename into new/, fsync new/
 *
 * Runs in:  virtual / local delivery (as the mailbox owner, or root)
 * API:      maildir_deliver(), maildir_hostname()   -- see maildir.h
 * Tests:    tests/unit/test_maildir.c
 * Refs:     maildir(5); Postfix virtual/maildir.c; Dovecot maildir naming
 *
 * The tmp file is opened first and the directories are made only when that
 * fails with ENOENT, so an existing Maildir costs no mkdir(2) per message.
 */
#include "queue/maildir.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/buf.h"
#include "lib/safefile.h"

static unsigned maildir_count; /* deliveries by this process: the Q<n> part */

/* maildir_hostname - gethostname() with / and : escaped, cached */
const char *maildir_hostname(void)
{
	static char host[256];
	char raw[128];
	size_t i, o = 0;

	if (host[0])
		return host;
	if (gethostname(raw, sizeof(raw)) != 0 || raw[0] == '\0')
		snprintf(raw, sizeof(raw), "localhost");
	raw[sizeof(raw) - 1] = '\0';
	for (i = 0; raw[i] && o + 5 < sizeof(host); i++) {
		if (raw[i] == '/' || raw[i] == ':') {
			snprintf(host + o, sizeof(host) - o, "\\%03o", (unsigned)(unsigned char)raw[i]);
			o += 4;
		} else {
			host[o++] = raw[i];
		}
	}
	host[o] = '\0';
	return host;
}

/* make_dirs - create path and its missing parents, then tmp/ new/ cur/; 0, or -1 with *what_r */
static int make_dirs(const char *path, const struct dlv_owner *own, struct buf *what)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	size_t i, n = strlen(path);

	/* each parent component, then the Maildir itself */
	if (dlv_make_dirs(path, n, own, what) != 0)
		return -1;
	for (i = 0; i < 3; i++) {
		buf_reset(what);
		buf_printf(what, "%s/%s", path, sub[i]);
		if (dlv_make_dir(buf_cstr(what), own) != 0)
			return -1;
	}
	return 0;
}

/* key_valid - a delivery key: [0-9A-Za-z]{1,80} */
static bool key_valid(const char *k)
{
	size_t i;

	for (i = 0; k[i]; i++)
		if (i >= 80 || !((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= 'a' && k[i] <= 'z')))
			return false;
	return i > 0;
}

/*
 * dir_has_prefix - does directory dir hold an entry whose name starts with
 * pre? With unlink_them, remove every such entry instead (leftovers in tmp/).
 * A missing directory holds nothing.
 */
static bool dir_has_prefix(const char *dir, const char *pre, bool unlink_them)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	size_t n = strlen(pre);
	bool found = false;

	if (dp == NULL)
		return false;
	while ((e = readdir(dp)) != NULL) {
		if (strncmp(e->d_name, pre, n) != 0)
			continue;
		found = true;
		if (!unlink_them)
			break;
		(void)unlinkat(dirfd(dp), e->d_name, 0);
	}
	closedir(dp);
	return found;
}

/*
 * earlier_copy - recheck: is the message of key in new/ or cur/ already (a
 * name starting "<base>.", whatever host, size or flags follow)? If not,
 * remove what an interrupted attempt left in tmp/ ("<base>P...").
 */
static bool earlier_copy(const struct buf *dir, const char *base)
{
	struct buf d = BUF_INIT(4200), pre = BUF_INIT(200);
	bool found = false;
	const char *sub[] = { "new", "cur" };
	size_t i;

	for (i = 0; i < 2 && !found; i++) {
		buf_reset(&d);
		buf_reset(&pre);
		if (buf_printf(&d, "%s/%s", buf_cstr(dir), sub[i]) == 0 && buf_printf(&pre, "%s.", base) == 0)
			found = dir_has_prefix(buf_cstr(&d), buf_cstr(&pre), false);
	}
	if (!found) {
		buf_reset(&d);
		buf_reset(&pre);
		if (buf_printf(&d, "%s/tmp", buf_cstr(dir)) == 0 && buf_printf(&pre, "%sP", base) == 0)
			(void)dir_has_prefix(buf_cstr(&d), buf_cstr(&pre), true);
	}
	buf_free(&d);
	buf_free(&pre);
	return found;
}

/*
 * make_names - the tmp/ and new/ paths of one attempt. Without a key, both are
 * <secs>.M<usecs>P<pid>Q<n>.<host>,S=<size>; with one, new/ gets
 * <arrival secs>.K<key>.<host>,S=<size> (the same for every attempt) and tmp/
 * <arrival secs>.K<key>P<pid>Q<n>.<host>,S=<size> (unique per attempt).
 */
static int make_names(const struct buf *dir, const struct dlv_msg *msg, uint64_t size, struct buf *base,
		      struct buf *tmp, struct buf *fin)
{
	struct timeval tv;

	buf_reset(base);
	buf_reset(tmp);
	buf_reset(fin);
	++maildir_count;
	if (msg->key) {
		if (buf_printf(base, "%llu.K%s", (unsigned long long)(msg->arrival_us / 1000000), msg->key) != 0 ||
		    buf_printf(tmp, "%s/tmp/%sP%ldQ%u.%s,S=%llu", buf_cstr(dir), buf_cstr(base), (long)getpid(),
			       maildir_count, maildir_hostname(), (unsigned long long)size) != 0 ||
		    buf_printf(fin, "%s/new/%s.%s,S=%llu", buf_cstr(dir), buf_cstr(base), maildir_hostname(),
			       (unsigned long long)size) != 0)
			return -1;
		return 0;
	}
	gettimeofday(&tv, NULL);
	if (buf_printf(tmp, "%s/tmp/%lld.M%ldP%ldQ%u.%s,S=%llu", buf_cstr(dir), (long long)tv.tv_sec,
		       (long)tv.tv_usec, (long)getpid(), maildir_count, maildir_hostname(),
		       (unsigned long long)size) != 0 ||
	    buf_printf(fin, "%s/new/%s", buf_cstr(dir), strrchr(buf_cstr(tmp), '/') + 1) != 0)
		return -1;
	return 0;
}

/* found_earlier - the outcome when an earlier attempt's copy is there */
static enum dlv_status found_earlier(struct dlv_result *res)
{
	dlv_set(res, "2.0.0", "delivered to maildir (the copy of an earlier attempt)");
	res->found = true;
	return DLV_OK;
}

/* fail - the failure outcome of a system call on what */
static enum dlv_status fail(struct dlv_result *res, int err, const char *op, const char *what)
{
	dlv_set(res, dlv_dsn_errno(err, "4.2.0"), "maildir delivery failed: %s %s: %s", op, what,
		strerror(err));
	return res->status;
}

/* maildir_deliver - write tmp/, fdatasync, rename into new/, fsync new/ */
enum dlv_status maildir_deliver(const char *path, const struct dlv_msg *msg, const struct dlv_owner *own,
				struct dlv_result *res)
{
	struct buf dir = BUF_INIT(4096), tmp = BUF_INIT(4096), fin = BUF_INIT(4096), what = BUF_INIT(4096);
	struct buf base = BUF_INIT(256);
	uint64_t size = msg->prepend_len + msg->size;
	enum dlv_status rc;
	struct stat st;
	int fd = -1, tries, err;
	bool created = false;

	memset(res, 0, sizeof(*res));
	if (path[0] != '/' || buf_append(&dir, path, strlen(path)) != 0 || (msg->key && !key_valid(msg->key))) {
		dlv_set(res, "5.2.0", "maildir delivery failed: bad maildir path \"%.100s\"", path);
		buf_free(&dir);
		return res->status;
	}
	while (dir.len > 1 && dir.data[dir.len - 1] == '/')
		buf_truncate(&dir, dir.len - 1);
	for (tries = 0; fd < 0; tries++) {
		if (make_names(&dir, msg, size, &base, &tmp, &fin) != 0) {
			rc = fail(res, ENAMETOOLONG, "create", path);
			goto out;
		}
		if (tries == 0 && msg->key && msg->recheck && earlier_copy(&dir, buf_cstr(&base))) {
			rc = found_earlier(res);
			goto out;
		}
		fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			created = true;
			break;
		}
		err = errno;
		if (err == ENOENT && tries == 0) {
			if (make_dirs(buf_cstr(&dir), own, &what) != 0) {
				rc = fail(res, errno, "create directory", buf_cstr(&what));
				goto out;
			}
		} else if (err != EEXIST || tries > 100) {
			rc = fail(res, err, "create", buf_cstr(&tmp));
			goto out;
		}
	}
	if (dlv_chown(fd, own) != 0 || fd_write_all(fd, msg->prepend, msg->prepend_len) != 0 ||
	    dlv_copy(fd, msg->fd, msg->offset, msg->size) != 0 || fdatasync(fd) != 0 || fstat(fd, &st) != 0) {
		rc = fail(res, errno, "write", buf_cstr(&tmp));
		goto out;
	}
	if ((uint64_t)st.st_size != size) { /* S= must be the truth */
		rc = fail(res, EIO, "write", buf_cstr(&tmp));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = fail(res, errno, "write", buf_cstr(&tmp));
		goto out;
	}
	fd = -1;
	if (renameat2(AT_FDCWD, buf_cstr(&tmp), AT_FDCWD, buf_cstr(&fin), RENAME_NOREPLACE) != 0) {
		err = errno;
		if (err == ENOENT && make_dirs(buf_cstr(&dir), own, &what) == 0 &&
		    renameat2(AT_FDCWD, buf_cstr(&tmp), AT_FDCWD, buf_cstr(&fin), RENAME_NOREPLACE) == 0)
			goto renamed;
		if (err == EEXIST && msg->key) {
			/* the same delivery is in new/ already (an attempt that ran at the same time) */
			rc = found_earlier(res);
			goto out;
		}
		rc = fail(res, err, "rename to", buf_cstr(&fin));
		goto out;
	}
renamed:
	if (fsync_dir_of(buf_cstr(&fin)) != 0) {
		/* the name may not be durable: take the message back, so a retry cannot duplicate it */
		err = errno;
		unlink(buf_cstr(&fin));
		rc = fail(res, err, "fsync", buf_cstr(&fin));
		goto out;
	}
	dlv_set(res, "2.0.0", "delivered to maildir");
	snprintf(res->where, sizeof(res->where), "%s", buf_cstr(&fin));
	rc = DLV_OK;
out:
	if (fd >= 0)
		close(fd);
	if ((rc != DLV_OK || res->found) && created)
		unlink(buf_cstr(&tmp));
	buf_free(&base);
	buf_free(&dir);
	buf_free(&tmp);
	buf_free(&fin);
	buf_free(&what);
	return rc;
}
