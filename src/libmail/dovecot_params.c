/*
 * dovecot_params.c - the dovecot.conf setting table, value checks and mail_location parsing
 *
 * Runs in:  every process that reads dovecot.conf; pure (no I/O, no globals written)
 * API:      dconf_find(), dconf_check_value(), dconf_parse_time/size/bool(),
 *           mail_location_parse() -- see dovecot_conf.h; settings in dovecot_params.def
 * Tests:    tests/unit/test_dovecot_conf.c
 * Refs:     Dovecot 2.3 "Settings" (types: boolean, time, size), "Mail location"
 */
#include "dovecot_conf.h"

#include <string.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "libmail/varexpand.h"

const struct dconf_info dconf_table[DCONF__COUNT] = {
#define D(type, name, def, doc) [DCONF_##name] = { #name, DCONF_##type, def, NULL, doc },
#define DE(name, def, choices, doc) [DCONF_##name] = { #name, DCONF_ENUM, def, choices, doc },
#define L(svc, name, port, ssl, doc)
#define O(name, repl)
#include "dovecot_params.def"
#undef D
#undef DE
#undef L
#undef O
};

const struct dconf_listener_default dconf_default_listeners[] = {
#define D(type, name, def, doc)
#define DE(name, def, choices, doc)
#define L(svc, name, port, ssl, doc) { #svc, #name, port, ssl, doc },
#define O(name, repl)
#include "dovecot_params.def"
#undef D
#undef DE
#undef L
#undef O
};
const size_t dconf_default_listener_count =
	sizeof(dconf_default_listeners) / sizeof(dconf_default_listeners[0]);

const struct dconf_obsolete dconf_obsolete_table[] = {
#define D(type, name, def, doc)
#define DE(name, def, choices, doc)
#define L(svc, name, port, ssl, doc)
#define O(name, repl) { #name, repl },
#include "dovecot_params.def"
#undef D
#undef DE
#undef L
#undef O
};
const size_t dconf_obsolete_count = sizeof(dconf_obsolete_table) / sizeof(dconf_obsolete_table[0]);

/* the %variables a user template may use (mail_location, userdb args, ...) */
static const struct var_entry user_vars[] = {
	{ 'u', "user", NULL },	    { 'n', "username", NULL }, { 'd', "domain", NULL },
	{ 'h', "home", NULL },	    { 's', "service", NULL },  { 'l', "local_ip", NULL },
	{ 'r', "remote_ip", NULL }, { 'p', "pid", NULL },      { 'i', "uid", NULL },
	{ 'm', "mech", NULL },	    { 'c', "secured", NULL },  { 'w', "password", NULL },
	{ 'a', "lport", NULL },	    { 'b', "rport", NULL },    { 'k', "cert", NULL },
	{ '\0', "gid", NULL },	    { '\0', "hostname", NULL }, { '\0', "session", NULL },
	{ '\0', "orig_user", NULL }, { '\0', "auth_user", NULL }, { '\0', "real_user", NULL },
};

/* the %variables of pop3_uidl_format */
static const struct var_entry uidl_vars[] = {
	{ 'u', "uid", NULL },	   { 'v', "uidvalidity", NULL }, { 'm', "md5", NULL },
	{ 'f', "filename", NULL }, { 'g', "guid", NULL },
};

/* dconf_find - linear scan: the table is small */
const struct dconf_info *dconf_find(const char *name)
{
	size_t i;

	for (i = 0; i < DCONF__COUNT; i++)
		if (strcmp(dconf_table[i].name, name) == 0)
			return &dconf_table[i];
	return NULL;
}

/* dconf_type_name - the word used in docs */
const char *dconf_type_name(enum dconf_type t)
{
	switch (t) {
	case DCONF_STR:
		return "string";
	case DCONF_BOOL:
		return "boolean";
	case DCONF_UINT:
		return "unsigned integer";
	case DCONF_TIME:
		return "time";
	case DCONF_SIZE:
		return "size";
	case DCONF_ENUM:
		return "enum";
	case DCONF_LIST:
		return "list";
	case DCONF_FILE:
		return "file";
	case DCONF_MAILLOC:
		return "mail location";
	case DCONF_UTMPL:
		return "template (user variables)";
	case DCONF_UIDL:
		return "template (UIDL variables)";
	}
	panic("dovecot_params: bad type %d", (int)t);
}

