/*
 * cmd_postmap.c - `postern postmap`: build hash:/cdb: tables, or query any table (-q)
 *
 * Usage:    postern postmap [-fw] [TYPE:]FILE...          build FILE.db / FILE.cdb
 *           postern postmap [-f] -q KEY [TYPE:]FILE...    print the value of KEY
 *           postern postmap [-f] -q - [TYPE:]FILE...      keys on stdin, "key<TAB>value" out
 * TYPE defaults to hash. -f: do not fold keys to lower case. -w: no duplicate warnings.
 * Exit:     0 ok / found (-q -: at least one found), 1 not found, 2 error (one line on stderr)
 * Refs:     postmap(1); building is map_build() (mapbuild.h), tables are dict.h
 *
 * `-q -` is the bulk path (benchmarked with a million keys): stdin is read in
 * large chunks by a bounded line reader, each result is one fwrite() into a
 * fully buffered stdout, and a lookup costs no system call (dict.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/dict.h"
#include "libmail/mapbuild.h"

#define POSTMAP_DEFAULT_TYPE "hash"
/* longest key line accepted on stdin */
#define POSTMAP_KEY_MAX (64 * 1024)
#define POSTMAP_READ_CHUNK (256 * 1024)

/* table_spec - "type:file" for an argument: a bare path (no ':' before any '/') gets the default type */
static char *table_spec(const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (colon == NULL || memchr(arg, '/', (size_t)(colon - arg)) != NULL)
		return xasprintf("%s:%s", POSTMAP_DEFAULT_TYPE, arg);
	/* an unknown type stays as written, so that dict_open() names it in its error */
	return xstrdup(arg);
}

/* postmap_fail - the one stderr line of a failed command */
static int postmap_fail(const char *text)
{
	log_msg(LOG_LVL_FATAL, "%s", text);
	return EXIT_USAGE;
}

/* open_all - open every table named in argv; -1 after reporting */
static int open_all(int n, char **names, int flags, struct dict **d)
{
	const char *err;
	char *spec;
	int i;

	for (i = 0; i < n; i++) {
		spec = table_spec(names[i]);
		d[i] = dict_open(spec, flags, &err);
		free(spec);
		if (d[i] == NULL) {
			postmap_fail(err);
			return -1;
		}
	}
	return 0;
}

/* query_one - first table that has key; 1, 0 or -1 (reported) */
static int query_one(struct dict **d, int n, const char *key, const char **value_r)
{
	const char *err;
	int i, rc;

	for (i = 0; i < n; i++) {
		rc = dict_lookup(d[i], key, value_r, &err);
		if (rc < 0) {
			postmap_fail(err);
			return -1;
		}
		if (rc > 0)
			return 1;
	}
	return 0;
}

/* bounded line reader over a file descriptor, large reads, no stdio */
struct line_reader {
	int fd;
	char *buf;
	size_t cap, start, end;
	int eof;
};

/*
 * reader_next - the next line without its newline, NUL-terminated in place.
 * Returns 1 (line), 0 (EOF), -1 (read error, errno set), -2 (line longer than
 * POSTMAP_KEY_MAX: it is skipped).
 */
static int reader_next(struct line_reader *r, char **line, size_t *len)
{
	char *nl;
	ssize_t got;
	int too_long = 0;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL || (r->eof && r->end > r->start)) {
			if (nl == NULL)
				nl = r->buf + r->end; /* last line without newline; the buffer has a spare byte */
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			*nl = '\0';
			r->start = (size_t)(nl - r->buf) + (nl < r->buf + r->end ? 1 : 0);
			if (too_long)
				return -2;
			return *len > POSTMAP_KEY_MAX ? -2 : 1;
		}
		if (r->eof)
			return too_long ? -2 : 0;
		/* move the partial line to the front; drop it if it is already too long */
		if (r->end - r->start > POSTMAP_KEY_MAX) {
			too_long = 1;
			r->start = r->end;
		}
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		got = read(r->fd, r->buf + r->end, r->cap - 1 - r->end);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			r->eof = 1;
		r->end += (size_t)got;
	}
}

