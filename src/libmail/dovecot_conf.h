/*
 * dovecot_conf.h - dovecot.conf (Dovecot 1.x and 2.x syntax) parsed into one model
 *
 * Runs in:  postern doveconf, postern check, later the auth and IMAP/POP3 services;
 *           the file is written by the administrator (trusted, but checked strictly)
 * API:      dconf_parse() (pure: bytes in, model + diagnostics out; includes go
 *           through a caller-supplied struct dconf_io), dconf_load() (the thin
 *           file-reading wrapper in dovecot_conf_load.c), accessors, dconf_write()
 * Limits:   struct dconf_limits: logical line length, section nesting, include
 *           depth, number of files; all parameters, never hidden constants
 * Tests:    tests/unit/test_dovecot_conf.c, fuzz/fuzz_dovecot_conf.c, tests/e2e/test_doveconf.py
 * Refs:     Dovecot 2.3 "Configuration file" and "Settings" documentation,
 *           Dovecot 1.x wiki (auth default { }, protocols = imaps pop3s)
 *
 * Syntax accepted (both generations map onto the same model):
 *   - "name = value"; white space around "=" and at the ends of the value is
 *     dropped; "..." or '...' quotes keep it (backslash escapes inside);
 *     "<path" is kept as written (the file is read later by its user).
 *   - "#" starts a comment (outside quotes); a line ending in "\" continues
 *     on the next line (joined with one space).
 *   - "type [name] {" opens a section, "}" closes it: protocol NAME,
 *     service NAME (inet_listener NAME inside), passdb [DRIVER], userdb
 *     [DRIVER], 1.x auth NAME (mechanisms, passdb, userdb, socket inside);
 *     plugin, namespace, dict, local and remote sections are accepted and
 *     skipped.
 *   - "!include PATH" and "!include_try PATH": relative to the including
 *     file's directory, glob patterns allowed; include_try ignores missing files.
 *   - "$name" in a value is the value name had at that point (known settings only).
 *   - A later setting overrides an earlier one. Obsolete 1.x settings warn once
 *     each; unknown settings warn; bad values, stray "}", unterminated "{",
 *     include loops are errors. Every finding has file:line.
 *   - 1.x protocols "imaps"/"pop3s": the protocol is imap/pop3, and the inet
 *     listeners are those the 1.x names listed (imaps 993 ssl, ...).
 */
#ifndef POSTERN_DOVECOT_CONF_H
#define POSTERN_DOVECOT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "libmail/diag.h"

enum dconf_type {
	DCONF_STR, DCONF_BOOL, DCONF_UINT, DCONF_TIME, DCONF_SIZE, DCONF_ENUM,
	DCONF_LIST, DCONF_FILE, DCONF_MAILLOC, DCONF_UTMPL, DCONF_UIDL
};

enum dconf_id {
#define D(type, name, def, doc) DCONF_##name,
#define DE(name, def, choices, doc) DCONF_##name,
#define L(svc, name, port, ssl, doc)
#define O(name, repl)
#include "dovecot_params.def"
#undef D
#undef DE
#undef L
#undef O
	DCONF__COUNT
};

struct dconf_info {
	const char *name;
	enum dconf_type type;
	const char *def;
	const char *choices; /* ENUM: space-separated; else NULL */
	const char *doc;
};

struct dconf_listener_default {
	const char *service, *name;
	unsigned port;
	bool ssl;
	const char *doc;
};

struct dconf_obsolete {
	const char *name, *replacement;
};

extern const struct dconf_info dconf_table[DCONF__COUNT];
extern const struct dconf_listener_default dconf_default_listeners[];
extern const size_t dconf_default_listener_count;
extern const struct dconf_obsolete dconf_obsolete_table[];
extern const size_t dconf_obsolete_count;

/* dconf_find - descriptor of a setting by name, or NULL */
const struct dconf_info *dconf_find(const char *name);
/* dconf_type_name - "string", "boolean", ... for docs */
const char *dconf_type_name(enum dconf_type t);
/* dconf_check_value - does value suit the type of info? 0, or -1 with *error_r (static or in a) */
int dconf_check_value(const struct dconf_info *info, const char *value, struct arena *a,
		      const char **error_r);
/* dconf_check_user_template - passdb/userdb args and other user templates: known %variables only */
int dconf_check_user_template(const char *value, struct arena *a, const char **error_r);
/* dconf_parse_time - Dovecot time: number and optional unit ("2 secs", "1h", "500ms"); ms result */
int dconf_parse_time(const char *s, uint64_t *msecs_r);
/* dconf_parse_size - number and optional unit b, k, M, G, T (1024-based); bytes */
int dconf_parse_size(const char *s, uint64_t *bytes_r);
/* dconf_parse_bool - yes or no, any case */
int dconf_parse_bool(const char *s, bool *out);

/* a parsed mail_location: [driver:]path[:KEY=VALUE]... */
struct mail_location {
	const char *driver; /* "maildir", "mbox", ... or "" (autodetect) */
	const char *path;   /* "" when absent */
	const char *inbox, *index, *control, *layout, *subscriptions; /* NULL when absent */
};
/*
 * mail_location_parse - split s into out (strings in a). Drivers: maildir,
 * mbox, sdbox, mdbox, dbox, imapc, pop3c, mail... ; keys INBOX, INDEX, CONTROL,
 * LAYOUT, SUBSCRIPTIONS, and others Dovecot knows (kept unparsed). 0, or -1
 * with *error_r for an unknown driver or key.
 */
