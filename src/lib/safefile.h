/*
 * safefile.h - replace a file atomically and durably (temp file, fsync, rename, fsync dir)
 *
 * Readers of the target path see either the old file or the complete new one,
 * never a half-written one, and after safefile_commit() returns 0 the new
 * contents survive a crash: the data is fsync'd before the rename and the
 * directory is fsync'd after it (Postfix and OpenSMTPD skip the latter).
 * Tests:    tests/unit/test_safefile.c
 */
#ifndef POSTERN_SAFEFILE_H
#define POSTERN_SAFEFILE_H

#include <sys/types.h>

struct safefile {
	int fd;       /* write the new contents here */
	char *path;   /* final name */
	char *tmp;    /* temporary name in the same directory */
};

/* safefile_open - create a unique temporary file beside path; 0, or -1 with *error_r */
int safefile_open(struct safefile *sf, const char *path, mode_t mode, const char **error_r);
/* safefile_commit - fsync, close, rename over path, fsync the directory; 0 or -1 (*error_r) */
int safefile_commit(struct safefile *sf, const char **error_r);
/* safefile_abort - close and remove the temporary file (safe after a failed commit) */
void safefile_abort(struct safefile *sf);
/* fsync_dir_of - fsync the directory holding path; 0 or -1 with errno set */
int fsync_dir_of(const char *path);

#endif
