/*
 * qfile.h - the queue file format: encode and strictly decode (no I/O)
 *
 * One queue file holds one message: envelope, per-recipient status and
 * content. Learned from Postfix's record format (rec_type.h): typed records
 * with explicit lengths, every length checked, unknown types rejected, and a
 * mandatory end record so that a half-written file is never taken for a
 * complete one. The layout is binary and versioned:
 *
 *     "POSTERN-QUEUE 1\n"            magic and version (QFILE_MAGIC, 16 bytes)
 *     record*                        type (1 byte) + length (4 bytes, big endian) + payload
 *
 * The records come in this order, each exactly once unless marked *:
 *
 *     'T' arrival     u64 microseconds since the epoch (8 bytes)
 *     'I' queue id    1..QFILE_ID_MAX bytes of [0-9A-Za-z]
 *     'S' sender      the envelope sender, empty for the null sender <>
 *     'C' client      five strings: addr, name, helo, protocol, sasl user
 *     'P' params      u8 BODY, u8 SMTPUTF8 (0/1), u8 RET, string ENVID
 *     'R' recipient*  u8 NOTIFY mask, strings orig (as given in RCPT TO),
 *                     addr (final, after alias expansion), orcpt (ORCPT=
 *                     value), then a fixed-size status slot (see below)
 *     'M' content     the message bytes, LF-terminated lines (empty, or the
 *                     last byte is LF); the reader copies them from the file
 *                     at env->content_offset without parsing them
 *     'E' end         u32 recipient count, u64 content size (both must match)
 *
 * A "string" inside a record is a u16 big-endian length and that many bytes;
 * the single-string records (I, S) are the payload itself. Strings never
 * contain NUL (decoded strings are C strings). Nothing may follow 'E'.
 *
 * Writing incrementally: the 'M' length is not known while the content streams
 * in, so the writer first writes QFILE_LEN_UNFINISHED (0xffffffff) and patches
 * the real length (at most QFILE_CONTENT_MAX) before it writes 'E'. An
 * unfinished length runs past the end of any real file, so it decodes as
 * "incomplete", as does a file cut anywhere before the end of 'E'.
 *
 * Recipient status: updated IN PLACE (as Postfix marks done recipients in
 * place). The status slot is the last QFILE_STATUS_SIZE bytes of an 'R'
 * payload and has a fixed size: u8 status ('P' pending, 'W' deferred, 'D'
 * delivered, 'F' failed), the DSN code (QFILE_DSN_SIZE bytes, [0-9.], NUL
 * padded), u16 text length, text (QFILE_TEXT_MAX bytes, NUL padded; longer
 * texts are cut). The decoder reports each slot's file offset (status_offset)
 * and qfile_status_encode() builds a new slot, so one pwrite() + fdatasync()
 * records an outcome. A torn slot write after a crash still decodes (every
 * byte of a slot is checked), it can only leave the old status: delivery is
 * at least once, never lost.
 *
 * Decoder results follow the parser convention: 1 complete, 0 incomplete
 * (truncated: the error says "incomplete"), -1 corrupt. Decoded strings and
 * the recipient array live in the caller's arena; the input may be freed.
 *
 * Tests:    tests/unit/test_qfile.c, fuzz/fuzz_qfile.c
 * Refs:     Postfix global/rec_type.h, global/mail_stream.c; RFC 3461 (NOTIFY, ORCPT, RET, ENVID),
 *           RFC 6152 (8BITMIME), RFC 3030 (BINARYMIME), RFC 6531 (SMTPUTF8)
 */
#ifndef POSTERN_QFILE_H
#define POSTERN_QFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"

#define QFILE_MAGIC "POSTERN-QUEUE 1\n"
#define QFILE_MAGIC_LEN 16
#define QFILE_REC_HDR 5                /* type + u32 length */
#define QFILE_LEN_UNFINISHED 0xffffffffu
#define QFILE_CONTENT_MAX 0xfffffffeu  /* largest content */
#define QFILE_REC_MAX (1u << 20)       /* largest non-content record */
#define QFILE_STR_MAX 65535u           /* longest string */
#define QFILE_ID_MAX 32
#define QFILE_DSN_SIZE 12
#define QFILE_TEXT_MAX 300
#define QFILE_STATUS_SIZE (1 + QFILE_DSN_SIZE + 2 + QFILE_TEXT_MAX)

enum qfile_body { QFILE_BODY_NONE = 0, QFILE_BODY_7BIT, QFILE_BODY_8BITMIME, QFILE_BODY_BINARYMIME };
enum qfile_ret { QFILE_RET_NONE = 0, QFILE_RET_FULL, QFILE_RET_HDRS };

/* NOTIFY= (RFC 3461); 0 means the parameter was not given */
#define QFILE_NOTIFY_NEVER 0x1
#define QFILE_NOTIFY_SUCCESS 0x2
#define QFILE_NOTIFY_FAILURE 0x4
#define QFILE_NOTIFY_DELAY 0x8
#define QFILE_NOTIFY_MASK 0xf

