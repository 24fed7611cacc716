/*
 * test_mbox.c - unit tests for src/queue/mbox.c (mbox append with locks)
 *
 * Real files in a mkdtemp() directory under /var/tmp; a forked child holds an
 * fcntl lock to play the competing mail reader.
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/timeid.h"
#include "queue/mbox.h"

struct fix {
	char top[64];
	char mbox[128];
	char qpath[128];
};

static const char prepend[] = "Return-Path: <alice@example.org>\nDelivered-To: jane@example.org\n";
static const struct mbox_lock fast = { 3, 50, 500 };
static const time_t arrival = 1700000000;

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof(*x));

	snprintf(x->top, sizeof(x->top), "/var/tmp/test_mbox.XXXXXX");
	if (mkdtemp(x->top) == NULL)
		return -1;
	snprintf(x->mbox, sizeof(x->mbox), "%s/jane", x->top);
	snprintf(x->qpath, sizeof(x->qpath), "%s/queuefile", x->top);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;
	DIR *dp = opendir(x->top);
	struct dirent *e;
	char p[512];

	while (dp && (e = readdir(dp)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", x->top, e->d_name);
		if (e->d_name[0] != '.')
			unlink(p);
	}
	if (dp)
		closedir(dp);
	rmdir(x->top);
	free(x);
	return 0;
}

/* qfile - a stand-in queue file holding "JUNK" then content; returns the message (fd open) */
static struct dlv_msg qfile(struct fix *x, const char *content, size_t n)
{
	struct dlv_msg m = { prepend, strlen(prepend), -1, 4, n, NULL, 0, false };
	int fd = open(x->qpath, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "JUNK", 4), 4);
	assert_int_equal(write(fd, content, n), (ssize_t)n);
	m.fd = fd;
	return m;
}

/* slurp - a whole file, NUL-terminated */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = malloc(4 << 20);

	assert_non_null(f);
	*n = fread(p, 1, (4 << 20) - 1, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

/* from_line - the From_ line expected for sender at the test's arrival time */
static const char *from_line(const char *sender)
{
	static char line[256];
	char date[64];
	struct tm tm;

	localtime_r(&arrival, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(line, sizeof(line), "From %s %s\n", sender, date);
	return line;
}

static void test_append_quote_blank_line(void **state)
{
	struct fix *x = *state;
	const char *content = "Subject: hi\n\nFrom me\n>From you\nFrom\nFromage\n From x\nFrom \n";
	const char *quoted = "Subject: hi\n\n>From me\n>From you\nFrom\nFromage\n From x\n>From \n";
	struct dlv_msg m = qfile(x, content, strlen(content));
	struct dlv_result res;
	char expect[1024];
	struct stat st;
	size_t n;
	char *got;

	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival, &fast, NULL, &res), DLV_OK);
	assert_string_equal(res.dsn, "2.0.0");
	assert_string_equal(res.text, "delivered to mailbox");
	assert_string_equal(res.where, x->mbox);
	snprintf(expect, sizeof(expect), "%s%s%s\n", from_line("alice@example.org"), prepend, quoted);
	got = slurp(x->mbox, &n);
	assert_string_equal(got, expect);
	free(got);
	assert_int_equal(stat(x->mbox, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* a second message: the null sender is MAILER-DAEMON, appended after the blank line */
	assert_int_equal(mbox_deliver(x->mbox, &m, "", arrival, &fast, NULL, &res), DLV_OK);
	snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), "%s%s%s\n", from_line("MAILER-DAEMON"),
		 prepend, quoted);
	got = slurp(x->mbox, &n);
	assert_string_equal(got, expect);
	free(got);
	/* no lock file is left */
	snprintf(expect, sizeof(expect), "%s.lock", x->mbox);
	assert_int_equal(access(expect, F_OK), -1);
	close(m.fd);
}

