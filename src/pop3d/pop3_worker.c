/*
 * pop3_worker.c - `postern service pop3-worker`: the POP3 mail sessions of one uid:gid
 *
 * Started by the dispatcher (pop3_disp.c) already running as the mail user,
 * with a SOCK_SEQPACKET socket on descriptor 3: each message is one SESSION
 * line (docs/mail-access.md) with the client's socket attached. Many sessions
 * share this process and its libevent loop. A session:
 *
 *   - expands the mail location (the userdb's mail, else mail_location) with
 *     %u %n %d %h, opens the INBOX with the store (mstore_open_location:
 *     Maildir or mbox; a new user's Maildir is created);
 *     "+OK Logged in." when it is open, "-ERR [SYS/TEMP] ..." when not;
 *   - feeds the bytes the login had read but not used, then the socket's, line
 *     by line to pop3_txn; a streamed reply (RETR, TOP) is continued by
 *     pop3_txn_more() only while the output is below WORKER_OUT_LOW, so a huge
 *     message never sits in memory;
 *   - refuses a user's session beyond mail_max_userip_connections from one
 *     address (counted here: every session of a user is in the same worker);
 *   - ends at QUIT (deletions applied by pop3_txn) or when the client goes
 *     (nothing deleted), with Dovecot's line
 *     "pop3(user): Disconnected: Logged out top=../.., retr=../.., del=../.., size=..".
 *
 * The worker leaves when the dispatcher's socket closes and no session is
 * left; on SIGTERM it ends every session at once, deleting nothing.
 *
 * Runs in:  pop3 worker, as the user's uid:gid (never root when started by root);
 *           input is UNTRUSTED client data (after login)
 * API:      pop3_worker_main()
 * Limits:   WORKER_LINE_MAX per command line, WORKER_IDLE_S idle (Dovecot's 10
 *           minute autologout), output WORKER_OUT_LOW..WORKER_OUT_HIGH per session
 * Tests:    tests/e2e/test_pop3.py
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/encode.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "libmail/varexpand.h"
#include "login/access.h"
#include "master/service.h"
#include "pop3d/pop3_txn.h"
#include "pop3d/pop3d.h"

#define WORKER_LINE_MAX 8192
#define WORKER_IDLE_S 600
#define WORKER_OUT_LOW (16 * 1024)
#define WORKER_OUT_HIGH (64 * 1024)
#define WORKER_MSG_MAX (64 * 1024)

struct session {
	struct bufferevent *bev;
	struct pop3_txn *txn;
	char *user;
	char *rip;
	struct evbuffer *pre; /* bytes the login read but did not use, then what follows them; or NULL */
	bool streaming; /* a POP3_TXN_MORE reply is being sent */
	bool closing;   /* close once the output is written */
	const char *why;
	struct buf out;
	struct session *prev, *next;
};

static struct {
	struct access_env env;
	struct event_base *base;
	struct event *dev;
	struct session *sessions;
	bool dispatcher_gone;
} W;

static void session_input(struct bufferevent *bev, void *arg);

/* session_free - log and release; nothing is deleted unless QUIT ran */
static void session_free(struct session *s)
{
	log_info("pop3(%s): Disconnected: %s %s", log_sanitize(s->user, 100), s->why ? s->why : "Connection closed",
		 s->txn ? pop3_txn_logout_stats(s->txn) : "");
	if (s->txn)
		pop3_txn_free(&s->txn);
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->pre)
		evbuffer_free(s->pre);
	buf_free(&s->out);
	free(s->user);
	free(s->rip);
	if (s->prev)
		s->prev->next = s->next;
	else
		W.sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
	if (W.dispatcher_gone && W.sessions == NULL)
		event_base_loopbreak(W.base);
}

/* session_close - write what is queued, then free */
static void session_close(struct session *s, const char *why)
{
	s->closing = true;
	if (s->why == NULL)
		s->why = why;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		session_free(s);
}

/* emit - move the reply buffer to the client */
static void emit(struct session *s)
{
	if (s->out.len)
		bufferevent_write(s->bev, s->out.data, s->out.len);
	buf_reset(&s->out);
}

/* handle - the status of a pop3_txn call */
static void handle(struct session *s, enum pop3_txn_status st)
{
	emit(s);
	s->streaming = st == POP3_TXN_MORE;
	if (st == POP3_TXN_QUIT) {
		const char *err = pop3_txn_error(s->txn);

		if (err)
			log_warn("pop3(%s): %s", log_sanitize(s->user, 100), err);
		session_close(s, err ? "Internal error" : "Logged out");
	}
}

