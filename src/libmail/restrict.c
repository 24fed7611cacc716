/*
 * restrict.c - compiled smtpd_relay_restrictions / smtpd_recipient_restrictions
 *
 * Runs in:  smtpd (RCPT TO), postern check (see restrict.h)
 * API:      restrict_compile(), restrict_rcpt(), restrict_check()
 * Tests:    tests/unit/test_restrict.c, tests/e2e/test_check.py
 * Refs:     Postfix smtpd/smtpd_check.c (generic_checks, check_table_result,
 *           check_namadr_access, check_mail_access, reject_unauth_destination),
 *           access(5), postconf(5)
 *
 * A list compiles to an array of rules (an operation plus, for access
 * checks, the open table). Evaluation walks the array; the state of one
 * RCPT (the pending "defer if permit/reject" replies, the recursion depth of
 * access-table results) lives in struct eval on the stack.
 */
#include "libmail/restrict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/slice.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/addr_lookup.h"
#include "libmail/dict.h"
#include "libmail/netmatch.h"

enum op {
	OP_PERMIT,
	OP_REJECT,
	OP_DEFER,
	OP_PERMIT_MYNETWORKS,
	OP_PERMIT_SASL,
	OP_PERMIT_AUTH_DEST,
	OP_REJECT_UNAUTH_DEST,
	OP_DEFER_UNAUTH_DEST,
	OP_REJECT_UNKNOWN_RCPT_DOMAIN,
	OP_REJECT_UNLISTED_RCPT,
	OP_DEFER_IF_PERMIT,
	OP_DEFER_IF_REJECT,
	OP_CHECK_CLIENT_ACCESS,
	OP_CHECK_RECIPIENT_ACCESS,
	OP_BROKEN, /* a configuration error: 451 4.3.5 */
};

static const struct {
	const char *name;
	enum op op;
} names[] = {
	{ "permit", OP_PERMIT },
	{ "reject", OP_REJECT },
	{ "defer", OP_DEFER },
	{ "permit_mynetworks", OP_PERMIT_MYNETWORKS },
	{ "permit_sasl_authenticated", OP_PERMIT_SASL },
	{ "permit_auth_destination", OP_PERMIT_AUTH_DEST },
	{ "reject_unauth_destination", OP_REJECT_UNAUTH_DEST },
	{ "defer_unauth_destination", OP_DEFER_UNAUTH_DEST },
	{ "reject_unknown_recipient_domain", OP_REJECT_UNKNOWN_RCPT_DOMAIN },
	{ "reject_unlisted_recipient", OP_REJECT_UNLISTED_RCPT },
	{ "check_recipient_maps", OP_REJECT_UNLISTED_RCPT },
	{ "defer_if_permit", OP_DEFER_IF_PERMIT },
	{ "defer_if_reject", OP_DEFER_IF_REJECT },
	{ "check_client_access", OP_CHECK_CLIENT_ACCESS },
	{ "check_recipient_access", OP_CHECK_RECIPIENT_ACCESS },
};

#define ACCESS_NESTING_MAX 100

struct rule {
	enum op op;
	const char *name;   /* static, for results */
	struct dict *dict;  /* access checks */
};

struct rlist {
	struct rule *v;
	size_t n;
};

struct restrictions {
	struct rlist relay, rcpt;
	struct route *route;
	struct netmatch *mynetworks; /* NULL: could not be compiled (permit_mynetworks answers 451 4.3.5) */
	bool access_parent;
	bool guarded;                /* a list holds a restriction that refuses by default */
	bool reject_unlisted;
	char *delims;                /* recipient_delimiter */
	int relay_code, map_reject_code, map_defer_code, reject_code, defer_code, unknown_addr_code;
};

/* a pending "defer if ..." reply */
struct pending {
	bool active;
	char reply[512];
};

struct eval {
	struct restrictions *r;
	const struct restrict_ctx *ctx;
	struct restrict_result *out;
	const char *where;
	char client[300];            /* name[addr] */
	struct pending if_permit, if_reject;
	int depth;
	bool rcpt_checked;
};

/* results of one restriction */
enum status { ST_DUNNO, ST_OK, ST_REJECT };

/* --- compiling -------------------------------------------------------------------- */

