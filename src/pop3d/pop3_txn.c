/*
 * pop3_txn.c - the POP3 TRANSACTION and UPDATE states over an open mailbox
 *
 * Every reply uses Dovecot 2.3's wording ("+OK 491 octets", "-ERR There's no
 * message 9.", "-ERR Message is deleted.", "+OK Marked to be deleted.",
 * "+OK Logging out, messages deleted."), so scripts and clients written
 * against Dovecot see no difference.
 *
 * LIST and UIDL of the whole mailbox stream too (about 64 KiB at first,
 * then the caller's max per pop3_txn_more()), so a mailbox of 100,000
 * messages does not need megabytes of output buffer at once.
 *
 * Message bodies (RETR, TOP) are streamed: each call converts at most about
 * the caller's max bytes of the stored message (LF or CRLF line ends) to
 * CRLF line ends with dot-stuffing, so memory stays bounded whatever the
 * message size. A message that does not end in a line end gets one before
 * the terminating ".", as Dovecot does; LIST sizes are the stored virtual
 * sizes (CRLF line ends, no dot-stuffing), exactly what RETR sends before
 * the stuffing.
 *
 * Flags: RETR (not TOP) marks the message \Seen. Dovecot writes those flags
 * at QUIT and also when a client disconnects without QUIT; RSET forgets them
 * with the deletions. Deletions are applied only by QUIT.
 *
 * UIDLs: pop3_uidl_format expanded with %u (UID) %v (UIDVALIDITY) %f (the
 * Maildir base file name, up to ":2,"; an mbox has none: UIDL fails as in
 * Dovecot) %g (the uidlist's GUID field, else the base name, as Dovecot's
 * Maildir does; mbox: the UID) %m (mbox: the header MD5; a Maildir has none:
 * UIDL fails as in Dovecot, which ends the session then). A UIDL that Dovecot saved in
 * dovecot-uidlist (its P field) wins over the format, as in Dovecot.
 *
 * Runs in:  the pop3 worker, as the mail user; input is UNTRUSTED client data
 * API:      see pop3_txn.h; pop3_txn_error() for the log
 * Limits:   POP3_TXN_LINE_MAX bytes a command line, POP3_TXN_BAD_MAX bad commands
 * Tests:    tests/unit/test_pop3_txn.c
 * Refs:     RFC 1939, RFC 2449 (CAPA, RESP-CODES), Dovecot 2.3's pop3 settings
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/pop3_cmd.h"
#include "libmail/varexpand.h"
#include "pop3d/pop3_txn.h"

#define POP3_TXN_LINE_MAX 8192
#define POP3_TXN_BAD_MAX 20        /* Dovecot's CLIENT_MAX_BAD_COMMANDS */
#define POP3_TXN_FIRST_CHUNK 65536 /* body bytes sent with the +OK line */
#define POP3_TXN_UIDL_MAX 256

#define ERR_STORAGE "-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.\r\n"

struct pop3_txn {
	struct mstore_box *box;
	char *uidl_format, *user, *capa;
	bool uidl_md5;         /* the format uses %m */
	bool uidl_file;        /* the format uses %f */
	bool *deleted, *seen;  /* per message, reset by RSET */
	size_t n_deleted, n_seen;
	uint64_t deleted_size, total_size;
	unsigned bad;
	unsigned top_count, retr_count;
	uint64_t top_bytes, retr_bytes;
	const char *error;     /* the last storage error, for the log */
	char stats[160];

	/* the LIST/UIDL reply being streamed: POP3_LIST or POP3_UIDL, 0 when none */
	int listing;
	size_t list_next;

	/* the RETR/TOP reply being streamed */
	bool streaming, is_top, in_header, line_start, line_has_text;
	int prev;
	uint64_t lines_left;
	uint64_t *byte_counter;
	struct mstore_stream st;
};

/* pop3_txn_new - a transaction over box */
struct pop3_txn *pop3_txn_new(struct mstore_box *box, const struct pop3_txn_settings *s)
{
	struct pop3_txn *t = xcalloc(1, sizeof(*t));
	struct var_entry no_md5[] = { { 'u', "uid", "" }, { 'v', "uidvalidity", "" }, { 'f', "filename", "" },
				      { 'g', "guid", "" } };
	struct var_entry no_file[] = { { 'u', "uid", "" }, { 'v', "uidvalidity", "" }, { 'm', "md5", "" },
				       { 'g', "guid", "" } };
	const char *err;

