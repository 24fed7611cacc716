/*
 * mstore.c - a Maildir opened by a mail session: sync, UIDs, snapshot, expunge;
 * the mstore API's entry points that pass an mbox on to mbox_store.c
 *
 * Locking: dovecot-uidlist.lock is created with O_EXCL; a lock older than
 * MSTORE_LOCK_STALE seconds is taken over (its owner died); otherwise the
 * opener retries for up to MSTORE_LOCK_WAIT_MS. Deliveries never take it:
 * they only add files to new/, which the next open picks up.
 *
 * Runs in:  pop3 (and later imap) sessions, as the mail user
 * API:      see mstore.h
 * Tests:    tests/unit/test_mstore.c
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "lib/buf.h"
#include "lib/encode.h"
#include "lib/fdio.h"
#include "lib/htab.h"
#include "lib/xalloc.h"
#include "libmail/uidlist.h"
#include "store/mstore-private.h"

#define MSTORE_LOCK_STALE 120      /* seconds */
#define MSTORE_LOCK_WAIT_MS 10000
#define MSTORE_UIDLIST_MAX (256u << 20)

struct entry {
	char *name;
	struct maildir_name mn;
};

/* path_of - "dir/a[/b]" */
static char *path_of(const char *dir, const char *a, const char *b)
{
	return b ? xasprintf("%s/%s/%s", dir, a, b) : xasprintf("%s/%s", dir, a);
}

/* ensure_dirs - the Maildir and its tmp/ new/ cur/, created when missing */
static int ensure_dirs(const char *path, const char **error_r)
{
	static const char *const sub[] = { "", "tmp", "new", "cur" };

	for (size_t i = 0; i < 4; i++) {
		char *p = i ? path_of(path, sub[i], NULL) : xstrdup(path);
		int r = mkdir(p, 0700);

		free(p);
		if (r < 0 && errno != EEXIST) {
			*error_r = "cannot create the Maildir directories";
			return -1;
		}
	}
	return 0;
}

/* lock_take - create the lock file; its fd, or -1 */
static int lock_take(const char *lock, const char **error_r)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int waited = 0, fd;
	struct stat st;

	for (;;) {
		fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST) {
			*error_r = "cannot create dovecot-uidlist.lock";
			return -1;
		}
		if (stat(lock, &st) == 0 && st.st_mtime + MSTORE_LOCK_STALE < time(NULL)) {
			unlink(lock); /* its owner died holding it */
			continue;
		}
		if (waited >= MSTORE_LOCK_WAIT_MS) {
			*error_r = "mailbox is locked (dovecot-uidlist.lock)";
			return -1;
		}
		nanosleep(&pause, NULL);
		waited += 50;
	}
}

/* read_all - a whole small file into a new buffer; 0, -1 with errno (ENOENT: no file) */
static int read_all(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char tmp[65536];
	ssize_t r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0) {
		if (buf_append(b, tmp, (size_t)r) < 0) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	return r < 0 ? -1 : 0;
}

/* scan - the message names of dir (no dot files) */
static struct entry *scan(const char *dir, size_t *n_r, const char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct entry *v = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		*error_r = "cannot read a Maildir directory";
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		struct maildir_name mn;

		if (maildir_name_parse(de->d_name, &mn) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].name = xstrdup(de->d_name);
		v[n].mn = mn;
		n++;
	}
	closedir(d);
	*n_r = n;
	if (v == NULL)
		v = xmalloc(1);
	return v;
}

/* free_entries - release a scan */
static void free_entries(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* move_new - new/X to cur/X:2, ; the cur/ names moved go into moved_set; returns their number */
static size_t move_new(const char *path, struct htab *moved_set, const char **error_r)
{
	char *dir = path_of(path, "new", NULL);
	size_t n, i, moved = 0;
	struct entry *v = scan(dir, &n, error_r);

	free(dir);
	if (v == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		char *from = path_of(path, "new", v[i].name);
		char *to = v[i].mn.has_info ? path_of(path, "cur", v[i].name)
					    : xasprintf("%s/cur/%s:2,", path, v[i].name);

		/* ENOENT: another session moved it first; the cur/ scan finds it */
		if (rename(from, to) == 0) {
			htab_put(moved_set, strrchr(to, '/') + 1, NULL);
			moved++;
		}
		free(from);
		free(to);
	}
	free_entries(v, n);
	return moved;
}

/* count_vsize - size with CRLF line ends: bytes plus the LFs not preceded by CR */
static int count_vsize(const char *file, uint64_t *vsize)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	unsigned char b[65536];
	uint64_t total = 0;
	int prev = -1;
	ssize_t r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, b, sizeof(b))) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			if (b[i] == '\n' && prev != '\r')
				total++;
			prev = b[i];
		}
		total += (uint64_t)r;
	}
	close(fd);
	if (r < 0)
		return -1;
	*vsize = total;
	return 0;
}

