/*
 * auth.h - inside the auth service: settings, password and user databases, connections
 *
 * Shared by auth.c (startup, sockets, signals), auth_db.c (passdb/userdb),
 * auth_conn.c (private/auth: SASL requests) and auth_mconn.c (private/auth-master).
 * Not used outside src/auth: other processes use auth_client.h / auth_master.h.
 *
 * Runs in:  the auth service (mail_owner when the master is root)
 * Tests:    tests/e2e/test_auth.py
 */
#ifndef POSTERN_AUTH_AUTH_H
#define POSTERN_AUTH_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lib/buf.h"

struct event_base;
struct bufferevent;
struct dconf;
struct htab;
struct pwf_entry;

#define AUTH_MAX_CONNS 4096          /* connections on each socket */
#define AUTH_MAX_REQUESTS 1024       /* requests in progress on one client connection */
#define AUTH_MAX_SUCCESSES 1024      /* successful logins kept for REQUEST on one connection */
#define AUTH_SUCCESS_TTL 30          /* seconds a success may be REQUESTed */
#define AUTH_REQUEST_TIMEOUT 300     /* seconds a request may wait for the client */
#define AUTH_OUTPUT_MAX (1024 * 1024) /* unread output to one peer before it is dropped */
#define AUTH_KV_MAX 32               /* userdb fields of one user */
#define AUTH_MAX_FILES 1024          /* passwd-files kept in memory (per-domain paths) */

/* a few key=value fields (userdb), later set() replaces */
struct auth_kv {
	size_t n;
	char *k[AUTH_KV_MAX], *v[AUTH_KV_MAX];
};
void auth_kv_set(struct auth_kv *kv, const char *k, const char *v);
const char *auth_kv_get(const struct auth_kv *kv, const char *k);
void auth_kv_copy(struct auth_kv *dst, const struct auth_kv *src);
void auth_kv_clear(struct auth_kv *kv);

enum authdb_driver { AUTHDB_PASSWD_FILE, AUTHDB_STATIC };

struct authdb {
	enum authdb_driver driver;
	char *path;            /* passwd-file: the path template */
	char *username_format; /* passwd-file: the key in the file (%u) */
	char *scheme;          /* passwd-file: default scheme of bare hashes (CRYPT) */
	struct auth_kv args;   /* static: uid= gid= home= ... templates */
	bool allow_all_users;  /* static */
	struct htab *files;    /* expanded path -> struct pwfile */
	bool log_reads;        /* log each (re)reading of a file (the service, not `postern check`) */
	struct authdb *next;
};

struct auth_settings {
	bool verbose, debug, allow_plaintext;
	uint64_t failure_delay_ms;
	char *username_format, *username_chars, *default_realm, *anonymous_user, *hostname;
	char **mechs; /* upper case, NULL-terminated */
	char **realms;
};

struct aconn;

struct auth {
	struct event_base *base;
	struct auth_settings set;
	struct authdb *passdbs, *userdbs;
	struct aconn *conns;  /* client connections (private/auth) */
	size_t n_conns, n_mconns;
	unsigned next_cuid;
	bool stopping;
};

enum authdb_result { AUTHDB_OK, AUTHDB_NOUSER, AUTHDB_ERROR };

/* auth_db_open - the passdbs and userdbs of cf; 0, or -1 with *error_r (xasprintf'd) */
int auth_db_open(struct auth *a, const struct dconf *cf, char **error_r);
void auth_db_close(struct auth *a);
/*
 * auth_passdb_lookup - the passdb entry of user (already translated): the
 * first passdb that knows it. The entry stays valid until the next lookup.
 * *db_r: the passdb that answered (for the log). AUTHDB_ERROR: *error_r
 * (static or in a small ring, for the log).
 */
enum authdb_result auth_passdb_lookup(struct auth *a, const char *user, const struct pwf_entry **e_r,
				      const struct authdb **db_r, const char **error_r);
/*
 * auth_userdb_lookup - the userdb fields of user into out (which holds the
 * passdb's userdb_* fields as defaults, or is empty). check_exists: a plain
 * USER lookup, where a static userdb asks the passdb unless allow_all_users.
 */
enum authdb_result auth_userdb_lookup(struct auth *a, const char *user, bool check_exists, struct auth_kv *out,
				      const char **error_r);
/*
 * auth_db_scan - call fn for every line of a passwd-file db (when its path has
 * no %variables). 1 done, 0 skipped, -1 with *error_r (cannot read).
 */
int auth_db_scan(struct authdb *db, void (*fn)(const struct pwf_entry *e, void *ctx), void *ctx,
		 const char **error_r);
/* auth_db_name - "passwd-file", "static" */
const char *auth_db_name(const struct authdb *db);
/* auth_user_translate - apply auth_default_realm, username_chars, auth_username_format; NULL: refused */
char *auth_user_translate(struct auth *a, const char *user, const char **error_r);

/* auth_conn.c: the client protocol */
void auth_conn_accept(struct auth *a, int fd);
void auth_conn_free_all(struct auth *a);
/*
 * auth_conn_take_success - the successful authentication (login pid, id,
 * cookie), removed so it is used once; its user (malloc'd) and passdb userdb
 * fields. 1 found, 0 not (unknown, expired, used).
 */
int auth_conn_take_success(struct auth *a, pid_t pid, uint32_t id, const char *cookie, char **user_r,
			   struct auth_kv *fields_r);

/* auth_mconn.c: the master protocol */
void auth_mconn_accept(struct auth *a, int fd);
void auth_mconn_free_all(struct auth *a);

/* auth_out - append a line (already formatted, without LF) to a bufferevent; false when over AUTH_OUTPUT_MAX */
bool auth_out(struct bufferevent *bev, const struct buf *line);
/* auth_kv_format - append "\tk=v" for every field, escaped */
void auth_kv_format(const struct auth_kv *kv, struct buf *b);

#endif
