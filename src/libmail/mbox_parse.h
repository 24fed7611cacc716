/*
 * mbox_parse.h - find the messages of an mbox file and what Dovecot keeps in their headers
 *
 * A push parser: the caller feeds the file's bytes in pieces of any size;
 * each message found is handed to a callback with its offsets, the sizes a
 * client sees, and Dovecot's metadata headers. No I/O of its own: the one
 * look-ahead it needs (is there a message where a Content-Length header says
 * this one ends?) is asked of the caller through a peek callback.
 *
 * The format, as Dovecot reads it (its mbox documentation, "mboxcl2"):
 *   - a message starts with a From_ line ("From <sender> <date>") at the
 *     start of the file or after a line end; a "From " line whose rest does
 *     not look like a date is body text;
 *   - the line end just before the next From_ line (or at the end of the
 *     file) separates messages and is not part of the message;
 *   - Content-Length is honoured when another message starts (or the file
 *     ends) exactly that many bytes after the header; otherwise it is ignored;
 *   - ">From " lines are NOT unquoted: Dovecot sends them as stored, so a
 *     mailbox moved between the two gives clients the same bytes and sizes;
 *   - Dovecot's own headers X-IMAPbase, X-IMAP, X-UID, Status, X-Status,
 *     X-Keywords and Content-Length (any case) are hidden from clients;
 *     X-IMAPbase / X-IMAP ("<uidvalidity> <last used uid> [keywords]") count
 *     only in the first message; a first message with X-IMAP is Dovecot's
 *     "pseudo message" (folder internal data), not a mail.
 *   - the header MD5 (POP3 UIDL %m) is Dovecot's default "apop3d" algorithm:
 *     the values of Date and Message-ID before the first Received, all of
 *     the first Received, every Delivered-To and X-Delivery-ID.
 *
 * Runs in:  the mail store (pop3/imap sessions, as the mail user); the file
 *           content is UNTRUSTED (anyone can send mail into it)
 * API:      mbox_parse_init(), mbox_parse_feed(), mbox_parse_finish(),
 *           mbox_hdr_split(), mbox_from_line_valid()
 * Limits:   a header block is at most MBOX_HDR_MAX bytes (the rest of an
 *           oversized header is treated as body); header values longer than
 *           MBOX_LINE_KEEP bytes are cut for the metadata and the MD5
 * Tests:    tests/unit/test_mbox_parse.c, fuzz/fuzz_mbox.c
 * Refs:     Dovecot's mbox documentation (MailboxFormat/mbox), mbox(5), RFC 4155
 */
#ifndef POSTERN_MBOX_PARSE_H
#define POSTERN_MBOX_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define MBOX_HDR_MAX (1u << 20)
#define MBOX_LINE_KEEP 8192

struct mbox_pmsg {
	uint64_t from_off;   /* the From_ line */
	uint64_t hdr_off;    /* the first header line */
	uint64_t hdr_end;    /* the empty line that ends the header (== body_off when there is none) */
	uint64_t body_off;   /* the body */
	uint64_t end;        /* end of the body (the separating line end excluded) */
	uint64_t hdr_vsize;  /* the header as a client sees it (hidden headers left out), CRLF, with the empty line */
	uint64_t body_vsize; /* the body with CRLF line ends */
	uint32_t uid;        /* X-UID, 0 when absent or not a number */
	bool imapbase;       /* the first message's X-IMAPbase or X-IMAP */
	bool pseudo;         /* the first message is Dovecot's pseudo message (X-IMAP) */
	uint32_t base_validity, base_last_uid;
	bool has_cl;         /* a Content-Length header (honoured or not) */
	char status[8];      /* Status flag letters (R seen, O old) */
	unsigned char md5[16];
};

/* peek - up to n bytes of the file at off into buf; *got is 0 at the end of the file */
typedef void mbox_peek_fn(void *ctx, uint64_t off, char *buf, size_t n, size_t *got);
/* emit - one message found (in file order) */
typedef void mbox_msg_fn(void *ctx, const struct mbox_pmsg *m);

struct mbox_parser {
	/* private */
	int state;
	uint64_t off, nmsgs, cl, cl_end, hdr_bytes;
	struct mbox_pmsg cur;
	char line[MBOX_LINE_KEEP];
	size_t kept, full;
	int prev;                /* last byte of the current line, -1 at its start */
	int prev_byte_before_lf;
	bool hidden, seen_received, last_lf, prev_cr, has_cl;
	int md5_kind;
	void *md5;               /* EVP_MD_CTX */
	mbox_peek_fn *peek;
	mbox_msg_fn *emit;
	void *ctx;
};

/* mbox_parse_init - start parsing a file from offset 0 */
void mbox_parse_init(struct mbox_parser *p, mbox_peek_fn *peek, mbox_msg_fn *emit, void *ctx);
/* mbox_parse_feed - the next n bytes of the file */
void mbox_parse_feed(struct mbox_parser *p, const char *data, size_t n);
/* mbox_parse_finish - the end of the file: emits the last message and releases the parser */
void mbox_parse_finish(struct mbox_parser *p);

/*
 * mbox_hdr_split - sort the header lines of raw[0..n) (no empty line): the
 * lines a client sees are appended to visible; X-Status and X-Keywords (kept
 * when the file is rewritten) to keep (may be NULL); X-IMAPbase, X-IMAP,
 * X-UID, Status and Content-Length are dropped. Continuation lines go with
 * their header. 0, or -1 when an output buffer is full.
 */
int mbox_hdr_split(const char *raw, size_t n, struct buf *visible, struct buf *keep);

/* mbox_from_line_valid - does line[0..n) (a line starting "From ") look like a From_ line? */
bool mbox_from_line_valid(const char *line, size_t n);

#endif