/* session_input - run every complete command line */
static void session_input(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (s->pre) {
		evbuffer_add_buffer(s->pre, in);
		if (evbuffer_get_length(s->pre) == 0) {
			evbuffer_free(s->pre);
			s->pre = NULL;
		} else {
			in = s->pre;
		}
	}
	while (!s->streaming && !s->closing) {
		size_t n;
		char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);

		if (line == NULL) {
			if (evbuffer_get_length(in) > WORKER_LINE_MAX) {
				bufferevent_write(bev, "-ERR Input line too long.\r\n", 27);
				session_close(s, "Input line too long");
			}
			return;
		}
		if (n > WORKER_LINE_MAX) {
			free(line);
			bufferevent_write(bev, "-ERR Input line too long.\r\n", 27);
			session_close(s, "Input line too long");
			return;
		}
		handle(s, pop3_txn_line(s->txn, line, n, &s->out));
		free(line);
		/* pipelined commands wait while a reply is large */
		if (evbuffer_get_length(bufferevent_get_output(bev)) >= WORKER_OUT_HIGH)
			return;
	}
}

/* session_output - the output drained below WORKER_OUT_LOW: continue a stream, or close */
static void session_output(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			session_free(s);
		return;
	}
	while (s->streaming && !s->closing &&
	       evbuffer_get_length(bufferevent_get_output(bev)) < WORKER_OUT_LOW)
		handle(s, pop3_txn_more(s->txn, &s->out, WORKER_OUT_HIGH - WORKER_OUT_LOW));
	if (!s->streaming && !s->closing)
		session_input(bev, s);
}

static void session_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		if (s->closing) { /* the client does not even read */
			session_free(s);
			return;
		}
		/* libevent stopped both directions: write the notice, then close */
		s->why = "Disconnected for inactivity";
		s->streaming = false;
		bufferevent_write(s->bev, "-ERR Disconnected for inactivity.\r\n", 35);
		bufferevent_enable(s->bev, EV_WRITE);
		session_close(s, NULL);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (s->why == NULL)
			s->why = "Connection closed";
		session_free(s);
	}
}

/* make_parents - mkdir -p the directories above path (mode 0700), as Dovecot creates a new user's */
static void make_parents(const char *path)
{
	char *p = xstrdup(path);

	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		(void)mkdir(p, 0700);
		*q = '/';
	}
	free(p);
}

/*
 * open_inbox - the user's INBOX: the location expanded (%u %n %d %h), parsed and
 * opened by the store (Maildir or mbox); an empty location means ~/Maildir.
 * A new user's Maildir is created with its parents. 0, or -1 with *error_r.
 */
static int open_inbox(const char *user, const char *home, const char *location, struct mstore_box **box,
		      const char **error_r)
{
	struct var_entry tab[VAR_USER_ENTRIES];
	char *scratch = xmalloc(strlen(user) + 2);
	struct buf b = BUF_INIT(4096);
	struct arena *a = arena_new(0);
	struct mail_location ml;
	size_t n = var_user_table(tab, user, *home ? home : NULL, scratch);
	int rc = -1;

	if (var_expand(*location ? location : "maildir:~/Maildir", tab, n, &b, error_r, NULL) < 0 ||
	    mail_location_parse(buf_cstr(&b), a, &ml, error_r) < 0)
		goto out;
	if (*ml.path == '~' && *home == '\0') {
		*error_r = "the mail location uses ~ but the user has no home directory";
		goto out;
	}
	if (strcmp(ml.driver, "maildir") == 0) {
		char *path = *ml.path == '~' ? xasprintf("%s%s", home, ml.path + 1) : xstrdup(ml.path);

		make_parents(path);
		free(path);
	}
	rc = mstore_open_location(&ml, home, box, error_r);
out:
	arena_free(&a);
	buf_free(&b);
	free(scratch);
	return rc;
}

/* session_refuse - send one -ERR reply and close */
static void session_refuse(struct session *s, const char *reply, const char *why)
{
	bufferevent_write(s->bev, reply, strlen(reply));
	bufferevent_setcb(s->bev, NULL, session_output, session_event, s);
	bufferevent_enable(s->bev, EV_WRITE);
	session_close(s, why);
}

/* userip_count - sessions of this worker for user from rip (a user always maps to the same worker) */
static unsigned userip_count(const char *user, const char *rip)
{
	unsigned n = 0;

	for (struct session *s = W.sessions; s; s = s->next)
		if (s->rip && strcmp(s->user, user) == 0 && strcmp(s->rip, rip) == 0)
			n++;
	return n;
}

