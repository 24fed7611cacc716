/*
 * test_maildir.c - unit tests for src/queue/maildir.c (Maildir delivery)
 *
 * Real files in a mkdtemp() directory under /var/tmp. The "read-only directory"
 * case drops to uid 65534 in a forked child when the tests run as root (root
 * ignores directory permissions).
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <sys/stat.h>

#include "queue/maildir.h"

struct fix {
	char top[64];
	int qfd;          /* stands in for a queue file: junk, then the content */
	uint64_t off, size;
};

static const char prepend[] = "Return-Path: <alice@example.org>\nDelivered-To: john@example.org\n";
static const char content[] = "Subject: hi\n\nFrom me\nline two\n";

/* rm_rf - remove a test tree */
static void rm_rf(const char *path)
{
	DIR *dp = opendir(path);
	struct dirent *e;
	char p[1024];

	chmod(path, 0700);
	while (dp && (e = readdir(dp)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_rf(p);
		else
			unlink(p);
	}
	if (dp)
		closedir(dp);
	rmdir(path);
}

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof(*x));
	char p[128];

	snprintf(x->top, sizeof(x->top), "/var/tmp/test_maildir.XXXXXX");
	if (mkdtemp(x->top) == NULL)
		return -1;
	chmod(x->top, 0755);
	snprintf(p, sizeof(p), "%s/queuefile", x->top);
	x->qfd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (x->qfd < 0 || write(x->qfd, "JUNK-ENVELOPE", 13) != 13 ||
	    write(x->qfd, content, strlen(content)) != (ssize_t)strlen(content) || write(x->qfd, "TAIL", 4) != 4)
		return -1;
	x->off = 13;
	x->size = strlen(content);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;

	close(x->qfd);
	rm_rf(x->top);
	free(x);
	return 0;
}

static struct dlv_msg msg_of(struct fix *x)
{
	struct dlv_msg m = { prepend, strlen(prepend), x->qfd, x->off, x->size, NULL, 0, false };

	return m;
}

/* count - entries in dir (besides . and ..); *name_r gets the last one */
static int count(const char *dir, char *name_r, size_t size)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(dp);
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (name_r)
			snprintf(name_r, size, "%s", e->d_name);
	}
	closedir(dp);
	return n;
}

/* slurp - a whole file */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = malloc(4 << 20);

	assert_non_null(f);
	*n = fread(p, 1, 4 << 20, f);
	fclose(f);
	return p;
}

static void test_deliver_creates_and_names(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = msg_of(x);
	struct dlv_result res;
	char md[256], sub[300], name[512], path[1024], expect[512];
	struct stat st;
	regex_t re;
	size_t n;
	char *got;
	unsigned long long s;

	snprintf(md, sizeof(md), "%s/vhosts/example.org/john/", x->top);
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_OK);
	assert_string_equal(res.dsn, "2.0.0");
	assert_string_equal(res.text, "delivered to maildir");
	/* the Maildir and every missing parent exist, mode 0700 */
	snprintf(sub, sizeof(sub), "%s/vhosts", x->top);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(sub, sizeof(sub), "%scur", md);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(sub, sizeof(sub), "%stmp", md);
	assert_int_equal(count(sub, NULL, 0), 0); /* nothing left in tmp/ */
	snprintf(sub, sizeof(sub), "%snew", md);
	assert_int_equal(count(sub, name, sizeof(name)), 1);
	/* <secs>.M<usecs>P<pid>Q<n>.<host>,S=<size> */
	assert_int_equal(regcomp(&re, "^[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+\\.[^/:]+,S=[0-9]+$", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, name, 0, NULL, 0), 0);
	regfree(&re);
	snprintf(expect, sizeof(expect), "P%ldQ", (long)getpid());
	assert_non_null(strstr(name, expect));
	snprintf(expect, sizeof(expect), ".%s,S=", maildir_hostname());
	assert_non_null(strstr(name, expect));
	snprintf(path, sizeof(path), "%s/%s", sub, name);
	assert_string_equal(res.where, path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(sscanf(strstr(name, ",S=") + 3, "%llu", &s), 1);
	assert_int_equal(s, (unsigned long long)st.st_size);
	/* byte-exact: prepended headers, then the content */
	got = slurp(path, &n);
	assert_int_equal(n, strlen(prepend) + strlen(content));
	assert_memory_equal(got, prepend, strlen(prepend));
	assert_memory_equal(got + strlen(prepend), content, strlen(content));
	free(got);
}

