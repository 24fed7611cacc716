/*
 * mbox_store.c - an mbox file opened by a mail session: UIDs in X-UID/X-IMAPbase, snapshot, expunge
 *
 * Open: take the dotlock and then the fcntl write lock (lib/filelock, the
 * same locks and order as mbox delivery in src/queue/mbox.c, so a delivery
 * waits for the session's sync and the other way round), check that the file
 * locked is still the one at the path, parse it (libmail/mbox_parse), give
 * each message without a valid X-UID the next UID, and if any did (or the
 * first message lacks X-IMAPbase), write the UIDs back the way Dovecot keeps
 * them: "X-IMAPbase: <uidvalidity> <last used uid, 10 digits>" in the first
 * message, "X-UID: <uid>" and "Status: O" (R added for \Seen) in each.
 * Then unlock. The session keeps the file open and reads messages from it
 * (the snapshot); deliveries meanwhile only append, which changes no offset.
 * An X-UID counts only when it is above the previous message's and not
 * above X-IMAPbase's last used UID, so a forged X-UID in a delivered message
 * cannot take an old UID (Dovecot's rule).
 *
 * Expunge (QUIT) and \Seen: under the same locks the current file is parsed
 * again (new mail may have arrived), messages are matched by UID, and the
 * file is rewritten without the expunged ones.
 *
 * Rewriting: Postern writes a complete new file next to the mbox
 * ("<path>.postern-tmp"), fsyncs it, renames it over the mbox and fsyncs the
 * directory. A crash at any point leaves either the old or the new file,
 * never a half-moved one. Dovecot instead rewrites in place (moving data
 * within the file, reserving padding space), which needs no directory write
 * access and keeps the inode, but a power failure in the middle can leave
 * the mbox damaged (its documentation says so). The rename costs: write
 * access to the directory (needed for the dotlock anyway), and a writer
 * that opened the old file before the rename must notice it: Postern's
 * delivery re-checks the file after locking (st_nlink, a temporary failure
 * and a retry); an MDA that does not would append to the replaced file.
 * When every message is expunged, Dovecot's pseudo message ("DON'T DELETE
 * THIS MESSAGE -- FOLDER INTERNAL DATA", X-IMAP) keeps UIDVALIDITY and the
 * last UID, as Dovecot writes it.
 *
 * Not done: X-Keywords and X-Status are kept as they are but not reported;
 * no index: every open reads the whole file once (Dovecot reads its index).
 *
 * Runs in:  pop3 (and later imap) sessions, as the mail user
 * API:      mstore_open_mbox(), mstore_open_location(); the rest via mstore.h
 * Tests:    tests/unit/test_mbox_store.c
 * Refs:     Dovecot's mbox documentation (metadata headers, locking, pseudo message)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/encode.h"
#include "lib/fdio.h"
#include "lib/filelock.h"
#include "lib/safefile.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "libmail/mbox_parse.h"
#include "store/mstore-private.h"

#define LOCK_ATTEMPTS 50 /* 100 ms apart: a delivery holds the lock for one append */
#define LOCK_DELAY_MS 100
#define LOCK_STALE_S 500 /* Postfix's stale_lock_time */
#define CHUNK 65536

struct mstore_mbox {
	int fd; /* the file the snapshot was read from */
};

/* a parsed file, locked */
struct mfile {
	const char *path;
	char *lockpath;
	int fd;
	bool locked;
	struct mbox_pmsg *m;
	size_t n, cap;
	uint32_t *uid;      /* assigned UIDs (0 for the pseudo message) */
	uint32_t validity, last;
	bool dirty;         /* UIDs to write back */
};

/* on_msg - collect a parsed message */
static void on_msg(void *ctx, const struct mbox_pmsg *m)
{
	struct mfile *f = ctx;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 32;
		f->m = xreallocarray(f->m, f->cap, sizeof(*f->m));
	}
	f->m[f->n++] = *m;
}

/* peek - the parser's look-ahead for Content-Length */
static void peek(void *ctx, uint64_t off, char *b, size_t n, size_t *got)
{
	struct mfile *f = ctx;
	ssize_t r = pread(f->fd, b, n, (off_t)off);

	*got = r > 0 ? (size_t)r : 0;
}