enum qfile_rcpt_status {
	QFILE_RCPT_PENDING = 'P',   /* not yet tried */
	QFILE_RCPT_DEFERRED = 'W',  /* tried, failed temporarily: dsn 4.x.y, text says why */
	QFILE_RCPT_DELIVERED = 'D', /* done: do not deliver again */
	QFILE_RCPT_FAILED = 'F',    /* done: permanent failure, dsn 5.x.y (bounce) */
};

struct qfile_client {
	const char *addr;      /* "192.0.2.1", "" when local */
	const char *name;      /* reverse name or "unknown" */
	const char *helo;      /* HELO/EHLO argument, "" when none */
	const char *protocol;  /* "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "local" ... */
	const char *sasl_user; /* "" when not authenticated */
};

struct qfile_params {
	enum qfile_body body;
	bool smtputf8;
	enum qfile_ret ret;
	const char *envid; /* ENVID= as given (xtext), "" when none */
};

struct qfile_rcpt {
	const char *orig;  /* the address as given in RCPT TO */
	const char *addr;  /* the final address to deliver to */
	const char *orcpt; /* ORCPT= value, "" when none */
	unsigned notify;   /* QFILE_NOTIFY_* bits */
	enum qfile_rcpt_status status;
	char dsn[QFILE_DSN_SIZE + 1]; /* "" while pending, else "2.0.0", "4.2.0", ... */
	const char *text;             /* "" or the outcome ("delivered to maildir", ...) */
	uint64_t status_offset;       /* decoder: file offset of the status slot */
};

struct qfile_env {
	uint64_t arrival_us;
	const char *queue_id;
	const char *sender; /* "" for <> */
	struct qfile_client client;
	struct qfile_params params;
	struct qfile_rcpt *rcpts;
	size_t nrcpt;
	uint64_t content_offset; /* decoder: file offset of the first content byte */
	uint64_t content_size;   /* decoder: content bytes (the message size) */
};

/*
 * Encoding. Each qfile_put_* appends to b and returns 0, or -1 when an argument
 * breaks the format (a string with NUL or over QFILE_STR_MAX, a bad queue id
 * or DSN code, a status not in the enum) or b's maximum would be passed; b is
 * then unchanged. A whole file is: header, envelope, rcpt*, content start,
 * content bytes, patched length, end.
 */
/* qfile_put_header - the magic line */
int qfile_put_header(struct buf *b);
/* qfile_put_envelope - records T I S C P from env (rcpts and content fields are ignored) */
int qfile_put_envelope(struct buf *b, const struct qfile_env *env);
/* qfile_put_rcpt - one R record; its status slot is the last QFILE_STATUS_SIZE bytes appended */
int qfile_put_rcpt(struct buf *b, const struct qfile_rcpt *r);
/*
 * qfile_put_content_start - the M record header with QFILE_LEN_UNFINISHED; *len_at_r is the
 * offset in b of the 4 length bytes: overwrite them with qfile_put_len() once the size is known
 */
int qfile_put_content_start(struct buf *b, size_t *len_at_r);
/* qfile_put_len - encode a record length (big endian) into out */
void qfile_put_len(uint8_t out[4], uint32_t len);
/* qfile_put_end - the E record; content_size <= QFILE_CONTENT_MAX */
int qfile_put_end(struct buf *b, uint32_t nrcpt, uint64_t content_size);
/*
 * qfile_status_encode - a status slot for an in-place update: dsn must be "" for
 * QFILE_RCPT_PENDING, else a code like "4.2.0"; text longer than QFILE_TEXT_MAX is cut, NULs
 * end it early. Returns 0, or -1 for a bad status or DSN code.
 */
int qfile_status_encode(uint8_t slot[QFILE_STATUS_SIZE], enum qfile_rcpt_status status, const char *dsn,
			const char *text);
/*
 * qfile_encode - a whole file in one go (tests, tools): env with its rcpts and
 * content[0..n) (n <= QFILE_CONTENT_MAX; must be empty or end in LF). 0 or -1 as above.
 */
int qfile_encode(struct buf *b, const struct qfile_env *env, const void *content, size_t n);

/*
 * qfile_decode - decode the n bytes of a whole queue file into *env (strings and
 * rcpts allocated from a). Returns 1 when the file is complete and valid; 0 when it
 * is a proper prefix of a valid file, or its M length is unfinished (*error_r says
 * "incomplete ..."); -1 when it is corrupt (*error_r says what and at which offset).
 * The content itself is not copied: it is at env->content_offset, env->content_size bytes.
 */
int qfile_decode(const void *p, size_t n, struct arena *a, struct qfile_env *env, const char **error_r);

/* qfile_status_name - "pending", "deferred", "delivered", "failed", or "?" */
const char *qfile_status_name(enum qfile_rcpt_status s);

#endif