static void test_quote_across_pieces(void **state)
{
	struct fix *x = *state;
	size_t n = 200000, i, gn, cut = 65536 - 2; /* "From " straddles the first 64 KiB read */
	char *content = malloc(n), *got, *expect = malloc(n + 1000);
	struct dlv_msg m;
	struct dlv_result res;
	size_t e = 0;

	memset(content, 'x', n);
	for (i = 79; i < n; i += 80)
		content[i] = '\n';
	content[cut - 1] = '\n';
	memcpy(content + cut, "From the middle", 15);
	content[n - 1] = '\n';
	m = qfile(x, content, n);
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_OK);
	e = (size_t)snprintf(expect, n + 1000, "%s%s", from_line("a@b"), prepend);
	memcpy(expect + e, content, cut);
	e += cut;
	expect[e++] = '>';
	memcpy(expect + e, content + cut, n - cut);
	e += n - cut;
	expect[e++] = '\n';
	got = slurp(x->mbox, &gn);
	assert_int_equal(gn, e);
	assert_memory_equal(got, expect, e);
	free(got);
	free(expect);
	free(content);
	close(m.fd);
}

/* hold_lock - child: take an fcntl write lock on the mbox, report, wait for the pipe to close */
static void hold_lock(int fd_ready, int fd_wait, const char *path)
{
	int fd = open(path, O_RDWR);
	struct flock fl;
	char c;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
		_exit(1);
	if (write(fd_ready, "r", 1) != 1)
		_exit(1);
	while (read(fd_wait, &c, 1) > 0)
		;
	_exit(0);
}

static void test_fcntl_lock_held(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = qfile(x, "hello\n", 6);
	struct dlv_result res;
	int ready[2], wait[2], status;
	uint64_t t0, dt;
	struct stat before, after;
	char c, lockpath[256];
	pid_t pid;

	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_OK);
	assert_int_equal(stat(x->mbox, &before), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(wait), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(wait[1]);
		hold_lock(ready[1], wait[0], x->mbox);
	}
	close(ready[1]);
	close(wait[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	t0 = time_mono_ms();
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_DEFER);
	dt = time_mono_ms() - t0;
	assert_true(dt >= 100 && dt < 2000); /* retried (3 x 50 ms), then gave up in time */
	assert_string_equal(res.dsn, "4.2.0");
	assert_non_null(strstr(res.text, "unable to lock for exclusive access: Resource temporarily unavailable"));
	assert_non_null(strstr(res.text, x->mbox));
	assert_int_equal(stat(x->mbox, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	snprintf(lockpath, sizeof(lockpath), "%s.lock", x->mbox);
	assert_int_equal(access(lockpath, F_OK), -1); /* our dotlock was released */
	close(wait[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* once the reader is gone, delivery works */
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_OK);
	close(ready[0]);
	close(m.fd);
}

static void test_dotlock_fresh_and_stale(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = qfile(x, "hello\n", 6);
	struct dlv_result res;
	struct mbox_lock stale = { 8, 400, 0 };
	char lockpath[256];
	int fd;

	snprintf(lockpath, sizeof(lockpath), "%s.lock", x->mbox);
	fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL, 0);
	assert_true(fd >= 0);
	close(fd);
	/* a fresh lock held by someone else: defer */
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_DEFER);
	assert_string_equal(res.dsn, "4.2.0");
	assert_non_null(strstr(res.text, "unable to create lock file"));
	assert_non_null(strstr(res.text, "File exists"));
	assert_int_equal(access(lockpath, F_OK), 0); /* not ours: left alone */
	/* the same lock, now older than stale_s: broken, and the delivery goes through */
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &stale, NULL, &res), DLV_OK);
	assert_int_equal(access(lockpath, F_OK), -1);
	close(m.fd);
}

