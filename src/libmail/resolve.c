/*
 * resolve.c - address classes (Postfix trivial-rewrite) and RCPT-time recipient validation
 *
 * Runs in:  smtpd, queue (see resolve.h)
 * API:      route_open(), route_classify(), route_validate()
 * Tests:    tests/unit/test_resolve.c
 * Refs:     Postfix ADDRESS_CLASS_README, smtpd/smtpd_check.c check_rcpt_maps(),
 *           global/resolve_local.c, global/mail_addr_find.c
 */
#include "libmail/resolve.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/addr_lookup.h"
#include "libmail/cidr.h"
#include "libmail/dict.h"
#include "libmail/aliases.h"
#include "libmail/valias.h"

/* recipient tables: each opened once; one that could not be opened fails every lookup */
struct rcpt_maps {
	size_t n;
	struct dict **d;     /* NULL for passwd entries and failed opens */
	char **open_err;     /* why d[i] could not be opened, or NULL */
	bool *passwd;        /* unix:passwd.byname */
};

struct route {
	struct route_hooks hooks;
	struct domainlist *mydestination, *valias_domains, *vmailbox_domains, *relay_domains;
	struct ip_addr *my_ips;   /* inet_interfaces and proxy_interfaces literals */
	size_t n_my_ips;
	bool loopback_local;      /* inet_interfaces is all or loopback-only */
	char *myorigin, *myhostname, *delims, *double_bounce;
	struct rcpt_maps local_maps, vmailbox_maps, relay_maps;
	struct valias *va;
	char *valias_err;         /* virtual_alias_maps could not be opened */
	int code_local, code_valias, code_vmailbox, code_relay;
	bool show_table;
	char err[1024];
};

static char open_err[1024];

/* keep - copy src into dst[size], truncated, always NUL-terminated */
static void keep(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *const class_names[] = { "local", "virtual alias", "virtual mailbox", "relay", "default" };

/* addr_class_name - the name of an address class */
const char *addr_class_name(enum addr_class c)
{
	return (unsigned)c < sizeof(class_names) / sizeof(class_names[0]) ? class_names[c] : "?";
}

/* addr_class_final - is the class one of our own destinations? */
bool addr_class_final(enum addr_class c)
{
	return c == ADDR_CLASS_LOCAL || c == ADDR_CLASS_VIRTUAL_ALIAS || c == ADDR_CLASS_VIRTUAL_MAILBOX;
}

/* route_getpwnam - the default user_exists hook */
int route_getpwnam(void *ctx, const char *user)
{
	(void)ctx;
	return getpwnam(user) != NULL ? 1 : 0;
}

/* maps_open - open every table of a list parameter (passwd entries recognised) */
static void maps_open(struct config *cfg, const char *param, struct rcpt_maps *m)
{
	const char *const *items, *err;
	size_t i, n;

	memset(m, 0, sizeof(*m));
	if (config_get_list(cfg, param, &items, &n, &err) < 0 || n == 0)
		return;
	m->n = n;
	m->d = xcalloc(n, sizeof(*m->d));
	m->open_err = xcalloc(n, sizeof(*m->open_err));
	m->passwd = xcalloc(n, sizeof(*m->passwd));
	for (i = 0; i < n; i++) {
		const char *spec = items[i];

		if (strncmp(spec, "proxy:", 6) == 0)
			spec += 6;
		if (strcmp(spec, "unix:passwd.byname") == 0) {
			m->passwd[i] = true;
			continue;
		}
		m->d[i] = dict_open(spec, DICT_FLAGS_DEFAULT, &err);
		/* the untouched default hash:/etc/aliases on a system without aliases: empty (aliases.h) */
		if (m->d[i] == NULL && !alias_default_absent(cfg, spec))
			m->open_err[i] = xasprintf("%s: %s", param, err);
	}
}

/* maps_free - close the tables */
static void maps_free(struct rcpt_maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		dict_close(&m->d[i]);
		free(m->open_err[i]);
	}
	free(m->d);
	free(m->open_err);
	free(m->passwd);
	memset(m, 0, sizeof(*m));
}

