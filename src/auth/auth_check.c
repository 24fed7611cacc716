/*
 * auth_check.c - check dovecot.conf's authentication part before anything runs
 *
 * Used by the master before it starts (errors stop the start: an unknown
 * mechanism, an unsupported passdb/userdb driver, a passdb without a file)
 * and by `postern check`, which also reads each passwd-file (paths without
 * %variables) and warns when a mechanism of auth_mechanisms that needs
 * credentials (CRAM-MD5, DIGEST-MD5, SCRAM-*, APOP) cannot be served from the
 * hashes stored there (e.g. CRAM-MD5 with SHA512-CRYPT hashes), with the
 * file:line of auth_mechanisms and a fix.
 *
 * Runs in:  the master (root) and `postern check`
 * Tests:    tests/e2e/test_auth.py (test_check_*)
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_main.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "libmail/passwdfile.h"
#include "libmail/pwscheme.h"
#include "libmail/sasl.h"

struct scan {
	const char *scheme;      /* the credentials scheme the mechanism needs */
	const char *default_scheme;
	size_t bad;
	char *example;           /* "user ({SCHEME})" of the first user that cannot serve it */
};

/* scan_entry - can e's stored password give the credentials? */
static void scan_entry(const struct pwf_entry *e, void *ctx)
{
	struct scan *s = ctx;
	struct buf out = BUF_INIT(4096);
	const char *err, *end;

	if (e->password[0] && pw_credentials(e->password, s->scheme, e->user, s->default_scheme, &out, &err) < 0) {
		s->bad++;
		if (!s->example) {
			end = e->password[0] == '{' ? strchr(e->password, '}') : NULL;
			s->example = xasprintf("%s (%.*s)", e->user, end ? (int)(end - e->password - 1) : 5,
					       end ? e->password + 1 : "CRYPT");
		}
	}
	if (out.data)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
}

/* check_credentials - warn for each credentials mechanism the passwd-files cannot serve */
static void check_credentials(struct auth *a, const struct dconf *cf, struct diag_list *dl)
{
	const struct dconf_value *mv = &cf->v[DCONF_auth_mechanisms];

	for (struct authdb *db = a->passdbs; db; db = db->next) {
		const char *err = NULL;
		struct scan s = { .default_scheme = db->scheme };
		int rc;

		for (char **m = a->set.mechs; *m; m++) {
			if (!(s.scheme = sasl_mech_needs_credentials(*m)))
				continue;
			s.bad = 0;
			rc = auth_db_scan(db, scan_entry, &s, &err);
			if (rc < 0) {
				diag_add(dl, DIAG_WARN, db->path, 0, "make it readable by mail_owner (the auth service's user)",
					 "passdb passwd-file: %s: nobody can log in", err);
				break;
			}
			if (rc > 0 && s.bad > 0)
				diag_add(dl, DIAG_WARN, mv->file, mv->line,
					 "store {PLAIN} passwords or hashes made for it (`postern pw -s SCHEME`), "
					 "or remove the mechanism from auth_mechanisms",
					 "auth_mechanisms: %s needs %s%s credentials, but %zu user%s of %s %s "
					 "other hashes, e.g. %s: they cannot log in with %s",
					 *m, s.scheme, strcmp(s.scheme, "PLAIN") == 0 ? "" : " or PLAIN", s.bad, s.bad == 1 ? "" : "s", db->path, s.bad == 1 ? "has" : "have",
					 s.example, *m);
			free(s.example);
			s.example = NULL;
		}
	}
}

/* auth_conf_check - dovecot.conf of dir (when it exists) as the auth service would read it */
int auth_conf_check(const char *dir, bool check_files, struct diag_list *dl)
{
	struct auth a;
	struct dconf *cf;
	bool missing = false;
	char *e = NULL;
	int rc = 0;

	cf = dconf_load(dir, &missing, dl);
	if (cf == NULL)
		return missing ? 0 : -1;
	memset(&a, 0, sizeof(a));
	if (!diag_has_errors(dl)) {
		const struct dconf_value *mv = &cf->v[DCONF_auth_mechanisms];

		if (auth_settings_load(&a.set, cf, "localhost", &e) < 0) {
			diag_add(dl, DIAG_ERROR, mv->file, mv->line, "see `postern doveconf -d auth_mechanisms`", "%s", e);
			rc = -1;
		} else if (auth_db_open(&a, cf, &e) < 0) {
			diag_add(dl, DIAG_ERROR, NULL, 0, NULL, "%s", e);
			rc = -1;
		} else if (check_files)
			check_credentials(&a, cf, dl);
	}
	free(e);
	auth_db_close(&a);
	auth_settings_free(&a.set);
	dconf_free(&cf);
	return rc < 0 || diag_has_errors(dl) ? -1 : 0;
}
