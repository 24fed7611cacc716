/*
 * mastercf.c - parse master.cf service lines and derive per-service configurations
 *
 * Runs in:  master (at start and reload), `postern check`, `postern conf`; pure
 * API:      see mastercf.h
 * Tests:    tests/unit/test_mastercf.c, fuzz/fuzz_config.c
 * Refs:     Postfix master(5)
 */
#include "mastercf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/cfline.h"

#define MASTER_FIELDS 8 /* service .. command */

static const struct {
	const char *name;
	int port;
} port_names[] = {
	{ "smtp", 25 },	   { "submission", 587 }, { "submissions", 465 }, { "smtps", 465 },
	{ "pop3", 110 },   { "imap", 143 },	  { "imaps", 993 },	  { "pop3s", 995 },
};

static const char *const type_names[] = {
	[MASTER_INET] = "inet", [MASTER_UNIX] = "unix", [MASTER_UNIX_DGRAM] = "unix-dgram",
	[MASTER_FIFO] = "fifo", [MASTER_PASS] = "pass",
};

struct token {
	struct slice s;
	size_t off; /* offset in the logical line, for the physical line number */
};

/* one line being parsed */
struct mparse {
	struct mastercf *m;
	const struct cfline *l;
	const char *file;
	struct diag_list *diags;
};

/* master_type_name - type keyword */
const char *master_type_name(enum master_type t)
{
	if ((size_t)t >= sizeof(type_names) / sizeof(type_names[0]))
		panic("mastercf: bad type %d", (int)t);
	return type_names[t];
}

/* master_port_by_name - builtin service name table */
int master_port_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(port_names) / sizeof(port_names[0]); i++)
		if (strcmp(port_names[i].name, name) == 0)
			return port_names[i].port;
	return -1;
}

/* bad - report an error at the physical line of token offset off; returns -1 */
static int bad(struct mparse *mp, size_t off, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct mparse *mp, size_t off, const char *fix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(mp->diags, DIAG_ERROR, mp->file, cfline_line_at(mp->l, off), fix, fmt, ap);
	va_end(ap);
	return -1;
}

/* tokenize - white-space separated tokens; "{...}" (balanced) is one token. 0 or -1 */
static int tokenize(struct mparse *mp, struct token **tv_r, size_t *n_r)
{
	struct slice s = buf_slice(&mp->l->text);
	struct token *tv = NULL;
	size_t i = 0, n = 0, cap = 0, start, level;

	while (i < s.n) {
		while (i < s.n && ascii_isspace(s.p[i]))
			i++;
		if (i == s.n)
			break;
		start = i;
		if (s.p[i] == '{') {
			for (level = 0; i < s.n; i++) {
				if (s.p[i] == '{')
					level++;
				else if (s.p[i] == '}' && --level == 0)
					break;
			}
			if (i == s.n) {
				free(tv);
				return bad(mp, start, "close the group with \"}\"", "unbalanced \"{\"");
			}
			i++;
		} else {
			while (i < s.n && !ascii_isspace(s.p[i]))
				i++;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tv = xreallocarray(tv, cap, sizeof(*tv));
		}
		tv[n].s = slice_make(s.p + start, i - start);
		tv[n].off = start;
		n++;
	}
	*tv_r = tv;
	*n_r = n;
	return 0;
}

/* tok_str - a token as a string in the table's arena */
static const char *tok_str(struct mparse *mp, const struct token *t)
{
	return arena_slicedup(mp->m->arena, t->s);
}

/* parse_flag - y, n or - (default) */
static int parse_flag(struct mparse *mp, const struct token *t, const char *what, bool def, bool *out)
{
	if (slice_eq_cstr(t->s, "-"))
		*out = def;
	else if (slice_eq_cstr(t->s, "y"))
		*out = true;
	else if (slice_eq_cstr(t->s, "n"))
		*out = false;
	else
		return bad(mp, t->off, "use y, n or -", "bad %s field \"%s\" (expected y, n or -)", what,
			   log_sanitize_n(t->s.p, t->s.n, 60));
	return 0;
}

/* parse_number - "-" (def) or digits up to max */
static int parse_number(struct mparse *mp, const struct token *t, const char *what, int def, int *out)
{
	uint64_t v;

	if (slice_eq_cstr(t->s, "-")) {
		*out = def;
		return 0;
	}
	if (parse_u64(t->s.p, t->s.n, &v) < 0 || v > 1000000000)
		return bad(mp, t->off, "use a number or -", "bad %s field \"%s\" (expected a number or -)",
			   what, log_sanitize_n(t->s.p, t->s.n, 60));
	*out = (int)v;
	return 0;
}