/* add_my_ips - the address literals of an interfaces parameter */
static void add_my_ips(struct route *r, struct config *cfg, const char *param)
{
	const char *const *items, *err;
	struct ip_addr ip;
	size_t i, n;

	if (config_get_list(cfg, param, &items, &n, &err) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(items[i], "all") == 0 || strcmp(items[i], "loopback-only") == 0) {
			r->loopback_local = true;
			continue;
		}
		if (ip_addr_parse(items[i], strlen(items[i]), &ip, &err) < 0)
			continue; /* a host name: Postfix resolves it; we leave it to the local_ip hook */
		r->my_ips = xreallocarray(r->my_ips, r->n_my_ips + 1, sizeof(*r->my_ips));
		r->my_ips[r->n_my_ips++] = ip;
	}
}

/* get_code - an INT parameter, or the default when unreadable */
static int get_code(struct config *cfg, const char *name, int def)
{
	int64_t v;
	const char *err;

	return config_get_int(cfg, name, &v, &err) == 0 && v >= 200 && v <= 599 ? (int)v : def;
}

/* dup_param - a string parameter's value, "" when unset */
static char *dup_param(struct config *cfg, const char *name)
{
	const char *v = config_get(cfg, name);

	return xstrdup(v ? v : "");
}

/* route_open - compile domain lists and open recipient tables */
struct route *route_open(struct config *cfg, const struct route_hooks *hooks, const char **error_r)
{
	struct route *r = xcalloc(1, sizeof(*r));
	struct domainlist **lists[] = { &r->mydestination, &r->valias_domains, &r->vmailbox_domains,
					&r->relay_domains };
	static const char *const list_params[] = { "mydestination", "virtual_alias_domains",
						   "virtual_mailbox_domains", "relay_domains" };
	const char *err;
	bool show = true;
	size_t i;

	if (hooks)
		r->hooks = *hooks;
	if (r->hooks.user_exists == NULL)
		r->hooks.user_exists = route_getpwnam;
	for (i = 0; i < 4; i++) {
		*lists[i] = domainlist_from_config(cfg, list_params[i], r->hooks.read, &err);
		if (*lists[i] == NULL) {
			keep(open_err, sizeof(open_err), err);
			route_free(&r);
			*error_r = open_err;
			return NULL;
		}
	}
	add_my_ips(r, cfg, "inet_interfaces");
	add_my_ips(r, cfg, "proxy_interfaces");
	r->myorigin = dup_param(cfg, "myorigin");
	r->myhostname = dup_param(cfg, "myhostname");
	r->delims = dup_param(cfg, "recipient_delimiter");
	r->double_bounce = dup_param(cfg, "double_bounce_sender");
	maps_open(cfg, "local_recipient_maps", &r->local_maps);
	maps_open(cfg, "virtual_mailbox_maps", &r->vmailbox_maps);
	maps_open(cfg, "relay_recipient_maps", &r->relay_maps);
	r->va = valias_open(cfg, &err);
	if (r->va == NULL)
		r->valias_err = xstrdup(err);
	r->code_local = get_code(cfg, "unknown_local_recipient_reject_code", 550);
	r->code_valias = get_code(cfg, "unknown_virtual_alias_reject_code", 550);
	r->code_vmailbox = get_code(cfg, "unknown_virtual_mailbox_reject_code", 550);
	r->code_relay = get_code(cfg, "unknown_relay_recipient_reject_code", 550);
	(void)config_get_bool(cfg, "show_user_unknown_table_name", &show, &err);
	r->show_table = show;
	return r;
}

/* route_free - release the route */
void route_free(struct route **rp)
{
	struct route *r = *rp;

	if (r == NULL)
		return;
	domainlist_free(&r->mydestination);
	domainlist_free(&r->valias_domains);
	domainlist_free(&r->vmailbox_domains);
	domainlist_free(&r->relay_domains);
	free(r->my_ips);
	free(r->myorigin);
	free(r->myhostname);
	free(r->delims);
	free(r->double_bounce);
	maps_free(&r->local_maps);
	maps_free(&r->vmailbox_maps);
	maps_free(&r->relay_maps);
	valias_free(&r->va);
	free(r->valias_err);
	xfree(rp);
}

