/*
 * dict.c - lookup table registry, common open/lookup/close, shared source helpers
 *
 * Runs in:  every process that uses lookup tables, and `postern postmap`
 * API:      dict_open(), dict_lookup(), dict_refresh(), dict_close()  -- see dict.h;
 *           type helpers in dict-private.h
 * Tests:    tests/unit/test_dict.c
 */
#include "libmail/dict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/dict-private.h"
#include "libmail/mapsrc.h"

/* the registry: one row per table type */
static const struct dict_type dict_types[] = {
	{ "hash", dict_hash_open },	    { "cdb", dict_cdb_open },
	{ "texthash", dict_texthash_open }, { "static", dict_static_open },
	{ "inline", dict_inline_open },	    { "cidr", dict_cidr_open },
};

/* room for a long path plus the explanation */
static char dict_open_errbuf[4608];

/* dict_open_error - format an open-time error into the static buffer */
const char *dict_open_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dict_open_errbuf, sizeof(dict_open_errbuf), fmt, ap);
	va_end(ap);
	return dict_open_errbuf;
}

/* dict_error - set the per-table error text */
int dict_error(struct dict *d, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&d->err);
	va_start(ap, fmt);
	if (buf_vprintf(&d->err, fmt, ap) != 0)
		buf_puts(&d->err, "error text too long");
	va_end(ap);
	return -1;
}

/* find_type - registry row for a type name of n bytes, or NULL */
static const struct dict_type *find_type(const char *type, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(dict_types) / sizeof(dict_types[0]); i++)
		if (strlen(dict_types[i].name) == n && memcmp(dict_types[i].name, type, n) == 0)
			return &dict_types[i];
	return NULL;
}

/* dict_type_known - is type a registered table type? */
bool dict_type_known(const char *type)
{
	return find_type(type, strlen(type)) != NULL;
}

/* dict_cdb_suffix - file suffix of the CDB-backed types */
const char *dict_cdb_suffix(const char *type)
{
	if (strcmp(type, "hash") == 0)
		return ".db";
	if (strcmp(type, "cdb") == 0)
		return ".cdb";
	return NULL;
}

/* dict_open - split "type:name", find the type, open it, fill the common fields */
struct dict *dict_open(const char *spec, int flags, const char **error_r)
{
	const char *colon = strchr(spec, ':');
	const struct dict_type *t;
	struct dict *d;

	if (colon == NULL || colon == spec) {
		*error_r = dict_open_error("table \"%s\": expected type:name (e.g. hash:%s)",
					   log_sanitize(spec, 200), log_sanitize(spec, 200));
		return NULL;
	}
	t = find_type(spec, (size_t)(colon - spec));
	if (t == NULL) {
		*error_r = dict_open_error("unsupported dictionary type: %s",
					   log_sanitize_n(spec, (size_t)(colon - spec), 100));
		return NULL;
	}
	d = t->open(colon + 1, flags, error_r);
	if (d == NULL)
		return NULL;
	d->spec = xstrdup(spec);
	d->flags = flags;
	buf_init(&d->key, 0);
	buf_init(&d->err, 4096);
	return d;
}

/* dict_lookup - fold the key if asked, then ask the type */
int dict_lookup(struct dict *d, const char *key, const char **value_r, const char **error_r)
{
	size_t n = strlen(key), i;
	int rc;

	if (d->flags & DICT_FLAG_FOLD_KEY) {
		for (i = 0; i < n; i++)
			if (key[i] >= 'A' && key[i] <= 'Z')
				break;
		if (i < n) {
			buf_reset(&d->key);
			if (buf_append(&d->key, key, n) != 0) {
				*error_r = "lookup key too long";
				return -1;
			}
			str_lower_ascii(d->key.data, n);
			key = d->key.data;
		}
	}
	rc = d->ops->lookup(d, key, n, value_r);
	if (rc < 0)
		*error_r = buf_cstr(&d->err);
	return rc;
}