/* cmp_entry - order new messages by base name, as their arrival order */
static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->mn.base_len < y->mn.base_len ? x->mn.base_len : y->mn.base_len;
	int c = strncmp(x->name, y->name, n);

	return c ? c : (x->mn.base_len > y->mn.base_len) - (x->mn.base_len < y->mn.base_len);
}

/* field_str - the value of string field key in a uidlist record's fields ("G<guid> W491"), or NULL */
static char *field_str(const struct uidlist_rec *r, char key)
{
	const char *p = r ? r->fields : NULL;

	while (p && *p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (p[0] == key && len > 1)
			return xstrndup(p + 1, len - 1);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* cmp_msg - by uid */
static int cmp_msg(const void *a, const void *b)
{
	const struct mstore_msg *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* new_uidlist - a fresh list: uidvalidity from the clock, a random guid */
static struct uidlist *new_uidlist(void)
{
	unsigned char g[16];
	struct buf hex = BUF_INIT(64);
	struct uidlist *l;

	if (RAND_bytes(g, sizeof(g)) != 1)
		memset(g, 0, sizeof(g));
	hex_encode(&hex, g, sizeof(g));
	l = uidlist_new((uint32_t)time(NULL), buf_cstr(&hex));
	buf_free(&hex);
	return l;
}

/* sync_box - under the lock: read the uidlist, scan, assign, rewrite; fills b */
static int sync_box(struct mstore_box *b, int lockfd, const char *lock, const char **error_r)
{
	char *ulpath = path_of(b->path, "dovecot-uidlist", NULL), *curdir = path_of(b->path, "cur", NULL);
	struct buf text = BUF_INIT(MSTORE_UIDLIST_MAX);
	struct uidlist *ul = NULL;
	struct entry *v = NULL;
	size_t n = 0, i, kept = 0, moved;
	struct htab *moved_set = htab_new(16, NULL), *seen = NULL;
	bool dirty = false;
	int rc = -1;

	moved = move_new(b->path, moved_set, error_r);
	if (read_all(ulpath, &text) == 0) {
		const char *perr;
		unsigned line;

		ul = uidlist_parse(text.data ? text.data : "", text.len, &line, &perr);
		if (ul == NULL)
			b->warning = "dovecot-uidlist was corrupt: rebuilt with a new UIDVALIDITY";
	} else if (errno != ENOENT) {
		*error_r = "cannot read dovecot-uidlist";
		goto out;
	}
	if (ul == NULL) {
		ul = new_uidlist();
		dirty = true;
	}
	v = scan(curdir, &n, error_r);
	if (v == NULL)
		goto out;
	qsort(v, n, sizeof(*v), cmp_entry);
	b->msgs = xcalloc(n ? n : 1, sizeof(*b->msgs));
	seen = htab_new(n + 16, NULL);
	/* known messages first: the uidlist gives their uids */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			struct entry *e = &v[i];
			char *base = xstrndup(e->name, e->mn.base_len);
			const struct uidlist_rec *r = uidlist_find_name(ul, base);
			struct mstore_msg *m;
			char *file;
			uint64_t w;

			/* pass 0: messages the uidlist knows; pass 1: new ones, in name order */
			if ((pass == 0) != (r != NULL) || htab_has(seen, base)) {
				free(base);
				continue; /* another pass's, or a second file with the same base name */
			}
			m = &b->msgs[kept];
			file = path_of(b->path, "cur", e->name);
			if (!e->mn.has_size) {
				struct stat st;

				if (stat(file, &st) < 0) {
					free(file);
					free(base);
					continue; /* expunged meanwhile */
				}
				e->mn.size = (uint64_t)st.st_size;
			}
			if (e->mn.has_vsize)
				w = e->mn.vsize;
			else if (r == NULL || !uidlist_field(r, 'W', &w)) {
				if (count_vsize(file, &w) < 0) {
					free(file);
					free(base);
					continue;
				}
			}
			free(file);
			if (r == NULL) {
				char fields[32];

				snprintf(fields, sizeof(fields), "W%llu", (unsigned long long)w);
				m->uid = uidlist_add(ul, base, e->mn.has_vsize ? "" : fields);
				if (m->uid == 0) {
					free(base);
					continue; /* a duplicate base name: serve the first file only */
				}
				dirty = true;
			} else {
				m->uid = r->uid;
				m->guid = field_str(r, 'G');
				m->pop3_uidl = field_str(r, 'P');
			}
			htab_put(seen, base, NULL);
			m->name = xstrdup(e->name);
			m->base = base;
			memcpy(m->flags, e->mn.flags, sizeof(m->flags));
			m->size = e->mn.size;
			m->vsize = w;
			m->recent = htab_has(moved_set, e->name);
			kept++;
		}
	}
	b->n = kept;
	qsort(b->msgs, b->n, sizeof(*b->msgs), cmp_msg);
	/* forget the records of files that are gone */
	for (i = 0; i < ul->n;) {
		uint32_t uid = ul->recs[i].uid;

		if (mstore_find_uid(b, uid) < 0) {
			uidlist_remove_uid(ul, uid);
			dirty = true;
		} else {
			i++;
		}
	}
	b->uidvalidity = ul->uidvalidity;
	b->next_uid = ul->next_uid;
	memcpy(b->guid, ul->guid, sizeof(b->guid));
	if (dirty || moved) {
		struct buf out = BUF_INIT(MSTORE_UIDLIST_MAX);

		if (uidlist_format(ul, &out) < 0 || fd_write_all(lockfd, out.data, out.len) < 0 || fdatasync(lockfd) < 0 ||
		    rename(lock, ulpath) < 0) {
			buf_free(&out);
			*error_r = "cannot write dovecot-uidlist";
			goto out;
		}
		buf_free(&out);
		rc = 1; /* the lock file became the uidlist */
	} else {
		rc = 0;
	}
out:
	if (v)
		free_entries(v, n);
	htab_free(&moved_set);
	if (seen)
		htab_free(&seen);
	uidlist_free(&ul);
	buf_free(&text);
	free(ulpath);
	free(curdir);
	return rc;
}

/* mstore_open - lock, sync and snapshot the Maildir at path */
int mstore_open(const char *path, struct mstore_box **out, const char **error_r)
{
	struct mstore_box *b;
	char *lock;
	int fd, r;

	*out = NULL;
	if (ensure_dirs(path, error_r) < 0)
		return -1;
	lock = path_of(path, "dovecot-uidlist.lock", NULL);
	fd = lock_take(lock, error_r);
	if (fd < 0) {
		free(lock);
		return -1;
	}
	b = xcalloc(1, sizeof(*b));
	b->path = xstrdup(path);
	r = sync_box(b, fd, lock, error_r);
	close(fd);
	if (r <= 0)
		unlink(lock); /* not renamed into place: release it */
	free(lock);
	if (r < 0) {
		mstore_close(&b);
		return -1;
	}
	*out = b;
	return 0;
}

/* mstore_msg_open - open a message read-only, following a rename by another session */
int mstore_msg_open(struct mstore_box *b, struct mstore_msg *m)
{
	char *p = path_of(b->path, "cur", m->name), *dir;
	int fd;
	struct entry *v;
	size_t n;
	const char *err;

	if (b->mbox) {
		free(p);
		errno = EOPNOTSUPP;
		return -1;
	}
	fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	/* its flags changed: find the same base name again */
	dir = path_of(b->path, "cur", NULL);
	v = scan(dir, &n, &err);
	free(dir);
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].mn.base_len == strlen(m->base) && strncmp(v[i].name, m->base, v[i].mn.base_len) == 0) {
			free(m->name);
			m->name = xstrdup(v[i].name);
			memcpy(m->flags, v[i].mn.flags, sizeof(m->flags));
			p = path_of(b->path, "cur", m->name);
			fd = open(p, O_RDONLY | O_CLOEXEC);
			free(p);
			break;
		}
	}
	free_entries(v, n);
	if (fd < 0)
		errno = ENOENT;
	return fd;
}