/* is_loopback - 127.0.0.0/8 or ::1 */
static bool is_loopback(const struct ip_addr *ip)
{
	size_t i;

	if (ip->family == IP_V4)
		return ip->a[0] == 127;
	for (i = 0; i < 15; i++)
		if (ip->a[i] != 0)
			return false;
	return ip->a[15] == 1;
}

/* literal_is_local - "[1.2.3.4]" / "[IPv6:::1]" naming one of our addresses? */
static bool literal_is_local(struct route *r, const char *domain)
{
	size_t n = strlen(domain), i;
	const char *p = domain + 1, *err;
	struct ip_addr ip;
	char text[64];

	if (n < 3 || domain[0] != '[' || domain[n - 1] != ']')
		return false;
	n -= 2;
	if (n > 5 && strncmp(p, "ipv6:", 5) == 0) {
		p += 5;
		n -= 5;
	}
	if (n >= sizeof(text) || ip_addr_parse(p, n, &ip, &err) < 0)
		return false;
	memcpy(text, p, n);
	text[n] = '\0';
	for (i = 0; i < r->n_my_ips; i++)
		if (r->my_ips[i].family == ip.family && memcmp(r->my_ips[i].a, ip.a, sizeof(ip.a)) == 0)
			return true;
	if (r->loopback_local && is_loopback(&ip))
		return true;
	return r->hooks.local_ip != NULL && r->hooks.local_ip(r->hooks.ctx, text);
}

/* in_list - domainlist_match() with the error kept in r->err */
static int in_list(struct route *r, struct domainlist *l, const char *domain, const char **error_r)
{
	const char *err;
	int rc = domainlist_match(l, domain, &err);

	if (rc < 0) {
		keep(r->err, sizeof(r->err), err);
		*error_r = r->err;
	}
	return rc;
}

/* route_classify - the address class of an address */
int route_classify(struct route *r, const char *addr, struct route_addr *out, const char **error_r)
{
	const char *at = strrchr(addr, '@');
	size_t ln = at ? (size_t)(at - addr) : strlen(addr), dn;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->local = xstrndup(addr, ln);
	if (at != NULL && at[1] != '\0')
		out->domain = xstrdup(at + 1);
	else
		out->domain = xstrdup(r->myorigin); /* Postfix append_at_myorigin */
	str_lower_ascii(out->domain, strlen(out->domain));
	dn = strlen(out->domain);
	if (dn > 1 && out->domain[dn - 1] == '.' && out->domain[dn - 2] != '.')
		out->domain[dn - 1] = '\0';
	out->address = xasprintf("%s@%s", out->local, out->domain);
	out->routed = strpbrk(out->local, "%!@") != NULL;

	if (literal_is_local(r, out->domain) || (rc = in_list(r, r->mydestination, out->domain, error_r)) > 0)
		out->cls = ADDR_CLASS_LOCAL;
	else if (rc < 0)
		return -1;
	else if ((rc = in_list(r, r->valias_domains, out->domain, error_r)) != 0)
		out->cls = ADDR_CLASS_VIRTUAL_ALIAS;
	else if ((rc = in_list(r, r->vmailbox_domains, out->domain, error_r)) != 0)
		out->cls = ADDR_CLASS_VIRTUAL_MAILBOX;
	else if ((rc = in_list(r, r->relay_domains, out->domain, error_r)) != 0)
		out->cls = ADDR_CLASS_RELAY;
	else
		out->cls = ADDR_CLASS_DEFAULT;
	return rc < 0 ? -1 : 0;
}

/* route_addr_free - release a classified address */
void route_addr_free(struct route_addr *a)
{
	xfree(&a->address);
	xfree(&a->local);
	xfree(&a->domain);
}