	t->box = box;
	t->uidl_format = xstrdup(s->uidl_format && *s->uidl_format ? s->uidl_format : "%08Xu%08Xv");
	t->user = xstrdup(s->user ? s->user : "");
	t->capa = s->capa ? xstrdup(s->capa) : NULL;
	t->uidl_md5 = var_check(t->uidl_format, no_md5, 4, &err, NULL) < 0;
	t->uidl_file = var_check(t->uidl_format, no_file, 4, &err, NULL) < 0;
	t->deleted = xcalloc(box->n ? box->n : 1, sizeof(bool));
	t->seen = xcalloc(box->n ? box->n : 1, sizeof(bool));
	for (size_t i = 0; i < box->n; i++)
		t->total_size += box->msgs[i].vsize;
	t->st.fd = -1;
	return t;
}

/* reply - append one reply line with CRLF */
static void reply(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct buf *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf(out, fmt, ap);
	va_end(ap);
	(void)buf_puts(out, "\r\n");
}

/* msg_index - the 0-based index of message number num, or -1 after the -ERR reply */
static long msg_index(struct pop3_txn *t, uint32_t num, struct buf *out)
{
	if (num == 0 || num > t->box->n) {
		reply(out, "-ERR There's no message %u.", num);
		return -1;
	}
	if (t->deleted[num - 1]) {
		reply(out, "-ERR Message is deleted.");
		return -1;
	}
	return (long)num - 1;
}

/* uidl_of - the UIDL of message i into u; 0, or -1 (no %m for this store, bad template) */
static int uidl_of(struct pop3_txn *t, size_t i, struct buf *u)
{
	const struct mstore_msg *m = &t->box->msgs[i];
	char uid[16], validity[16];
	const char *err;

	if (m->pop3_uidl)
		return buf_puts(u, m->pop3_uidl);
	if (t->uidl_md5 && m->hdr_md5[0] == '\0') {
		t->error = "UIDL: header MD5 not found (pop3_uidl_format=%m is not supported by Maildir)";
		return -1;
	}
	if (t->uidl_file && t->box->driver != MSTORE_MAILDIR) {
		t->error = "UIDL: file name not found (pop3_uidl_format=%f is not supported by mbox)";
		return -1;
	}
	snprintf(uid, sizeof(uid), "%u", m->uid);
	snprintf(validity, sizeof(validity), "%u", t->box->uidvalidity);
	struct var_entry tab[] = {
		{ 'u', "uid", uid },
		{ 'v', "uidvalidity", validity },
		{ 'f', "filename", m->base },
		{ 'g', "guid", m->guid ? m->guid : m->base },
		{ 'm', "md5", m->hdr_md5 },
	};
	if (var_expand(t->uidl_format, tab, sizeof(tab) / sizeof(tab[0]), u, &err, NULL) < 0) {
		t->error = "UIDL: pop3_uidl_format cannot be expanded";
		return -1;
	}
	return 0;
}

/* pump_list - the next lines of a LIST or UIDL reply, about max bytes; the "." at the end */
static enum pop3_txn_status pump_list(struct pop3_txn *t, struct buf *out, size_t max)
{
	struct buf u = BUF_INIT(POP3_TXN_UIDL_MAX);
	size_t start = out->len;

	while (t->list_next < t->box->n && out->len - start < max) {
		size_t k = t->list_next++;

		if (t->deleted[k])
			continue;
		if (t->listing == POP3_LIST) {
			reply(out, "%zu %llu", k + 1, (unsigned long long)t->box->msgs[k].vsize);
			continue;
		}
		buf_reset(&u);
		if (uidl_of(t, k, &u) < 0) {
			/* the first one worked before "+OK": end the session rather than send a wrong list */
			buf_free(&u);
			t->listing = 0;
			return POP3_TXN_QUIT;
		}
		reply(out, "%zu %s", k + 1, buf_cstr(&u));
	}
	buf_free(&u);
	if (t->list_next < t->box->n)
		return POP3_TXN_MORE;
	reply(out, ".");
	t->listing = 0;
	return POP3_TXN_DONE;
}