/* write_lock - a dotlock holding text */
static void write_lock(const char *lockpath, const char *text)
{
	int fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_dotlock_of_dead_process(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = qfile(x, "hello\n", 6);
	struct dlv_result res;
	char lockpath[256], text[400], host[256];

	snprintf(lockpath, sizeof(lockpath), "%s.lock", x->mbox);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	/* a live process of this host (this one) holds it: defer */
	snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(), host);
	write_lock(lockpath, text);
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_DEFER);
	assert_int_equal(access(lockpath, F_OK), 0);
	unlink(lockpath);
	/* another host's lock: only its age may break it */
	snprintf(text, sizeof(text), "99999999 not-%s\n", host);
	write_lock(lockpath, text);
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_DEFER);
	unlink(lockpath);
	/* a dead process of this host (pid above pid_max): broken at once */
	snprintf(text, sizeof(text), "99999999 %s\n", host);
	write_lock(lockpath, text);
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_OK);
	assert_int_equal(access(lockpath, F_OK), -1);
	close(m.fd);
}

static void test_failure_truncates_back(void **state)
{
	struct fix *x = *state;
	size_t n = 300000, gn;
	char *content = malloc(n), *before, *got;
	struct dlv_msg m;
	struct dlv_result res;
	struct stat st;

	memset(content, 'y', n);
	content[n - 1] = '\n';
	m = qfile(x, "first\n", 6);
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_OK);
	close(m.fd);
	before = slurp(x->mbox, &gn);
	/* the queue file is shorter than the envelope claims: the copy fails after writing 64 KiB pieces */
	m = qfile(x, content, n);
	m.size = n + 100000;
	assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, NULL, &res), DLV_DEFER);
	assert_string_equal(res.dsn, "4.2.0");
	assert_non_null(strstr(res.text, "error writing message"));
	assert_int_equal(stat(x->mbox, &st), 0);
	assert_int_equal((size_t)st.st_size, gn);
	got = slurp(x->mbox, &gn);
	assert_string_equal(got, before);
	free(got);
	free(before);
	free(content);
	close(m.fd);
}

static void test_missing_parent_is_created(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = qfile(x, "hello\n", 6);
	struct dlv_result res;
	char dom[160], sub[200], box[240];
	struct stat st;

	/* a new domain directory, two levels deep: created 0700, then the mailbox in it */
	snprintf(dom, sizeof(dom), "%s/example.org", x->top);
	snprintf(sub, sizeof(sub), "%s/sub", dom);
	snprintf(box, sizeof(box), "%s/jane", sub);
	assert_int_equal(mbox_deliver(box, &m, "a@b", arrival, &fast, NULL, &res), DLV_OK);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(box, &st), 0);
	assert_true(st.st_size > 6);
	unlink(box);
	rmdir(sub);
	rmdir(dom);
	close(m.fd);
}

static void test_bad_targets_and_owner(void **state)
{
	struct fix *x = *state;
	struct dlv_msg m = qfile(x, "hello\n", 6);
	struct dlv_owner own = { 65534, 65534 };
	struct dlv_result res;
	char p[256];
	struct stat st;

	assert_int_equal(mbox_deliver("relative", &m, "a@b", arrival, &fast, NULL, &res), DLV_BOUNCE);
	assert_string_equal(res.dsn, "5.2.0");
	/* a directory where the mailbox should be */
	snprintf(p, sizeof(p), "%s/dir", x->top);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(mbox_deliver(p, &m, "a@b", arrival, &fast, NULL, &res), DLV_BOUNCE);
	rmdir(p);
	/* a symlink is not followed */
	snprintf(p, sizeof(p), "%s/link", x->top);
	assert_int_equal(symlink(x->qpath, p), 0);
	assert_int_equal(mbox_deliver(p, &m, "a@b", arrival, &fast, NULL, &res), DLV_BOUNCE);
	assert_non_null(strstr(res.text, "cannot open file"));
	/* as root, a new mailbox is given to its owner */
	if (geteuid() == 0) {
		assert_int_equal(mbox_deliver(x->mbox, &m, "a@b", arrival, &fast, &own, &res), DLV_OK);
		assert_int_equal(stat(x->mbox, &st), 0);
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
		assert_int_equal(st.st_mode & 07777, 0600);
	}
	close(m.fd);
}