/* maps_find - look an address up: 1 found, 0 not, -1 temporary failure (r->err) */
static int maps_find(struct route *r, struct rcpt_maps *m, const struct route_addr *a, bool local_keys)
{
	struct addr_keys full, bare;
	const char *keys[ADDR_KEYS_MAX * 2], *value, *err;
	size_t nk = 0, i, k;
	int rc = 0;

	addr_lookup_keys(a->address, r->delims, &full);
	addr_lookup_keys(a->local, r->delims, &bare);
	/* user+ext@domain, user@domain, [user+ext, user,] @domain */
	for (i = 0; i < full.n; i++)
		if (full.kind[i] != ADDR_MATCH_CATCHALL)
			keys[nk++] = full.key[i];
	if (local_keys)
		for (i = 0; i < bare.n; i++)
			keys[nk++] = bare.key[i];
	for (i = 0; i < full.n; i++)
		if (full.kind[i] == ADDR_MATCH_CATCHALL)
			keys[nk++] = full.key[i];
	for (k = 0; k < m->n && rc == 0; k++) {
		if (m->open_err[k] != NULL) {
			keep(r->err, sizeof(r->err), m->open_err[k]);
			rc = -1;
		} else if (m->passwd[k]) {
			for (i = 0; i < bare.n && rc == 0; i++)
				rc = r->hooks.user_exists(r->hooks.ctx, bare.key[i]);
			if (rc < 0)
				snprintf(r->err, sizeof(r->err), "unix:passwd.byname: lookup failed");
		} else if (m->d[k] != NULL) {
			for (i = 0; i < nk && rc == 0; i++)
				if ((rc = dict_lookup(m->d[k], keys[i], &value, &err)) < 0)
					keep(r->err, sizeof(r->err), err);
		}
	}
	addr_keys_free(&full);
	addr_keys_free(&bare);
	return rc < 0 ? -1 : rc > 0;
}

