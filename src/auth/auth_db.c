/*
 * auth_db.c - the auth service's password and user databases: passwd-file and static
 *
 * passdb passwd-file: args "[scheme=S] [username_format=F] PATH"; PATH may hold
 * %variables of the user (%d: one file per domain). Before every lookup the
 * file is stat()ed and read again when its inode, size or mtime changed, so an
 * edited file takes effect at once (Dovecot does the same). A file that cannot
 * be read is an internal failure (temporary), never "unknown user".
 * userdb static: args "uid=N gid=N home=TEMPLATE [mail=TEMPLATE] [allow_all_users=yes]".
 * userdb passwd-file: uid, gid and home of the line, and its userdb_* extra fields.
 *
 * Runs in:  the auth service; the files are the administrator's (trusted) but
 *           user names come from clients: bounded expansion
 * Tests:    tests/e2e/test_auth.py
 * Refs:     Dovecot's passwd-file, static userdb and auth_username_format docs
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "lib/htab.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "libmail/passwdfile.h"
#include "libmail/sasl.h"
#include "libmail/varexpand.h"

#define PWFILE_MAX ((size_t)1 << 30)

/* one passwd-file as last read */
struct pwfile {
	struct pwf *f;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* --- small key=value lists -------------------------------------------------------- */

/* auth_kv_get - the value of k, or NULL */
const char *auth_kv_get(const struct auth_kv *kv, const char *k)
{
	for (size_t i = 0; i < kv->n; i++)
		if (strcmp(kv->k[i], k) == 0)
			return kv->v[i];
	return NULL;
}

/* auth_kv_set - set k to v (replacing); silently full at AUTH_KV_MAX */
void auth_kv_set(struct auth_kv *kv, const char *k, const char *v)
{
	for (size_t i = 0; i < kv->n; i++)
		if (strcmp(kv->k[i], k) == 0) {
			free(kv->v[i]);
			kv->v[i] = xstrdup(v);
			return;
		}
	if (kv->n == AUTH_KV_MAX)
		return;
	kv->k[kv->n] = xstrdup(k);
	kv->v[kv->n++] = xstrdup(v);
}

/* auth_kv_copy - add every field of src to dst */
void auth_kv_copy(struct auth_kv *dst, const struct auth_kv *src)
{
	for (size_t i = 0; i < src->n; i++)
		auth_kv_set(dst, src->k[i], src->v[i]);
}

/* auth_kv_clear - free the fields */
void auth_kv_clear(struct auth_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->k[i]);
		free(kv->v[i]);
	}
	kv->n = 0;
}

/* --- templates ---------------------------------------------------------------------- */

/* expand_user - tmpl with the user's %u %n %d into a malloc'd string; NULL on error */
static char *expand_user(const char *tmpl, const char *user, const char **error_r)
{
	struct var_entry tab[VAR_USER_ENTRIES];
	struct buf out = BUF_INIT(4096);
	char *scratch = xmalloc(strlen(user) + 2);
	size_t n = var_user_table(tab, user, NULL, scratch);
	int rc = var_expand(tmpl, tab, n, &out, error_r, NULL);

	free(scratch);
	if (rc < 0) {
		buf_free(&out);
		return NULL;
	}
	if (out.data == NULL)
		return xstrdup("");
	return buf_detach(&out);
}

/* auth_user_translate - realm, allowed characters, auth_username_format */
char *auth_user_translate(struct auth *a, const char *user, const char **error_r)
{
	const char *chars = a->set.username_chars;
	char *full, *res;

	if (user[0] == '\0') {
		*error_r = "empty username";
		return NULL;
	}
	if (chars && chars[0]) {
		for (const char *p = user; *p; p++)
			if (strchr(chars, *p) == NULL) {
				*error_r = "Username character disallowed by auth_username_chars";
				return NULL;
			}
	}
	if (a->set.default_realm && a->set.default_realm[0] && strchr(user, '@') == NULL)
		full = xasprintf("%s@%s", user, a->set.default_realm);
	else
		full = xstrdup(user);
	res = expand_user(a->set.username_format, full, error_r);
	free(full);
	if (res && (res[0] == '\0' || strlen(res) > SASL_FIELD_MAX)) {
		*error_r = "username empty or too long after auth_username_format";
		free(res);
		return NULL;
	}
	return res;
}

