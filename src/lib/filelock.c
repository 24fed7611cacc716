/*
 * filelock.c - dotlock + fcntl locks for shared mail files, retried, stale dotlocks broken
 *
 * Runs in:  mbox delivery and the mbox mail store
 * API:      see filelock.h
 * Tests:    tests/unit/test_mbox.c, tests/unit/test_mbox_store.c
 * Refs:     Postfix global/dot_lockfile.c, global/deliver_flock.c
 */
#include "lib/filelock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdio.h"

/* file_pause_ms - sleep between lock attempts */
void file_pause_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * lock_owner_dead - does lockpath hold "<pid> <host>" of a process of this
 * host that no longer exists? (a writer killed while it held the lock)
 */
static bool lock_owner_dead(const char *lockpath)
{
	char text[300], host[256], me[256];
	int fd = open(lockpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	long pid;
	int used = 0;

	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	if (sscanf(text, "%ld %255s%n", &pid, host, &used) != 2 || pid <= 1 || text[used] != '\n')
		return false;
	if (gethostname(me, sizeof(me)) != 0)
		return false;
	me[sizeof(me) - 1] = '\0';
	if (strcmp(me, host) != 0)
		return false; /* another host's lock (NFS): only the age can break it */
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* file_dotlock - create the dotlock holding "<pid> <host>", breaking a stale one */
int file_dotlock(const char *lockpath, unsigned attempts, unsigned delay_ms, unsigned stale_s)
{
	unsigned i;
	int fd;

	for (i = 1;; i++) {
		struct stat st;

		if ((fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
			char host[256], text[300];
			int n;

			if (gethostname(host, sizeof(host)) != 0)
				snprintf(host, sizeof(host), "localhost");
			host[sizeof(host) - 1] = '\0';
			n = snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(), host);
			if (n > 0 && (size_t)n < sizeof(text))
				(void)fd_write_all(fd, text, (size_t)n);
			close(fd);
			return 0;
		}
		if (errno != EEXIST || i >= attempts)
			return -1;
		if (lock_owner_dead(lockpath) ||
		    (lstat(lockpath, &st) == 0 && time(NULL) > st.st_ctime + (time_t)stale_s)) {
			if (unlink(lockpath) != 0 && errno != ENOENT)
				return -1;
			continue;
		}
		file_pause_ms(delay_ms);
	}
}

/* file_fcntl_lock - fcntl lock on the whole file, retried */
int file_fcntl_lock(int fd, bool write, unsigned attempts, unsigned delay_ms)
{
	struct flock fl;
	unsigned i;

	for (i = 1;; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = write ? F_WRLCK : F_RDLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if ((errno != EAGAIN && errno != EACCES) || i >= attempts) {
			if (errno == EACCES)
				errno = EAGAIN;
			return -1;
		}
		file_pause_ms(delay_ms);
	}
}
