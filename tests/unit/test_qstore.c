/*
 * test_qstore.c - unit tests for src/queue/qstore.c (queue directory, writer, group commit)
 *
 * Each test gets a fresh queue directory under a mkdtemp() directory in /var/tmp
 * (a real disk file system, so the syncs are real) and removes it.
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "queue/qstore.h"

struct fix {
	char top[64];
	char qdir[96];
	struct qstore qs;
};

/* rm_rf - remove a tree (test directories only) */
static void rm_rf(const char *path)
{
	DIR *dp = opendir(path);
	struct dirent *e;
	char p[512];

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
	const char *error = NULL;

	snprintf(x->top, sizeof(x->top), "/var/tmp/test_qstore.XXXXXX");
	if (mkdtemp(x->top) == NULL)
		return -1;
	snprintf(x->qdir, sizeof(x->qdir), "%s/spool", x->top);
	if (qstore_open(&x->qs, x->qdir, (uid_t)-1, (gid_t)-1, &error) != 0) {
		fprintf(stderr, "%s\n", error);
		return -1;
	}
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fix *x = *state;

	qstore_close(&x->qs);
	rm_rf(x->top);
	free(x);
	return 0;
}

static struct qfile_env sample_env(void)
{
	struct qfile_env env;

	memset(&env, 0, sizeof(env));
	env.sender = "alice@example.org";
	env.client = (struct qfile_client){ "192.0.2.1", "client.example.net", "client", "ESMTP", "" };
	env.params = (struct qfile_params){ QFILE_BODY_8BITMIME, false, QFILE_RET_NONE, "" };
	return env;
}

static struct qfile_rcpt rcpt(const char *addr)
{
	struct qfile_rcpt r;

	memset(&r, 0, sizeof(r));
	r.orig = addr;
	r.addr = addr;
	r.orcpt = "";
	r.status = QFILE_RCPT_PENDING;
	r.text = "";
	return r;
}

/* new_file - begin a file with two recipients and the given content, finished */
static struct qstore_file *new_file(struct qstore *qs, const char *content)
{
	struct qfile_env env = sample_env();
	struct qfile_rcpt r1 = rcpt("john@example.org"), r2 = rcpt("jane@example.org");
	struct qstore_file *f = NULL;
	const char *error = NULL;

	assert_int_equal(qstore_begin(qs, &env, &f, &error), 0);
	assert_int_equal(qstore_add_rcpt(f, &r1, &error), 0);
	assert_int_equal(qstore_add_rcpt(f, &r2, &error), 0);
	assert_int_equal(qstore_append(f, content, strlen(content), &error), 0);
	assert_int_equal(qstore_finish(f, &error), 0);
	assert_int_equal(qstore_file_state(f), QSTORE_FILE_FINISHED);
	return f;
}

/* nscan - number of committed files in queue q */
static size_t nscan(struct qstore *qs, enum qstore_queue q)
{
	struct qstore_ids ids;
	const char *error = NULL;
	size_t n;

	assert_int_equal(qstore_scan(qs, q, &ids, &error), 0);
	n = ids.n;
	qstore_ids_free(&ids);
	return n;
}

/* path_in - "<qdir>/<queue>/<name>" */
static const char *path_in(struct fix *x, enum qstore_queue q, const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s/%s", x->qdir, qstore_queue_name(q), name);
	return p;
}

