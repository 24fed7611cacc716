/*
 * qstore.c - queue directory: create, write, group-commit, scan, move, delete, mark
 *
 * Runs in:  smtpd, qmgr, delivery agents, postern queue (as mail_owner)
 * API:      see qstore.h (the durability rules are written there)
 * Tests:    tests/unit/test_qstore.c
 * Refs:     Postfix global/mail_stream.c, global/mail_queue.c
 *
 * Ids given by callers (postern queue delete ID) are checked to be queue ids
 * before they touch the file system, so no name can leave its queue directory.
 */
#include "queue/qstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/xalloc.h"

#define TMP_SUFFIX ".tmp"

struct qstore_file {
	struct qstore *qs;
	int fd;
	enum qstore_file_state state;
	char id[TIMEID_QUEUE_SIZE];
	char tmp[TIMEID_QUEUE_SIZE + sizeof(TMP_SUFFIX)];
	struct buf wbuf;        /* bytes not yet written; bounded by qs->write_buffer + one record */
	uint64_t flushed;       /* bytes written to fd */
	uint64_t len_off;       /* file offset of the content length, once content started */
	bool content_started;
	uint64_t content_size;
	char last;              /* last content byte */
	uint32_t nrcpt;
	char err[512];
};

static const char *const qstore_names[QSTORE_NQUEUES] = {
	"incoming", "active", "deferred", "hold", "corrupt", "bounce",
};

static char qstore_err[512];

/* errf - format a static error text (qstore-level functions) */
static const char *errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *errf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(qstore_err, sizeof(qstore_err), fmt, ap);
	va_end(ap);
	return qstore_err;
}

/* file_fail - mark f FAILED with a reason; returns -1 */
static int file_fail(struct qstore_file *f, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int file_fail(struct qstore_file *f, const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
	f->state = QSTORE_FILE_FAILED;
	if (error_r)
		*error_r = f->err;
	return -1;
}

/* id_valid - is id exactly a queue id? */
static bool id_valid(const char *id)
{
	size_t n = strnlen(id, TIMEID_QUEUE_SIZE);

	return n == TIMEID_QUEUE_LEN && timeid_queue_decode(id, n, NULL, NULL) == 0;
}

/* qstore_queue_name - name of a queue subdirectory */
const char *qstore_queue_name(enum qstore_queue q)
{
	if ((unsigned)q >= QSTORE_NQUEUES)
		panic("qstore_queue_name: bad queue %d", (int)q);
	return qstore_names[q];
}

/* qdir - the descriptor of queue q (a bad q is a bug) */
static int qdir(const struct qstore *qs, enum qstore_queue q)
{
	if ((unsigned)q >= QSTORE_NQUEUES)
		panic("qstore: bad queue %d", (int)q);
	return qs->dirfd[q];
}

/* fix_dir - give a queue subdirectory mode 0700 and (as root) its owner */
static int fix_dir(int fd, uid_t uid, gid_t gid)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	if (geteuid() == 0 && uid != (uid_t)-1 && (st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) != 0)
		return -1;
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0)
		return -1;
	return 0;
}

