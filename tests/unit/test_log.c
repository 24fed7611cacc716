/*
 * test_log.c - unit tests for src/lib/log.c (Postfix-style log lines, fatal/panic, log_sanitize)
 *
 * Lines are captured with log_set_hook(); the stderr and file formats, fatal() and panic()
 * are checked in forked children (unit_child) or through a temporary log file.
 */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

#include "lib/log.h"

struct capture {
	int n;
	enum log_level lvl[16];
	char text[16][2100];
};

static void capture_hook(enum log_level lvl, const char *text, void *ctx)
{
	struct capture *c = ctx;

	if (c->n < 16) {
		c->lvl[c->n] = lvl;
		snprintf(c->text[c->n], sizeof(c->text[c->n]), "%s", text);
		c->n++;
	}
}

static int setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));

	log_init("postern", "test", LOG_TO_STDERR, NULL, NULL);
	log_set_min_level(LOG_LVL_INFO);
	log_set_fatal_status(1);
	log_set_hook(capture_hook, c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	log_set_hook(NULL, NULL);
	log_set_min_level(LOG_LVL_INFO);
	free(*state);
	return 0;
}

static void test_hook_levels(void **state)
{
	struct capture *c = *state;

	log_debug("dropped %d", 1); /* below the default minimum (info) */
	log_info("info %s", "a");
	log_warn("warn %d", 2);
	log_err("err %c", 'x');
	log_msg(LOG_LVL_INFO, "plain");
	assert_int_equal(c->n, 4);
	assert_int_equal(c->lvl[0], LOG_LVL_INFO);
	assert_string_equal(c->text[0], "info a");
	assert_int_equal(c->lvl[1], LOG_LVL_WARN);
	assert_string_equal(c->text[1], "warn 2");
	assert_int_equal(c->lvl[2], LOG_LVL_ERR);
	assert_string_equal(c->text[2], "err x");
	assert_string_equal(c->text[3], "plain");
}

static void test_min_level(void **state)
{
	struct capture *c = *state;

	log_set_min_level(LOG_LVL_DEBUG);
	log_debug("now seen");
	log_set_min_level(LOG_LVL_ERR);
	log_info("no");
	log_warn("no");
	log_err("yes");
	assert_int_equal(c->n, 2);
	assert_int_equal(c->lvl[0], LOG_LVL_DEBUG);
	assert_string_equal(c->text[0], "now seen");
	assert_string_equal(c->text[1], "yes");
}

static void test_errno_preserved_and_long_text(void **state)
{
	struct capture *c = *state;
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errno = ENOENT;
	log_warn("%s", big);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(c->n, 1);
	/* truncated to the internal line size, never overflowed */
	assert_true(strlen(c->text[0]) > 1000);
	assert_true(strlen(c->text[0]) < sizeof(big) - 1);
}

static void test_ident(void **state)
{
	(void)state;
	log_init("postern", "smtpd", LOG_TO_STDERR, NULL, NULL);
	assert_string_equal(log_ident(), "postern/smtpd");
	log_init("postern", "", LOG_TO_STDERR, NULL, NULL);
	assert_string_equal(log_ident(), "postern");
	log_init("mx1", NULL, LOG_TO_STDERR, NULL, NULL);
	assert_string_equal(log_ident(), "mx1");
}

/* --- log_sanitize ------------------------------------------------------------------------ */

static void test_sanitize_basic(void **state)
{
	(void)state;
	assert_string_equal(log_sanitize("hello world", 100), "hello world");
	assert_string_equal(log_sanitize("a\x01" "b\r\nc\x7f" "d\te", 100), "a?b??c?d?e");
	assert_string_equal(log_sanitize("caf\xc3\xa9", 100), "caf??");
	assert_string_equal(log_sanitize("", 100), "");
	assert_string_equal(log_sanitize(NULL, 100), "(null)");
	assert_string_equal(log_sanitize_n(NULL, 5, 100), "(null)");
	/* embedded NUL in counted input */
	assert_string_equal(log_sanitize_n("a\0b", 3, 100), "a?b");
	/* only n bytes are read: no terminator needed */
	assert_string_equal(log_sanitize_n("abcdef", 3, 100), "abc");
}

static void test_sanitize_truncation(void **state)
{
	char big[3000];
	const char *s;

	(void)state;
	assert_string_equal(log_sanitize("abcdef", 6), "abcdef");
	assert_string_equal(log_sanitize("abcdef", 5), "abcde...");
	assert_string_equal(log_sanitize("abcdef", 0), "...");
	assert_string_equal(log_sanitize("", 0), "");
	assert_string_equal(log_sanitize_n("ab\ncd", 5, 3), "ab?...");
	/* max is clamped to the ring's 1024 bytes */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = log_sanitize(big, 100000);
	assert_int_equal(strlen(s), 1024 + 3);
	assert_string_equal(s + 1024, "...");
	s = log_sanitize(big, 1024);
	assert_int_equal(strlen(s), 1024 + 3);
	big[1024] = '\0';
	s = log_sanitize(big, 5000);
	assert_int_equal(strlen(s), 1024);
}

