/*
 * test_smtp_data.c - unit tests for src/libmail/smtp_data.c (DATA/BDAT content decoder)
 *
 * Table cases give input, policy and limits, and expect the content written,
 * the input left over after the end (pipelined commands), the errors with
 * the position at which feed() reported them, and the counters. Every case is
 * run whole, byte by byte, split at every offset and (short inputs) at every
 * pair of offsets: all runs must agree exactly.
 */
#include "unit.h"

#include <inttypes.h>
#include <stdio.h>

#include "libmail/smtp_data.h"

struct result {
	struct buf out;   /* content written */
	char events[256]; /* "E<error>@<pos> " per -1, "END@<pos>" / "C@<pos>" per completion */
	uint64_t size, long_lines, bare_lf, bare_cr;
	int error;
	bool done;
};

/* event - append one event to r */
static void event(struct result *r, const char *fmt, size_t a, size_t b)
{
	size_t o = strlen(r->events);

	assert_true(o + 40 < sizeof(r->events));
	snprintf(r->events + o, sizeof(r->events) - o, fmt, a, b);
}

struct chunk {
	uint64_t size;
	bool last;
};

/*
 * run - feed in[0..n) cut at the ncut offsets (ascending) into a decoder in
 * DATA mode (chunks == NULL) or BDAT mode (the given chunks, in order)
 */
static void run(const char *in, size_t n, const struct smtp_data_limits *lim, const struct chunk *chunks,
		const size_t *cuts, int ncut, struct result *r)
{
	struct smtp_data d;
	size_t prev = 0, pos = 0, nchunk = 0;
	int i;

	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 0);
	if (chunks) {
		smtp_data_begin_bdat(&d, lim);
		smtp_data_bdat(&d, chunks[0].size, chunks[0].last);
	} else {
		smtp_data_begin(&d, lim);
	}
	for (i = 0; i <= ncut && !d.done; i++) {
		size_t end = i < ncut ? cuts[i] : n;

		if (end < prev)
			end = prev;
		while (!d.done) {
			size_t used;
			int rc = smtp_data_feed(&d, in + pos, end - pos, &r->out, &used);

			assert_true(used <= end - pos);
			pos += used;
			if (rc == -1) {
				event(r, "E%zu@%zu ", (size_t)d.error, pos);
				continue;
			}
			if (rc == 1) {
				event(r, chunks ? "C@%zu " : "END@%zu ", pos, 0);
				if (chunks && !d.done) {
					nchunk++;
					smtp_data_bdat(&d, chunks[nchunk].size, chunks[nchunk].last);
				}
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(pos, end);
			break;
		}
		prev = end;
	}
	r->size = d.size;
	r->long_lines = d.long_lines;
	r->bare_lf = d.bare_lf_count;
	r->bare_cr = d.bare_cr_count;
	r->error = (int)d.error;
	r->done = d.done;
}

/* same - two results agree in every field */
static void same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->out.len, b->out.len);
	assert_memory_equal(buf_cstr(&a->out), buf_cstr(&b->out), a->out.len);
	assert_string_equal(a->events, b->events);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->long_lines, b->long_lines);
	assert_int_equal(a->bare_lf, b->bare_lf);
	assert_int_equal(a->bare_cr, b->bare_cr);
	assert_int_equal(a->error, b->error);
	assert_int_equal(a->done, b->done);
}

/* check_splits - byte by byte, every cut and (n <= 32) every pair of cuts agree with whole */
static void check_splits(const char *in, size_t n, const struct smtp_data_limits *lim,
			 const struct chunk *chunks, const struct result *whole)
{
	struct result r;
	size_t cuts[64], i, j;

	/* byte by byte */
	assert_true(n < 64 || n < 4096);
	{
		size_t *all = malloc((n + 1) * sizeof(*all));

		for (i = 0; i < n; i++)
			all[i] = i;
		run(in, n, lim, chunks, all, (int)n, &r);
		same(whole, &r);
		buf_free(&r.out);
		free(all);
	}
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		run(in, n, lim, chunks, cuts, 1, &r);
		same(whole, &r);
		buf_free(&r.out);
		for (j = i; n <= 32 && j <= n; j++) {
			cuts[1] = j;
			run(in, n, lim, chunks, cuts, 2, &r);
			same(whole, &r);
			buf_free(&r.out);
		}
	}
}