/* --- passwd-file ---------------------------------------------------------------------- */

/* pwfile_free - htab value destructor */
static void pwfile_free(void *p)
{
	struct pwfile *pf = p;

	pwf_free(&pf->f);
	free(pf);
}

/* read_all - the whole file at fd */
static int read_all(int fd, size_t size, char **text_r, size_t *len_r)
{
	char *t = xmalloc(size + 1);
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, t + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(t);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	t[got] = '\0';
	*text_r = t;
	*len_r = got;
	return 0;
}

/* pwfile_get - the parsed file at path, read again when it changed; NULL with *error_r */
static struct pwfile *pwfile_get(struct authdb *db, const char *path, const char **error_r)
{
	static char err[512];
	struct pwfile *pf = htab_get(db->files, path);
	struct diag_list dl;
	struct stat st;
	char *text;
	size_t len;
	int fd;

	if (stat(path, &st) < 0) {
		snprintf(err, sizeof(err), "stat(%s) failed: %s", path, strerror(errno));
		*error_r = err;
		return NULL;
	}
	if (pf && pf->dev == st.st_dev && pf->ino == st.st_ino && pf->size == st.st_size &&
	    pf->mtime.tv_sec == st.st_mtim.tv_sec && pf->mtime.tv_nsec == st.st_mtim.tv_nsec)
		return pf;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size > PWFILE_MAX ||
	    read_all(fd, (size_t)st.st_size, &text, &len) < 0) {
		snprintf(err, sizeof(err), "open(%s) failed: %s", path,
			 fd >= 0 && (size_t)st.st_size > PWFILE_MAX ? "file too large" : strerror(errno));
		if (fd >= 0)
			close(fd);
		*error_r = err;
		return NULL;
	}
	close(fd);
	if (pf == NULL && htab_count(db->files) >= AUTH_MAX_FILES) {
		htab_free(&db->files);
		db->files = htab_new(16, pwfile_free);
	}
	diag_init(&dl);
	pf = xcalloc(1, sizeof(*pf));
	pf->f = pwf_parse(text, len, path, &dl);
	free(text);
	for (size_t i = 0; i < dl.n && db->log_reads; i++)
		log_warn("passwd-file %s line %d: %s", path, dl.v[i].line, dl.v[i].msg);
	diag_free(&dl);
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	pf->size = st.st_size;
	pf->mtime = st.st_mtim;
	if (db->log_reads)
		log_info("passwd-file %s: read %zu users", path, pwf_count(pf->f));
	htab_put(db->files, path, pf); /* frees the old table */
	return pf;
}

/* pwfile_lookup - user's line in the passwd-file of db */
static enum authdb_result pwfile_lookup(struct authdb *db, const char *user, const struct pwf_entry **e_r,
					const char **error_r)
{
	char *path = expand_user(db->path, user, error_r), *key;
	struct pwfile *pf;

	if (path == NULL)
		return AUTHDB_ERROR;
	pf = pwfile_get(db, path, error_r);
	free(path);
	if (pf == NULL)
		return AUTHDB_ERROR;
	if (!(key = expand_user(db->username_format, user, error_r)))
		return AUTHDB_ERROR;
	*e_r = pwf_lookup(pf->f, key);
	free(key);
	return *e_r ? AUTHDB_OK : AUTHDB_NOUSER;
}

/* auth_db_scan - every entry of a passwd-file db whose path has no %variables; 1 done, 0 skipped, -1 *error_r */
int auth_db_scan(struct authdb *db, void (*fn)(const struct pwf_entry *e, void *ctx), void *ctx,
		 const char **error_r)
{
	struct pwfile *pf;

	if (db->driver != AUTHDB_PASSWD_FILE || strchr(db->path, '%'))
		return 0;
	if (!(pf = pwfile_get(db, db->path, error_r)))
		return -1;
	pwf_foreach(pf->f, fn, ctx);
	return 1;
}

