/*
 * smtp_data.h - incremental decoder for SMTP message content (DATA and BDAT)
 *
 * Bytes arrive in chunks cut anywhere; the decoder turns them into message
 * content with lines ended by a bare LF (Postern's queue and Maildir store LF
 * line endings, as Postfix does), appended to a caller's buf. It keeps at most
 * two undecided bytes of state, so nothing in it grows with the input.
 *
 * DATA mode (RFC 5321 s4.1.1.4, s4.5.2):
 *   - the content ends ONLY at <CR><LF>.<CR><LF>; the "." line right after
 *     the DATA command counts (the command's own CRLF precedes it). The
 *     smuggling shapes <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF>, <CR>.<CR>,
 *     ... never end it, whatever the policy (CVE-2023-51764/51765/51766);
 *   - a line that starts with "." loses that dot (dot-unstuffing), whatever
 *     its terminator: "..x" is ".x", and a "." line that is not the end
 *     becomes an empty line, as in Postfix's smtpd;
 *   - consumed reports the input bytes up to and including the final LF, so
 *     pipelined commands after it in the same packet stay with the caller.
 * BDAT mode (RFC 3030): smtp_data_bdat() announces a chunk of exactly N bytes;
 *   no dot-unstuffing, no terminator. Line ends are converted as in DATA and a
 *   CR at the end of one chunk followed by LF at the start of the next is one
 *   CRLF. After the LAST chunk, a final undecided CR is judged a bare CR.
 *
 * Line ends, by policy (Postfix 3.9 smtpd_forbid_bare_newline, postconf(5)):
 *   CRLF           always a line end, written as LF.
 *   bare LF        SMTP_BARE_LF_NORMALIZE ("normalize", and "yes", which
 *                  3.9 made a compatibility alias of normalize): a line end,
 *                  written as LF. SMTP_BARE_LF_NO ("no"): the same in this
 *                  decoder - Postfix's "no" would also accept <LF>.<LF> as
 *                  the end, Postern never does. SMTP_BARE_LF_REJECT
 *                  ("reject"): error SMTP_DATA_ERR_BARE_LF; the caller
 *                  replies "550 5.5.2 <myhostname> Error: bare <LF>
 *                  received" (code: smtpd_forbid_bare_newline_reject_code,
 *                  Postfix default 550) and disconnects, or keeps feeding to
 *                  find the end and rejects the message in sync.
 *   bare CR        (a CR not directly followed by LF; Postfix's smtpd keeps
 *                  it and its cleanup replaces it with a space when
 *                  cleanup_replace_stray_cr_lf = yes) SMTP_BARE_CR_KEEP:
 *                  data; SMTP_BARE_CR_SPACE: written as a space;
 *                  SMTP_BARE_CR_REJECT: error SMTP_DATA_ERR_BARE_CR.
 * After an error the decoder still scans for the end (DATA) or counts the
 * chunk (BDAT) but writes nothing more; feed() returns -1 once, at the byte
 * where the error was found, and later calls behave as without the error
 * (0, then 1 at the end) with d->error still set.
 *
 * Size: d->size counts content bytes (after conversion and unstuffing), all
 * of them. Once it passes lim->max_size (0: no limit) nothing more is
 * written, decoding continues, and the end is reported with d->error =
 * SMTP_DATA_ERR_SIZE, so the caller answers "552 5.3.4 Message size exceeds
 * fixed limit" after the terminator with the stream still in sync.
 *
 * Long lines are not an error (the queue splits them); d->long_lines counts
 * lines longer than lim->max_line (0: not counted) for the log.
 *
 * Results do not depend on how the input is cut (tests/unit/test_smtp_data.c
 * feeds every split; fuzz/fuzz_smtp_data.c compares chunked with whole).
 *
 * Tests:    tests/unit/test_smtp_data.c, fuzz/fuzz_smtp_data.c
 * Refs:     RFC 5321 s2.3.8, s4.1.1.4, s4.5.2; RFC 3030; postconf(5)
 *           smtpd_forbid_bare_newline (Postfix 3.9); www.postfix.org/smtp-smuggling.html
 */