/* op_lookup - the operation of a restriction name (case-insensitive); false when unknown */
static bool op_lookup(const char *name, size_t n, enum op *op_r, const char **static_name_r)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n && slice_eq_ci(slice_make(name, n), slice_cstr(names[i].name))) {
			*op_r = names[i].op;
			*static_name_r = names[i].name;
			return true;
		}
	return false;
}

/* push - append a rule */
static struct rule *push(struct rlist *l, enum op op, const char *name)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].op = op;
	l->v[l->n].name = name;
	l->v[l->n].dict = NULL;
	return &l->v[l->n++];
}

/* compile_list - one parameter; returns the number of errors reported */
static int compile_list(struct config *cfg, const char *param, struct rlist *l, bool *guarded,
			struct diag_list *diags)
{
	const char *const *items, *err, *file, *name;
	size_t n, i;
	int line = 0, errors = 0;
	enum op op;
	struct rule *rule;

	memset(l, 0, sizeof(*l));
	file = config_where(cfg, param, &line);
	if (config_get_list(cfg, param, &items, &n, &err) < 0) {
		diag_add(diags, DIAG_ERROR, file, line, NULL, "%s: %s", param, err);
		push(l, OP_BROKEN, "error");
		return 1;
	}
	for (i = 0; i < n; i++) {
		const char *item = items[i], *spec = NULL;

		if (strchr(item, ':') != NULL) {
			/* a bare table: Postfix's implicit check_recipient_access */
			op = OP_CHECK_RECIPIENT_ACCESS;
			name = "check_recipient_access";
			spec = item;
		} else if (!op_lookup(item, strlen(item), &op, &name)) {
			diag_add(diags, DIAG_ERROR, file, line,
				 "use permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, "
				 "defer_unauth_destination, reject_unknown_recipient_domain, "
				 "check_client_access type:table, check_recipient_access type:table, "
				 "reject_unlisted_recipient, permit, reject or defer",
				 "%s: unknown restriction \"%s\"", param, item);
			push(l, OP_BROKEN, "error");
			errors++;
			continue;
		} else if (op == OP_CHECK_CLIENT_ACCESS || op == OP_CHECK_RECIPIENT_ACCESS) {
			if (i + 1 >= n || strchr(items[i + 1], ':') == NULL) {
				diag_add(diags, DIAG_ERROR, file, line, "write e.g. \"check_client_access hash:/etc/postern/access\"",
					 "%s: restriction %s needs a type:table argument", param, name);
				push(l, OP_BROKEN, name);
				errors++;
				continue;
			}
			spec = items[++i];
		}
		rule = push(l, op, name);
		if (op == OP_REJECT || op == OP_DEFER || op == OP_REJECT_UNAUTH_DEST || op == OP_DEFER_UNAUTH_DEST ||
		    op == OP_DEFER_IF_PERMIT)
			*guarded = true;
		if (spec == NULL)
			continue;
		if (!dict_is_spec(spec)) {
			diag_add(diags, DIAG_ERROR, file, line, "use one of hash:, cdb:, texthash:, static:, inline:{...}, cidr:",
				 "%s: %s: unsupported lookup table \"%s\"", param, name, spec);
			rule->op = OP_BROKEN;
			errors++;
		} else if ((rule->dict = dict_open(spec, DICT_FLAGS_DEFAULT, &err)) == NULL) {
			diag_add(diags, DIAG_ERROR, file, line, NULL, "%s: %s: %s", param, name, err);
			rule->op = OP_BROKEN;
			errors++;
		}
	}
	return errors;
}