static void test_layout_and_modes(void **state)
{
	struct fix *x = *state;
	struct qstore qs2;
	const char *error = NULL;
	struct stat st;
	char p[256];
	int q;

	for (q = 0; q < QSTORE_NQUEUES; q++) {
		snprintf(p, sizeof(p), "%s/%s", x->qdir, qstore_queue_name(q));
		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	assert_string_equal(qstore_queue_name(QSTORE_DEFERRED), "deferred");
	/* an existing directory with a loose mode is tightened; as root, ownership is given away */
	snprintf(p, sizeof(p), "%s/hold", x->qdir);
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(qstore_open(&qs2, x->qdir, geteuid() == 0 ? 65534 : (uid_t)-1,
				     geteuid() == 0 ? 65534 : (gid_t)-1, &error), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
	}
	qstore_close(&qs2);
	/* a subdirectory that is a symlink is refused */
	snprintf(p, sizeof(p), "%s/bounce", x->qdir);
	rm_rf(p);
	assert_int_equal(symlink("/tmp", p), 0);
	assert_int_equal(qstore_open(&qs2, x->qdir, (uid_t)-1, (gid_t)-1, &error), -1);
	assert_non_null(strstr(error, "bounce"));
}

static void test_write_commit_read(void **state)
{
	struct fix *x = *state;
	struct qfile_env env = sample_env();
	struct qfile_rcpt r1 = rcpt("john@example.org");
	struct qstore_file *f = NULL;
	struct qstore_msg *m = NULL;
	struct qstore_ids ids;
	const char *error = NULL;
	char id[TIMEID_QUEUE_SIZE], tmp[64], got[64];
	struct stat st;

	env.sender = "";
	assert_int_equal(qstore_begin(&x->qs, &env, &f, &error), 0);
	memcpy(id, qstore_file_id(f), sizeof(id));
	assert_int_equal(timeid_queue_decode(id, strlen(id), NULL, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", id);
	/* while written, the file exists only under its temporary name, mode 0600 */
	assert_int_equal(lstat(path_in(x, QSTORE_INCOMING, tmp), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(qstore_add_rcpt(f, &r1, &error), 0);
	assert_int_equal(qstore_append(f, "Subject: hi\n\n", 13, &error), 0);
	assert_int_equal(qstore_append(f, "body without newline", 20, &error), 0);
	/* recipients come before the content */
	assert_int_equal(qstore_add_rcpt(f, &r1, &error), -1);
	assert_int_equal(qstore_finish(f, &error), 0);
	assert_int_equal(qstore_file_size(f), 34); /* a final LF was added */
	/* finished but not committed: not deliverable */
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 0);
	assert_int_equal(access(path_in(x, QSTORE_INCOMING, id), F_OK), -1);
	assert_int_equal(qstore_commit(f, &error), 0);
	assert_int_equal(qstore_file_state(f), QSTORE_FILE_COMMITTED);
	qstore_file_free(&f);
	assert_null(f);
	/* committed: under its id, the temporary name is gone, and the scanner sees it */
	assert_int_equal(access(path_in(x, QSTORE_INCOMING, tmp), F_OK), -1);
	assert_int_equal(qstore_scan(&x->qs, QSTORE_INCOMING, &ids, &error), 0);
	assert_int_equal(ids.n, 1);
	assert_string_equal(ids.id[0], id);
	qstore_ids_free(&ids);
	/* read back: envelope and content at fd/offset */
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, id, false, &m, &error), QSTORE_OPEN_OK);
	assert_string_equal(m->env.queue_id, id);
	assert_string_equal(m->env.sender, "");
	assert_string_equal(m->env.client.name, "client.example.net");
	assert_int_equal(m->env.params.body, QFILE_BODY_8BITMIME);
	assert_int_equal(m->env.nrcpt, 1);
	assert_string_equal(m->env.rcpts[0].addr, "john@example.org");
	assert_true(m->env.arrival_us > 1600000000000000ULL);
	assert_int_equal(m->env.content_size, 34);
	assert_int_equal(pread(m->fd, got, 34, (off_t)m->env.content_offset), 34);
	assert_memory_equal(got, "Subject: hi\n\nbody without newline\n", 34);
	/* read-only: no marks */
	assert_int_equal(qstore_mark_rcpt(m, 0, QFILE_RCPT_DELIVERED, "2.0.0", "ok", 0, &error), -1);
	assert_non_null(strstr(error, "read-only"));
	qstore_msg_close(&m);
	assert_null(m);
}

static void test_bounded_buffering(void **state)
{
	struct fix *x = *state;
	struct qfile_env env = sample_env();
	struct qstore_file *f = NULL;
	struct qstore_msg *m = NULL;
	const char *error = NULL;
	char line[100], tmp[64], *all, *got;
	struct stat st;
	size_t i, total = 0;

	x->qs.write_buffer = 1024;
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	all = malloc(300 * sizeof(line) + 5000);
	assert_int_equal(qstore_begin(&x->qs, &env, &f, &error), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", qstore_file_id(f));
	for (i = 0; i < 300; i++) {
		line[0] = (char)('A' + i % 26);
		assert_int_equal(qstore_append(f, line, sizeof(line), &error), 0);
		memcpy(all + total, line, sizeof(line));
		total += sizeof(line);
		/* never more than write_buffer bytes held back in memory */
		assert_int_equal(stat(path_in(x, QSTORE_INCOMING, tmp), &st), 0);
		assert_true((size_t)st.st_size + 1024 >= total);
	}
	/* a piece larger than the buffer goes straight through */
	memset(all + total, 'z', 4999);
	all[total + 4999] = '\n';
	assert_int_equal(qstore_append(f, all + total, 5000, &error), 0);
	total += 5000;
	assert_int_equal(qstore_finish(f, &error), 0);
	assert_int_equal(qstore_commit(f, &error), 0);
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, qstore_file_id(f), false, &m, &error),
			 QSTORE_OPEN_OK);
	assert_int_equal(m->env.content_size, total);
	got = malloc(total);
	assert_int_equal(pread(m->fd, got, total, (off_t)m->env.content_offset), (ssize_t)total);
	assert_memory_equal(got, all, total);
	free(got);
	free(all);
	qstore_msg_close(&m);
	qstore_file_free(&f);
}

static void test_abort_and_unfinished(void **state)
{
	struct fix *x = *state;
	struct qfile_env env = sample_env();
	struct qstore_file *f = NULL, *g;
	const char *error = NULL;
	char tmp[64];

	/* freed without commit: removed */
	assert_int_equal(qstore_begin(&x->qs, &env, &f, &error), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", qstore_file_id(f));
	assert_int_equal(qstore_append(f, "x\n", 2, &error), 0);
	assert_int_equal(access(path_in(x, QSTORE_INCOMING, tmp), F_OK), 0);
	qstore_file_free(&f);
	assert_int_equal(access(path_in(x, QSTORE_INCOMING, tmp), F_OK), -1);
	/* a commit of an unfinished file fails and publishes nothing */
	assert_int_equal(qstore_begin(&x->qs, &env, &f, &error), 0);
	assert_int_equal(qstore_commit(f, &error), -1);
	assert_non_null(strstr(error, "unfinished"));
	assert_int_equal(qstore_file_state(f), QSTORE_FILE_FAILED);
	assert_int_equal(qstore_append(f, "x\n", 2, &error), -1);
	qstore_file_free(&f);
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 0);
	/* a finished file never committed, then freed: gone */
	g = new_file(&x->qs, "x\n");
	qstore_file_free(&g);
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 0);
	assert_int_equal(qstore_clean_temp(&x->qs, 0), 0);
	qstore_file_free(&g); /* NULL: harmless */
}