/* set_reply - a reject/defer reply; the DSN class follows the code (Postfix smtpd_check_reject) */
static void set_reply(struct route_decision *d, enum route_verdict v, int code, const char *dsn,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set_reply(struct route_decision *d, enum route_verdict v, int code, const char *dsn,
		      const char *fmt, ...)
{
	va_list ap;
	int n;

	d->verdict = v;
	n = snprintf(d->reply, sizeof(d->reply), "%d %s ", code, dsn);
	va_start(ap, fmt);
	vsnprintf(d->reply + n, sizeof(d->reply) - (size_t)n, fmt, ap);
	va_end(ap);
	d->reply[4] = d->reply[0];
}

/* tempfail - 451 4.3.0 with the detail kept for the log */
static void tempfail(struct route *r, struct route_decision *d, const char *rcpt, const char *detail)
{
	set_reply(d, ROUTE_DEFER, 451, "4.3.0", "<%s>: Temporary lookup failure", rcpt);
	keep(d->detail, sizeof(d->detail), detail ? detail : r->err);
}

/* local_is_exempt - postmaster, mailer-daemon, double-bounce: always valid in local domains */
static bool local_is_exempt(struct route *r, const char *local)
{
	return str_casecmp_ascii(local, "postmaster") == 0 || str_casecmp_ascii(local, "mailer-daemon") == 0 ||
	       str_casecmp_ascii(local, r->double_bounce) == 0;
}

/*
 * check_final - is the final address a known in its class? 1 yes, 0 no
 * (*code_r, *table_r set), -1 temporary failure (r->err).
 */
static int check_final(struct route *r, const struct route_addr *a, int *code_r, const char **table_r)
{
	switch (a->cls) {
	case ADDR_CLASS_VIRTUAL_ALIAS:
		/* the walk stopped here, so no alias leads on: Postfix's error transport */
		*code_r = r->code_valias;
		*table_r = "virtual alias table";
		return 0;
	case ADDR_CLASS_VIRTUAL_MAILBOX:
		*code_r = r->code_vmailbox;
		*table_r = "virtual mailbox table";
		return r->vmailbox_maps.n == 0 ? 1 : maps_find(r, &r->vmailbox_maps, a, false);
	case ADDR_CLASS_LOCAL:
		*code_r = r->code_local;
		*table_r = "local recipient table";
		if (r->local_maps.n == 0 || local_is_exempt(r, a->local))
			return 1;
		return maps_find(r, &r->local_maps, a, true);
	case ADDR_CLASS_RELAY:
		*code_r = r->code_relay;
		*table_r = "relay recipient table";
		return r->relay_maps.n == 0 ? 1 : maps_find(r, &r->relay_maps, a, false);
	case ADDR_CLASS_DEFAULT:
		return 1;
	}
	return 1;
}

/* add_target - append an accepted final recipient */
static void add_target(struct route_decision *d, const char *address, enum addr_class cls)
{
	d->targets = xreallocarray(d->targets, d->n_targets + 1, sizeof(*d->targets));
	d->targets[d->n_targets].address = xstrdup(address);
	d->targets[d->n_targets].cls = cls;
	d->n_targets++;
}

/* accept_postmaster - accepted as postmaster@: deliver to the local postmaster */
static void accept_postmaster(struct route *r, struct route_decision *d)
{
	char *pm = xasprintf("postmaster@%s", r->myhostname);

	route_decision_free(d);
	d->verdict = ROUTE_ACCEPT;
	d->postmaster = true;
	add_target(d, pm, ADDR_CLASS_LOCAL);
	free(pm);
}

/* route_validate - classify, expand and validate one RCPT TO recipient */
void route_validate(struct route *r, const char *rcpt, struct route_decision *d)
{
	struct route_addr ra, fa;
	struct valias_list finals;
	const char *err, *table = NULL;
	bool pm_ok;
	int rc, code = 550;
	size_t i;

	memset(d, 0, sizeof(*d));
	valias_list_init(&finals);
	if (str_casecmp_ascii(rcpt, "postmaster") == 0) {
		accept_postmaster(r, d);
		return;
	}
	if (route_classify(r, rcpt, &ra, &err) < 0) {
		tempfail(r, d, rcpt, err);
		route_addr_free(&ra);
		return;
	}
	d->cls = ra.cls;
	pm_ok = addr_class_final(ra.cls) && str_casecmp_ascii(ra.local, "postmaster") == 0;
	if (r->va == NULL) {
		tempfail(r, d, rcpt, r->valias_err);
		route_addr_free(&ra);
		return;
	}
	rc = valias_expand(r->va, ra.address, &finals, &err);
	if (rc < 0) {
		if (strncmp(err, "virtual_alias_maps: ", 20) == 0) {
			tempfail(r, d, rcpt, err);
		} else {
			set_reply(d, ROUTE_DEFER, 451, "4.3.0", "<%s>: Recipient address rejected: %s", rcpt, err);
			keep(d->detail, sizeof(d->detail), err);
		}
		route_addr_free(&ra);
		return;
	}
	d->aliased = rc > 0;
	d->verdict = ROUTE_ACCEPT;
	for (i = 0; i < finals.n && d->verdict == ROUTE_ACCEPT; i++) {
		if (route_classify(r, finals.v[i].address, &fa, &err) < 0) {
			tempfail(r, d, rcpt, err);
		} else if ((rc = check_final(r, &fa, &code, &table)) < 0) {
			tempfail(r, d, rcpt, NULL);
		} else if (rc == 0 && pm_ok && !d->aliased) {
			/* postmaster@ of one of our domains that no table knows */
			route_addr_free(&fa);
			route_addr_free(&ra);
			valias_list_free(&finals);
			accept_postmaster(r, d);
			return;
		} else if (rc == 0) {
			set_reply(d, ROUTE_REJECT, code, "5.1.1", "<%s>: Recipient address rejected: User unknown%s%s",
				  rcpt, r->show_table ? " in " : "", r->show_table ? table : "");
			snprintf(d->detail, sizeof(d->detail), "%s: unknown in %s", fa.address, table);
		} else {
			add_target(d, fa.address, fa.cls);
		}
		route_addr_free(&fa);
	}
	if (d->verdict != ROUTE_ACCEPT) {
		for (i = 0; i < d->n_targets; i++)
			free(d->targets[i].address);
		xfree(&d->targets);
		d->n_targets = 0;
	}
	route_addr_free(&ra);
	valias_list_free(&finals);
}

/* route_decision_free - release a decision */
void route_decision_free(struct route_decision *d)
{
	size_t i;

	for (i = 0; i < d->n_targets; i++)
		free(d->targets[i].address);
	xfree(&d->targets);
	d->n_targets = 0;
}
