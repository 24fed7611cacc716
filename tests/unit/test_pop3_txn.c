/*
 * test_pop3_txn.c - unit tests for src/pop3d/pop3_txn.c over real temporary Maildirs
 *
 * Every TRANSACTION command with Dovecot's reply wording; deletions applied only by QUIT
 * (none after a free without QUIT); CRLF and dot-stuffing from a file with LF line ends;
 * TOP; a 10 MB message streamed with bounded output; RETR marks \Seen; the Maildir real
 * Dovecot served (shared/vectors/maildir-from-dovecot) gives exactly Dovecot's UIDLs and
 * LIST sizes from its .expected file.
 */
#include "unit.h"

#include <stdio.h>
#include <sys/stat.h>

#include "pop3_unit.h"

static char dir[256];
static char top[200];

static const char *vector_path(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "../shared/vectors/%s", name);
	if (access(p, R_OK) == 0)
		return p;
	snprintf(p, sizeof(p), "tests/shared/vectors/%s", name);
	return p;
}

/* setup - an empty temporary directory; dir is a Maildir path inside it */
static int setup(void **state)
{
	(void)state;
	if (unit_tmpdir(top, sizeof(top), "pop3txn") < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/md", top);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmdir(top);
}

/* copy_vector - the Maildir Dovecot served, writable, at dir */
static void copy_vector(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cp -r %s %s && chmod -R u+w %s", vector_path("maildir-from-dovecot"), dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* put_new - a message file in dir/new/ */
static void put_new(const char *name, const char *content, size_t len)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/new", dir);
	mkdir(dir, 0700);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/new/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
}

static struct pop3_txn *open_txn(const char *fmt)
{
	struct pop3_txn_settings s = { fmt ? fmt : "%08Xu%08Xv", "user@example.com", NULL };
	struct mstore_box *b;
	const char *err = NULL;

	assert_int_equal(mstore_open(dir, &b, &err), 0);
	return pop3_txn_new(b, &s);
}

/* cmd - run one command; the whole reply (streamed to its end) */
static const char *cmd(struct pop3_txn *t, const char *line, enum pop3_txn_status *st_r)
{
	return unit_pop3(t, line, 65536, st_r);
}

static void expect(struct pop3_txn *t, const char *line, const char *reply)
{
	assert_string_equal(cmd(t, line, NULL), reply);
}

static size_t count_files(const char *sub)
{
	char cmdline[512];
	FILE *p;
	size_t n = 0;

	snprintf(cmdline, sizeof(cmdline), "ls %s/%s | wc -l", dir, sub);
	p = popen(cmdline, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%zu", &n), 1);
	pclose(p);
	return n;
}

/* the UIDLs and LIST sizes real Dovecot gave for the vector Maildir */
static void test_dovecot_vector(void **state)
{
	char want_uidl[1024] = "+OK\r\n", want_list[1024] = "+OK 4 messages:\r\n", line[256];
	FILE *f = fopen(vector_path("maildir-from-dovecot.expected"), "r");
	struct pop3_txn *t;
	int nu = 0, nl = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned n;
		char v[64];

		if (sscanf(line, "POP3 UIDL %u %63s", &n, v) == 2) {
			snprintf(want_uidl + strlen(want_uidl), sizeof(want_uidl) - strlen(want_uidl), "%u %s\r\n", n, v);
			nu++;
		} else if (sscanf(line, "POP3 LIST %u %63s", &n, v) == 2) {
			snprintf(want_list + strlen(want_list), sizeof(want_list) - strlen(want_list), "%u %s\r\n", n, v);
			nl++;
		}
	}
	fclose(f);
	assert_int_equal(nu, 4);
	assert_int_equal(nl, 4);
	snprintf(want_uidl + strlen(want_uidl), sizeof(want_uidl) - strlen(want_uidl), ".\r\n");
	snprintf(want_list + strlen(want_list), sizeof(want_list) - strlen(want_list), ".\r\n");
	copy_vector();
	t = open_txn("%08Xu%08Xv");
	expect(t, "UIDL", want_uidl);
	expect(t, "LIST", want_list);
	expect(t, "UIDL 3", "+OK 3 000000036b05eec2\r\n");
	expect(t, "STAT", "+OK 4 1964\r\n");
	/* RETR sends exactly LIST's size before the terminating line (no dots in these messages) */
	const char *r = cmd(t, "RETR 1", NULL);
	assert_true(strncmp(r, "+OK 491 octets\r\n", 16) == 0);
	assert_int_equal(strlen(r), 16 + 491 + 3);
	assert_string_equal(r + strlen(r) - 5, "\r\n.\r\n");
	assert_string_equal(pop3_txn_logout_stats(t), "top=0/0, retr=1/507, del=0/4, size=1964");
	expect(t, "QUIT", "+OK Logging out.\r\n");
	pop3_txn_free(&t);
	assert_null(t);
}

/* every command's replies, in Dovecot's wording */
static void test_commands(void **state)
{
	struct pop3_txn *t;
	enum pop3_txn_status st;

	(void)state;
	copy_vector();
	t = open_txn(NULL);
	expect(t, "NOOP", "+OK\r\n");
	expect(t, "LIST 2", "+OK 2 491\r\n");
	expect(t, "LIST 9", "-ERR There's no message 9.\r\n");
	expect(t, "RETR 0", "-ERR Invalid message number.\r\n"); /* pop3_cmd: numbers start at 1 */
	expect(t, "UIDL 5", "-ERR There's no message 5.\r\n");
	expect(t, "DELE 1", "+OK Marked to be deleted.\r\n");
	expect(t, "DELE 1", "-ERR Message is deleted.\r\n");
	expect(t, "RETR 1", "-ERR Message is deleted.\r\n");
	expect(t, "TOP 1 0", "-ERR Message is deleted.\r\n");
	expect(t, "LIST 1", "-ERR Message is deleted.\r\n");
	expect(t, "STAT", "+OK 3 1473\r\n");
	expect(t, "LIST", "+OK 3 messages:\r\n2 491\r\n3 491\r\n4 491\r\n.\r\n");
	expect(t, "UIDL", "+OK\r\n2 000000026b05eec2\r\n3 000000036b05eec2\r\n4 000000046b05eec2\r\n.\r\n");
	expect(t, "RSET", "+OK\r\n");
	expect(t, "STAT", "+OK 4 1964\r\n");
	expect(t, "CAPA", "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n.\r\n");
	expect(t, "USER bob", "-ERR Unknown command: USER\r\n");
	expect(t, "XYZZY", "-ERR Unknown command: XYZZY\r\n");
	expect(t, "last", "-ERR Unknown command: LAST\r\n");
	expect(t, "RETR x", "-ERR Invalid message number.\r\n");
	expect(t, "stat", "+OK 4 1964\r\n");
	cmd(t, "QUIT", &st);
	assert_int_equal(st, POP3_TXN_QUIT);
	pop3_txn_free(&t);
}

/* too many bad commands end the session */
static void test_bad_commands(void **state)
{
	struct pop3_txn *t;
	enum pop3_txn_status st = POP3_TXN_DONE;
	const char *r = "";
	int i;

	(void)state;
	copy_vector();
	t = open_txn(NULL);
	for (i = 0; i < 100 && st == POP3_TXN_DONE; i++)
		r = cmd(t, "BOGUS", &st);
	assert_int_equal(st, POP3_TXN_QUIT);
	assert_int_equal(i, 20);
	assert_non_null(strstr(r, "-ERR Too many bad commands.\r\n"));
	pop3_txn_free(&t);
	/* nothing was deleted */
	assert_int_equal(count_files("cur"), 4);
}

/* extra CAPA lines from the caller follow Dovecot's list */
static void test_capa_extra(void **state)
{
	struct pop3_txn_settings s = { NULL, "u", "SASL PLAIN\r\nIMPLEMENTATION Postern" };
	struct mstore_box *b;
	const char *err;
	struct pop3_txn *t;

	(void)state;
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	t = pop3_txn_new(b, &s);
	expect(t, "CAPA",
	       "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSASL PLAIN\r\n"
	       "IMPLEMENTATION Postern\r\n.\r\n");
	expect(t, "STAT", "+OK 0 0\r\n");
	expect(t, "LIST", "+OK 0 messages:\r\n.\r\n");
	expect(t, "UIDL", "+OK\r\n.\r\n");
	expect(t, "QUIT", "+OK Logging out.\r\n");
	pop3_txn_free(&t);
}

/* DELE is applied by QUIT only; a dropped session deletes nothing */
static void test_delete_only_at_quit(void **state)
{
	struct pop3_txn *t;

	(void)state;
	copy_vector();
	t = open_txn(NULL);
	expect(t, "DELE 1", "+OK Marked to be deleted.\r\n");
	expect(t, "DELE 3", "+OK Marked to be deleted.\r\n");
	assert_int_equal(count_files("cur"), 4);
	pop3_txn_free(&t); /* no QUIT: the connection dropped */
	assert_int_equal(count_files("cur"), 4);

	t = open_txn(NULL);
	expect(t, "STAT", "+OK 4 1964\r\n");
	expect(t, "DELE 1", "+OK Marked to be deleted.\r\n");
	expect(t, "DELE 3", "+OK Marked to be deleted.\r\n");
	assert_string_equal(pop3_txn_logout_stats(t), "top=0/0, retr=0/0, del=2/4, size=1964");
	expect(t, "QUIT", "+OK Logging out, messages deleted.\r\n");
	pop3_txn_free(&t);
	assert_int_equal(count_files("cur"), 2);

	/* the survivors keep their UIDs, so their UIDLs */
	t = open_txn(NULL);
	expect(t, "UIDL", "+OK\r\n1 000000026b05eec2\r\n2 000000046b05eec2\r\n.\r\n");
	/* RSET undoes DELE */
	expect(t, "DELE 1", "+OK Marked to be deleted.\r\n");
	expect(t, "RSET", "+OK\r\n");
	expect(t, "QUIT", "+OK Logging out.\r\n");
	pop3_txn_free(&t);
	assert_int_equal(count_files("cur"), 2);
}

/* LF line ends become CRLF; lines starting with "." are stuffed; a last line without LF is ended */
static void test_crlf_and_dot_stuffing(void **state)
{
	static const char msg[] = "Subject: dots\n\n.hello\nplain\n..two\r\n.\nlast";
	struct pop3_txn *t;

	(void)state;
	put_new("1800000001.M1P1.host", msg, sizeof(msg) - 1);
	t = open_txn(NULL);
	/* vsize: 41 bytes + 5 bare LFs */
	expect(t, "LIST 1", "+OK 1 46\r\n");
	expect(t, "RETR 1",
	       "+OK 46 octets\r\nSubject: dots\r\n\r\n..hello\r\nplain\r\n...two\r\n..\r\nlast\r\n.\r\n");
	expect(t, "TOP 1 0", "+OK\r\nSubject: dots\r\n\r\n.\r\n");
	expect(t, "TOP 1 2", "+OK\r\nSubject: dots\r\n\r\n..hello\r\nplain\r\n.\r\n");
	expect(t, "TOP 1 100",
	       "+OK\r\nSubject: dots\r\n\r\n..hello\r\nplain\r\n...two\r\n..\r\nlast\r\n.\r\n");
	pop3_txn_free(&t);
}

/* TOP on CRLF files and on a message with no body */
static void test_top(void **state)
{
	static const char crlf[] = "From: a@b\r\nSubject: s\r\n folded\r\n\r\nb1\r\nb2\r\nb3\r\n";
	static const char headers_only[] = "From: a@b\nSubject: none\n";
	struct pop3_txn *t;
	char p[512];

	(void)state;
	put_new("1800000001.M1P1.host", crlf, sizeof(crlf) - 1);
	put_new("1800000002.M1P1.host", headers_only, sizeof(headers_only) - 1);
	t = open_txn(NULL);
	expect(t, "TOP 1 1", "+OK\r\nFrom: a@b\r\nSubject: s\r\n folded\r\n\r\nb1\r\n.\r\n");
	expect(t, "TOP 1 0", "+OK\r\nFrom: a@b\r\nSubject: s\r\n folded\r\n\r\n.\r\n");
	expect(t, "TOP 2 5", "+OK\r\nFrom: a@b\r\nSubject: none\r\n.\r\n");
	expect(t, "TOP 3 5", "-ERR There's no message 3.\r\n");
	assert_string_equal(pop3_txn_logout_stats(t), "top=3/113, retr=0/0, del=0/2, size=72");
	expect(t, "QUIT", "+OK Logging out.\r\n");
	pop3_txn_free(&t);
	/* TOP does not mark \Seen */
	snprintf(p, sizeof(p), "%s/cur/1800000001.M1P1.host:2,", dir);
	assert_int_equal(access(p, F_OK), 0);
}

/* RETR marks \Seen at QUIT, and also when the session ends without QUIT (as Dovecot does) */
static void test_retr_marks_seen(void **state)
{
	struct pop3_txn *t;
	char p[512];

	(void)state;
	put_new("1800000001.M1P1.host", "S: 1\n\nx\n", 9);
	put_new("1800000002.M1P1.host", "S: 2\n\ny\n", 9);
	put_new("1800000003.M1P1.host", "S: 3\n\nz\n", 9);
	t = open_txn(NULL);
	cmd(t, "RETR 1", NULL);
	cmd(t, "RETR 2", NULL);
	expect(t, "RSET", "+OK\r\n"); /* forgets RETR 2's \Seen as well as deletions */
	cmd(t, "RETR 3", NULL);
	expect(t, "QUIT", "+OK Logging out.\r\n");
	pop3_txn_free(&t);
	snprintf(p, sizeof(p), "%s/cur/1800000003.M1P1.host:2,S", dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/cur/1800000002.M1P1.host:2,", dir);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/cur/1800000001.M1P1.host:2,", dir);
	assert_int_equal(access(p, F_OK), 0);

	t = open_txn(NULL);
	cmd(t, "RETR 1", NULL);
	pop3_txn_free(&t); /* dropped */
	snprintf(p, sizeof(p), "%s/cur/1800000001.M1P1.host:2,S", dir);
	assert_int_equal(access(p, F_OK), 0);
}

/* a 10 MB message goes out in bounded pieces, and all of it */
static void test_big_message_streamed(void **state)
{
	const size_t lines = 160000; /* 64 bytes a line: 10,240,000 bytes */
	struct buf out = BUF_INIT(1u << 20);
	char p[512], line[65];
	struct pop3_txn *t;
	enum pop3_txn_status st;
	unsigned long long total = 0, dots = 0;
	size_t maxlen = 0, calls = 0;
	FILE *f;

	(void)state;
	put_new("1800000001.M1P1.host", "Subject: big\n\n", 14);
	snprintf(p, sizeof(p), "%s/new/1800000001.M1P1.host", dir);
	f = fopen(p, "a");
	assert_non_null(f);
	memset(line, 'x', 63);
	line[63] = '\n';
	line[64] = '\0';
	for (size_t i = 0; i < lines; i++) {
		line[0] = i % 1000 == 0 ? '.' : 'x';
		dots += line[0] == '.';
		fputs(line, f);
	}
	fclose(f);
	t = open_txn(NULL);
	st = pop3_txn_line(t, "RETR 1", 6, &out);
	assert_int_equal(st, POP3_TXN_MORE);
	for (;;) {
		if (out.len > maxlen)
			maxlen = out.len;
		total += out.len;
		if (st != POP3_TXN_MORE)
			break;
		/* the client took everything: ask for the next piece */
		buf_reset(&out);
		st = pop3_txn_more(t, &out, 65536);
		calls++;
	}
	assert_int_equal(st, POP3_TXN_DONE);
	assert_string_equal(out.data + out.len - 5, "\r\n.\r\n");
	/* "+OK <vsize> octets\r\n" + vsize + one "." per stuffed line + ".\r\n" */
	unsigned long long vsize = 16 + lines * 65;
	char head[64];
	int hl = snprintf(head, sizeof(head), "+OK %llu octets\r\n", vsize);
	assert_true(total == (unsigned long long)hl + vsize + dots + 3);
	assert_true(maxlen < 200000);
	assert_true(calls > 100);
	pop3_txn_free(&t);
	buf_free(&out);
}

/* LIST and UIDL of a large mailbox stream in bounded pieces, and all of it */
static void test_list_streamed(void **state)
{
	const size_t n = 10000;
	struct buf out = BUF_INIT(1u << 20), all = BUF_INIT(8u << 20);
	static const char *const cmds[] = { "LIST", "UIDL" };
	struct pop3_txn *t;
	char name[64], line[64];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "18%08zu.M1P1.host", i);
		put_new(name, "S: x\n\nb\n", 9);
	}
	t = open_txn(NULL);
	for (size_t c = 0; c < 2; c++) {
		enum pop3_txn_status st = pop3_txn_line(t, cmds[c], 4, &out);
		size_t calls = 0, lines = 0;

		assert_int_equal(st, POP3_TXN_MORE);
		assert_true(out.len < 70000);
		buf_reset(&all);
		for (;;) {
			assert_int_equal(buf_append(&all, out.data, out.len), 0);
			buf_reset(&out);
			if (st != POP3_TXN_MORE)
				break;
			st = pop3_txn_more(t, &out, 4096);
			assert_true(out.len < 4096 + 64);
			calls++;
		}
		assert_int_equal(st, POP3_TXN_DONE);
		assert_true(calls > 5);
		for (const char *p = all.data; (p = strstr(p, "\r\n")) != NULL; p += 2)
			lines++;
		assert_int_equal(lines, n + 2); /* "+OK", one per message, "." */
		assert_string_equal(all.data + all.len - 5, "\r\n.\r\n");
		snprintf(line, sizeof(line), c ? "\r\n%zu %08zx" : "\r\n%zu 12\r\n", n, n);
		assert_non_null(strstr(all.data, line));
	}
	expect(t, "QUIT", "+OK Logging out.\r\n");
	pop3_txn_free(&t);
	buf_free(&out);
	buf_free(&all);
}