/* group_commit - 64 files in one batch with the given sync method */
static void group_commit(struct fix *x, enum qstore_sync how)
{
	struct qstore_file *files[64];
	char body[4096];
	size_t i;

	memset(body, 'm', sizeof(body));
	body[sizeof(body) - 1] = '\0';
	body[sizeof(body) - 2] = '\n';
	x->qs.sync = how;
	for (i = 0; i < 64; i++)
		files[i] = new_file(&x->qs, body);
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 0);
	assert_int_equal(qstore_commit_batch(files, 64), 64);
	for (i = 0; i < 64; i++) {
		struct qstore_msg *m = NULL;
		const char *error = NULL;

		assert_int_equal(qstore_file_state(files[i]), QSTORE_FILE_COMMITTED);
		assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, qstore_file_id(files[i]), false, &m,
						 &error), QSTORE_OPEN_OK);
		assert_int_equal(m->env.content_size, 4095);
		assert_int_equal(m->env.nrcpt, 2);
		qstore_msg_close(&m);
		qstore_file_free(&files[i]);
	}
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 64);
}

static void test_group_commit_syncfs(void **state)
{
	group_commit(*state, QSTORE_SYNC_SYNCFS);
}

static void test_group_commit_fdatasync(void **state)
{
	group_commit(*state, QSTORE_SYNC_FDATASYNC);
}

static void test_batch_partial_failure(void **state)
{
	struct fix *x = *state;
	struct qstore_file *files[3];
	const char *error = NULL;
	char path[256];
	FILE *fp;

	files[0] = new_file(&x->qs, "one\n");
	files[1] = new_file(&x->qs, "two\n");
	files[2] = new_file(&x->qs, "three\n");
	/* someone else's file already has the second id: it must not be replaced */
	snprintf(path, sizeof(path), "%s", path_in(x, QSTORE_INCOMING, qstore_file_id(files[1])));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("precious\n", fp);
	fclose(fp);
	assert_int_equal(qstore_commit_batch(files, 3), 2);
	assert_int_equal(qstore_file_state(files[0]), QSTORE_FILE_COMMITTED);
	assert_int_equal(qstore_file_state(files[1]), QSTORE_FILE_FAILED);
	assert_non_null(strstr(qstore_file_error(files[1]), "cannot rename"));
	assert_int_equal(qstore_file_state(files[2]), QSTORE_FILE_COMMITTED);
	/* committing again changes nothing */
	assert_int_equal(qstore_commit_batch(files, 3), 2);
	qstore_file_free(&files[0]);
	qstore_file_free(&files[1]);
	qstore_file_free(&files[2]);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(path, sizeof(path), fp));
	fclose(fp);
	assert_string_equal(path, "precious\n");
	(void)error;
}

