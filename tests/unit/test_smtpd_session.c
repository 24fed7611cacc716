/*
 * test_smtpd_session.c - the SMTP session engine without sockets
 *
 * Drives smtpd_session_run() with scripted input, whole and cut into every
 * chunk size from 1 byte, and checks that the replies are the same and in
 * order (PIPELINING), that DATA ends only at CRLF.CRLF, that a committed
 * message gets "250 2.0.0 Ok: queued as ID" and that the queue file holds it.
 * The group commit hook commits synchronously here.
 */
#include "unit.h"

#include <stdio.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "libmail/config.h"
#include "libmail/resolve.h"
#include "libmail/restrict.h"
#include "smtpd/smtpd.h"

struct fixture {
	char top[64];
	struct qstore qs;
	struct config *cfg;
	struct route *route;
	struct smtpd_server srv;
	struct smtpd_session *committing;
};

static struct fixture *FX;

/* sync_commit - the test's commit hook: remember the session */
static void sync_commit(struct smtpd_server *srv, struct smtpd_session *s)
{
	(void)srv;
	FX->committing = s;
}

/* quiet - drop log lines */
static void quiet(enum log_level lvl, const char *text, void *ctx)
{
	(void)lvl;
	(void)text;
	(void)ctx;
}

/* setup - a queue, a config with example.org virtual, a server */
static int setup(void **state)
{
	static const char main_cf[] = "myhostname = mx.example.com\n"
				      "mynetworks = 127.0.0.0/8\n"
				      "virtual_mailbox_domains = example.org\n"
				      "message_size_limit = 1000\n"
				      "smtpd_recipient_limit = 3\n";
	struct fixture *x = calloc(1, sizeof(*x));
	const char *err;
	char qdir[128];

	log_set_hook(quiet, NULL);
	snprintf(x->top, sizeof(x->top), "/var/tmp/test_smtpd.XXXXXX");
	assert_non_null(mkdtemp(x->top));
	snprintf(qdir, sizeof(qdir), "%s/queue", x->top);
	assert_int_equal(qstore_open(&x->qs, qdir, (uid_t)-1, (gid_t)-1, &err), 0);
	x->cfg = config_parse(main_cf, sizeof(main_cf) - 1, "main.cf", NULL);
	x->route = route_open(x->cfg, NULL, &err);
	assert_non_null(x->route);
	x->srv.cfg = x->cfg;
	x->srv.qs = &x->qs;
	x->srv.restr = restrict_compile(x->cfg, x->route, NULL);
	x->srv.myhostname = "mx.example.com";
	x->srv.mail_name = "Postern";
	x->srv.banner = strdup("mx.example.com ESMTP Postern");
	x->srv.message_size_limit = 1000;
	x->srv.line_limit = 2048;
	x->srv.recipient_limit = 3;
	x->srv.soft_error_limit = 100;
	x->srv.hard_error_limit = 20;
	x->srv.junk_command_limit = 100;
	x->srv.bare_lf_code = 550;
	x->srv.cmd_lim = (struct smtp_cmd_limits){ 2048, 256, 10, 500, 1000 };
	x->srv.data_lim = (struct smtp_data_limits){ 1000, 2048, SMTP_BARE_LF_NORMALIZE, SMTP_BARE_CR_KEEP };
	x->srv.commit_enqueue = sync_commit;
	FX = x;
	*state = x;
	return 0;
}

/* teardown - release everything and remove the queue */
static int teardown(void **state)
{
	struct fixture *x = *state;
	char cmd[128];

	restrict_free(&x->srv.restr);
	route_free(&x->route);
	config_free(&x->cfg);
	qstore_close(&x->qs);
	free(x->srv.banner);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->top);
	assert_int_equal(system(cmd), 0);
	free(x);
	log_set_hook(NULL, NULL);
	return 0;
}

/*
 * converse - feed in[] in chunks of `step` bytes, committing synchronously,
 * and return every reply (malloc'd); the queue id of the last message in id
 */
