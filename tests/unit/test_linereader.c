/*
 * test_linereader.c - unit tests for src/lib/linereader.c (incremental line splitting)
 *
 * Three layers: table cases (input, max -> rendered results), the same cases
 * drip-fed (byte by byte, split at every offset, split at every pair of
 * offsets) which must render identically, and random inputs checked against a
 * simple non-incremental model of the contract.
 */
#include "unit.h"

#include <stdio.h>

#include "lib/linereader.h"

/* render - append one result to out as "L(text)" / "l(text)" (bare LF) / "T(text)" / "P(text)" / "E" */
static void render(char *out, size_t outsz, enum lr_status st, const struct lr_line *line)
{
	size_t o = strlen(out), i;
	char tag;

	switch (st) {
	case LR_LINE:
		tag = line->crlf ? 'L' : 'l';
		break;
	case LR_TOO_LONG:
		tag = 'T';
		assert_false(line->crlf);
		break;
	case LR_PARTIAL:
		tag = 'P';
		assert_false(line->crlf);
		break;
	case LR_EOF:
		assert_true(o + 2 < outsz);
		out[o++] = 'E';
		out[o] = '\0';
		return;
	default:
		fail_msg("unexpected status %d", (int)st);
		return;
	}
	assert_true(o + line->text.n * 4 + 4 < outsz);
	out[o++] = tag;
	out[o++] = '(';
	for (i = 0; i < line->text.n; i++) {
		unsigned char c = (unsigned char)line->text.p[i];

		if (c == '\r') {
			memcpy(out + o, "\\r", 2);
			o += 2;
		} else if (c == '\0') {
			memcpy(out + o, "\\0", 2);
			o += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = ')';
	out[o] = '\0';
}

/* drain - call next() until NEED_MORE (or EOF), rendering every result */
static void drain(struct linereader *lr, char *out, size_t outsz)
{
	struct lr_line line;
	enum lr_status st;
	int guard = 0;

	while ((st = linereader_next(lr, &line)) != LR_NEED_MORE) {
		render(out, outsz, st, &line);
		if (st == LR_EOF)
			return;
		assert_true(++guard < 100000);
	}
	/* at most max_line + 1 bytes wait for more input */
	assert_true(linereader_pending(lr) <= lr->max_line + 1);
}

/* run_cuts - feed in[0..n) cut at the ncut offsets in cuts (ascending), then EOF */
static void run_cuts(const char *in, size_t n, size_t max, const size_t *cuts, int ncut, char *out,
		     size_t outsz)
{
	struct linereader lr;
	size_t prev = 0;
	int i;

	out[0] = '\0';
	linereader_init(&lr, max, 0);
	for (i = 0; i <= ncut; i++) {
		size_t end = i < ncut ? cuts[i] : n;

		assert_int_equal(linereader_feed(&lr, in + prev, end - prev), 0);
		drain(&lr, out, outsz);
		prev = end;
	}
	linereader_set_eof(&lr);
	drain(&lr, out, outsz);
	assert_true(strlen(out) > 0 && out[strlen(out) - 1] == 'E');
	/* EOF is sticky */
	{
		struct lr_line line;

		assert_int_equal(linereader_next(&lr, &line), LR_EOF);
		assert_int_equal(linereader_feed(&lr, "x", 1), -1);
	}
	linereader_free(&lr);
}

/* run_drip - feed one byte at a time */
static void run_drip(const char *in, size_t n, size_t max, char *out, size_t outsz)
{
	struct linereader lr;
	size_t i;

	out[0] = '\0';
	linereader_init(&lr, max, 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(linereader_feed(&lr, in + i, 1), 0);
		drain(&lr, out, outsz);
	}
	linereader_set_eof(&lr);
	drain(&lr, out, outsz);
	linereader_free(&lr);
}

/* model - the contract, computed over the whole input at once */
static void model(const char *in, size_t n, size_t max, char *out, size_t outsz)
{
	size_t pos = 0;
	struct lr_line line;

	out[0] = '\0';
	while (pos < n) {
		const char *lf = memchr(in + pos, '\n', n - pos);
		size_t len = lf ? (size_t)(lf - (in + pos)) : n - pos;
		bool crlf = lf && len > 0 && in[pos + len - 1] == '\r';
		size_t tlen = len - crlf;

		line.crlf = false;
		line.text = slice_make(in + pos, tlen > max ? max : tlen);
		if (tlen > max)
			render(out, outsz, LR_TOO_LONG, &line);
		else if (!lf)
			render(out, outsz, LR_PARTIAL, &line);
		else {
			line.crlf = crlf;
			render(out, outsz, LR_LINE, &line);
		}
		pos += len + (lf != NULL);
	}
	render(out, outsz, LR_EOF, NULL);
}

/* check_all_splits - whole, drip, every single cut and every pair of cuts agree with want */
static void check_all_splits(const char *in, size_t n, size_t max, const char *want)
{
	char got[4096];
	size_t cuts[2], i, j;

	run_cuts(in, n, max, NULL, 0, got, sizeof(got));
	assert_string_equal(got, want);
	run_drip(in, n, max, got, sizeof(got));
	assert_string_equal(got, want);
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		run_cuts(in, n, max, cuts, 1, got, sizeof(got));
		assert_string_equal(got, want);
		for (j = i; j <= n && n <= 40; j++) {
			cuts[1] = j;
			run_cuts(in, n, max, cuts, 2, got, sizeof(got));
			assert_string_equal(got, want);
		}
	}
}

struct lr_case {
	const char *in;
	size_t n; /* 0: strlen(in) */
	size_t max;
	const char *want;
};

static const struct lr_case cases[] = {
	{ "", 0, 10, "E" },
	{ "abc\r\n", 0, 10, "L(abc)E" },
	{ "abc\n", 0, 10, "l(abc)E" },
	{ "abc", 0, 10, "P(abc)E" },
	{ "a\r\nb\nc", 0, 10, "L(a)l(b)P(c)E" },
	{ "\r\n\n\r\n", 0, 10, "L()l()L()E" },
	/* bare CR is data, only CR directly before LF terminates */
	{ "a\rb\r\n", 0, 10, "L(a\\rb)E" },
	{ "a\r\r\n", 0, 10, "L(a\\r)E" },
	{ "\r", 0, 10, "P(\\r)E" },
	{ "ab\r", 0, 10, "P(ab\\r)E" },
	/* the SMTP smuggling shapes: "\n.\n" and "\r\n.\n" and "\n.\r\n" */
	{ "x\n.\nMAIL\r\n", 0, 100, "l(x)l(.)L(MAIL)E" },
	{ "x\r\n.\n", 0, 100, "L(x)l(.)E" },
	{ "x\n.\r\n", 0, 100, "l(x)L(.)E" },
	/* NUL is data */
	{ "a\0b\r\n", 5, 10, "L(a\\0b)E" },
	/* max boundaries: max bytes are fine with either terminator */
	{ "abcde\r\n", 0, 5, "L(abcde)E" },
	{ "abcde\n", 0, 5, "l(abcde)E" },
	{ "abcde", 0, 5, "P(abcde)E" },
	{ "abcdef\r\n", 0, 5, "T(abcde)E" },
	{ "abcdef\n", 0, 5, "T(abcde)E" },
	{ "abcdef", 0, 5, "T(abcde)E" },
	{ "abcde\r", 0, 5, "T(abcde)E" },
	{ "abcde\rx\r\n", 0, 5, "T(abcde)E" },
	{ "abcde\r\r\n", 0, 5, "T(abcde)E" },
	/* a too-long line is skipped through its LF, and the stream resyncs */
	{ "abcdefghij\r\nok\r\n", 0, 5, "T(abcde)L(ok)E" },
	{ "abcdefghijklmnopqrstuvwxyz\nok\n", 0, 3, "T(abc)l(ok)E" },
	{ "toolongline\r\ntoolongline\r\nx\r\n", 0, 4, "T(tool)T(tool)L(x)E" },
	{ "abcdefghij", 0, 5, "T(abcde)E" },
	/* max 0: only empty lines */
	{ "\r\n\na\r\n\r\n", 0, 0, "L()l()T()L()E" },
	{ "\r", 0, 0, "T()E" },
	{ "a", 0, 0, "T()E" },
};

static void test_table_and_drip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lr_case *c = &cases[i];
		size_t n = c->n ? c->n : strlen(c->in);
		char m[4096];

		/* the model agrees with the table, and the reader with both under every split */
		model(c->in, n, c->max, m, sizeof(m));
		if (strcmp(m, c->want) != 0)
			fail_msg("case %zu: model gives %s, table says %s", i, m, c->want);
		check_all_splits(c->in, n, c->max, c->want);
	}
}

