/*
 * dlvproto.h - the queue manager <-> delivery agent protocol (private/virtual, private/local)
 *
 * One unix stream connection carries any number of request/reply pairs, in
 * order: the queue manager writes a request for one recipient of one queue
 * file, the agent answers with one reply. Every message is a frame:
 *
 *     u32 length (big endian, 2 .. DLVPROTO_FRAME_MAX)  then `length` body bytes
 *     body: u8 type ('Q' request, 'A' reply), u8 version (DLVPROTO_VERSION), fields
 *
 *     request 'Q': str queue id, str queue name, u32 recipient index,
 *                  str final address, str original address, u8 flags
 *     reply   'A': u8 status ('O' ok, 'D' defer, 'B' bounce), str DSN code, str text,
 *                  str forward queue id ("" or the id of a staged forward: qstore.h)
 *
 * A "str" is a u16 big-endian length and that many bytes, never NUL. Every field
 * has a bound (DLVPROTO_*_MAX), identifiers and codes have a grammar (queue id
 * [0-9A-Za-z], queue name a qstore queue, DSN "C.S.D" with the class matching the
 * status), and the decoder fails unless it used exactly the whole body (strict
 * decode, as OpenSMTPD's m_end()). Both peers are Postern processes, so a message
 * that fails to decode is a bug or an attack: callers treat it as fatal.
 *
 * No I/O here: dlvproto_put_*() append frames to a buf; dlvproto_frame() tells
 * whether a buffer holds a whole frame; dlvproto_get_*() decode one body.
 *
 * Runs in:  qmgr (mail_owner), virtual and local (root, effective ids switched per delivery)
 * Tests:    tests/unit/test_dlvproto.c
 * Refs:     OpenSMTPD mproc.c (m_get_*, m_end), Postfix attr_scan.c (ATTR_FLAG_STRICT)
 */
#ifndef POSTERN_DLVPROTO_H
#define POSTERN_DLVPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"

#define DLVPROTO_VERSION 2
#define DLVPROTO_FRAME_MAX 4096 /* largest body */
#define DLVPROTO_ID_MAX 32      /* queue id (QFILE_ID_MAX) */
#define DLVPROTO_QNAME_MAX 16
#define DLVPROTO_ADDR_MAX 1024  /* addresses */
#define DLVPROTO_DSN_MAX 11     /* "5.999.999" */
#define DLVPROTO_TEXT_MAX 600   /* reply text (struct dlv_result.text) */
#define DLVPROTO_RCPT_MAX 100000u

/*
 * Request flags. RECHECK: this recipient may have been delivered already (its
 * message was recovered after a crash, or an earlier pass delivered part of
 * its aliases): the agent looks for the copy an earlier attempt left before it
 * writes another (maildir.h, mbox.h).
 */
#define DLVPROTO_F_RECHECK 0x1
#define DLVPROTO_F_MASK 0x1

enum dlvproto_status {
	DLVPROTO_OK = 'O',     /* delivered: 2.x.x */
	DLVPROTO_DEFER = 'D',  /* try again later: 4.x.x */
	DLVPROTO_BOUNCE = 'B', /* permanent failure: 5.x.x */
};

struct dlvproto_request {
	const char *queue_id;
	const char *queue_name; /* "active", ... */
	uint32_t rcpt;          /* index in the queue file's recipients */
	const char *addr;       /* final address (after virtual_alias_maps) */
	const char *orig;       /* the address as received */
	unsigned flags;         /* DLVPROTO_F_* */
};

struct dlvproto_reply {
	enum dlvproto_status status;
	const char *dsn;  /* "2.0.0", "4.2.0", "5.1.1", ... */
	const char *text; /* "delivered to maildir", ... */
	const char *forward_id; /* "" or a queue id staged by the agent (local forwarding): the
				 * queue manager releases it once this recipient's mark is durable */
};

/*
 * dlvproto_put_request - append a request frame to b. Returns 0, or -1 when a field
 * breaks its bound or grammar, or b's maximum would be passed (b unchanged).
 */
int dlvproto_put_request(struct buf *b, const struct dlvproto_request *r);
/*
 * dlvproto_put_reply - append a reply frame to b (a text over DLVPROTO_TEXT_MAX is cut,
 * a NUL ends it early). 0, or -1 as above (bad status or DSN for the status).
 */
int dlvproto_put_reply(struct buf *b, const struct dlvproto_reply *r);
/*
 * dlvproto_frame - does p[0..n) start with a whole frame? 1 yes (*body_r, *body_len_r
 * point into p; *frame_len_r = 4 + body length), 0 need more bytes, -1 bad length
 * (*error_r).
 */
int dlvproto_frame(const void *p, size_t n, const uint8_t **body_r, size_t *body_len_r, size_t *frame_len_r,
		   const char **error_r);
/*
 * dlvproto_get_request - decode a request body (strings copied into a). 0, or -1 with
 * *error_r (wrong type or version, a field out of bounds, bytes left over, ...).
 */
int dlvproto_get_request(const uint8_t *body, size_t n, struct arena *a, struct dlvproto_request *r,
			 const char **error_r);
/* dlvproto_get_reply - decode a reply body; 0, or -1 with *error_r */
int dlvproto_get_reply(const uint8_t *body, size_t n, struct arena *a, struct dlvproto_reply *r,
		       const char **error_r);

#endif
