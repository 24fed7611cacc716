/*
 * dlvproto.c - encode and strictly decode qmgr <-> delivery agent frames
 *
 * Runs in:  qmgr, virtual (input comes from the other Postern process)
 * API:      dlvproto_put_request(), dlvproto_put_reply(), dlvproto_frame(),
 *           dlvproto_get_request(), dlvproto_get_reply()  -- see dlvproto.h
 * Limits:   body <= DLVPROTO_FRAME_MAX, every field bounded (DLVPROTO_*_MAX)
 * Tests:    tests/unit/test_dlvproto.c
 */
#include <string.h>

#include "queue/dlvproto.h"

#define TYPE_REQUEST 'Q'
#define TYPE_REPLY 'A'

/* valid_id - a queue id: 1..DLVPROTO_ID_MAX of [0-9A-Za-z] */
static int valid_id(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > DLVPROTO_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return 0;
	}
	return 1;
}

/* valid_qname - a queue a delivery may read from */
static int valid_qname(const char *s, size_t n)
{
	static const char *const names[] = { "incoming", "active", "deferred", "hold", NULL };
	size_t i;

	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return 1;
	return 0;
}

/* valid_dsn - "C.S.D" with 1-3 digits for S and D, and C matching the status */
static int valid_dsn(const char *s, size_t n, enum dlvproto_status st)
{
	size_t i = 2, k;
	int part;

	if (n < 5 || n > DLVPROTO_DSN_MAX || s[1] != '.')
		return 0;
	if (!((st == DLVPROTO_OK && s[0] == '2') || (st == DLVPROTO_DEFER && s[0] == '4') ||
	      (st == DLVPROTO_BOUNCE && s[0] == '5')))
		return 0;
	for (part = 0; part < 2; part++) {
		for (k = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
			;
		if (k < 1 || k > 3)
			return 0;
		if (part == 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

/* valid_status - one of the enum's letters */
static int valid_status(int c)
{
	return c == DLVPROTO_OK || c == DLVPROTO_DEFER || c == DLVPROTO_BOUNCE;
}

/* put_str - a u16 length and the bytes (n <= max, no NUL) */
static int put_str(struct buf *b, const char *s, size_t n, size_t max)
{
	uint8_t l[2];

	if (n > max || memchr(s, '\0', n))
		return -1;
	l[0] = (uint8_t)(n >> 8);
	l[1] = (uint8_t)n;
	if (buf_append(b, l, 2) < 0 || buf_append(b, s, n) < 0)
		return -1;
	return 0;
}

/* frame_begin - remember where the frame starts and write its head */
static int frame_begin(struct buf *b, char type, size_t *start_r)
{
	uint8_t h[6] = { 0, 0, 0, 0, (uint8_t)type, DLVPROTO_VERSION };

	*start_r = b->len;
	return buf_append(b, h, sizeof(h));
}

/* frame_end - patch the length; on failure (or an oversize body) undo the frame */
static int frame_end(struct buf *b, size_t start, int ok)
{
	size_t body = b->len - start - 4;

	if (!ok || body > DLVPROTO_FRAME_MAX) {
		buf_truncate(b, start);
		return -1;
	}
	b->data[start] = (char)(body >> 24);
	b->data[start + 1] = (char)(body >> 16);
	b->data[start + 2] = (char)(body >> 8);
	b->data[start + 3] = (char)body;
	return 0;
}

/* dlvproto_put_request - append a request frame */
int dlvproto_put_request(struct buf *b, const struct dlvproto_request *r)
{
	size_t start;
	uint8_t n[4] = { (uint8_t)(r->rcpt >> 24), (uint8_t)(r->rcpt >> 16), (uint8_t)(r->rcpt >> 8),
			 (uint8_t)r->rcpt };
	int ok;

	uint8_t fl = (uint8_t)r->flags;

	if (!valid_id(r->queue_id, strlen(r->queue_id)) || !valid_qname(r->queue_name, strlen(r->queue_name)) ||
	    r->rcpt >= DLVPROTO_RCPT_MAX || (r->flags & ~(unsigned)DLVPROTO_F_MASK))
		return -1;
	if (frame_begin(b, TYPE_REQUEST, &start) < 0)
		return -1;
	ok = put_str(b, r->queue_id, strlen(r->queue_id), DLVPROTO_ID_MAX) == 0 &&
	     put_str(b, r->queue_name, strlen(r->queue_name), DLVPROTO_QNAME_MAX) == 0 &&
	     buf_append(b, n, 4) == 0 && put_str(b, r->addr, strlen(r->addr), DLVPROTO_ADDR_MAX) == 0 &&
	     put_str(b, r->orig, strlen(r->orig), DLVPROTO_ADDR_MAX) == 0 && buf_append(b, &fl, 1) == 0;
	return frame_end(b, start, ok);
}

/* dlvproto_put_reply - append a reply frame */
int dlvproto_put_reply(struct buf *b, const struct dlvproto_reply *r)
{
	size_t start, tn = strlen(r->text);
	uint8_t st = (uint8_t)r->status;
	int ok;

	const char *fwd = r->forward_id ? r->forward_id : "";

	if (!valid_status(r->status) || !valid_dsn(r->dsn, strlen(r->dsn), r->status) ||
	    (*fwd && !valid_id(fwd, strlen(fwd))))
		return -1;
	if (tn > DLVPROTO_TEXT_MAX)
		tn = DLVPROTO_TEXT_MAX;
	if (frame_begin(b, TYPE_REPLY, &start) < 0)
		return -1;
	ok = buf_append(b, &st, 1) == 0 && put_str(b, r->dsn, strlen(r->dsn), DLVPROTO_DSN_MAX) == 0 &&
	     put_str(b, r->text, tn, DLVPROTO_TEXT_MAX) == 0 && put_str(b, fwd, strlen(fwd), DLVPROTO_ID_MAX) == 0;
	return frame_end(b, start, ok);
}

/* dlvproto_frame - is there a whole frame at p? */
int dlvproto_frame(const void *p, size_t n, const uint8_t **body_r, size_t *body_len_r, size_t *frame_len_r,
		   const char **error_r)
{
	const uint8_t *u = p;
	uint32_t len;

	if (n < 4)
		return 0;
	len = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
	if (len < 2 || len > DLVPROTO_FRAME_MAX) {
		*error_r = "bad frame length";
		return -1;
	}
	if (n - 4 < len)
		return 0;
	*body_r = u + 4;
	*body_len_r = len;
	*frame_len_r = 4 + (size_t)len;
	return 1;
}

struct reader {
	const uint8_t *p;
	size_t n, off;
	const char *error;
};

/* get_u8 - one byte */
static int get_u8(struct reader *r, uint8_t *v, const char *what)
{
	if (r->n - r->off < 1) {
		r->error = what;
		return -1;
	}
	*v = r->p[r->off++];
	return 0;
}

/* get_u32 - four bytes, big endian */
static int get_u32(struct reader *r, uint32_t *v, const char *what)
{
	const uint8_t *u = r->p + r->off;

	if (r->n - r->off < 4) {
		r->error = what;
		return -1;
	}
	*v = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
	r->off += 4;
	return 0;
}

/* get_str - a u16-length string of at most max bytes without NUL, copied into a */
static int get_str(struct reader *r, struct arena *a, size_t max, const char **s, size_t *len_r, const char *what)
{
	size_t len;

	if (r->n - r->off < 2) {
		r->error = what;
		return -1;
	}
	len = (size_t)r->p[r->off] << 8 | r->p[r->off + 1];
	if (len > max || r->n - r->off - 2 < len || memchr(r->p + r->off + 2, '\0', len)) {
		r->error = what;
		return -1;
	}
	*s = arena_memdup(a, r->p + r->off + 2, len);
	*len_r = len;
	r->off += 2 + len;
	return 0;
}

/* get_head - type and version */
static int get_head(struct reader *r, char type)
{
	uint8_t t, v;

	if (get_u8(r, &t, "missing type") < 0 || get_u8(r, &v, "missing version") < 0)
		return -1;
	if (t != (uint8_t)type) {
		r->error = "unexpected message type";
		return -1;
	}
	if (v != DLVPROTO_VERSION) {
		r->error = "unsupported protocol version";
		return -1;
	}
	return 0;
}

/* get_end - the whole body was used (strict decode) */
static int get_end(struct reader *r)
{
	if (r->off != r->n) {
		r->error = "trailing bytes after the last field";
		return -1;
	}
	return 0;
}

/* dlvproto_get_request - decode a request body */
int dlvproto_get_request(const uint8_t *body, size_t n, struct arena *a, struct dlvproto_request *q,
			 const char **error_r)
{
	struct reader r = { body, n, 0, NULL };
	uint8_t fl;
	size_t len;

	if (get_head(&r, TYPE_REQUEST) < 0)
		goto bad;
	if (get_str(&r, a, DLVPROTO_ID_MAX, &q->queue_id, &len, "bad queue id") < 0)
		goto bad;
	if (!valid_id(q->queue_id, len)) {
		r.error = "bad queue id";
		goto bad;
	}
	if (get_str(&r, a, DLVPROTO_QNAME_MAX, &q->queue_name, &len, "bad queue name") < 0)
		goto bad;
	if (!valid_qname(q->queue_name, len)) {
		r.error = "bad queue name";
		goto bad;
	}
	if (get_u32(&r, &q->rcpt, "bad recipient index") < 0)
		goto bad;
	if (q->rcpt >= DLVPROTO_RCPT_MAX) {
		r.error = "bad recipient index";
		goto bad;
	}
	if (get_str(&r, a, DLVPROTO_ADDR_MAX, &q->addr, &len, "bad address") < 0 ||
	    get_str(&r, a, DLVPROTO_ADDR_MAX, &q->orig, &len, "bad original address") < 0 ||
	    get_u8(&r, &fl, "missing flags") < 0)
		goto bad;
	if (fl & ~DLVPROTO_F_MASK) {
		r.error = "unknown flags";
		goto bad;
	}
	q->flags = fl;
	if (get_end(&r) < 0)
		goto bad;
	return 0;
bad:
	*error_r = r.error;
	return -1;
}

/* dlvproto_get_reply - decode a reply body */
int dlvproto_get_reply(const uint8_t *body, size_t n, struct arena *a, struct dlvproto_reply *p,
		       const char **error_r)
{
	struct reader r = { body, n, 0, NULL };
	uint8_t st;
	size_t len;

	if (get_head(&r, TYPE_REPLY) < 0 || get_u8(&r, &st, "missing status") < 0)
		goto bad;
	if (!valid_status(st)) {
		r.error = "bad status";
		goto bad;
	}
	p->status = (enum dlvproto_status)st;
	if (get_str(&r, a, DLVPROTO_DSN_MAX, &p->dsn, &len, "bad dsn code") < 0)
		goto bad;
	if (!valid_dsn(p->dsn, len, p->status)) {
		r.error = "bad dsn code";
		goto bad;
	}
	if (get_str(&r, a, DLVPROTO_TEXT_MAX, &p->text, &len, "bad text") < 0 ||
	    get_str(&r, a, DLVPROTO_ID_MAX, &p->forward_id, &len, "bad forward id") < 0)
		goto bad;
	if (len && !valid_id(p->forward_id, len)) {
		r.error = "bad forward id";
		goto bad;
	}
	if (get_end(&r) < 0)
		goto bad;
	return 0;
bad:
	*error_r = r.error;
	return -1;
}