/* %f, %g, %u %v in decimal; %m has no value with Maildir: UIDL fails as in Dovecot */
static void test_uidl_formats(void **state)
{
	struct pop3_txn *t;
	enum pop3_txn_status st;

	(void)state;
	copy_vector();
	t = open_txn("%f");
	expect(t, "UIDL 1", "+OK 1 1795550912.Vfe00I10c3d1M155820.vm\r\n");
	pop3_txn_free(&t);
	t = open_txn("%g");
	expect(t, "UIDL 4", "+OK 4 1795550912.Vfe00I10c401M302802.vm\r\n");
	pop3_txn_free(&t);
	t = open_txn("%v.%u");
	expect(t, "UIDL 2", "+OK 2 1795550914.2\r\n");
	pop3_txn_free(&t);
	/* %m: a Maildir has no header MD5; Dovecot ends the session */
	t = open_txn("%m");
	assert_string_equal(cmd(t, "UIDL 2", &st), "");
	assert_int_equal(st, POP3_TXN_QUIT);
	assert_non_null(pop3_txn_error(t));
	pop3_txn_free(&t);
	t = open_txn("%m");
	assert_string_equal(cmd(t, "UIDL", &st), "+OK\r\n");
	assert_int_equal(st, POP3_TXN_QUIT);
	pop3_txn_free(&t);
}