struct data_case {
	const char *in;
	enum smtp_bare_lf lf;
	enum smtp_bare_cr cr;
	uint64_t max_size;
	size_t max_line;
	const char *want_out;
	const char *want_events; /* positions are offsets into in */
	int want_error;
	uint64_t want_size;
	uint64_t want_long; /* long lines */
};

#define NORM SMTP_BARE_LF_NORMALIZE
#define KEEP SMTP_BARE_CR_KEEP

static const struct data_case data_cases[] = {
	/* the "." line right after DATA ends it; pipelined input stays */
	{ ".\r\n", NORM, KEEP, 0, 0, "", "END@3 ", 0, 0, 0 },
	{ ".\r\nQUIT\r\n", NORM, KEEP, 0, 0, "", "END@3 ", 0, 0, 0 },
	{ "a\r\n.\r\nMAIL FROM:<x@y>\r\n", NORM, KEEP, 0, 0, "a\n", "END@6 ", 0, 2, 0 },
	{ "a\r\nb\r\n.\r\n", NORM, KEEP, 0, 0, "a\nb\n", "END@9 ", 0, 4, 0 },
	{ "\r\n.\r\n", NORM, KEEP, 0, 0, "\n", "END@5 ", 0, 1, 0 },
	{ "a\r\n\r\n.\r\n", NORM, KEEP, 0, 0, "a\n\n", "END@8 ", 0, 3, 0 },
	/* dot-unstuffing, including ".." at the very start */
	{ "..\r\n.\r\n", NORM, KEEP, 0, 0, ".\n", "END@7 ", 0, 2, 0 },
	{ "..x\r\n...\r\n.\r\n", NORM, KEEP, 0, 0, ".x\n..\n", "END@13 ", 0, 6, 0 },
	{ "a\r\n.b\r\n.\r\n", NORM, KEEP, 0, 0, "a\nb\n", "END@10 ", 0, 4, 0 },
	{ "a.\r\n .\r\n.\r\n", NORM, KEEP, 0, 0, "a.\n .\n", "END@11 ", 0, 6, 0 },
	{ ".\rx\r\n.\r\n", NORM, KEEP, 0, 0, "\rx\n", "END@8 ", 0, 3, 0 },
	/* no terminator yet */
	{ "a\r\n.\r", NORM, KEEP, 0, 0, "a\n", "", 0, 2, 0 },
	{ "a\r\n.", NORM, KEEP, 0, 0, "a\n", "", 0, 2, 0 },
	{ "a\r", NORM, KEEP, 0, 0, "a", "", 0, 1, 0 },
	/* smuggling: only CRLF.CRLF ends DATA, under every policy */
	{ "a\n.\nMAIL FROM:<evil>\r\n.\r\n", NORM, KEEP, 0, 0, "a\n\nMAIL FROM:<evil>\n", "END@25 ", 0, 20, 0 },
	{ "a\n.\nMAIL FROM:<evil>\r\n.\r\n", SMTP_BARE_LF_NO, KEEP, 0, 0, "a\n\nMAIL FROM:<evil>\n", "END@25 ",
	  0, 20, 0 },
	{ "a\r\n.\nX\r\n.\r\n", NORM, KEEP, 0, 0, "a\n\nX\n", "END@11 ", 0, 5, 0 },
	{ "a\n.\r\nX\r\n.\r\n", NORM, KEEP, 0, 0, "a\n\nX\n", "END@11 ", 0, 5, 0 },
	{ "\n.\r\nX\r\n.\r\n", NORM, KEEP, 0, 0, "\n\nX\n", "END@10 ", 0, 4, 0 },
	{ "a\r.\rX\r\n.\r\n", NORM, KEEP, 0, 0, "a\r.\rX\n", "END@10 ", 0, 6, 0 },
	{ "a\r\n.\r\r\n.\r\n", NORM, KEEP, 0, 0, "a\n\r\n", "END@10 ", 0, 4, 0 },
	{ "a\r\n.\r.\r\n.\r\n", NORM, KEEP, 0, 0, "a\n\r.\n", "END@11 ", 0, 5, 0 },
	{ "a\r\r\n.\r\n", NORM, KEEP, 0, 0, "a\r\n", "END@7 ", 0, 3, 0 },
	{ "a\r\n.\n\r\n.\r\n", NORM, KEEP, 0, 0, "a\n\n\n", "END@10 ", 0, 4, 0 },
	/* bare LF is a line end under no/normalize, an error under reject */
	{ "a\nb\r\n.\r\n", SMTP_BARE_LF_NO, KEEP, 0, 0, "a\nb\n", "END@8 ", 0, 4, 0 },
	{ "a\nb\r\n.\r\n", SMTP_BARE_LF_REJECT, KEEP, 0, 0, "a", "E1@2 END@8 ", 1, 4, 0 },
	{ "\n.\r\n", SMTP_BARE_LF_REJECT, KEEP, 0, 0, "", "E1@1 ", 1, 2, 0 },
	{ "a\r\n.\nb\r\n.\r\n", SMTP_BARE_LF_REJECT, KEEP, 0, 0, "a\n", "E1@5 END@11 ", 1, 5, 0 },
	{ "a\n.\nRCPT TO:<x>\r\n", SMTP_BARE_LF_REJECT, KEEP, 0, 0, "a", "E1@2 ", 1, 15, 0 },
	/* bare CR by policy; a second error is not reported again */
	{ "a\rb\r\n.\r\n", NORM, SMTP_BARE_CR_SPACE, 0, 0, "a b\n", "END@8 ", 0, 4, 0 },
	{ "a\rb\r\n.\r\n", NORM, SMTP_BARE_CR_REJECT, 0, 0, "a", "E2@3 END@8 ", 2, 3, 0 },
	{ "a\r\rb\n\r\n.\r\n", SMTP_BARE_LF_REJECT, SMTP_BARE_CR_REJECT, 0, 0, "a", "E2@3 END@10 ", 2, 4, 0 },
	{ ".\r.\r\n.\r\n", NORM, SMTP_BARE_CR_SPACE, 0, 0, " .\n", "END@8 ", 0, 3, 0 },
	/* size: counting goes on, writing stops, the error comes with the end */
	{ "abcdef\r\n.\r\n", NORM, KEEP, 3, 0, "abc", "END@11 ", 3, 7, 0 },
	{ "ab\r\n.\r\n", NORM, KEEP, 3, 0, "ab\n", "END@7 ", 0, 3, 0 },
	{ "ab\r\n.\r\n", NORM, KEEP, 2, 0, "ab", "END@7 ", 3, 3, 0 },
	{ "ab\r\ncd\r\n.\r\nQUIT\r\n", NORM, KEEP, 4, 0, "ab\nc", "END@11 ", 3, 6, 0 },
	/* long lines pass through, counted */
	{ "abcd\r\nabc\r\nabcde\r\n.\r\n", NORM, KEEP, 0, 3, "abcd\nabc\nabcde\n", "END@21 ", 0, 15, 2 },
	/* NUL and 8-bit bytes are data */
	{ "\xc3\xa9\x80\r\n.\r\n", NORM, KEEP, 0, 0, "\xc3\xa9\x80\n", "END@8 ", 0, 4, 0 },
};

