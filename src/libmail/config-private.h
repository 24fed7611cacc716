/*
 * config-private.h - struct config and helpers shared by config.c and config_validate.c only
 *
 * Not an API: other modules use config.h.
 */
#ifndef POSTERN_CONFIG_PRIVATE_H
#define POSTERN_CONFIG_PRIVATE_H

#include "lib/arena.h"
#include "lib/htab.h"
#include "libmail/config.h"

struct config {
	struct config *base;    /* derived configs read through to this */
	struct arena *arena;    /* settings, cached values, error texts */
	struct htab *settings;  /* name -> struct config_setting (own settings only) */
	struct htab *cache;     /* name -> struct cached */
	struct htab *lists;     /* name -> struct cached_list */
	struct htab *refs;      /* names referenced as $name somewhere (value unused) */
	const char *filename;
	const char *hostname;   /* system host name for the default myhostname */
	size_t max_value;
};

/* config_find_setting - the effective explicit setting of name[0..n) (own, else a base's), or NULL */
const struct config_setting *config_find_setting(const struct config *cfg, const char *name, size_t n);
/* config_is_referenced - was name seen as $name in cfg or a base? */
bool config_is_referenced(const struct config *cfg, const char *name);

typedef void config_ref_fn(const char *name, size_t n, void *ctx);
/* config_scan_refs - call fn for every $name in p[0..n), both branches of conditionals; no errors */
void config_scan_refs(const char *p, size_t n, config_ref_fn *fn, void *ctx, unsigned depth);

/* config_bad_value - the message for a value that does not suit pi's type (param_check_value) */
const char *config_bad_value(struct config *cfg, const struct param_info *pi, const char *value,
			     const char *expect);

#endif