/* qstore_open - open (and create) the queue directory tree */
int qstore_open(struct qstore *qs, const char *queue_directory, uid_t uid, gid_t gid, const char **error_r)
{
	bool created = false;
	int top, q;

	memset(qs, 0, sizeof(*qs));
	for (q = 0; q < QSTORE_NQUEUES; q++)
		qs->dirfd[q] = -1;
	qs->sync = QSTORE_SYNC_SYNCFS;
	qs->write_buffer = QSTORE_WRITE_BUFFER_DEFAULT;
	if (mkdir(queue_directory, 0755) == 0) {
		if (fsync_dir_of(queue_directory) != 0) {
			*error_r = errf("cannot fsync the parent of %s: %s", queue_directory, strerror(errno));
			return -1;
		}
	} else if (errno != EEXIST) {
		*error_r = errf("cannot create queue directory %s: %s", queue_directory, strerror(errno));
		return -1;
	}
	if ((top = open(queue_directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		*error_r = errf("cannot open queue directory %s: %s", queue_directory, strerror(errno));
		return -1;
	}
	for (q = 0; q < QSTORE_NQUEUES; q++) {
		if (mkdirat(top, qstore_names[q], 0700) == 0)
			created = true;
		else if (errno != EEXIST)
			goto fail;
		qs->dirfd[q] = openat(top, qstore_names[q], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (qs->dirfd[q] < 0 || fix_dir(qs->dirfd[q], uid, gid) != 0)
			goto fail;
	}
	if (created && fsync(top) != 0)
		goto fail;
	close(top);
	qs->path = xstrdup(queue_directory);
	return 0;
fail:
	*error_r = errf("queue directory %s/%s: %s", queue_directory, qstore_names[q], strerror(errno));
	close(top);
	qstore_close(qs);
	return -1;
}

/* qstore_close - release the directory descriptors */
void qstore_close(struct qstore *qs)
{
	int q;

	for (q = 0; q < QSTORE_NQUEUES; q++) {
		if (qs->dirfd[q] >= 0)
			close(qs->dirfd[q]);
		qs->dirfd[q] = -1;
	}
	xfree(&qs->path);
}

/* --- writing ----------------------------------------------------------------------------- */

/* file_flush - write the buffered bytes; 0 or -1 (FAILED) */
static int file_flush(struct qstore_file *f, const char **error_r)
{
	if (f->wbuf.len == 0)
		return 0;
	if (fd_write_all(f->fd, f->wbuf.data, f->wbuf.len) != 0)
		return file_fail(f, error_r, "%s: cannot write queue file: %s", f->id, strerror(errno));
	f->flushed += f->wbuf.len;
	buf_reset(&f->wbuf);
	return 0;
}

/* file_maybe_flush - flush once the buffer holds write_buffer bytes */
static int file_maybe_flush(struct qstore_file *f, const char **error_r)
{
	return f->wbuf.len >= f->qs->write_buffer ? file_flush(f, error_r) : 0;
}

/* qstore_begin - create incoming/<ID>.tmp and write the envelope */
int qstore_begin(struct qstore *qs, const struct qfile_env *env, struct qstore_file **f_r, const char **error_r)
{
	int dfd = qs->dirfd[QSTORE_INCOMING], tries;
	struct qstore_file *f = xcalloc(1, sizeof(*f));
	struct qfile_env e = *env;

	f->qs = qs;
	f->fd = -1;
	for (tries = 0; tries < 20 && f->fd < 0; tries++) {
		timeid_queue(f->id);
		snprintf(f->tmp, sizeof(f->tmp), "%s%s", f->id, TMP_SUFFIX);
		f->fd = openat(dfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f->fd < 0 && errno != EEXIST) {
			*error_r = errf("cannot create queue file %s/incoming/%s: %s", qs->path, f->tmp,
					strerror(errno));
			free(f);
			return -1;
		}
		/* the final name must be free too (ids never repeat, but be sure) */
		if (f->fd >= 0 && faccessat(dfd, f->id, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			close(f->fd);
			unlinkat(dfd, f->tmp, 0);
			f->fd = -1;
		}
	}
	if (f->fd < 0) {
		*error_r = errf("cannot find a free queue id in %s/incoming", qs->path);
		free(f);
		return -1;
	}
	buf_init(&f->wbuf, qs->write_buffer + QFILE_REC_MAX + 64);
	e.queue_id = f->id;
	e.arrival_us = time_wall_us();
	if (qfile_put_header(&f->wbuf) != 0 || qfile_put_envelope(&f->wbuf, &e) != 0) {
		*error_r = errf("invalid envelope (a field is too long)");
		f->state = QSTORE_FILE_FAILED;
		qstore_file_free(&f);
		return -1;
	}
	f->state = QSTORE_FILE_WRITING;
	*f_r = f;
	return 0;
}

/* qstore_file_id - the new message's queue id */
const char *qstore_file_id(const struct qstore_file *f)
{
	return f->id;
}

/* qstore_file_state - writing, finished, committed or failed */
enum qstore_file_state qstore_file_state(const struct qstore_file *f)
{
	return f->state;
}

/* qstore_file_error - the reason of a failure */
const char *qstore_file_error(const struct qstore_file *f)
{
	return f->err;
}

/* qstore_file_size - content bytes written so far */
uint64_t qstore_file_size(const struct qstore_file *f)
{
	return f->content_size;
}

/* qstore_add_rcpt - append an R record */
int qstore_add_rcpt(struct qstore_file *f, const struct qfile_rcpt *r, const char **error_r)
{
	if (f->state != QSTORE_FILE_WRITING || f->content_started) {
		*error_r = "recipient added after the content or after an error";
		return -1;
	}
	if (f->nrcpt == UINT32_MAX || qfile_put_rcpt(&f->wbuf, r) != 0) {
		*error_r = "invalid recipient (a field is too long)";
		return -1;
	}
	f->nrcpt++;
	return file_maybe_flush(f, error_r);
}

/* content_start - write the M record header once */
static int content_start(struct qstore_file *f, const char **error_r)
{
	size_t len_at;

	if (f->content_started)
		return 0;
	if (qfile_put_content_start(&f->wbuf, &len_at) != 0)
		return file_fail(f, error_r, "%s: queue file buffer overflow", f->id);
	f->len_off = f->flushed + len_at;
	f->content_started = true;
	return 0;
}

/* qstore_append - stream content into the file */
int qstore_append(struct qstore_file *f, const void *p, size_t n, const char **error_r)
{
	if (f->state != QSTORE_FILE_WRITING) {
		*error_r = f->state == QSTORE_FILE_FAILED ? f->err : "content added to a finished file";
		return -1;
	}
	if (content_start(f, error_r) != 0)
		return -1;
	if (n == 0)
		return 0;
	if (n > QFILE_CONTENT_MAX - f->content_size)
		return file_fail(f, error_r, "%s: message too large for a queue file", f->id);
	if (f->wbuf.len + n > f->qs->write_buffer) {
		if (file_flush(f, error_r) != 0)
			return -1;
		if (n >= f->qs->write_buffer) { /* large pieces go straight to the file */
			if (fd_write_all(f->fd, p, n) != 0)
				return file_fail(f, error_r, "%s: cannot write queue file: %s", f->id,
						 strerror(errno));
			f->flushed += n;
			goto done;
		}
	}
	if (buf_append(&f->wbuf, p, n) != 0)
		panic("qstore_append: buffer bound");
done:
	f->content_size += n;
	f->last = ((const char *)p)[n - 1];
	return 0;
}

/* qstore_finish - final LF, length patch, end record */
int qstore_finish(struct qstore_file *f, const char **error_r)
{
	uint8_t len[4];

	if (f->state != QSTORE_FILE_WRITING) {
		*error_r = f->state == QSTORE_FILE_FAILED ? f->err : "queue file finished twice";
		return -1;
	}
	if (content_start(f, error_r) != 0)
		return -1;
	if (f->content_size > 0 && f->last != '\n' && qstore_append(f, "\n", 1, error_r) != 0)
		return -1;
	if (file_flush(f, error_r) != 0)
		return -1;
	qfile_put_len(len, (uint32_t)f->content_size);
	if (fd_pwrite_all(f->fd, len, sizeof(len), (off_t)f->len_off) != 0)
		return file_fail(f, error_r, "%s: cannot write queue file: %s", f->id, strerror(errno));
	if (qfile_put_end(&f->wbuf, f->nrcpt, f->content_size) != 0)
		return file_fail(f, error_r, "%s: queue file buffer overflow", f->id);
	if (file_flush(f, error_r) != 0)
		return -1;
	buf_free(&f->wbuf);
	f->state = QSTORE_FILE_FINISHED;
	return 0;
}

/* qstore_commit_batch - one data sync, renames, one directory fsync */
size_t qstore_commit_batch(struct qstore_file *const *files, size_t n)
{
	struct qstore *qs = NULL;
	size_t i, ok = 0, todo = 0;
	bool per_file;
	int dfd;

	for (i = 0; i < n; i++) {
		struct qstore_file *f = files[i];

		if (f->state == QSTORE_FILE_FINISHED) {
			if (qs != NULL && f->qs != qs)
				panic("qstore_commit_batch: files of different queues");
			qs = f->qs;
			todo++;
		} else if (f->state != QSTORE_FILE_COMMITTED && f->state != QSTORE_FILE_FAILED) {
			file_fail(f, NULL, "%s: commit of an unfinished queue file", f->id);
		}
	}
	if (todo == 0)
		goto count;
	dfd = qs->dirfd[QSTORE_INCOMING];
	/* 1. data on stable storage; a batch of one costs the same with fdatasync, and less on a busy fs */
	per_file = qs->sync == QSTORE_SYNC_FDATASYNC || todo == 1;
	if (!per_file && syncfs(dfd) != 0) {
		if (errno != ENOSYS) {
			int e = errno;

			for (i = 0; i < n; i++)
				if (files[i]->state == QSTORE_FILE_FINISHED)
					file_fail(files[i], NULL, "%s: cannot sync the queue file system: %s",
						  files[i]->id, strerror(e));
			goto count;
		}
		per_file = true;
	}
	for (i = 0; per_file && i < n; i++)
		if (files[i]->state == QSTORE_FILE_FINISHED && fdatasync(files[i]->fd) != 0)
			file_fail(files[i], NULL, "%s: cannot fsync queue file: %s", files[i]->id, strerror(errno));
	/* 2. the final names, never replacing another message */
	for (i = 0; i < n; i++) {
		struct qstore_file *f = files[i];

		if (f->state == QSTORE_FILE_FINISHED &&
		    renameat2(dfd, f->tmp, dfd, f->id, RENAME_NOREPLACE) != 0)
			file_fail(f, NULL, "%s: cannot rename queue file: %s", f->id, strerror(errno));
	}
	/* 3. one directory fsync makes every name durable; if it fails, take the names back */
	if (fsync(dfd) != 0) {
		int e = errno;

		for (i = 0; i < n; i++)
			if (files[i]->state == QSTORE_FILE_FINISHED) {
				unlinkat(dfd, files[i]->id, 0);
				file_fail(files[i], NULL, "%s: cannot fsync %s/incoming: %s", files[i]->id,
					  qs->path, strerror(e));
			}
		goto count;
	}
	for (i = 0; i < n; i++) {
		struct qstore_file *f = files[i];

		if (f->state == QSTORE_FILE_FINISHED) {
			f->state = QSTORE_FILE_COMMITTED;
			close(f->fd);
			f->fd = -1;
		}
	}
count:
	for (i = 0; i < n; i++)
		if (files[i]->state == QSTORE_FILE_COMMITTED)
			ok++;
	return ok;
}

/* qstore_commit - commit one file */
int qstore_commit(struct qstore_file *f, const char **error_r)
{
	if (qstore_commit_batch(&f, 1) == 1)
		return 0;
	*error_r = f->err;
	return -1;
}

/* fwd_name - incoming/<ID>.fwd.<PARENT>.<N>; 0, or -1 for ids that are not queue ids */
static int fwd_name(char *out, size_t size, const char *id, const char *parent, size_t n)
{
	if (!id_valid(id) || !id_valid(parent) || n >= 1000000)
		return -1;
	snprintf(out, size, "%s%s%s.%zu", id, QSTORE_FWD_TAG, parent, n);
	return 0;
}

#define FWD_NAME_SIZE (2 * TIMEID_QUEUE_LEN + sizeof(QSTORE_FWD_TAG) + 16)

/* qstore_stage - data durable, then the staged name durable */
int qstore_stage(struct qstore_file *f, const char *parent, size_t n, const char **error_r)
{
	char name[FWD_NAME_SIZE];
	int dfd = f->qs->dirfd[QSTORE_INCOMING];

	if (f->state != QSTORE_FILE_FINISHED)
		return file_fail(f, error_r, "%s: staging an unfinished queue file", f->id);
	if (fwd_name(name, sizeof(name), f->id, parent, n) != 0)
		return file_fail(f, error_r, "%s: bad parent queue id", f->id);
	if (fdatasync(f->fd) != 0)
		return file_fail(f, error_r, "%s: cannot fsync queue file: %s", f->id, strerror(errno));
	if (renameat2(dfd, f->tmp, dfd, name, RENAME_NOREPLACE) != 0)
		return file_fail(f, error_r, "%s: cannot rename queue file: %s", f->id, strerror(errno));
	if (fsync(dfd) != 0) {
		int e = errno;

		unlinkat(dfd, name, 0);
		return file_fail(f, error_r, "%s: cannot fsync %s/incoming: %s", f->id, f->qs->path, strerror(e));
	}
	close(f->fd);
	f->fd = -1;
	f->state = QSTORE_FILE_COMMITTED;
	return 0;
}

/* qstore_fwd_release - rename the staged file to its queue id, fsync incoming/ */
int qstore_fwd_release(struct qstore *qs, const char *id, const char *parent, size_t n, const char **error_r)
{
	char name[FWD_NAME_SIZE];
	int dfd = qs->dirfd[QSTORE_INCOMING];

	if (fwd_name(name, sizeof(name), id, parent, n) != 0) {
		*error_r = errf("not a queue id: %s", log_sanitize(id, 40));
		return -1;
	}
	if (renameat2(dfd, name, dfd, id, RENAME_NOREPLACE) != 0 || fsync(dfd) != 0) {
		*error_r = errf("%s: cannot release forwarded message: %s", id, strerror(errno));
		return -1;
	}
	return 0;
}

/* qstore_fwd_discard - unlink a staged file */
int qstore_fwd_discard(struct qstore *qs, const char *id, const char *parent, size_t n, const char **error_r)
{
	char name[FWD_NAME_SIZE];

	if (fwd_name(name, sizeof(name), id, parent, n) != 0) {
		*error_r = errf("not a queue id: %s", log_sanitize(id, 40));
		return -1;
	}
	if (unlinkat(qs->dirfd[QSTORE_INCOMING], name, 0) != 0 && errno != ENOENT) {
		*error_r = errf("%s: cannot remove staged forward: %s", id, strerror(errno));
		return -1;
	}
	return 0;
}

/* qstore_file_free - release; abort (remove) an uncommitted file */
void qstore_file_free(struct qstore_file **fp)
{
	struct qstore_file *f = *fp;

	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->state != QSTORE_FILE_COMMITTED)
		unlinkat(f->qs->dirfd[QSTORE_INCOMING], f->tmp, 0);
	buf_free(&f->wbuf);
	free(f);
	*fp = NULL;
}

/* --- reading and managing ----------------------------------------------------------------- */

/* open_dir_stream - a fresh directory stream for queue q */
static DIR *open_dir_stream(struct qstore *qs, enum qstore_queue q)
{
	int fd = openat(qdir(qs, q), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dp;

	if (fd < 0)
		return NULL;
	if ((dp = fdopendir(fd)) == NULL)
		close(fd);
	return dp;
}

/* is_regular - is name in dir a regular file (without following symlinks)? */
static bool is_regular(int dfd, const struct dirent *e, struct stat *st)
{
	if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dfd, e->d_name, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
}

/* cmp_id - qsort comparator for queue ids */
static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* qstore_scan - the committed files of a queue, oldest first */
int qstore_scan(struct qstore *qs, enum qstore_queue q, struct qstore_ids *out, const char **error_r)
{
	DIR *dp = open_dir_stream(qs, q);
	struct dirent *e;
	struct stat st;
	size_t cap = 0;

	out->id = NULL;
	out->n = 0;
	if (dp == NULL) {
		*error_r = errf("cannot open %s/%s: %s", qs->path, qstore_names[q], strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		if (!id_valid(e->d_name) || !is_regular(qs->dirfd[q], e, &st))
			continue;
		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			out->id = xreallocarray(out->id, cap, sizeof(*out->id));
		}
		memcpy(out->id[out->n++], e->d_name, TIMEID_QUEUE_SIZE);
	}
	closedir(dp);
	if (out->n > 1)
		qsort(out->id, out->n, sizeof(*out->id), cmp_id);
	return 0;
}

/* qstore_ids_free - release a scan result */
void qstore_ids_free(struct qstore_ids *ids)
{
	xfree(&ids->id);
	ids->n = 0;
}

/* qstore_fwd_scan - parse the staged names of incoming/ */
int qstore_fwd_scan(struct qstore *qs, struct qstore_fwd **out_r, size_t *n_r, const char **error_r)
{
	DIR *dp = open_dir_stream(qs, QSTORE_INCOMING);
	size_t tag = strlen(QSTORE_FWD_TAG), cap = 0;
	struct dirent *e;

	*out_r = NULL;
	*n_r = 0;
	if (dp == NULL) {
		*error_r = errf("cannot open %s/incoming: %s", qs->path, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		const char *p = e->d_name, *num = p + 2 * TIMEID_QUEUE_LEN + tag + 1;
		struct qstore_fwd f;
		char *end;
		unsigned long n;

		if (strlen(p) < 2 * TIMEID_QUEUE_LEN + tag + 2 || memcmp(p + TIMEID_QUEUE_LEN, QSTORE_FWD_TAG, tag) != 0 ||
		    p[2 * TIMEID_QUEUE_LEN + tag] != '.' || *num < '0' || *num > '9')
			continue;
		memcpy(f.id, p, TIMEID_QUEUE_LEN);
		f.id[TIMEID_QUEUE_LEN] = '\0';
		memcpy(f.parent, p + TIMEID_QUEUE_LEN + tag, TIMEID_QUEUE_LEN);
		f.parent[TIMEID_QUEUE_LEN] = '\0';
		errno = 0;
		n = strtoul(num, &end, 10);
		if (*end || errno || n >= 1000000 || !id_valid(f.id) || !id_valid(f.parent))
			continue;
		f.n = n;
		if (*n_r == cap)
			*out_r = xreallocarray(*out_r, cap = cap ? 2 * cap : 8, sizeof(**out_r));
		(*out_r)[(*n_r)++] = f;
	}
	closedir(dp);
	return 0;
}

/* qstore_clean_temp - remove stale <ID>.tmp files from incoming */
size_t qstore_clean_temp(struct qstore *qs, unsigned min_age)
{
	int dfd = qs->dirfd[QSTORE_INCOMING];
	DIR *dp = open_dir_stream(qs, QSTORE_INCOMING);
	time_t now = time(NULL);
	struct dirent *e;
	struct stat st;
	size_t removed = 0;

	if (dp == NULL)
		return 0;
	while ((e = readdir(dp)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len != TIMEID_QUEUE_LEN + strlen(TMP_SUFFIX) ||
		    strcmp(e->d_name + TIMEID_QUEUE_LEN, TMP_SUFFIX) != 0 ||
		    timeid_queue_decode(e->d_name, TIMEID_QUEUE_LEN, NULL, NULL) != 0 || !is_regular(dfd, e, &st))
			continue;
		if (min_age > 0 && st.st_mtime + (time_t)min_age > now)
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0)
			removed++;
	}
	closedir(dp);
	return removed;
}

/* qstore_move - rename between queues, destination synced first */
int qstore_move(struct qstore *qs, const char *id, enum qstore_queue from, enum qstore_queue to,
		const char **error_r)
{
	if (!id_valid(id)) {
		*error_r = errf("not a queue id: %s", log_sanitize(id, 40));
		return -1;
	}
	if (renameat2(qdir(qs, from), id, qdir(qs, to), id, RENAME_NOREPLACE) != 0) {
		*error_r = errf("%s: cannot move from %s to %s: %s", id, qstore_queue_name(from),
				qstore_queue_name(to), strerror(errno));
		return -1;
	}
	if (fsync(qs->dirfd[to]) != 0 || fsync(qs->dirfd[from]) != 0) {
		*error_r = errf("%s: cannot fsync after moving from %s to %s: %s", id, qstore_names[from],
				qstore_names[to], strerror(errno));
		return -1;
	}
	return 0;
}

/* qstore_take - rename into active/ without syncs (see qstore.h) */
int qstore_take(struct qstore *qs, const char *id, enum qstore_queue from, const char **error_r)
{
	if (!id_valid(id)) {
		*error_r = errf("not a queue id: %s", log_sanitize(id, 40));
		return -1;
	}
	if (renameat2(qdir(qs, from), id, qdir(qs, QSTORE_ACTIVE), id, RENAME_NOREPLACE) != 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = errf("%s: cannot move from %s to active: %s", id, qstore_queue_name(from), strerror(errno));
		return -1;
	}
	return 1;
}

/* qstore_delete - unlink a finished message */
int qstore_delete(struct qstore *qs, enum qstore_queue q, const char *id, const char **error_r)
{
	if (!id_valid(id)) {
		*error_r = errf("not a queue id: %s", log_sanitize(id, 40));
		return -1;
	}
	if (unlinkat(qdir(qs, q), id, 0) != 0) {
		*error_r = errf("%s: cannot remove from %s: %s", id, qstore_names[q], strerror(errno));
		return -1;
	}
	return 0;
}

/* qstore_msg_open - open and decode a queue file's envelope */
int qstore_msg_open(struct qstore *qs, enum qstore_queue q, const char *id, bool writable,
		    struct qstore_msg **m_r, const char **error_r)
{
	struct qstore_msg *m;
	struct stat st;
	const char *derr = NULL;
	void *map;
	int fd, rc;

	if (!id_valid(id)) {
		*error_r = errf("not a queue id: %s", log_sanitize(id, 40));
		return QSTORE_OPEN_ERROR;
	}
	fd = openat(qdir(qs, q), id,
		    (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		*error_r = errf("%s: cannot open queue file in %s: %s", id, qstore_names[q], strerror(errno));
		if (fd >= 0)
			close(fd);
		return QSTORE_OPEN_ERROR;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		*error_r = errf("%s: %s", id, S_ISREG(st.st_mode) ? "incomplete queue file: empty" : "not a file");
		close(fd);
		return QSTORE_OPEN_CORRUPT;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		*error_r = errf("%s: cannot map queue file: %s", id, strerror(errno));
		close(fd);
		return QSTORE_OPEN_ERROR;
	}
	m = xcalloc(1, sizeof(*m));
	m->arena = arena_new(0);
	rc = qfile_decode(map, (size_t)st.st_size, m->arena, &m->env, &derr);
	munmap(map, (size_t)st.st_size);
	if (rc == 1 && strcmp(m->env.queue_id, id) != 0) {
		derr = "queue id in the file does not match its name";
		rc = -1;
	}
	if (rc != 1) {
		*error_r = errf("%s: %s", id, derr);
		close(fd);
		arena_free(&m->arena);
		free(m);
		return QSTORE_OPEN_CORRUPT;
	}
	memcpy(m->id, id, TIMEID_QUEUE_SIZE);
	m->queue = q;
	m->fd = fd;
	m->writable = writable;
	m->file_size = (uint64_t)st.st_size;
	*m_r = m;
	return QSTORE_OPEN_OK;
}

/* qstore_msg_close - close and free */
void qstore_msg_close(struct qstore_msg **mp)
{
	struct qstore_msg *m = *mp;

	if (m == NULL)
		return;
	close(m->fd);
	arena_free(&m->arena);
	free(m);
	*mp = NULL;
}

/* qstore_mark_rcpt - overwrite a recipient's status slot and sync */
int qstore_mark_rcpt(struct qstore_msg *m, size_t i, enum qfile_rcpt_status st, const char *dsn,
		     const char *text, unsigned flags, const char **error_r)
{
	uint8_t slot[QFILE_STATUS_SIZE];
	struct qfile_rcpt *r;

	if (!m->writable || i >= m->env.nrcpt) {
		*error_r = errf("%s: cannot mark recipient %zu: %s", m->id, i,
				m->writable ? "no such recipient" : "opened read-only");
		return -1;
	}
	if (qfile_status_encode(slot, st, dsn, text) != 0) {
		*error_r = errf("%s: bad recipient status or DSN code", m->id);
		return -1;
	}
	r = &m->env.rcpts[i];
	if (fd_pwrite_all(m->fd, slot, sizeof(slot), (off_t)r->status_offset) != 0) {
		*error_r = errf("%s: cannot update queue file: %s", m->id, strerror(errno));
		return -1;
	}
	r->status = st;
	memcpy(r->dsn, slot + 1, QFILE_DSN_SIZE);
	r->dsn[QFILE_DSN_SIZE] = '\0';
	r->text = arena_memdup(m->arena, text ? text : "", text ? strnlen(text, QFILE_TEXT_MAX) : 0);
	if (!(flags & QSTORE_MARK_NOSYNC))
		return qstore_msg_sync(m, error_r);
	return 0;
}

/* qstore_msg_sync - make marks durable */
int qstore_msg_sync(struct qstore_msg *m, const char **error_r)
{
	if (fdatasync(m->fd) != 0) {
		*error_r = errf("%s: cannot fsync queue file: %s", m->id, strerror(errno));
		return -1;
	}
	return 0;
}