/* dconf_parse_bool - yes/no */
int dconf_parse_bool(const char *s, bool *out)
{
	if (str_casecmp_ascii(s, "yes") == 0)
		*out = true;
	else if (str_casecmp_ascii(s, "no") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* split_number - leading digits into *v, *unit_r the rest after optional white space */
static int split_number(const char *s, uint64_t *v, const char **unit_r)
{
	size_t n = 0;

	while (ascii_isdigit(s[n]))
		n++;
	if (n == 0 || parse_u64(s, n, v) < 0)
		return -1;
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	*unit_r = s;
	return 0;
}

/* unit_is - does unit equal one of the |-separated words (any case)? */
static bool unit_is(const char *unit, const char *words)
{
	size_t n = strlen(unit);
	const char *w = words, *bar;

	for (;;) {
		bar = strchr(w, '|');
		if (bar == NULL)
			bar = w + strlen(w);
		if ((size_t)(bar - w) == n && n > 0) {
			size_t i;

			for (i = 0; i < n && ascii_tolower(unit[i]) == w[i]; i++)
				;
			if (i == n)
				return true;
		}
		if (*bar == '\0')
			return false;
		w = bar + 1;
	}
}

/* mul_ok - *v *= m without overflow */
static int mul_ok(uint64_t *v, uint64_t m)
{
	if (m != 0 && *v > UINT64_MAX / m)
		return -1;
	*v *= m;
	return 0;
}

/* dconf_parse_time - Dovecot time units; a bare number is seconds */
int dconf_parse_time(const char *s, uint64_t *msecs_r)
{
	const char *u;
	uint64_t v, m;

	if (split_number(s, &v, &u) < 0)
		return -1;
	if (*u == '\0' || unit_is(u, "s|sec|secs|second|seconds"))
		m = 1000;
	else if (unit_is(u, "ms|msec|msecs|millisecond|milliseconds"))
		m = 1;
	else if (unit_is(u, "m|min|mins|minute|minutes"))
		m = 60 * 1000;
	else if (unit_is(u, "h|hour|hours"))
		m = 3600 * 1000;
	else if (unit_is(u, "d|day|days"))
		m = 86400 * 1000;
	else if (unit_is(u, "w|week|weeks"))
		m = 7 * 86400 * 1000ULL;
	else
		return -1;
	if (mul_ok(&v, m) < 0)
		return -1;
	*msecs_r = v;
	return 0;
}

/* dconf_parse_size - bytes with 1024-based units */
int dconf_parse_size(const char *s, uint64_t *bytes_r)
{
	const char *u;
	uint64_t v, m;

	if (split_number(s, &v, &u) < 0)
		return -1;
	if (*u == '\0' || unit_is(u, "b|byte|bytes"))
		m = 1;
	else if (unit_is(u, "k|kb|kib"))
		m = 1ULL << 10;
	else if (unit_is(u, "m|mb|mib"))
		m = 1ULL << 20;
	else if (unit_is(u, "g|gb|gib"))
		m = 1ULL << 30;
	else if (unit_is(u, "t|tb|tib"))
		m = 1ULL << 40;
	else
		return -1;
	if (mul_ok(&v, m) < 0)
		return -1;
	*bytes_r = v;
	return 0;
}

/* enum_ok - is s one of the space-separated choices? */
static bool enum_ok(const char *choices, const char *s)
{
	size_t n = strlen(s);
	const char *c = choices;

	while (*c) {
		size_t k = strcspn(c, " ");

		if (k == n && k > 0 && strncmp(c, s, n) == 0)
			return true;
		c += k;
		while (*c == ' ')
			c++;
	}
	return false;
}

/* template_error - "unknown variable \"%q\" (in \"...\")" in a */
static const char *template_error(struct arena *a, const char *value, const char *err, size_t at)
{
	const char *p = value + at + 1;

	while (*p == '-' || *p == '.' || ascii_isdigit(*p))
		p++;
	while (*p && strchr("LUEXRHNMDT", *p) != NULL && p[1] != '\0')
		p++;
	if (*p == '{')
		p += strcspn(p, "}") + (strchr(p, '}') ? 1 : 0);
	else if (*p)
		p++;
	if (p - (value + at) > 40)
		p = value + at + 40;
	return arena_printf(a, "%s \"%.*s\" (in \"%s\")", err, (int)(p - (value + at)), value + at,
			    log_sanitize(value, 200));
}

/* check_template - var_check with the key set of a type */
static int check_template(const char *value, const struct var_entry *vars, size_t n,
			  struct arena *a, const char **error_r)
{
	const char *err;
	size_t at = 0;

	if (var_check(value, vars, n, &err, &at) == 0)
		return 0;
	*error_r = template_error(a, value, err, at);
	return -1;
}

/* dconf_check_value - type check of one value */
int dconf_check_value(const struct dconf_info *info, const char *value, struct arena *a,
		      const char **error_r)
{
	struct mail_location ml;
	uint64_t u;
	bool b;

	switch (info->type) {
	case DCONF_STR:
	case DCONF_LIST:
	case DCONF_FILE:
		return 0;
	case DCONF_BOOL:
		if (dconf_parse_bool(value, &b) == 0)
			return 0;
		*error_r = "expected yes or no";
		return -1;
	case DCONF_UINT:
		if (parse_u64(value, strlen(value), &u) == 0 && u <= UINT32_MAX)
			return 0;
		*error_r = "expected an unsigned integer";
		return -1;
	case DCONF_TIME:
		if (dconf_parse_time(value, &u) == 0)
			return 0;
		*error_r = "expected a time: a number with an optional unit (secs, mins, hours, days, weeks)";
		return -1;
	case DCONF_SIZE:
		if (dconf_parse_size(value, &u) == 0)
			return 0;
		*error_r = "expected a size: a number with an optional unit (k, M, G, T)";
		return -1;
	case DCONF_ENUM:
		if (enum_ok(info->choices, value))
			return 0;
		*error_r = arena_printf(a, "expected one of: %s", info->choices);
		return -1;
	case DCONF_MAILLOC:
		if (mail_location_parse(value, a, &ml, error_r) < 0)
			return -1;
		return check_template(value, user_vars, sizeof(user_vars) / sizeof(user_vars[0]), a,
				      error_r);
	case DCONF_UTMPL:
		return check_template(value, user_vars, sizeof(user_vars) / sizeof(user_vars[0]), a,
				      error_r);
	case DCONF_UIDL:
		return check_template(value, uidl_vars, sizeof(uidl_vars) / sizeof(uidl_vars[0]), a,
				      error_r);
	}
	panic("dovecot_params: bad type %d", (int)info->type);
}

/* dconf_check_user_template - a userdb/passdb args string: user %variables only */
int dconf_check_user_template(const char *value, struct arena *a, const char **error_r)
{
	return check_template(value, user_vars, sizeof(user_vars) / sizeof(user_vars[0]), a, error_r);
}

/* mail_location_parse - driver, path and :KEY=VALUE options */
int mail_location_parse(const char *s, struct arena *a, struct mail_location *out,
			const char **error_r)
{
	static const char *const drivers[] = { "maildir", "mbox",  "sdbox", "mdbox", "dbox",
					       "imapc",	  "pop3c", "raw",   "shared", "fail",
					       "obox",	  NULL };
	static const char *const other_keys[] = { "ALT", "VOLATILEDIR", "DIRNAME", "FULLDIRNAME",
						  "ITERINDEX", "NO-NOSELECT", "UTF-8", "BROKENCHAR",
						  "MAILBOXDIR", "LITERAL-SUBSCRIPTIONS", "INDEXPVT",
						  "NOINDEXES", NULL };
	const char *colon = strchr(s, ':'), *p, *end, *eq;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->driver = "";
	out->path = "";
	if (*s == '\0')
		return 0;
	if (colon == NULL) {
		out->path = arena_strdup(a, s); /* a bare path: autodetected */
		return 0;
	}
	out->driver = arena_memdup(a, s, (size_t)(colon - s));
	for (i = 0; drivers[i] && strcmp(drivers[i], out->driver) != 0; i++)
		;
	if (drivers[i] == NULL) {
		*error_r = arena_printf(a, "unknown mail storage driver \"%s\" (expected maildir:, mbox:, sdbox:, mdbox:, ...)",
					log_sanitize(out->driver, 50));
		return -1;
	}
	p = colon + 1;
	end = strchr(p, ':');
	out->path = arena_memdup(a, p, end ? (size_t)(end - p) : strlen(p));
	while (end != NULL) {
		const char *val, **slot = NULL;
		size_t klen;

		p = end + 1;
		end = strchr(p, ':');
		klen = end ? (size_t)(end - p) : strlen(p);
		eq = memchr(p, '=', klen);
		val = eq ? arena_memdup(a, eq + 1, klen - (size_t)(eq + 1 - p)) : "";
		if (eq)
			klen = (size_t)(eq - p);
		if (klen == 5 && memcmp(p, "INBOX", 5) == 0)
			slot = &out->inbox;
		else if (klen == 5 && memcmp(p, "INDEX", 5) == 0)
			slot = &out->index;
		else if (klen == 7 && memcmp(p, "CONTROL", 7) == 0)
			slot = &out->control;
		else if (klen == 6 && memcmp(p, "LAYOUT", 6) == 0)
			slot = &out->layout;
		else if (klen == 13 && memcmp(p, "SUBSCRIPTIONS", 13) == 0)
			slot = &out->subscriptions;
		if (slot) {
			*slot = val;
			continue;
		}
		for (i = 0; other_keys[i]; i++)
			if (strlen(other_keys[i]) == klen && memcmp(other_keys[i], p, klen) == 0)
				break;
		if (other_keys[i] == NULL) {
			*error_r = arena_printf(a, "unknown mail_location option \"%s\" (expected INBOX=, INDEX=, CONTROL=, LAYOUT=, ...)",
						log_sanitize_n(p, klen, 50));
			return -1;
		}
	}
	if (out->layout && strcmp(out->layout, "fs") != 0 && strcmp(out->layout, "maildir++") != 0 &&
	    strcmp(out->layout, "index") != 0) {
		*error_r = arena_printf(a, "unknown mail_location LAYOUT \"%s\" (expected maildir++, fs or index)",
					log_sanitize(out->layout, 50));
		return -1;
	}
	return 0;
}