int mail_location_parse(const char *s, struct arena *a, struct mail_location *out,
			const char **error_r);

/* --- the model -------------------------------------------------------------------- */

struct dconf_value {
	const char *value; /* NULL: not set here */
	const char *file;
	int line;
};

struct dconf_kv {
	const char *name, *value, *file;
	int line;
	struct dconf_kv *next;
};

struct dconf_db {
	const char *driver, *args, *default_fields, *override_fields; /* NULL when absent */
	struct dconf_kv *extra; /* deny, pass, master, skip, result_*, ... in file order */
	const char *file;
	int line;
	struct dconf_db *next;
};

struct dconf_listener {
	const char *name, *address; /* address NULL: the listen setting */
	int port;                   /* -1: not set */
	int ssl;                    /* -1: not set, 0 no, 1 yes */
	const char *file;
	int line;
	struct dconf_listener *next;
};

struct dconf_service {
	const char *name;
	struct dconf_kv *settings; /* process_limit, user, ... as written */
	struct dconf_listener *listeners;
	const char *file;
	int line;
	struct dconf_service *next;
};

struct dconf_protocol {
	const char *name;
	struct dconf_value v[DCONF__COUNT];
	const char *file;
	int line;
	struct dconf_protocol *next;
};

struct dconf {
	struct arena *arena;
	struct dconf_value v[DCONF__COUNT]; /* global settings as set (value NULL: default) */
	struct dconf_db *passdbs, *userdbs;
	struct dconf_service *services;
	struct dconf_protocol *protocols;
	bool obsolete_warned[64];     /* by index in dconf_obsolete_table: warn once each */
	bool v1_protocols;            /* protocols named imaps/pop3s (1.x) */
	unsigned nfiles;              /* files read, includes counted */
};

struct dconf_limits {
	size_t max_line;       /* bytes of one logical line */
	unsigned max_nesting;  /* sections inside sections */
	unsigned max_include;  /* !include depth */
	unsigned max_files;    /* files read in all */
};
#define DCONF_LIMITS_DEFAULT { 64 * 1024, 16, 8, 256 }

/*
 * struct dconf_io - how includes are resolved; the parser does no I/O itself.
 * match: the paths matching pattern (a glob when it has * ? or [), sorted, in
 *        a malloc'd array of malloc'd strings (*n_r of them). 0, or -1 with
 *        *error_r. No match is 0 with *n_r == 0. A pattern without wildcards
 *        gives itself.
 * read:  the whole file into malloc'd *text_r. 0; 1 when it does not exist;
 *        -1 with *error_r.
 */
struct dconf_io {
	int (*match)(void *ctx, const char *pattern, char ***paths_r, size_t *n_r, const char **error_r);
	int (*read)(void *ctx, const char *path, char **text_r, size_t *len_r, const char **error_r);
	void *ctx;
};

/* dconf_new - an empty model: every setting has its default */
struct dconf *dconf_new(void);
/* dconf_free - release everything; sets *cfp = NULL */
void dconf_free(struct dconf **cfp);
/*
 * dconf_feed - parse one file's text into cf. io may be NULL: then !include
 * is an error. lim may be NULL (DCONF_LIMITS_DEFAULT). 0, or -1 when errors
 * were added to dl (may be NULL).
 */
int dconf_feed(struct dconf *cf, const char *text, size_t len, const char *filename,
	       const struct dconf_io *io, const struct dconf_limits *lim, struct diag_list *dl);
/*
 * dconf_finish - after the last feed: 1.x protocols become listeners; warns when
 * disable_plaintext_auth and auth_allow_cleartext contradict each other. 0 or -1 as dconf_feed
 */
int dconf_finish(struct dconf *cf, struct diag_list *dl);
/* dconf_parse - dconf_new + dconf_feed + dconf_finish; always returns a model */
struct dconf *dconf_parse(const char *text, size_t len, const char *filename,
			  const struct dconf_io *io, const struct dconf_limits *lim,
			  struct diag_list *dl);
/*
 * dconf_load - read DIR/dovecot.conf with its includes from disk (dovecot_conf_load.c).
 * NULL, with *missing_r true when the file does not exist (no finding added)
 * or an error in dl when it cannot be read; else as dconf_parse().
 */
struct dconf *dconf_load(const char *dir, bool *missing_r, struct diag_list *dl);

/* dconf_get - effective global value: as set, else the default */
const char *dconf_get(const struct dconf *cf, enum dconf_id id);
/* dconf_get_proto - the value for protocol (its override, else global) */
const char *dconf_get_proto(const struct dconf *cf, const char *protocol, enum dconf_id id);
/* dconf_is_set - was the global setting given in the file? */
bool dconf_is_set(const struct dconf *cf, enum dconf_id id);
/* dconf_service_find - a service by name, or NULL */
const struct dconf_service *dconf_service_find(const struct dconf *cf, const char *name);
/* dconf_listener_find - a listener of a service by name, or NULL */
const struct dconf_listener *dconf_listener_find(const struct dconf *cf, const char *service,
						 const char *name);

/*
 * dconf_write - the model as Dovecot 2.x dovecot.conf text (doveconf -n):
 * global settings as set, then passdb/userdb/service sections and protocol
 * overrides, sorted by name like doveconf. With defaults true, every setting
 * (set or default) and the default listeners (doveconf -d). 0, or -1 when out
 * is full.
 */
int dconf_write(const struct dconf *cf, bool defaults, struct buf *out);

#endif
