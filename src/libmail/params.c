/*
 * params.c - the parameter descriptor table and the typed value parsers
 *
 * API:      see params.h; the parameters themselves are in params.def
 * Tests:    tests/unit/test_config.c
 */
#include "params.h"

#include <string.h>

#include "lib/log.h"
#include "lib/strutil.h"

const struct param_info param_table[PARAM__COUNT] = {
#define P(type, name, def, doc) [PARAM_##name] = { #name, sizeof(#name) - 1, PARAM_##type, def, NULL, doc },
#define E(name, def, choices, doc) \
	[PARAM_##name] = { #name, sizeof(#name) - 1, PARAM_ENUM, def, choices, doc },
#include "params.def"
#undef P
#undef E
};

/* param_find_n - linear scan comparing lengths first: the table is small, no index to build */
const struct param_info *param_find_n(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < PARAM__COUNT; i++)
		if (param_table[i].name_len == n && memcmp(param_table[i].name, name, n) == 0)
			return &param_table[i];
	return NULL;
}

/* param_find - descriptor by NUL-terminated name */
const struct param_info *param_find(const char *name)
{
	return param_find_n(name, strlen(name));
}

/* param_id_of - table index of a descriptor */
enum param_id param_id_of(const struct param_info *p)
{
	ASSERT(p >= param_table && p < param_table + PARAM__COUNT);
	return (enum param_id)(p - param_table);
}

/* param_default_is_computed - the two run-time defaults (see config.c) */
bool param_default_is_computed(const struct param_info *p)
{
	enum param_id id = param_id_of(p);

	return id == PARAM_myhostname || id == PARAM_mydomain;
}

/* param_type_name - human word for a type */
const char *param_type_name(enum param_type t)
{
	switch (t) {
	case PARAM_STR:
		return "string";
	case PARAM_INT:
		return "integer";
	case PARAM_BOOL:
		return "boolean";
	case PARAM_TIME:
		return "time";
	case PARAM_LIST:
		return "list";
	case PARAM_ENUM:
		return "enum";
	}
	panic("params: bad type %d", (int)t);
}

/* param_time_unit - unit letter of the default text, else 's' */
char param_time_unit(const struct param_info *p)
{
	size_t n = strlen(p->def);

	if (n > 0 && ascii_isalpha(p->def[n - 1]))
		return ascii_tolower(p->def[n - 1]);
	return 's';
}

/* param_parse_int - digits only */
int param_parse_int(const char *s, int64_t *out)
{
	uint64_t v;

	if (parse_u64(s, strlen(s), &v) < 0 || v > (uint64_t)INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* param_parse_bool - yes/no */
int param_parse_bool(const char *s, bool *out)
{
	if (str_casecmp_ascii(s, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (str_casecmp_ascii(s, "no") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

/* unit_seconds - seconds per unit letter, 0 for an unknown letter */
static int64_t unit_seconds(char u)
{
	switch (ascii_tolower(u)) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	default:
		return 0;
	}
}

/* param_parse_time - number and optional unit */
int param_parse_time(const char *s, char def_unit, int64_t *seconds_r)
{
	size_t n = strlen(s), digits = 0;
	uint64_t v;
	int64_t mul;

	while (digits < n && ascii_isdigit(s[digits]))
		digits++;
	if (digits == 0 || n - digits > 1)
		return -1;
	mul = unit_seconds(digits < n ? s[digits] : def_unit);
	if (mul == 0 || parse_u64(s, digits, &v) < 0 || v > (uint64_t)(INT64_MAX / mul))
		return -1;
	*seconds_r = (int64_t)v * mul;
	return 0;
}

/* param_enum_ok - membership in a space-separated choice list */
bool param_enum_ok(const char *choices, const char *s)
{
	struct slice rest = slice_cstr(choices), tok;

	while (slice_next_token(&rest, " ", &tok))
		if (slice_eq_ci(tok, slice_cstr(s)))
			return true;
	return false;
}

/* param_check_value - type check of an expanded value */
int param_check_value(const struct param_info *p, const char *value, const char **expect_r)
{
	int64_t i;
	bool b;

	switch (p->type) {
	case PARAM_STR:
	case PARAM_LIST:
		return 0;
	case PARAM_INT:
		if (param_parse_int(value, &i) == 0)
			return 0;
		*expect_r = "a non-negative integer";
		return -1;
	case PARAM_BOOL:
		if (param_parse_bool(value, &b) == 0)
			return 0;
		*expect_r = "yes or no";
		return -1;
	case PARAM_TIME:
		if (param_parse_time(value, param_time_unit(p), &i) == 0)
			return 0;
		*expect_r = "a time: a number with an optional unit s, m, h, d or w, e.g. 300s or 5d";
		return -1;
	case PARAM_ENUM:
		if ((*value == '\0' && *p->def == '\0') || param_enum_ok(p->choices, value))
			return 0;
		*expect_r = p->choices;
		return -1;
	}
	panic("params: bad type %d", (int)p->type);
}

/* is_list_sep - comma or ASCII white space */
static bool is_list_sep(char c)
{
	return c == ',' || ascii_isspace(c);
}

/* param_list_next - next comma/space separated item, {...} groups kept whole */
bool param_list_next(struct slice *rest, struct slice *item)
{
	const char *p = rest->p, *end = rest->p + rest->n, *start;
	size_t depth = 0;

	while (p < end && is_list_sep(*p))
		p++;
	if (p == end) {
		rest->p = end;
		rest->n = 0;
		return false;
	}
	start = p;
	for (; p < end; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		else if (depth == 0 && is_list_sep(*p))
			break;
	}
	*item = slice_make(start, (size_t)(p - start));
	rest->p = p;
	rest->n = (size_t)(end - p);
	return true;
}