static char *converse(struct fixture *x, const char *in, size_t step, char id[32])
{
	struct smtpd_session *s = smtpd_session_new(&x->srv, "127.0.0.1", NULL);
	struct buf all = BUF_INIT(0);
	size_t len = strlen(in), off = 0;
	enum smtpd_want w;

	id[0] = 0;
	for (;;) {
		w = smtpd_session_run(s, false);
		if (w == SMTPD_WANT_COMMIT) {
			struct qstore_file *f = smtpd_session_file(s);

			assert_ptr_equal(x->committing, s);
			snprintf(id, 32, "%s", qstore_file_id(f));
			assert_int_equal(qstore_commit_batch(&f, 1), 1);
			smtpd_session_committed(s);
			continue;
		}
		buf_append(&all, smtpd_session_output(s)->data, smtpd_session_output(s)->len);
		buf_reset(smtpd_session_output(s));
		if (w == SMTPD_WANT_CLOSE || w == SMTPD_WANT_SLEEP)
			break;
		if (w == SMTPD_WANT_FLUSH)
			continue;
		if (off == len)
			break;
		size_t n = len - off < step ? len - off : step;
		assert_int_equal(linereader_feed(smtpd_session_input(s), in + off, n), 0);
		off += n;
	}
	smtpd_session_free(&s);
	return buf_detach(&all);
}

static const char SCRIPT[] =
	"EHLO client.example\r\n"
	"MAIL FROM:<a@remote.test>\r\nRCPT TO:<u@example.org>\r\nRCPT TO:<x@elsewhere.test>\r\nDATA\r\n"
	"Subject: t\r\n\r\nhello\n.\nnot the end\r\n..dot\r\n.\r\n"
	"MAIL FROM:<b@remote.test>\r\nNOOP\r\nRSET\r\nRCPT TO:<u@example.org>\r\nDATA\r\nQUIT\r\n";

/* test_pipelined_script - replies in order, independent of how input is cut */
static void test_pipelined_script(void **state)
{
	struct fixture *x = *state;
	char id[32], *whole = converse(x, SCRIPT, sizeof(SCRIPT), id);
	char expect[1024];

	snprintf(expect, sizeof(expect),
		 "220 mx.example.com ESMTP Postern\r\n"
		 "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-ENHANCEDSTATUSCODES\r\n"
		 "250-8BITMIME\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
		 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
		 "250 2.0.0 Ok: queued as %s\r\n"
		 "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n503 5.5.1 Error: need MAIL command\r\n"
		 "503 5.5.1 Error: need MAIL command\r\n221 2.0.0 Bye\r\n",
		 id);
	assert_string_equal(whole, expect);
	for (size_t step = 1; step < 40; step++) {
		char id2[32], *r = converse(x, SCRIPT, step, id2);

		snprintf(expect, sizeof(expect), "%s", whole);
		/* the queue id differs per run: compare with it replaced */
		char *p = strstr(expect, id);
		assert_non_null(p);
		memcpy(p, id2, strlen(id2));
		assert_string_equal(r, expect);
		free(r);
	}
	free(whole);
}

/* test_queue_file_content - unstuffed content, Received:, both recipient forms */
static void test_queue_file_content(void **state)
{
	struct fixture *x = *state;
	char id[32], path[256], data[8192];
	char *r = converse(x, SCRIPT, 7, id);
	FILE *f;
	size_t n;

	free(r);
	snprintf(path, sizeof(path), "%s/queue/incoming/%s", x->top, id);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = 0;
	assert_non_null(memmem(data, n, "Received: from client.example (unknown [127.0.0.1])", 51));
	assert_non_null(memmem(data, n, "hello\n\nnot the end\n.dot\n", 24));
	assert_non_null(memmem(data, n, "x@elsewhere.test", 16));
}

/* test_limits - size, recipients, line length, errors */
static void test_limits(void **state)
{
	struct fixture *x = *state;
	char id[32], big[1200], in[4096];
	char *r;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	snprintf(in, sizeof(in),
		 "HELO x\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<u1@example.org>\r\nRCPT TO:<u2@example.org>\r\n"
		 "RCPT TO:<u3@example.org>\r\nRCPT TO:<u4@example.org>\r\nDATA\r\n%s\r\n.\r\nNOOP\r\n",
		 big);
	r = converse(x, in, sizeof(in), id);
	assert_non_null(strstr(r, "452 4.5.3 Error: too many recipients\r\n354 "));
	assert_non_null(strstr(r, "552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n"));
	free(r);
	x->srv.hard_error_limit = 2;
	r = converse(x, "FOO\r\nBAR\r\nNOOP\r\n", 100, id);
	assert_string_equal(r, "220 mx.example.com ESMTP Postern\r\n502 5.5.2 Error: command not recognized\r\n"
			       "502 5.5.2 Error: command not recognized\r\n"
			       "421 4.7.0 mx.example.com Error: too many errors\r\n");
	free(r);
	x->srv.hard_error_limit = 20;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelined_script, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_file_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
