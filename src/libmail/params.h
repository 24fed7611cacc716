/*
 * params.h - the main.cf parameter table (generated from params.def) and typed value parsers
 *
 * params.def declares each parameter once; this header turns it into an enum
 * (PARAM_myhostname, ...) and a descriptor table, and offers the pure,
 * allocation-free parsers for each value type. Expansion of $name and the
 * main.cf file format live in config.h.
 *
 * Tests:    tests/unit/test_config.c
 */
#ifndef POSTERN_PARAMS_H
#define POSTERN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/slice.h"

enum param_type { PARAM_STR, PARAM_INT, PARAM_BOOL, PARAM_TIME, PARAM_LIST, PARAM_ENUM };

enum param_id {
#define P(type, name, def, doc) PARAM_##name,
#define E(name, def, choices, doc) PARAM_##name,
#include "params.def"
#undef P
#undef E
	PARAM__COUNT
};

struct param_info {
	const char *name;
	size_t name_len;      /* strlen(name), for a quick first test in lookups */
	enum param_type type;
	const char *def;      /* default text, as main.cf would spell it ("" for computed defaults) */
	const char *choices;  /* ENUM: space-separated allowed values; else NULL */
	const char *doc;      /* one line */
};

/* the table, indexed by enum param_id, in params.def order */
extern const struct param_info param_table[PARAM__COUNT];

/* param_find - descriptor of a known parameter, or NULL */
const struct param_info *param_find(const char *name);
/* param_find_n - the same for a name of n bytes (not NUL-terminated) */
const struct param_info *param_find_n(const char *name, size_t n);
/* param_id_of - index of a descriptor in param_table */
enum param_id param_id_of(const struct param_info *p);
/* param_default_is_computed - true for myhostname and mydomain, whose default is made at run time */
bool param_default_is_computed(const struct param_info *p);
/* param_type_name - "string", "integer", "boolean", "time", "list" or "enum" */
const char *param_type_name(enum param_type t);
/* param_time_unit - default unit of a TIME parameter: the unit letter of its default ('s' if none) */
char param_time_unit(const struct param_info *p);

/*
 * param_check_value - does an expanded value suit p's type?
 * Returns 0, or -1 with *expect_r set to a static phrase for the message
 * "bad value for NAME: "VALUE" (expected PHRASE)", e.g. "a non-negative
 * integer"; for an ENUM the phrase is its choices ("one of: " goes before).
 * STR and LIST accept anything.
 */
int param_check_value(const struct param_info *p, const char *value, const char **expect_r);

/* param_parse_int - non-negative decimal integer, no sign or unit; 0 or -1 */
int param_parse_int(const char *s, int64_t *out);
/* param_parse_bool - yes or no, any case; 0 or -1 */
int param_parse_bool(const char *s, bool *out);
/*
 * param_parse_time - digits with an optional unit s, m, h, d or w (any case);
 * a bare number uses def_unit. The result is in seconds. 0, or -1 for
 * syntax errors, unknown units and overflow.
 */
int param_parse_time(const char *s, char def_unit, int64_t *seconds_r);
/* param_enum_ok - is s one of the space-separated choices (ASCII case-insensitive)? */
bool param_enum_ok(const char *choices, const char *s);

/*
 * param_list_next - split off the next item of a LIST value, like Postfix:
 * items are separated by commas and/or white space; a {...} group (balanced,
 * possibly nested) stays within one item, e.g. "inline:{ a=b, c=d }".
 * *rest advances past the item. Returns false when only separators remain.
 */
bool param_list_next(struct slice *rest, struct slice *item);

#endif
