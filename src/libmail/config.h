/*
 * config.h - main.cf: parse (pure), expand $name lazily, typed getters, -o overrides
 *
 * Syntax (Postfix main.cf, postconf(5)):
 *   - "name = value"; white space around "=" and at the end of the value is
 *     dropped. A name is letters, digits and "_".
 *   - Logical lines, comments and continuations as in cfline.h (Postfix
 *     readlline(3)): an indented line continues the previous logical line
 *     (joined with one space); "#" lines and blank lines are skipped without
 *     ending a logical line; a continuation of a leading comment is a comment.
 *   - A later setting of the same name replaces an earlier one; the file and
 *     line of the effective setting are remembered (config_where()).
 *
 * Expansion (Postfix mac_expand), done when a value is read, not when it is
 * parsed, so "myorigin = $mydomain" sees a mydomain set later in the file:
 *   $name, ${name}, $(name)   the value of name, itself expanded (recursively)
 *   ${name?text}              text (expanded) when name's value is non-empty, else ""
 *   ${name:text}              text (expanded) when name's value is empty, else ""
 *   ${name?{text1}:{text2}}   text1 when non-empty, else text2 (Postfix 3 form)
 *   $$                        a literal "$"
 * The emptiness test uses the expanded value of name. An undefined name
 * expands to "" (config_validate() warns). A reference loop is an error naming
 * the chain ("parameter loop: a -> b -> a"); so are a "$" not followed by a
 * name, "{", "(" or "$", an unbalanced "${", nesting deeper than
 * CONFIG_MAX_DEPTH and a value longer than the config's maximum
 * (config_set_max_value()). Postfix 3's relational operators (${{a} == {b}?...})
 * are not supported.
 *
 * Checking (config_validate(), run by config_parse() and config_load()): a parameter that is
 * neither known (params.def) nor referenced as $name anywhere (main.cf values,
 * and master.cf through config_note_references()) is a warning "unknown
 * parameter"; a typed parameter whose expanded value does not parse is an
 * error "bad value for NAME: "VALUE" (expected ...)" at the line that set it.
 *
 * Memory: a config owns everything it returns; strings stay valid until
 * config_free() or until the config is changed (config_feed(),
 * config_override(), config_set_system_hostname()), whichever is first.
 * Not thread-safe (lookups fill a cache).
 *
 * Tests:    tests/unit/test_config.c, fuzz/fuzz_config.c
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "libmail/diag.h"
#include "libmail/params.h"

struct config;

/* one explicit setting, as written (continuations joined) */
struct config_setting {
	const char *name;
	const char *value; /* raw, not expanded */
	const char *file;  /* the file name given to config_new()/config_parse(), or an override's */
	int line;          /* first line of the logical line */
};

#define CONFIG_MAX_DEPTH 100                  /* nested $references / ${..?..} texts */
#define CONFIG_MAX_VALUE_DEFAULT (256 * 1024) /* bytes of one expanded value */

/* --- building a config ------------------------------------------------------------- */

/*
 * config_parse - parse main.cf text (pure: no I/O, no globals) and validate it.
 * filename is used in diagnostics and by config_where(). Findings go to diags
 * (may be NULL). Always returns a config (free it with config_free()); the
 * caller decides what to do when diag_has_errors(diags).
 * The system host name (for the default myhostname) is "localhost" until
 * config_set_system_hostname() says otherwise.
 */
struct config *config_parse(const char *text, size_t len, const char *filename,
			    struct diag_list *diags);

/*
 * config_load - read DIR/main.cf (and DIR/master.cf, only to learn which
 * user-defined parameters its -o options reference), take the system host name
 * from gethostname(), parse and validate. Returns NULL (with an error in diags)
 * when main.cf cannot be read; otherwise as config_parse().
 */
struct config *config_load(const char *dir, struct diag_list *diags);

#define CONFIG_FILE_MAX (16 * 1024 * 1024) /* bytes of one configuration file */

/*
 * config_read_file - read a whole file (at most CONFIG_FILE_MAX bytes) into a
 * malloc'd NUL-terminated *text_r of *len_r bytes. 0, or -1 with errno
 * (EFBIG when too large). The only file I/O of the config module.
 */
int config_read_file(const char *path, char **text_r, size_t *len_r);

/* the pieces config_parse() is made of, for callers that feed several sources */

