/*
 * maildir_name.h - what a Maildir file name says: base name, flags, sizes
 *
 *     <base>[:2,<flags>]       e.g. 1795550912.Vfe00I10c401M302802.vm:2,FR
 *     base fields ",S=<size>" (file size) and ",W=<size>" (size with CRLF line ends)
 *
 * Flags are letters in ASCII order: D (\Draft), F (\Flagged), P (passed),
 * R (\Answered), S (\Seen), T (\Deleted), and a..z, Dovecot's keywords (the
 * n-th line of dovecot-keywords). Pure functions, no I/O.
 *
 * Runs in:  the mail store (pop3/imap sessions)
 * API:      maildir_name_parse(), maildir_flags_set()
 * Tests:    tests/unit/test_maildir_name.c
 * Refs:     maildir(5) (cr.yp.to/proto/maildir.html), Dovecot's Maildir documentation
 */
#ifndef POSTERN_MAILDIR_NAME_H
#define POSTERN_MAILDIR_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAILDIR_FLAGS_MAX 32 /* D F P R S T and 26 keyword letters */

struct maildir_name {
	size_t base_len;            /* name[0..base_len) is the base name */
	bool has_info;              /* ":2," present */
	char flags[MAILDIR_FLAGS_MAX + 1]; /* the flag letters, sorted, unique, NUL-terminated */
	bool has_size, has_vsize;
	uint64_t size, vsize;
};

/* maildir_name_parse - parse a file name; -1 when it is not a message name (empty, starts with '.') */
int maildir_name_parse(const char *name, struct maildir_name *out);

/*
 * maildir_flags_set - the flag string with letter c added (add) or removed,
 * kept sorted and unique; flags must hold MAILDIR_FLAGS_MAX + 1 bytes.
 * Returns true when the string changed.
 */
bool maildir_flags_set(char *flags, char c, bool add);

#endif
