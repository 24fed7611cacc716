/*
 * auth_mconn.c - private/auth-master: the dispatchers' REQUEST and USER lookups
 *
 * On connect the service sends "VERSION 1 0" and "SPID <pid>". Then:
 *   REQUEST <id> <login pid> <auth id> <cookie>  -> USER <id> <user> fields | NOTFOUND <id> | FAIL <id> reason=
 *   USER <id> <user> [service=<name>]             -> USER ... | NOTFOUND <id> | FAIL <id> reason=
 * A REQUEST names a success remembered by auth_conn.c: it is answered once,
 * within AUTH_SUCCESS_TTL seconds, for the connection whose peer pid and
 * cookie match. Lookups are synchronous (files in memory), so replies go in
 * request order.
 *
 * Runs in:  the auth service; the socket is root-only (mode 0600)
 * Limits:   AUTHPROTO_LINE_MAX a line, AUTH_MAX_CONNS connections, AUTH_OUTPUT_MAX unread output
 * Tests:    tests/e2e/test_auth.py
 * Refs:     docs/mail-access.md
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "auth/auth.h"
#include "auth/auth_lines.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/authproto.h"

struct mconn {
	struct auth *a;
	struct bufferevent *bev;
	struct mconn *prev, *next;
};

static struct mconn *mconns;

/* mconn_free - close one master connection */
static void mconn_free(struct mconn *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		mconns = m->next;
	if (m->next)
		m->next->prev = m->prev;
	m->a->n_mconns--;
	bufferevent_free(m->bev);
	free(m);
}

/* reply_user - USER, NOTFOUND or FAIL for a userdb lookup of user with default fields */
static bool reply_user(struct mconn *m, uint32_t id, const char *user, bool check_exists, struct auth_kv *uf)
{
	struct buf b = BUF_INIT(AUTHPROTO_LINE_MAX * 4);
	const char *err = NULL;
	bool ok;

	switch (auth_userdb_lookup(m->a, user, check_exists, uf, &err)) {
	case AUTHDB_OK:
		buf_printf(&b, "USER\t%u\t", id);
		authproto_escape(&b, user);
		auth_kv_format(uf, &b);
		break;
	case AUTHDB_NOUSER:
		if (m->a->set.verbose)
			log_info("auth: userdb(%s): user not found from userdb", log_sanitize(user, 200));
		buf_printf(&b, "NOTFOUND\t%u", id);
		break;
	case AUTHDB_ERROR:
		log_err("auth: userdb(%s): %s", log_sanitize(user, 200), err);
		buf_printf(&b, "FAIL\t%u\treason=", id);
		authproto_escape(&b, "internal error: see the auth log");
		break;
	}
	ok = auth_out(m->bev, &b);
	buf_free(&b);
	return ok;
}

/* handle - one line from a dispatcher; false: disconnect */
static bool handle(struct mconn *m, char **f, int n)
{
	struct auth_kv uf = { 0 };
	const char *err;
	uint32_t id, pid, aid;
	char *user = NULL;
	bool ok = true;

	if (strcmp(f[0], "VERSION") == 0)
		return true;
	if (strcmp(f[0], "REQUEST") == 0) {
		if (n != 5 || authproto_parse_id(f[1], &id) < 0 || authproto_parse_id(f[2], &pid) < 0 ||
		    authproto_parse_id(f[3], &aid) < 0) {
			log_warn("auth master: bad REQUEST");
			return false;
		}
		if (auth_conn_take_success(m->a, (pid_t)pid, aid, f[4], &user, &uf)) {
			ok = reply_user(m, id, user, false, &uf);
		} else {
			struct buf b = BUF_INIT(64);

			if (m->a->set.verbose)
				log_info("auth: master REQUEST pid=%u id=%u: no such successful authentication", pid, aid);
			buf_printf(&b, "NOTFOUND\t%u", id);
			ok = auth_out(m->bev, &b);
			buf_free(&b);
		}
		free(user);
		auth_kv_clear(&uf);
		return ok;
	}
	if (strcmp(f[0], "USER") == 0) {
		if (n < 3 || authproto_parse_id(f[1], &id) < 0) {
			log_warn("auth master: bad USER");
			return false;
		}
		user = auth_user_translate(m->a, f[2], &err);
		if (user == NULL) {
			struct buf b = BUF_INIT(64);

			buf_printf(&b, "NOTFOUND\t%u", id);
			ok = auth_out(m->bev, &b);
			buf_free(&b);
			return ok;
		}
		ok = reply_user(m, id, user, true, &uf);
		free(user);
		auth_kv_clear(&uf);
		return ok;
	}
	log_warn("auth master: unknown command %s", log_sanitize(f[0], 20));
	return false;
}

/* mconn_line - auth_lines() handler; a bad line closes the connection */
static bool mconn_line(void *ctx, char **f, int n)
{
	struct mconn *m = ctx;

	if (handle(m, f, n))
		return true;
	mconn_free(m);
	return false;
}

/* on_mread - lines from a dispatcher */
static void on_mread(struct bufferevent *bev, void *arg)
{
	struct mconn *m = arg;
	const char *err;

	if (auth_lines(bev, mconn_line, m, &err) < 0) {
		log_warn("auth master: %s", err);
		mconn_free(m);
	}
}

/* on_mevent - EOF or error */
static void on_mevent(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		mconn_free(arg);
}

/* auth_mconn_accept - a dispatcher connected */
void auth_mconn_accept(struct auth *a, int fd)
{
	struct mconn *m = xcalloc(1, sizeof(*m));
	struct buf b = BUF_INIT(128);

	m->a = a;
	m->bev = bufferevent_socket_new(a->base, fd, BEV_OPT_CLOSE_ON_FREE);
	m->next = mconns;
	if (mconns)
		mconns->prev = m;
	mconns = m;
	a->n_mconns++;
	bufferevent_setcb(m->bev, on_mread, NULL, on_mevent, m);
	bufferevent_enable(m->bev, EV_READ);
	buf_printf(&b, "VERSION\t1\t0\nSPID\t%ld", (long)getpid());
	auth_out(m->bev, &b);
	buf_free(&b);
}

/* auth_mconn_free_all - at exit */
void auth_mconn_free_all(struct auth *a)
{
	(void)a;
	while (mconns)
		mconn_free(mconns);
}