/* cmd_list - LIST [n]; the whole list is streamed like a message */
static enum pop3_txn_status cmd_list(struct pop3_txn *t, const struct pop3_cmd *c, struct buf *out)
{
	long i;

	if (c->nargs > 0) {
		if ((i = msg_index(t, c->msg, out)) >= 0)
			reply(out, "+OK %u %llu", c->msg, (unsigned long long)t->box->msgs[i].vsize);
		return POP3_TXN_DONE;
	}
	reply(out, "+OK %zu messages:", t->box->n - t->n_deleted);
	t->listing = POP3_LIST;
	t->list_next = 0;
	return pump_list(t, out, POP3_TXN_FIRST_CHUNK);
}

/*
 * cmd_uidl - UIDL [n]. When a UIDL cannot be made (%m with a Maildir, %f
 * with an mbox), Dovecot ends the session ("POP3 UIDLs couldn't be listed"):
 * UIDL n says nothing more, UIDL has sent its "+OK" already.
 */
static enum pop3_txn_status cmd_uidl(struct pop3_txn *t, const struct pop3_cmd *c, struct buf *out)
{
	struct buf u = BUF_INIT(POP3_TXN_UIDL_MAX);
	size_t k = 0;
	long i;

	if (c->nargs > 0) {
		enum pop3_txn_status st = POP3_TXN_DONE;

		if ((i = msg_index(t, c->msg, out)) >= 0) {
			if (uidl_of(t, (size_t)i, &u) < 0)
				st = POP3_TXN_QUIT;
			else
				reply(out, "+OK %u %s", c->msg, buf_cstr(&u));
		}
		buf_free(&u);
		return st;
	}
	reply(out, "+OK");
	/* the format works for this store? (it works for all messages or for none) */
	while (k < t->box->n && t->deleted[k])
		k++;
	if (k < t->box->n && uidl_of(t, k, &u) < 0) {
		buf_free(&u);
		return POP3_TXN_QUIT;
	}
	buf_free(&u);
	t->listing = POP3_UIDL;
	t->list_next = 0;
	return pump_list(t, out, POP3_TXN_FIRST_CHUNK);
}

/* finish_stream - the terminating line of a RETR/TOP reply */
static void finish_stream(struct pop3_txn *t, struct buf *out)
{
	if (!t->line_start) {
		(void)buf_puts(out, "\r\n"); /* the message did not end in a line end */
		*t->byte_counter += 2;
	}
	(void)buf_puts(out, ".\r\n");
	mstore_stream_close(&t->st);
	t->streaming = false;
}

/*
 * pump - convert up to about max bytes of the message into out: CRLF line
 * ends, dot-stuffing, TOP's line limit. DONE when the reply is complete,
 * MORE when there is more, QUIT when the message could not be read after
 * +OK was sent (the client must see a broken connection, not a cut message).
 */
static enum pop3_txn_status pump(struct pop3_txn *t, struct buf *out, size_t max)
{
	unsigned char in[16384];
	char conv[2 * sizeof(in)];
	size_t sent = 0;

	while (sent < max) {
		size_t want = max - sent < sizeof(in) ? max - sent : sizeof(in), k = 0;
		ssize_t r = mstore_stream_read(&t->st, in, want < 512 ? 512 : want);
		bool stop = false;

		if (r < 0) {
			mstore_stream_close(&t->st);
			t->streaming = false;
			t->error = "cannot read a message file";
			return POP3_TXN_QUIT;
		}
		if (r == 0)
			break;
		for (ssize_t j = 0; j < r && !stop; j++) {
			unsigned char ch = in[j];

			if (t->line_start && ch == '.')
				conv[k++] = '.';
			t->line_start = false;
			if (ch == '\n') {
				if (t->prev != '\r')
					conv[k++] = '\r';
				conv[k++] = '\n';
				t->line_start = true;
				if (t->is_top) {
					if (t->in_header) {
						t->in_header = t->line_has_text;
						stop = !t->in_header && t->lines_left == 0;
					} else {
						stop = --t->lines_left == 0;
					}
				}
				t->line_has_text = false;
			} else {
				conv[k++] = (char)ch;
				if (ch != '\r')
					t->line_has_text = true;
			}
			t->prev = ch;
		}
		if (buf_append(out, conv, k) < 0) {
			t->error = "the output buffer is full";
			mstore_stream_close(&t->st);
			t->streaming = false;
			return POP3_TXN_QUIT;
		}
		*t->byte_counter += k;
		sent += k;
		if (stop) {
			finish_stream(t, out);
			return POP3_TXN_DONE;
		}
	}
	if (sent < max) {
		finish_stream(t, out);
		return POP3_TXN_DONE;
	}
	return POP3_TXN_MORE;
}

