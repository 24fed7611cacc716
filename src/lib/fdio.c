/*
 * fdio.c - whole writes on file descriptors
 *
 * API:      see fdio.h
 * Tests:    tests/unit/test_fdio.c
 */
#include "fdio.h"

#include <errno.h>
#include <unistd.h>

/* fd_write_all - write everything, retrying short writes and EINTR */
int fd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fd_pwrite_all - pwrite everything at off, retrying short writes and EINTR */
int fd_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, c, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}
