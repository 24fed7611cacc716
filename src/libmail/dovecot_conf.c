/*
 * dovecot_conf.c - parse dovecot.conf (Dovecot 1.x and 2.x syntax) into one model
 *
 * Runs in:  every process that reads dovecot.conf; pure: no I/O (includes go
 *           through the caller's struct dconf_io), no globals, no logging
 * API:      dconf_feed(), dconf_parse() -- see dovecot_conf.h; the model itself
 *           (new, free, 1.x protocols, accessors) is in dovecot_conf_model.c
 * Limits:   struct dconf_limits (line length, nesting, include depth, files)
 * Tests:    tests/unit/test_dovecot_conf.c, fuzz/fuzz_dovecot_conf.c
 * Refs:     Dovecot 2.3 "Configuration file" (sections, !include, $setting, <file),
 *           Dovecot 1.x wiki (auth default, protocols = imaps pop3s)
 */
#include "dovecot_conf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf-private.h"

enum frame_kind { F_ROOT, F_PROTOCOL, F_SERVICE, F_LISTENER, F_PASSDB, F_USERDB, F_AUTH, F_SKIP };

struct frame {
	enum frame_kind kind;
	const char *file;
	int line;
	void *obj;
};

/* parse state of one dconf_feed() call, shared by the files it includes */
struct pstate {
	struct dconf *cf;
	const struct dconf_io *io;
	struct dconf_limits lim;
	struct diag_list *dl;
	struct frame *stack;
	unsigned depth, overflow; /* overflow: sections past max_nesting, only counted */
	const char **chain;       /* the include chain, outermost first */
	unsigned nchain;
	bool error;
};

/* settings a service section may have (kept as written) */
static const char *const service_keys[] = {
	"executable", "user", "group", "privileged_group", "extra_groups", "chroot",
	"drop_priv_before_exec", "process_min_avail", "process_limit", "client_limit",
	"service_count", "idle_kill", "vsz_limit", "protocol", "type", "restart_request_count", NULL,
};

/* settings a passdb/userdb section may have besides driver, args and *_fields */
static const char *const db_keys[] = {
	"deny", "pass", "master", "skip", "result_success", "result_failure",
	"result_internalfailure", "auth_verbose", "mechanisms", "username_filter", "name", NULL,
};

/* sections accepted anywhere and skipped */
static const char *const skipped_sections[] = {
	"plugin", "namespace", "dict", "local", "remote", "mailbox", "unix_listener",
	"fifo_listener", "dict_server", "metric", "event_exporter", "ssl_server", "local_name",
	"doveadm", "quota", "imapc", "map", NULL,
};

