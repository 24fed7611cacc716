/*
 * smtp_data.c - incremental DATA/BDAT content decoder (CRLF -> LF, dot-unstuffing)
 *
 * Runs in:  smtpd (_mailnet, chrooted); input is UNTRUSTED network data
 * API:      smtp_data_begin(), smtp_data_begin_bdat(), smtp_data_bdat(),
 *           smtp_data_feed(), smtp_data_error_name()   -- see smtp_data.h
 * Limits:   at most two undecided bytes are kept between calls (".", CR);
 *           output per call <= input + 1 byte; size counters are 64-bit
 * Tests:    tests/unit/test_smtp_data.c, fuzz/fuzz_smtp_data.c
 * Refs:     RFC 5321 s4.1.1.4, s4.5.2; RFC 3030; Postfix 3.9 postconf(5)
 *           smtpd_forbid_bare_newline
 *
 * The decoder is a byte state machine; only the state and the previous line's
 * terminator (prev_crlf) carry over between calls, which is what makes the
 * output independent of how the input was cut. The end of DATA is the one
 * path "line start after CRLF, '.', CR, LF": every other byte sequence is
 * content.
 */
#include "libmail/smtp_data.h"

#include <string.h>

#include "lib/log.h"

enum {
	ST_BOL,     /* DATA: at the start of a line */
	ST_BOL_DOT, /* DATA: a line started with '.', which was dropped */
	ST_DOT_CR,  /* DATA: "." then CR at the start of a line */
	ST_MID,     /* inside a line (BDAT: always, line starts included) */
	ST_CR,      /* a CR inside a line, not yet known to start CRLF */
};

/* start - common initialisation */
static void start(struct smtp_data *d, const struct smtp_data_limits *lim, bool bdat)
{
	memset(d, 0, sizeof(*d));
	d->lim = *lim;
	d->bdat = bdat;
	d->state = bdat ? ST_MID : ST_BOL;
	d->prev_crlf = true; /* the DATA command's own CRLF */
}

/* smtp_data_begin - decode DATA content */
void smtp_data_begin(struct smtp_data *d, const struct smtp_data_limits *lim)
{
	start(d, lim, false);
}

/* smtp_data_begin_bdat - decode a BDAT message */
void smtp_data_begin_bdat(struct smtp_data *d, const struct smtp_data_limits *lim)
{
	start(d, lim, true);
}

/* smtp_data_bdat - announce the next chunk */
void smtp_data_bdat(struct smtp_data *d, uint64_t size, bool last)
{
	if (!d->bdat || d->done || d->chunk_open || d->last)
		panic("smtp_data_bdat: chunk announced out of order");
	d->chunk_left = size;
	d->last = last;
	d->chunk_open = true;
}

/* writable - how many of len more content bytes may still be written */
static uint64_t writable(const struct smtp_data *d, uint64_t len)
{
	uint64_t room;

	if (d->error != SMTP_DATA_OK)
		return 0;
	if (d->lim.max_size == 0)
		return len;
	if (d->size >= d->lim.max_size)
		return 0;
	room = d->lim.max_size - d->size;
	return len < room ? len : room;
}

/* emit_run - account for len content bytes without LF, writing those within the limits */
static void emit_run(struct smtp_data *d, struct buf *out, const char *p, size_t len)
{
	uint64_t w = writable(d, len);

	if (w > 0 && buf_append(out, p, (size_t)w) < 0)
		d->error = SMTP_DATA_ERR_OUTPUT;
	d->size += len;
	d->line_len += len;
}

/* emit_eol - account for one line end, written as LF */
static void emit_eol(struct smtp_data *d, struct buf *out)
{
	if (writable(d, 1) && buf_putc(out, '\n') < 0)
		d->error = SMTP_DATA_ERR_OUTPUT;
	d->size++;
	if (d->lim.max_line && d->line_len > d->lim.max_line)
		d->long_lines++;
	d->line_len = 0;
}

/* fail - record a policy error; true when it is the first error (feed returns -1) */
static bool fail(struct smtp_data *d, enum smtp_data_error e)
{
	if (d->error != SMTP_DATA_OK)
		return false;
	d->error = e;
	return true;
}

/* bare_cr - judge one bare CR by policy; true when it is a new error */
static bool bare_cr(struct smtp_data *d, struct buf *out)
{
	d->bare_cr_count++;
	switch (d->lim.bare_cr) {
	case SMTP_BARE_CR_KEEP:
		emit_run(d, out, "\r", 1);
		return false;
	case SMTP_BARE_CR_SPACE:
		emit_run(d, out, " ", 1);
		return false;
	case SMTP_BARE_CR_REJECT:
		return fail(d, SMTP_DATA_ERR_BARE_CR);
	}
	panic("smtp_data: bad bare_cr policy %d", (int)d->lim.bare_cr);
}

