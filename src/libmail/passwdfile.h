/*
 * passwdfile.h - Dovecot's passwd-file format: parse it, look users up
 *
 * One user a line, fields separated by ':' (missing trailing fields allowed):
 *
 *     user:password:uid:gid:gecos:home:shell:extra_fields
 *
 * password is "{SCHEME}value" (see pwscheme.h), or empty; uid and gid are
 * numbers or empty; extra_fields are space-separated "key=value" or "key"
 * items: "userdb_KEY=VALUE" go to the userdb (e.g. userdb_mail=maildir:~/Mail),
 * the others to the passdb (nopassword, allow_nets=10.0.0.0/8, nodelay, ...).
 * Lines starting with '#' and empty lines are skipped. A user listed twice is
 * a warning and the first line wins, as in Dovecot. Parsing is pure: bytes in,
 * a table and findings (diag.h, with file:line) out.
 *
 * Runs in:  the auth service (unprivileged); the file is the administrator's
 * API:      pwf_parse(), pwf_lookup(), pwf_count(), pwf_foreach(), pwf_free(), pwf_extra_next()
 * Limits:   PWF_LINE_MAX bytes a line, PWF_USERS_MAX users
 * Tests:    tests/unit/test_passwdfile.c, fuzz/fuzz_passwdfile.c
 * Refs:     Dovecot's passwd-file documentation (format only)
 */
#ifndef POSTERN_PASSWDFILE_H
#define POSTERN_PASSWDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "libmail/diag.h"

#define PWF_LINE_MAX 65536
#define PWF_USERS_MAX 10000000

struct pwf_entry {
	const char *user;
	const char *password; /* "" when the field is empty */
	uid_t uid;            /* valid when has_uid */
	gid_t gid;            /* valid when has_gid */
	bool has_uid, has_gid;
	const char *gecos, *home, *shell; /* "" when empty */
	const char *extra;    /* the raw extra fields, "" when none */
	int line;             /* where it was defined */
};

struct pwf;

/* pwf_parse - parse text; never NULL. Malformed lines are errors in diags and skipped. */
struct pwf *pwf_parse(const char *text, size_t n, const char *path, struct diag_list *diags);
/* pwf_lookup - the entry of user (exact, case-sensitive match), or NULL */
const struct pwf_entry *pwf_lookup(const struct pwf *f, const char *user);
/* pwf_count - the number of users */
size_t pwf_count(const struct pwf *f);
/* pwf_foreach - call fn for every entry (in no particular order) */
void pwf_foreach(const struct pwf *f, void (*fn)(const struct pwf_entry *e, void *ctx), void *ctx);
/* pwf_free - release the table; *fp = NULL */
void pwf_free(struct pwf **fp);

/*
 * pwf_extra_next - iterate over the space-separated items of extra fields:
 * start with *pos = 0; each call sets key/value (value "" for a bare key,
 * pointers into the caller's buffers kb/vb of size kn/vn, cut to fit) and
 * returns true, or false at the end.
 */
bool pwf_extra_next(const char *extra, size_t *pos, char *kb, size_t kn, char *vb, size_t vn);

#endif