static void test_two_deliveries_and_large(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = msg_of(x);
	struct dlv_result r1, r2;
	char md[256], sub[300];
	size_t big = 3 << 20, i, n;
	char *data = malloc(big), *got;
	int fd;

	snprintf(md, sizeof(md), "%s/md", x->top);
	assert_int_equal(maildir_deliver(md, &m, NULL, &r1), DLV_OK);
	/* a large message, copied from a file at an offset */
	for (i = 0; i < big; i++)
		data[i] = (i % 77 == 76) ? '\n' : (char)('a' + i % 26);
	data[big - 1] = '\n';
	snprintf(sub, sizeof(sub), "%s/big", x->top);
	fd = open(sub, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	assert_int_equal(write(fd, data, big), (ssize_t)big);
	m.fd = fd;
	m.offset = 10;
	m.size = big;
	assert_int_equal(maildir_deliver(md, &m, NULL, &r2), DLV_OK);
	close(fd);
	assert_string_not_equal(r1.where, r2.where);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(count(sub, NULL, 0), 2);
	assert_int_equal(r2.status, DLV_OK);
	got = slurp(r2.where, &n);
	assert_int_equal(n, strlen(prepend) + big);
	assert_memory_equal(got + strlen(prepend), data, big);
	free(got);
	free(data);
}

static void test_owner_as_root(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = msg_of(x);
	struct dlv_owner own = { 65534, 65534 };
	struct dlv_result res;
	char md[256], sub[300];
	struct stat st;

	if (geteuid() != 0)
		skip();
	snprintf(md, sizeof(md), "%s/owned/md", x->top);
	assert_int_equal(maildir_deliver(md, &m, &own, &res), DLV_OK);
	snprintf(sub, sizeof(sub), "%s/owned", x->top);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(stat(md, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(stat(res.where, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
}

static void test_permanent_errors(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = msg_of(x);
	struct dlv_result res;
	char md[256];
	FILE *f;

	/* a file where a directory must be: can never work */
	snprintf(md, sizeof(md), "%s/plainfile", x->top);
	f = fopen(md, "w");
	fclose(f);
	snprintf(md, sizeof(md), "%s/plainfile/john/", x->top);
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_BOUNCE);
	assert_string_equal(res.dsn, "5.2.0");
	assert_non_null(strstr(res.text, "maildir delivery failed: "));
	assert_non_null(strstr(res.text, "Not a directory"));
	/* not an absolute path */
	assert_int_equal(maildir_deliver("relative/md/", &m, NULL, &res), DLV_BOUNCE);
	assert_string_equal(res.dsn, "5.2.0");
	assert_non_null(strstr(res.text, "bad maildir path"));
}

/* unwritable - run as uid 65534 (when root): deliver into a Maildir it may not write */
static void unwritable(void *arg)
{
	struct fix *x = arg;
	struct dlv_msg m = msg_of(x);
	struct dlv_result res;
	char md[256];

	snprintf(md, sizeof(md), "%s/ro", x->top);
	if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
		_exit(10);
	if (maildir_deliver(md, &m, NULL, &res) != DLV_DEFER)
		_exit(11);
	if (strcmp(res.dsn, "4.2.0") != 0 || strstr(res.text, "Permission denied") == NULL ||
	    strstr(res.text, "maildir delivery failed: create ") == NULL)
		_exit(12);
	_exit(0);
}

static void test_temporary_unwritable(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = msg_of(x);
	struct dlv_result res;
	char md[256], sub[300];
	int status;

	snprintf(md, sizeof(md), "%s/ro", x->top);
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_OK); /* creates it */
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	assert_int_equal(chmod(sub, 0555), 0);
	assert_int_equal(chmod(md, 0755), 0);
	status = unit_child(unwritable, x, NULL, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(count(sub, NULL, 0), 1); /* only the first message */
}

static void test_short_queue_file(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = msg_of(x);
	struct dlv_result res;
	char md[256], sub[300];

	/* the content is shorter than the envelope says: defer, leave nothing behind */
	m.size = 10000;
	snprintf(md, sizeof(md), "%s/short", x->top);
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_DEFER);
	assert_string_equal(res.dsn, "4.2.0");
	assert_non_null(strstr(res.text, "maildir delivery failed: write "));
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	assert_int_equal(count(sub, NULL, 0), 0);
	snprintf(sub, sizeof(sub), "%s/new", md);
	assert_int_equal(count(sub, NULL, 0), 0);
}

/* test_keyed_names_and_recheck - a keyed delivery has one name for every attempt; a retry finds it */
static void test_keyed_names_and_recheck(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = msg_of(x);
	struct dlv_result res;
	char md[256], sub[300], name[512], a[1024], b[1024], expect[512];
	unsigned long long size = strlen(prepend) + strlen(content);

	snprintf(md, sizeof(md), "%s/john/", x->top);
	m.key = "Q4jZ5pv083N054fnjA0123456789abcdef";
	m.arrival_us = 1700000000123456ULL;
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_OK);
	assert_false(res.found);
	snprintf(sub, sizeof(sub), "%snew", md);
	assert_int_equal(count(sub, name, sizeof(name)), 1);
	snprintf(expect, sizeof(expect), "1700000000.KQ4jZ5pv083N054fnjA0123456789abcdef.%s,S=%llu",
		 maildir_hostname(), size);
	assert_string_equal(name, expect);
	/* the same delivery again: the name is taken, so it is there already (no second copy) */
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_OK);
	assert_true(res.found);
	assert_int_equal(count(sub, NULL, 0), 1);
	snprintf(sub, sizeof(sub), "%stmp", md);
	assert_int_equal(count(sub, NULL, 0), 0);
	/* a reader moved it to cur/ with flags: a recheck still finds it */
	snprintf(a, sizeof(a), "%snew/%s", md, expect);
	snprintf(b, sizeof(b), "%scur/%s:2,S", md, expect);
	assert_int_equal(rename(a, b), 0);
	m.recheck = true;
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_OK);
	assert_true(res.found);
	assert_string_equal(res.text, "delivered to maildir (the copy of an earlier attempt)");
	snprintf(sub, sizeof(sub), "%snew", md);
	assert_int_equal(count(sub, NULL, 0), 0);
	/* gone (expunged), with an interrupted attempt's file in tmp/: that is removed and the message delivered */
	assert_int_equal(unlink(b), 0);
	snprintf(a, sizeof(a), "%stmp/1700000000.KQ4jZ5pv083N054fnjA0123456789abcdefP99Q1.%s,S=%llu", md,
		 maildir_hostname(), size);
	assert_int_equal(close(open(a, O_WRONLY | O_CREAT | O_EXCL, 0600)), 0);
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_OK);
	assert_false(res.found);
	assert_int_equal(count(sub, name, sizeof(name)), 1);
	assert_string_equal(name, expect);
	snprintf(sub, sizeof(sub), "%stmp", md);
	assert_int_equal(count(sub, NULL, 0), 0);
	/* another recipient of the same message is another delivery */
	m.key = "Q4jZ5pv083N054fnjAfedcba9876543210";
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_OK);
	assert_false(res.found);
	snprintf(sub, sizeof(sub), "%snew", md);
	assert_int_equal(count(sub, NULL, 0), 2);
	/* a key with other characters is refused */
	m.key = "Q/../x";
	assert_int_equal(maildir_deliver(md, &m, NULL, &res), DLV_BOUNCE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deliver_creates_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_deliveries_and_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_as_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temporary_unwritable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_queue_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyed_names_and_recheck, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
