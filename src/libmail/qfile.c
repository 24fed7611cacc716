/*
 * qfile.c - queue file records: encoder and strict decoder
 *
 * Runs in:  smtpd (writes via qstore), qmgr and delivery agents (read), postern queue;
 *           a queue file is trusted less than memory: it may be truncated by a crash or
 *           damaged on disk, so every byte is checked before use
 * API:      qfile_put_*(), qfile_encode(), qfile_status_encode(), qfile_decode()  -- see qfile.h
 * Tests:    tests/unit/test_qfile.c, fuzz/fuzz_qfile.c
 * Refs:     Postfix global/rec_type.h, global/record.c (typed records with lengths)
 *
 * The decoder walks forward with an explicit end pointer. A record header or
 * payload that runs past the end of the input means "incomplete" (a crash cut
 * the file, or it is still being written); anything else that does not fit
 * the format means "corrupt". Within a record that is fully present, a field
 * that runs past the record's own length is corrupt, not incomplete.
 */
#include "libmail/qfile.h"

#include <string.h>

#include "lib/log.h"
#include "lib/strutil.h"

/* --- encoding ------------------------------------------------------------------------- */

/* qfile_put_len - a u32 in big-endian order */
void qfile_put_len(uint8_t out[4], uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

/* put_u64 - append a big-endian u64 */
static int put_u64(struct buf *b, uint64_t v)
{
	uint8_t o[8];
	int i;

	for (i = 0; i < 8; i++)
		o[i] = (uint8_t)(v >> (56 - 8 * i));
	return buf_append(b, o, 8);
}

/* str_ok - may s be stored as a string field? */
static bool str_ok(const char *s)
{
	return s != NULL && strlen(s) <= QFILE_STR_MAX;
}

/* put_str - append a u16 length and the bytes of s */
static int put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t l[2] = { (uint8_t)(n >> 8), (uint8_t)n };

	if (buf_append(b, l, 2) != 0)
		return -1;
	return buf_append(b, s, n);
}

/* put_rec - append a record with payload p[0..n) */
static int put_rec(struct buf *b, char type, const void *p, size_t n)
{
	uint8_t h[QFILE_REC_HDR];

	h[0] = (uint8_t)type;
	qfile_put_len(h + 1, (uint32_t)n);
	if (buf_reserve(b, sizeof(h) + n) != 0)
		return -1;
	buf_append(b, h, sizeof(h));
	return buf_append(b, p, n);
}

/* id_ok - [0-9A-Za-z]{1,QFILE_ID_MAX} */
static bool id_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > QFILE_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!ascii_isalnum(p[i]))
			return false;
	return true;
}