/* config_new - an empty config: every parameter has its default */
struct config *config_new(const char *filename);
/* config_free - release the config and everything it returned; sets *cfgp = NULL */
void config_free(struct config **cfgp);
/* config_feed - parse main.cf text into cfg (syntax only); 0, or -1 when diags holds errors */
int config_feed(struct config *cfg, const char *text, size_t len, struct diag_list *diags);
/* config_note_references - remember every $name in text as used (silences "unknown parameter") */
void config_note_references(struct config *cfg, const char *text);
/*
 * config_validate - warn about unknown parameters and undefined $references
 * (own settings only, so a derived config reports just its overrides),
 * expand every parameter and check the typed ones (all effective settings and
 * defaults: an override can break a value set in the base, and an error in the
 * base is reported again). Returns 0, or -1 when errors were added to diags.
 */
int config_validate(struct config *cfg, struct diag_list *diags);
/* config_set_system_hostname - the name the default myhostname is computed from */
void config_set_system_hostname(struct config *cfg, const char *name);
/* config_set_max_value - bound on one expanded value in bytes (0: CONFIG_MAX_VALUE_DEFAULT) */
void config_set_max_value(struct config *cfg, size_t max);

/*
 * config_derive - a config that reads through to base but may override
 * parameters (master.cf -o name=value). Expansion happens in the derived
 * config, so -o myhostname=x changes $myhostname everywhere for that service.
 * base must outlive the derived config and must not change while it exists.
 */
struct config *config_derive(struct config *base);
/*
 * config_override - set name = value in cfg (a derived config or any other),
 * recording file and line for diagnostics. Returns 0, or -1 (diag error) for a
 * bad parameter name. Call config_validate() afterwards to check values.
 */
int config_override(struct config *cfg, const char *name, const char *value, const char *file,
		    int line, struct diag_list *diags);

/* --- reading values ---------------------------------------------------------------- */

/*
 * config_lookup - the expanded value of a known or explicitly set parameter.
 * Returns 0 with *value_r, or -1 with *error_r for an unknown parameter
 * ("unknown parameter") or an expansion error. Results are cached.
 */
int config_lookup(struct config *cfg, const char *name, const char **value_r, const char **error_r);
/* config_get - config_lookup() without the reason: the expanded value, or NULL */
const char *config_get(struct config *cfg, const char *name);
/* config_get_raw - the value as written, or the default text; NULL for an unknown parameter */
const char *config_get_raw(struct config *cfg, const char *name);
/* config_default - the default text of a known parameter (computed ones computed); else NULL */
const char *config_default(struct config *cfg, const char *name);

/*
 * typed getters - expand, then parse by the parameter's type rules (params.h).
 * Each returns 0, or -1 with *error_r ("bad value for NAME: ..." or the
 * expansion error). Any parameter may be read with any getter; the type in
 * params.def decides only what config_validate() checks (and the TIME unit).
 */
int config_get_int(struct config *cfg, const char *name, int64_t *value_r, const char **error_r);
int config_get_bool(struct config *cfg, const char *name, bool *value_r, const char **error_r);
/* config_get_time - seconds; a bare number uses the parameter's default unit */
int config_get_time(struct config *cfg, const char *name, int64_t *seconds_r, const char **error_r);
/* config_get_list - the items of the expanded value, NULL-terminated, *count_r of them */
int config_get_list(struct config *cfg, const char *name, const char *const **items_r,
		    size_t *count_r, const char **error_r);

/*
 * config_expand_text - expand $references in arbitrary text in cfg's context
 * (master.cf arguments, a banner template). Appends to out; 0, or -1 with
 * *error_r (then out holds a partial result).
 */
int config_expand_text(struct config *cfg, const char *text, struct buf *out, const char **error_r);

/* --- explicit settings ------------------------------------------------------------- */

/* config_is_set - was name set explicitly (in this config or, when derived, its base)? */
bool config_is_set(struct config *cfg, const char *name);
/* config_where - file of the effective explicit setting and *line_r its line; NULL when not set */
const char *config_where(struct config *cfg, const char *name, int *line_r);
/*
 * config_settings - the effective explicit settings (own, then the base's not
 * overridden), sorted by name. *list_r is a malloc'd array the caller frees
 * (the entries belong to the config). Returns the count.
 */
size_t config_settings(struct config *cfg, const struct config_setting ***list_r);

#endif
