/*
 * auth_master.h - a dispatcher's (root) connection to private/auth-master
 *
 * REQUEST: turns (login pid, auth id, cookie) into the authenticated user and
 * their userdb fields, so a mail session never trusts the login process's
 * word about who logged in. USER: a plain userdb lookup. Protocol in
 * docs/mail-access.md. Asynchronous, on the caller's libevent base; the
 * caller ignores SIGPIPE. A broken connection fails the requests in flight
 * (AUTH_MASTER_FAIL); the next request connects again.
 *
 * Runs in:  the pop3 (and imap) dispatcher, root; `postern user` (blocking)
 * API:      auth_master_new(), auth_master_request(), auth_master_user(), auth_master_free()
 * Tests:    tests/e2e/test_auth.py, tests/e2e/test_pop3.py
 */
#ifndef POSTERN_AUTH_MASTER_H
#define POSTERN_AUTH_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct auth_master;

struct auth_userdb {
	const char *user;
	uid_t uid;
	gid_t gid;
	bool has_uid, has_gid;
	const char *home; /* "" when none */
	const char *mail; /* the userdb's mail location, "" when none (use mail_location) */
};

enum auth_master_result { AUTH_MASTER_OK, AUTH_MASTER_NOTFOUND, AUTH_MASTER_FAIL };

/* the result; u (valid during the call only) when OK; reason when FAIL */
typedef void auth_master_cb(enum auth_master_result r, const struct auth_userdb *u, const char *reason,
			    void *ctx);

struct auth_master *auth_master_new(struct event_base *base, const char *path);
/* auth_master_request - verify a login's authentication (see docs/mail-access.md) */
void auth_master_request(struct auth_master *m, pid_t login_pid, uint32_t auth_id, const char *cookie,
			 auth_master_cb *cb, void *ctx);
/* auth_master_user - userdb lookup of user for service */
void auth_master_user(struct auth_master *m, const char *user, const char *service, auth_master_cb *cb,
		      void *ctx);
void auth_master_free(struct auth_master **mp);

#endif