static void test_unique_ids(void **state)
{
	struct fix *x = *state;
	enum { N = 1000 };
	struct qstore_file **files = calloc(N, sizeof(*files));
	struct qstore_ids ids;
	const char *error = NULL;
	size_t i;

	for (i = 0; i < N; i++)
		files[i] = new_file(&x->qs, "x\n");
	assert_int_equal(qstore_commit_batch(files, N), N);
	for (i = 0; i < N; i++)
		qstore_file_free(&files[i]);
	free(files);
	assert_int_equal(qstore_scan(&x->qs, QSTORE_INCOMING, &ids, &error), 0);
	assert_int_equal(ids.n, N);
	for (i = 1; i < N; i++)
		assert_true(strcmp(ids.id[i - 1], ids.id[i]) < 0); /* sorted and distinct */
	qstore_ids_free(&ids);
}

static void test_scan_skips_strays(void **state)
{
	struct fix *x = *state;
	struct qstore_file *f = new_file(&x->qs, "x\n");
	struct qstore_ids ids;
	const char *error = NULL;
	char id[TIMEID_QUEUE_SIZE], other[TIMEID_QUEUE_SIZE], p[256];
	FILE *fp;

	assert_int_equal(qstore_commit(f, &error), 0);
	memcpy(id, qstore_file_id(f), sizeof(id));
	qstore_file_free(&f);
	/* an uncommitted writer, a stray name, a directory and a symlink with queue-id names */
	f = new_file(&x->qs, "y\n");
	fp = fopen(path_in(x, QSTORE_INCOMING, "README"), "w");
	fclose(fp);
	timeid_queue(other);
	assert_int_equal(mkdir(path_in(x, QSTORE_INCOMING, other), 0700), 0);
	timeid_queue(other);
	snprintf(p, sizeof(p), "%s", path_in(x, QSTORE_INCOMING, id));
	assert_int_equal(symlink(p, path_in(x, QSTORE_INCOMING, other)), 0);
	assert_int_equal(qstore_scan(&x->qs, QSTORE_INCOMING, &ids, &error), 0);
	assert_int_equal(ids.n, 1);
	assert_string_equal(ids.id[0], id);
	qstore_ids_free(&ids);
	qstore_file_free(&f);
}

static void test_move_delete(void **state)
{
	struct fix *x = *state;
	struct qstore_file *f = new_file(&x->qs, "x\n");
	const char *error = NULL;
	char id[TIMEID_QUEUE_SIZE];
	FILE *fp;

	assert_int_equal(qstore_commit(f, &error), 0);
	memcpy(id, qstore_file_id(f), sizeof(id));
	qstore_file_free(&f);
	assert_int_equal(qstore_move(&x->qs, id, QSTORE_INCOMING, QSTORE_ACTIVE, &error), 0);
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 0);
	assert_int_equal(nscan(&x->qs, QSTORE_ACTIVE), 1);
	assert_int_equal(qstore_move(&x->qs, id, QSTORE_ACTIVE, QSTORE_DEFERRED, &error), 0);
	assert_int_equal(qstore_move(&x->qs, id, QSTORE_DEFERRED, QSTORE_HOLD, &error), 0);
	assert_int_equal(nscan(&x->qs, QSTORE_HOLD), 1);
	/* a move never replaces a message of the same id */
	fp = fopen(path_in(x, QSTORE_ACTIVE, id), "w");
	fclose(fp);
	assert_int_equal(qstore_move(&x->qs, id, QSTORE_HOLD, QSTORE_ACTIVE, &error), -1);
	assert_non_null(strstr(error, "File exists"));
	assert_int_equal(nscan(&x->qs, QSTORE_HOLD), 1);
	assert_int_equal(qstore_delete(&x->qs, QSTORE_ACTIVE, id, &error), 0);
	assert_int_equal(qstore_move(&x->qs, id, QSTORE_HOLD, QSTORE_ACTIVE, &error), 0);
	assert_int_equal(qstore_delete(&x->qs, QSTORE_ACTIVE, id, &error), 0);
	assert_int_equal(nscan(&x->qs, QSTORE_ACTIVE), 0);
	assert_int_equal(qstore_delete(&x->qs, QSTORE_ACTIVE, id, &error), -1);
	/* names that are not queue ids never reach the file system */
	assert_int_equal(qstore_delete(&x->qs, QSTORE_ACTIVE, "../incoming/x", &error), -1);
	assert_non_null(strstr(error, "not a queue id"));
	assert_int_equal(qstore_move(&x->qs, "../../etc/passwd", QSTORE_ACTIVE, QSTORE_HOLD, &error), -1);
}

