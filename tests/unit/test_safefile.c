/*
 * test_safefile.c - unit tests for src/lib/safefile.c (atomic, durable file replacement)
 *
 * Each test works in its own mkdtemp() directory under /tmp and removes it.
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/safefile.h"

struct dir {
	char path[64];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/test_safefile.XXXXXX");
	if (mkdtemp(d->path) == NULL)
		return -1;
	*state = d;
	return 0;
}

/* entries - number of entries in dir besides . and .. */
static int entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(dp);
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	DIR *dp = opendir(d->path);
	struct dirent *e;
	char p[512];

	while (dp && (e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
		if (unlink(p) != 0)
			rmdir(p);
	}
	if (dp)
		closedir(dp);
	rmdir(d->path);
	free(d);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* read_file - the whole file as a string (static buffer) */
static const char *read_file(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_all(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_commit_replaces(void **state)
{
	struct dir *d = *state;
	struct safefile sf;
	const char *error = NULL;
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/table.db", d->path);
	write_file(path, "old contents\n");
	assert_int_equal(safefile_open(&sf, path, 0644, &error), 0);
	assert_true(sf.fd >= 0);
	assert_string_equal(sf.path, path);
	/* the temporary file is beside the target, in the same directory */
	assert_memory_equal(sf.tmp, path, strlen(path));
	assert_int_equal(stat(sf.tmp, &st), 0);
	write_all(sf.fd, "new contents\n");
	/* until the commit, readers see the old file */
	assert_string_equal(read_file(path), "old contents\n");
	assert_int_equal(entries(d->path), 2);
	assert_int_equal(safefile_commit(&sf, &error), 0);
	assert_string_equal(read_file(path), "new contents\n");
	/* no temporary file is left, and the struct owns nothing */
	assert_int_equal(entries(d->path), 1);
	assert_null(sf.tmp);
	assert_null(sf.path);
	assert_int_equal(sf.fd, -1);
	/* abort after a successful commit is harmless */
	safefile_abort(&sf);
	assert_string_equal(read_file(path), "new contents\n");
}

static void test_commit_creates(void **state)
{
	struct dir *d = *state;
	struct safefile sf;
	const char *error = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/new", d->path);
	assert_int_equal(safefile_open(&sf, path, 0600, &error), 0);
	assert_int_equal(safefile_commit(&sf, &error), 0);
	assert_string_equal(read_file(path), "");
}

static void test_abort_removes_tmp(void **state)
{
	struct dir *d = *state;
	struct safefile sf;
	const char *error = NULL;
	char path[256], tmp[512];

	snprintf(path, sizeof(path), "%s/aliases", d->path);
	write_file(path, "keep\n");
	assert_int_equal(safefile_open(&sf, path, 0644, &error), 0);
	snprintf(tmp, sizeof(tmp), "%s", sf.tmp);
	write_all(sf.fd, "discard\n");
	safefile_abort(&sf);
	assert_null(sf.tmp);
	assert_null(sf.path);
	assert_int_equal(sf.fd, -1);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_string_equal(read_file(path), "keep\n");
	assert_int_equal(entries(d->path), 1);
	safefile_abort(&sf); /* twice: harmless */
}

static void test_two_at_once(void **state)
{
	struct dir *d = *state;
	struct safefile a, b;
	const char *error = NULL;
	char path[256];

	/* two writers of the same target get distinct temporary files; the last commit wins */
	snprintf(path, sizeof(path), "%s/t", d->path);
	assert_int_equal(safefile_open(&a, path, 0644, &error), 0);
	assert_int_equal(safefile_open(&b, path, 0644, &error), 0);
	assert_string_not_equal(a.tmp, b.tmp);
	write_all(a.fd, "a");
	write_all(b.fd, "b");
	assert_int_equal(safefile_commit(&a, &error), 0);
	assert_int_equal(safefile_commit(&b, &error), 0);
	assert_string_equal(read_file(path), "b");
	assert_int_equal(entries(d->path), 1);
}

static void check_mode(const char *dir, mode_t umask_value, mode_t mode)
{
	struct safefile sf;
	const char *error = NULL;
	char path[256];
	struct stat st;
	mode_t old = umask(umask_value);

	snprintf(path, sizeof(path), "%s/mode%03o", dir, (unsigned)mode);
	assert_int_equal(safefile_open(&sf, path, mode, &error), 0);
	assert_int_equal(safefile_commit(&sf, &error), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void test_mode_ignores_umask(void **state)
{
	struct dir *d = *state;

	check_mode(d->path, 077, 0644);
	check_mode(d->path, 0777, 0640);
	check_mode(d->path, 0, 0600);
	check_mode(d->path, 022, 0666);
}

static void test_open_fails(void **state)
{
	struct dir *d = *state;
	struct safefile sf;
	const char *error = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/no/such/dir/table", d->path);
	assert_int_equal(safefile_open(&sf, path, 0644, &error), -1);
	assert_non_null(error);
	assert_non_null(strstr(error, "cannot create"));
	assert_non_null(strstr(error, path));
	assert_non_null(strstr(error, "No such file or directory"));
	assert_null(sf.tmp);
	assert_null(sf.path);
	assert_int_equal(sf.fd, -1);
	safefile_abort(&sf); /* harmless after a failed open */
}

static void test_commit_fails_rename(void **state)
{
	struct dir *d = *state;
	struct safefile sf;
	const char *error = NULL;
	char path[256], inner[300];

	/* the target is a non-empty directory: rename() must fail, and nothing is lost */
	snprintf(path, sizeof(path), "%s/isdir", d->path);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(inner, sizeof(inner), "%s/x", path);
	write_file(inner, "x");
	assert_int_equal(safefile_open(&sf, path, 0644, &error), 0);
	assert_int_equal(safefile_commit(&sf, &error), -1);
	assert_non_null(strstr(error, "cannot rename into"));
	assert_non_null(strstr(error, path));
	safefile_abort(&sf);
	assert_int_equal(entries(d->path), 1);
	assert_string_equal(read_file(inner), "x");
	assert_int_equal(unlink(inner), 0);
}

static void test_fsync_dir_of(void **state)
{
	struct dir *d = *state;
	char path[256], cwd[1024];

	snprintf(path, sizeof(path), "%s/file", d->path);
	assert_int_equal(fsync_dir_of(path), 0);
	/* the file itself need not exist: it is the directory that is synced */
	snprintf(path, sizeof(path), "%s/", d->path);
	assert_int_equal(fsync_dir_of(path), 0);
	assert_int_equal(fsync_dir_of("/file"), 0);
	assert_int_equal(fsync_dir_of("/"), 0);
	/* no slash: the current directory */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(d->path), 0);
	assert_int_equal(fsync_dir_of("file"), 0);
	assert_int_equal(chdir(cwd), 0);
	/* a missing directory */
	snprintf(path, sizeof(path), "%s/missing/file", d->path);
	errno = 0;
	assert_int_equal(fsync_dir_of(path), -1);
	assert_int_equal(errno, ENOENT);
	/* a path whose "directory" is a file */
	snprintf(path, sizeof(path), "%s/plain", d->path);
	write_file(path, "");
	snprintf(path, sizeof(path), "%s/plain/file", d->path);
	errno = 0;
	assert_int_equal(fsync_dir_of(path), -1);
	assert_int_equal(errno, ENOTDIR);
}

static void test_relative_path(void **state)
{
	struct dir *d = *state;
	struct safefile sf;
	const char *error = NULL;
	char cwd[1024];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(d->path), 0);
	assert_int_equal(safefile_open(&sf, "rel", 0644, &error), 0);
	write_all(sf.fd, "r");
	assert_int_equal(safefile_commit(&sf, &error), 0);
	assert_string_equal(read_file("rel"), "r");
	assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_creates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_removes_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_ignores_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_fails_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_dir_of, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
