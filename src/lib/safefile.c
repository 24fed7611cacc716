/*
 * safefile.c - atomic, durable file replacement
 *
 * API:      see safefile.h
 * Tests:    tests/unit/test_safefile.c
 */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

static char safefile_err[512];

static const char *errf(const char *what, const char *path)
{
	snprintf(safefile_err, sizeof(safefile_err), "%s %s: %s", what, path, strerror(errno));
	return safefile_err;
}

int safefile_open(struct safefile *sf, const char *path, mode_t mode, const char **error_r)
{
	int tries;

	sf->fd = -1;
	sf->path = xstrdup(path);
	sf->tmp = NULL;
	for (tries = 0; tries < 100; tries++) {
		unsigned r;

		if (getentropy(&r, sizeof(r)) != 0)
			r = (unsigned)getpid() ^ (unsigned)tries * 2654435761u;
		free(sf->tmp);
		sf->tmp = xasprintf("%s.tmp.%ld.%08x", path, (long)getpid(), r);
		sf->fd = open(sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (sf->fd >= 0) {
			/* umask must not make the table unreadable for the services */
			if (fchmod(sf->fd, mode) != 0) {
				*error_r = errf("cannot set mode of", sf->tmp);
				safefile_abort(sf);
				return -1;
			}
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	*error_r = errf("cannot create", sf->tmp);
	xfree(&sf->tmp);
	xfree(&sf->path);
	return -1;
}

int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? (slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path)))
			  : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1, saved;

	if (fd >= 0) {
		rc = fsync(fd);
		saved = errno;
		close(fd);
		errno = saved;
	}
	free(dir);
	return rc;
}

int safefile_commit(struct safefile *sf, const char **error_r)
{
	if (fsync(sf->fd) != 0) {
		*error_r = errf("cannot fsync", sf->tmp);
		return -1;
	}
	if (close(sf->fd) != 0) {
		sf->fd = -1;
		*error_r = errf("cannot close", sf->tmp);
		return -1;
	}
	sf->fd = -1;
	if (rename(sf->tmp, sf->path) != 0) {
		*error_r = errf("cannot rename into", sf->path);
		return -1;
	}
	if (fsync_dir_of(sf->path) != 0) {
		*error_r = errf("cannot fsync directory of", sf->path);
		xfree(&sf->tmp);
		xfree(&sf->path);
		return -1;
	}
	xfree(&sf->tmp);
	xfree(&sf->path);
	return 0;
}

void safefile_abort(struct safefile *sf)
{
	if (sf->fd >= 0)
		close(sf->fd);
	sf->fd = -1;
	if (sf->tmp)
		unlink(sf->tmp);
	xfree(&sf->tmp);
	xfree(&sf->path);
}