/* parse_file - all messages of f->fd */
static int parse_file(struct mfile *f)
{
	struct mbox_parser p;
	char *b = xmalloc(CHUNK);
	uint64_t off = 0;
	ssize_t r;

	f->n = 0;
	mbox_parse_init(&p, peek, on_msg, f);
	while ((r = pread(f->fd, b, CHUNK, (off_t)off)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		mbox_parse_feed(&p, b, (size_t)r);
		off += (uint64_t)r;
	}
	mbox_parse_finish(&p);
	free(b);
	return r < 0 ? -1 : 0;
}

/* assign_uids - keep valid X-UIDs, give the others the next ones (Dovecot's rule) */
static void assign_uids(struct mfile *f)
{
	uint32_t prev = 0;

	free(f->uid);
	f->uid = xcalloc(f->n ? f->n : 1, sizeof(*f->uid));
	f->dirty = false;
	if (f->n > 0 && f->m[0].imapbase) {
		f->validity = f->m[0].base_validity;
		f->last = f->m[0].base_last_uid;
	} else {
		f->validity = (uint32_t)time(NULL);
		f->last = 0;
		f->dirty = f->n > 0;
	}
	for (size_t i = 0; i < f->n; i++) {
		uint32_t u = f->m[i].uid;

		if (i == 0 && f->m[i].pseudo)
			continue;
		if (u > prev && u <= f->last) {
			f->uid[i] = u;
		} else {
			f->uid[i] = ++f->last;
			f->dirty = true;
		}
		prev = f->uid[i];
	}
	/* a pseudo message with real mail after it: the first mail takes over X-IMAPbase */
	if (f->n > 1 && f->m[0].pseudo)
		f->dirty = true;
}

/* unlock - release the fcntl lock and the dotlock */
static void unlock(struct mfile *f)
{
	if (!f->locked)
		return;
	if (f->fd >= 0) {
		struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

		(void)fcntl(f->fd, F_SETLK, &fl);
	}
	unlink(f->lockpath);
	f->locked = false;
}

/* mfile_free - unlock, close, release */
static void mfile_free(struct mfile *f)
{
	unlock(f);
	if (f->fd >= 0)
		close(f->fd);
	free(f->lockpath);
	free(f->m);
	free(f->uid);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* lock_and_parse - open the file at path, lock it as delivery does, parse it; 0, 1 (no file), -1 */
static int lock_and_parse(struct mfile *f, const char *path, const char **error_r)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->lockpath = xasprintf("%s.lock", path);
	for (int tries = 0; tries < 5; tries++) {
		struct stat a, b;

		f->fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (f->fd < 0) {
			if (errno == ENOENT)
				return 1;
			*error_r = "cannot open the mbox file";
			return -1;
		}
		if (file_dotlock(f->lockpath, LOCK_ATTEMPTS, LOCK_DELAY_MS, LOCK_STALE_S) < 0) {
			*error_r = "mbox is locked (cannot create its dotlock)";
			return -1;
		}
		f->locked = true;
		if (file_fcntl_lock(f->fd, true, LOCK_ATTEMPTS, LOCK_DELAY_MS) < 0) {
			*error_r = "mbox is locked (fcntl)";
			return -1;
		}
		/* still the file at path? (another session may have rewritten it meanwhile) */
		if (fstat(f->fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev &&
		    S_ISREG(a.st_mode)) {
			if (parse_file(f) < 0) {
				*error_r = "cannot read the mbox file";
				return -1;
			}
			assign_uids(f);
			return 0;
		}
		unlock(f);
		close(f->fd);
		f->fd = -1;
	}
	*error_r = "the mbox file keeps changing";
	return -1;
}

/* put - write p[0..n) to fd through out (flushed at CHUNK); 0, or -1 */
static int put(int fd, struct buf *out, const void *p, size_t n)
{
	if (out->len + n > CHUNK) {
		if (out->len && fd_write_all(fd, out->data, out->len) < 0)
			return -1;
		buf_reset(out);
		if (n > CHUNK)
			return fd_write_all(fd, p, n);
	}
	return buf_append(out, p, n);
}

/* copy_range - copy [from, to) of the old file into the new one */
static int copy_range(struct mfile *f, int fd, struct buf *out, uint64_t from, uint64_t to)
{
	char b[CHUNK];

	while (from < to) {
		size_t want = to - from < sizeof(b) ? (size_t)(to - from) : sizeof(b);
		ssize_t r = pread(f->fd, b, want, (off_t)from);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (put(fd, out, b, (size_t)r) < 0)
			return -1;
		from += (uint64_t)r;
	}
	return 0;
}

/* write_pseudo - Dovecot's folder-internal-data message: keeps UIDVALIDITY and the last UID */
static int write_pseudo(struct mfile *f, int fd, struct buf *out)
{
	char host[256], date[64], text[1024];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	n = snprintf(text, sizeof(text),
		     "From MAILER_DAEMON %s\nDate: %s\nFrom: Mail System Internal Data <MAILER-DAEMON@%s>\n"
		     "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nMessage-ID: <%lld@%s>\n"
		     "X-IMAP: %u %010u\nStatus: RO\n\n"
		     "This text is part of the internal format of your mail folder, and is not\n"
		     "a real message.  It is created automatically by the mail system software.\n"
		     "If deleted, important folder data will be lost, and it will be re-created\n"
		     "with the data reset to initial values.\n\n",
		     date, date, host, (long long)now, host, f->validity, f->last);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	return put(fd, out, text, (size_t)n);
}

/* write_msg - one message with Dovecot's metadata headers */
static int write_msg(struct mfile *f, size_t i, bool first, bool seen, int fd, struct buf *out)
{
	const struct mbox_pmsg *m = &f->m[i];
	struct buf raw = BUF_INIT(MBOX_HDR_MAX + MBOX_LINE_KEEP + 16), vis = BUF_INIT(2 * MBOX_HDR_MAX),
		   keep = BUF_INIT(2 * MBOX_HDR_MAX), meta = BUF_INIT(256);
	bool was_seen = strchr(m->status, 'R') != NULL;
	int rc = -1;

	if (copy_range(f, fd, out, m->from_off, m->hdr_off) < 0 || buf_reserve(&raw, (size_t)(m->hdr_end - m->hdr_off)) < 0)
		goto out;
	if (m->hdr_end > m->hdr_off) {
		ssize_t r = pread(f->fd, raw.data, (size_t)(m->hdr_end - m->hdr_off), (off_t)m->hdr_off);

		if (r != (ssize_t)(m->hdr_end - m->hdr_off))
			goto out;
		raw.len = (size_t)r;
	}
	if (mbox_hdr_split(raw.data ? raw.data : "", raw.len, &vis, &keep) < 0)
		goto out;
	if (first)
		buf_printf(&meta, "X-IMAPbase: %u %010u\n", f->validity, f->last);
	buf_printf(&meta, "Status: %sO\nX-UID: %u\n", seen || was_seen ? "R" : "", f->uid[i]);
	if (m->has_cl)
		buf_printf(&meta, "Content-Length: %llu\n", (unsigned long long)(m->end - m->body_off));
	/*
	 * Dovecot puts its headers last; before a header near MBOX_HDR_MAX they go
	 * first instead, so that the parser (which reads at most that much header)
	 * always finds the X-UID again
	 */
	if (m->hdr_end - m->hdr_off > MBOX_HDR_MAX / 2) {
		if (put(fd, out, meta.data, meta.len) < 0 || put(fd, out, vis.data, vis.len) < 0)
			goto out;
	} else if (put(fd, out, vis.data, vis.len) < 0 || put(fd, out, meta.data, meta.len) < 0) {
		goto out;
	}
	if (put(fd, out, keep.data, keep.len) < 0)
		goto out;
	if (m->body_off > m->hdr_end) {
		if (copy_range(f, fd, out, m->hdr_end, m->body_off) < 0)
			goto out;
	} else if (m->end == m->body_off && put(fd, out, "\n", 1) < 0) {
		goto out; /* a message of header lines only: end its header (an oversized header has none) */
	}
	if (copy_range(f, fd, out, m->body_off, m->end) < 0 || put(fd, out, "\n", 1) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&raw);
	buf_free(&vis);
	buf_free(&keep);
	buf_free(&meta);
	return rc;
}

/* rewrite - the new file: kept messages (drop[i] false) with their UIDs, written, synced, renamed */
static int rewrite(struct mfile *f, const bool *drop, const bool *seen)
{
	char *tmp = xasprintf("%s.postern-tmp", f->path);
	struct buf out = BUF_INIT(2 * CHUNK);
	struct stat st;
	bool first = true;
	int fd = -1, rc = -1;

	if (fstat(f->fd, &st) < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
	if (fd < 0)
		goto out;
	(void)fchown(fd, st.st_uid, st.st_gid); /* as the owner: a no-op; as root: keep the owner */
	(void)fchmod(fd, st.st_mode & 07777);
	for (size_t i = 0; i < f->n; i++) {
		if (f->uid[i] == 0 || (drop && drop[i]))
			continue; /* the pseudo message (rewritten below when needed), or expunged */
		if (write_msg(f, i, first, seen && seen[i], fd, &out) < 0)
			goto out;
		first = false;
	}
	if (first && write_pseudo(f, fd, &out) < 0)
		goto out;
	if ((out.len && fd_write_all(fd, out.data, out.len) < 0) || fsync(fd) < 0)
		goto out;
	if (rename(tmp, f->path) < 0 || fsync_dir_of(f->path) < 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	buf_free(&out);
	return rc;
}

/* reopen - after a rewrite: the new file, parsed again (still under the dotlock) */
static int reopen(struct mfile *f)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	(void)fcntl(f->fd, F_SETLK, &fl);
	close(f->fd);
	f->fd = open(f->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (f->fd < 0 || file_fcntl_lock(f->fd, true, LOCK_ATTEMPTS, LOCK_DELAY_MS) < 0 || parse_file(f) < 0)
		return -1;
	assign_uids(f);
	return 0;
}

/* fill_box - the snapshot of a parsed file */
static void fill_box(struct mstore_box *b, struct mfile *f)
{
	size_t k = 0;

	b->uidvalidity = f->validity;
	b->next_uid = f->last + 1;
	b->msgs = xcalloc(f->n ? f->n : 1, sizeof(*b->msgs));
	for (size_t i = 0; i < f->n; i++) {
		const struct mbox_pmsg *p = &f->m[i];
		struct mstore_msg *m = &b->msgs[k];
		struct buf hex = BUF_INIT(64);

		if (f->uid[i] == 0)
			continue;
		m->uid = f->uid[i];
		m->name = xasprintf("%u", m->uid);
		m->base = xstrdup(m->name);
		if (strchr(p->status, 'R'))
			m->flags[0] = 'S';
		m->size = p->end - p->from_off;
		m->vsize = p->hdr_vsize + p->body_vsize;
		m->recent = strchr(p->status, 'O') == NULL;
		hex_encode(&hex, p->md5, sizeof(p->md5));
		snprintf(m->hdr_md5, sizeof(m->hdr_md5), "%s", buf_cstr(&hex));
		buf_free(&hex);
		m->mbox.from = p->from_off;
		m->mbox.hdr = p->hdr_off;
		m->mbox.hdr_end = p->hdr_end;
		m->mbox.body = p->body_off;
		m->mbox.end = p->end;
		k++;
	}
	b->n = k;
}

/* mstore_open_mbox - lock, sync UIDs, snapshot */
int mstore_open_mbox(const char *path, struct mstore_box **out, const char **error_r)
{
	struct mstore_box *b = xcalloc(1, sizeof(*b));
	struct mfile f;
	int r;

	*out = NULL;
	b->path = xstrdup(path);
	b->driver = MSTORE_MBOX;
	b->mbox = xcalloc(1, sizeof(*b->mbox));
	b->mbox->fd = -1;
	r = lock_and_parse(&f, path, error_r);
	if (r < 0) {
		mfile_free(&f);
		mstore_close(&b);
		return -1;
	}
	if (r == 0 && f.dirty && (rewrite(&f, NULL, NULL) < 0 || reopen(&f) < 0)) {
		*error_r = "cannot write the UIDs into the mbox file";
		mfile_free(&f);
		mstore_close(&b);
		return -1;
	}
	if (r == 1) {
		/* no file yet: an empty mailbox, created by its first delivery */
		f.validity = (uint32_t)time(NULL);
		f.last = 0;
	}
	fill_box(b, &f);
	unlock(&f);
	b->mbox->fd = f.fd; /* the session reads the snapshot from it */
	f.fd = -1;
	mfile_free(&f);
	*out = b;
	return 0;
}

/* mbox_store_commit - rewrite the current file without the expunged messages, with \Seen */
size_t mbox_store_commit(struct mstore_box *b, const bool *expunge, const bool *seen, const char **error_r)
{
	size_t wanted = 0, failed;
	struct mfile f;
	bool *drop = NULL, *see = NULL, any = false;
	int r;

	for (size_t i = 0; i < b->n; i++) {
		wanted += expunge && expunge[i];
		any = any || (expunge && expunge[i]) || (seen && seen[i] && strchr(b->msgs[i].flags, 'S') == NULL);
	}
	if (!any)
		return 0;
	failed = wanted;
	r = lock_and_parse(&f, b->path, error_r);
	if (r != 0) {
		if (r == 1)
			*error_r = "the mbox file is gone";
		mfile_free(&f);
		return failed;
	}
	drop = xcalloc(f.n ? f.n : 1, sizeof(bool));
	see = xcalloc(f.n ? f.n : 1, sizeof(bool));
	for (size_t i = 0; i < f.n; i++) {
		/* only UIDs this session's snapshot had are matched (new mail has new ones) */
		long k = f.uid[i] && f.uid[i] < b->next_uid ? mstore_find_uid(b, f.uid[i]) : -1;

		if (k < 0)
			continue;
		drop[i] = expunge && expunge[k];
		see[i] = seen && seen[k];
	}
	if (rewrite(&f, drop, see) < 0) {
		*error_r = "cannot rewrite the mbox file";
	} else {
		failed = 0;
		for (size_t i = 0; i < b->n; i++)
			if (seen && seen[i])
				b->msgs[i].flags[0] = 'S';
	}
	free(drop);
	free(see);
	mfile_free(&f);
	return failed;
}

/* mbox_stream_open - the header a client sees (internal headers hidden), then the body from the file */
int mbox_stream_open(struct mstore_box *b, struct mstore_msg *m, struct mstore_stream *s)
{
	struct buf raw = BUF_INIT(MBOX_HDR_MAX + MBOX_LINE_KEEP + 16);
	size_t hl = (size_t)(m->mbox.hdr_end - m->mbox.hdr), bl = (size_t)(m->mbox.body - m->mbox.hdr_end);
	ssize_t r;

	s->fd = -1;
	buf_init(&s->head, 2 * MBOX_HDR_MAX + 16);
	if (b->mbox->fd < 0 || buf_reserve(&raw, hl + bl) < 0) {
		errno = EIO;
		goto fail;
	}
	r = hl + bl ? pread(b->mbox->fd, raw.data, hl + bl, (off_t)m->mbox.hdr) : 0;
	if (r != (ssize_t)(hl + bl)) {
		errno = EIO;
		goto fail;
	}
	if (mbox_hdr_split(raw.data ? raw.data : "", hl, &s->head, NULL) < 0 ||
	    buf_append(&s->head, raw.data ? raw.data + hl : "", bl) < 0) {
		errno = EIO;
		goto fail;
	}
	s->fd = dup(b->mbox->fd);
	if (s->fd < 0)
		goto fail;
	s->off = m->mbox.body;
	s->left = m->mbox.end - m->mbox.body;
	buf_free(&raw);
	return 0;
fail:
	buf_free(&raw);
	buf_free(&s->head);
	return -1;
}

/* mbox_store_free - close the snapshot's file */
void mbox_store_free(struct mstore_mbox **mp)
{
	if (*mp == NULL)
		return;
	if ((*mp)->fd >= 0)
		close((*mp)->fd);
	free(*mp);
	*mp = NULL;
}

/* home_path - "~/x" in home, else p */
static char *home_path(const char *p, const char *home)
{
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home)
		return xasprintf("%s%s", home, p + 1);
	return xstrdup(p);
}

/* mstore_open_location - pick the driver of a mail_location and open the INBOX */
int mstore_open_location(const struct mail_location *loc, const char *home, struct mstore_box **out,
			 const char **error_r)
{
	char *path = home_path(loc->path ? loc->path : "", home), *inbox = NULL;
	const char *driver = loc->driver ? loc->driver : "";
	struct stat st;
	int r;

	*out = NULL;
	if (driver[0] == '\0') {
		char *cur = xasprintf("%s/cur", path);

		driver = stat(cur, &st) == 0 && S_ISDIR(st.st_mode) ? "maildir"
			 : stat(path, &st) == 0 && S_ISREG(st.st_mode) ? "mbox"
								       : "";
		free(cur);
		if (driver[0] == 0) {
			free(path);
			*error_r = "mail_location: cannot tell the mailbox format (no driver given)";
			return -1;
		}
		if (strcmp(driver, "mbox") == 0)
			inbox = xstrdup(path);
	}
	if (path[0] == '\0' && !(strcmp(driver, "mbox") == 0 && loc->inbox)) {
		free(path);
		*error_r = "mail_location: no mailbox path";
		return -1;
	}
	if (strcmp(driver, "maildir") == 0) {
		r = mstore_open(path, out, error_r);
	} else if (strcmp(driver, "mbox") == 0) {
		if (inbox == NULL)
			inbox = loc->inbox ? home_path(loc->inbox, home) : xasprintf("%s/inbox", path);
		r = mstore_open_mbox(inbox, out, error_r);
	} else {
		*error_r = "mail_location: only the maildir and mbox formats are supported";
		r = -1;
	}
	free(path);
	free(inbox);
	return r;
}