/* dsn_ok - a DSN code of [0-9.] that fits the slot, empty only while pending */
static bool dsn_ok(enum qfile_rcpt_status st, const char *p, size_t n)
{
	size_t i;

	if (st == QFILE_RCPT_PENDING)
		return n == 0;
	if (n == 0 || n > QFILE_DSN_SIZE || !ascii_isdigit(p[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!ascii_isdigit(p[i]) && p[i] != '.')
			return false;
	return true;
}

/* status_ok - one of the four statuses */
static bool status_ok(int st)
{
	return st == QFILE_RCPT_PENDING || st == QFILE_RCPT_DEFERRED || st == QFILE_RCPT_DELIVERED ||
	       st == QFILE_RCPT_FAILED;
}

/* qfile_status_encode - build a fixed-size status slot */
int qfile_status_encode(uint8_t slot[QFILE_STATUS_SIZE], enum qfile_rcpt_status status, const char *dsn,
			const char *text)
{
	size_t dn = strlen(dsn), tn = text ? strnlen(text, QFILE_TEXT_MAX) : 0;

	if (!status_ok((int)status) || !dsn_ok(status, dsn, dn))
		return -1;
	memset(slot, 0, QFILE_STATUS_SIZE);
	slot[0] = (uint8_t)status;
	memcpy(slot + 1, dsn, dn);
	slot[1 + QFILE_DSN_SIZE] = (uint8_t)(tn >> 8);
	slot[2 + QFILE_DSN_SIZE] = (uint8_t)tn;
	if (tn)
		memcpy(slot + 3 + QFILE_DSN_SIZE, text, tn);
	return 0;
}

/* qfile_put_header - the magic line */
int qfile_put_header(struct buf *b)
{
	return buf_append(b, QFILE_MAGIC, QFILE_MAGIC_LEN);
}

/* qfile_put_envelope - records T I S C P */
int qfile_put_envelope(struct buf *b, const struct qfile_env *env)
{
	const struct qfile_client *c = &env->client;
	const struct qfile_params *pa = &env->params;
	size_t old = b->len;
	uint8_t t[8];
	struct buf tmp = BUF_INIT(QFILE_REC_MAX);
	int i, rc = -1;

	if (env->queue_id == NULL || !id_ok(env->queue_id, strlen(env->queue_id)) || !str_ok(env->sender) ||
	    !str_ok(c->addr) || !str_ok(c->name) || !str_ok(c->helo) || !str_ok(c->protocol) ||
	    !str_ok(c->sasl_user) || !str_ok(pa->envid) || (unsigned)pa->body > QFILE_BODY_BINARYMIME ||
	    (unsigned)pa->ret > QFILE_RET_HDRS)
		return -1;
	for (i = 0; i < 8; i++)
		t[i] = (uint8_t)(env->arrival_us >> (56 - 8 * i));
	if (put_rec(b, 'T', t, 8) != 0 || put_rec(b, 'I', env->queue_id, strlen(env->queue_id)) != 0 ||
	    put_rec(b, 'S', env->sender, strlen(env->sender)) != 0)
		goto out;
	if (put_str(&tmp, c->addr) || put_str(&tmp, c->name) || put_str(&tmp, c->helo) ||
	    put_str(&tmp, c->protocol) || put_str(&tmp, c->sasl_user) || put_rec(b, 'C', tmp.data, tmp.len))
		goto out;
	buf_reset(&tmp);
	if (buf_putc(&tmp, (char)pa->body) || buf_putc(&tmp, (char)(pa->smtputf8 ? 1 : 0)) ||
	    buf_putc(&tmp, (char)pa->ret) || put_str(&tmp, pa->envid) || put_rec(b, 'P', tmp.data, tmp.len))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		buf_truncate(b, old);
	buf_free(&tmp);
	return rc;
}

/* qfile_put_rcpt - one R record ending in its status slot */
int qfile_put_rcpt(struct buf *b, const struct qfile_rcpt *r)
{
	struct buf tmp = BUF_INIT(QFILE_REC_MAX);
	uint8_t slot[QFILE_STATUS_SIZE];
	int rc = -1;

	if (!str_ok(r->orig) || !str_ok(r->addr) || !str_ok(r->orcpt) || (r->notify & ~QFILE_NOTIFY_MASK) ||
	    qfile_status_encode(slot, r->status, r->dsn, r->text) != 0)
		return -1;
	if (buf_putc(&tmp, (char)r->notify) == 0 && put_str(&tmp, r->orig) == 0 && put_str(&tmp, r->addr) == 0 &&
	    put_str(&tmp, r->orcpt) == 0 && buf_append(&tmp, slot, sizeof(slot)) == 0)
		rc = put_rec(b, 'R', tmp.data, tmp.len);
	buf_free(&tmp);
	return rc;
}

/* qfile_put_content_start - M header with an unfinished length */
int qfile_put_content_start(struct buf *b, size_t *len_at_r)
{
	uint8_t h[QFILE_REC_HDR] = { 'M' };

	qfile_put_len(h + 1, QFILE_LEN_UNFINISHED);
	if (buf_append(b, h, sizeof(h)) != 0)
		return -1;
	*len_at_r = b->len - 4;
	return 0;
}

/* qfile_put_end - the E record */
int qfile_put_end(struct buf *b, uint32_t nrcpt, uint64_t content_size)
{
	uint8_t h[QFILE_REC_HDR + 4] = { 'E' };
	size_t old = b->len;

	if (content_size > QFILE_CONTENT_MAX)
		return -1;
	qfile_put_len(h + 1, 12);
	qfile_put_len(h + 5, nrcpt);
	if (buf_append(b, h, sizeof(h)) != 0 || put_u64(b, content_size) != 0) {
		buf_truncate(b, old);
		return -1;
	}
	return 0;
}

/* qfile_encode - a whole file */
int qfile_encode(struct buf *b, const struct qfile_env *env, const void *content, size_t n)
{
	size_t old = b->len, len_at, i;

	if (n > QFILE_CONTENT_MAX || env->nrcpt > UINT32_MAX || (n > 0 && ((const char *)content)[n - 1] != '\n'))
		return -1;
	if (qfile_put_header(b) != 0 || qfile_put_envelope(b, env) != 0)
		goto fail;
	for (i = 0; i < env->nrcpt; i++)
		if (qfile_put_rcpt(b, &env->rcpts[i]) != 0)
			goto fail;
	if (qfile_put_content_start(b, &len_at) != 0 || buf_append(b, content, n) != 0)
		goto fail;
	qfile_put_len((uint8_t *)b->data + len_at, (uint32_t)n);
	if (qfile_put_end(b, (uint32_t)env->nrcpt, n) != 0)
		goto fail;
	return 0;
fail:
	buf_truncate(b, old);
	return -1;
}

/* qfile_status_name - for logs and postern queue */
const char *qfile_status_name(enum qfile_rcpt_status s)
{
	switch (s) {
	case QFILE_RCPT_PENDING:
		return "pending";
	case QFILE_RCPT_DEFERRED:
		return "deferred";
	case QFILE_RCPT_DELIVERED:
		return "delivered";
	case QFILE_RCPT_FAILED:
		return "failed";
	}
	return "?";
}

/* --- decoding ------------------------------------------------------------------------- */

/* a cursor over one record's payload; any overrun is corruption */
struct cur {
	const uint8_t *p, *end;
	bool bad;
};

/* get_u8 - next byte */
static unsigned get_u8(struct cur *c)
{
	if (c->bad || c->end - c->p < 1) {
		c->bad = true;
		return 0;
	}
	return *c->p++;
}

/* get_u32 - next big-endian u32 */
static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* get_u64 - next big-endian u64 from the cursor */
static uint64_t get_u64(struct cur *c)
{
	uint64_t v = 0;
	int i;

	if (c->bad || c->end - c->p < 8) {
		c->bad = true;
		return 0;
	}
	for (i = 0; i < 8; i++)
		v = v << 8 | c->p[i];
	c->p += 8;
	return v;
}

/* dup_nonul - copy n bytes into the arena; NULL when they contain NUL */
static const char *dup_nonul(struct arena *a, const uint8_t *p, size_t n)
{
	if (n && memchr(p, '\0', n) != NULL)
		return NULL;
	return arena_memdup(a, p, n);
}

/* get_str - next u16-length string */
static const char *get_str(struct cur *c, struct arena *a)
{
	size_t n;
	const char *s;

	if (c->bad || c->end - c->p < 2) {
		c->bad = true;
		return "";
	}
	n = (size_t)c->p[0] << 8 | c->p[1];
	c->p += 2;
	if ((size_t)(c->end - c->p) < n || (s = dup_nonul(a, c->p, n)) == NULL) {
		c->bad = true;
		return "";
	}
	c->p += n;
	return s;
}

/* decode_status - the fixed-size slot at p; 0 or -1 */
static int decode_status(const uint8_t *p, struct qfile_rcpt *r, struct arena *a)
{
	size_t dn, tn, i;

	if (!status_ok(p[0]))
		return -1;
	r->status = (enum qfile_rcpt_status)p[0];
	dn = strnlen((const char *)p + 1, QFILE_DSN_SIZE);
	for (i = dn; i < QFILE_DSN_SIZE; i++)
		if (p[1 + i] != 0)
			return -1;
	if (!dsn_ok(r->status, (const char *)p + 1, dn))
		return -1;
	memcpy(r->dsn, p + 1, dn);
	r->dsn[dn] = '\0';
	tn = (size_t)p[1 + QFILE_DSN_SIZE] << 8 | p[2 + QFILE_DSN_SIZE];
	p += 3 + QFILE_DSN_SIZE;
	if (tn > QFILE_TEXT_MAX)
		return -1;
	for (i = tn; i < QFILE_TEXT_MAX; i++)
		if (p[i] != 0)
			return -1;
	if ((r->text = dup_nonul(a, p, tn)) == NULL)
		return -1;
	return 0;
}

/* the record each position expects; R repeats, then M, then E */
static const char qfile_order[] = "TISCPRME";

/* qfile_decode - strict decoder: 1 complete, 0 incomplete, -1 corrupt */
int qfile_decode(const void *data, size_t n, struct arena *a, struct qfile_env *env, const char **error_r)
{
	const uint8_t *base = data, *p = base, *end = base + n;
	size_t pos = 0, rcap = 0, off;
	uint64_t ne;
	uint32_t len, nr;
	struct cur c;

	memset(env, 0, sizeof(*env));
	if (n < QFILE_MAGIC_LEN) {
		if (n > 0 && memcmp(base, QFILE_MAGIC, n) != 0)
			goto bad_magic;
		*error_r = arena_printf(a, "incomplete queue file: %zu bytes", n);
		return 0;
	}
	if (memcmp(base, QFILE_MAGIC, QFILE_MAGIC_LEN) != 0)
		goto bad_magic;
	p += QFILE_MAGIC_LEN;
	for (;;) {
		char type;

		off = (size_t)(p - base);
		if (pos == sizeof(qfile_order) - 1) { /* after E */
			if (p == end)
				break;
			*error_r = arena_printf(a, "corrupt queue file: data after the end record at offset %zu", off);
			return -1;
		}
		if (end - p < QFILE_REC_HDR) {
			*error_r = arena_printf(a, "incomplete queue file: truncated at offset %zu", n);
			return 0;
		}
		type = (char)p[0];
		len = get_u32(p + 1);
		/* R may be absent or repeat; every other record exactly once, in order */
		if (qfile_order[pos] == 'R' && type == 'M')
			pos++;
		if (type != qfile_order[pos]) {
			if (strchr(qfile_order, type) == NULL || type == '\0')
				*error_r = arena_printf(a, "corrupt queue file: unknown record type 0x%02x at offset %zu",
							(unsigned)(uint8_t)type, off);
			else
				*error_r = arena_printf(a, "corrupt queue file: record '%c' out of order at offset %zu",
							type, off);
			return -1;
		}
		if (type != 'M' && len > QFILE_REC_MAX) {
			*error_r = arena_printf(a, "corrupt queue file: record '%c' length %u at offset %zu", type,
						(unsigned)len, off);
			return -1;
		}
		p += QFILE_REC_HDR;
		if ((uint64_t)(end - p) < len || len == QFILE_LEN_UNFINISHED) {
			*error_r = arena_printf(a, "incomplete queue file: record '%c' at offset %zu needs %u bytes",
						type, off, (unsigned)len);
			return 0;
		}
		c.p = p;
		c.end = p + len;
		c.bad = false;
		switch (type) {
		case 'T':
			env->arrival_us = get_u64(&c);
			break;
		case 'I':
			if (!id_ok((const char *)p, len))
				c.bad = true;
			else
				env->queue_id = arena_memdup(a, p, len);
			c.p = c.end;
			break;
		case 'S':
			if ((env->sender = dup_nonul(a, p, len)) == NULL)
				c.bad = true;
			c.p = c.end;
			break;
		case 'C':
			env->client.addr = get_str(&c, a);
			env->client.name = get_str(&c, a);
			env->client.helo = get_str(&c, a);
			env->client.protocol = get_str(&c, a);
			env->client.sasl_user = get_str(&c, a);
			break;
		case 'P': {
			unsigned body = get_u8(&c), utf8 = get_u8(&c), ret = get_u8(&c);

			if (body > QFILE_BODY_BINARYMIME || utf8 > 1 || ret > QFILE_RET_HDRS)
				c.bad = true;
			env->params.body = (enum qfile_body)body;
			env->params.smtputf8 = utf8 == 1;
			env->params.ret = (enum qfile_ret)ret;
			env->params.envid = get_str(&c, a);
			break;
		}
		case 'R': {
			struct qfile_rcpt *r;

			if (env->nrcpt == rcap) {
				struct qfile_rcpt *nrs;

				rcap = rcap ? 2 * rcap : 8;
				nrs = arena_alloc(a, rcap * sizeof(*nrs));
				if (env->nrcpt)
					memcpy(nrs, env->rcpts, env->nrcpt * sizeof(*nrs));
				env->rcpts = nrs;
			}
			r = &env->rcpts[env->nrcpt++];
			memset(r, 0, sizeof(*r));
			r->notify = get_u8(&c);
			r->orig = get_str(&c, a);
			r->addr = get_str(&c, a);
			r->orcpt = get_str(&c, a);
			if (r->notify & ~QFILE_NOTIFY_MASK)
				c.bad = true;
			if (!c.bad && c.end - c.p == QFILE_STATUS_SIZE) {
				r->status_offset = (uint64_t)(c.p - base);
				if (decode_status(c.p, r, a) != 0)
					c.bad = true;
				c.p = c.end;
			} else {
				c.bad = true;
			}
			break;
		}
		case 'M':
			if (len > 0 && p[len - 1] != '\n')
				c.bad = true;
			env->content_offset = (uint64_t)(p - base);
			env->content_size = len;
			c.p = c.end;
			break;
		case 'E':
			nr = get_u8(&c) << 24;
			nr |= get_u8(&c) << 16;
			nr |= get_u8(&c) << 8;
			nr |= get_u8(&c);
			ne = get_u64(&c);
			if (!c.bad && (nr != env->nrcpt || ne != env->content_size)) {
				*error_r = arena_printf(a, "corrupt queue file: end record counts %u recipients, %llu "
							   "bytes; found %zu, %llu", (unsigned)nr,
							(unsigned long long)ne, env->nrcpt,
							(unsigned long long)env->content_size);
				return -1;
			}
			break;
		default:
			panic("qfile_decode: bad record type %d", type);
		}
		if (c.bad || c.p != c.end) {
			*error_r = arena_printf(a, "corrupt queue file: bad record '%c' at offset %zu", type, off);
			return -1;
		}
		p = c.end;
		if (type != 'R')
			pos++;
	}
	return 1;
bad_magic:
	*error_r = "corrupt queue file: bad magic (not a Postern queue file, or another version)";
	return -1;
}