static void test_mark_rcpt(void **state)
{
	struct fix *x = *state;
	struct qstore_file *f = new_file(&x->qs, "x\n");
	struct qstore_msg *m = NULL;
	const char *error = NULL;
	char id[TIMEID_QUEUE_SIZE];

	assert_int_equal(qstore_commit(f, &error), 0);
	memcpy(id, qstore_file_id(f), sizeof(id));
	qstore_file_free(&f);
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, id, true, &m, &error), QSTORE_OPEN_OK);
	assert_int_equal(qstore_mark_rcpt(m, 0, QFILE_RCPT_DELIVERED, "2.0.0", "delivered to maildir", 0, &error),
			 0);
	assert_int_equal(m->env.rcpts[0].status, QFILE_RCPT_DELIVERED);
	assert_int_equal(qstore_mark_rcpt(m, 1, QFILE_RCPT_DEFERRED, "4.2.0", "mailbox is locked",
					  QSTORE_MARK_NOSYNC, &error), 0);
	assert_int_equal(qstore_msg_sync(m, &error), 0);
	assert_int_equal(qstore_mark_rcpt(m, 2, QFILE_RCPT_DELIVERED, "2.0.0", "", 0, &error), -1);
	assert_int_equal(qstore_mark_rcpt(m, 1, QFILE_RCPT_DELIVERED, "", "", 0, &error), -1);
	qstore_msg_close(&m);
	/* the outcome is in the file */
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, id, false, &m, &error), QSTORE_OPEN_OK);
	assert_int_equal(m->env.rcpts[0].status, QFILE_RCPT_DELIVERED);
	assert_string_equal(m->env.rcpts[0].dsn, "2.0.0");
	assert_string_equal(m->env.rcpts[0].text, "delivered to maildir");
	assert_int_equal(m->env.rcpts[1].status, QFILE_RCPT_DEFERRED);
	assert_string_equal(m->env.rcpts[1].text, "mailbox is locked");
	assert_string_equal(m->env.rcpts[1].addr, "jane@example.org");
	qstore_msg_close(&m);
}

static void test_corrupt_and_clean(void **state)
{
	struct fix *x = *state;
	struct qstore_file *f = new_file(&x->qs, "x\n");
	struct qstore_msg *m = NULL;
	const char *error = NULL;
	char id[TIMEID_QUEUE_SIZE], other[TIMEID_QUEUE_SIZE], tmp[256];
	struct stat st;
	FILE *fp;

	assert_int_equal(qstore_commit(f, &error), 0);
	memcpy(id, qstore_file_id(f), sizeof(id));
	qstore_file_free(&f);
	/* truncated by a crash or a disk problem: incomplete, to be moved to corrupt/ */
	assert_int_equal(stat(path_in(x, QSTORE_INCOMING, id), &st), 0);
	assert_int_equal(truncate(path_in(x, QSTORE_INCOMING, id), st.st_size - 1), 0);
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, id, false, &m, &error), QSTORE_OPEN_CORRUPT);
	assert_non_null(strstr(error, "incomplete"));
	assert_int_equal(truncate(path_in(x, QSTORE_INCOMING, id), 0), 0);
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, id, false, &m, &error), QSTORE_OPEN_CORRUPT);
	assert_int_equal(qstore_move(&x->qs, id, QSTORE_INCOMING, QSTORE_CORRUPT, &error), 0);
	/* a valid file under another id's name */
	f = new_file(&x->qs, "x\n");
	assert_int_equal(qstore_commit(f, &error), 0);
	timeid_queue(other);
	snprintf(tmp, sizeof(tmp), "%s", path_in(x, QSTORE_INCOMING, qstore_file_id(f)));
	assert_int_equal(rename(tmp, path_in(x, QSTORE_INCOMING, other)), 0);
	qstore_file_free(&f);
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, other, false, &m, &error), QSTORE_OPEN_CORRUPT);
	assert_non_null(strstr(error, "does not match"));
	/* missing: an error, not corruption */
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_ACTIVE, other, false, &m, &error), QSTORE_OPEN_ERROR);
	/* stale temporary files left by a crash are cleaned; young ones are kept with an age limit */
	timeid_queue(other);
	snprintf(tmp, sizeof(tmp), "%s.tmp", other);
	fp = fopen(path_in(x, QSTORE_INCOMING, tmp), "w");
	fclose(fp);
	assert_int_equal(qstore_clean_temp(&x->qs, 3600), 0);
	assert_int_equal(qstore_clean_temp(&x->qs, 0), 1);
	assert_int_equal(access(path_in(x, QSTORE_INCOMING, tmp), F_OK), -1);
}

