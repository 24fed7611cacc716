/*
 * dict_cdb.c - hash: and cdb: tables: CDB files (tinycdb), reopened when rebuilt
 *
 * Runs in:  every process that uses hash:/cdb: tables
 * API:      dict_hash_open(), dict_cdb_open()   -- registered in dict.c, see dict.h
 * Tests:    tests/unit/test_dict.c, tests/e2e/test_postmap.py
 * Refs:     cdb(5), tinycdb cdb(3), postmap(1)
 *
 * hash:PATH reads PATH.db and cdb:PATH reads PATH.cdb. Both are CDB files
 * (tinycdb, mmap'ed): `postern postmap` writes them with a temporary file and
 * rename(2), so an open table keeps its old mapping until it notices the new
 * inode. That check is a stat(2) at most once per second of the monotonic
 * clock (CLOCK_MONOTONIC_COARSE is read from the vDSO: no syscall per lookup),
 * or on dict_refresh(). If the new file cannot be opened the old one stays in
 * use. Postfix's hash: files are Berkeley DB: recognised by their magic
 * number and refused with a hint, instead of a confusing "not a CDB file".
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/dict-private.h"

struct cdb_file {
	int fd; /* -1: not open */
	struct cdb cdb;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct dict_cdb {
	struct dict d;
	char *src;    /* the name after "type:" (the text source, for hints) */
	char *path;   /* the CDB file */
	struct cdb_file f;
	time_t next_check; /* monotonic seconds; no stat before this */
	struct buf val;    /* NUL-terminated copy of the last value */
};

/* Berkeley DB (2.x and later) metadata page: magic number at offset 12, version at 16 */
static const uint32_t bdb_magic[] = { 0x061561 /* hash */, 0x053162 /* btree */, 0x042253 /* queue */ };