static void test_data_table_and_splits(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(data_cases) / sizeof(data_cases[0]); k++) {
		const struct data_case *c = &data_cases[k];
		struct smtp_data_limits lim = { c->max_size, c->max_line, c->lf, c->cr };
		struct result whole;
		size_t n = strlen(c->in);

		run(c->in, n, &lim, NULL, NULL, 0, &whole);
		if (whole.out.len != strlen(c->want_out) ||
		    memcmp(buf_cstr(&whole.out), c->want_out, whole.out.len) != 0 ||
		    strcmp(whole.events, c->want_events) != 0)
			fail_msg("case %zu: got out \"%s\" events \"%s\"", k, buf_cstr(&whole.out), whole.events);
		assert_int_equal(whole.error, c->want_error);
		assert_int_equal(whole.size, c->want_size);
		assert_int_equal(whole.long_lines, c->want_long);
		check_splits(c->in, n, &lim, NULL, &whole);
		buf_free(&whole.out);
	}
}

static void test_data_counters_and_api(void **state)
{
	struct smtp_data_limits lim = { 0, 0, NORM, KEEP };
	struct smtp_data d;
	struct buf out = BUF_INIT(0);
	size_t used;

	(void)state;
	smtp_data_begin(&d, &lim);
	assert_int_equal(smtp_data_feed(&d, "a\nb\rc\r\n.\r\nNOOP\r\n", 16, &out, &used), 1);
	assert_int_equal(used, 10);
	assert_int_equal(d.bare_lf_count, 1);
	assert_int_equal(d.bare_cr_count, 1);
	assert_true(d.done);
	/* after the end: nothing more is consumed */
	assert_int_equal(smtp_data_feed(&d, "NOOP\r\n", 6, &out, &used), 1);
	assert_int_equal(used, 0);
	assert_string_equal(buf_cstr(&out), "a\nb\rc\n");
	buf_free(&out);

	/* the output buf is the caller's: a full one is an error, not an overflow */
	buf_init(&out, 2);
	smtp_data_begin(&d, &lim);
	assert_int_equal(smtp_data_feed(&d, "abcdef", 6, &out, &used), -1);
	assert_int_equal(d.error, SMTP_DATA_ERR_OUTPUT);
	assert_string_equal(buf_cstr(&out), "a");
	buf_free(&out);

	assert_string_equal(smtp_data_error_name(SMTP_DATA_ERR_BARE_LF), "bare <LF> received");
	assert_string_equal(smtp_data_error_name(SMTP_DATA_ERR_SIZE), "message size exceeds fixed limit");
	assert_string_equal(smtp_data_error_name(SMTP_DATA_OK), "ok");
}

