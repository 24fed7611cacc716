/*
 * mbox_parse.c - split an mbox file into messages, Dovecot's way (see mbox_parse.h)
 *
 * The parser sees the file one line at a time (a line is kept up to
 * MBOX_LINE_KEEP bytes; only its length counts beyond that), so memory stays
 * bounded whatever the size of the file or of a line.
 *
 * Runs in:  the mail store; input is UNTRUSTED (mail content)
 * API:      see mbox_parse.h
 * Tests:    tests/unit/test_mbox_parse.c, fuzz/fuzz_mbox.c
 * Refs:     Dovecot's mbox documentation; Dovecot's apop3d header MD5 (from popa3d)
 */
#include "libmail/mbox_parse.h"

#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "lib/log.h"

enum { ST_START, ST_HEADER, ST_BODY };
enum { MD5_NONE, MD5_DATE, MD5_ALWAYS, MD5_MSGID, MD5_RECEIVED };

/* the headers Dovecot keeps for itself; keep: preserved when the file is rewritten */
static const struct {
	const char *name;
	bool keep;
} internal_hdrs[] = {
	{ "X-IMAPbase", false }, { "X-IMAP", false },	 { "X-UID", false },	    { "Status", false },
	{ "X-Status", true },	 { "X-Keywords", true }, { "Content-Length", false },
};

/* internal_index - the index of an internal header name, or -1 */
static int internal_index(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(internal_hdrs) / sizeof(internal_hdrs[0]); i++)
		if (strlen(internal_hdrs[i].name) == len && strncasecmp(name, internal_hdrs[i].name, len) == 0)
			return (int)i;
	return -1;
}

/* name_len - the length of the header name of a line ("Name:" or "Name :"), or 0 when it has none */
static size_t name_len(const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n && s[i] != ':' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
		i++;
	for (j = i; j < n && (s[j] == ' ' || s[j] == '\t'); j++)
		;
	return i > 0 && j < n && s[j] == ':' ? i : 0;
}

/* mbox_from_line_valid - "From " + a sender + something with a time (hh:mm) */
bool mbox_from_line_valid(const char *line, size_t n)
{
	size_t i = 5;

	if (n < 5 || memcmp(line, "From ", 5) != 0)
		return false;
	while (i < n && line[i] == ' ')
		i++;
	while (i < n && line[i] != ' ' && line[i] != '\n')
		i++; /* the sender */
	for (; i + 4 < n && line[i] != '\n'; i++)
		if (line[i] >= '0' && line[i] <= '9' && line[i + 1] >= '0' && line[i + 1] <= '9' && line[i + 2] == ':' &&
		    line[i + 3] >= '0' && line[i + 3] <= '9' && line[i + 4] >= '0' && line[i + 4] <= '9')
			return true;
	return false;
}

/* parse_u64 - a decimal number at s (leading blanks skipped); false when there is none */
static bool parse_u64(const char *s, size_t n, size_t *pos, uint64_t *v)
{
	size_t i = *pos;
	uint64_t x = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i++] - '0');
	}
	*pos = i;
	*v = x;
	return true;
}