/* query_stdin - "-q -": look up every stdin line, print key<TAB>value for those found */
static int query_stdin(struct dict **d, int n)
{
	struct line_reader r = { STDIN_FILENO, NULL, 0, 0, 0, 0 };
	struct buf out = BUF_INIT(0);
	const char *value;
	char *key;
	size_t klen;
	int rc, found = 0, status = EXIT_OK;

	/* the chunk must hold a maximal line plus the next read */
	r.cap = POSTMAP_KEY_MAX + POSTMAP_READ_CHUNK + 1;
	r.buf = xmalloc(r.cap);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	while ((rc = reader_next(&r, &key, &klen)) != 0) {
		if (rc == -1) {
			log_msg(LOG_LVL_FATAL, "read standard input: %s", strerror(errno));
			status = EXIT_USAGE;
			break;
		}
		if (rc == -2) {
			log_warn("standard input: key longer than %d bytes skipped", POSTMAP_KEY_MAX);
			continue;
		}
		if (memchr(key, '\0', klen) != NULL)
			continue;
		rc = query_one(d, n, key, &value);
		if (rc < 0) {
			status = EXIT_USAGE;
			break;
		}
		if (rc == 0)
			continue;
		found = 1;
		buf_reset(&out);
		if (buf_append(&out, key, klen) != 0 || buf_putc(&out, '\t') != 0
		    || buf_puts(&out, value) != 0 || buf_putc(&out, '\n') != 0) {
			log_warn("standard input: result for a key too large, skipped");
			continue;
		}
		fwrite(out.data, 1, out.len, stdout);
	}
	if (fflush(stdout) != 0 && status == EXIT_OK) {
		log_msg(LOG_LVL_FATAL, "write standard output: %s", strerror(errno));
		status = EXIT_USAGE;
	}
	buf_free(&out);
	free(r.buf);
	if (status != EXIT_OK)
		return status;
	return found ? EXIT_OK : EXIT_NOTFOUND;
}

/* cmd_postmap - `postern postmap` */
int cmd_postmap(struct cli *cli, int argc, char **argv)
{
	return postmap_run(cli, argc, argv, 0);
}

/* postmap_run - parse options, then build (with build_flags added) or query */
int postmap_run(struct cli *cli, int argc, char **argv, int build_flags)
{
	const char *query = NULL, *err, *value;
	int opt, flags = DICT_FLAG_FOLD_KEY, status = EXIT_OK, i, n, rc;
	struct dict **d;
	char *spec;

	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, "+fq:w")) != -1) {
		switch (opt) {
		case 'f':
			flags &= ~DICT_FLAG_FOLD_KEY;
			break;
		case 'q':
			query = optarg;
			break;
		case 'w':
			flags |= MAP_BUILD_NO_DUP_WARN;
			break;
		default:
			return cli_usage_error(cli, "unknown option -%c or missing argument",
					       optopt ? optopt : '?');
		}
	}
	n = argc - optind;
	if (n < 1)
		return cli_usage_error(cli, "missing table name");
	if (query == NULL) {
		for (i = optind; i < argc; i++) {
			spec = table_spec(argv[i]);
			rc = map_build(spec, flags | build_flags, &err);
			free(spec);
			if (rc != 0) {
				status = postmap_fail(err);
				break;
			}
		}
		return status;
	}
	d = xcalloc((size_t)n, sizeof(*d));
	if (open_all(n, argv + optind, flags & DICT_FLAG_FOLD_KEY, d) != 0) {
		status = EXIT_USAGE;
	} else if (strcmp(query, "-") == 0) {
		status = query_stdin(d, n);
	} else {
		rc = query_one(d, n, query, &value);
		if (rc > 0)
			printf("%s\n", value);
		status = rc > 0 ? EXIT_OK : rc == 0 ? EXIT_NOTFOUND : EXIT_USAGE;
	}
	for (i = 0; i < n; i++)
		dict_close(&d[i]);
	free(d);
	return status;
}
