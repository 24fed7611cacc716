/*
 * linereader.c - incremental line splitter: NEED_MORE / LINE / TOO_LONG / PARTIAL / EOF
 *
 * Consumed bytes are not moved at once: `start` advances, and the buffer is
 * compacted only when new input arrives, so every slice handed out since the
 * last feed stays valid. `scanned` remembers how far the search for LF got, so
 * a line dripping in byte by byte is scanned once, not once per byte.
 *
 * API:      see linereader.h
 * Tests:    tests/unit/test_linereader.c, fuzz/fuzz_linereader.c
 */
#include "linereader.h"

#include <string.h>

#include "log.h"

/* linereader_init - empty reader */
void linereader_init(struct linereader *lr, size_t max_line, size_t max_buffer)
{
	size_t max;

	if (max_buffer == 0)
		max_buffer = LINEREADER_CHUNK_DEFAULT;
	/* room for a partial line (max_line + 1 bytes: the CR of a CR LF may wait) plus one feed */
	if (max_line >= BUF_MAX_DEFAULT || max_buffer >= BUF_MAX_DEFAULT - max_line - 1)
		max = BUF_MAX_DEFAULT;
	else
		max = max_line + 1 + max_buffer;
	buf_init(&lr->in, max);
	lr->start = 0;
	lr->scanned = 0;
	lr->max_line = max_line;
	lr->skipping = false;
	lr->eof = false;
}

/* linereader_free - release the buffer */
void linereader_free(struct linereader *lr)
{
	buf_free(&lr->in);
	lr->start = 0;
	lr->scanned = 0;
	lr->skipping = false;
}

/* compact - forget the consumed bytes before new input arrives (invalidates slices) */
static void compact(struct linereader *lr)
{
	if (lr->start > 0) {
		buf_consume(&lr->in, lr->start);
		lr->start = 0;
	}
}

/* linereader_feed - append a chunk of input */
int linereader_feed(struct linereader *lr, const void *p, size_t n)
{
	if (lr->eof)
		return -1;
	compact(lr);
	return buf_append(&lr->in, p, n);
}

/* linereader_space - writable room at the end of the buffer */
char *linereader_space(struct linereader *lr, size_t want, size_t *avail_r)
{
	size_t limit = lr->in.max, room;

	*avail_r = 0;
	if (lr->eof)
		return NULL;
	compact(lr);
	room = limit - lr->in.len;
	if (want > room)
		want = room;
	if (want == 0 || buf_reserve(&lr->in, want) < 0)
		return NULL;
	*avail_r = want;
	return lr->in.data + lr->in.len;
}

/* linereader_commit - account for bytes written into linereader_space() */
void linereader_commit(struct linereader *lr, size_t n)
{
	if (n == 0)
		return;
	ASSERT(lr->in.data != NULL && n < lr->in.cap - lr->in.len);
	lr->in.len += n;
	lr->in.data[lr->in.len] = '\0';
}

/* linereader_set_eof - no more input */
void linereader_set_eof(struct linereader *lr)
{
	lr->eof = true;
}

/* consume - mark n more bytes as consumed */
static void consume(struct linereader *lr, size_t n)
{
	lr->start += n;
	lr->scanned = 0;
}

/* set_line - fill *line with the first len bytes at p */
static void set_line(struct lr_line *line, const char *p, size_t len, bool crlf)
{
	line->text = slice_make(p, len);
	line->crlf = crlf;
}

/* linereader_next - split off the next line, or say why there is none */
enum lr_status linereader_next(struct linereader *lr, struct lr_line *line)
{
	for (;;) {
		const char *base = lr->in.data ? lr->in.data + lr->start : "";
		size_t avail = lr->in.len - lr->start, max = lr->max_line;
		const char *lf = NULL;

		if (avail > lr->scanned)
			lf = memchr(base + lr->scanned, '\n', avail - lr->scanned);
		if (lr->skipping) {
			/* the rest of an over-long line already reported: drop it through its LF */
			if (lf) {
				consume(lr, (size_t)(lf - base) + 1);
				lr->skipping = false;
				continue;
			}
			consume(lr, avail);
			if (!lr->eof)
				return LR_NEED_MORE;
			lr->skipping = false;
			return LR_EOF;
		}
		if (lf) {
			size_t len = (size_t)(lf - base);
			bool crlf = len > 0 && base[len - 1] == '\r';
			size_t tlen = len - crlf;

			consume(lr, len + 1);
			if (tlen > max) {
				set_line(line, base, max, false);
				return LR_TOO_LONG;
			}
			set_line(line, base, tlen, crlf);
			return LR_LINE;
		}
		lr->scanned = avail;
		/*
		 * No LF yet. The line is already too long once it holds max + 2 bytes, or
		 * max + 1 whose last is not a CR (which could still start the terminator).
		 * Report it now and skip the rest, so a peer cannot make us buffer more.
		 */
		if (avail > max && (avail - max >= 2 || base[max] != '\r')) {
			set_line(line, base, max, false);
			consume(lr, avail);
			lr->skipping = true;
			return LR_TOO_LONG;
		}
		if (!lr->eof)
			return LR_NEED_MORE;
		if (avail == 0)
			return LR_EOF;
		consume(lr, avail);
		if (avail > max) {
			/* max + 1 bytes ending in a CR that no LF followed: the CR is data */
			set_line(line, base, max, false);
			return LR_TOO_LONG;
		}
		set_line(line, base, avail, false);
		return LR_PARTIAL;
	}
}

/* linereader_pending - unconsumed bytes */
size_t linereader_pending(const struct linereader *lr)
{
	return lr->in.len - lr->start;
}

/* linereader_take - consume raw bytes */
size_t linereader_take(struct linereader *lr, size_t max, struct slice *out)
{
	size_t avail = lr->in.len - lr->start, n = avail < max ? avail : max;

	*out = slice_make(n ? lr->in.data + lr->start : "", n);
	lr->start += n;
	lr->scanned = lr->scanned > n ? lr->scanned - n : 0;
	return n;
}

/* linereader_untake - return bytes of the last take */
void linereader_untake(struct linereader *lr, size_t n)
{
	ASSERT(n <= lr->start);
	lr->start -= n;
	lr->scanned = 0;
}

/* linereader_clear - drop all buffered input */
void linereader_clear(struct linereader *lr)
{
	buf_reset(&lr->in);
	lr->start = 0;
	lr->scanned = 0;
	lr->skipping = false;
}
