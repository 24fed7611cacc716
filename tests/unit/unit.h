/*
 * unit.h - common includes for cmocka unit tests (tests/unit/test_*.c)
 *
 * Each test_<module>.c is one executable built by `make san` under ASan+UBSan
 * and run by `make check` (scripts/run-tests). cmocka needs these system
 * headers before <cmocka.h>.
 */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

/*
 * unit_child - run fn(arg) in a forked child: for code that must exit or abort
 * (fatal(), panic(), overflow checks). The child's stderr is captured into out
 * (NUL-terminated, at most outsz - 1 bytes; out may be NULL); the child exits 0
 * when fn returns. Returns the waitpid() status: test it with WIFEXITED() etc.
 */
static inline int unit_child(void (*fn)(void *arg), void *arg, char *out, size_t outsz)
{
	int fds[2], status = -1;
	size_t got = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		char tmp[512];
		ssize_t r = read(fds[0], tmp, sizeof(tmp));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out && got + 1 < outsz) {
			size_t k = (size_t)r < outsz - 1 - got ? (size_t)r : outsz - 1 - got;

			memcpy(out + got, tmp, k);
			got += k;
		}
	}
	close(fds[0]);
	if (out && outsz)
		out[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

#endif
