/*
 * mapbuild.c - write a CDB table from a postmap(1) text source, atomically
 *
 * Runs in:  postern postmap
 * API:      map_build()   -- see mapbuild.h
 * Tests:    tests/unit/test_dict.c, tests/e2e/test_postmap.py
 * Refs:     postmap(1), cdb(3) cdb_make
 */
#include "libmail/mapbuild.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/htab.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/xalloc.h"
#include "libmail/dict-private.h"
#include "libmail/dict.h"

struct build_ctx {
	const char *src;
	const char *tmp;
	struct cdb_make cm;
	struct htab *seen; /* keys added so far (no values) */
	int flags;
	int fd;            /* the temporary file */
	off_t flushed;     /* bytes handed to early writeback so far */
	unsigned entries;  /* entries added */
};

/* writeback every this many bytes while building, so the final fsync waits for little */
#define EARLY_WRITEBACK (1024u * 1024u)

/* build_entry - add one entry unless its key was seen */
static int build_entry(void *ctx, const char *key, size_t klen, const char *value, size_t vlen,
		       unsigned line, const char **error_r)
{
	struct build_ctx *bc = ctx;

	if (htab_put(bc->seen, key, NULL)) {
		if (!(bc->flags & MAP_BUILD_NO_DUP_WARN))
			log_warn("%s, line %u: duplicate entry: \"%s\"", bc->src, line,
				 log_sanitize(key, 200));
		return 0;
	}
	if (klen > UINT_MAX || vlen > UINT_MAX
	    || cdb_make_add(&bc->cm, key, (unsigned)klen, value, (unsigned)vlen) != 0) {
		*error_r = dict_open_error("write %s: %s", bc->tmp,
					   klen > UINT_MAX || vlen > UINT_MAX ? "entry too large"
									      : strerror(errno));
		return -1;
	}
	/*
	 * Start writing finished data to disk now (asynchronously): fsync at the
	 * end then only waits for the tail instead of the whole file. Advisory:
	 * errors are ignored here, the fsync in safefile_commit() reports them.
	 */
	if (++bc->entries % 4096 == 0) {
		off_t written = lseek(bc->fd, 0, SEEK_CUR);

		if (written - bc->flushed >= (off_t)EARLY_WRITEBACK) {
			(void)sync_file_range(bc->fd, bc->flushed, written - bc->flushed,
					      SYNC_FILE_RANGE_WRITE);
			bc->flushed = written;
		}
	}
	return 0;
}

/* count_lines - number of newline-terminated (or final unterminated) lines in b */
static size_t count_lines(const struct buf *b)
{
	const char *p = buf_cstr(b), *end = p + b->len, *nl;
	size_t n = 0;

	for (; p < end; p = nl + 1, n++)
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return n + 1;
	return n;
}

/* map_build - read, parse, write to a temp file, commit */
int map_build(const char *spec, int flags, const char **error_r)
{
	const char *colon = strchr(spec, ':'), *suffix;
	struct buf src = BUF_INIT(0);
	struct build_ctx bc;
	struct safefile sf;
	struct stat st;
	char *type, *out = NULL;
	const char *why;
	int rc = -1, started = 0, making = 0;

	type = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup("");
	suffix = dict_cdb_suffix(type);
	if (suffix == NULL) {
		if (colon && dict_type_known(type))
			*error_r = dict_open_error("%s: tables of type %s are read directly, "
						   "there is nothing to build", spec, type);
		else
			*error_r = dict_open_error("unsupported dictionary type for building: %s",
						   log_sanitize(type, 100));
		free(type);
		return -1;
	}
	memset(&bc, 0, sizeof(bc));
	bc.src = colon + 1;
	bc.flags = flags;
	if (*bc.src == '\0') {
		*error_r = dict_open_error("%s: table needs a file name", spec);
		goto done;
	}
	if (dict_read_file(bc.src, DICT_SOURCE_MAX, &src, &st, error_r) != 0)
		goto done;
	out = xasprintf("%s%s", bc.src, suffix);
	if (safefile_open(&sf, out, st.st_mode & 0644, &why) != 0) {
		*error_r = dict_open_error("%s", why);
		goto done;
	}
	started = 1;
	bc.tmp = sf.tmp;
	bc.fd = sf.fd;
	/* presize for one entry per line: the set then never grows and stays at load <= 1/2 */
	bc.seen = htab_new_arena(count_lines(&src), NULL);
	if (cdb_make_start(&bc.cm, sf.fd) != 0) {
		*error_r = dict_open_error("write %s: %s", sf.tmp, strerror(errno));
		goto done;
	}
	making = 1;
	if (dict_parse_source(bc.src, &src, flags, build_entry, &bc, error_r) != 0)
		goto done;
	making = 0;
	if (cdb_make_finish(&bc.cm) != 0) {
		*error_r = dict_open_error("write %s: %s", sf.tmp, strerror(errno));
		goto done;
	}
	if (safefile_commit(&sf, &why) != 0) {
		*error_r = dict_open_error("%s", why);
		goto done;
	}
	started = 0;
	rc = 0;
done:
	/* cdb_make frees its record lists only in finish: finish into the doomed temp file */
	if (making)
		(void)cdb_make_finish(&bc.cm);
	if (started)
		safefile_abort(&sf);
	htab_free(&bc.seen);
	buf_free(&src);
	free(out);
	free(type);
	return rc;
}
