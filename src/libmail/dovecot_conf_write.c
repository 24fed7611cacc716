/*
 * dovecot_conf_write.c - print a dovecot.conf model in Dovecot 2.x syntax (doveconf -n / -d)
 *
 * Runs in:  postern doveconf; pure (appends to a caller's buf)
 * API:      dconf_write() -- see dovecot_conf.h
 * Output:   top-level settings and the passdb, service and userdb sections
 *           sorted by name (doveconf's order), then "protocol NAME { }" sections
 *           sorted by name; inside a section, settings sorted by name, two
 *           spaces of indent per level. A 1.x file comes out in 2.x form.
 * Tests:    tests/unit/test_dovecot_conf.c, tests/e2e/test_doveconf.py
 */
#include "dovecot_conf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

enum item_kind { I_SETTING, I_DB, I_SERVICE, I_DEFAULT_SERVICE, I_KV, I_LISTENER };

/* one line or section of the output, sorted by key then by order found */
struct item {
	const char *key;
	size_t order;
	enum item_kind kind;
	const void *obj;
	const char *value; /* I_SETTING, I_KV */
};

struct items {
	struct item *v;
	size_t n, cap;
};

/* add - append an item */
static void add(struct items *it, const char *key, enum item_kind kind, const void *obj, const char *value)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 32;
		it->v = xreallocarray(it->v, it->cap, sizeof(*it->v));
	}
	it->v[it->n] = (struct item){ key, it->n, kind, obj, value };
	it->n++;
}

/* cmp_item - by key, then order */
static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* indent - two spaces per level */
static int indent(struct buf *out, int level)
{
	int rc = 0;

	while (level-- > 0 && rc == 0)
		rc = buf_puts(out, "  ");
	return rc;
}

/* pair - "name = value" (doveconf prints "name = " for an empty value) */
static int pair(struct buf *out, int level, const char *name, const char *value)
{
	if (indent(out, level) < 0)
		return -1;
	return buf_printf(out, "%s = %s\n", name, value);
}

/* write_listener - inet_listener NAME { ... } */
static int write_listener(struct buf *out, int level, const struct dconf_listener *l)
{
	int rc = indent(out, level);

	rc |= buf_printf(out, "inet_listener %s {\n", l->name);
	if (l->address)
		rc |= pair(out, level + 1, "address", l->address);
	if (l->port >= 0) {
		rc |= indent(out, level + 1);
		rc |= buf_printf(out, "port = %d\n", l->port);
	}
	if (l->ssl >= 0)
		rc |= pair(out, level + 1, "ssl", l->ssl ? "yes" : "no");
	rc |= indent(out, level);
	rc |= buf_puts(out, "}\n");
	return rc ? -1 : 0;
}

/* write_items - sorted items of a section body */
static int write_items(struct buf *out, int level, struct items *it)
{
	size_t i;
	int rc = 0;

	if (it->n > 1)
		qsort(it->v, it->n, sizeof(*it->v), cmp_item);
	for (i = 0; i < it->n && rc == 0; i++) {
		const struct item *x = &it->v[i];

		if (x->kind == I_LISTENER)
			rc = write_listener(out, level, x->obj);
		else
			rc = pair(out, level, x->key, x->value);
	}
	return rc;
}

/* write_db - passdb { } / userdb { } */
static int write_db(struct buf *out, const char *type, const struct dconf_db *db)
{
	struct items it = { NULL, 0, 0 };
	const struct dconf_kv *kv;
	int rc = buf_printf(out, "%s {\n", type);

	if (db->driver)
		add(&it, "driver", I_KV, NULL, db->driver);
	if (db->args)
		add(&it, "args", I_KV, NULL, db->args);
	if (db->default_fields)
		add(&it, "default_fields", I_KV, NULL, db->default_fields);
	if (db->override_fields)
		add(&it, "override_fields", I_KV, NULL, db->override_fields);
	for (kv = db->extra; kv; kv = kv->next)
		add(&it, kv->name, I_KV, NULL, kv->value);
	rc |= write_items(out, 1, &it);
	rc |= buf_puts(out, "}\n");
	free(it.v);
	return rc ? -1 : 0;
}