/* mstore_commit - expunge and mark \Seen at the end of a session */
size_t mstore_commit(struct mstore_box *b, const bool *expunge, const bool *seen, const char **error_r)
{
	size_t failed = 0;
	bool changed = false;

	*error_r = NULL;
	if (b->mbox)
		return mbox_store_commit(b, expunge, seen, error_r);
	for (size_t i = 0; i < b->n; i++) {
		struct mstore_msg *m = &b->msgs[i];
		char *p;

		if (expunge && expunge[i]) {
			int fd = mstore_msg_open(b, m); /* refresh the name if it moved */

			if (fd >= 0)
				close(fd);
			p = path_of(b->path, "cur", m->name);
			if (unlink(p) < 0 && errno != ENOENT) {
				failed++;
				if (*error_r == NULL)
					*error_r = "cannot delete a message file";
			} else {
				changed = true;
			}
			free(p);
		} else if (seen && seen[i] && strchr(m->flags, 'S') == NULL) {
			char flags[MAILDIR_FLAGS_MAX + 1];
			char *from, *to;

			memcpy(flags, m->flags, sizeof(flags));
			maildir_flags_set(flags, 'S', true);
			from = path_of(b->path, "cur", m->name);
			to = xasprintf("%s/cur/%s:2,%s", b->path, m->base, flags);
			if (rename(from, to) == 0) {
				memcpy(m->flags, flags, sizeof(flags));
				free(m->name);
				m->name = xstrdup(strrchr(to, '/') + 1);
				changed = true;
			}
			free(from);
			free(to);
		}
	}
	if (changed) {
		char *cur = path_of(b->path, "cur", NULL);
		int fd = open(cur, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) < 0) {
			if (*error_r == NULL)
				*error_r = "cannot sync the cur directory";
		}
		if (fd >= 0)
			close(fd);
		free(cur);
	}
	return failed;
}