static void test_random_against_model(void **state)
{
	static const char alphabet[] = "ab\r\n\r\n.\0";
	char in[64], want[4096], got[4096];
	unsigned seed = 12345;
	int round;

	(void)state;
	for (round = 0; round < 3000; round++) {
		size_t n, max, i, cuts[8];
		int ncut;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(in);
		max = (seed >> 8) % 8;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		model(in, n, max, want, sizeof(want));
		run_drip(in, n, max, got, sizeof(got));
		assert_string_equal(got, want);
		ncut = 0;
		for (i = 0; i < 8 && n > 0; i++) {
			seed = seed * 1103515245u + 12345u;
			cuts[ncut] = (seed >> 16) % (n + 1);
			if (ncut == 0 || cuts[ncut] >= cuts[ncut - 1])
				ncut++;
		}
		run_cuts(in, n, max, cuts, ncut, got, sizeof(got));
		assert_string_equal(got, want);
	}
}

static void test_slices_valid_until_feed(void **state)
{
	struct linereader lr;
	struct lr_line a, b;

	(void)state;
	linereader_init(&lr, 100, 0);
	assert_int_equal(linereader_feed(&lr, "one\r\ntwo\r\nthr", 13), 0);
	assert_int_equal(linereader_next(&lr, &a), LR_LINE);
	assert_int_equal(linereader_next(&lr, &b), LR_LINE);
	assert_int_equal(linereader_next(&lr, &b), LR_NEED_MORE);
	/* both lines still readable: nothing moved before the next feed */
	assert_true(slice_eq_cstr(a.text, "one"));
	assert_int_equal(linereader_pending(&lr), 3);
	assert_int_equal(linereader_feed(&lr, "ee\n", 3), 0);
	assert_int_equal(linereader_next(&lr, &b), LR_LINE);
	assert_true(slice_eq_cstr(b.text, "three"));
	assert_false(b.crlf);
	assert_int_equal(linereader_pending(&lr), 0);
	linereader_free(&lr);
}

