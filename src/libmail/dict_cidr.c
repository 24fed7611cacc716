/*
 * dict_cidr.c - cidr: tables (cidr_table(5)): "network/prefix  result", first match wins
 *
 * Runs in:  processes that check client addresses (mynetworks, access tables)
 * API:      dict_cidr_open()   -- registered in dict.c, see dict.h
 * Tests:    tests/unit/test_dict.c
 * Refs:     cidr_table(5)
 *
 * The file has the postmap(1) text format (comments, continuation lines; see
 * mapsrc.h); each key is parsed by cidr_parse(), so "10.1.2.3/8" (host bits
 * set) is refused with file and line, as a table must not silently match
 * something other than what the administrator wrote. Rules are tried in file
 * order; a lookup key that is not an IP address matches nothing (as in
 * Postfix). Not supported yet: "!pattern", if/endif blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/cidr.h"
#include "libmail/dict-private.h"

struct cidr_rule {
	struct cidr net;
	char *value;
};

struct dict_cidr {
	struct dict d;
	struct cidr_rule *rules;
	size_t n, cap;
	const char *path; /* during open only */
};

/* dict_cidr_lookup - parse the address, then the first matching rule */
static int dict_cidr_lookup(struct dict *d, const char *key, size_t len, const char **value_r)
{
	struct dict_cidr *dc = (struct dict_cidr *)d;
	struct ip_addr a;
	const char *why;
	size_t i;

	if (ip_addr_parse(key, len, &a, &why) != 0)
		return 0;
	for (i = 0; i < dc->n; i++) {
		if (cidr_match(&dc->rules[i].net, &a)) {
			*value_r = dc->rules[i].value;
			return 1;
		}
	}
	return 0;
}

/* dict_cidr_close - free the rules */
static void dict_cidr_close(struct dict *d)
{
	struct dict_cidr *dc = (struct dict_cidr *)d;
	size_t i;

	for (i = 0; i < dc->n; i++)
		free(dc->rules[i].value);
	free(dc->rules);
	free(dc);
}

static const struct dict_ops dict_cidr_ops = { dict_cidr_lookup, NULL, dict_cidr_close };

/* cidr_entry - parse one rule */
static int cidr_entry(void *ctx, const char *key, size_t klen, const char *value, size_t vlen,
		      unsigned line, const char **error_r)
{
	struct dict_cidr *dc = ctx;
	struct cidr net;
	struct buf hint = BUF_INIT(256);
	const char *why;

	if (cidr_parse(key, klen, &net, &why) != 0) {
		if (strcmp(why, "non-null host address bits") == 0 && cidr_format(&net, &hint) == 0)
			*error_r = dict_open_error("cidr map %s, line %u: %s in \"%s\" (the network is %s)",
						   dc->path, line, why, log_sanitize(key, 100),
						   buf_cstr(&hint));
		else
			*error_r = dict_open_error("cidr map %s, line %u: bad network \"%s\": %s",
						   dc->path, line, log_sanitize(key, 100), why);
		buf_free(&hint);
		return -1;
	}
	if (dc->n == dc->cap) {
		dc->cap = dc->cap ? dc->cap * 2 : 16;
		dc->rules = xreallocarray(dc->rules, dc->cap, sizeof(*dc->rules));
	}
	dc->rules[dc->n].net = net;
	dc->rules[dc->n].value = xmemdup(value, vlen);
	dc->n++;
	return 0;
}

/* dict_cidr_open - read and parse the whole file */
struct dict *dict_cidr_open(const char *name, int flags, const char **error_r)
{
	struct buf src = BUF_INIT(0);
	struct dict_cidr *dc;

	(void)flags;
	if (*name == '\0') {
		*error_r = dict_open_error("cidr: table needs a file name (cidr:/path/to/file)");
		return NULL;
	}
	if (dict_read_file(name, DICT_SOURCE_MAX, &src, NULL, error_r) != 0) {
		buf_free(&src);
		return NULL;
	}
	dc = xcalloc(1, sizeof(*dc));
	dc->d.ops = &dict_cidr_ops;
	dc->path = name;
	/* network keys are not folded: cidr_parse() reads hex digits in either case */
	if (dict_parse_source(name, &src, 0, cidr_entry, dc, error_r) != 0) {
		dict_cidr_close(&dc->d);
		dc = NULL;
	} else {
		dc->path = NULL;
	}
	buf_free(&src);
	return dc ? &dc->d : NULL;
}
