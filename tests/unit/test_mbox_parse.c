/*
 * test_mbox_parse.c - unit tests for src/libmail/mbox_parse.c (pure: bytes in, messages out)
 *
 * Message boundaries (From_ lines, the separating line end, "From " text that is no
 * From_ line, Content-Length honoured or not), sizes a client sees with Dovecot's headers
 * hidden, the metadata (X-UID, X-IMAPbase only in the first message, X-IMAP pseudo
 * message, Status), Dovecot's apop3d header MD5, header splitting; every case fed whole
 * and one byte at a time (the results must not depend on how the file is read).
 */
#include "unit.h"

#include <stdio.h>

#include "lib/encode.h"
#include "libmail/mbox_parse.h"

struct got {
	const char *text;
	size_t len;
	struct mbox_pmsg m[8];
	size_t n;
};

static void on_msg(void *ctx, const struct mbox_pmsg *m)
{
	struct got *g = ctx;

	assert_true(g->n < 8);
	g->m[g->n++] = *m;
}

static void on_peek(void *ctx, uint64_t off, char *b, size_t n, size_t *got)
{
	struct got *g = ctx;

	*got = 0;
	if (off < g->len) {
		*got = g->len - off < n ? g->len - off : n;
		memcpy(b, g->text + off, *got);
	}
}

/* parse - text fed in pieces of step bytes (0: whole) */
static void parse(struct got *g, const char *text, size_t step)
{
	struct mbox_parser p;
	size_t len = strlen(text);

	memset(g, 0, sizeof(*g));
	g->text = text;
	g->len = len;
	mbox_parse_init(&p, on_peek, on_msg, g);
	for (size_t i = 0; i < len; i += step ? step : len)
		mbox_parse_feed(&p, text + i, step && len - i > step ? step : len - i);
	mbox_parse_finish(&p);
}

/* both - the same results whole and byte by byte */
static void both(struct got *g, const char *text)
{
	struct got one;

	parse(&one, text, 1);
	parse(g, text, 0);
	assert_int_equal(one.n, g->n);
	assert_memory_equal(one.m, g->m, g->n * sizeof(g->m[0]));
}

static void test_boundaries(void **state)
{
	static const char t[] = "junk before\n"
				"From a@b Thu Jan  1 00:00:00 2026\n"
				"Subject: one\n\nbody\nFrom here is text\n>From quoted\n\n"
				"From c@d  Fri Jan  2 10:11:12 2026\n"
				"Subject: two\n\nlast";
	struct got g;
	size_t first = strlen("junk before\n");

	(void)state;
	both(&g, t);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.m[0].from_off, first);
	assert_int_equal(g.m[0].hdr_off, first + 34);
	assert_int_equal(g.m[0].hdr_end, first + 34 + 13);
	assert_int_equal(g.m[0].body_off, first + 34 + 14);
	/* the body keeps its last line end; the empty line before the next From_ separates */
	assert_memory_equal(t + g.m[0].body_off, "body\nFrom here is text\n>From quoted\n", 36);
	assert_int_equal(g.m[0].end - g.m[0].body_off, 36);
	assert_int_equal(g.m[0].hdr_vsize, 14 + 2);
	assert_int_equal(g.m[0].body_vsize, 36 + 3);
	/* no line end at the end of the file: nothing to strip */
	assert_int_equal(g.m[1].end, strlen(t));
	assert_int_equal(g.m[1].body_vsize, 4);
}