struct bdat_case {
	const char *in; /* the chunks back to back, then any pipelined bytes */
	struct chunk chunks[4];
	enum smtp_bare_lf lf;
	enum smtp_bare_cr cr;
	uint64_t max_size;
	const char *want_out;
	const char *want_events;
	int want_error;
};

static const struct bdat_case bdat_cases[] = {
	/* CRLF split across chunks is one line end */
	{ "a\r\nb", { { 2, false }, { 2, true } }, NORM, KEEP, 0, "a\nb", "C@2 C@4 ", 0 },
	{ "a\r\nb\r\n", { { 2, false }, { 1, false }, { 3, true } }, NORM, KEEP, 0, "a\nb\n", "C@2 C@3 C@6 ", 0 },
	/* no dot-unstuffing, no terminator in BDAT */
	{ "..\r\n.\r\nX", { { 7, true } }, NORM, KEEP, 0, "..\n.\n", "C@7 ", 0 },
	/* pipelined bytes after the LAST chunk stay with the caller */
	{ "abcQUIT\r\n", { { 3, true } }, NORM, KEEP, 0, "abc", "C@3 ", 0 },
	/* a CR at the very end of the message is bare */
	{ "a\r", { { 2, true } }, NORM, KEEP, 0, "a\r", "C@2 ", 0 },
	{ "a\r", { { 2, true } }, NORM, SMTP_BARE_CR_SPACE, 0, "a ", "C@2 ", 0 },
	{ "a\r", { { 2, true } }, NORM, SMTP_BARE_CR_REJECT, 0, "a", "C@2 ", 2 },
	{ "a\r", { { 2, false }, { 0, true } }, NORM, SMTP_BARE_CR_SPACE, 0, "a ", "C@2 C@2 ", 0 },
	/* bare LF policy applies to BDAT too */
	{ "x\ny", { { 3, true } }, NORM, KEEP, 0, "x\ny", "C@3 ", 0 },
	{ "x\ny\r\n", { { 2, false }, { 3, true } }, SMTP_BARE_LF_REJECT, KEEP, 0, "x", "E1@2 C@2 C@5 ", 1 },
	{ "x\r\ry", { { 4, true } }, NORM, SMTP_BARE_CR_REJECT, 0, "x", "E2@3 C@4 ", 2 },
	/* an empty LAST chunk */
	{ "", { { 0, true } }, NORM, KEEP, 0, "", "C@0 ", 0 },
	/* size */
	{ "abc\r\ndef", { { 4, false }, { 4, true } }, NORM, KEEP, 5, "abc\nd", "C@4 C@8 ", 3 },
};

