/*
 * config.c - main.cf parser, lazy $name expansion with loop detection, typed getters
 *
 * Runs in:  every process that reads the configuration; pure (no I/O, no globals,
 *           no logging): findings go to a diag_list. File reading is config_load.c.
 * API:      see config.h (format and expansion rules are documented there)
 * Limits:   expansion depth CONFIG_MAX_DEPTH, expanded value cfg->max_value bytes,
 *           DIAG_MAX stored findings
 * Tests:    tests/unit/test_config.c, fuzz/fuzz_config.c
 * Refs:     Postfix postconf(5), readlline(3), mac_parse(3), mac_expand(3)
 */
#include "config.h"
#include "config-private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/htab.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/cfline.h"

/* a cached expansion: exactly one of value and error is set */
struct cached {
	const char *value;
	const char *error;
};

struct cached_list {
	const char **items; /* NULL-terminated */
	size_t count;
};

/* the chain of parameters being expanded, innermost first, for loop detection */
struct xchain {
	const char *name;
	size_t n;
	const struct xchain *up;
};

static int expand_text(struct config *cfg, const char *p, size_t n, struct buf *out,
		       const struct xchain *chain, unsigned depth, const char **error_r);

/* is_name_char - letters, digits and underscore make a parameter name */
static bool is_name_char(char c)
{
	return ascii_isalnum(c) || c == '_';
}

/* quote - a bounded, printable copy of a value for a message (valid for one call) */
static const char *quote(const char *s, size_t n)
{
	return log_sanitize_n(s, n, 100);
}

/* config_new - an empty config */
struct config *config_new(const char *filename)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->arena = arena_new(0);
	cfg->settings = htab_new(64, NULL);
	cfg->cache = htab_new(64, NULL);
	cfg->lists = htab_new(8, NULL);
	cfg->refs = htab_new(16, NULL);
	cfg->filename = arena_strdup(cfg->arena, filename ? filename : "main.cf");
	cfg->hostname = "localhost";
	cfg->max_value = CONFIG_MAX_VALUE_DEFAULT;
	return cfg;
}

/* config_free - release everything */
void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	htab_free(&cfg->settings);
	htab_free(&cfg->cache);
	htab_free(&cfg->lists);
	htab_free(&cfg->refs);
	arena_free(&cfg->arena);
	free(cfg);
	*cfgp = NULL;
}

/* invalidate - forget cached expansions after a change (their memory stays in the arena) */
static void invalidate(struct config *cfg)
{
	if (htab_count(cfg->cache) > 0) {
		htab_free(&cfg->cache);
		cfg->cache = htab_new(64, NULL);
	}
	if (htab_count(cfg->lists) > 0) {
		htab_free(&cfg->lists);
		cfg->lists = htab_new(8, NULL);
	}
}

/* config_set_system_hostname - input of the computed myhostname default */
void config_set_system_hostname(struct config *cfg, const char *name)
{
	cfg->hostname = arena_strdup(cfg->arena, name && *name ? name : "localhost");
	invalidate(cfg);
}

/* config_set_max_value - bound on one expanded value */
void config_set_max_value(struct config *cfg, size_t max)
{
	cfg->max_value = max ? max : CONFIG_MAX_VALUE_DEFAULT;
	invalidate(cfg);
}

/* config_derive - a config layered over base */
struct config *config_derive(struct config *base)
{
	struct config *cfg = config_new(base->filename);

	cfg->base = base;
	cfg->hostname = arena_strdup(cfg->arena, base->hostname);
	cfg->max_value = base->max_value;
	return cfg;
}

/* config_find_setting - own setting, else the nearest base's */
const struct config_setting *config_find_setting(const struct config *cfg, const char *name, size_t n)
{
	const struct config_setting *s;

	for (; cfg; cfg = cfg->base)
		if ((s = htab_get_n(cfg->settings, name, n)) != NULL)
			return s;
	return NULL;
}

/* config_is_referenced - was name seen as $name in this config or a base? */
bool config_is_referenced(const struct config *cfg, const char *name)
{
	for (; cfg; cfg = cfg->base)
		if (htab_has(cfg->refs, name))
			return true;
	return false;
}

/* --- scanning references without expanding ------------------------------------------ */