/* in_list - is s one of the NULL-terminated words? */
static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* finding - add a diag and remember errors */
static void finding(struct pstate *ps, enum diag_level lvl, const char *file, int line,
		    const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void finding(struct pstate *ps, enum diag_level lvl, const char *file, int line,
		    const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (lvl == DIAG_ERROR)
		ps->error = true;
	va_start(ap, fmt);
	diag_vadd(ps->dl, lvl, file, line, fix, fmt, ap);
	va_end(ap);
}

/* obsolete_index - index in dconf_obsolete_table, or -1 */
static int obsolete_index(const char *name)
{
	size_t i;

	for (i = 0; i < dconf_obsolete_count; i++)
		if (strcmp(dconf_obsolete_table[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* warn_obsolete - one warning per obsolete name per model */
static void warn_obsolete(struct pstate *ps, const char *name, const char *repl, int idx,
			  bool translated, const char *file, int line)
{
	ps->cf->v1_protocols = true; /* the file is 1.x syntax */
	if (idx >= 0 && (size_t)idx < sizeof(ps->cf->obsolete_warned)) {
		if (ps->cf->obsolete_warned[idx])
			return;
		ps->cf->obsolete_warned[idx] = true;
	}
	if (translated)
		finding(ps, DIAG_WARN, file, line, repl, "obsolete setting \"%s\" (Dovecot 1.x) is read as: %s",
			name, repl);
	else
		finding(ps, DIAG_WARN, file, line, repl,
			"obsolete setting \"%s\" (Dovecot 1.x) is ignored; replaced by: %s", name, repl);
}

/* expand_dollars - "$name" of a known setting becomes its value so far; NULL when too long */
static const char *expand_dollars(struct pstate *ps, const struct dconf_value *vals, const char *value)
{
	struct buf b = BUF_INIT(ps->lim.max_line * 4 + 64);
	const char *p = value, *start, *v;
	const struct dconf_info *info;
	char name[64];
	size_t n;
	int rc = 0;

	if (strchr(value, '$') == NULL)
		return value;
	while (*p && rc == 0) {
		if (*p != '$') {
			rc = buf_putc(&b, *p++);
			continue;
		}
		start = ++p;
		while (ascii_isalnum(*p) || *p == '_')
			p++;
		n = (size_t)(p - start);
		info = NULL;
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, start, n);
			name[n] = '\0';
			info = dconf_find(name);
		}
		if (info == NULL) {
			rc = buf_putc(&b, '$') | buf_append(&b, start, n);
			continue;
		}
		n = (size_t)(info - dconf_table);
		v = vals[n].value ? vals[n].value : ps->cf->v[n].value ? ps->cf->v[n].value : info->def;
		rc = buf_puts(&b, v);
	}
	value = rc == 0 ? arena_memdup(ps->cf->arena, b.data ? b.data : "", b.len) : NULL;
	buf_free(&b);
	return value;
}

/* store - check and keep one table setting */
static void store(struct pstate *ps, struct dconf_value *vals, const struct dconf_info *info,
		  const char *value, const char *file, int line)
{
	enum dconf_id id = (enum dconf_id)(info - dconf_table);
	const char *err;

	if ((value = expand_dollars(ps, vals, value)) == NULL) {
		finding(ps, DIAG_ERROR, file, line, NULL, "value of %s is longer than %zu bytes after $ expansion",
			info->name, ps->lim.max_line * 4 + 64);
		return;
	}
	if (dconf_check_value(info, value, ps->cf->arena, &err) < 0) {
		finding(ps, DIAG_ERROR, file, line, "see `postern doveconf -d` for the default",
			"bad value for %s: \"%s\": %s", info->name, log_sanitize(value, 200), err);
		return;
	}
	vals[id].value = arena_strdup(ps->cf->arena, value);
	vals[id].file = file;
	vals[id].line = line;
}

/* set_table - a setting at top level or in a protocol section */
static void set_table(struct pstate *ps, struct dconf_value *vals, const char *key, const char *value,
		      const char *file, int line)
{
	const struct dconf_info *info = dconf_find(key);
	int idx;

	if (info) {
		store(ps, vals, info, value, file, line);
		return;
	}
	/* 1.x names that still mean something */
	if (strcmp(key, "ssl_cert_file") == 0 || strcmp(key, "ssl_key_file") == 0 ||
	    strcmp(key, "ssl_ca_file") == 0) {
		char *newname = arena_memdup(ps->cf->arena, key, strlen(key) - 5);
		char *repl = arena_printf(ps->cf->arena, "%s = <%s", newname, value);

		warn_obsolete(ps, key, repl, -1, true, file, line);
		store(ps, vals, dconf_find(newname), arena_printf(ps->cf->arena, "<%s", value), file, line);
		return;
	}
	if (strcmp(key, "ssl_disable") == 0) {
		bool b;

		if (dconf_parse_bool(value, &b) < 0) {
			finding(ps, DIAG_ERROR, file, line, "write ssl = yes or ssl = no",
				"bad value for ssl_disable: \"%s\": expected yes or no", log_sanitize(value, 100));
			return;
		}
		warn_obsolete(ps, key, b ? "ssl = no" : "ssl = yes", -1, true, file, line);
		store(ps, vals, &dconf_table[DCONF_ssl], b ? "no" : "yes", file, line);
		return;
	}
	if ((idx = obsolete_index(key)) >= 0) {
		warn_obsolete(ps, key, dconf_obsolete_table[idx].replacement, idx, false, file, line);
		return;
	}
	finding(ps, DIAG_WARN, file, line, "check the spelling; `postern doveconf -d` lists every setting",
		"unknown setting \"%s\" is ignored", log_sanitize(key, 100));
}

/* kv_append - add name = value at the end of a list */
static void kv_append(struct pstate *ps, struct dconf_kv **list, const char *name, const char *value,
		      const char *file, int line)
{
	struct dconf_kv *kv = arena_zalloc(ps->cf->arena, sizeof(*kv)), **tail = list;

	kv->name = arena_strdup(ps->cf->arena, name);
	kv->value = arena_strdup(ps->cf->arena, value);
	kv->file = file;
	kv->line = line;
	while (*tail)
		tail = &(*tail)->next;
	*tail = kv;
}

/* set_db - a setting inside passdb/userdb */
static void set_db(struct pstate *ps, struct dconf_db *db, const char *key, const char *value,
		   const char *file, int line)
{
	const char **slot = NULL, *err;

	if (strcmp(key, "driver") == 0)
		slot = &db->driver;
	else if (strcmp(key, "args") == 0)
		slot = &db->args;
	else if (strcmp(key, "default_fields") == 0)
		slot = &db->default_fields;
	else if (strcmp(key, "override_fields") == 0)
		slot = &db->override_fields;
	if (slot == NULL) {
		if (in_list(db_keys, key))
			kv_append(ps, &db->extra, key, value, file, line);
		else
			finding(ps, DIAG_WARN, file, line, "passdb/userdb take driver, args, default_fields, override_fields, ...",
				"unknown passdb/userdb setting \"%s\" is ignored", log_sanitize(key, 100));
		return;
	}
	if (slot != &db->driver && dconf_check_user_template(value, ps->cf->arena, &err) < 0) {
		finding(ps, DIAG_ERROR, file, line, "known variables: %u %n %d %h %s %l %r ...",
			"bad value for %s: %s", key, err);
		return;
	}
	*slot = arena_strdup(ps->cf->arena, value);
}

/* set_listener - a setting inside inet_listener */
static void set_listener(struct pstate *ps, struct dconf_listener *l, const char *key, const char *value,
			 const char *file, int line)
{
	uint64_t port;
	bool b;

	if (strcmp(key, "port") == 0) {
		if (parse_u64(value, strlen(value), &port) < 0 || port > 65535)
			finding(ps, DIAG_ERROR, file, line, "a port is 0 (disabled) to 65535",
				"bad value for port: \"%s\": expected a port number", log_sanitize(value, 100));
		else
			l->port = (int)port;
	} else if (strcmp(key, "ssl") == 0 || strcmp(key, "haproxy") == 0 ||
		   strcmp(key, "reuse_port") == 0) {
		if (dconf_parse_bool(value, &b) < 0)
			finding(ps, DIAG_ERROR, file, line, NULL, "bad value for %s: \"%s\": expected yes or no",
				key, log_sanitize(value, 100));
		else if (strcmp(key, "ssl") == 0)
			l->ssl = b;
	} else if (strcmp(key, "address") == 0) {
		l->address = arena_strdup(ps->cf->arena, value);
	} else {
		finding(ps, DIAG_WARN, file, line, "inet_listener takes address, port, ssl, haproxy, reuse_port",
			"unknown inet_listener setting \"%s\" is ignored", log_sanitize(key, 100));
	}
}

/* set_auth - a setting inside a 1.x "auth NAME { }" section: the auth_ settings of 2.x */
static void set_auth(struct pstate *ps, const char *key, const char *value, const char *file, int line)
{
	const char *full = arena_printf(ps->cf->arena, "auth_%s", key);

	ps->cf->v1_protocols = true;
	if (dconf_find(full) != NULL || obsolete_index(full) >= 0)
		set_table(ps, ps->cf->v, full, value, file, line);
	else
		finding(ps, DIAG_WARN, file, line, "check the spelling; `postern doveconf -d` lists every setting",
			"unknown auth setting \"%s\" is ignored", log_sanitize(key, 100));
}

/* set_setting - "key = value" in the current section */
static void set_setting(struct pstate *ps, const char *key, const char *value, const char *file, int line)
{
	struct frame *f = &ps->stack[ps->depth - 1];

	if (ps->overflow > 0)
		return;
	switch (f->kind) {
	case F_ROOT:
		set_table(ps, ps->cf->v, key, value, file, line);
		return;
	case F_PROTOCOL:
		set_table(ps, ((struct dconf_protocol *)f->obj)->v, key, value, file, line);
		return;
	case F_SERVICE:
		if (in_list(service_keys, key))
			kv_append(ps, &((struct dconf_service *)f->obj)->settings, key, value, file, line);
		else
			finding(ps, DIAG_WARN, file, line, "see Dovecot's service settings",
				"unknown service setting \"%s\" is ignored", log_sanitize(key, 100));
		return;
	case F_LISTENER:
		set_listener(ps, f->obj, key, value, file, line);
		return;
	case F_PASSDB:
	case F_USERDB:
		set_db(ps, f->obj, key, value, file, line);
		return;
	case F_AUTH:
		set_auth(ps, key, value, file, line);
		return;
	case F_SKIP:
		return;
	}
	panic("dovecot_conf: bad frame %d", (int)f->kind);
}

/* find_protocol - the protocol section for name, made when missing */
static struct dconf_protocol *find_protocol(struct pstate *ps, const char *name, const char *file, int line)
{
	struct dconf_protocol **pp = &ps->cf->protocols;

	for (; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return *pp;
	*pp = arena_zalloc(ps->cf->arena, sizeof(**pp));
	(*pp)->name = arena_strdup(ps->cf->arena, name);
	(*pp)->file = file;
	(*pp)->line = line;
	return *pp;
}

/* new_db - append a passdb or userdb */
static struct dconf_db *new_db(struct pstate *ps, struct dconf_db **list, const char *driver,
			       const char *file, int line)
{
	struct dconf_db *db = arena_zalloc(ps->cf->arena, sizeof(*db));

	db->driver = driver ? arena_strdup(ps->cf->arena, driver) : NULL;
	db->file = file;
	db->line = line;
	while (*list)
		list = &(*list)->next;
	*list = db;
	return db;
}

/* open_section - "type [name] {" */
static void open_section(struct pstate *ps, const char *type, const char *name, const char *file, int line)
{
	struct frame *top = &ps->stack[ps->depth - 1], f = { F_SKIP, file, line, NULL };
	bool is_db = strcmp(type, "passdb") == 0 || strcmp(type, "userdb") == 0;

	if (ps->overflow > 0 || ps->depth > ps->lim.max_nesting) {
		if (ps->overflow++ == 0)
			finding(ps, DIAG_ERROR, file, line, NULL, "sections nested deeper than %u",
				ps->lim.max_nesting);
		return;
	}
	if (top->kind == F_SKIP || in_list(skipped_sections, type)) {
		/* accepted, not modelled */
	} else if (is_db && (top->kind == F_ROOT || top->kind == F_AUTH)) {
		f.kind = type[0] == 'p' ? F_PASSDB : F_USERDB;
		f.obj = new_db(ps, f.kind == F_PASSDB ? &ps->cf->passdbs : &ps->cf->userdbs, name, file, line);
	} else if (top->kind == F_ROOT && strcmp(type, "protocol") == 0 && name) {
		f.kind = F_PROTOCOL;
		f.obj = find_protocol(ps, name, file, line);
	} else if (top->kind == F_ROOT && strcmp(type, "service") == 0 && name) {
		f.kind = F_SERVICE;
		f.obj = dconf_service_make(ps->cf, name, file, line);
	} else if (top->kind == F_ROOT && strcmp(type, "auth") == 0) {
		f.kind = F_AUTH;
		ps->cf->v1_protocols = true;
	} else if (top->kind == F_AUTH && strcmp(type, "socket") == 0) {
		finding(ps, DIAG_WARN, file, line, "service auth { unix_listener NAME { mode user group } }",
			"obsolete section \"socket\" (Dovecot 1.x) is ignored; use service auth { unix_listener }");
	} else if (top->kind == F_SERVICE && strcmp(type, "inet_listener") == 0 && name) {
		f.kind = F_LISTENER;
		f.obj = dconf_listener_make(ps->cf, top->obj, name, file, line);
	} else {
		finding(ps, DIAG_WARN, file, line, NULL, "unknown section \"%s%s%s\" is ignored",
			log_sanitize(type, 50), name ? " " : "", name ? log_sanitize(name, 50) : "");
	}
	ps->stack[ps->depth++] = f;
}

/* close_section - "}" */
static void close_section(struct pstate *ps, unsigned base, const char *file, int line)
{
	struct frame *f;
	struct dconf_db *db;

	if (ps->overflow > 0) {
		ps->overflow--;
		return;
	}
	if (ps->depth <= base) {
		finding(ps, DIAG_ERROR, file, line, "remove it, or add the section it should close",
			"stray \"}\": no section is open");
		return;
	}
	f = &ps->stack[--ps->depth];
	if (f->kind == F_PASSDB || f->kind == F_USERDB) {
		db = f->obj;
		if (db->driver == NULL)
			finding(ps, DIAG_ERROR, f->file, f->line, "add driver = passwd-file (or pam, static, ...)",
				"%s without a driver", f->kind == F_PASSDB ? "passdb" : "userdb");
	}
}

static void feed_text(struct pstate *ps, const char *text, size_t len, const char *file);

/* include - "!include[_try] PATTERN" */
static void include(struct pstate *ps, const char *arg, bool try, const char *file, int line)
{
	const char *slash = strrchr(file, '/'), *err = "";
	char **paths = NULL, *text, *pattern;
	size_t n = 0, i, tlen;
	unsigned k;
	int rc;

	if (ps->io == NULL) {
		finding(ps, DIAG_ERROR, file, line, NULL, "!include is not possible here");
		return;
	}
	if (ps->nchain >= ps->lim.max_include) {
		finding(ps, DIAG_ERROR, file, line, "check for an include loop",
			"includes nested deeper than %u", ps->lim.max_include);
		return;
	}
	if (arg[0] == '/' || slash == NULL)
		pattern = arena_strdup(ps->cf->arena, arg);
	else
		pattern = arena_printf(ps->cf->arena, "%.*s/%s", (int)(slash - file), file, arg);
	if (ps->io->match(ps->io->ctx, pattern, &paths, &n, &err) < 0) {
		finding(ps, DIAG_ERROR, file, line, NULL, "!include %s: %s", log_sanitize(pattern, 200), err);
		return;
	}
	if (n == 0 && !try)
		finding(ps, DIAG_ERROR, file, line, "use !include_try for an optional file",
			"!include %s: no such file", log_sanitize(pattern, 200));
	for (i = 0; i < n; i++) {
		const char *path = arena_strdup(ps->cf->arena, paths[i]);

		for (k = 0; k < ps->nchain && strcmp(ps->chain[k], path) != 0; k++)
			;
		if (k < ps->nchain) {
			finding(ps, DIAG_ERROR, file, line, "remove the !include that closes the loop",
				"include loop: %s is already being read", log_sanitize(path, 200));
			continue;
		}
		if (ps->cf->nfiles >= ps->lim.max_files) {
			finding(ps, DIAG_ERROR, file, line, NULL, "more than %u included files", ps->lim.max_files);
			break;
		}
		rc = ps->io->read(ps->io->ctx, path, &text, &tlen, &err);
		if (rc == 1 && !try)
			finding(ps, DIAG_ERROR, file, line, "use !include_try for an optional file",
				"!include %s: no such file", log_sanitize(path, 200));
		else if (rc < 0)
			finding(ps, DIAG_ERROR, file, line, NULL, "!include %s: %s", log_sanitize(path, 200), err);
		if (rc != 0)
			continue;
		ps->cf->nfiles++;
		ps->chain[ps->nchain++] = path;
		feed_text(ps, text, tlen, path);
		ps->nchain--;
		free(text);
	}
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* strip_comment - cut at "#" outside quotes; 0, or -1 for an unterminated quote */
static int strip_comment(char *s)
{
	char q = 0;

	for (; *s; s++) {
		if (q) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == q)
				q = 0;
		} else if (*s == '"' || *s == '\'') {
			q = *s;
		} else if (*s == '#') {
			*s = '\0';
			break;
		}
	}
	return q ? -1 : 0;
}

/* unquote - "..." or '...' without the quotes, backslash escapes undone (in place) */
static char *unquote(char *v)
{
	size_t n = strlen(v), i, o = 0;
	char q = v[0];

	if (n < 2 || (q != '"' && q != '\'') || v[n - 1] != q)
		return v;
	for (i = 1; i < n - 1; i++) {
		if (v[i] == '\\' && i + 1 < n - 1)
			i++;
		v[o++] = v[i];
	}
	v[o] = '\0';
	return v;
}

/* process_line - one logical line (NUL-terminated, modifiable) */
static void process_line(struct pstate *ps, char *s, unsigned base, const char *file, int line)
{
	char *key, *p, *name, *end;

	while (ascii_isspace(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return;
	if (strip_comment(s) < 0) {
		finding(ps, DIAG_ERROR, file, line, "close the quote", "unterminated quoted string");
		return;
	}
	end = s + strlen(s);
	while (end > s && ascii_isspace(end[-1]))
		*--end = '\0';
	if (strcmp(s, "}") == 0) {
		close_section(ps, base, file, line);
		return;
	}
	if (*s == '!') {
		bool try = strncmp(s, "!include_try", 12) == 0 && (s[12] == '\0' || ascii_isspace(s[12]));
		bool inc = try || (strncmp(s, "!include", 8) == 0 && (s[8] == '\0' || ascii_isspace(s[8])));

		p = inc ? s + (try ? 12 : 8) : s + strlen(s);
		while (ascii_isspace(*p))
			p++;
		if (!inc || *p == '\0')
			finding(ps, DIAG_ERROR, file, line, "write !include FILE or !include_try FILE",
				"bad directive \"%s\"", log_sanitize(s, 100));
		else if (ps->overflow == 0)
			include(ps, unquote(p), try, file, line);
		return;
	}
	key = s;
	for (p = s; *p && !ascii_isspace(*p) && *p != '=' && *p != '{'; p++)
		;
	end = p;
	while (ascii_isspace(*p))
		p++;
	if (end == key) {
		finding(ps, DIAG_ERROR, file, line, NULL, "expected a setting name, found \"%s\"",
			log_sanitize(s, 100));
		return;
	}
	if (*p == '=') {
		*end = '\0';
		p++;
		while (ascii_isspace(*p))
			p++;
		set_setting(ps, key, unquote(p), file, line);
		return;
	}
	name = NULL;
	if (*p != '{') {
		name = p;
		while (*p && !ascii_isspace(*p) && *p != '{')
			p++;
		if (*p && *p != '{')
			*p++ = '\0';
		while (ascii_isspace(*p))
			p++;
	}
	if (*p != '{' || p[1] != '\0') {
		*end = '\0';
		finding(ps, DIAG_ERROR, file, line, "write NAME = VALUE, or TYPE [NAME] { on a line of its own",
			"expected \"=\" or \"{\" after \"%s\"", log_sanitize(key, 100));
		return;
	}
	*p = '\0'; /* ends name when it touched "{" */
	*end = '\0';
	if (name)
		name = unquote(name);
	open_section(ps, key, name, file, line);
}

/* feed_text - split one file into logical lines (with "\" continuations) */
static void feed_text(struct pstate *ps, const char *text, size_t len, const char *file)
{
	struct buf lb = BUF_INIT(ps->lim.max_line);
	unsigned base = ps->depth;
	size_t pos = 0, n;
	int lineno = 0, start = 0;
	bool too_long = false;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos), *l = text + pos;
		bool cont;

		n = nl ? (size_t)(nl - l) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		while (n > 0 && ascii_isspace(l[n - 1]))
			n--;
		if (lb.len == 0 && !too_long)
			start = lineno;
		while (n > 0 && ascii_isspace(*l)) {
			l++;
			n--;
		}
		cont = n > 0 && l[n - 1] == '\\' && pos < len;
		if (cont) {
			n--;
			while (n > 0 && ascii_isspace(l[n - 1]))
				n--;
		}
		if (!too_long && (buf_append(&lb, l, n) < 0 || (cont && buf_putc(&lb, ' ') < 0))) {
			finding(ps, DIAG_ERROR, file, start, NULL, "line longer than %zu bytes", ps->lim.max_line);
			too_long = true;
		}
		if (cont)
			continue;
		if (!too_long && lb.len > 0) {
			char *copy = xmemdup(lb.data, lb.len);

			process_line(ps, copy, base, file, start);
			free(copy);
		}
		buf_reset(&lb);
		too_long = false;
	}
	buf_free(&lb);
	if (ps->overflow > 0 && base == 1) {
		finding(ps, DIAG_ERROR, file, lineno, "add the closing \"}\"", "too deeply nested sections are not closed");
		ps->overflow = 0;
	}
	while (ps->depth > base) {
		struct frame *f = &ps->stack[--ps->depth];

		finding(ps, DIAG_ERROR, f->file, f->line, "add the closing \"}\"",
			"section opened here is not closed by the end of %s", log_sanitize(file, 200));
	}
}

/* dconf_feed - one top-level file */
int dconf_feed(struct dconf *cf, const char *text, size_t len, const char *filename,
	       const struct dconf_io *io, const struct dconf_limits *lim, struct diag_list *dl)
{
	static const struct dconf_limits def = DCONF_LIMITS_DEFAULT;
	struct pstate ps;

	memset(&ps, 0, sizeof(ps));
	ps.cf = cf;
	ps.io = io;
	ps.lim = lim ? *lim : def;
	if (ps.lim.max_line == 0)
		ps.lim.max_line = def.max_line;
	ps.dl = dl;
	ps.stack = xcalloc(ps.lim.max_nesting + 2, sizeof(*ps.stack));
	ps.chain = xcalloc(ps.lim.max_include + 2, sizeof(*ps.chain));
	ps.stack[ps.depth++] = (struct frame){ F_ROOT, filename, 0, NULL };
	filename = arena_strdup(cf->arena, filename);
	ps.chain[ps.nchain++] = filename;
	cf->nfiles++;
	feed_text(&ps, text, len, filename);
	free(ps.stack);
	free(ps.chain);
	return ps.error ? -1 : 0;
}

/* dconf_parse - the whole pipeline */
struct dconf *dconf_parse(const char *text, size_t len, const char *filename,
			  const struct dconf_io *io, const struct dconf_limits *lim,
			  struct diag_list *dl)
{
	struct dconf *cf = dconf_new();

	(void)dconf_feed(cf, text, len, filename, io, lim, dl);
	(void)dconf_finish(cf, dl);
	return cf;
}