/* test_recheck_finds_earlier_copy - a retry flagged recheck appends nothing when the exact delivery is there */
static void test_recheck_finds_earlier_copy(void **state)
{
	struct fix *x = *state;
	static const char other_pre[] = "Return-Path: <alice@example.org>\nDelivered-To: jim@example.org\n";
	const char *content = "Received: from a by b id 4jZ5pv083N054fnj\nSubject: once\n\nFrom here\nbody\n";
	struct dlv_msg m = qfile(x, content, strlen(content)), o;
	struct dlv_result res;
	struct stat st;
	off_t size;
	char big[3 * 65536];
	int fd2;

	/* the earlier attempt's copy, then other mail appended after it (larger than one search piece) */
	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival, &fast, NULL, &res), DLV_OK);
	assert_false(res.found);
	memset(big, 'y', sizeof(big));
	for (size_t i = 80; i < sizeof(big); i += 80)
		big[i] = '\n';
	big[sizeof(big) - 1] = '\n';
	fd2 = m.fd;
	o = qfile(x, big, sizeof(big));
	assert_int_equal(mbox_deliver(x->mbox, &o, "bob@example.org", arrival, &fast, NULL, &res), DLV_OK);
	close(o.fd);
	close(fd2);
	m = qfile(x, content, strlen(content));
	assert_int_equal(stat(x->mbox, &st), 0);
	size = st.st_size;
	/* without recheck a second copy would be written; with it, the copy is found */
	m.recheck = true;
	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival, &fast, NULL, &res), DLV_OK);
	assert_true(res.found);
	assert_string_equal(res.text, "delivered to mailbox (the copy of an earlier attempt)");
	assert_int_equal(stat(x->mbox, &st), 0);
	assert_int_equal(st.st_size, size);
	/* another recipient (Delivered-To), sender or arrival is another delivery: appended */
	m.prepend = other_pre;
	m.prepend_len = strlen(other_pre);
	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival, &fast, NULL, &res), DLV_OK);
	assert_false(res.found);
	m.prepend = prepend;
	m.prepend_len = strlen(prepend);
	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival + 1, &fast, NULL, &res), DLV_OK);
	assert_false(res.found);
	close(m.fd);
	/* the same headers with other content: appended too */
	m = qfile(x, "Received: from a by b id 4jZ5pv083N054fnj\nSubject: once\n\nFrom here\nbodY\n", strlen(content));
	m.recheck = true;
	assert_int_equal(stat(x->mbox, &st), 0);
	size = st.st_size;
	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival, &fast, NULL, &res), DLV_OK);
	assert_false(res.found);
	assert_int_equal(stat(x->mbox, &st), 0);
	assert_true(st.st_size > size);
	/* an attempt killed while it appended left the start of this delivery at the end: cut and redone */
	size = st.st_size;
	assert_int_equal(truncate(x->mbox, size - 7), 0);
	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival, &fast, NULL, &res), DLV_OK);
	assert_false(res.found);
	assert_int_equal(stat(x->mbox, &st), 0);
	assert_int_equal(st.st_size, size);
	assert_int_equal(mbox_deliver(x->mbox, &m, "alice@example.org", arrival, &fast, NULL, &res), DLV_OK);
	assert_true(res.found);
	{
		struct stat st2;

		assert_int_equal(stat(x->mbox, &st2), 0);
		assert_int_equal(st2.st_size, st.st_size);
	}
	close(m.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_quote_blank_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quote_across_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fcntl_lock_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dotlock_fresh_and_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dotlock_of_dead_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_truncates_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_parent_is_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_targets_and_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recheck_finds_earlier_copy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