/* match_close - index of the bracket closing the "{" or "(" at p[i] (nesting counted), or n */
static size_t match_close(const char *p, size_t n, size_t i)
{
	char open = p[i], close = open == '{' ? '}' : ')';
	size_t level = 1, j;

	for (j = i + 1; j < n; j++) {
		if (p[j] == open)
			level++;
		else if (p[j] == close && --level == 0)
			break;
	}
	return j;
}
/* config_scan_refs - call fn for every $name in text, in both branches of conditionals; ignores errors */
void config_scan_refs(const char *p, size_t n, config_ref_fn *fn, void *ctx, unsigned depth)
{
	size_t i = 0, j, k;

	if (depth > CONFIG_MAX_DEPTH)
		return;
	while (i < n) {
		if (p[i] != '$') {
			i++;
			continue;
		}
		if (++i >= n)
			return;
		if (p[i] == '$') {
			i++;
		} else if (p[i] == '{' || p[i] == '(') {
			j = match_close(p, n, i);
			for (k = i + 1; k < j && is_name_char(p[k]); k++)
				;
			if (k > i + 1)
				fn(p + i + 1, k - i - 1, ctx);
			if (k < j)
				config_scan_refs(p + k + 1, j - k - 1, fn, ctx, depth + 1);
			i = j < n ? j + 1 : n;
		} else {
			for (j = i; j < n && is_name_char(p[j]); j++)
				;
			if (j > i)
				fn(p + i, j - i, ctx);
			i = j;
		}
	}
}

/* note_ref - scan_refs callback: remember a referenced name */
static void note_ref(const char *name, size_t n, void *ctx)
{
	struct config *cfg = ctx;
	char *key;

	if (htab_get_n(cfg->refs, name, n) != NULL)
		return;
	key = xmemdup(name, n);
	htab_put(cfg->refs, key, cfg);
	free(key);
}

/* config_note_references - remember $names used in text */
void config_note_references(struct config *cfg, const char *text)
{
	config_scan_refs(text, strlen(text), note_ref, cfg, 0);
}

/* --- main.cf syntax ---------------------------------------------------------------- */

/* put_setting - record name = value from file:line, replacing an earlier one */
static void put_setting(struct config *cfg, const char *name, size_t name_n, const char *value,
			size_t value_n, const char *file, int line)
{
	struct config_setting *s = arena_alloc(cfg->arena, sizeof(*s));
	char *key = arena_memdup(cfg->arena, name, name_n);

	s->name = key;
	s->value = arena_memdup(cfg->arena, value, value_n);
	s->file = file;
	s->line = line;
	htab_put(cfg->settings, key, s);
	config_scan_refs(s->value, value_n, note_ref, cfg, 0);
}

/* parse_logical - split one logical line "name = value" and record it; 0 or -1 */
static int parse_logical(struct config *cfg, struct slice ll, int line, struct diag_list *diags)
{
	size_t i = 0, name_end;
	struct slice value;

	if (memchr(ll.p, '\0', ll.n) != NULL) {
		diag_add(diags, DIAG_ERROR, cfg->filename, line, "remove the NUL byte (is this a text file?)",
			 "line contains a NUL byte");
		return -1;
	}
	while (i < ll.n && ll.p[i] != '=' && !ascii_isspace(ll.p[i]))
		i++;
	name_end = i;
	while (i < ll.n && ascii_isspace(ll.p[i]))
		i++;
	if (i == ll.n || ll.p[i] != '=') {
		diag_add(diags, DIAG_ERROR, cfg->filename, line, "write settings as: name = value",
			 "missing \"=\" after parameter name: \"%s\"", quote(ll.p, ll.n));
		return -1;
	}
	for (size_t k = 0; k < name_end; k++) {
		if (!is_name_char(ll.p[k])) {
			diag_add(diags, DIAG_ERROR, cfg->filename, line,
				 "parameter names consist of letters, digits and _",
				 "bad parameter name: \"%s\"", quote(ll.p, name_end));
			return -1;
		}
	}
	if (name_end == 0) {
		diag_add(diags, DIAG_ERROR, cfg->filename, line, "write settings as: name = value",
			 "missing parameter name before \"=\"");
		return -1;
	}
	value = slice_trim(slice_sub(ll, i + 1, ll.n));
	put_setting(cfg, ll.p, name_end, value.p, value.n, cfg->filename, line);
	return 0;
}