static void test_buffer_limit(void **state)
{
	struct linereader lr;
	struct lr_line line;
	char big[200];

	(void)state;
	memset(big, 'x', sizeof(big));
	/* max_line 10 + 1 + max_buffer 50: a 62-byte feed does not fit */
	linereader_init(&lr, 10, 50);
	assert_int_equal(linereader_feed(&lr, big, 62), -1);
	assert_int_equal(linereader_pending(&lr), 0);
	assert_int_equal(linereader_feed(&lr, big, 61), 0);
	assert_int_equal(linereader_feed(&lr, big, 1), -1);
	/* draining leaves nothing of an over-long line, so feeding works again */
	assert_int_equal(linereader_next(&lr, &line), LR_TOO_LONG);
	assert_int_equal(line.text.n, 10);
	assert_int_equal(linereader_next(&lr, &line), LR_NEED_MORE);
	assert_int_equal(linereader_pending(&lr), 0);
	assert_int_equal(linereader_feed(&lr, big, 50), 0);
	assert_int_equal(linereader_feed(&lr, "\nok\n", 4), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_true(slice_eq_cstr(line.text, "ok"));
	linereader_free(&lr);
	/* huge max_line: no overflow in the limits */
	linereader_init(&lr, SIZE_MAX, SIZE_MAX);
	assert_int_equal(linereader_feed(&lr, "a\n", 2), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	linereader_free(&lr);
}

static void test_space_commit(void **state)
{
	struct linereader lr;
	struct lr_line line;
	size_t avail;
	char *p;

	(void)state;
	linereader_init(&lr, 20, 16);
	p = linereader_space(&lr, 1000, &avail);
	assert_non_null(p);
	assert_int_equal(avail, 20 + 1 + 16);
	memcpy(p, "EHLO x\r\nQU", 10);
	linereader_commit(&lr, 10);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_true(slice_eq_cstr(line.text, "EHLO x"));
	assert_int_equal(linereader_next(&lr, &line), LR_NEED_MORE);
	p = linereader_space(&lr, 4, &avail);
	assert_int_equal(avail, 4);
	memcpy(p, "IT\r\n", 4);
	linereader_commit(&lr, 4);
	linereader_commit(&lr, 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_true(slice_eq_cstr(line.text, "QUIT"));
	assert_true(line.crlf);
	/* full buffer: no space */
	p = linereader_space(&lr, 1000, &avail);
	memset(p, 'y', avail);
	linereader_commit(&lr, avail);
	assert_null(linereader_space(&lr, 1, &avail));
	assert_int_equal(avail, 0);
	linereader_set_eof(&lr);
	assert_null(linereader_space(&lr, 1, &avail));
	linereader_free(&lr);
}

static void test_take_and_clear(void **state)
{
	struct linereader lr;
	struct lr_line line;
	struct slice raw;

	(void)state;
	linereader_init(&lr, 100, 0);
	/* BDAT-like: a command line, then raw bytes, then the next command */
	assert_int_equal(linereader_feed(&lr, "BDAT 5\r\nab\ncdQUIT\r\n", 19), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_true(slice_eq_cstr(line.text, "BDAT 5"));
	assert_int_equal(linereader_take(&lr, 5, &raw), 5);
	assert_true(slice_eq_cstr(raw, "ab\ncd"));
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_true(slice_eq_cstr(line.text, "QUIT"));
	assert_int_equal(linereader_take(&lr, 5, &raw), 0);
	assert_int_equal(raw.n, 0);
	/* take after a partial scan: the scan position follows */
	assert_int_equal(linereader_feed(&lr, "xyz", 3), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_NEED_MORE);
	assert_int_equal(linereader_take(&lr, 2, &raw), 2);
	assert_int_equal(linereader_feed(&lr, "\n", 1), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_true(slice_eq_cstr(line.text, "z"));
	/* STARTTLS: pipelined plaintext after the command is visible, then dropped */
	assert_int_equal(linereader_feed(&lr, "STARTTLS\r\nMAIL FROM:<x>\r\n", 25), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_int_equal(linereader_pending(&lr), 15);
	linereader_clear(&lr);
	assert_int_equal(linereader_pending(&lr), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_NEED_MORE);
	/* clear also ends a pending skip */
	assert_int_equal(linereader_feed(&lr, "x", 1), 0);
	linereader_free(&lr);
	linereader_init(&lr, 2, 0);
	assert_int_equal(linereader_feed(&lr, "abcd", 4), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_TOO_LONG);
	linereader_clear(&lr);
	assert_int_equal(linereader_feed(&lr, "ok\n", 3), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_true(slice_eq_cstr(line.text, "ok"));
	linereader_free(&lr);
}

/* test_untake - bytes a decoder did not use go back, in order, before later input */
static void test_untake(void **state)
{
	struct linereader lr;
	struct slice sl;
	struct lr_line line;

	(void)state;
	linereader_init(&lr, 100, 0);
	assert_int_equal(linereader_feed(&lr, "data.\r\nNOOP\r\n", 13), 0);
	assert_int_equal(linereader_take(&lr, 100, &sl), 13);
	linereader_untake(&lr, 6);
	assert_int_equal(linereader_pending(&lr), 6);
	assert_int_equal(linereader_feed(&lr, "QUIT\r\n", 6), 0);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_int_equal(line.text.n, 4);
	assert_memory_equal(line.text.p, "NOOP", 4);
	assert_int_equal(linereader_next(&lr, &line), LR_LINE);
	assert_memory_equal(line.text.p, "QUIT", 4);
	assert_int_equal(linereader_next(&lr, &line), LR_NEED_MORE);
	linereader_free(&lr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_and_drip),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_slices_valid_until_feed),
		cmocka_unit_test(test_buffer_limit),
		cmocka_unit_test(test_space_commit),
		cmocka_unit_test(test_take_and_clear),
		cmocka_unit_test(test_untake),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
