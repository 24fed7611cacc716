/*
 * auth_conn.c - private/auth: the login processes' SASL requests (the auth client protocol)
 *
 * Each connection gets the handshake (VERSION, MECH..., SPID, CUID, COOKIE,
 * DONE) and then carries many requests at once, each a SASL exchange of
 * src/libmail/sasl.c; the password lookups it asks for (SASL_LOOKUP) are
 * answered here from the passdbs (auth_db.c). A failed request is answered
 * after auth_failure_delay by a timer of its own, so no other request waits.
 * A success is remembered (user, passdb userdb_* fields) for AUTH_SUCCESS_TTL
 * seconds, for one REQUEST on private/auth-master (auth_mconn.c).
 * Log lines are Dovecot's: "auth: passwd-file(user,rip): unknown user" with
 * auth_verbose, more with auth_debug; passwords are never logged.
 *
 * Runs in:  the auth service; every line is UNTRUSTED (a login may be compromised)
 * Limits:   AUTHPROTO_LINE_MAX a line, AUTH_MAX_REQUESTS in progress and
 *           AUTH_MAX_SUCCESSES remembered per connection, AUTH_REQUEST_TIMEOUT,
 *           AUTH_OUTPUT_MAX unread output
 * Tests:    tests/e2e/test_auth.py
 * Refs:     docs/mail-access.md; Dovecot's auth protocol and auth_verbose wording
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "auth/auth.h"
#include "auth/auth_lines.h"
#include "lib/encode.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/authproto.h"
#include "libmail/cidr.h"
#include "libmail/passwdfile.h"
#include "libmail/pwscheme.h"
#include "libmail/sasl.h"

struct areq {
	struct aconn *c;
	uint32_t id;
	struct sasl_session *s;
	struct sasl_params p; /* the session points to it */
	char *service, *rip, *apop;
	char *user;           /* translated user name of the last lookup, or NULL */
	struct auth_kv uf;    /* the passdb's userdb_* fields */
	bool nodelay, logged, finished, temp;
	struct event *ev;     /* request timeout, then the failure delay */
	struct buf fail;      /* the FAIL line waiting for the delay */
	struct areq *prev, *next;
};

struct success {
	uint32_t id;
	char *user;
	time_t at;
	struct auth_kv uf;
	struct success *next;
};

struct aconn {
	struct auth *a;
	struct bufferevent *bev;
	pid_t pid;            /* SO_PEERCRED of the peer */
	unsigned cuid;
	char cookie[33];
	bool got_version;
	struct event *kill_ev;
	struct areq *reqs;
	size_t n_reqs;
	struct success *ok;   /* newest first */
	size_t n_ok;
	struct aconn *prev, *next;
};

static void conn_free(struct aconn *c);

/* auth_out - queue a line; false when the peer does not read */
bool auth_out(struct bufferevent *bev, const struct buf *line)
{
	struct evbuffer *o = bufferevent_get_output(bev);

	if (evbuffer_get_length(o) > AUTH_OUTPUT_MAX)
		return false;
	evbuffer_add(o, line->data ? line->data : "", line->len);
	evbuffer_add(o, "\n", 1);
	return true;
}

/* auth_kv_format - "\tkey=value" for each field */
void auth_kv_format(const struct auth_kv *kv, struct buf *b)
{
	for (size_t i = 0; i < kv->n; i++) {
		buf_putc(b, '\t');
		authproto_escape(b, kv->k[i]);
		buf_putc(b, '=');
		authproto_escape(b, kv->v[i]);
	}
}

/* on_kill - the deferred close of a connection whose peer stopped reading */
static void on_kill(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg);
}

/* send_line - queue b on c; a peer that does not read is closed soon (not now: callers go on) */
static void send_line(struct aconn *c, const struct buf *b)
{
	static const struct timeval zero = { 0, 0 };

	if (!auth_out(c->bev, b)) {
		log_warn("auth client pid=%ld: output buffer full, disconnecting", (long)c->pid);
		bufferevent_disable(c->bev, EV_READ);
		event_add(c->kill_ev, &zero);
	}
}