/* config_feed - parse every logical line (cfline.h) as a setting */
int config_feed(struct config *cfg, const char *text, size_t len, struct diag_list *diags)
{
	struct cfline_reader r;
	struct cfline l;
	size_t errors_before = diags ? diags->n_error : 0;
	int rc = 0;

	invalidate(cfg);
	cfline_reader_init(&r, text, len, cfg->filename, diags);
	cfline_init(&l);
	while (cfline_next(&r, &l) > 0)
		if (parse_logical(cfg, buf_slice(&l.text), l.line, diags) < 0)
			rc = -1;
	cfline_free(&l);
	if (diags && diags->n_error > errors_before)
		rc = -1;
	return rc;
}

/* config_override - set one parameter from outside the file (master.cf -o) */
int config_override(struct config *cfg, const char *name, const char *value, const char *file,
		    int line, struct diag_list *diags)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n && is_name_char(name[i]); i++)
		;
	if (n == 0 || i < n) {
		diag_add(diags, DIAG_ERROR, file, line, "parameter names consist of letters, digits and _",
			 "bad parameter name: \"%s\"", quote(name, n));
		return -1;
	}
	invalidate(cfg);
	put_setting(cfg, name, n, value, strlen(value), arena_strdup(cfg->arena, file ? file : "-o"),
		    line);
	return 0;
}

/* --- expansion ---------------------------------------------------------------------- */

/* chain_error - "parameter loop: a -> b -> a" from the outermost name inwards */
static const char *chain_error(struct config *cfg, const struct xchain *chain, const char *name,
			       size_t n)
{
	struct buf b = BUF_INIT(4096);
	const struct xchain *c;
	const struct xchain *v[CONFIG_MAX_DEPTH + 2];
	size_t k = 0;
	const char *r;

	for (c = chain; c && k < CONFIG_MAX_DEPTH + 1; c = c->up)
		v[k++] = c;
	(void)buf_puts(&b, "parameter loop: ");
	while (k-- > 0)
		(void)buf_printf(&b, "%.*s -> ", (int)v[k]->n, v[k]->name);
	(void)buf_printf(&b, "%.*s", (int)n, name);
	r = arena_strdup(cfg->arena, buf_cstr(&b));
	buf_free(&b);
	return r;
}

/* computed_default - the run-time defaults of myhostname and mydomain */
static int computed_default(struct config *cfg, enum param_id id, const struct xchain *chain,
			    unsigned depth, struct buf *out, const char **error_r)
{
	struct buf tmp = BUF_INIT(cfg->max_value);
	const char *dot;
	int rc = 0;

	*error_r = NULL;
	if (id == PARAM_myhostname) {
		if (strchr(cfg->hostname, '.') != NULL)
			return buf_puts(out, cfg->hostname) < 0 ? -1 : 0;
		/* Postfix check_myhostname(): append $mydomain if set, else .localdomain */
		if (config_find_setting(cfg, "mydomain", 8) != NULL)
			rc = expand_text(cfg, "$mydomain", 9, &tmp, chain, depth + 1, error_r);
		else
			rc = buf_puts(&tmp, "localdomain");
		if (rc == 0 && buf_printf(out, "%s.%s", cfg->hostname, buf_cstr(&tmp)) < 0)
			rc = -1;
	} else {
		/* Postfix check_mydomainname(): $myhostname minus its first label */
		rc = expand_text(cfg, "$myhostname", 11, &tmp, chain, depth + 1, error_r);
		if (rc == 0) {
			dot = strchr(buf_cstr(&tmp), '.');
			rc = buf_puts(out, dot ? dot + 1 : "localdomain");
		}
	}
	buf_free(&tmp);
	return rc;
}

/* raw_text - the unexpanded text of name; NULL when neither known nor set */
static const char *raw_text(const struct config *cfg, const char *name, size_t n,
			    const struct param_info **pi_r)
{
	const struct config_setting *s = config_find_setting(cfg, name, n);

	*pi_r = param_find_n(name, n);
	if (s)
		return s->value;
	return *pi_r ? (*pi_r)->def : NULL;
}

/*
 * expand_param - the expanded value of name[0..n), from the cache or computed.
 * Undefined names expand to "". 0, or -1 with *error_r.
 */