/* test_stage_release_discard - a staged forward is durable but invisible until released */
static void test_stage_release_discard(void **state)
{
	struct fix *x = *state;
	struct qstore_file *f = new_file(&x->qs, "Subject: fwd\n\nbody\n"), *g = new_file(&x->qs, "x\n");
	const char *error = NULL, *parent = "4jZ5pv083N054fnj";
	struct qstore_fwd *fw = NULL;
	struct qstore_msg *m = NULL;
	char id[TIMEID_QUEUE_SIZE], gid[TIMEID_QUEUE_SIZE], name[128];
	size_t n = 0;

	snprintf(id, sizeof(id), "%s", qstore_file_id(f));
	snprintf(gid, sizeof(gid), "%s", qstore_file_id(g));
	assert_int_equal(qstore_stage(f, "not/an/id", 3, &error), -1);
	qstore_file_free(&f);
	f = new_file(&x->qs, "Subject: fwd\n\nbody\n");
	snprintf(id, sizeof(id), "%s", qstore_file_id(f));
	assert_int_equal(qstore_stage(f, parent, 3, &error), 0);
	assert_int_equal(qstore_stage(g, parent, 4, &error), 0);
	qstore_file_free(&f); /* staged: freeing the writer keeps the file */
	qstore_file_free(&g);
	snprintf(name, sizeof(name), "%s.fwd.%s.3", id, parent);
	assert_int_equal(access(path_in(x, QSTORE_INCOMING, name), F_OK), 0);
	/* not a message yet: scans and temp cleaning leave it alone */
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 0);
	assert_int_equal(qstore_clean_temp(&x->qs, 0), 0);
	assert_int_equal(qstore_fwd_scan(&x->qs, &fw, &n, &error), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(fw[i].parent, parent);
		assert_true((strcmp(fw[i].id, id) == 0 && fw[i].n == 3) || (strcmp(fw[i].id, gid) == 0 && fw[i].n == 4));
	}
	free(fw);
	/* released: a committed message under its id */
	assert_int_equal(qstore_fwd_release(&x->qs, id, parent, 4, &error), -1); /* wrong recipient index */
	assert_int_equal(qstore_fwd_release(&x->qs, id, parent, 3, &error), 0);
	assert_int_equal(nscan(&x->qs, QSTORE_INCOMING), 1);
	assert_int_equal(qstore_msg_open(&x->qs, QSTORE_INCOMING, id, false, &m, &error), QSTORE_OPEN_OK);
	assert_int_equal(m->env.nrcpt, 2);
	qstore_msg_close(&m);
	/* discarded: gone (twice is fine) */
	assert_int_equal(qstore_fwd_discard(&x->qs, gid, parent, 4, &error), 0);
	assert_int_equal(qstore_fwd_discard(&x->qs, gid, parent, 4, &error), 0);
	assert_int_equal(qstore_fwd_scan(&x->qs, &fw, &n, &error), 0);
	assert_int_equal(n, 0);
	free(fw);
	assert_int_equal(qstore_fwd_discard(&x->qs, "../x", parent, 4, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_commit_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_buffering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_unfinished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_syncfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_fdatasync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_partial_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unique_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_skips_strays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_rcpt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_and_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_release_discard, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
