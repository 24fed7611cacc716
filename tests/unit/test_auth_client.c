/*
 * test_auth_client.c - the auth client libraries (src/auth/auth_client.c, auth_master.c)
 * against a scripted server on a real unix socket: handshake, replies,
 * escaping, TEMPFAIL/FAIL when the connection breaks, reconnect, abort, and
 * freeing the client from inside a callback. (The real auth service is
 * tested in tests/e2e/test_auth.py.)
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "unit.h"

#include <event2/event.h>

#include "auth/auth_client.h"
#include "auth/auth_master.h"

#define HANDSHAKE                                                                                    \
	"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tCRAM-MD5\tdictionary\tactive\nMECH\tAPOP\tprivate\n" \
	"SPID\t1\nCUID\t1\nCOOKIE\t0123456789abcdef0123456789abcdef\nDONE\n"

struct fx {
	char dir[40], path[80];
	int lfd;
	struct event_base *base;
};

struct got {
	int n;
	int reply;
	char data[256];
	bool null_data;
	struct auth_client **free_me;
};

static void on_reply(enum auth_client_reply r, const char *data, void *ctx)
{
	struct got *g = ctx;

	g->n++;
	g->reply = (int)r;
	g->null_data = data == NULL;
	snprintf(g->data, sizeof(g->data), "%s", data ? data : "");
	if (g->free_me)
		auth_client_free(g->free_me);
}

/* pump - run the loop for ms milliseconds */
static void pump(struct fx *f, int ms)
{
	struct timeval tv = { 0, ms * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

/* accept_one - the client's connection, pumping the loop meanwhile */
static int accept_one(struct fx *f)
{
	for (int i = 0; i < 200; i++) {
		int c = accept(f->lfd, NULL, NULL);

		if (c >= 0)
			return c;
		pump(f, 20);
	}
	fail_msg("the client never connected");
	return -1;
}

/* expect - read from the server side until want has arrived (pumping the loop) */
static void expect(struct fx *f, int fd, const char *want)
{
	char buf[4096];
	size_t got = 0, n = strlen(want);

	while (got < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		pump(f, 10);
		if (poll(&p, 1, 50) <= 0)
			continue;
		r = read(fd, buf + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	buf[got] = '\0';
	assert_string_equal(buf, want);
}

static void say(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_auth_client.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/auth", f->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	f->base = event_base_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void test_client_exchange_break_reconnect(void **state)
{
	struct fx *f = *state;
	struct auth_client *c = auth_client_new(f->base, f->path);
	struct auth_request_info info = { .mech = "PLAIN", .service = "pop3", .lip = "127.0.0.1", .rip = "a\tb",
					  .lport = 110, .rport = 5, .secured = true, .initial_response = "AGEAYg==" };
	struct got g = { 0 }, g2 = { 0 };
	char want[256];
	bool plain = false;
	uint32_t id;
	int s = accept_one(f);

	assert_false(auth_client_ready(c));
	assert_string_equal(auth_client_cookie(c), "");
	assert_int_equal(auth_request_start(c, &info, on_reply, &g), 0); /* not ready: refused, no callback */
	say(s, HANDSHAKE);
	snprintf(want, sizeof(want), "VERSION\t1\t2\nCPID\t%ld\n", (long)getpid());
	expect(f, s, want);
	assert_true(auth_client_ready(c));
	assert_string_equal(auth_client_cookie(c), "0123456789abcdef0123456789abcdef");
	assert_string_equal(auth_client_mechs(c, false), "CRAM-MD5");
	assert_string_equal(auth_client_mechs(c, true), "PLAIN CRAM-MD5");
	assert_true(auth_client_mech_ok(c, "plain", &plain) && plain);
	assert_true(auth_client_mech_ok(c, "APOP", &plain) && !plain);
	assert_false(auth_client_mech_ok(c, "DIGEST-MD5", &plain));

	id = auth_request_start(c, &info, on_reply, &g);
	assert_int_equal(id, 1);
	expect(f, s, "AUTH\t1\tPLAIN\tservice=pop3\tsecured\tlip=127.0.0.1\trip=a\\tb\tlport=110\trport=5\tresp=AGEAYg==\n");
	say(s, "CONT\t1\tY2hhbA==\n");
	pump(f, 50);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.reply, AUTH_CLIENT_CONTINUE);
	assert_string_equal(g.data, "Y2hhbA==");
	auth_request_continue(c, id, "cmVzcA==");
	expect(f, s, "CONT\t1\tcmVzcA==\n");
	say(s, "OK\t1\tuser=john\\\\x\n");
	pump(f, 50);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.reply, AUTH_CLIENT_OK);
	assert_string_equal(g.data, "john\\x");

	/* a FAIL with an escaped reason; temp is TEMPFAIL; an aborted request hears nothing */
	id = auth_request_start(c, &info, on_reply, &g2);
	expect(f, s, "AUTH\t2\t");
	say(s, "FAIL\t2\tuser=x\treason=Bad\\tthing\n");
	uint32_t id3 = auth_request_start(c, &info, on_reply, &g);
	auth_request_abort(c, id3);
	say(s, "FAIL\t3\n");
	pump(f, 50);
	assert_int_equal(g2.n, 1);
	assert_int_equal(g2.reply, AUTH_CLIENT_FAIL);
	assert_string_equal(g2.data, "Bad\tthing");
	assert_int_equal(g.n, 2);

	/* the connection breaks: the request in flight gets TEMPFAIL, then the client reconnects */
	memset(&g2, 0, sizeof(g2));
	id = auth_request_start(c, &info, on_reply, &g2);
	assert_true(id > 0);
	close(s);
	pump(f, 50);
	assert_int_equal(g2.n, 1);
	assert_int_equal(g2.reply, AUTH_CLIENT_TEMPFAIL);
	assert_false(auth_client_ready(c));
	assert_int_equal(auth_request_start(c, &info, on_reply, &g2), 0);
	s = accept_one(f);
	say(s, HANDSHAKE);
	expect(f, s, "VERSION\t1\t2\n");
	assert_true(auth_client_ready(c));

	/* freeing the client inside a callback */
	memset(&g2, 0, sizeof(g2));
	g2.free_me = &c;
	id = auth_request_start(c, &info, on_reply, &g2);
	say(s, "FAIL\t");
	snprintf(want, sizeof(want), "%u\ttemp\n", id);
	say(s, want);
	pump(f, 50);
	assert_int_equal(g2.n, 1);
	assert_int_equal(g2.reply, AUTH_CLIENT_TEMPFAIL);
	assert_null(c);
	close(s);
}

static void test_client_malformed_server_line(void **state)
{
	struct fx *f = *state;
	struct auth_client *c = auth_client_new(f->base, f->path);
	struct auth_request_info info = { .mech = "PLAIN", .service = "pop3" };
	struct got g = { 0 };
	int s = accept_one(f);

	say(s, HANDSHAKE);
	expect(f, s, "VERSION\t1\t2\n");
	assert_true(auth_request_start(c, &info, on_reply, &g) > 0);
	say(s, "OK\tnot-a-number\n");
	pump(f, 50);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.reply, AUTH_CLIENT_TEMPFAIL);
	assert_false(auth_client_ready(c));
	auth_client_free(&c);
	close(s);
}

struct mgot {
	int n;
	int res;
	char user[64], home[64], mail[64], reason[64];
	unsigned long uid, gid;
};

static void on_master(enum auth_master_result r, const struct auth_userdb *u, const char *reason, void *ctx)
{
	struct mgot *g = ctx;

	g->n++;
	g->res = (int)r;
	if (u) {
		snprintf(g->user, sizeof(g->user), "%s", u->user);
		snprintf(g->home, sizeof(g->home), "%s", u->home);
		snprintf(g->mail, sizeof(g->mail), "%s", u->mail);
		g->uid = u->has_uid ? (unsigned long)u->uid : 999999;
		g->gid = u->has_gid ? (unsigned long)u->gid : 999999;
	}
	snprintf(g->reason, sizeof(g->reason), "%s", reason ? reason : "");
}

static void test_master(void **state)
{
	struct fx *f = *state;
	struct auth_master *m = auth_master_new(f->base, f->path);
	struct mgot g1 = { 0 }, g2 = { 0 }, g3 = { 0 };
	int s;

	auth_master_request(m, 1234, 7, "0123456789abcdef0123456789abcdef", on_master, &g1);
	auth_master_user(m, "ja\tne", "pop3", on_master, &g2);
	s = accept_one(f);
	expect(f, s, "REQUEST\t1\t1234\t7\t0123456789abcdef0123456789abcdef\nUSER\t2\tja\\tne\tservice=pop3\n");
	say(s, "VERSION\t1\t0\nSPID\t9\nUSER\t1\tjohn\tuid=5000\tgid=5001\thome=/h\\tx\tmail=maildir:~/M\tquota=1\n"
	       "NOTFOUND\t2\n");
	pump(f, 50);
	assert_int_equal(g1.n, 1);
	assert_int_equal(g1.res, AUTH_MASTER_OK);
	assert_string_equal(g1.user, "john");
	assert_int_equal(g1.uid, 5000);
	assert_int_equal(g1.gid, 5001);
	assert_string_equal(g1.home, "/h\tx");
	assert_string_equal(g1.mail, "maildir:~/M");
	assert_int_equal(g2.n, 1);
	assert_int_equal(g2.res, AUTH_MASTER_NOTFOUND);

	/* broken connection: FAIL; the next request connects again */
	auth_master_user(m, "x", "pop3", on_master, &g3);
	expect(f, s, "USER\t3\tx\tservice=pop3\n");
	close(s);
	pump(f, 50);
	assert_int_equal(g3.n, 1);
	assert_int_equal(g3.res, AUTH_MASTER_FAIL);
	memset(&g3, 0, sizeof(g3));
	auth_master_user(m, "y", "pop3", on_master, &g3);
	s = accept_one(f);
	expect(f, s, "USER\t4\ty\tservice=pop3\n");
	say(s, "FAIL\t4\treason=disk\\tgone\n");
	pump(f, 50);
	assert_int_equal(g3.res, AUTH_MASTER_FAIL);
	assert_string_equal(g3.reason, "disk\tgone");
	close(s);
	auth_master_free(&m);
	assert_null(m);
}

static void test_master_unreachable_fails_from_the_loop(void **state)
{
	struct fx *f = *state;
	struct auth_master *m = auth_master_new(f->base, "/nonexistent/auth-master");
	struct mgot g = { 0 };

	auth_master_user(m, "x", "pop3", on_master, &g);
	assert_int_equal(g.n, 0); /* never from inside the call */
	pump(f, 50);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.res, AUTH_MASTER_FAIL);
	auth_master_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_exchange_break_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_malformed_server_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_master_unreachable_fails_from_the_loop, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