/* bare_lf - a bare LF ends the line (written as LF) unless the policy rejects it */
static bool bare_lf(struct smtp_data *d, struct buf *out)
{
	bool err = false;

	d->bare_lf_count++;
	if (d->lim.bare_lf == SMTP_BARE_LF_REJECT)
		err = fail(d, SMTP_DATA_ERR_BARE_LF);
	emit_eol(d, out);
	d->prev_crlf = false;
	d->state = d->bdat ? ST_MID : ST_BOL;
	return err;
}

/* finish - the message is complete: settle the size error */
static void finish(struct smtp_data *d)
{
	d->done = true;
	if (d->lim.max_size && d->size > d->lim.max_size && d->error == SMTP_DATA_OK)
		d->error = SMTP_DATA_ERR_SIZE;
}

/* step - one input byte in the current state; *end set at the DATA terminator; true on a new error */
static bool step(struct smtp_data *d, struct buf *out, char c, bool *end)
{
	bool err = false;

	switch (d->state) {
	case ST_BOL:
		if (c == '.') {
			d->state = ST_BOL_DOT;
			return false;
		}
		break;
	case ST_BOL_DOT:
		if (c == '\r') {
			d->state = ST_DOT_CR;
			return false;
		}
		break;
	case ST_DOT_CR:
		if (c == '\n') {
			if (d->prev_crlf) {
				*end = true;
				return false;
			}
			/* "." after a bare-LF line: content, an empty line once unstuffed */
			emit_eol(d, out);
			d->prev_crlf = true;
			d->state = ST_BOL;
			return false;
		}
		err = bare_cr(d, out);
		d->state = ST_MID;
		break;
	case ST_MID:
		break;
	case ST_CR:
		if (c == '\n') {
			emit_eol(d, out);
			d->prev_crlf = true;
			d->state = d->bdat ? ST_MID : ST_BOL;
			return false;
		}
		err = bare_cr(d, out);
		d->state = ST_MID;
		break;
	default:
		panic("smtp_data: bad state %d", d->state);
	}
	/* the byte as an ordinary line byte */
	if (c == '\r')
		d->state = ST_CR;
	else if (c == '\n')
		err = bare_lf(d, out) || err;
	else {
		emit_run(d, out, &c, 1);
		d->state = ST_MID;
	}
	return err;
}

/* smtp_data_feed - decode a chunk of input */
int smtp_data_feed(struct smtp_data *d, const void *vp, size_t n, struct buf *out, size_t *consumed)
{
	const char *p = vp;
	size_t i = 0, lim = n;
	bool end = false, err = false;

	*consumed = 0;
	if (d->done || (d->bdat && !d->chunk_open))
		return 1;
	if (d->bdat && d->chunk_left < lim)
		lim = (size_t)d->chunk_left;
	while (i < lim && !end && !err) {
		if (d->state == ST_MID) {
			/* fast path: a run of ordinary bytes */
			size_t j = i;

			while (j < lim && p[j] != '\r' && p[j] != '\n')
				j++;
			if (j > i) {
				emit_run(d, out, p + i, j - i);
				i = j;
				err = d->error == SMTP_DATA_ERR_OUTPUT;
				continue;
			}
		}
		err = step(d, out, p[i], &end);
		i++;
		if (d->error == SMTP_DATA_ERR_OUTPUT)
			err = true;
	}
	*consumed = i;
	if (d->bdat)
		d->chunk_left -= i;
	if (err)
		return -1;
	if (end) {
		finish(d);
		return 1;
	}
	if (d->bdat && d->chunk_left == 0) {
		d->chunk_open = false;
		if (d->last) {
			/* a CR that ended the message has no LF to come */
			if (d->state == ST_CR) {
				(void)bare_cr(d, out);
				d->state = ST_MID;
			}
			finish(d);
		}
		return 1;
	}
	return 0;
}

/* smtp_data_error_name - short text for logs */
const char *smtp_data_error_name(enum smtp_data_error e)
{
	switch (e) {
	case SMTP_DATA_OK:
		return "ok";
	case SMTP_DATA_ERR_BARE_LF:
		return "bare <LF> received";
	case SMTP_DATA_ERR_BARE_CR:
		return "bare <CR> received";
	case SMTP_DATA_ERR_SIZE:
		return "message size exceeds fixed limit";
	case SMTP_DATA_ERR_OUTPUT:
		return "output buffer full";
	}
	return "unknown error";
}
