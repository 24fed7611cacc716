/*
 * test_mbox_store.c - unit tests for src/store/mbox_store.c on real mbox files
 *
 * Mail is delivered with Postern's own mbox delivery (src/queue/mbox.c); a session's sync
 * gives UIDs and writes them back (X-UID, X-IMAPbase) so they survive a reopen; forged
 * X-UIDs do not take UIDs; clients never see the internal headers; expunge rewrites the
 * file and keeps UIDs and the last UID (the pseudo message when all mail is gone);
 * delivery while a session is open; Content-Length honoured only when it points at the
 * next message; mail_location picks the driver.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "libmail/dovecot_conf.h"
#include "pop3_unit.h"
#include "queue/mbox.h"
#include "store/mstore.h"

static char top[200];
static char mbox[300];

static int setup(void **state)
{
	(void)state;
	if (unit_tmpdir(top, sizeof(top), "mboxstore") < 0)
		return -1;
	snprintf(mbox, sizeof(mbox), "%s/inbox", top);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmdir(top);
}

/* deliver - Postern's mbox delivery of content to the test mbox */
static void deliver(const char *content)
{
	static const struct mbox_lock fast = { 3, 10, 500 };
	static const char prepend[] = "Return-Path: <a@example.org>\n";
	char q[400];
	int fd;
	struct dlv_result res;

	snprintf(q, sizeof(q), "%s/qfile", top);
	fd = open(q, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	struct dlv_msg m = { prepend, strlen(prepend), fd, 0, strlen(content) };
	assert_int_equal(mbox_deliver(mbox, &m, "a@example.org", 1800000000, &fast, NULL, &res), DLV_OK);
	close(fd);
}

/* file_text - the whole mbox file (static) */
static const char *file_text(void)
{
	static char text[65536];
	FILE *f = fopen(mbox, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static struct mstore_box *open_box(void)
{
	struct mstore_box *b = NULL;
	const char *err = NULL;

	assert_int_equal(mstore_open_mbox(mbox, &b, &err), 0);
	assert_non_null(b);
	return b;
}

/* cmd - one POP3 command, the whole reply (in small pieces: the mbox header and body both stream) */
static const char *cmd(struct pop3_txn *t, const char *line)
{
	return unit_pop3(t, line, 7, NULL);
}

static struct pop3_txn *session(const char *fmt)
{
	struct pop3_txn_settings s = { fmt ? fmt : "%08Xu%08Xv", "u", NULL };

	return pop3_txn_new(open_box(), &s);
}

/* sync gives UIDs, writes them back, keeps them across opens; forged X-UIDs take none */
static void test_sync_assigns_uids(void **state)
{
	struct mstore_box *b;
	uint32_t validity;
	char want[400];

	(void)state;
	b = open_box(); /* no file yet: an empty mailbox */
	assert_int_equal(b->n, 0);
	mstore_close(&b);
	deliver("Subject: one\n\nfirst\n");
	deliver("Subject: two\nX-UID: 99\nX-IMAPbase: 1 100\n\nsecond\n");
	deliver("Subject: three\n\nthird\n");
	b = open_box();
	assert_int_equal(b->n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(b->msgs[i].uid, i + 1);
	assert_int_equal(b->next_uid, 4);
	validity = b->uidvalidity;
	assert_true(validity > 0);
	mstore_close(&b);
	/* what Dovecot writes: X-IMAPbase in the first message, X-UID in each */
	snprintf(want, sizeof(want), "X-IMAPbase: %u 0000000003\n", validity);
	assert_int_equal(count(file_text(), want), 1);
	assert_int_equal(count(file_text(), "X-IMAPbase:"), 1);
	assert_int_equal(count(file_text(), "X-UID: 1\n"), 1);
	assert_int_equal(count(file_text(), "X-UID: 2\n"), 1);
	assert_int_equal(count(file_text(), "X-UID: 3\n"), 1);
	assert_int_equal(count(file_text(), "X-UID: 99"), 0);

	deliver("Subject: four\n\nfourth\n");
	b = open_box();
	assert_int_equal(b->uidvalidity, validity);
	assert_int_equal(b->n, 4);
	assert_int_equal(b->msgs[3].uid, 4);
	assert_int_equal(b->msgs[0].uid, 1);
	mstore_close(&b);
	/* no lock left behind */
	snprintf(want, sizeof(want), "%s.lock", mbox);
	assert_int_equal(access(want, F_OK), -1);
}

/* clients see neither Dovecot's headers nor the separator; sizes match what RETR sends */
static void test_client_view(void **state)
{
	struct pop3_txn *t;
	const char *r;
	char uidl1[64];

	(void)state;
	deliver("Subject: one\nContent-Length: 5\nStatus: O\n\nbody\nFrom the start\n.dot\n");
	deliver("Subject: two\r\n\r\nline\r\n");
	t = session(NULL);
	r = cmd(t, "RETR 1");
	assert_string_equal(r, "+OK 75 octets\r\nReturn-Path: <a@example.org>\r\nSubject: one\r\n\r\n"
			       "body\r\n>From the start\r\n..dot\r\n.\r\n");
	assert_string_equal(cmd(t, "LIST"), "+OK 2 messages:\r\n1 75\r\n2 52\r\n.\r\n");
	assert_string_equal(cmd(t, "RETR 2"),
			    "+OK 52 octets\r\nReturn-Path: <a@example.org>\r\nSubject: two\r\n\r\nline\r\n.\r\n");
	assert_string_equal(cmd(t, "TOP 1 0"), "+OK\r\nReturn-Path: <a@example.org>\r\nSubject: one\r\n\r\n.\r\n");
	assert_true(strncmp(cmd(t, "UIDL 2"), "+OK 2 00000002", 14) == 0);
	pop3_txn_free(&t);
	/* %m: the header MD5, the same at every open */
	t = session("%m");
	snprintf(uidl1, sizeof(uidl1), "%s", cmd(t, "UIDL 1"));
	assert_int_equal(strlen(uidl1), strlen("+OK 1 \r\n") + 32);
	pop3_txn_free(&t);
	t = session("%m");
	assert_string_equal(cmd(t, "UIDL 1"), uidl1);
	pop3_txn_free(&t);
	/* %f is a Maildir file name: an mbox has none, UIDL fails as in Dovecot */
	t = session("%f");
	assert_string_equal(cmd(t, "UIDL 1"), ""); /* and the session ends, as in Dovecot */
	assert_non_null(pop3_txn_error(t));
	/* two messages that differ only in the body have the same %m: it is a header hash */
	pop3_txn_free(&t);
}

/* expunge at QUIT: the file is rewritten without them; UIDs and the last UID stay */
static void test_expunge_and_seen(void **state)
{
	struct pop3_txn *t;
	struct mstore_box *b;
	uint32_t validity;

	(void)state;
	deliver("Subject: one\n\n1\n");
	deliver("Subject: two\n\n2\n");
	deliver("Subject: three\n\n3\n");
	t = session(NULL);
	cmd(t, "RETR 1");
	assert_string_equal(cmd(t, "DELE 2"), "+OK Marked to be deleted.\r\n");
	assert_string_equal(cmd(t, "DELE 3"), "+OK Marked to be deleted.\r\n");
	pop3_txn_free(&t); /* no QUIT: nothing deleted, but RETR's \Seen is kept */
	assert_int_equal(count(file_text(), "Subject: two"), 1);
	assert_int_equal(count(file_text(), "Status: RO\n"), 1);

	t = session(NULL);
	assert_string_equal(cmd(t, "DELE 2"), "+OK Marked to be deleted.\r\n");
	assert_string_equal(cmd(t, "QUIT"), "+OK Logging out, messages deleted.\r\n");
	pop3_txn_free(&t);
	assert_int_equal(count(file_text(), "Subject: two"), 0);
	assert_int_equal(count(file_text(), "From a@example.org"), 2);
	b = open_box();
	assert_int_equal(b->n, 2);
	assert_int_equal(b->msgs[0].uid, 1);
	assert_string_equal(b->msgs[0].flags, "S");
	assert_int_equal(b->msgs[1].uid, 3);
	assert_int_equal(b->next_uid, 4);
	validity = b->uidvalidity;
	mstore_close(&b);

	/* everything expunged: Dovecot's pseudo message keeps UIDVALIDITY and the last UID */
	t = session(NULL);
	cmd(t, "DELE 1");
	cmd(t, "DELE 2");
	assert_string_equal(cmd(t, "QUIT"), "+OK Logging out, messages deleted.\r\n");
	pop3_txn_free(&t);
	assert_int_equal(count(file_text(), "FOLDER INTERNAL DATA"), 1);
	b = open_box();
	assert_int_equal(b->n, 0);
	assert_int_equal(b->uidvalidity, validity);
	mstore_close(&b);
	deliver("Subject: five\n\n5\n");
	b = open_box();
	assert_int_equal(b->n, 1);
	assert_int_equal(b->msgs[0].uid, 4);
	assert_int_equal(b->uidvalidity, validity);
	mstore_close(&b);
	assert_int_equal(count(file_text(), "FOLDER INTERNAL DATA"), 0);
}

/* mail delivered while a session is open is kept by the session's expunge and gets the next UID */
static void test_delivery_during_session(void **state)
{
	struct pop3_txn *t;
	struct mstore_box *b;

	(void)state;
	deliver("Subject: one\n\n1\n");
	deliver("Subject: two\n\n2\n");
	t = session(NULL);
	assert_string_equal(cmd(t, "STAT"), "+OK 2 98\r\n");
	deliver("Subject: new\n\nnew\n"); /* the session holds no lock while it is idle */
	assert_string_equal(cmd(t, "DELE 1"), "+OK Marked to be deleted.\r\n");
	/* the snapshot still reads the right bytes after the append */
	assert_string_equal(cmd(t, "RETR 2"),
			    "+OK 49 octets\r\nReturn-Path: <a@example.org>\r\nSubject: two\r\n\r\n2\r\n.\r\n");
	assert_string_equal(cmd(t, "QUIT"), "+OK Logging out, messages deleted.\r\n");
	pop3_txn_free(&t);
	b = open_box();
	assert_int_equal(b->n, 2);
	assert_int_equal(b->msgs[0].uid, 2);
	assert_int_equal(b->msgs[1].uid, 3);
	mstore_close(&b);
	assert_int_equal(count(file_text(), "Subject: new"), 1);
}

/* two sessions at once: each one's expunge removes only its messages, matched by UID */
static void test_two_sessions(void **state)
{
	struct pop3_txn *a, *b;
	struct mstore_box *box;

	(void)state;
	deliver("Subject: one\n\n1\n");
	deliver("Subject: two\n\n2\n");
	deliver("Subject: three\n\n3\n");
	a = session(NULL);
	b = session(NULL);
	assert_string_equal(cmd(a, "DELE 1"), "+OK Marked to be deleted.\r\n");
	assert_string_equal(cmd(b, "DELE 2"), "+OK Marked to be deleted.\r\n");
	assert_string_equal(cmd(a, "QUIT"), "+OK Logging out, messages deleted.\r\n");
	pop3_txn_free(&a);
	/* b still reads its snapshot: the rewrite replaced the file, b's stays open */
	assert_string_equal(cmd(b, "RETR 3"),
			    "+OK 51 octets\r\nReturn-Path: <a@example.org>\r\nSubject: three\r\n\r\n3\r\n.\r\n");
	assert_string_equal(cmd(b, "QUIT"), "+OK Logging out, messages deleted.\r\n");
	pop3_txn_free(&b);
	box = open_box();
	assert_int_equal(box->n, 1);
	assert_int_equal(box->msgs[0].uid, 3);
	mstore_close(&box);
}

/* a held dotlock makes the open fail (after its retries) rather than read a file being written */
static void test_locked(void **state)
{
	struct mstore_box *b = NULL;
	const char *err = NULL;
	char lock[400];
	FILE *f;

	(void)state;
	deliver("Subject: one\n\n1\n");
	snprintf(lock, sizeof(lock), "%s.lock", mbox);
	f = fopen(lock, "w");
	assert_non_null(f);
	fprintf(f, "%ld otherhost.invalid\n", (long)getppid());
	fclose(f);
	/* a fresh lock of another host is respected: the open gives up (5 s of retries) */
	assert_int_equal(mstore_open_mbox(mbox, &b, &err), -1);
	assert_null(b);
	assert_non_null(strstr(err, "locked"));
	unlink(lock);
	b = open_box();
	assert_int_equal(b->n, 1);
	mstore_close(&b);
}

/* Content-Length counts only when the next message starts where it says */
static void test_content_length(void **state)
{
	static const char text[] = "From a@b Thu Jan  1 00:00:00 2026\n"
				   "Subject: cl\nContent-Length: 34\n\n"
				   "From x@y Thu Jan  1 00:00:00 2026\n\n"
				   "From c@d Thu Jan  1 00:00:00 2026\n"
				   "Subject: bad cl\nContent-Length: 2\n\nbody\n\n"
				   "From e@f Thu Jan  1 00:00:00 2026\nSubject: last\n\nend\n\n";
	struct mstore_box *b;
	FILE *f = fopen(mbox, "w");

	(void)state;
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	b = open_box();
	/* the first body holds a From_ line (Content-Length covers it); the second's is wrong */
	assert_int_equal(b->n, 3);
	assert_int_equal(b->msgs[0].vsize, strlen("Subject: cl\r\n\r\n") + 34 + 1);
	assert_int_equal(b->msgs[1].vsize, strlen("Subject: bad cl\r\n\r\nbody\r\n"));
	mstore_close(&b);
	/* the rewrite kept Content-Length right and the message whole */
	b = open_box();
	assert_int_equal(b->n, 3);
	assert_int_equal(b->msgs[0].vsize, strlen("Subject: cl\r\n\r\n") + 34 + 1);
	mstore_close(&b);
	assert_int_equal(count(file_text(), "Content-Length: 34\n"), 1);
	assert_int_equal(count(file_text(), "Content-Length: 5\n"), 1);
}

/* a header larger than the parser reads: the UID is still found, the message is unchanged for clients */
static void test_huge_header(void **state)
{
	struct mstore_box *b;
	struct buf msg = BUF_INIT(4u << 20);
	uint64_t vsize;

	(void)state;
	for (int i = 0; i < 30000; i++)
		buf_printf(&msg, "X-Filler-%05d: %040d\n", i, i);
	buf_puts(&msg, "Subject: big\n\nbody\n");
	deliver(buf_cstr(&msg));
	deliver("Subject: small\n\nx\n");
	b = open_box();
	assert_int_equal(b->n, 2);
	assert_int_equal(b->msgs[0].uid, 1);
	vsize = b->msgs[0].vsize;
	mstore_close(&b);
	for (int k = 0; k < 2; k++) {
		b = open_box();
		assert_int_equal(b->n, 2);
		assert_int_equal(b->msgs[0].uid, 1);
		assert_int_equal(b->msgs[1].uid, 2);
		assert_int_equal(b->msgs[0].vsize, vsize);
		mstore_close(&b);
	}
	assert_int_equal(count(file_text(), "X-UID: 1\n"), 1);
	buf_free(&msg);
}

/* mail_location picks the driver: mbox with INBOX=, maildir, or by what is on disk */
static void test_open_location(void **state)
{
	struct mail_location loc = { 0 };
	struct mstore_box *b;
	const char *err;
	char md[400];

	(void)state;
	deliver("Subject: one\n\n1\n");
	loc.driver = "mbox";
	loc.path = "~/mail";
	loc.inbox = "~/inbox";
	loc.index = "/nonexistent";
	assert_int_equal(mstore_open_location(&loc, top, &b, &err), 0);
	assert_int_equal(b->driver, MSTORE_MBOX);
	assert_int_equal(b->n, 1);
	mstore_close(&b);
	loc.driver = "";
	loc.path = mbox;
	loc.inbox = NULL;
	assert_int_equal(mstore_open_location(&loc, NULL, &b, &err), 0);
	assert_int_equal(b->driver, MSTORE_MBOX);
	mstore_close(&b);
	snprintf(md, sizeof(md), "%s/Maildir", top);
	loc.driver = "maildir";
	loc.path = "~/Maildir";
	assert_int_equal(mstore_open_location(&loc, top, &b, &err), 0);
	assert_int_equal(b->driver, MSTORE_MAILDIR);
	mstore_close(&b);
	loc.driver = "";
	loc.path = md;
	assert_int_equal(mstore_open_location(&loc, NULL, &b, &err), 0);
	assert_int_equal(b->driver, MSTORE_MAILDIR);
	mstore_close(&b);
	loc.driver = "sdbox";
	assert_int_equal(mstore_open_location(&loc, NULL, &b, &err), -1);
	assert_non_null(strstr(err, "supported"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync_assigns_uids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expunge_and_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_during_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_location, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
