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
#include <stdbool.h>
#include <stdint.h>
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

/*
 * Duplicate keys. Real tables rarely have any, so the first pass only records
 * a 64-bit hash of each key (sequential writes, no per-key allocation) while
 * it writes every entry. If no two hashes are equal, no two keys are, and the
 * table is done. Otherwise (a duplicate, or a 64-bit collision) the table is
 * built again from the start with an exact set of seen keys, which keeps the
 * first value and names each duplicate's line: the output never depends on
 * which pass made it. This halved the CPU time of a 100k-key build.
 */
struct build_ctx {
	const char *src;
	const char *tmp;
	struct cdb_make cm;
	struct htab *seen;  /* exact pass: keys added so far; NULL in the fast pass */
	uint64_t *hashes;   /* fast pass: the hash of every key, in file order */
	size_t nhashes, hashes_cap;
	int flags;
	int fd;            /* the temporary file */
	off_t flushed;     /* bytes handed to early writeback so far */
	unsigned entries;  /* entries added */
};

/* writeback every this many bytes while building, so the final fsync waits for little */
#define EARLY_WRITEBACK (1024u * 1024u)

/* any_equal - sort v (LSD radix, 8 bits a pass) and tell whether two values are equal */
static bool any_equal(uint64_t *v, size_t n)
{
	uint64_t *tmp = xcalloc(n ? n : 1, sizeof(*tmp)), *from = v, *to = tmp, *swap;
	size_t count[256], i;
	unsigned shift;
	bool equal = false;

	for (shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(from[i] >> shift) & 0xff]++;
		for (i = 0; i < 256; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			to[count[(from[i] >> shift) & 0xff]++] = from[i];
		swap = from;
		from = to;
		to = swap;
	}
	for (i = 1; i < n && !equal; i++)
		equal = from[i] == from[i - 1];
	free(tmp);
	return equal;
}

/* build_entry - add one entry unless its key was seen */
static int build_entry(void *ctx, const char *key, size_t klen, const char *value, size_t vlen,
		       unsigned line, const char **error_r)
{
	struct build_ctx *bc = ctx;

	if (bc->seen == NULL) {
		/* entries never outnumber lines, and hashes_cap counts lines: no growth */
		ASSERT(bc->nhashes < bc->hashes_cap);
		bc->hashes[bc->nhashes++] = hash_bytes64(0, key, klen);
	} else if (htab_put(bc->seen, key, NULL)) {
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
	int rc = -1, started = 0, making = 0, pass;

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
	bc.hashes_cap = count_lines(&src) + 1;
	bc.hashes = xcalloc(bc.hashes_cap, sizeof(*bc.hashes));
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			/* duplicates: start over with the exact set (see build_ctx) */
			if (ftruncate(sf.fd, 0) != 0 || lseek(sf.fd, 0, SEEK_SET) != 0) {
				*error_r = dict_open_error("truncate %s: %s", sf.tmp, strerror(errno));
				goto done;
			}
			bc.flushed = 0;
			bc.entries = 0;
			/* presize for one entry per line: the set never grows, load stays <= 1/2 */
			bc.seen = htab_new_arena(bc.hashes_cap, NULL);
		}
		if (cdb_make_start(&bc.cm, sf.fd) != 0) {
			*error_r = dict_open_error("write %s: %s", sf.tmp, strerror(errno));
			goto done;
		}
		making = 1;
		if (dict_parse_source(bc.src, &src, pass ? flags | DICT_FLAG_PARSE_QUIET : flags, build_entry,
				      &bc, error_r) != 0)
			goto done;
		if (pass == 0 && any_equal(bc.hashes, bc.nhashes)) {
			(void)cdb_make_finish(&bc.cm); /* frees its record lists; the file is redone */
			making = 0;
			continue;
		}
		making = 0;
		if (cdb_make_finish(&bc.cm) != 0) {
			*error_r = dict_open_error("write %s: %s", sf.tmp, strerror(errno));
			goto done;
		}
		break;
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
	free(bc.hashes);
	buf_free(&src);
	free(out);
	free(type);
	return rc;
}