static int expand_param(struct config *cfg, const char *name, size_t n, const struct xchain *chain,
			unsigned depth, const char **value_r, const char **error_r)
{
	struct cached *c = htab_get_n(cfg->cache, name, n);
	const struct param_info *pi;
	const struct xchain *up;
	struct xchain me = { name, n, chain };
	struct buf b = BUF_INIT(cfg->max_value);
	const char *raw;
	char *key;
	int rc;

	if (c) {
		*value_r = c->value;
		*error_r = c->error;
		return c->error ? -1 : 0;
	}
	for (up = chain; up; up = up->up) {
		if (up->n == n && memcmp(up->name, name, n) == 0) {
			*error_r = chain_error(cfg, chain, name, n);
			return -1;
		}
	}
	if (depth > CONFIG_MAX_DEPTH) {
		*error_r = arena_printf(cfg->arena, "parameter references nested deeper than %d levels",
					CONFIG_MAX_DEPTH);
		return -1;
	}
	*error_r = NULL;
	raw = raw_text(cfg, name, n, &pi);
	if (raw == NULL)
		rc = 0; /* undefined: "" like Postfix */
	else if (pi && *raw == '\0' && param_default_is_computed(pi) && !config_find_setting(cfg, name, n))
		rc = computed_default(cfg, param_id_of(pi), &me, depth + 1, &b, error_r);
	else
		rc = expand_text(cfg, raw, strlen(raw), &b, &me, depth + 1, error_r);
	if (rc < 0 && *error_r == NULL)
		*error_r = arena_printf(cfg->arena, "value of %.*s is longer than %zu bytes after expansion",
					(int)n, name, cfg->max_value);
	c = arena_zalloc(cfg->arena, sizeof(*c));
	if (rc == 0)
		c->value = arena_memdup(cfg->arena, buf_cstr(&b), b.len);
	else
		c->error = *error_r;
	buf_free(&b);
	key = xmemdup(name, n);
	htab_put(cfg->cache, key, c);
	free(key);
	*value_r = c->value;
	return rc;
}

/* braced_group - if s starts with "{", the offset of its matching "}", else -1 */
static long braced_group(struct slice s)
{
	size_t i, level = 0;

	if (s.n == 0 || s.p[0] != '{')
		return -1;
	for (i = 0; i < s.n; i++) {
		if (s.p[i] == '{')
			level++;
		else if (s.p[i] == '}' && --level == 0)
			return (long)i;
	}
	return -1;
}

/*
 * conditional_texts - split the text after "?" or ":" into the branch for a
 * true and a false test. "text" gives (text, ""); "{a}" gives (a, ""); and
 * "{a}:{b}" (only after "?") gives (a, b). Anything else is plain text.
 */
static void conditional_texts(struct slice text, char op, struct slice *yes, struct slice *no)
{
	long e1 = braced_group(text), e2;
	struct slice rest;

	*yes = text;
	*no = slice_make(text.p, 0);
	if (e1 < 0)
		return;
	rest = slice_trim(slice_sub(text, (size_t)e1 + 1, text.n));
	if (rest.n == 0) {
		*yes = slice_make(text.p + 1, (size_t)e1 - 1);
		return;
	}
	if (op != '?' || rest.p[0] != ':')
		return;
	rest = slice_trim(slice_sub(rest, 1, rest.n));
	e2 = braced_group(rest);
	if (e2 < 0 || (size_t)e2 + 1 != rest.n)
		return;
	*yes = slice_make(text.p + 1, (size_t)e1 - 1);
	*no = slice_make(rest.p + 1, (size_t)e2 - 1);
}

/* expand_braced - the inside of ${...} or $(...): name, name?text or name:text */
static int expand_braced(struct config *cfg, struct slice in, struct buf *out,
			 const struct xchain *chain, unsigned depth, const char **error_r)
{
	size_t k = 0;
	const char *v;
	struct slice yes, no, pick;

	while (k < in.n && is_name_char(in.p[k]))
		k++;
	if (k == 0) {
		*error_r = arena_printf(cfg->arena, "missing parameter name in \"${%s}\"",
					quote(in.p, in.n));
		return -1;
	}
	if (k < in.n && in.p[k] != '?' && in.p[k] != ':') {
		*error_r = arena_printf(cfg->arena, "unexpected \"%c\" after the name in \"${%s}\"",
					in.p[k], quote(in.p, in.n));
		return -1;
	}
	if (expand_param(cfg, in.p, k, chain, depth, &v, error_r) < 0)
		return -1;
	if (k == in.n)
		return buf_puts(out, v) < 0 ? -1 : 0;
	conditional_texts(slice_sub(in, k + 1, in.n), in.p[k], &yes, &no);
	if (in.p[k] == '?')
		pick = *v != '\0' ? yes : no;
	else
		pick = *v == '\0' ? yes : no;
	return expand_text(cfg, pick.p, pick.n, out, chain, depth + 1, error_r);
}

