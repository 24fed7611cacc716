/*
 * buf.h - growable byte buffer with a hard maximum and a spare NUL
 *
 * The one place where bytes accumulate. Every buffer has a maximum size set
 * when it is made: appending past it fails with -1 and leaves the buffer as it
 * was (the caller decides: reply 500, report "line too long", ...). The data
 * is always followed by a NUL that is not counted in len, so buf_cstr() is
 * always a valid C string (it may contain embedded NULs for binary data).
 * Growth doubles the capacity; allocation failure is fatal (xalloc policy).
 *
 * Tests:    tests/unit/test_buf.c
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "slice.h"

struct buf {
	char *data;  /* NULL until the first append; see buf_cstr() */
	size_t len;  /* bytes in use, excluding the spare NUL */
	size_t cap;  /* bytes allocated, including room for the NUL */
	size_t max;  /* hard limit on len; 0 means BUF_MAX_DEFAULT */
};

/* a buffer that was never given a maximum may still not grow past this */
#define BUF_MAX_DEFAULT ((size_t)1 << 30)

#define BUF_INIT(max_) { NULL, 0, 0, (max_) }

/* buf_init - set up an empty buffer that may hold at most max bytes (0: default) */
void buf_init(struct buf *b, size_t max);
/* buf_free - release the memory; the buffer may be reused after buf_init() */
void buf_free(struct buf *b);
/* buf_reset - make the buffer empty, keeping its memory */
void buf_reset(struct buf *b);
/* buf_release - make the buffer empty and give its memory back (idle sessions) */
#define buf_release buf_free

/* buf_reserve - make room for n more bytes; 0 ok, -1 when len + n would exceed max */
int buf_reserve(struct buf *b, size_t n);
/* buf_append - append n bytes; 0 ok, -1 (buffer unchanged) when over max */
int buf_append(struct buf *b, const void *p, size_t n);
/* buf_puts - append a C string; 0 / -1 as buf_append */
int buf_puts(struct buf *b, const char *s);
/* buf_putc - append one byte; 0 / -1 as buf_append */
int buf_putc(struct buf *b, char c);
/* buf_append_slice - append a slice; 0 / -1 as buf_append */
int buf_append_slice(struct buf *b, struct slice s);
/* buf_printf - append formatted text; 0, or -1 (buffer unchanged) when over max */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* buf_truncate - shorten to len bytes (no-op when already shorter) */
void buf_truncate(struct buf *b, size_t len);
/* buf_consume - drop the first n bytes (n > len empties the buffer) */
void buf_consume(struct buf *b, size_t n);

/* buf_cstr - the contents as a NUL-terminated string ("" for an empty buffer) */
const char *buf_cstr(const struct buf *b);
/* buf_slice - the contents as a slice */
struct slice buf_slice(const struct buf *b);
/* buf_detach - hand the allocated string to the caller (free() it) and reset the buffer */
char *buf_detach(struct buf *b);

#endif
