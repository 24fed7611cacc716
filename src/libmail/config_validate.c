/*
 * config_validate.c - check a parsed main.cf: unknown parameters, undefined references, typed values
 *
 * Runs in:  every process that reads the configuration; pure, findings go to a diag_list
 * API:      config_validate(), config_parse() -- see config.h
 * Tests:    tests/unit/test_config.c, fuzz/fuzz_config.c
 */
#include "config.h"
#include "config-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define SUGGEST_MAX_NAME 64

/* edit_distance - Levenshtein distance of two short names (SIZE_MAX when too long) */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t prev[SUGGEST_MAX_NAME + 1], cur[SUGGEST_MAX_NAME + 1];

	if (la > SUGGEST_MAX_NAME || lb > SUGGEST_MAX_NAME)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/* suggest - the known parameter nearest to name, if it is a likely typo; else NULL */
static const char *suggest(const char *name)
{
	const char *best = NULL;
	size_t len = strlen(name), best_d = SIZE_MAX, i, d, limit = len / 4 + 1;

	if (limit > 3)
		limit = 3;
	for (i = 0; i < PARAM__COUNT; i++) {
		/* the distance is at least the difference in length: skip hopeless candidates */
		if (param_table[i].name_len > len + limit || len > param_table[i].name_len + limit)
			continue;
		d = edit_distance(name, param_table[i].name);
		if (d < best_d) {
			best_d = d;
			best = param_table[i].name;
		}
	}
	return best_d <= limit ? best : NULL;
}

struct undef_ctx {
	struct config *cfg;
	const struct config_setting *s;
	struct diag_list *diags;
};

/* warn_undefined - config_scan_refs callback: a $name that is neither known nor set */
static void warn_undefined(const char *name, size_t n, void *ctx)
{
	struct undef_ctx *u = ctx;

	if (param_find_n(name, n) != NULL || config_find_setting(u->cfg, name, n) != NULL)
		return;
	diag_add(u->diags, DIAG_WARN, u->s->file, u->s->line, "define the parameter, or fix the spelling",
		 "undefined parameter \"$%s\" in the value of %s (it expands to nothing)",
		 log_sanitize_n(name, n, 64), u->s->name);
}

/* cmp_place - sort settings by file, then line */
static int cmp_place(const void *a, const void *b)
{
	const struct config_setting *const *x = a, *const *y = b;
	int c = strcmp((*x)->file, (*y)->file);

	if (c != 0)
		return c;
	return ((*x)->line > (*y)->line) - ((*x)->line < (*y)->line);
}

/* check_value - expand one parameter and check its type; diag at file:line (line 0: default) */
static int check_value(struct config *cfg, const char *name, const char *file, int line,
		       struct diag_list *diags)
{
	const struct param_info *pi = param_find(name);
	const char *v, *err, *expect;

	if (config_lookup(cfg, name, &v, &err) < 0) {
		diag_add(diags, DIAG_ERROR, file, line, NULL, "%s%s: %s", line ? "" : "default value of ",
			 name, err);
		return -1;
	}
	if (pi && param_check_value(pi, v, &expect) < 0) {
		diag_add(diags, DIAG_ERROR, file, line, NULL, "%s", config_bad_value(cfg, pi, v, expect));
		return -1;
	}
	return 0;
}

/* config_validate - warnings for unknown/undefined names, errors for bad values */
int config_validate(struct config *cfg, struct diag_list *diags)
{
	const struct config_setting **own, **all;
	struct htab_iter it;
	const char *key, *hint;
	void *val;
	size_t n_own = 0, n_all, i;
	char fix[160];
	int rc = 0;

	/* own settings in file order: names first */
	own = xcalloc(htab_count(cfg->settings) + 1, sizeof(*own));
	for (htab_iter_init(cfg->settings, &it); htab_iter_next(&it, &key, &val);)
		own[n_own++] = val;
	if (n_own > 0)
		qsort(own, n_own, sizeof(*own), cmp_place);
	for (i = 0; i < n_own; i++) {
		const struct config_setting *s = own[i];
		struct undef_ctx u = { cfg, s, diags };

		if (param_find(s->name) == NULL && !config_is_referenced(cfg, s->name)) {
			hint = suggest(s->name);
			if (hint)
				snprintf(fix, sizeof(fix), "did you mean \"%s\"?", hint);
			else
				snprintf(fix, sizeof(fix), "remove it, or use it elsewhere as $%.60s", s->name);
			diag_add(diags, DIAG_WARN, s->file, s->line, fix, "unknown parameter \"%s\"",
				 log_sanitize(s->name, 100));
		}
		config_scan_refs(s->value, strlen(s->value), warn_undefined, &u, 0);
	}
	free(own);

	/* every effective explicit setting, own or inherited: expand and type-check */
	n_all = config_settings(cfg, &all);
	if (n_all > 0)
		qsort(all, n_all, sizeof(*all), cmp_place);
	for (i = 0; i < n_all; i++)
		if (check_value(cfg, all[i]->name, all[i]->file, all[i]->line, diags) < 0)
			rc = -1;
	free(all);

	/* defaults may reference explicit settings; check what they become */
	for (i = 0; i < PARAM__COUNT; i++)
		if (!config_is_set(cfg, param_table[i].name) &&
		    check_value(cfg, param_table[i].name, cfg->filename, 0, diags) < 0)
			rc = -1;
	return rc;
}

/* config_parse - new + feed + validate */
struct config *config_parse(const char *text, size_t len, const char *filename,
			    struct diag_list *diags)
{
	struct config *cfg = config_new(filename);

	(void)config_feed(cfg, text, len, diags);
	(void)config_validate(cfg, diags);
	return cfg;
}