static void test_sanitize_ring(void **state)
{
	const char *r[8];
	char want[8][16];
	int i;

	(void)state;
	/* eight results are valid together (one log line may carry eight peer strings) */
	for (i = 0; i < 8; i++) {
		snprintf(want[i], sizeof(want[i]), "v%d\x01", i);
		r[i] = log_sanitize(want[i], 100);
	}
	for (i = 0; i < 8; i++) {
		want[i][2] = '?';
		assert_string_equal(r[i], want[i]);
	}
	for (i = 1; i < 8; i++)
		assert_ptr_not_equal(r[i], r[0]);
	/* the ninth call reuses the oldest slot */
	assert_ptr_equal(log_sanitize("ninth", 100), r[0]);
	assert_string_equal(r[0], "ninth");
	assert_string_equal(r[1], "v1?");
}

/* --- destinations, fatal, panic (in children) --------------------------------------------- */

static void child_stderr_lines(void *arg)
{
	(void)arg;
	log_set_hook(NULL, NULL);
	log_init("postern", "postmap", LOG_TO_STDERR, NULL, NULL);
	log_info("hello");
	log_warn("bad %s", "thing");
	log_err("broken");
	log_debug("not shown");
}

static void test_stderr_format(void **state)
{
	char err[1024];
	int status;

	(void)state;
	status = unit_child(child_stderr_lines, NULL, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(err, "postern/postmap: hello\n"
				 "postern/postmap: warning: bad thing\n"
				 "postern/postmap: error: broken\n");
}

static void child_fatal(void *arg)
{
	log_set_hook(NULL, NULL);
	if (arg)
		log_set_fatal_status(*(int *)arg);
	fatal("cannot open %s", "main.cf");
}

static void test_fatal_exits(void **state)
{
	char err[1024];
	int status, code = 75;

	(void)state;
	status = unit_child(child_fatal, NULL, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_string_equal(err, "postern/test: fatal: cannot open main.cf\n");
	status = unit_child(child_fatal, &code, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 75);
}

static void child_fatal_hooked(void *arg)
{
	/* with a hook set, fatal() still exits after handing the line to the hook */
	(void)arg;
	fatal("via hook");
}

static void test_fatal_with_hook(void **state)
{
	struct capture *c = *state;
	int status;

	status = unit_child(child_fatal_hooked, NULL, NULL, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_int_equal(c->n, 0); /* the hook ran in the child only */
}

static void child_panic(void *arg)
{
	(void)arg;
	log_set_hook(NULL, NULL);
	signal(SIGABRT, SIG_DFL);
	ASSERT(1 + 1 == 3);
}

static void test_panic_aborts(void **state)
{
	char err[1024];
	int status;

	(void)state;
	status = unit_child(child_panic, NULL, err, sizeof(err));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_non_null(strstr(err, "postern/test: panic: tests/unit/test_log.c:"));
	assert_non_null(strstr(err, ": assertion failed: 1 + 1 == 3\n"));
}

static void test_log_file(void **state)
{
	char dir[] = "/tmp/test_log.XXXXXX", path[256], line[4096], want[64];
	const char *error = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/maillog", dir);
	log_set_hook(NULL, NULL);
	assert_int_equal(log_init("postern", "smtpd", LOG_TO_FILE, path, &error), 0);
	log_warn("to the file");
	log_init("postern", "test", LOG_TO_STDERR, NULL, NULL);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(want, sizeof(want), " postern/smtpd[%ld]: warning: to the file\n", (long)getpid());
	assert_non_null(strstr(line, want));
	assert_int_equal(unlink(path), 0);

	/* a file that cannot be opened: error, and stderr is used instead */
	snprintf(path, sizeof(path), "%s/no/such/dir/maillog", dir);
	error = NULL;
	assert_int_equal(log_init("postern", "smtpd", LOG_TO_FILE, path, &error), -1);
	assert_non_null(error);
	assert_non_null(strstr(error, "No such file"));
	error = NULL;
	assert_int_equal(log_init("postern", "smtpd", LOG_TO_FILE, NULL, &error), -1);
	assert_string_equal(error, "no log file name");
	log_init("postern", "test", LOG_TO_STDERR, NULL, NULL);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hook_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errno_preserved_and_long_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ident, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sanitize_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sanitize_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sanitize_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_with_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panic_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