/* auth_passdb_lookup - the first passdb that knows user */
enum authdb_result auth_passdb_lookup(struct auth *a, const char *user, const struct pwf_entry **e_r,
				      const struct authdb **db_r, const char **error_r)
{
	for (struct authdb *db = a->passdbs; db; db = db->next) {
		enum authdb_result r = pwfile_lookup(db, user, e_r, error_r);

		*db_r = db;
		if (r != AUTHDB_NOUSER)
			return r;
	}
	return AUTHDB_NOUSER;
}

/* extra_userdb - the userdb_* extra fields of a passwd-file line into out */
static void extra_userdb(const struct pwf_entry *e, struct auth_kv *out)
{
	char k[128], v[4096];
	size_t pos = 0;

	while (pwf_extra_next(e->extra, &pos, k, sizeof(k), v, sizeof(v)))
		if (strncmp(k, "userdb_", 7) == 0 && k[7])
			auth_kv_set(out, k + 7, v);
}

/* auth_userdb_lookup - the first userdb that knows user */
enum authdb_result auth_userdb_lookup(struct auth *a, const char *user, bool check_exists, struct auth_kv *out,
				      const char **error_r)
{
	const struct pwf_entry *e;
	const struct authdb *pdb;
	char num[32];

	for (struct authdb *db = a->userdbs; db; db = db->next) {
		enum authdb_result r;

		if (db->driver == AUTHDB_STATIC) {
			if (check_exists && !db->allow_all_users) {
				r = auth_passdb_lookup(a, user, &e, &pdb, error_r);
				if (r != AUTHDB_OK)
					return r;
			}
			for (size_t i = 0; i < db->args.n; i++) {
				char *v = expand_user(db->args.v[i], user, error_r);

				if (v == NULL)
					return AUTHDB_ERROR;
				auth_kv_set(out, db->args.k[i], v);
				free(v);
			}
			return AUTHDB_OK;
		}
		r = pwfile_lookup(db, user, &e, error_r);
		if (r == AUTHDB_NOUSER)
			continue;
		if (r == AUTHDB_ERROR)
			return r;
		if (e->has_uid) {
			snprintf(num, sizeof(num), "%lu", (unsigned long)e->uid);
			auth_kv_set(out, "uid", num);
		}
		if (e->has_gid) {
			snprintf(num, sizeof(num), "%lu", (unsigned long)e->gid);
			auth_kv_set(out, "gid", num);
		}
		if (e->home[0])
			auth_kv_set(out, "home", e->home);
		extra_userdb(e, out);
		return AUTHDB_OK;
	}
	return AUTHDB_NOUSER;
}

/* --- setup ------------------------------------------------------------------------------ */

/* resolve_id - "uid=vmail" → "uid=5000" at start (names are looked up once) */
static int resolve_id(const char *key, const char *v, char *num, size_t n)
{
	uint64_t x;

	if (parse_u64(v, strlen(v), &x) == 0 || strchr(v, '%'))
		return snprintf(num, n, "%s", v) < (int)n ? 0 : -1;
	if (strcmp(key, "uid") == 0) {
		struct passwd *pw = getpwnam(v);

		if (!pw)
			return -1;
		snprintf(num, n, "%lu", (unsigned long)pw->pw_uid);
	} else {
		struct group *gr = getgrnam(v);

		if (!gr)
			return -1;
		snprintf(num, n, "%lu", (unsigned long)gr->gr_gid);
	}
	return 0;
}

/* db_new - one passdb/userdb section; NULL with *error_r */
static struct authdb *db_new(const struct dconf_db *d, bool is_passdb, char **error_r)
{
	struct authdb *db = xcalloc(1, sizeof(*db));
	const char *args = d->args ? d->args : "", *p = args;
	const char *kind = is_passdb ? "passdb" : "userdb";
	char word[4096], num[64];