/* cmd_fetch - RETR n, TOP n lines */
static enum pop3_txn_status cmd_fetch(struct pop3_txn *t, const struct pop3_cmd *c, bool top, struct buf *out)
{
	long i = msg_index(t, c->msg, out);
	struct mstore_msg *m;
	size_t mark;

	if (i < 0)
		return POP3_TXN_DONE;
	m = &t->box->msgs[i];
	if (mstore_stream_open(t->box, m, &t->st) < 0) {
		if (errno == ENOENT)
			reply(out, "-ERR Message %u expunged.", c->msg);
		else
			(void)buf_puts(out, ERR_STORAGE);
		return POP3_TXN_DONE;
	}
	t->streaming = true;
	t->is_top = top;
	t->in_header = true;
	t->line_start = true;
	t->line_has_text = false;
	t->prev = -1;
	t->lines_left = c->lines;
	/* Dovecot counts the bytes sent from the status line up to the final "." */
	mark = out->len;
	if (top) {
		t->top_count++;
		t->byte_counter = &t->top_bytes;
		reply(out, "+OK");
	} else {
		t->retr_count++;
		t->byte_counter = &t->retr_bytes;
		if (!t->seen[i] && strchr(m->flags, 'S') == NULL) {
			t->seen[i] = true;
			t->n_seen++;
		}
		reply(out, "+OK %llu octets", (unsigned long long)m->vsize);
	}
	*t->byte_counter += out->len - mark;
	return pump(t, out, POP3_TXN_FIRST_CHUNK);
}

/* cmd_quit - UPDATE state: apply deletions and \Seen */
static enum pop3_txn_status cmd_quit(struct pop3_txn *t, struct buf *out)
{
	if (t->n_deleted > 0 || t->n_seen > 0) {
		const char *err = NULL;
		size_t failed = mstore_commit(t->box, t->deleted, t->seen, &err);

		if (err)
			t->error = err;
		if (failed > 0) {
			(void)buf_puts(out, ERR_STORAGE);
			return POP3_TXN_QUIT;
		}
		t->n_seen = 0;
	}
	reply(out, t->n_deleted ? "+OK Logging out, messages deleted." : "+OK Logging out.");
	return POP3_TXN_QUIT;
}

