/*
 * fdio.h - whole writes on file descriptors: retry short writes and EINTR
 *
 * write(2) and pwrite(2) may write less than asked; every caller that must
 * write everything (queue files, mailboxes, log lines) uses these instead of
 * its own loop. A write that returns 0 is reported as EIO.
 * Tests:    tests/unit/test_fdio.c
 */
#ifndef POSTERN_FDIO_H
#define POSTERN_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* fd_write_all - write n bytes; 0, or -1 with errno */
int fd_write_all(int fd, const void *p, size_t n);
/* fd_pwrite_all - write n bytes at offset off; 0, or -1 with errno */
int fd_pwrite_all(int fd, const void *p, size_t n, off_t off);

#endif