/* expand_text - append p[0..n) to out with every $reference replaced */
static int expand_text(struct config *cfg, const char *p, size_t n, struct buf *out,
		       const struct xchain *chain, unsigned depth, const char **error_r)
{
	size_t i = 0, j;
	const char *v;

	*error_r = NULL;
	if (depth > CONFIG_MAX_DEPTH) {
		*error_r = arena_printf(cfg->arena, "parameter references nested deeper than %d levels",
					CONFIG_MAX_DEPTH);
		return -1;
	}
	while (i < n) {
		const char *dollar = memchr(p + i, '$', n - i);

		j = dollar ? (size_t)(dollar - p) : n;
		if (buf_append(out, p + i, j - i) < 0)
			return -1;
		if ((i = j) == n)
			break;
		i++; /* past "$" */
		if (i < n && p[i] == '$') {
			if (buf_putc(out, '$') < 0)
				return -1;
			i++;
		} else if (i < n && (p[i] == '{' || p[i] == '(')) {
			j = match_close(p, n, i);
			if (j == n) {
				*error_r = arena_printf(cfg->arena, "unbalanced \"%c\" in \"%s\"", p[i],
							quote(p, n));
				return -1;
			}
			if (expand_braced(cfg, slice_make(p + i + 1, j - i - 1), out, chain, depth,
					  error_r) < 0)
				return -1;
			i = j + 1;
		} else {
			for (j = i; j < n && is_name_char(p[j]); j++)
				;
			if (j == i) {
				*error_r = arena_printf(cfg->arena,
							"\"$\" not followed by a name, {, ( or $ in \"%s\" "
							"(write $$ for a literal $)",
							quote(p, n));
				return -1;
			}
			if (expand_param(cfg, p + i, j - i, chain, depth, &v, error_r) < 0 ||
			    buf_puts(out, v) < 0)
				return -1;
			i = j;
		}
	}
	return 0;
}

/* config_expand_text - expand arbitrary text */
int config_expand_text(struct config *cfg, const char *text, struct buf *out, const char **error_r)
{
	int rc = expand_text(cfg, text, strlen(text), out, NULL, 0, error_r);

	if (rc < 0 && *error_r == NULL)
		*error_r = "expanded text too long";
	return rc;
}

/* --- lookups ------------------------------------------------------------------------ */

/* config_lookup - expanded value of a known or set parameter */
int config_lookup(struct config *cfg, const char *name, const char **value_r, const char **error_r)
{
	size_t n = strlen(name);

	if (param_find_n(name, n) == NULL && config_find_setting(cfg, name, n) == NULL) {
		*error_r = "unknown parameter";
		return -1;
	}
	return expand_param(cfg, name, n, NULL, 0, value_r, error_r);
}

/* config_get - expanded value or NULL */
const char *config_get(struct config *cfg, const char *name)
{
	const char *v, *err;

	return config_lookup(cfg, name, &v, &err) == 0 ? v : NULL;
}

/* config_get_raw - as written, or the default text */
const char *config_get_raw(struct config *cfg, const char *name)
{
	const struct param_info *pi;

	return raw_text(cfg, name, strlen(name), &pi);
}

/* config_default - default text, computed defaults computed */
const char *config_default(struct config *cfg, const char *name)
{
	const struct param_info *pi = param_find(name);
	struct buf b = BUF_INIT(cfg->max_value);
	const char *err, *r;

	if (pi == NULL)
		return NULL;
	if (!param_default_is_computed(pi))
		return pi->def;
	if (computed_default(cfg, param_id_of(pi), NULL, 0, &b, &err) < 0) {
		buf_free(&b);
		return "";
	}
	r = arena_strdup(cfg->arena, buf_cstr(&b));
	buf_free(&b);
	return r;
}