/* cmd_capa - CAPA after login: Dovecot's list, then the caller's extra lines */
static void cmd_capa(struct pop3_txn *t, struct buf *out)
{
	(void)buf_puts(out, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n");
	for (const char *p = t->capa; p && *p;) {
		size_t n = strcspn(p, "\r\n");

		if (n > 0) {
			(void)buf_append(out, p, n);
			(void)buf_puts(out, "\r\n");
		}
		p += n;
		p += strspn(p, "\r\n");
	}
	reply(out, ".");
}

/* unknown_command - Dovecot's "-ERR Unknown command: NAME" (the name cut and made printable) */
static void unknown_command(const char *line, size_t n, struct buf *out)
{
	char name[41];
	size_t k = 0;

	for (size_t i = 0; i < n && line[i] != ' ' && k + 1 < sizeof(name); i++)
		name[k++] = line[i] > ' ' && line[i] < 0x7f ? (char)toupper((unsigned char)line[i]) : '?';
	name[k] = '\0';
	reply(out, "-ERR Unknown command: %s", name);
}

/* pop3_txn_line - one command line */
enum pop3_txn_status pop3_txn_line(struct pop3_txn *t, const char *line, size_t n, struct buf *out)
{
	struct pop3_cmd c;
	const char *err;
	long i;

	/* the caller reads no command while a reply streams (pop3_txn.h) */
	ASSERT(!t->streaming && !t->listing);
	if (pop3_cmd_parse(line, n, POP3_TXN_LINE_MAX, &c, &err) < 0) {
		if (strcmp(err, "Unknown command.") == 0)
			unknown_command(line, n, out);
		else
			reply(out, "-ERR %s", err);
		goto bad;
	}
	if ((c.states & POP3_IN_TRANSACTION) == 0) {
		reply(out, "-ERR Unknown command: %s", pop3_cmd_name(c.id));
		goto bad;
	}
	switch (c.id) {
	case POP3_STAT:
		reply(out, "+OK %zu %llu", t->box->n - t->n_deleted,
		      (unsigned long long)(t->total_size - t->deleted_size));
		break;
	case POP3_LIST:
		return cmd_list(t, &c, out);
	case POP3_UIDL:
		return cmd_uidl(t, &c, out);
	case POP3_RETR:
		return cmd_fetch(t, &c, false, out);
	case POP3_TOP:
		return cmd_fetch(t, &c, true, out);
	case POP3_DELE:
		if ((i = msg_index(t, c.msg, out)) < 0)
			break;
		t->deleted[i] = true;
		t->n_deleted++;
		t->deleted_size += t->box->msgs[i].vsize;
		reply(out, "+OK Marked to be deleted.");
		break;
	case POP3_RSET:
		memset(t->deleted, 0, t->box->n * sizeof(bool));
		memset(t->seen, 0, t->box->n * sizeof(bool));
		t->n_deleted = t->n_seen = 0;
		t->deleted_size = 0;
		reply(out, "+OK");
		break;
	case POP3_NOOP:
		reply(out, "+OK");
		break;
	case POP3_CAPA:
		cmd_capa(t, out);
		break;
	case POP3_QUIT:
		return cmd_quit(t, out);
	default:
		reply(out, "-ERR Unknown command: %s", pop3_cmd_name(c.id));
		goto bad;
	}
	return POP3_TXN_DONE;
bad:
	if (++t->bad >= POP3_TXN_BAD_MAX) {
		reply(out, "-ERR Too many bad commands.");
		return POP3_TXN_QUIT;
	}
	return POP3_TXN_DONE;
}

/* pop3_txn_more - continue a streamed reply */
enum pop3_txn_status pop3_txn_more(struct pop3_txn *t, struct buf *out, size_t max)
{
	if (t->listing)
		return pump_list(t, out, max ? max : 1);
	if (!t->streaming)
		return POP3_TXN_DONE;
	return pump(t, out, max ? max : 1);
}

/* pop3_txn_error - the last storage error (for the log), or NULL */
const char *pop3_txn_error(const struct pop3_txn *t)
{
	return t->error;
}

/* pop3_txn_logout_stats - Dovecot's pop3_logout_format fields */
const char *pop3_txn_logout_stats(struct pop3_txn *t)
{
	snprintf(t->stats, sizeof(t->stats), "top=%u/%llu, retr=%u/%llu, del=%zu/%zu, size=%llu", t->top_count,
		 (unsigned long long)t->top_bytes, t->retr_count, (unsigned long long)t->retr_bytes, t->n_deleted,
		 t->box->n, (unsigned long long)t->total_size);
	return t->stats;
}

/* pop3_txn_free - end the session; without QUIT nothing is deleted, \Seen is kept as Dovecot does */
void pop3_txn_free(struct pop3_txn **tp)
{
	struct pop3_txn *t = *tp;

	if (t == NULL)
		return;
	mstore_stream_close(&t->st);
	if (t->n_seen > 0) {
		const char *err;

		(void)mstore_commit(t->box, NULL, t->seen, &err);
	}
	mstore_close(&t->box);
	free(t->deleted);
	free(t->seen);
	free(t->uidl_format);
	free(t->user);
	free(t->capa);
	free(t);
	*tp = NULL;
}