/* free_list - close the tables of a list */
static void free_list(struct rlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		dict_close(&l->v[i].dict);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* get_code - an INT parameter (a reply code) */
static int get_code(struct config *cfg, const char *name, int def)
{
	const char *err;
	int64_t v;

	return config_get_int(cfg, name, &v, &err) == 0 && v <= 999 ? (int)v : def;
}

/* compile_all - both lists and the guard check; the number of errors */
static int compile_all(struct config *cfg, struct restrictions *r, struct diag_list *diags)
{
	int errors = compile_list(cfg, "smtpd_relay_restrictions", &r->relay, &r->guarded, diags) +
		     compile_list(cfg, "smtpd_recipient_restrictions", &r->rcpt, &r->guarded, diags);
	const char *param = "smtpd_recipient_restrictions", *file;
	int line = 0;

	if (!r->guarded) {
		if (!config_is_set(cfg, param))
			param = "smtpd_relay_restrictions";
		file = config_where(cfg, param, &line);
		diag_add(diags, DIAG_ERROR, file, line,
			 "end smtpd_relay_restrictions with defer_unauth_destination or reject_unauth_destination",
			 "parameters smtpd_relay_restrictions and smtpd_recipient_restrictions: specify at least one "
			 "working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer "
			 "or defer_if_permit (otherwise the server could be an open relay)");
		errors++;
	}
	return errors;
}

/* restrict_compile - parse both restriction lists once */
struct restrictions *restrict_compile(struct config *cfg, struct route *route, struct diag_list *diags)
{
	struct restrictions *r = xcalloc(1, sizeof(*r));
	const char *err, *file;
	bool b = true;
	int line = 0;

	r->route = route;
	compile_all(cfg, r, diags);
	r->mynetworks = netmatch_from_config(cfg, "mynetworks", NULL, &err);
	if (r->mynetworks == NULL) {
		file = config_where(cfg, "mynetworks", &line);
		diag_add(diags, DIAG_ERROR, file, line, NULL, "%s", err);
	}
	r->access_parent = match_parent_style(cfg, "smtpd_access_maps");
	(void)config_get_bool(cfg, "smtpd_reject_unlisted_recipient", &b, &err);
	r->reject_unlisted = b;
	r->delims = xstrdup(config_get(cfg, "recipient_delimiter") ? config_get(cfg, "recipient_delimiter") : "");
	r->relay_code = get_code(cfg, "relay_domains_reject_code", 554);
	r->map_reject_code = get_code(cfg, "access_map_reject_code", 554);
	r->map_defer_code = get_code(cfg, "access_map_defer_code", 450);
	r->reject_code = get_code(cfg, "reject_code", 554);
	r->defer_code = get_code(cfg, "defer_code", 450);
	r->unknown_addr_code = get_code(cfg, "unknown_address_reject_code", 450);
	return r;
}

/* restrict_free - release compiled restrictions */
void restrict_free(struct restrictions **rp)
{
	struct restrictions *r = *rp;

	if (r == NULL)
		return;
	free_list(&r->relay);
	free_list(&r->rcpt);
	netmatch_free(&r->mynetworks);
	free(r->delims);
	xfree(rp);
}

/* restrict_check - report restriction list errors for postern check */
int restrict_check(struct config *cfg, struct diag_list *diags)
{
	struct restrictions r;
	int errors;

	memset(&r, 0, sizeof(r));
	errors = compile_all(cfg, &r, diags);
	free_list(&r.relay);
	free_list(&r.rcpt);
	return errors;
}

/* --- replies ---------------------------------------------------------------------- */

/* dsn_len - the length of an RFC 3463 code "C.S.D" (C 2/4/5) followed by space or end (0: none) */
static size_t dsn_len(const char *s)
{
	size_t i = 0, k, part;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	i = 1;
	for (part = 0; part < 2; part++) {
		if (s[i] != '.')
			return 0;
		i++;
		for (k = 0; k < 3 && ascii_isdigit(s[i]); k++)
			i++;
		if (k == 0)
			return 0;
	}
	return s[i] == '\0' || s[i] == ' ' || s[i] == '\t' ? i : 0;
}

/* vformat_reply - "code dsn text" into buf, Postfix smtpd_check_reject() rules */
static void vformat_reply(char *buf, size_t size, int code, const char *dsn, const char *fmt, va_list ap)
{
	int n;

	if (code < 400 || code > 599 || dsn_len(dsn) == 0) {
		snprintf(buf, size, "450 4.7.1 Service unavailable");
		return;
	}
	n = snprintf(buf, size, "%d %s ", code, dsn);
	if (n > 0 && (size_t)n < size)
		vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	buf[4] = buf[0]; /* the DSN class follows the reply code */
}

/* decide - the current restriction rejects (5xx) or defers (4xx): fill out */
static enum status decide(struct eval *e, const char *name, int code, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static enum status decide(struct eval *e, const char *name, int code, const char *dsn, const char *fmt, ...)
{
	struct restrict_result *out = e->out;
	va_list ap;

	va_start(ap, fmt);
	vformat_reply(out->reply, sizeof(out->reply), code, dsn, fmt, ap);
	va_end(ap);
	/* an earlier temporary problem turns a rejection into its deferral */
	if (out->reply[0] == '5' && e->if_reject.active) {
		memcpy(out->reply, e->if_reject.reply, sizeof(out->reply));
		e->if_reject.active = false;
	}
	out->verdict = out->reply[0] == '4' ? RESTRICT_DEFER : RESTRICT_REJECT;
	out->where = e->where;
	out->restriction = name;
	return ST_REJECT;
}

/* defer_if - note a pending deferral (the first one is kept) */
static void defer_if(struct pending *p, int code, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void defer_if(struct pending *p, int code, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	if (p->active)
		return;
	p->active = true;
	va_start(ap, fmt);
	vformat_reply(p->reply, sizeof(p->reply), code, dsn, fmt, ap);
	va_end(ap);
}

/* server_error - Postfix reject_server_error() */
static enum status server_error(struct eval *e, const char *name)
{
	enum status st = decide(e, name, 451, "4.3.5", "Server configuration error");

	if (e->out->detail[0] == '\0')
		snprintf(e->out->detail, sizeof(e->out->detail), "restriction %s: configuration error", name);
	return st;
}

/* lookup_failed - a table failed: temporary */
static enum status lookup_failed(struct eval *e, const char *name, const char *why)
{
	enum status st = decide(e, name, 451, "4.3.0", "<%s>: Temporary lookup failure", e->ctx->recipient);

	snprintf(e->out->detail, sizeof(e->out->detail), "%s", why);
	return st;
}

/* reply_code_of - the three-digit code at the start of a reply */
static int reply_code_of(const char *reply)
{
	return (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');
}

/* --- restrictions ----------------------------------------------------------------- */

static enum status run_list(struct eval *e, const struct rule *v, size_t n);

/* auth_destination - is the recipient a destination we accept mail for? 1, 0, -1 (error in detail) */
static int auth_destination(struct eval *e)
{
	struct route_addr a;
	const char *err;
	int rc;

	if (route_classify(e->r->route, e->ctx->recipient, &a, &err) < 0) {
		snprintf(e->out->detail, sizeof(e->out->detail), "%s", err);
		route_addr_free(&a);
		return -1;
	}
	/* sender-specified routing never authorizes (allow_untrusted_routing = no) */
	rc = !a.routed && (addr_class_final(a.cls) || a.cls == ADDR_CLASS_RELAY);
	route_addr_free(&a);
	return rc;
}

/* unknown_rcpt_domain - reject_unknown_recipient_domain */
static enum status unknown_rcpt_domain(struct eval *e, const char *name)
{
	struct route_addr a;
	const char *err, *rcpt = e->ctx->recipient;
	enum restrict_dns d;
	enum status st = ST_DUNNO;

	if (route_classify(e->r->route, rcpt, &a, &err) < 0) {
		st = lookup_failed(e, name, err);
	} else if (!addr_class_final(a.cls) && a.domain[0] != '[') {
		d = e->ctx->dns ? e->ctx->dns(e->ctx->dns_ctx, a.domain) : RESTRICT_DNS_TEMPFAIL;
		if (d == RESTRICT_DNS_NOTFOUND)
			st = decide(e, name, e->r->unknown_addr_code, "4.1.2",
				    "<%s>: Recipient address rejected: Domain not found", rcpt);
		else if (d == RESTRICT_DNS_TEMPFAIL)
			defer_if(&e->if_permit, 450, "4.1.2", "<%s>: Recipient address rejected: Domain not found",
				 rcpt);
	}
	route_addr_free(&a);
	return st;
}

/* is_word - is the n-byte command s equal to word (case-insensitive)? */
static bool is_word(const char *s, size_t n, const char *word)
{
	return slice_eq_ci(slice_make(s, n), slice_cstr(word));
}

/*
 * table_result - act on an access table value (Postfix check_table_result()).
 * reply_name/reply_class: "<name>: class rejected: text".
 */
static enum status table_result(struct eval *e, const char *name, const char *value, const char *reply_name,
				const char *reply_class)
{
	size_t cmd_len = strcspn(value, " \t"), dl;
	const char *text = value + cmd_len, *dsn;
	char def_dsn[8], dsn_buf[16];
	static const char *const delegated[] = { "HOLD", "DISCARD", "FILTER", "REDIRECT", "BCC", "PREPEND",
						 "HANGUP", NULL };
	size_t i;

	while (*text == ' ' || *text == '\t')
		text++;
	if (is_word(value, cmd_len, "DUNNO") || is_word(value, cmd_len, "INFO") || is_word(value, cmd_len, "WARN"))
		return ST_DUNNO;
	if (is_word(value, cmd_len, "OK") || is_word(value, cmd_len, "RELAY"))
		return ST_OK;
	if (cmd_len > 0 && value[strspn(value, "0123456789")] == '\0')
		return ST_OK; /* all-numeric: OK (pop-before-smtp time stamps) */
	for (i = 0; delegated[i]; i++)
		if (is_word(value, cmd_len, delegated[i]))
			return server_error(e, name);
	if (is_word(value, cmd_len, "REJECT") || is_word(value, cmd_len, "DEFER") ||
	    is_word(value, cmd_len, "DEFER_IF_PERMIT") || is_word(value, cmd_len, "DEFER_IF_REJECT") ||
	    (cmd_len == 3 && *text && (value[0] == '4' || value[0] == '5') && ascii_isdigit(value[1]) &&
	     ascii_isdigit(value[2]))) {
		bool reject = is_word(value, cmd_len, "REJECT");
		int code = reject ? e->r->map_reject_code : e->r->map_defer_code;
		const char *def_text = reject || is_word(value, cmd_len, "DEFER") ? "Access denied" : "Service unavailable";

		snprintf(def_dsn, sizeof(def_dsn), "%s", reject ? "5.7.1" : "4.7.1");
		if (cmd_len == 3) {
			code = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
			def_dsn[0] = value[0];
			def_text = "Access denied";
		}
		dsn = def_dsn;
		if ((dl = dsn_len(text)) > 0 && dl < sizeof(dsn_buf)) {
			memcpy(dsn_buf, text, dl);
			dsn_buf[dl] = '\0';
			dsn = dsn_buf;
			text += dl;
			while (*text == ' ' || *text == '\t')
				text++;
		}
		if (is_word(value, cmd_len, "DEFER_IF_PERMIT")) {
			defer_if(&e->if_permit, code, dsn, "<%s>: %s rejected: %s", reply_name, reply_class,
				 *text ? text : def_text);
			return ST_DUNNO;
		}
		if (is_word(value, cmd_len, "DEFER_IF_REJECT")) {
			defer_if(&e->if_reject, code, dsn, "<%s>: %s rejected: %s", reply_name, reply_class,
				 *text ? text : def_text);
			return ST_DUNNO;
		}
		return decide(e, name, code, dsn, "<%s>: %s rejected: %s", reply_name, reply_class,
			      *text ? text : def_text);
	}
	if (strchr(value, ':') != NULL || e->depth >= ACCESS_NESTING_MAX)
		return server_error(e, name);
	/* a list of restrictions, evaluated in place */
	{
		struct slice rest = slice_cstr(value), tok;
		struct rlist l = { NULL, 0 };
		enum status st = ST_OK;
		const char *rname;
		enum op op;

		while (slice_next_token(&rest, ", \t", &tok)) {
			if (!op_lookup(tok.p, tok.n, &op, &rname) || op == OP_CHECK_CLIENT_ACCESS ||
			    op == OP_CHECK_RECIPIENT_ACCESS)
				push(&l, OP_BROKEN, name);
			else
				push(&l, op, rname);
		}
		if (l.n > 0) {
			e->depth++;
			st = run_list(e, l.v, l.n);
			e->depth--;
		}
		free(l.v);
		return st; /* an empty value meant OK in the dark ages */
	}
}

/* client_access - check_client_access: name and parent domains, then address and parent networks */
static enum status client_access(struct eval *e, const struct rule *rule)
{
	const char *name = e->ctx->client_name ? e->ctx->client_name : "unknown", *value, *err;
	char addr[64];
	char *cut;
	int rc;

	rc = host_table_match(rule->dict, name, e->r->access_parent, &value, &err);
	if (rc == 0 && e->ctx->client_addr != NULL) {
		snprintf(addr, sizeof(addr), "%s", e->ctx->client_addr);
		for (;;) {
			rc = dict_lookup(rule->dict, addr, &value, &err);
			if (rc != 0)
				break;
			cut = strrchr(addr, strchr(addr, ':') ? ':' : '.');
			if (cut == NULL)
				break;
			*cut = '\0';
		}
	}
	if (rc < 0)
		return table_result(e, rule->name, "451 4.3.5 Server configuration error", e->client, "Client host");
	if (rc == 0)
		return ST_DUNNO;
	return table_result(e, rule->name, value, e->client, "Client host");
}

/* rcpt_access - check_recipient_access: user+ext@domain, user@domain, domain and parents, user+ext@, user@ */
static enum status rcpt_access(struct eval *e, const struct rule *rule)
{
	struct route_addr a;
	struct addr_keys k, lk;
	const char *value = NULL, *err;
	char *key;
	size_t i;
	int rc = 0;
	enum status st;

	if (route_classify(e->r->route, e->ctx->recipient, &a, &err) < 0) {
		route_addr_free(&a);
		return lookup_failed(e, rule->name, err);
	}
	addr_lookup_keys(a.address, e->r->delims, &k);
	for (i = 0; i < k.n && rc == 0; i++)
		if (k.kind[i] != ADDR_MATCH_CATCHALL)
			rc = dict_lookup(rule->dict, k.key[i], &value, &err);
	if (rc == 0)
		rc = host_table_match(rule->dict, a.domain, e->r->access_parent, &value, &err);
	addr_lookup_keys(a.local, e->r->delims, &lk);
	for (i = 0; i < lk.n && rc == 0; i++) {
		key = xasprintf("%s@", lk.key[i]);
		rc = dict_lookup(rule->dict, key, &value, &err);
		free(key);
	}
	addr_keys_free(&k);
	addr_keys_free(&lk);
	if (rc < 0)
		st = table_result(e, rule->name, "451 4.3.5 Server configuration error", e->ctx->recipient,
				  "Recipient address");
	else if (rc == 0)
		st = ST_DUNNO;
	else {
		st = table_result(e, rule->name, value, e->ctx->recipient, "Recipient address");
		if (st == ST_OK && a.routed)
			st = ST_DUNNO; /* too suspicious to permit */
	}
	route_addr_free(&a);
	return st;
}

/* validate - reject_unlisted_recipient: the recipient's class tables (resolve.h) */
static enum status validate(struct eval *e, const char *name)
{
	struct restrict_result *out = e->out;

	if (e->rcpt_checked)
		return ST_DUNNO;
	e->rcpt_checked = true;
	route_validate(e->r->route, e->ctx->recipient, &out->route);
	out->validated = true;
	if (out->route.verdict == ROUTE_ACCEPT)
		return ST_DUNNO;
	{
		/* "550 5.1.1 text": decide() applies defer_if_reject to it */
		const char *reply = out->route.reply, *text = strchr(reply + 4, ' ');
		char dsn[16];
		size_t dl = dsn_len(reply + 4);

		if (dl == 0 || dl >= sizeof(dsn) || text == NULL)
			return server_error(e, name);
		memcpy(dsn, reply + 4, dl);
		dsn[dl] = '\0';
		snprintf(out->detail, sizeof(out->detail), "%s", out->route.detail);
		return decide(e, name, reply_code_of(reply), dsn, "%s", text + 1);
	}
}

/* run_rule - one restriction */
static enum status run_rule(struct eval *e, const struct rule *rule)
{
	const struct restrict_ctx *c = e->ctx;
	struct restrictions *r = e->r;
	const char *err;
	int rc;

	switch (rule->op) {
	case OP_PERMIT:
		return ST_OK;
	case OP_REJECT:
		return decide(e, rule->name, r->reject_code, "5.7.1", "<%s>: Recipient address rejected: Access denied",
			      c->recipient);
	case OP_DEFER:
		return decide(e, rule->name, r->defer_code, "4.3.2",
			      "<%s>: Recipient address rejected: Try again later", c->recipient);
	case OP_PERMIT_MYNETWORKS:
		if (r->mynetworks == NULL)
			return server_error(e, rule->name);
		rc = netmatch_match_client(r->mynetworks, c->client_addr, c->client_name, &err);
		if (rc < 0)
			return lookup_failed(e, rule->name, err);
		return rc == MATCH_YES ? ST_OK : ST_DUNNO;
	case OP_PERMIT_SASL:
		return c->sasl_login != NULL && c->sasl_login[0] != '\0' ? ST_OK : ST_DUNNO;
	case OP_PERMIT_AUTH_DEST:
	case OP_REJECT_UNAUTH_DEST:
	case OP_DEFER_UNAUTH_DEST:
		rc = auth_destination(e);
		if (rc < 0)
			return lookup_failed(e, rule->name, e->out->detail);
		if (rule->op == OP_PERMIT_AUTH_DEST)
			return rc ? ST_OK : ST_DUNNO;
		if (rc)
			return ST_DUNNO;
		if (rule->op == OP_REJECT_UNAUTH_DEST)
			return decide(e, rule->name, r->relay_code, "5.7.1", "<%s>: Relay access denied", c->recipient);
		return decide(e, rule->name, r->relay_code - 100, "4.7.1", "<%s>: Relay access denied", c->recipient);
	case OP_REJECT_UNKNOWN_RCPT_DOMAIN:
		return unknown_rcpt_domain(e, rule->name);
	case OP_REJECT_UNLISTED_RCPT:
		return validate(e, rule->name);
	case OP_DEFER_IF_PERMIT:
		defer_if(&e->if_permit, 450, "4.7.0", "<%s>: Recipient address rejected: defer_if_permit requested",
			 c->recipient);
		return ST_DUNNO;
	case OP_DEFER_IF_REJECT:
		defer_if(&e->if_reject, 450, "4.7.0", "<%s>: Recipient address rejected: defer_if_reject requested",
			 c->recipient);
		return ST_DUNNO;
	case OP_CHECK_CLIENT_ACCESS:
		return client_access(e, rule);
	case OP_CHECK_RECIPIENT_ACCESS:
		return rcpt_access(e, rule);
	case OP_BROKEN:
		return server_error(e, rule->name);
	}
	return server_error(e, rule->name);
}

/* run_list - the first restriction that is not DUNNO decides the list */
static enum status run_list(struct eval *e, const struct rule *v, size_t n)
{
	enum status st = ST_DUNNO;
	size_t i;

	for (i = 0; i < n && st == ST_DUNNO; i++) {
		st = run_rule(e, &v[i]);
		if (st == ST_OK && e->out->restriction == NULL)
			e->out->restriction = v[i].name;
		if (e->if_permit.active && e->if_reject.active)
			break;
	}
	return st;
}

/* restrict_rcpt - evaluate RCPT TO: relay list, recipient list, validation */
void restrict_rcpt(struct restrictions *r, const struct restrict_ctx *ctx, struct restrict_result *out)
{
	static const char *const params[] = { "smtpd_relay_restrictions", "smtpd_recipient_restrictions" };
	const struct rlist *lists[] = { &r->relay, &r->rcpt };
	struct eval e;
	const char *permit_where = NULL, *permit_by = NULL;
	enum status st = ST_DUNNO;
	size_t k;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	e.r = r;
	e.ctx = ctx;
	e.out = out;
	snprintf(e.client, sizeof(e.client), "%s[%s]", ctx->client_name ? ctx->client_name : "unknown",
		 ctx->client_addr ? ctx->client_addr : "");
	if (!r->guarded) {
		e.where = "smtpd_relay_restrictions";
		server_error(&e, "smtpd_relay_restrictions");
		snprintf(out->detail, sizeof(out->detail), "no relay guard in smtpd_relay_restrictions or "
							   "smtpd_recipient_restrictions");
		return;
	}
	for (k = 0; k < 2 && st != ST_REJECT; k++) {
		e.where = params[k];
		out->restriction = NULL;
		st = run_list(&e, lists[k]->v, lists[k]->n);
		/* report the first list that permitted (both accept the same way) */
		if (st == ST_OK && permit_by == NULL) {
			permit_where = e.where;
			permit_by = out->restriction;
		}
	}
	if (st == ST_REJECT)
		return;
	if (e.if_permit.active) {
		memcpy(out->reply, e.if_permit.reply, sizeof(out->reply));
		out->verdict = out->reply[0] == '4' ? RESTRICT_DEFER : RESTRICT_REJECT;
		return;
	}
	out->verdict = permit_by != NULL ? RESTRICT_PERMIT : RESTRICT_DUNNO;
	out->where = permit_where;
	out->restriction = permit_by;
	if (r->reject_unlisted && !e.rcpt_checked) {
		enum restrict_verdict before = out->verdict;
		const char *where = out->where, *restriction = out->restriction;

		e.where = "smtpd_reject_unlisted_recipient";
		if (validate(&e, "reject_unlisted_recipient") == ST_DUNNO) {
			out->verdict = before;
			out->where = where;
			out->restriction = restriction;
		}
	}
}

/* restrict_result_free - release a result */
void restrict_result_free(struct restrict_result *out)
{
	if (out->validated)
		route_decision_free(&out->route);
	out->validated = false;
}