static void test_metadata_hidden(void **state)
{
	static const char t[] = "From a@b Thu Jan  1 00:00:00 2026\r\n"
				"X-IMAPbase: 1795550914 0000000007 $Junk\r\n"
				"Subject: s\r\n"
				"X-UID: 5\r\n"
				"status: RO\r\n"
				"X-Keywords: $Junk\r\n"
				"  continued\r\n"
				"\r\nb\r\n\r\n"
				"From a@b Thu Jan  1 00:00:00 2026\n"
				"X-IMAPbase: 1 99\nX-UID: x\n\n";
	struct got g;

	(void)state;
	both(&g, t);
	assert_int_equal(g.n, 2);
	assert_true(g.m[0].imapbase);
	assert_false(g.m[0].pseudo);
	assert_int_equal(g.m[0].base_validity, 1795550914u);
	assert_int_equal(g.m[0].base_last_uid, 7);
	assert_int_equal(g.m[0].uid, 5);
	assert_string_equal(g.m[0].status, "RO");
	assert_int_equal(g.m[0].hdr_vsize, strlen("Subject: s\r\n\r\n"));
	assert_int_equal(g.m[0].body_vsize, 3);
	/* X-IMAPbase counts only in the first message; a bad X-UID is none */
	assert_false(g.m[1].imapbase);
	assert_int_equal(g.m[1].uid, 0);
	assert_int_equal(g.m[1].hdr_vsize, 2);
}

static void test_pseudo_and_content_length(void **state)
{
	static const char t[] = "From MAILER_DAEMON Thu Jan  1 00:00:00 2026\n"
				"X-IMAP: 42 0000000009\n\ninternal\n\n"
				"From a@b Thu Jan  1 00:00:00 2026\nContent-Length: 34\n\n"
				"From x@y Thu Jan  1 00:00:00 2026\n\n"
				"From a@b Thu Jan  1 00:00:00 2026\nContent-Length: 3\n\nabcdef\n";
	struct got g;

	(void)state;
	both(&g, t);
	assert_int_equal(g.n, 3);
	assert_true(g.m[0].pseudo);
	assert_int_equal(g.m[0].base_validity, 42);
	assert_int_equal(g.m[0].base_last_uid, 9);
	assert_true(g.m[1].has_cl);
	assert_int_equal(g.m[1].end - g.m[1].body_off, 34);
	/* a wrong Content-Length is ignored */
	assert_true(g.m[2].has_cl);
	assert_int_equal(g.m[2].end - g.m[2].body_off, 6);
}

/* Dovecot's apop3d MD5: Date and Message-ID before the first Received, the first Received, Delivered-To */
static void test_header_md5(void **state)
{
	static const char t[] = "From a@b Thu Jan  1 00:00:00 2026\n"
				"Date: Mon, 1 Jan 2026 00:00:00 +0000\n"
				"Message-ID: <m1@x>\n"
				"Received: from a\n"
				"  by b\n"
				"Received: from c\n"
				"Delivered-To: u@x\n"
				"X-UID: 5\n"
				"Subject: s\n\nbody\n";
	struct got g;
	struct buf hex = BUF_INIT(64);

	(void)state;
	both(&g, t);
	assert_int_equal(g.n, 1);
	hex_encode(&hex, g.m[0].md5, 16);
	assert_string_equal(buf_cstr(&hex), "fd4595fc869c3986c5412221776775f7");
	buf_free(&hex);
}

static void test_hdr_split(void **state)
{
	static const char h[] = "Subject: s\nX-UID: 4\n  cont\nX-Status: AF\nX-Keywords: a\n b\nContent-Length: 9\n"
				"To: t\nStatus: RO\nX-IMAPbase: 1 2\n";
	struct buf vis = BUF_INIT(4096), keep = BUF_INIT(4096);

	(void)state;
	assert_int_equal(mbox_hdr_split(h, strlen(h), &vis, &keep), 0);
	assert_string_equal(buf_cstr(&vis), "Subject: s\nTo: t\n");
	assert_string_equal(buf_cstr(&keep), "X-Status: AF\nX-Keywords: a\n b\n");
	buf_free(&vis);
	buf_free(&keep);
	assert_true(mbox_from_line_valid("From a@b Thu Jan  1 00:00:00 2026\n", 34));
	assert_true(mbox_from_line_valid("From MAILER-DAEMON Sat Nov 28 09:41:07 2026", 43));
	assert_false(mbox_from_line_valid("From here is text\n", 18));
	assert_false(mbox_from_line_valid("From: x@y 10:00\n", 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_metadata_hidden),
		cmocka_unit_test(test_pseudo_and_content_length),
		cmocka_unit_test(test_header_md5),
		cmocka_unit_test(test_hdr_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