/* value_of - the value of a header line: after the colon and blanks, without the line end */
static void value_of(const char *s, size_t n, size_t nl, const char **v, size_t *vn)
{
	size_t i = nl;

	while (i < n && s[i] != ':')
		i++;
	if (i < n)
		i++;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (n > i && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	*v = s + i;
	*vn = n - i;
}

/* md5_add - update the header MD5 */
static void md5_add(struct mbox_parser *p, const char *s, size_t n)
{
	if (n > 0)
		(void)EVP_DigestUpdate(p->md5, s, n);
}

/* md5_header - Dovecot's apop3d choice of what a header line adds to the MD5 */
static void md5_header(struct mbox_parser *p, const char *v, size_t vn)
{
	switch (p->md5_kind) {
	case MD5_NONE:
		break;
	case MD5_DATE:
	case MD5_MSGID:
	case MD5_RECEIVED:
		if (!p->seen_received)
			md5_add(p, v, vn);
		break;
	case MD5_ALWAYS:
		md5_add(p, v, vn);
		break;
	default:
		panic("mbox_parse: bad md5 kind %d", p->md5_kind);
	}
}

/* end_header_field - a header field ended: after the first Received, Date and Message-ID no longer count */
static void end_header_field(struct mbox_parser *p)
{
	if (p->md5_kind == MD5_RECEIVED)
		p->seen_received = true;
	p->md5_kind = MD5_NONE;
}

/* start_msg - a From_ line at off of length full */
static void start_msg(struct mbox_parser *p, uint64_t off, size_t full)
{
	memset(&p->cur, 0, sizeof(p->cur));
	p->cur.from_off = off;
	p->cur.hdr_off = off + full;
	p->state = ST_HEADER;
	p->hdr_bytes = 0;
	p->hidden = false;
	p->seen_received = false;
	p->md5_kind = MD5_NONE;
	p->has_cl = false;
	p->cl_end = 0;
	(void)EVP_DigestInit_ex(p->md5, EVP_md5(), NULL);
}

/* end_msg - the message ends where the next starts (or the file ends) at next */
static void end_msg(struct mbox_parser *p, uint64_t next)
{
	struct mbox_pmsg *m = &p->cur;
	unsigned len = 0;

	if (p->state == ST_HEADER) {
		end_header_field(p);
		m->hdr_end = m->body_off = m->end = next;
	} else {
		m->end = next;
		if (p->last_lf && m->end > m->body_off) {
			/* the line end before the next From_ (or at the end of the file) separates */
			m->end--;
			if (p->prev_cr && m->end > m->body_off)
				m->end--;
			m->body_vsize = m->body_vsize >= 2 ? m->body_vsize - 2 : 0;
		}
	}
	(void)EVP_DigestFinal_ex(p->md5, m->md5, &len);
	p->emit(p->ctx, m);
	p->nmsgs++;
	p->state = ST_START;
}

/* header_end_found - the empty line at off (full bytes) ends the header */
static void header_end_found(struct mbox_parser *p, uint64_t off, size_t full)
{
	struct mbox_pmsg *m = &p->cur;

	end_header_field(p);
	m->hdr_end = off;
	m->body_off = off + full;
	m->hdr_vsize += 2;
	p->state = ST_BODY;
	p->cl_end = 0;
	if (p->has_cl && p->peek) {
		char b[6 + MBOX_LINE_KEEP];
		size_t got = 0;
		uint64_t target = m->body_off + p->cl;

		if (target >= m->body_off) {
			p->peek(p->ctx, target, b, sizeof(b), &got);
			/* honoured when the file ends there, or a separator and a From_ line follow */
			if (got == 0 || (got == 1 && b[0] == '\n') ||
			    (got > 6 && b[0] == '\n' && mbox_from_line_valid(b + 1, got - 1)))
				p->cl_end = target;
		}
	}
}

/* header_line - one header line (not empty, not a From_) */
static void header_line(struct mbox_parser *p, const char *s, size_t n, uint64_t vsize)
{
	struct mbox_pmsg *m = &p->cur;
	size_t nl;
	int idx;
	const char *v;
	size_t vn;

	if (s[0] == ' ' || s[0] == '\t') {
		/* a continuation: goes with its header */
		if (!p->hidden) {
			m->hdr_vsize += vsize;
			while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
				n--;
			md5_header(p, s, n);
		}
		return;
	}
	end_header_field(p);
	nl = name_len(s, n);
	idx = nl ? internal_index(s, nl) : -1;
	p->hidden = idx >= 0;
	if (!p->hidden) {
		m->hdr_vsize += vsize;
		if (nl == 4 && strncasecmp(s, "Date", 4) == 0)
			p->md5_kind = MD5_DATE;
		else if ((nl == 12 && strncasecmp(s, "Delivered-To", 12) == 0) ||
			 (nl == 13 && strncasecmp(s, "X-Delivery-ID", 13) == 0))
			p->md5_kind = MD5_ALWAYS;
		else if (nl == 10 && strncasecmp(s, "Message-ID", 10) == 0)
			p->md5_kind = MD5_MSGID;
		else if (nl == 8 && strncasecmp(s, "Received", 8) == 0)
			p->md5_kind = p->seen_received ? MD5_NONE : MD5_RECEIVED;
		if (p->md5_kind != MD5_NONE) {
			value_of(s, n, nl, &v, &vn);
			md5_header(p, v, vn);
		}
		return;
	}
	value_of(s, n, nl, &v, &vn);
	const char *name = internal_hdrs[idx].name;
	size_t pos = 0;
	uint64_t a, b;

	if (strcmp(name, "X-UID") == 0) {
		if (parse_u64(v, vn, &pos, &a) && a > 0 && a <= UINT32_MAX)
			m->uid = (uint32_t)a;
	} else if (strcmp(name, "X-IMAPbase") == 0 || strcmp(name, "X-IMAP") == 0) {
		if (p->nmsgs == 0 && !m->imapbase && parse_u64(v, vn, &pos, &a) && parse_u64(v, vn, &pos, &b) &&
		    a > 0 && a <= UINT32_MAX && b < UINT32_MAX) {
			m->imapbase = true;
			m->pseudo = strcmp(name, "X-IMAP") == 0;
			m->base_validity = (uint32_t)a;
			m->base_last_uid = (uint32_t)b;
		}
	} else if (strcmp(name, "Status") == 0) {
		size_t k = 0;

		for (size_t i = 0; i < vn && k + 1 < sizeof(m->status); i++)
			if (v[i] == 'R' || v[i] == 'O')
				m->status[k++] = v[i];
		m->status[k] = '\0';
	} else if (strcmp(name, "Content-Length") == 0) {
		if (parse_u64(v, vn, &pos, &a)) {
			p->has_cl = true;
			p->cl = a;
			m->has_cl = true;
		}
	}
}

/* do_line - one whole line s[0..kept) of full bytes at off; lf: it ends in LF */
static void do_line(struct mbox_parser *p, const char *s, size_t kept, size_t full, bool lf, bool cr, uint64_t off)
{
	bool from = kept >= 5 && memcmp(s, "From ", 5) == 0 && mbox_from_line_valid(s, kept);
	uint64_t vsize = full + (lf && !cr ? 1 : 0);

	switch (p->state) {
	case ST_START:
		if (from)
			start_msg(p, off, full);
		return; /* text before the first From_ line is not a message */
	case ST_HEADER:
		if (from) {
			end_msg(p, off);
			start_msg(p, off, full);
			return;
		}
		if (lf && (full == 1 || (full == 2 && s[0] == '\r'))) {
			header_end_found(p, off, full);
			return;
		}
		if (p->hdr_bytes + full > MBOX_HDR_MAX) {
			/* an oversized header: the rest is body */
			end_header_field(p);
			p->cur.hdr_end = p->cur.body_off = off;
			p->state = ST_BODY;
			p->cl_end = 0;
			break;
		}
		p->hdr_bytes += full;
		header_line(p, s, kept, vsize);
		return;
	case ST_BODY:
		break;
	default:
		panic("mbox_parse: bad state %d", p->state);
	}
	/* a body line */
	if (from && (p->cl_end == 0 || off > p->cl_end)) {
		end_msg(p, off);
		start_msg(p, off, full);
		return;
	}
	p->cur.body_vsize += vsize;
	p->last_lf = lf;
	p->prev_cr = cr;
}

/* mbox_parse_init - a parser at offset 0 */
void mbox_parse_init(struct mbox_parser *p, mbox_peek_fn *peek, mbox_msg_fn *emit, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->state = ST_START;
	p->prev = -1;
	p->peek = peek;
	p->emit = emit;
	p->ctx = ctx;
	p->md5 = EVP_MD_CTX_new();
	if (p->md5 == NULL)
		panic("mbox_parse: out of memory");
}

/* flush_line - hand the accumulated line to do_line */
static void flush_line(struct mbox_parser *p, bool lf)
{
	bool cr = lf && p->full >= 2 && p->prev_byte_before_lf == '\r';

	do_line(p, p->line, p->kept, p->full, lf, cr, p->off);
	p->off += p->full;
	p->kept = p->full = 0;
	p->prev = -1;
}

/* mbox_parse_feed - the next bytes of the file */
void mbox_parse_feed(struct mbox_parser *p, const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n;
		size_t room = sizeof(p->line) - p->kept;
		size_t copy = take < room ? take : room;

		memcpy(p->line + p->kept, data, copy);
		p->kept += copy;
		p->full += take;
		if (nl) {
			p->prev_byte_before_lf = take >= 2 ? (unsigned char)data[take - 2] : p->prev;
			flush_line(p, true);
		} else {
			p->prev = (unsigned char)data[take - 1];
		}
		data += take;
		n -= take;
	}
}

/* mbox_parse_finish - end of file */
void mbox_parse_finish(struct mbox_parser *p)
{
	if (p->full > 0)
		flush_line(p, false);
	if (p->state != ST_START)
		end_msg(p, p->off);
	EVP_MD_CTX_free(p->md5);
	p->md5 = NULL;
}

/* mbox_hdr_split - visible header lines to visible, X-Status/X-Keywords to keep, the rest dropped */
int mbox_hdr_split(const char *raw, size_t n, struct buf *visible, struct buf *keep)
{
	struct buf *to = visible;
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(raw + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (raw + i)) + 1 : n - i;
		const char *s = raw + i;

		if (s[0] != ' ' && s[0] != '\t') {
			size_t k = name_len(s, len);
			int idx = k ? internal_index(s, k) : -1;

			to = idx < 0 ? visible : internal_hdrs[idx].keep ? keep : NULL;
		}
		if (to && buf_append(to, s, len) < 0)
			return -1;
		i += len;
	}
	return 0;
}
