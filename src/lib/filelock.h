/*
 * filelock.h - the locks around a shared mail file: dotlock and fcntl, retried
 *
 * The same locks every mbox writer takes (Postfix's local/virtual, procmail,
 * Dovecot): first a dotlock, "<path>.lock" created with O_EXCL and holding
 * "<pid> <hostname>\n", then an fcntl() lock on the whole file. Both are
 * retried `attempts` times `delay_ms` apart. A dotlock older than stale_s
 * seconds is broken (Postfix's dot_lockfile()), and so is one whose pid names
 * a process of this host that no longer exists (a writer killed while it held
 * the lock). Always take them in this order (dotlock, then fcntl), as the mbox
 * delivery does, so two Postern processes can never deadlock.
 *
 * Runs in:  mbox delivery (src/queue/mbox.c) and the mbox mail store (src/store)
 * API:      file_dotlock(), file_fcntl_lock(), file_pause_ms()
 * Tests:    tests/unit/test_mbox.c, tests/unit/test_mbox_store.c
 * Refs:     Postfix global/dot_lockfile.c, global/deliver_flock.c; Dovecot's mbox locking documentation
 */
#ifndef POSTERN_FILELOCK_H
#define POSTERN_FILELOCK_H

#include <stdbool.h>

/* file_dotlock - create lockpath exclusively (breaking a stale one); 0, or -1 with errno (EEXIST: held) */
int file_dotlock(const char *lockpath, unsigned attempts, unsigned delay_ms, unsigned stale_s);
/*
 * file_fcntl_lock - an fcntl lock on all of fd: write (exclusive) or read
 * (shared), F_SETLK retried; 0, or -1 with errno (EAGAIN: held by another)
 */
int file_fcntl_lock(int fd, bool write, unsigned attempts, unsigned delay_ms);
/* file_pause_ms - sleep ms milliseconds (between lock attempts) */
void file_pause_ms(unsigned ms);

#endif
