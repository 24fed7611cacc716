/*
 * test_dict.c - unit tests for the lookup tables (src/libmail/dict*.c) and map_build()
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "libmail/dict.h"
#include "libmail/mapbuild.h"

static char tmpdir[64];
static struct buf logged = BUF_INIT(0);

/* capture - log hook: keep every line for assertions */
static void capture(enum log_level lvl, const char *text, void *ctx)
{
	(void)lvl;
	(void)ctx;
	buf_printf(&logged, "%s\n", text);
}

/* path - a file name in the test directory (static ring of 4) */
static const char *path(const char *name)
{
	static char ring[4][512];
	static unsigned slot;
	char *p = ring[slot++ % 4];

	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

/* spec - "type:path" (static ring of 4) */
static const char *spec(const char *type, const char *name)
{
	static char ring[4][600];
	static unsigned slot;
	char *p = ring[slot++ % 4];

	snprintf(p, 600, "%s:%s", type, path(name));
	return p;
}

/* write_file - create name with the given contents and mode */
static void write_file(const char *name, const char *text, mode_t mode)
{
	int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* build - map_build() that must succeed */
static void build(const char *s)
{
	const char *err = NULL;

	if (map_build(s, DICT_FLAGS_DEFAULT, &err) != 0)
		fail_msg("map_build(%s): %s", s, err);
}

/* xopen - dict_open() that must succeed */
static struct dict *xopen(const char *s, int flags)
{
	const char *err = NULL;
	struct dict *d = dict_open(s, flags, &err);

	if (d == NULL)
		fail_msg("dict_open(%s): %s", s, err);
	return d;
}

/* get - the value for key, "" when not found; an error fails the test */
static const char *get(struct dict *d, const char *key)
{
	const char *v = NULL, *err = NULL;
	int rc = dict_lookup(d, key, &v, &err);

	if (rc < 0)
		fail_msg("dict_lookup(%s, %s): %s", dict_spec(d), key, err);
	return rc ? v : "";
}

/* open_error - the error of a dict_open() that must fail */
static const char *open_error(const char *s, int flags)
{
	const char *err = NULL;
	struct dict *d = dict_open(s, flags, &err);

	if (d != NULL)
		fail_msg("dict_open(%s) should fail", s);
	return err;
}

static int setup(void **state)
{
	(void)state;
	buf_reset(&logged);
	log_set_hook(capture, NULL);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dict.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *dir = opendir(tmpdir);
	struct dirent *de;

	(void)state;
	log_set_hook(NULL, NULL);
	buf_free(&logged);
	while (dir && (de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlink(path(de->d_name));
	if (dir)
		closedir(dir);
	rmdir(tmpdir);
	return 0;
}

static const char alias_src[] = "# alias  target(s)\n"
				"johnsmith@example.org    john@example.org\n"
				"Team@Example.org         john@example.org,\n"
				"                         jane@example.org\n"
				"team@example.org         duplicate@example.org\n";

static void test_hash(void **state)
{
	struct dict *d;
	struct stat st;

	(void)state;
	write_file("alias", alias_src, 0640);
	buf_reset(&logged);
	build(spec("hash", "alias"));
	/* the duplicate (after folding) is warned about with file and line; the first value stays */
	assert_non_null(strstr(buf_cstr(&logged), "alias, line 5: duplicate entry: \"team@example.org\""));
	assert_int_equal(stat(path("alias.db"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_not_equal(stat(path("alias.cdb"), &st), 0);
	d = xopen(spec("hash", "alias"), DICT_FLAGS_DEFAULT);
	assert_string_equal(get(d, "team@example.org"), "john@example.org,                         jane@example.org");
	assert_string_equal(get(d, "TEAM@Example.ORG"), "john@example.org,                         jane@example.org");
	assert_string_equal(get(d, "johnsmith@example.org"), "john@example.org");
	assert_string_equal(get(d, "nobody@example.org"), "");
	assert_string_equal(get(d, ""), "");
	assert_string_equal(dict_spec(d), spec("hash", "alias"));
	dict_close(&d);
	assert_null(d);
	dict_close(&d);
	/* without folding the query must match the stored (folded) key exactly */
	d = xopen(spec("hash", "alias"), 0);
	assert_string_equal(get(d, "TEAM@Example.ORG"), "");
	assert_string_equal(get(d, "team@example.org"), "john@example.org,                         jane@example.org");
	dict_close(&d);
}

static void test_cdb_and_mode(void **state)
{
	struct dict *d;
	struct stat st;
	const char *err;

	(void)state;
	write_file("mbox", "John@Example.org example.org/john/\n", 0664);
	build(spec("cdb", "mbox"));
	assert_int_equal(stat(path("mbox.cdb"), &st), 0);
	/* never more permissive than the source, and never group/other-writable */
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_not_equal(stat(path("mbox.db"), &st), 0);
	d = xopen(spec("cdb", "mbox"), DICT_FLAGS_DEFAULT);
	assert_string_equal(get(d, "john@example.org"), "example.org/john/");
	dict_close(&d);
	/* hash: looks for .db, which was not built */
	err = open_error(spec("hash", "mbox"), DICT_FLAGS_DEFAULT);
	assert_non_null(strstr(err, "mbox.db: No such file or directory"));
	assert_non_null(strstr(err, "postern postmap"));
	write_file("secret", "a b\n", 0600);
	build(spec("hash", "secret"));
	assert_int_equal(stat(path("secret.db"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_build_errors(void **state)
{
	const char *err = NULL;
	struct dict *d;
	DIR *dir;
	struct dirent *de;

	(void)state;
	assert_int_equal(map_build(spec("hash", "missing"), DICT_FLAGS_DEFAULT, &err), -1);
	assert_non_null(strstr(err, "missing: No such file or directory"));
	assert_int_equal(strncmp(err, "open ", 5), 0);
	/* a bad line fails the build and leaves the old table in place */
	write_file("t", "a old\n", 0644);
	build(spec("hash", "t"));
	write_file("t", "a new\nbroken\n", 0644);
	assert_int_equal(map_build(spec("hash", "t"), DICT_FLAGS_DEFAULT, &err), -1);
	assert_non_null(strstr(err, "t, line 2: expected format: key whitespace value"));
	d = xopen(spec("hash", "t"), DICT_FLAGS_DEFAULT);
	assert_string_equal(get(d, "a"), "old");
	dict_close(&d);
	/* and no temporary file is left behind */
	dir = opendir(tmpdir);
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		assert_null(strstr(de->d_name, ".tmp."));
	closedir(dir);
	/* types that are not built */
	assert_int_equal(map_build(spec("texthash", "t"), DICT_FLAGS_DEFAULT, &err), -1);
	assert_non_null(strstr(err, "nothing to build"));
	assert_int_equal(map_build("nosuch:/x", DICT_FLAGS_DEFAULT, &err), -1);
	assert_non_null(strstr(err, "unsupported dictionary type for building: nosuch"));
}

static void test_open_errors(void **state)
{
	const char *err;
	char bdb[4096];
	unsigned magic = 0x061561, version = 9;
	int fd;

	(void)state;
	assert_non_null(strstr(open_error("/etc/postern/virtual", 0), "expected type:name"));
	assert_string_equal(open_error("nosuch:/x", 0), "unsupported dictionary type: nosuch");
	assert_non_null(strstr(open_error("hash:", 0), "needs a file name"));
	assert_non_null(strstr(open_error("cidr:", 0), "needs a file name"));
	assert_non_null(strstr(open_error("texthash:", 0), "needs a file name"));
	assert_false(dict_type_known("nosuch"));
	assert_true(dict_type_known("hash"));
	/* a Postfix-built Berkeley DB hash file is recognised and refused with a hint */
	memset(bdb, 0, sizeof(bdb));
	memcpy(bdb + 12, &magic, 4);
	memcpy(bdb + 16, &version, 4);
	fd = open(path("bdb.db"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bdb, sizeof(bdb)), (ssize_t)sizeof(bdb));
	close(fd);
	err = open_error(spec("hash", "bdb"), DICT_FLAGS_DEFAULT);
	assert_non_null(strstr(err, "is a Berkeley DB file"));
	assert_non_null(strstr(err, "re-run `postern postmap"));
	/* a file too short to be a CDB file */
	write_file("short.db", "not a cdb\n", 0644);
	err = open_error(spec("hash", "short"), DICT_FLAGS_DEFAULT);
	assert_non_null(strstr(err, "not a valid CDB file"));
}

static void test_texthash(void **state)
{
	struct dict *d;
	const char *err;

	(void)state;
	write_file("alias", alias_src, 0644);
	buf_reset(&logged);
	d = xopen(spec("texthash", "alias"), DICT_FLAGS_DEFAULT);
	assert_non_null(strstr(buf_cstr(&logged), "alias, line 5: duplicate entry: \"team@example.org\""));
	assert_string_equal(get(d, "TEAM@example.org"), "john@example.org,                         jane@example.org");
	assert_string_equal(get(d, "johnsmith@example.org"), "john@example.org");
	assert_string_equal(get(d, "nobody@example.org"), "");
	dict_close(&d);
	/* without folding, keys are stored as written */
	d = xopen(spec("texthash", "alias"), 0);
	assert_string_equal(get(d, "Team@Example.org"), "john@example.org,                         jane@example.org");
	assert_string_equal(get(d, "team@example.org"), "duplicate@example.org");
	dict_close(&d);
	write_file("bad", "a b\n\nc\n", 0644);
	err = open_error(spec("texthash", "bad"), DICT_FLAGS_DEFAULT);
	assert_non_null(strstr(err, "bad, line 3: expected format: key whitespace value"));
	err = open_error(spec("texthash", "missing"), DICT_FLAGS_DEFAULT);
	assert_non_null(strstr(err, "missing: No such file or directory"));
}

static void test_static(void **state)
{
	struct dict *d;

	(void)state;
	d = xopen("static:5000", DICT_FLAGS_DEFAULT);
	assert_string_equal(get(d, "anything"), "5000");
	assert_string_equal(get(d, ""), "5000");
	dict_close(&d);
	d = xopen("static:{ text with spaces }", 0);
	assert_string_equal(get(d, "x"), "text with spaces");
	dict_close(&d);
}

static void test_inline(void **state)
{
	struct dict *d;
	const char *err;

	(void)state;
	d = xopen("inline:{ Key=value, key2=value2, {k3 = a, b}, key=second }", DICT_FLAGS_DEFAULT);
	assert_string_equal(get(d, "key"), "value");
	assert_string_equal(get(d, "KEY"), "value");
	assert_string_equal(get(d, "key2"), "value2");
	assert_string_equal(get(d, "k3"), "a, b");
	assert_string_equal(get(d, "k4"), "");
	assert_non_null(strstr(buf_cstr(&logged), "duplicate entry: \"key\""));
	dict_close(&d);
	err = open_error("inline:key=value", 0);
	assert_non_null(strstr(err, "expected \"{ key=value, ... }\""));
	err = open_error("inline:{ a=1, b }", 0);
	assert_non_null(strstr(err, "entry 2: expected key=value"));
}

static void test_cidr_table(void **state)
{
	struct dict *d;
	const char *err;

	(void)state;
	write_file("access.cidr", "# cidr_table(5)\n"
				  "10.1.0.0/16     inner\n"
				  "10.0.0.0/8      outer\n"
				  "10.1.2.0/24     never (shadowed by the first match)\n"
				  "[::1]/128       v6-loopback\n"
				  "2001:db8::/32   v6-doc\n"
				  "192.0.2.7       host\n",
		   0644);
	d = xopen(spec("cidr", "access.cidr"), DICT_FLAGS_DEFAULT);
	assert_string_equal(get(d, "10.1.2.3"), "inner");
	assert_string_equal(get(d, "10.2.0.1"), "outer");
	assert_string_equal(get(d, "11.0.0.1"), "");
	assert_string_equal(get(d, "::1"), "v6-loopback");
	assert_string_equal(get(d, "[::1]"), "v6-loopback");
	assert_string_equal(get(d, "::2"), "");
	assert_string_equal(get(d, "2001:DB8:1::5"), "v6-doc");
	assert_string_equal(get(d, "192.0.2.7"), "host");
	assert_string_equal(get(d, "192.0.2.8"), "");
	assert_string_equal(get(d, "::ffff:10.1.0.9"), "inner");
	/* not an address: no match, as in Postfix */
	assert_string_equal(get(d, "mail.example.org"), "");
	dict_close(&d);
	write_file("bad.cidr", "10.0.0.0/8 ok\n\n10.1.2.3/16 bad\n", 0644);
	err = open_error(spec("cidr", "bad.cidr"), 0);
	assert_non_null(strstr(err, "bad.cidr, line 3: non-null host address bits in \"10.1.2.3/16\""));
	assert_non_null(strstr(err, "10.1.0.0/16"));
	write_file("bad2.cidr", "10.0.0.0/8 ok\nexample.com bad\n", 0644);
	err = open_error(spec("cidr", "bad2.cidr"), 0);
	assert_non_null(strstr(err, "bad2.cidr, line 2: bad network \"example.com\""));
	write_file("bad3.cidr", "10.0.0.0/8\n", 0644);
	err = open_error(spec("cidr", "bad3.cidr"), 0);
	assert_non_null(strstr(err, "bad3.cidr, line 1: expected format: key whitespace value"));
}

static void test_refresh(void **state)
{
	struct dict *d, *pinned;
	const char *err = NULL;

	(void)state;
	write_file("r", "k one\n", 0644);
	build(spec("hash", "r"));
	d = xopen(spec("hash", "r"), DICT_FLAGS_DEFAULT);
	pinned = xopen(spec("hash", "r"), DICT_FLAGS_DEFAULT | DICT_FLAG_NO_RELOAD);
	assert_string_equal(get(d, "k"), "one");
	assert_int_equal(dict_refresh(d, &err), 0);
	write_file("r", "k two\nnew entry\n", 0644);
	build(spec("hash", "r"));
	/* a reader holding the old mapping keeps working after the rename */
	assert_string_equal(get(pinned, "k"), "one");
	assert_string_equal(get(pinned, "new"), "");
	/* a forced check sees the new file at once */
	assert_int_equal(dict_refresh(d, &err), 1);
	assert_string_equal(get(d, "k"), "two");
	assert_string_equal(get(d, "new"), "entry");
	assert_int_equal(dict_refresh(d, &err), 0);
	/* a table whose file disappeared keeps serving the old one and says so */
	assert_int_equal(unlink(path("r.db")), 0);
	assert_int_equal(dict_refresh(d, &err), -1);
	assert_non_null(strstr(err, "still using the old table"));
	assert_string_equal(get(d, "k"), "two");
	assert_string_equal(get(pinned, "k"), "one");
	assert_int_equal(dict_refresh(pinned, &err), -1);
	dict_close(&pinned);
	dict_close(&d);
	/* tables without a file have nothing to refresh */
	d = xopen("static:x", 0);
	assert_int_equal(dict_refresh(d, &err), 0);
	dict_close(&d);
}

static void test_auto_reload(void **state)
{
	struct timespec pause = { 1, 200 * 1000 * 1000 };
	struct dict *d, *pinned;

	(void)state;
	write_file("a", "k one\n", 0644);
	build(spec("cdb", "a"));
	d = xopen(spec("cdb", "a"), DICT_FLAGS_DEFAULT);
	pinned = xopen(spec("cdb", "a"), DICT_FLAGS_DEFAULT | DICT_FLAG_NO_RELOAD);
	assert_string_equal(get(d, "k"), "one");
	write_file("a", "k two\n", 0644);
	build(spec("cdb", "a"));
	/* after the once-a-second check interval a plain lookup notices the new file */
	nanosleep(&pause, NULL);
	assert_string_equal(get(d, "k"), "two");
	assert_string_equal(get(pinned, "k"), "one");
	dict_close(&pinned);
	dict_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cdb_and_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_texthash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cidr_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_reload, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