/* rlog - "auth: who(user,rip): text", Dovecot's form */
static void rlog(struct areq *r, enum log_level lvl, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rlog(struct areq *r, enum log_level lvl, const char *who, const char *fmt, ...)
{
	char text[1024];
	const char *u = r->user ? r->user : r->s && sasl_user(r->s) ? sasl_user(r->s) : "?";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_msg(lvl, "auth: %s(%s%s%s): %s", who, log_sanitize(u, 200), r->rip ? "," : "",
		r->rip ? log_sanitize(r->rip, 64) : "", text);
}

/* mech_lower - the mechanism name in lower case, for log lines */
static const char *mech_lower(struct areq *r)
{
	static char m[32];
	const char *n = r->s ? sasl_mech_name(r->s) : "?";
	size_t i;

	for (i = 0; n[i] && i < sizeof(m) - 1; i++)
		m[i] = ascii_tolower(n[i]);
	m[i] = '\0';
	return m;
}

/* req_free - forget a request */
static void req_free(struct areq *r)
{
	struct aconn *c = r->c;

	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c->n_reqs--;
	sasl_free(&r->s);
	event_free(r->ev);
	buf_free(&r->fail);
	auth_kv_clear(&r->uf);
	free(r->service);
	free(r->rip);
	free(r->apop);
	free(r->user);
	free(r);
}

/* req_find - the request id on c, or NULL */
static struct areq *req_find(struct aconn *c, uint32_t id)
{
	for (struct areq *r = c->reqs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* success_free - one remembered success */
static void success_free(struct success *s)
{
	free(s->user);
	auth_kv_clear(&s->uf);
	free(s);
}

/* remember - keep r's success for REQUEST; drop expired and, past the limit, the oldest */
static void remember(struct areq *r, const char *user)
{
	struct aconn *c = r->c;
	struct success *s = xcalloc(1, sizeof(*s)), **pp;
	time_t now = time(NULL);
	size_t i = 0;

	s->id = r->id;
	s->user = xstrdup(user);
	s->at = now;
	auth_kv_copy(&s->uf, &r->uf);
	s->next = c->ok;
	c->ok = s;
	c->n_ok++;
	for (pp = &c->ok; *pp; i++) {
		if (i >= AUTH_MAX_SUCCESSES || now - (*pp)->at > AUTH_SUCCESS_TTL) {
			struct success *d = *pp;

			*pp = d->next;
			success_free(d);
			c->n_ok--;
		} else
			pp = &(*pp)->next;
	}
}

/* reply_ok - "OK id user=..." and the request is over */
static void reply_ok(struct areq *r)
{
	struct buf b = BUF_INIT(4096);
	const char *user = r->user ? r->user : sasl_user(r->s);

	if (r->c->a->set.debug)
		rlog(r, LOG_LVL_INFO, mech_lower(r), "authenticated");
	remember(r, user);
	buf_printf(&b, "OK\t%u\tuser=", r->id);
	authproto_escape(&b, user);
	send_line(r->c, &b);
	buf_free(&b);
	req_free(r);
}

/* reply_fail - "FAIL id ..." now (temp, nodelay, no delay set) or after auth_failure_delay */
static void reply_fail(struct areq *r, const char *why, const char *reason, bool temp)
{
	uint64_t ms = r->c->a->set.failure_delay_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (why && !r->logged && (r->c->a->set.verbose || temp))
		rlog(r, temp ? LOG_LVL_ERR : LOG_LVL_INFO, mech_lower(r), "%s", why);
	buf_reset(&r->fail);
	buf_printf(&r->fail, "FAIL\t%u", r->id);
	if (r->user) {
		buf_puts(&r->fail, "\tuser=");
		authproto_escape(&r->fail, r->user);
	}
	if (reason) {
		buf_puts(&r->fail, "\treason=");
		authproto_escape(&r->fail, reason);
	}
	if (temp)
		buf_puts(&r->fail, "\ttemp");
	if (temp || r->nodelay || ms == 0) {
		send_line(r->c, &r->fail);
		req_free(r);
		return;
	}
	r->finished = true;
	event_del(r->ev);
	event_add(r->ev, &tv);
}

/* on_req_timer - the failure delay is over, or the client never continued */
static void on_req_timer(evutil_socket_t fd, short what, void *arg)
{
	struct areq *r = arg;

	(void)fd;
	(void)what;
	if (r->finished) {
		send_line(r->c, &r->fail);
		req_free(r);
		return;
	}
	reply_fail(r, "Request timed out waiting for client to continue authentication", "Authentication timed out",
		   true);
}

/* check_extra - the passdb extra fields of e: allow_nets, nodelay, nopassword, userdb_*; false: refused */
static bool check_extra(struct areq *r, const struct authdb *db, const struct pwf_entry *e, bool *nopassword_r)
{
	char k[128], v[4096];
	size_t pos = 0;

	*nopassword_r = false;
	auth_kv_clear(&r->uf);
	while (pwf_extra_next(e->extra, &pos, k, sizeof(k), v, sizeof(v))) {
		if (strcmp(k, "nopassword") == 0)
			*nopassword_r = true;
		else if (strcmp(k, "nodelay") == 0)
			r->nodelay = true;
		else if (strncmp(k, "userdb_", 7) == 0 && k[7])
			auth_kv_set(&r->uf, k + 7, v);
		else if (strcmp(k, "allow_nets") == 0) {
			struct ip_addr ip;
			const char *err;
			bool ok = false;

			if (r->rip && ip_addr_parse(r->rip, strlen(r->rip), &ip, &err) == 0) {
				for (char *save = NULL, *net = strtok_r(v, ",", &save); net && !ok;
				     net = strtok_r(NULL, ",", &save)) {
					struct cidr cn;

					while (*net == ' ')
						net++;
					ok = cidr_parse(net, strlen(net), &cn, &err) == 0 && cidr_match(&cn, &ip);
				}
			}
			if (!ok) {
				rlog(r, LOG_LVL_INFO, auth_db_name(db), "allow_nets check failed: IP not in allowed networks");
				r->logged = true;
				return false;
			}
		}
	}
	return true;
}

/* scheme_of - the "{SCHEME}" of a stored password, or the default, for log lines */
static const char *scheme_of(const char *stored, const char *def, char *out, size_t n)
{
	const char *end;

	if (stored[0] == '{' && (end = strchr(stored, '}')) != NULL && (size_t)(end - stored) < n) {
		memcpy(out, stored + 1, (size_t)(end - stored - 1));
		out[end - stored - 1] = '\0';
		return out;
	}
	return def;
}

/* lookup - answer the mechanism's SASL_LOOKUP from the passdbs */
static enum sasl_status lookup(struct areq *r, struct buf *out, const char **error_r)
{
	struct auth *a = r->c->a;
	const struct sasl_need *need = sasl_need(r->s);
	struct buf cred = BUF_INIT(4096);
	const struct pwf_entry *e = NULL;
	const struct authdb *db = NULL;
	enum sasl_lookup_result res;
	enum authdb_result dr;
	const char *err = NULL;
	char sch[64];
	bool nopw;
	int v;

	free(r->user);
	r->user = auth_user_translate(a, need->user, &err);
	if (r->user == NULL) {
		if (a->set.verbose)
			rlog(r, LOG_LVL_INFO, mech_lower(r), "%s", err);
		r->logged = true;
		return sasl_lookup_done(r->s, SASL_LOOKUP_NO_USER, NULL, 0, out, error_r);
	}
	dr = auth_passdb_lookup(a, r->user, &e, &db, &err);
	if (dr == AUTHDB_NOUSER) {
		if (a->set.verbose)
			rlog(r, LOG_LVL_INFO, db ? auth_db_name(db) : "passdb", "unknown user");
		res = SASL_LOOKUP_NO_USER;
	} else if (dr == AUTHDB_ERROR) {
		rlog(r, LOG_LVL_ERR, auth_db_name(db), "%s", err);
		r->temp = true;
		res = SASL_LOOKUP_ERROR;
	} else if (!check_extra(r, db, e, &nopw)) {
		res = SASL_LOOKUP_MISMATCH;
	} else if (need->kind == SASL_NEED_VERIFY) {
		v = nopw ? 1 : e->password[0] ? pw_verify(e->password, need->password, r->user, db->scheme, &err) : 0;
		if (v == 1)
			res = SASL_LOOKUP_OK;
		else if (v == 0) {
			if (a->set.verbose)
				rlog(r, LOG_LVL_INFO, auth_db_name(db), "%s",
				     e->password[0] ? "Password mismatch" : "Empty password");
			res = SASL_LOOKUP_MISMATCH;
		} else {
			rlog(r, LOG_LVL_ERR, auth_db_name(db), "Invalid password in passdb: %s", err);
			r->temp = true;
			res = SASL_LOOKUP_ERROR;
		}
	} else if (nopw || e->password[0] == '\0' ||
		   pw_credentials(e->password, need->scheme, r->user, db->scheme, &cred, &err) < 0) {
		if (a->set.verbose)
			rlog(r, LOG_LVL_INFO, auth_db_name(db), "Requested %s scheme, but we have only %s", need->scheme,
			     nopw || !e->password[0] ? "an empty password" : scheme_of(e->password, db->scheme, sch, sizeof(sch)));
		res = SASL_LOOKUP_ERROR;
	} else
		res = SASL_LOOKUP_OK;
	r->logged = res != SASL_LOOKUP_OK;
	enum sasl_status st = sasl_lookup_done(r->s, res, cred.data, cred.len, out, error_r);
	if (cred.data)
		explicit_bzero(cred.data, cred.len);
	buf_free(&cred);
	return st;
}

/* run - drive the exchange after sasl_start/sasl_step returned st */
static void run(struct areq *r, enum sasl_status st, struct buf *out, const char *err)
{
	struct timeval tv = { AUTH_REQUEST_TIMEOUT, 0 };
	struct buf b = BUF_INIT(AUTHPROTO_LINE_MAX);

	while (st == SASL_LOOKUP) {
		buf_reset(out);
		st = lookup(r, out, &err);
	}
	switch (st) {
	case SASL_CONTINUE:
		buf_printf(&b, "CONT\t%u\t", r->id);
		if (base64_encode(&b, out->data ? out->data : "", out->len) < 0) {
			reply_fail(r, "challenge too long", NULL, true);
			break;
		}
		send_line(r->c, &b);
		event_del(r->ev);
		event_add(r->ev, &tv);
		break;
	case SASL_OK:
		reply_ok(r);
		break;
	case SASL_FAIL:
		reply_fail(r, err, NULL, r->temp);
		break;
	case SASL_LOOKUP:
		panic("auth: lookup loop ended in SASL_LOOKUP");
	}
	buf_free(&b);
}

/* mech_enabled - is mech in auth_mechanisms? */
static bool mech_enabled(struct auth *a, const char *mech)
{
	for (char **m = a->set.mechs; *m; m++)
		if (strcasecmp(*m, mech) == 0)
			return true;
	return false;
}

/* decode - base64 into out; false when malformed */
static bool decode(const char *b64, struct buf *out)
{
	return base64_decode(out, b64, strlen(b64)) == 0;
}

/* feed - the client's base64 response (NULL: no initial response) to the mechanism, then run */
static void feed(struct areq *r, const char *b64, bool start)
{
	struct buf in = BUF_INIT(SASL_INPUT_MAX), out = BUF_INIT(SASL_INPUT_MAX * 2);
	const char *err = NULL;
	enum sasl_status st;

	if (b64 && !decode(b64, &in)) {
		reply_fail(r, "Invalid base64 data in the client's response", NULL, false);
		return;
	}
	if (start)
		st = sasl_start(r->s, in.data ? in.data : "", in.len, b64 != NULL, &out, &err);
	else
		st = sasl_step(r->s, in.data ? in.data : "", in.len, &out, &err);
	if (in.data)
		explicit_bzero(in.data, in.len);
	buf_free(&in);
	run(r, st, &out, err);
	buf_free(&out);
}

/* handle_auth - "AUTH id mech service=... ..." */
static int handle_auth(struct aconn *c, char **f, size_t n)
{
	struct auth *a = c->a;
	struct authproto_auth q;
	const char *err = NULL;
	struct areq *r;

	if (authproto_parse_auth(f, n, &q, &err) < 0) {
		log_warn("auth client pid=%ld: bad AUTH: %s", (long)c->pid, err);
		return -1;
	}
	if (req_find(c, q.id)) {
		log_warn("auth client pid=%ld: AUTH id %u is already in use", (long)c->pid, q.id);
		return -1;
	}
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->id = q.id;
	r->service = xstrdup(q.service);
	r->rip = q.rip && q.rip[0] ? xstrdup(q.rip) : NULL;
	r->apop = q.apop_challenge ? xstrdup(q.apop_challenge) : NULL;
	r->ev = evtimer_new(a->base, on_req_timer, r);
	buf_init(&r->fail, 4096);
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->n_reqs++;
	r->p.service = r->service;
	r->p.hostname = a->set.hostname;
	r->p.realms = (const char *const *)a->set.realms;
	r->p.anonymous = mech_enabled(a, "ANONYMOUS");
	r->p.anonymous_user = a->set.anonymous_user;
	r->p.apop_challenge = r->apop;
	if (c->n_reqs > AUTH_MAX_REQUESTS) {
		reply_fail(r, "too many requests in progress on one connection", "Too many requests", true);
		return 0;
	}
	if (!mech_enabled(a, q.mech) || !(r->s = sasl_new(q.mech, &r->p, &err))) {
		if (a->set.verbose)
			log_info("auth: %s(?%s%s): Unsupported authentication mechanism", log_sanitize(q.mech, 32),
				 r->rip ? "," : "", r->rip ? log_sanitize(r->rip, 64) : "");
		r->nodelay = true;
		reply_fail(r, NULL, "Unsupported authentication mechanism.", false);
		return 0;
	}
	if (sasl_mech_plaintext(q.mech) && !q.secured && !a->set.allow_plaintext) {
		r->nodelay = true;
		reply_fail(r, "Plaintext authentication disabled",
			   "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.", false);
		return 0;
	}
	feed(r, q.has_resp ? q.resp : NULL, true);
	return 0;
}

/* handle_cont - "CONT id base64" */
static int handle_cont(struct aconn *c, char **f, size_t n)
{
	struct areq *r;
	uint32_t id;

	if (n != 3 || authproto_parse_id(f[1], &id) < 0) {
		log_warn("auth client pid=%ld: bad CONT", (long)c->pid);
		return -1;
	}
	if (!(r = req_find(c, id)) || r->finished)
		return 0; /* already failed or timed out: the FAIL is on its way */
	if (strcmp(f[2], "*") == 0) {
		r->nodelay = true;
		reply_fail(r, "Authentication aborted by client", "Authentication aborted by client.", false);
		return 0;
	}
	feed(r, f[2], false);
	return 0;
}

/* handle_line - one line from a login process; -1: disconnect it */
static int handle_line(struct aconn *c, char **f, int n)
{
	uint32_t pid;

	if (strcmp(f[0], "VERSION") == 0) {
		if (n < 3 || strcmp(f[1], "1") != 0) {
			log_warn("auth client pid=%ld: unsupported protocol version", (long)c->pid);
			return -1;
		}
		c->got_version = true;
		return 0;
	}
	if (!c->got_version) {
		log_warn("auth client pid=%ld: %s before VERSION", (long)c->pid, log_sanitize(f[0], 20));
		return -1;
	}
	if (strcmp(f[0], "CPID") == 0) {
		if (n != 2 || authproto_parse_id(f[1], &pid) < 0)
			return -1;
		if ((pid_t)pid != c->pid)
			log_warn("auth client: CPID %u differs from the peer's pid %ld (the peer's is used)", pid,
				 (long)c->pid);
		return 0;
	}
	if (strcmp(f[0], "AUTH") == 0)
		return handle_auth(c, f, (size_t)n);
	if (strcmp(f[0], "CONT") == 0)
		return handle_cont(c, f, (size_t)n);
	log_warn("auth client pid=%ld: unknown command %s", (long)c->pid, log_sanitize(f[0], 20));
	return -1;
}

/* conn_line - auth_lines() handler; a bad line closes the connection */
static bool conn_line(void *ctx, char **f, int n)
{
	struct aconn *c = ctx;

	if (handle_line(c, f, n) == 0)
		return true;
	conn_free(c);
	return false;
}

/* on_read - the lines that arrived */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct aconn *c = arg;
	const char *err;

	if (auth_lines(bev, conn_line, c, &err) < 0) {
		log_warn("auth client pid=%ld: %s", (long)c->pid, err);
		conn_free(c);
	}
}

/* on_event - EOF or error */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

/* conn_free - close and forget everything of c */
static void conn_free(struct aconn *c)
{
	struct auth *a = c->a;

	while (c->reqs)
		req_free(c->reqs);
	while (c->ok) {
		struct success *s = c->ok;

		c->ok = s->next;
		success_free(s);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n_conns--;
	bufferevent_free(c->bev);
	event_free(c->kill_ev);
	free(c);
}

/* mech_flags - the MECH line's flags of a mechanism */
static const char *mech_flags(const char *m)
{
	if (sasl_mech_plaintext(m))
		return "\tplaintext";
	if (strcmp(m, "ANONYMOUS") == 0)
		return "\tanonymous";
	if (strcmp(m, "APOP") == 0)
		return "\tprivate";
	if (strcmp(m, "CRAM-MD5") == 0)
		return "\tdictionary\tactive";
	if (strcmp(m, "DIGEST-MD5") == 0)
		return "\tdictionary\tactive\tmutual-auth";
	if (strncmp(m, "SCRAM-", 6) == 0)
		return "\tmutual-auth";
	return "";
}

/* auth_conn_accept - a new connection on private/auth: send the handshake */
void auth_conn_accept(struct auth *a, int fd)
{
	struct aconn *c = xcalloc(1, sizeof(*c));
	struct buf b = BUF_INIT(65536);
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	unsigned char rnd[16];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0)
		uc.pid = 0;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("getrandom: %s", strerror(errno));
	buf_init(&b, 65536);
	hex_encode(&b, rnd, sizeof(rnd));
	memcpy(c->cookie, b.data, 32);
	buf_reset(&b);
	c->a = a;
	c->pid = uc.pid;
	c->cuid = ++a->next_cuid;
	c->bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->kill_ev = evtimer_new(a->base, on_kill, c);
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->n_conns++;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ);
	buf_puts(&b, "VERSION\t1\t2\n");
	for (char **m = a->set.mechs; *m; m++)
		buf_printf(&b, "MECH\t%s%s\n", *m, mech_flags(*m));
	buf_printf(&b, "SPID\t%ld\nCUID\t%u\nCOOKIE\t%s\nDONE", (long)getpid(), c->cuid, c->cookie);
	auth_out(c->bev, &b);
	buf_free(&b);
}

/* auth_conn_free_all - at exit */
void auth_conn_free_all(struct auth *a)
{
	while (a->conns)
		conn_free(a->conns);
}

/* ct_equal - constant-time comparison of two strings of the same expected length */
static bool ct_equal(const char *x, const char *y, size_t n)
{
	unsigned char d = 0;

	if (strlen(y) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

/* auth_conn_take_success - find, remove and check a remembered success */
int auth_conn_take_success(struct auth *a, pid_t pid, uint32_t id, const char *cookie, char **user_r,
			   struct auth_kv *fields_r)
{
	for (struct aconn *c = a->conns; c; c = c->next) {
		if (c->pid != pid || !ct_equal(c->cookie, cookie, 32))
			continue;
		for (struct success **pp = &c->ok; *pp; pp = &(*pp)->next) {
			struct success *s = *pp;

			if (s->id != id)
				continue;
			*pp = s->next;
			c->n_ok--;
			if (time(NULL) - s->at > AUTH_SUCCESS_TTL) {
				success_free(s);
				return 0;
			}
			*user_r = s->user;
			s->user = NULL;
			auth_kv_copy(fields_r, &s->uf);
			success_free(s);
			return 1;
		}
	}
	return 0;
}
