/*
 * linereader.h - incremental line splitter over bytes fed in chunks (no I/O)
 *
 * The protocol front ends (SMTP, IMAP, POP3, the IPC line formats) read bytes
 * as they arrive and need whole lines. The reader keeps the unconsumed bytes
 * and tells apart, for each call of linereader_next():
 *
 *   LR_NEED_MORE  no complete line yet: feed more bytes (or declare EOF)
 *   LR_LINE       one line, without its terminator; line->crlf says whether it
 *                 ended in CR LF or in a bare LF (SMTP smuggling defence: the
 *                 caller decides what a bare LF means, e.g. reject "\n.\n")
 *   LR_TOO_LONG   a line longer than max_line: line->text is its first max_line
 *                 bytes (for the log); the rest of that line, up to and
 *                 including its LF, is skipped silently so the stream resyncs
 *   LR_PARTIAL    at EOF only: the bytes after the last LF (no terminator),
 *                 at most max_line of them
 *   LR_EOF        at EOF only: everything has been consumed
 *
 * A line ends at LF. A CR directly before the LF is part of the terminator
 * (crlf = true); any other CR, and NUL bytes, are data left in line->text for
 * the caller to judge. max_line counts text bytes, terminator excluded: a line
 * of max_line bytes followed by CR LF is accepted.
 *
 * The results do not depend on how the input was cut into chunks: feeding a
 * stream byte by byte gives the same sequence as feeding it whole
 * (tests/unit/test_linereader.c checks every split).
 *
 * Memory: after linereader_next() has returned LR_NEED_MORE, at most
 * max_line + 1 bytes stay buffered; a feed may add at most max_buffer bytes
 * beyond that. Slices handed out point into the reader and stay valid until the
 * next linereader_feed(), linereader_space(), linereader_clear() or
 * linereader_free().
 *
 * Tests:    tests/unit/test_linereader.c, fuzz/fuzz_linereader.c
 */
#ifndef POSTERN_LINEREADER_H
#define POSTERN_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "slice.h"

enum lr_status { LR_NEED_MORE, LR_LINE, LR_TOO_LONG, LR_PARTIAL, LR_EOF };

struct lr_line {
	struct slice text; /* the line without its terminator (LR_TOO_LONG: its first max_line bytes) */
	bool crlf;         /* LR_LINE: ended in CR LF (false: bare LF); false for the other results */
};

/* the fields are private to linereader.c; the struct is public to be embedded without allocation */
struct linereader {
	struct buf in;   /* buffered bytes; those before `start` are consumed */
	size_t start;    /* offset of the first unconsumed byte */
	size_t scanned;  /* bytes after start already searched for LF */
	size_t max_line; /* longest accepted line, terminator excluded */
	bool skipping;   /* discarding the rest of an over-long line */
	bool eof;        /* no more input will come */
};

/* the default for max_buffer: room for a typical read(2) beyond a partial line */
#define LINEREADER_CHUNK_DEFAULT 65536

/*
 * linereader_init - empty reader for lines of at most max_line bytes; a feed may
 * bring at most max_buffer bytes beyond a partial line (0: LINEREADER_CHUNK_DEFAULT)
 */
void linereader_init(struct linereader *lr, size_t max_line, size_t max_buffer);
/* linereader_free - release the buffer; the reader may be reused after linereader_init() */
void linereader_free(struct linereader *lr);

/*
 * linereader_feed - append n bytes of input (copied).
 * Returns 0, or -1 (nothing appended) when the buffer would pass its maximum
 * (drain with linereader_next() first) or after linereader_set_eof().
 */
int linereader_feed(struct linereader *lr, const void *p, size_t n);
/*
 * linereader_space - zero-copy input: where to write up to *avail_r more bytes
 * (at most want), e.g. read(fd, p, *avail_r); then call linereader_commit().
 * Returns NULL (with *avail_r = 0) when the buffer is full or after EOF.
 */
char *linereader_space(struct linereader *lr, size_t want, size_t *avail_r);
/* linereader_commit - n bytes were written at the pointer from linereader_space() (n <= *avail_r) */
void linereader_commit(struct linereader *lr, size_t n);
/* linereader_set_eof - no more input: the next calls report LR_PARTIAL/LR_TOO_LONG, then LR_EOF */
void linereader_set_eof(struct linereader *lr);

/* linereader_next - the next result (see the top of this file); *line is set for LINE/TOO_LONG/PARTIAL */
enum lr_status linereader_next(struct linereader *lr, struct lr_line *line);

/* linereader_pending - unconsumed bytes buffered (e.g. pipelined input before STARTTLS) */
size_t linereader_pending(const struct linereader *lr);
/*
 * linereader_take - consume up to max raw bytes, ignoring lines (SMTP BDAT, a
 * literal, handing buffered input to another process). *out points into the
 * reader. Returns the number of bytes taken (0 when nothing is buffered).
 */
size_t linereader_take(struct linereader *lr, size_t max, struct slice *out);
/*
 * linereader_untake - give back the last n bytes of the previous linereader_take()
 * (n <= what it took), before any other call: a decoder used fewer bytes than it was shown
 */
void linereader_untake(struct linereader *lr, size_t n);
/* linereader_clear - drop every buffered byte and any pending skip (EOF stays set) */
void linereader_clear(struct linereader *lr);

#endif