/* parse_inet_name - [host:]port with a numeric or builtin port */
static int parse_inet_name(struct mparse *mp, const struct token *t, struct master_service *svc)
{
	struct slice host = { NULL, 0 }, port = t->s;
	long colon = -1;
	size_t i;
	uint64_t v;
	const char *pname;
	int p;

	for (i = 0; i < t->s.n; i++)
		if (t->s.p[i] == ':')
			colon = (long)i;
	if (colon >= 0) {
		host = slice_make(t->s.p, (size_t)colon);
		port = slice_sub(t->s, (size_t)colon + 1, t->s.n);
		if (host.n >= 2 && host.p[0] == '[' && host.p[host.n - 1] == ']')
			host = slice_make(host.p + 1, host.n - 2);
		else if (memchr(host.p, ':', host.n) != NULL)
			return bad(mp, t->off, "write IPv6 addresses in brackets, e.g. [::1]:25",
				   "bad service address \"%s\"", log_sanitize_n(t->s.p, t->s.n, 60));
		if (host.n == 0)
			return bad(mp, t->off, "write host:port or port", "missing host before \":\" in \"%s\"",
				   log_sanitize_n(t->s.p, t->s.n, 60));
		svc->host = arena_slicedup(mp->m->arena, host);
	}
	if (port.n > 0 && ascii_isdigit(port.p[0])) {
		if (parse_u64(port.p, port.n, &v) < 0 || v == 0 || v > 65535)
			return bad(mp, t->off, "use a port number from 1 to 65535", "bad port \"%s\"",
				   log_sanitize_n(port.p, port.n, 60));
		svc->port = (int)v;
		return 0;
	}
	pname = arena_slicedup(mp->m->arena, port);
	if ((p = master_port_by_name(pname)) < 0)
		return bad(mp, t->off,
			   "use a port number, or smtp, submission, submissions, smtps, pop3, imap, imaps, pop3s",
			   "unknown service name \"%s\"", log_sanitize(pname, 60));
	svc->port = p;
	return 0;
}

/* add_opt - record "name=value" (or "{ name = value }") from a -o option */
static int add_opt(struct mparse *mp, struct master_service *svc, struct slice s, size_t off,
		   size_t *cap)
{
	long eq;
	struct slice name, value;
	size_t i;

	if (s.n >= 2 && s.p[0] == '{' && s.p[s.n - 1] == '}')
		s = slice_trim(slice_make(s.p + 1, s.n - 2));
	eq = slice_chr(s, '=');
	if (eq < 0)
		return bad(mp, off, "write -o name=value", "missing \"=\" in -o option \"%s\"",
			   log_sanitize_n(s.p, s.n, 60));
	name = slice_trim(slice_make(s.p, (size_t)eq));
	value = slice_trim(slice_sub(s, (size_t)eq + 1, s.n));
	for (i = 0; i < name.n && (ascii_isalnum(name.p[i]) || name.p[i] == '_'); i++)
		;
	if (name.n == 0 || i < name.n)
		return bad(mp, off, "parameter names consist of letters, digits and _",
			   "bad parameter name in -o option \"%s\"", log_sanitize_n(s.p, s.n, 60));
	if (svc->n_opts == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		svc->opts = xreallocarray(svc->opts, *cap, sizeof(*svc->opts));
	}
	svc->opts[svc->n_opts].name = arena_slicedup(mp->m->arena, name);
	svc->opts[svc->n_opts].value = arena_slicedup(mp->m->arena, value);
	svc->opts[svc->n_opts].line = cfline_line_at(mp->l, off);
	svc->n_opts++;
	return 0;
}

/* parse_args - the command's arguments: -o options apart, the rest kept */
static int parse_args(struct mparse *mp, struct master_service *svc, const struct token *tv, size_t n)
{
	size_t i, cap_opts = 0;

	svc->args = arena_alloc(mp->m->arena, (n + 1) * sizeof(*svc->args));
	for (i = 0; i < n; i++) {
		if (slice_eq_cstr(tv[i].s, "-o")) {
			if (i + 1 == n)
				return bad(mp, tv[i].off, "write -o name=value", "-o without name=value");
			if (add_opt(mp, svc, tv[i + 1].s, tv[i + 1].off, &cap_opts) < 0)
				return -1;
			i++;
		} else if (tv[i].s.n > 2 && slice_starts_with(tv[i].s, "-o")) {
			if (add_opt(mp, svc, slice_sub(tv[i].s, 2, tv[i].s.n), tv[i].off, &cap_opts) < 0)
				return -1;
		} else {
			svc->args[svc->n_args++] = tok_str(mp, &tv[i]);
		}
	}
	svc->args[svc->n_args] = NULL;
	return 0;
}