/* mstore_stream_open - open a message for reading in pieces */
int mstore_stream_open(struct mstore_box *b, struct mstore_msg *m, struct mstore_stream *s)
{
	memset(s, 0, sizeof(*s));
	if (b->mbox)
		return mbox_stream_open(b, m, s);
	s->off = UINT64_MAX;
	s->left = UINT64_MAX;
	s->fd = mstore_msg_open(b, m);
	return s->fd < 0 ? -1 : 0;
}

/* mstore_stream_read - the next piece of the message */
ssize_t mstore_stream_read(struct mstore_stream *s, void *dst, size_t n)
{
	ssize_t r;

	if (s->fd < 0)
		return -1;
	if (s->head_pos < s->head.len) {
		size_t k = s->head.len - s->head_pos < n ? s->head.len - s->head_pos : n;

		memcpy(dst, s->head.data + s->head_pos, k);
		s->head_pos += k;
		return (ssize_t)k;
	}
	if (s->left < n)
		n = (size_t)s->left;
	if (n == 0)
		return 0;
	do
		r = s->off == UINT64_MAX ? read(s->fd, dst, n) : pread(s->fd, dst, n, (off_t)s->off);
	while (r < 0 && errno == EINTR);
	if (r == 0 && s->left != UINT64_MAX) {
		errno = EIO; /* the file is shorter than the snapshot says */
		return -1;
	}
	if (r > 0 && s->left != UINT64_MAX) {
		s->left -= (uint64_t)r;
		s->off += (uint64_t)r;
	}
	return r;
}

/* mstore_stream_close - release a stream */
void mstore_stream_close(struct mstore_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	buf_free(&s->head);
}

/* mstore_find_uid - binary search of the snapshot */
long mstore_find_uid(const struct mstore_box *b, uint32_t uid)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->msgs[lo].uid == uid ? (long)lo : -1;
}

/* mstore_close - free the snapshot */
void mstore_close(struct mstore_box **bp)
{
	struct mstore_box *b = *bp;

	if (b == NULL)
		return;
	mbox_store_free(&b->mbox);
	for (size_t i = 0; i < b->n; i++) {
		free(b->msgs[i].name);
		free(b->msgs[i].base);
		free(b->msgs[i].guid);
		free(b->msgs[i].pop3_uidl);
	}
	free(b->msgs);
	free(b->path);
	free(b);
	*bp = NULL;
}