	db->username_format = xstrdup("%u");
	db->scheme = xstrdup("CRYPT");
	if (strcmp(d->driver, "passwd-file") == 0)
		db->driver = AUTHDB_PASSWD_FILE;
	else if (!is_passdb && strcmp(d->driver, "static") == 0)
		db->driver = AUTHDB_STATIC;
	else {
		*error_r = xasprintf("%s:%d: %s driver \"%s\" is not supported (passwd-file%s)", d->file, d->line,
				     kind, d->driver, is_passdb ? "" : ", static");
		goto bad;
	}
	while (*p) {
		size_t n = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		while (p[n] && p[n] != ' ' && p[n] != '\t')
			n++;
		if (n >= sizeof(word)) {
			*error_r = xasprintf("%s:%d: %s args: a word is too long", d->file, d->line, kind);
			goto bad;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		char *eq = strchr(word, '=');
		if (db->driver == AUTHDB_STATIC) {
			if (!eq) {
				*error_r = xasprintf("%s:%d: userdb static args: \"%s\" is not key=value", d->file,
						     d->line, word);
				goto bad;
			}
			*eq = '\0';
			if (strcmp(word, "allow_all_users") == 0) {
				db->allow_all_users = strcmp(eq + 1, "yes") == 0;
				continue;
			}
			if ((strcmp(word, "uid") == 0 || strcmp(word, "gid") == 0) &&
			    resolve_id(word, eq + 1, num, sizeof(num)) < 0) {
				*error_r = xasprintf("%s:%d: userdb static: unknown %s \"%s\"", d->file, d->line, word,
						     eq + 1);
				goto bad;
			}
			auth_kv_set(&db->args, word, strcmp(word, "uid") == 0 || strcmp(word, "gid") == 0 ? num : eq + 1);
		} else if (eq && strncmp(word, "scheme=", 7) == 0) {
			free(db->scheme);
			db->scheme = xstrdup(eq + 1);
		} else if (eq && strncmp(word, "username_format=", 16) == 0) {
			free(db->username_format);
			db->username_format = xstrdup(eq + 1);
		} else if (db->path == NULL && !eq) {
			db->path = xstrdup(word);
		} else {
			*error_r = xasprintf("%s:%d: %s passwd-file args: unknown \"%s\"", d->file, d->line, kind, word);
			goto bad;
		}
	}
	if (db->driver == AUTHDB_PASSWD_FILE && db->path == NULL) {
		*error_r = xasprintf("%s:%d: %s passwd-file: args must name the file", d->file, d->line, kind);
		goto bad;
	}
	db->files = htab_new(16, pwfile_free);
	return db;
bad:
	free(db->path);
	free(db->username_format);
	free(db->scheme);
	auth_kv_clear(&db->args);
	free(db);
	return NULL;
}

/* open_list - the passdbs or userdbs into *head */
static int open_list(const struct dconf_db *d, bool is_passdb, struct authdb **head, char **error_r)
{
	struct authdb **tail = head;

	for (; d; d = d->next) {
		struct authdb *db = db_new(d, is_passdb, error_r);

		if (!db)
			return -1;
		*tail = db;
		tail = &db->next;
	}
	return 0;
}

/* auth_db_open - every passdb and userdb of cf */
int auth_db_open(struct auth *a, const struct dconf *cf, char **error_r)
{
	if (open_list(cf->passdbs, true, &a->passdbs, error_r) < 0 ||
	    open_list(cf->userdbs, false, &a->userdbs, error_r) < 0)
		return -1;
	if (a->passdbs == NULL) {
		*error_r = xasprintf("no passdb in dovecot.conf: nobody can log in (add passdb passwd-file)");
		return -1;
	}
	return 0;
}

/* free_list - a list of databases */
static void free_list(struct authdb **head)
{
	struct authdb *db, *next;

	for (db = *head; db; db = next) {
		next = db->next;
		free(db->path);
		free(db->username_format);
		free(db->scheme);
		auth_kv_clear(&db->args);
		htab_free(&db->files);
		free(db);
	}
	*head = NULL;
}

/* auth_db_close - release the databases */
void auth_db_close(struct auth *a)
{
	free_list(&a->passdbs);
	free_list(&a->userdbs);
}

/* auth_db_name - the driver's name for log lines */
const char *auth_db_name(const struct authdb *db)
{
	return db->driver == AUTHDB_STATIC ? "static" : "passwd-file";
}
