/*
 * login-private.h - what login.c, login_proxy.c and login_tls.c share inside the login layer
 */
#ifndef POSTERN_LOGIN_PRIVATE_H
#define POSTERN_LOGIN_PRIVATE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "lib/buf.h"
#include "login/login.h"

struct dconf;
struct event;
struct event_base;
struct bufferevent;

enum conn_state {
	C_PREAUTH,     /* reading commands */
	C_TLS_WAIT,    /* STLS answered: waiting for the answer to be written */
	C_HANDOVER,    /* waiting for the output to drain, then for the dispatcher */
	C_PROXY,       /* logged in over TLS: copying bytes */
	C_CLOSING,     /* flushing the last reply */
};

/* a client connection (login.c owns it; login_proxy.c runs it after a TLS login) */
struct login_conn {
	int fd;
	bool bev_owns_fd;           /* the TLS bufferevent closes the socket */
	struct bufferevent *bev;    /* the client */
	struct login_info info;
	char rip[INET6_ADDRSTRLEN], lip[INET6_ADDRSTRLEN];
	void *st;                   /* the protocol's state, NULL once freed */
	enum conn_state state;
	bool in_lines;              /* inside process_lines(): defer frees */
	bool suspended;
	bool greeted;               /* the protocol has greeted (the auth service was ready) */
	bool dead;                  /* free at the end of process_lines() */
	char *user, *mech, *reason;
	unsigned failed;
	time_t started;
	struct event *kick;         /* deferred work: resume, hand-over */
	/* hand-over */
	uint32_t auth_id;
	int hfd;
	struct event *hev;
	struct buf hreply;
	int pair;                   /* TLS: our end of the socketpair until the proxy starts */
	/* proxy */
	struct bufferevent *pbev;
	struct login_conn *prev, *next;
};

/* login_conn_free - close and release c (deferred while its lines are being run) */
void login_conn_free(struct login_conn *c);
/* login_proxy_start - c logged in over TLS: copy between c->bev and the socketpair end c->pair */
void login_proxy_start(struct login_conn *c, struct event_base *base);

/*
 * login_tls_ctx - the server TLS context from dovecot.conf; NULL when TLS is
 * off (fatal on bad files). key_fd: ssl_key opened by the master (read from
 * its start, then closed), or -1: the login reads the file itself.
 */
SSL_CTX *login_tls_ctx(const struct dconf *dc, int key_fd);

#endif