/* session_start - one SESSION message: open the mailbox, greet, run */
static void session_start(char *msg, int fd)
{
	char *f[11];
	struct session *s;
	struct mstore_box *box = NULL;
	struct buf input = BUF_INIT(WORKER_MSG_MAX);
	const char *err = NULL;
	struct timeval idle = { WORKER_IDLE_S, 0 };

	if (access_split(msg, f, 11) != 11 || strcmp(f[0], "SESSION") != 0 ||
	    base64_decode(&input, f[10], strlen(f[10])) < 0)
		fatal("malformed SESSION message from the dispatcher");
	unsigned long limit = strtoul(dconf_get_proto(W.env.dc, "pop3", DCONF_mail_max_userip_connections), NULL, 10);
	unsigned already = userip_count(f[1], f[7]);

	s = xcalloc(1, sizeof(*s));
	s->user = xstrdup(f[1]);
	buf_init(&s->out, 0);
	s->bev = bufferevent_socket_new(W.base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->next = W.sessions;
	if (W.sessions)
		W.sessions->prev = s;
	W.sessions = s;
	if (limit && already >= limit) {
		char *reply = xasprintf("-ERR [IN-USE] Maximum number of connections from user+IP exceeded "
					"(mail_max_userip_connections=%lu)\r\n", limit);

		session_refuse(s, reply, "Maximum number of connections from user+IP exceeded");
		free(reply);
		buf_free(&input);
		return;
	}
	s->rip = xstrdup(f[7]);
	if (open_inbox(f[1], f[2], f[3], &box, &err) < 0) {
		log_err("pop3(%s): cannot open the INBOX (%s): %s", log_sanitize(s->user, 100), f[3], err);
		session_refuse(s, "-ERR [SYS/TEMP] Couldn't open INBOX.\r\n", "Couldn't open INBOX");
		buf_free(&input);
		return;
	}
	if (box->warning)
		log_warn("pop3(%s): %s", log_sanitize(s->user, 100), box->warning);
	struct pop3_txn_settings set = { .uidl_format = f[4], .user = s->user, .capa = NULL };

	s->txn = pop3_txn_new(box, &set);
	bufferevent_setcb(s->bev, session_input, session_output, session_event, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, WORKER_OUT_LOW, 0);
	bufferevent_setwatermark(s->bev, EV_READ, 0, WORKER_LINE_MAX + 1024);
	bufferevent_set_timeouts(s->bev, &idle, &idle);
	bufferevent_write(s->bev, "+OK Logged in.\r\n", 16);
	if (input.len) {
		/* a socket bufferevent's input only grows by reading: keep these apart */
		s->pre = evbuffer_new();
		evbuffer_add(s->pre, input.data, input.len);
	}
	buf_free(&input);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	session_input(s->bev, s);
}

/* dispatcher_read - a SESSION from the dispatcher, or its end */
static void dispatcher_read(evutil_socket_t fd, short what, void *arg)
{
	struct buf b = BUF_INIT(WORKER_MSG_MAX + 1);
	int client = -1;
	ssize_t n;

	(void)what;
	(void)arg;
	n = access_fd_recv(fd, &b, WORKER_MSG_MAX, &client);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		buf_free(&b);
		return;
	}
	if (n <= 0) {
		buf_free(&b);
		if (client >= 0)
			close(client);
		event_del(W.dev);
		W.dispatcher_gone = true;
		if (W.sessions == NULL)
			event_base_loopbreak(W.base);
		return;
	}
	if (client < 0)
		fatal("SESSION message without a descriptor");
	session_start(b.data, client);
	buf_free(&b);
}

/* sigterm - end every session now; QUIT was not given, so nothing is deleted */
static void sigterm(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	while (W.sessions) {
		W.sessions->why = "Server shutting down";
		session_free(W.sessions);
	}
	event_base_loopbreak(W.base);
}

/* pop3_worker_main - `postern service pop3-worker` (started by the dispatcher) */
int pop3_worker_main(struct cli *cli, int argc, char **argv)
{
	struct event *st;

	(void)argc;
	(void)argv;
	memset(&W, 0, sizeof(W));
	access_setup(cli->config_dir, "pop3", &W.env);
	if (W.env.root)
		fatal("a pop3 worker never runs as root");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (service_listen_fds(NULL) != 1)
		fatal("expected the dispatcher's socket on descriptor %d", SERVICE_LISTEN_FD_BASE);
	W.base = event_base_new();
	if (W.base == NULL)
		fatal("event_base_new failed");
	W.dev = event_new(W.base, SERVICE_LISTEN_FD_BASE, EV_READ | EV_PERSIST, dispatcher_read, NULL);
	event_add(W.dev, NULL);
	st = evsignal_new(W.base, SIGTERM, sigterm, NULL);
	event_add(st, NULL);
	event_base_dispatch(W.base);
	while (W.sessions)
		session_free(W.sessions);
	event_free(W.dev);
	event_free(st);
	event_base_free(W.base);
	access_free(&W.env);
	return 0;
}
