/*
 * test_mstore.c - unit tests for src/store/mstore.c on real directories
 *
 * The Maildir that real Dovecot served (shared/vectors/maildir-from-dovecot, copied into a
 * temporary directory) must open with Dovecot's UIDVALIDITY, UIDs, sizes and flags; new mail
 * gets the next UIDs and keeps them; expunges and \Seen survive a reopen; the uidlist lock
 * is honoured and a stale one taken over.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <utime.h>

#include "store/mstore.h"

static char dir[256];

/* setup - a writable copy of the vector Maildir in a fresh temporary directory */
static int setup(void **state)
{
	char cmd[1024];
	const char *src = access("../shared/vectors/maildir-from-dovecot", R_OK) == 0
				  ? "../shared/vectors/maildir-from-dovecot"
				  : "tests/shared/vectors/maildir-from-dovecot";

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/postern-mstore-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "cp -r %s %s/md && chmod -R u+w %s/md", src, dir, dir);
	if (system(cmd) != 0)
		return -1;
	strncat(dir, "/md", sizeof(dir) - strlen(dir) - 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %.*s", (int)(strlen(dir) - 3), dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* put_new - a message file in new/ */
static void put_new(const char *name, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/new/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void test_dovecot_maildir(void **state)
{
	struct mstore_box *b;
	const char *err = NULL;
	struct stat st;
	char p[512];

	(void)state;
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	assert_null(b->warning);
	/* what Dovecot answered: UIDVALIDITY 1795550914, UIDs 1-4, RFC822.SIZE 491, flags */
	assert_int_equal(b->uidvalidity, 1795550914u);
	assert_int_equal(b->n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(b->msgs[i].uid, i + 1);
		assert_int_equal(b->msgs[i].vsize, 491);
		assert_int_equal(b->msgs[i].size, 474);
		assert_false(b->msgs[i].recent);
	}
	assert_string_equal(b->msgs[0].flags, "");
	assert_string_equal(b->msgs[1].flags, "Sa");
	assert_string_equal(b->msgs[3].flags, "FR");
	assert_int_equal(b->next_uid, 6);
	/* the missing new/ and tmp/ were created; nothing was rewritten (no lock left) */
	snprintf(p, sizeof(p), "%s/new", dir);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/dovecot-uidlist.lock", dir);
	assert_int_equal(access(p, F_OK), -1);
	int fd = mstore_msg_open(b, &b->msgs[2]);
	assert_true(fd >= 0);
	close(fd);
	mstore_close(&b);
	assert_null(b);
}

static void test_new_mail_gets_next_uids(void **state)
{
	struct mstore_box *b;
	const char *err;
	char p[512], text[4096];
	FILE *f;
	size_t n;

	(void)state;
	put_new("1800000002.M2P1.host,S=12", "bb\nline two\n");
	put_new("1800000001.M1P1.host", "a\r\nb\nc\n");
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	assert_int_equal(b->n, 6);
	/* uid 5 was expunged before: never reused; arrival (name) order */
	assert_int_equal(b->msgs[4].uid, 6);
	assert_string_equal(b->msgs[4].base, "1800000001.M1P1.host");
	assert_true(b->msgs[4].recent);
	assert_int_equal(b->msgs[4].size, 7);
	assert_int_equal(b->msgs[4].vsize, 9); /* two bare LFs become CRLF */
	assert_int_equal(b->msgs[5].uid, 7);
	assert_int_equal(b->msgs[5].size, 12); /* from S= */
	assert_string_equal(b->msgs[5].name, "1800000002.M2P1.host,S=12:2,");
	mstore_close(&b);
	/* the uidlist now lists them, with the computed W */
	snprintf(p, sizeof(p), "%s/dovecot-uidlist", dir);
	f = fopen(p, "r");
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	assert_non_null(strstr(text, "3 V1795550914 N8 G30619319c1ee056bbe62000083ecc375\n"));
	assert_non_null(strstr(text, "\n6 W9 :1800000001.M1P1.host\n"));
	assert_non_null(strstr(text, "\n7 W14 :1800000002.M2P1.host,S=12\n"));
	/* a reopen gives the same uids, no longer recent */
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	assert_int_equal(b->msgs[4].uid, 6);
	assert_false(b->msgs[4].recent);
	mstore_close(&b);
}

static void test_commit_expunge_and_seen(void **state)
{
	struct mstore_box *b;
	const char *err;
	bool del[8] = { false }, seen[8] = { false };

	(void)state;
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	assert_int_equal(b->n, 6);
	del[0] = true;
	seen[2] = true;
	seen[1] = true; /* already \Seen: unchanged */
	assert_int_equal(mstore_commit(b, del, seen, &err), 0);
	assert_null(err);
	assert_string_equal(b->msgs[2].flags, "S");
	mstore_close(&b);
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	assert_int_equal(b->n, 5);
	assert_int_equal(b->msgs[0].uid, 2);
	assert_string_equal(b->msgs[0].flags, "Sa");
	assert_int_equal(b->msgs[1].uid, 3);
	assert_string_equal(b->msgs[1].flags, "S");
	mstore_close(&b);
}

static void test_rename_by_another_session(void **state)
{
	struct mstore_box *b;
	const char *err;
	char from[512], to[512];
	int fd;

	(void)state;
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	snprintf(from, sizeof(from), "%s/cur/%s", dir, b->msgs[0].name);
	snprintf(to, sizeof(to), "%s/cur/%s:2,T", dir, b->msgs[0].base);
	assert_int_equal(rename(from, to), 0);
	fd = mstore_msg_open(b, &b->msgs[0]);
	assert_true(fd >= 0);
	close(fd);
	assert_string_equal(b->msgs[0].flags, "T");
	mstore_close(&b);
}

static void test_lock(void **state)
{
	struct mstore_box *b;
	const char *err = NULL;
	char lock[512];
	int fd;
	struct utimbuf old = { 1000, 1000 };

	(void)state;
	snprintf(lock, sizeof(lock), "%s/dovecot-uidlist.lock", dir);
	fd = open(lock, O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	/* a fresh lock held by someone else: the open waits, then gives up */
	assert_int_equal(mstore_open(dir, &b, &err), -1);
	assert_non_null(strstr(err, "locked"));
	/* a stale one (its owner died) is taken over */
	assert_int_equal(utime(lock, &old), 0);
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	assert_int_equal(access(lock, F_OK), -1);
	mstore_close(&b);
}

static void test_corrupt_uidlist_rebuilt(void **state)
{
	struct mstore_box *b;
	const char *err;
	char p[512];
	FILE *f;

	(void)state;
	snprintf(p, sizeof(p), "%s/dovecot-uidlist", dir);
	f = fopen(p, "w");
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(mstore_open(dir, &b, &err), 0);
	assert_non_null(b->warning);
	assert_int_not_equal(b->uidvalidity, 1795550914u);
	assert_int_equal(b->msgs[0].uid, 1);
	mstore_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_maildir),
		cmocka_unit_test(test_new_mail_gets_next_uids),
		cmocka_unit_test(test_commit_expunge_and_seen),
		cmocka_unit_test(test_rename_by_another_session),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_corrupt_uidlist_rebuilt),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
