/*
 * fuzz_mbox.c - libFuzzer target for src/libmail/mbox_parse.c
 *
 * Input: an mbox file. The first byte picks the size of the pieces it is fed
 * in; the messages found must be the same as when it is fed whole, in file
 * order, with offsets inside the file (from < hdr <= hdr_end <= body <= end,
 * each message after the previous one), and splitting each header must keep
 * no more bytes than it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmail/mbox_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 4096

struct run {
	const char *text;
	size_t len, n;
	struct mbox_pmsg *m;
};

static void on_msg(void *ctx, const struct mbox_pmsg *m)
{
	struct run *r = ctx;

	if (r->n < MAX_MSGS)
		r->m[r->n] = *m;
	r->n++;
}

static void on_peek(void *ctx, uint64_t off, char *b, size_t n, size_t *got)
{
	struct run *r = ctx;

	*got = 0;
	if (off < r->len) {
		*got = r->len - off < n ? r->len - off : n;
		memcpy(b, r->text + off, *got);
	}
}

static void run(struct run *r, const char *text, size_t len, size_t step)
{
	struct mbox_parser p;

	r->text = text;
	r->len = len;
	r->n = 0;
	mbox_parse_init(&p, on_peek, on_msg, r);
	for (size_t i = 0; i < len; i += step)
		mbox_parse_feed(&p, text + i, len - i < step ? len - i : step);
	mbox_parse_finish(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mbox_pmsg a[MAX_MSGS], b[MAX_MSGS];
	struct run whole = { .m = a }, split = { .m = b };
	const char *text;
	size_t step, len;
	uint64_t prev_end = 0;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	text = (const char *)data + 1;
	len = size - 1;
	run(&whole, text, len, len ? len : 1);
	run(&split, text, len, step);
	if (whole.n != split.n)
		abort();
	for (size_t i = 0; i < whole.n && i < MAX_MSGS; i++) {
		const struct mbox_pmsg *m = &a[i];
		struct buf vis = BUF_INIT(0), keep = BUF_INIT(0);

		if (memcmp(&a[i], &b[i], sizeof(a[i])) != 0)
			abort();
		if (m->from_off < prev_end || m->from_off >= m->hdr_off || m->hdr_off > m->hdr_end ||
		    m->hdr_end > m->body_off || m->body_off > m->end || m->end > len)
			abort();
		prev_end = m->end;
		if (mbox_hdr_split(text + m->hdr_off, (size_t)(m->hdr_end - m->hdr_off), &vis, &keep) < 0 ||
		    vis.len + keep.len > m->hdr_end - m->hdr_off)
			abort();
		buf_free(&vis);
		buf_free(&keep);
	}
	return 0;
}