/* parse_service - one logical line into svc; 0 or -1 (reported) */
static int parse_service(struct mparse *mp, struct master_service *svc)
{
	struct token *tv = NULL;
	size_t n = 0, t;
	int rc = -1;

	memset(svc, 0, sizeof(*svc));
	if (tokenize(mp, &tv, &n) < 0)
		return -1;
	if (n < MASTER_FIELDS) {
		bad(mp, 0, "service type private unpriv chroot wakeup maxproc command [args]",
		    "expected at least %d fields, found %zu", MASTER_FIELDS, n);
		goto out;
	}
	svc->file = mp->file;
	svc->line = mp->l->line;
	svc->name = tok_str(mp, &tv[0]);
	for (t = 0; t < sizeof(type_names) / sizeof(type_names[0]); t++)
		if (slice_eq_cstr(tv[1].s, type_names[t]))
			break;
	if (t == sizeof(type_names) / sizeof(type_names[0])) {
		bad(mp, tv[1].off, "use inet, unix, unix-dgram, fifo or pass",
		    "bad type field \"%s\" (expected inet, unix, unix-dgram, fifo or pass)",
		    log_sanitize_n(tv[1].s.p, tv[1].s.n, 60));
		goto out;
	}
	svc->type = (enum master_type)t;
	if (svc->type == MASTER_INET && parse_inet_name(mp, &tv[0], svc) < 0)
		goto out;
	if (parse_flag(mp, &tv[2], "private", true, &svc->private_) < 0 ||
	    parse_flag(mp, &tv[3], "unpriv", true, &svc->unpriv) < 0 ||
	    parse_flag(mp, &tv[4], "chroot", false, &svc->chroot) < 0)
		goto out;
	if (svc->type == MASTER_INET && svc->private_) {
		bad(mp, tv[2].off, "set the private field to n", "an inet service cannot be private");
		goto out;
	}
	if (tv[5].s.n > 1 && tv[5].s.p[tv[5].s.n - 1] == '?') {
		svc->wakeup_if_used = true;
		tv[5].s.n--;
	}
	if (parse_number(mp, &tv[5], "wakeup", 0, &svc->wakeup) < 0 ||
	    parse_number(mp, &tv[6], "maxproc", -1, &svc->maxproc) < 0)
		goto out;
	svc->command = tok_str(mp, &tv[7]);
	if (parse_args(mp, svc, tv + MASTER_FIELDS, n - MASTER_FIELDS) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		free(svc->opts);
	free(tv);
	return rc;
}

/* mastercf_parse - every logical line is a service */
struct mastercf *mastercf_parse(const char *text, size_t len, const char *filename,
				struct diag_list *diags)
{
	struct mastercf *m = xcalloc(1, sizeof(*m));
	struct mparse mp = { m, NULL, NULL, diags };
	struct cfline_reader r;
	struct cfline l;
	struct master_service svc;
	const struct master_service *dup;
	size_t cap = 0;

	m->arena = arena_new(0);
	mp.file = arena_strdup(m->arena, filename ? filename : "master.cf");
	mp.l = &l;
	cfline_reader_init(&r, text, len, mp.file, diags);
	cfline_init(&l);
	while (cfline_next(&r, &l) > 0) {
		if (parse_service(&mp, &svc) < 0)
			continue;
		if ((dup = mastercf_find(m, svc.name, svc.type)) != NULL) {
			bad(&mp, 0, "remove or rename one of them",
			    "duplicate service \"%s\" (%s), first defined at line %d",
			    log_sanitize(svc.name, 60), master_type_name(svc.type), dup->line);
			free(svc.opts);
			continue;
		}
		if (m->n == cap) {
			cap = cap ? cap * 2 : 16;
			m->v = xreallocarray(m->v, cap, sizeof(*m->v));
		}
		m->v[m->n++] = svc;
	}
	cfline_free(&l);
	return m;
}

/* mastercf_free - release everything */
void mastercf_free(struct mastercf **mp)
{
	struct mastercf *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].opts);
	free(m->v);
	arena_free(&m->arena);
	free(m);
	*mp = NULL;
}

/* mastercf_find - lookup by name and type */
const struct master_service *mastercf_find(const struct mastercf *m, const char *name,
					   enum master_type type)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].type == type && strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

/* mastercf_service_config - base + -o overrides, validated */
struct config *mastercf_service_config(struct config *base, const struct master_service *svc,
				       struct diag_list *diags)
{
	struct config *cfg = config_derive(base);
	size_t i;

	for (i = 0; i < svc->n_opts; i++)
		(void)config_override(cfg, svc->opts[i].name, svc->opts[i].value, svc->file,
				      svc->opts[i].line, diags);
	(void)config_validate(cfg, diags);
	return cfg;
}