#ifndef POSTERN_SMTP_DATA_H
#define POSTERN_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum smtp_bare_lf { SMTP_BARE_LF_NO, SMTP_BARE_LF_NORMALIZE, SMTP_BARE_LF_REJECT };
enum smtp_bare_cr { SMTP_BARE_CR_KEEP, SMTP_BARE_CR_SPACE, SMTP_BARE_CR_REJECT };

enum smtp_data_error {
	SMTP_DATA_OK,
	SMTP_DATA_ERR_BARE_LF, /* a bare LF under SMTP_BARE_LF_REJECT */
	SMTP_DATA_ERR_BARE_CR, /* a bare CR under SMTP_BARE_CR_REJECT */
	SMTP_DATA_ERR_SIZE,    /* more than max_size content bytes (reported at the end only) */
	SMTP_DATA_ERR_OUTPUT,  /* the output buf was full: the caller did not leave room */
};

struct smtp_data_limits {
	uint64_t max_size;          /* message_size_limit: content bytes written at most (0: none) */
	size_t max_line;            /* line_length_limit, for d->long_lines only (0: not counted) */
	enum smtp_bare_lf bare_lf;  /* smtpd_forbid_bare_newline */
	enum smtp_bare_cr bare_cr;
};

/* the fields are private to smtp_data.c except the results marked (out) */
struct smtp_data {
	struct smtp_data_limits lim;
	int state;                  /* decoder state (smtp_data.c) */
	bool bdat;                  /* BDAT mode */
	bool prev_crlf;             /* DATA: the previous line ended in CRLF */
	bool done;                  /* (out) end of data seen / LAST chunk complete */
	bool last;                  /* BDAT: the current chunk is the LAST */
	bool chunk_open;            /* BDAT: a chunk was announced and not yet reported complete */
	uint64_t chunk_left;        /* BDAT: bytes still due in the current chunk */
	uint64_t line_len;          /* content bytes in the current line */
	uint64_t size;              /* (out) content bytes decoded, written or not */
	uint64_t long_lines;        /* (out) lines longer than lim.max_line */
	uint64_t bare_lf_count;     /* (out) bare LFs seen (any policy) */
	uint64_t bare_cr_count;     /* (out) bare CRs seen (any policy) */
	enum smtp_data_error error; /* (out) first error, sticky */
};

/* smtp_data_begin - start decoding DATA content (after the 354 reply) */
void smtp_data_begin(struct smtp_data *d, const struct smtp_data_limits *lim);
/* smtp_data_begin_bdat - start a BDAT message; announce each chunk with smtp_data_bdat() */
void smtp_data_begin_bdat(struct smtp_data *d, const struct smtp_data_limits *lim);
/*
 * smtp_data_bdat - the next BDAT chunk has size bytes; last for "BDAT n LAST".
 * Call only in BDAT mode, after the previous chunk completed and before the
 * LAST one did (panic otherwise: a caller bug).
 */
void smtp_data_bdat(struct smtp_data *d, uint64_t size, bool last);

/*
 * smtp_data_feed - decode up to n bytes at p, appending content to out.
 * Leave out room for n + 2 more bytes (else SMTP_DATA_ERR_OUTPUT).
 * Returns:
 *    0  all n bytes consumed (*consumed = n), more input is needed;
 *    1  DATA: the terminator was seen, *consumed bytes (<= n) ended with its
 *       LF; BDAT: the current chunk is complete after *consumed bytes (and
 *       d->done once it was the LAST); after that, 1 with *consumed = 0 until
 *       the next smtp_data_bdat(). Check d->error for SIZE/BARE_* at the end.
 *   -1  an error was found (d->error): *consumed bytes were used; feed the
 *       rest to resynchronise, or give up and disconnect.
 */
int smtp_data_feed(struct smtp_data *d, const void *p, size_t n, struct buf *out, size_t *consumed);

/* smtp_data_error_name - short name of an error for logs ("bare LF", ...) */
const char *smtp_data_error_name(enum smtp_data_error e);

#endif