/* config_bad_value - "bad value for NAME: "VALUE" (expected ...)" in the config's arena */
const char *config_bad_value(struct config *cfg, const struct param_info *pi, const char *value,
			     const char *expect)
{
	return arena_printf(cfg->arena, "bad value for %s: \"%s\" (expected %s%s)", pi->name,
			    quote(value, strlen(value)), pi->type == PARAM_ENUM ? "one of: " : "", expect);
}

/* typed_value - expand and check by type rule; the message names the parameter */
static int typed_value(struct config *cfg, const char *name, enum param_type t, const char **v_r,
		       const char **error_r)
{
	const struct param_info *pi = param_find(name);
	struct param_info as = { name, strlen(name), t, pi ? pi->def : "", pi ? pi->choices : NULL, "" };
	const char *expect;

	if (config_lookup(cfg, name, v_r, error_r) < 0)
		return -1;
	if (param_check_value(&as, *v_r, &expect) < 0) {
		*error_r = config_bad_value(cfg, &as, *v_r, expect);
		return -1;
	}
	return 0;
}

/* config_get_int - integer parameter */
int config_get_int(struct config *cfg, const char *name, int64_t *value_r, const char **error_r)
{
	const char *v;

	if (typed_value(cfg, name, PARAM_INT, &v, error_r) < 0)
		return -1;
	return param_parse_int(v, value_r);
}

/* config_get_bool - yes/no parameter */
int config_get_bool(struct config *cfg, const char *name, bool *value_r, const char **error_r)
{
	const char *v;

	if (typed_value(cfg, name, PARAM_BOOL, &v, error_r) < 0)
		return -1;
	return param_parse_bool(v, value_r);
}

/* config_get_time - time parameter in seconds */
int config_get_time(struct config *cfg, const char *name, int64_t *seconds_r, const char **error_r)
{
	const struct param_info *pi = param_find(name);
	const char *v;

	if (typed_value(cfg, name, PARAM_TIME, &v, error_r) < 0)
		return -1;
	return param_parse_time(v, pi && pi->type == PARAM_TIME ? param_time_unit(pi) : 's', seconds_r);
}

/* config_get_list - items of a list parameter */
int config_get_list(struct config *cfg, const char *name, const char *const **items_r,
		    size_t *count_r, const char **error_r)
{
	struct cached_list *cl = htab_get(cfg->lists, name);
	struct slice rest, item;
	const char *v;
	size_t n = 0;

	if (cl == NULL) {
		if (config_lookup(cfg, name, &v, error_r) < 0)
			return -1;
		for (rest = slice_cstr(v); param_list_next(&rest, &item);)
			n++;
		cl = arena_alloc(cfg->arena, sizeof(*cl));
		cl->items = arena_alloc(cfg->arena, (n + 1) * sizeof(*cl->items));
		cl->count = 0;
		for (rest = slice_cstr(v); param_list_next(&rest, &item);)
			cl->items[cl->count++] = arena_slicedup(cfg->arena, item);
		cl->items[cl->count] = NULL;
		htab_put(cfg->lists, name, cl);
	}
	*items_r = cl->items;
	*count_r = cl->count;
	return 0;
}

/* --- explicit settings ------------------------------------------------------------- */

/* config_is_set - explicit setting present? */
bool config_is_set(struct config *cfg, const char *name)
{
	return config_find_setting(cfg, name, strlen(name)) != NULL;
}

/* config_where - file and line of the effective explicit setting */
const char *config_where(struct config *cfg, const char *name, int *line_r)
{
	const struct config_setting *s = config_find_setting(cfg, name, strlen(name));

	if (s == NULL)
		return NULL;
	if (line_r)
		*line_r = s->line;
	return s->file;
}

/* cmp_setting - qsort by name */
static int cmp_setting(const void *a, const void *b)
{
	const struct config_setting *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* config_settings - effective explicit settings sorted by name */
size_t config_settings(struct config *cfg, const struct config_setting ***list_r)
{
	const struct config_setting **v = NULL;
	const struct config *c;
	struct htab_iter it;
	const char *key;
	void *val;
	size_t n = 0, cap = 0;

	for (c = cfg; c; c = c->base) {
		for (htab_iter_init(c->settings, &it); htab_iter_next(&it, &key, &val);) {
			if (config_find_setting(cfg, key, strlen(key)) != val)
				continue; /* overridden by a derived config */
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n++] = val;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_setting);
	*list_r = v;
	return n;
}