/* the uidlist's G field is the GUID (%g); its P field, a UIDL Dovecot saved, wins over the format */
static void test_uidlist_guid_and_saved_uidl(void **state)
{
	char p[512];
	FILE *f;
	struct pop3_txn *t;

	(void)state;
	copy_vector();
	snprintf(p, sizeof(p), "%s/dovecot-uidlist", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("3 V1795550914 N6 G30619319c1ee056bbe62000083ecc375\n"
	      "1 W491 G0a1b2c3d4e5f :1795550912.Vfe00I10c3d1M155820.vm\n"
	      "2 W491 Pold-server-uidl-2 :1795550912.Vfe00I10c3e1M204890.vm\n"
	      "3 W491 :1795550912.Vfe00I10c3f1M254337.vm\n"
	      "4 W491 :1795550912.Vfe00I10c401M302802.vm\n",
	      f);
	fclose(f);
	t = open_txn("%g");
	expect(t, "UIDL 1", "+OK 1 0a1b2c3d4e5f\r\n");
	expect(t, "UIDL 3", "+OK 3 1795550912.Vfe00I10c3f1M254337.vm\r\n");
	pop3_txn_free(&t);
	t = open_txn(NULL);
	expect(t, "UIDL", "+OK\r\n1 000000016b05eec2\r\n2 old-server-uidl-2\r\n3 000000036b05eec2\r\n"
			  "4 000000046b05eec2\r\n.\r\n");
	pop3_txn_free(&t);
}

/* a message removed by another session after the snapshot */
static void test_expunged_meanwhile(void **state)
{
	struct pop3_txn *t;
	char c[512];

	(void)state;
	copy_vector();
	t = open_txn(NULL);
	snprintf(c, sizeof(c), "rm %s/cur/1795550912.Vfe00I10c3f1M254337.vm*", dir);
	assert_int_equal(system(c), 0);
	expect(t, "RETR 3", "-ERR Message 3 expunged.\r\n");
	expect(t, "DELE 3", "+OK Marked to be deleted.\r\n");
	expect(t, "QUIT", "+OK Logging out, messages deleted.\r\n");
	pop3_txn_free(&t);
	assert_int_equal(count_files("cur"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dovecot_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capa_extra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_only_at_quit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crlf_and_dot_stuffing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retr_marks_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_message_streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidl_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidlist_guid_and_saved_uidl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expunged_meanwhile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