/* dict_refresh - forced reload check */
int dict_refresh(struct dict *d, const char **error_r)
{
	int rc;

	if (d->ops->refresh == NULL)
		return 0;
	rc = d->ops->refresh(d, true);
	if (rc < 0)
		*error_r = buf_cstr(&d->err);
	return rc;
}

/* dict_close - free common fields, then let the type free itself */
void dict_close(struct dict **dp)
{
	struct dict *d = *dp;

	if (d == NULL)
		return;
	*dp = NULL;
	free(d->spec);
	buf_free(&d->key);
	buf_free(&d->err);
	d->ops->close(d);
}

/* dict_spec - the name the table was opened with */
const char *dict_spec(const struct dict *d)
{
	return d->spec;
}

/* dict_read_file - slurp a regular file, bounded */
int dict_read_file(const char *path, size_t max, struct buf *out, struct stat *st_r,
		   const char **error_r)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t r;

	buf_reset(out);
	if (fd < 0) {
		*error_r = dict_open_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		*error_r = dict_open_error("stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*error_r = dict_open_error("open %s: not a regular file", path);
		goto fail;
	}
	if ((uintmax_t)st.st_size > max || buf_reserve(out, (size_t)st.st_size + 1) != 0) {
		*error_r = dict_open_error("open %s: file too large (limit %zu bytes)", path, max);
		goto fail;
	}
	/* a source of megabytes: a few huge pages instead of thousands of faults */
	xadvise_huge(out->data, out->cap);
	for (;;) {
		if (out->len + 1 >= out->cap && buf_reserve(out, out->cap) != 0) {
			*error_r = dict_open_error("read %s: file too large (limit %zu bytes)", path, max);
			goto fail;
		}
		r = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*error_r = dict_open_error("read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->data[out->len] = '\0';
		if (out->len > max) {
			*error_r = dict_open_error("read %s: file too large (limit %zu bytes)", path, max);
			goto fail;
		}
	}
	if (st_r)
		*st_r = st;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* dict_parse_source - iterate a text source, fold keys, report diagnostics with file:line */
int dict_parse_source(const char *path, const struct buf *src, int flags, dict_source_fn *fn,
		      void *ctx, const char **error_r)
{
	struct mapsrc ms;
	struct mapsrc_entry e;
	struct buf key = BUF_INIT(0), value = BUF_INIT(0);
	enum mapsrc_result r;
	const char *why;
	int rc = 0;

	struct mapsrc_limits lim = { 0, (flags & DICT_FLAG_PARSE_ALIAS) != 0 };

	mapsrc_init(&ms, src->data ? src->data : "", src->len, &lim);
	while ((r = mapsrc_next(&ms, &e, &why)) != MAPSRC_END) {
		if (r == MAPSRC_WARNING) {
			if (!(flags & DICT_FLAG_PARSE_QUIET))
				log_warn("%s, line %u: %s", path, e.line, why);
			continue;
		}
		if (r == MAPSRC_ERROR) {
			*error_r = dict_open_error("%s, line %u: %s", path, e.line, why);
			rc = -1;
			break;
		}
		buf_reset(&key);
		buf_reset(&value);
		if (buf_append_slice(&key, e.key) != 0 || buf_append_slice(&value, e.value) != 0) {
			*error_r = dict_open_error("%s, line %u: line too long", path, e.line);
			rc = -1;
			break;
		}
		if (flags & DICT_FLAG_FOLD_KEY)
			str_lower_ascii(key.data, key.len);
		if (fn(ctx, key.data, key.len, value.data, value.len, e.line, error_r) != 0) {
			rc = -1;
			break;
		}
	}
	mapsrc_free(&ms);
	buf_free(&key);
	buf_free(&value);
	return rc;
}

/* dict_is_spec - "type:name" with a type from the registry */
bool dict_is_spec(const char *item)
{
	const char *colon = strchr(item, ':');
	char type[32];
	size_t n;

	if (colon == NULL || colon == item || (n = (size_t)(colon - item)) >= sizeof(type))
		return false;
	memcpy(type, item, n);
	type[n] = '\0';
	return dict_type_known(type);
}