/* write_service - service NAME { settings, inet_listeners } */
static int write_service(struct buf *out, const struct dconf_service *s)
{
	struct items it = { NULL, 0, 0 };
	const struct dconf_listener *l;
	const struct dconf_kv *kv;
	int rc = buf_printf(out, "service %s {\n", s->name);

	for (kv = s->settings; kv; kv = kv->next)
		add(&it, kv->name, I_KV, NULL, kv->value);
	for (l = s->listeners; l; l = l->next)
		add(&it, "inet_listener", I_LISTENER, l, NULL);
	rc |= write_items(out, 1, &it);
	rc |= buf_puts(out, "}\n");
	free(it.v);
	return rc ? -1 : 0;
}

/* write_default_service - a service with its default listeners (doveconf -d) */
static int write_default_service(struct buf *out, const char *service)
{
	int rc = buf_printf(out, "service %s {\n", service);
	size_t i;

	for (i = 0; i < dconf_default_listener_count; i++) {
		const struct dconf_listener_default *d = &dconf_default_listeners[i];
		struct dconf_listener l = { d->name, NULL, (int)d->port, d->ssl ? 1 : 0, NULL, 0, NULL };

		if (strcmp(d->service, service) == 0)
			rc |= write_listener(out, 1, &l);
	}
	rc |= buf_puts(out, "}\n");
	return rc ? -1 : 0;
}

/* write_protocol - protocol NAME { overrides } (nothing when it has none) */
static int write_protocol(struct buf *out, const struct dconf_protocol *p)
{
	struct items it = { NULL, 0, 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < DCONF__COUNT; i++)
		if (p->v[i].value)
			add(&it, dconf_table[i].name, I_KV, NULL, p->v[i].value);
	if (it.n > 0) {
		rc |= buf_printf(out, "protocol %s {\n", p->name);
		rc |= write_items(out, 1, &it);
		rc |= buf_puts(out, "}\n");
	}
	free(it.v);
	return rc ? -1 : 0;
}

/* cmp_proto - protocols by name */
static int cmp_proto(const void *a, const void *b)
{
	const struct dconf_protocol *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* dconf_write - the model (or the defaults) as 2.x text */
int dconf_write(const struct dconf *cf, bool defaults, struct buf *out)
{
	struct items it = { NULL, 0, 0 };
	const struct dconf_protocol *p, **pv = NULL;
	const struct dconf_service *s;
	const struct dconf_db *db;
	size_t i, np = 0;
	int rc = 0;

	for (i = 0; i < DCONF__COUNT; i++) {
		if (defaults)
			add(&it, dconf_table[i].name, I_SETTING, NULL, dconf_table[i].def);
		else if (cf->v[i].value)
			add(&it, dconf_table[i].name, I_SETTING, NULL, cf->v[i].value);
	}
	if (defaults) {
		for (i = 0; i < dconf_default_listener_count; i++)
			if (i == 0 || strcmp(dconf_default_listeners[i].service,
					     dconf_default_listeners[i - 1].service) != 0)
				add(&it, "service", I_DEFAULT_SERVICE, dconf_default_listeners[i].service, NULL);
	} else {
		for (db = cf->passdbs; db; db = db->next)
			add(&it, "passdb", I_DB, db, NULL);
		for (db = cf->userdbs; db; db = db->next)
			add(&it, "userdb", I_DB, db, NULL);
		for (s = cf->services; s; s = s->next)
			add(&it, "service", I_SERVICE, s, NULL);
	}
	if (it.n > 1)
		qsort(it.v, it.n, sizeof(*it.v), cmp_item);
	for (i = 0; i < it.n && rc == 0; i++) {
		const struct item *x = &it.v[i];

		switch (x->kind) {
		case I_SETTING:
		case I_KV:
			rc = pair(out, 0, x->key, x->value);
			break;
		case I_DB:
			rc = write_db(out, x->key, x->obj);
			break;
		case I_SERVICE:
			rc = write_service(out, x->obj);
			break;
		case I_DEFAULT_SERVICE:
			rc = write_default_service(out, x->obj);
			break;
		case I_LISTENER:
			rc = write_listener(out, 0, x->obj);
			break;
		}
	}
	free(it.v);
	if (defaults || rc < 0)
		return rc;
	for (p = cf->protocols; p; p = p->next)
		np++;
	pv = xcalloc(np + 1, sizeof(*pv));
	for (np = 0, p = cf->protocols; p; p = p->next)
		pv[np++] = p;
	if (np > 1)
		qsort(pv, np, sizeof(*pv), cmp_proto);
	for (i = 0; i < np && rc == 0; i++)
		rc = write_protocol(out, pv[i]);
	free(pv);
	return rc;
}