static void test_bdat_table_and_splits(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bdat_cases) / sizeof(bdat_cases[0]); k++) {
		const struct bdat_case *c = &bdat_cases[k];
		struct smtp_data_limits lim = { c->max_size, 0, c->lf, c->cr };
		struct result whole;
		size_t n = strlen(c->in);

		run(c->in, n, &lim, c->chunks, NULL, 0, &whole);
		if (whole.out.len != strlen(c->want_out) ||
		    memcmp(buf_cstr(&whole.out), c->want_out, whole.out.len) != 0 ||
		    strcmp(whole.events, c->want_events) != 0)
			fail_msg("bdat case %zu: got out \"%s\" events \"%s\"", k, buf_cstr(&whole.out),
				 whole.events);
		assert_int_equal(whole.error, c->want_error);
		assert_true(whole.done);
		check_splits(c->in, n, &lim, c->chunks, &whole);
		buf_free(&whole.out);
	}
}

static void test_bdat_api(void **state)
{
	struct smtp_data_limits lim = { 0, 0, NORM, KEEP };
	struct smtp_data d;
	struct buf out = BUF_INIT(0);
	size_t used;

	(void)state;
	smtp_data_begin_bdat(&d, &lim);
	/* no chunk announced: nothing consumed */
	assert_int_equal(smtp_data_feed(&d, "abc", 3, &out, &used), 1);
	assert_int_equal(used, 0);
	smtp_data_bdat(&d, 5, false);
	assert_int_equal(smtp_data_feed(&d, "abc", 3, &out, &used), 0);
	assert_int_equal(used, 3);
	assert_int_equal(smtp_data_feed(&d, "de\r\nX", 5, &out, &used), 1);
	assert_int_equal(used, 2);
	assert_false(d.done);
	smtp_data_bdat(&d, 2, true);
	assert_int_equal(smtp_data_feed(&d, "\r\nX", 3, &out, &used), 1);
	assert_int_equal(used, 2);
	assert_true(d.done);
	assert_string_equal(buf_cstr(&out), "abcde\n");
	buf_free(&out);
}

/* model - the decoder's contract for DATA, computed line by line over the whole input */
static void model(const char *in, size_t n, struct buf *out, size_t *end)
{
	size_t pos = 0;
	bool prev_crlf = true;

	*end = 0;
	while (pos < n) {
		const char *lf = memchr(in + pos, '\n', n - pos);
		size_t len, i, tlen;
		bool crlf;

		if (!lf)
			break;
		len = (size_t)(lf - (in + pos));
		crlf = len > 0 && in[pos + len - 1] == '\r';
		tlen = len - crlf;
		if (crlf && prev_crlf && tlen == 1 && in[pos] == '.') {
			*end = pos + len + 1;
			return;
		}
		i = (tlen > 0 && in[pos] == '.') ? 1 : 0;
		buf_append(out, in + pos + i, tlen - i);
		buf_putc(out, '\n');
		prev_crlf = crlf;
		pos += len + 1;
	}
}

static void test_random_against_model(void **state)
{
	static const char alphabet[] = { '\r', '\n', '.', 'a', '.', '\r', '\n' };
	struct smtp_data_limits lim = { 0, 0, NORM, KEEP };
	unsigned seed = 12345;
	int iter;

	(void)state;
	for (iter = 0; iter < 3000; iter++) {
		char in[40];
		size_t n, i, end;
		struct buf want = BUF_INIT(0);
		struct result r;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(in);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
		}
		model(in, n, &want, &end);
		run(in, n, &lim, NULL, NULL, 0, &r);
		if (end) {
			char ev[32];

			snprintf(ev, sizeof(ev), "END@%zu ", end);
			assert_string_equal(r.events, ev);
			/* the model keeps bare CRs inside lines as data, like KEEP */
			assert_int_equal(r.out.len, want.len);
			assert_memory_equal(buf_cstr(&r.out), buf_cstr(&want), want.len);
		} else {
			assert_string_equal(r.events, "");
			/* the decoder may have written the unfinished last line already */
			assert_true(r.out.len >= want.len);
			assert_memory_equal(buf_cstr(&r.out), buf_cstr(&want), want.len);
		}
		buf_free(&r.out);
		buf_free(&want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_table_and_splits),
		cmocka_unit_test(test_data_counters_and_api),
		cmocka_unit_test(test_bdat_table_and_splits),
		cmocka_unit_test(test_bdat_api),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
