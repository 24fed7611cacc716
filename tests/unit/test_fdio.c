/*
 * test_fdio.c - unit tests for src/lib/fdio.c (whole writes)
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/fdio.h"

static void test_pipe_short_writes(void **state)
{
	static char big[300000];
	char *back = malloc(sizeof(big));
	int fds[2];
	size_t got = 0;
	pid_t pid;

	(void)state;
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'y';
	assert_int_equal(pipe(fds), 0);
	/* a pipe holds 64 KiB: the writer is forced into several short writes */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(fd_write_all(fds[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	for (;;) {
		ssize_t r = read(fds[0], back + got, sizeof(big) - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fds[0]);
	assert_int_equal(got, sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	free(back);
}

static void test_pwrite_and_errors(void **state)
{
	char path[] = "/tmp/test_fdio.XXXXXX", back[16] = { 0 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fd_write_all(fd, "hello world", 11), 0);
	assert_int_equal(fd_pwrite_all(fd, "W", 1, 6), 0);
	assert_int_equal(pread(fd, back, 11, 0), 11);
	assert_string_equal(back, "hello World");
	close(fd);
	unlink(path);
	/* a closed descriptor: -1 with errno, never a loop */
	errno = 0;
	assert_int_equal(fd_write_all(fd, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(fd_pwrite_all(fd, "x", 1, 0), -1);
	/* nothing to write is success */
	assert_int_equal(fd_write_all(-1, "", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_short_writes),
		cmocka_unit_test(test_pwrite_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
