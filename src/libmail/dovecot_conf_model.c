/*
 * dovecot_conf_model.c - the dovecot.conf model: make, free, read, and the 1.x protocols translation
 *
 * Runs in:  every process that reads dovecot.conf; pure (no I/O, no globals)
 * API:      dconf_new(), dconf_free(), dconf_finish(), dconf_get(), dconf_get_proto(),
 *           dconf_is_set(), dconf_service_find(), dconf_listener_find() -- see dovecot_conf.h;
 *           dconf_service_make(), dconf_listener_make() -- see dovecot_conf-private.h
 * Tests:    tests/unit/test_dovecot_conf.c
 * Refs:     Dovecot 1.x wiki (protocols = imaps pop3s), Dovecot 2.3 service defaults
 */
#include "dovecot_conf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf-private.h"

/* dconf_new - empty model */
struct dconf *dconf_new(void)
{
	struct dconf *cf = xcalloc(1, sizeof(*cf));

	cf->arena = arena_new(0);
	return cf;
}

/* dconf_free - everything lives in the arena */
void dconf_free(struct dconf **cfp)
{
	if (*cfp == NULL)
		return;
	arena_free(&(*cfp)->arena);
	xfree(cfp);
}

/* dconf_service_make - the service for name, made when missing */
struct dconf_service *dconf_service_make(struct dconf *cf, const char *name, const char *file, int line)
{
	struct dconf_service **pp = &cf->services;

	for (; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return *pp;
	*pp = arena_zalloc(cf->arena, sizeof(**pp));
	(*pp)->name = arena_strdup(cf->arena, name);
	(*pp)->file = file;
	(*pp)->line = line;
	return *pp;
}

/* dconf_listener_make - a listener of svc by name, made (port and ssl unset) when missing */
struct dconf_listener *dconf_listener_make(struct dconf *cf, struct dconf_service *svc, const char *name,
					    const char *file, int line)
{
	struct dconf_listener **pp = &svc->listeners;

	for (; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return *pp;
	*pp = arena_zalloc(cf->arena, sizeof(**pp));
	(*pp)->name = arena_strdup(cf->arena, name);
	(*pp)->port = -1;
	(*pp)->ssl = -1;
	(*pp)->file = file;
	(*pp)->line = line;
	return *pp;
}

/* word_in - is w one of the white-space/comma separated words of list? */
static bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);

	while (*list) {
		size_t k;

		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		k = strcspn(list, " \t,");
		if (k == n && strncmp(list, w, n) == 0)
			return true;
		list += k;
	}
	return false;
}

/* dconf_finish - cross-setting checks; 1.x protocols (imaps, pop3s) become protocols plus listeners */
int dconf_finish(struct dconf *cf, struct diag_list *dl)
{
	struct dconf_value *pv = &cf->v[DCONF_protocols];
	struct buf b = BUF_INIT(0);
	const char *list = pv->value;
	size_t i;
	const struct dconf_value *dp = &cf->v[DCONF_disable_plaintext_auth], *ac = &cf->v[DCONF_auth_allow_cleartext];
	bool b1, b2;
	int rc = diag_has_errors(dl) ? -1 : 0;

	/* the 2.3 and 2.4 names of one switch must agree */
	if (dp->value && ac->value && dconf_parse_bool(dp->value, &b1) == 0 &&
	    dconf_parse_bool(ac->value, &b2) == 0 && b1 == b2)
		diag_add(dl, DIAG_WARN, ac->file, ac->line, "keep only auth_allow_cleartext (Dovecot 2.4's name)",
			 "auth_allow_cleartext = %s contradicts disable_plaintext_auth = %s (%s, line %d)",
			 ac->value, dp->value, dp->file, dp->line);
	if (list == NULL)
		return rc;
	if (word_in(list, "imaps") || word_in(list, "pop3s"))
		cf->v1_protocols = true;
	if (!cf->v1_protocols)
		return rc;
	/* 1.x: each name listed is one listener; the protocol list loses the "s" forms */
	for (i = 0; i < dconf_default_listener_count; i++) {
		const struct dconf_listener_default *d = &dconf_default_listeners[i];
		struct dconf_service *svc = dconf_service_make(cf, d->service, pv->file, pv->line);
		struct dconf_listener *l = dconf_listener_make(cf, svc, d->name, pv->file, pv->line);

		if (l->port < 0)
			l->port = word_in(list, d->name) ? (int)d->port : 0;
		if (l->ssl < 0 && d->ssl)
			l->ssl = 1;
	}
	{
		const char *p = list;

		while (*p) {
			size_t k;
			char *w;

			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			if ((k = strcspn(p, " \t,")) == 0)
				break;
			w = arena_memdup(cf->arena, p, k);
			if (strcmp(w, "imaps") == 0 || strcmp(w, "pop3s") == 0)
				w[k - 1] = '\0';
			if (!word_in(buf_cstr(&b), w))
				(void)buf_printf(&b, "%s%s", b.len ? " " : "", w);
			p += k;
		}
	}
	pv->value = arena_strdup(cf->arena, buf_cstr(&b));
	buf_free(&b);
	return rc;
}

/* dconf_get - set value or default */
const char *dconf_get(const struct dconf *cf, enum dconf_id id)
{
	ASSERT((unsigned)id < DCONF__COUNT);
	return cf->v[id].value ? cf->v[id].value : dconf_table[id].def;
}

/* dconf_get_proto - protocol override, else global */
const char *dconf_get_proto(const struct dconf *cf, const char *protocol, enum dconf_id id)
{
	const struct dconf_protocol *p;

	ASSERT((unsigned)id < DCONF__COUNT);
	for (p = cf->protocols; p; p = p->next)
		if (strcmp(p->name, protocol) == 0 && p->v[id].value)
			return p->v[id].value;
	return dconf_get(cf, id);
}

/* dconf_is_set - explicitly set at top level? */
bool dconf_is_set(const struct dconf *cf, enum dconf_id id)
{
	return cf->v[id].value != NULL;
}

/* dconf_service_find - by name */
const struct dconf_service *dconf_service_find(const struct dconf *cf, const char *name)
{
	const struct dconf_service *s;

	for (s = cf->services; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* dconf_listener_find - by service and name */
const struct dconf_listener *dconf_listener_find(const struct dconf *cf, const char *service,
						 const char *name)
{
	const struct dconf_service *s = dconf_service_find(cf, service);
	const struct dconf_listener *l;

	for (l = s ? s->listeners : NULL; l; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	return NULL;
}