/* bswap32 - byte-swap, for a Berkeley DB file of the other byte order */
static uint32_t bswap32(uint32_t x)
{
	return (x >> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}

/*
 * is_berkeley_db - does the file start like a Berkeley DB file?
 * In a CDB file the same bytes are the slot count of hash table 1 (even, and
 * far below the byte-swapped magics) and the position of table 2 (>= 2048),
 * so a CDB file cannot be mistaken for one.
 */
static int is_berkeley_db(int fd)
{
	unsigned char h[20];
	uint32_t magic, version;
	size_t i;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	memcpy(&magic, h + 12, 4);
	memcpy(&version, h + 16, 4);
	for (i = 0; i < sizeof(bdb_magic) / sizeof(bdb_magic[0]); i++) {
		if (magic == bdb_magic[i] && version >= 1 && version <= 64)
			return 1;
		if (bswap32(magic) == bdb_magic[i] && bswap32(version) >= 1 && bswap32(version) <= 64)
			return 1;
	}
	return 0;
}

/* cdb_file_open - open and map one CDB file; 0, or -1 with errno-style text in *why */
static int cdb_file_open(struct cdb_file *f, const char *path, const char *src, const char **why)
{
	struct stat st;

	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (f->fd < 0) {
		if (errno == ENOENT)
			*why = dict_open_error("open %s: %s (run `postern postmap %s`)", path,
					       strerror(errno), src);
		else
			*why = dict_open_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(f->fd, &st) != 0) {
		*why = dict_open_error("stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = dict_open_error("open %s: not a regular file", path);
		goto fail;
	}
	if (is_berkeley_db(f->fd)) {
		*why = dict_open_error("%s is a Berkeley DB file (made by Postfix's postmap?): "
				       "Postern's tables are CDB files; re-run `postern postmap %s`",
				       path, src);
		goto fail;
	}
	if (cdb_init(&f->cdb, f->fd) != 0) {
		*why = dict_open_error("%s: not a valid CDB file (%s); re-run `postern postmap %s`", path,
				       strerror(errno), src);
		goto fail;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	return 0;
fail:
	close(f->fd);
	f->fd = -1;
	return -1;
}

/* cdb_file_close - unmap and close */
static void cdb_file_close(struct cdb_file *f)
{
	if (f->fd < 0)
		return;
	cdb_free(&f->cdb);
	close(f->fd);
	f->fd = -1;
}

/* mono_seconds - coarse monotonic clock in seconds */
static time_t mono_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return 0;
	return ts.tv_sec;
}

/* dict_cdb_refresh - stat the path; reopen when it is another file or was modified */
static int dict_cdb_refresh(struct dict *d, bool force)
{
	struct dict_cdb *dc = (struct dict_cdb *)d;
	struct cdb_file nf;
	struct stat st;
	const char *why;
	time_t now = mono_seconds();

	if (!force && ((d->flags & DICT_FLAG_NO_RELOAD) || now < dc->next_check))
		return 0;
	dc->next_check = now + 1;
	if (stat(dc->path, &st) != 0)
		return dict_error(d, "%s: stat %s: %s (still using the old table)", d->spec, dc->path,
				  strerror(errno));
	if (st.st_dev == dc->f.dev && st.st_ino == dc->f.ino && st.st_size == dc->f.size
	    && st.st_mtim.tv_sec == dc->f.mtime.tv_sec && st.st_mtim.tv_nsec == dc->f.mtime.tv_nsec)
		return 0;
	if (cdb_file_open(&nf, dc->path, dc->src, &why) != 0)
		return dict_error(d, "%s: %s (still using the old table)", d->spec, why);
	cdb_file_close(&dc->f);
	dc->f = nf;
	return 1;
}

/* dict_cdb_lookup - rate-limited reload check, then one cdb_find() in the mapping */
static int dict_cdb_lookup(struct dict *d, const char *key, size_t len, const char **value_r)
{
	struct dict_cdb *dc = (struct dict_cdb *)d;
	const void *v;
	unsigned vlen;
	int rc;

	if (!(d->flags & DICT_FLAG_NO_RELOAD) && mono_seconds() >= dc->next_check
	    && dict_cdb_refresh(d, false) < 0)
		log_warn("%s", buf_cstr(&d->err));
	if (len > UINT_MAX)
		return 0;
	rc = cdb_find(&dc->f.cdb, key, (unsigned)len);
	if (rc < 0)
		return dict_error(d, "%s: corrupt file %s; re-run `postern postmap %s`", d->spec,
				  dc->path, dc->src);
	if (rc == 0)
		return 0;
	vlen = cdb_datalen(&dc->f.cdb);
	v = cdb_getdata(&dc->f.cdb);
	buf_reset(&dc->val);
	if (v == NULL || buf_append(&dc->val, v, vlen) != 0)
		return dict_error(d, "%s: bad or oversized value in %s", d->spec, dc->path);
	*value_r = buf_cstr(&dc->val);
	return 1;
}

/* dict_cdb_close - unmap and free */
static void dict_cdb_close(struct dict *d)
{
	struct dict_cdb *dc = (struct dict_cdb *)d;

	cdb_file_close(&dc->f);
	free(dc->src);
	free(dc->path);
	buf_free(&dc->val);
	free(dc);
}

static const struct dict_ops dict_cdb_ops = { dict_cdb_lookup, dict_cdb_refresh, dict_cdb_close };

/* cdb_open_suffix - shared open of hash: and cdb: */
static struct dict *cdb_open_suffix(const char *type, const char *name, int flags,
				    const char **error_r)
{
	struct dict_cdb *dc;

	if (*name == '\0') {
		*error_r = dict_open_error("%s: table needs a file name (%s:/path/to/file)", type, type);
		return NULL;
	}
	dc = xcalloc(1, sizeof(*dc));
	dc->d.ops = &dict_cdb_ops;
	dc->f.fd = -1;
	dc->src = xstrdup(name);
	dc->path = xasprintf("%s%s", name, dict_cdb_suffix(type));
	buf_init(&dc->val, 0);
	if (cdb_file_open(&dc->f, dc->path, dc->src, error_r) != 0) {
		dict_cdb_close(&dc->d);
		return NULL;
	}
	dc->next_check = (flags & DICT_FLAG_NO_RELOAD) ? 0 : mono_seconds() + 1;
	return &dc->d;
}

/* dict_hash_open - hash:PATH reads PATH.db */
struct dict *dict_hash_open(const char *name, int flags, const char **error_r)
{
	return cdb_open_suffix("hash", name, flags, error_r);
}

/* dict_cdb_open - cdb:PATH reads PATH.cdb */
struct dict *dict_cdb_open(const char *name, int flags, const char **error_r)
{
	return cdb_open_suffix("cdb", name, flags, error_r);
}
