/*
 * fuzz_smtp_data.c - libFuzzer target for src/libmail/smtp_data.c
 *
 * Input: byte 0 = policies (bits 0-1 bare LF, bits 2-3 bare CR) and mode (bit
 * 4: BDAT), byte 1 = max_size (0: none), byte 2 = seed of the chunk sizes
 * (and, in BDAT mode, of the BDAT chunk lengths), the rest is the stream.
 * The stream is decoded twice, whole and in seeded small pieces: both runs
 * must give the same content, the same events at the same offsets and the
 * same counters (the drip-feed property). Also checked: DATA ends only right
 * after "<CR><LF>.<CR><LF>" (or ".<CR><LF>" at the very start), content never
 * passes max_size. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmail/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 64

struct run {
	struct buf out;
	size_t ev[MAX_EVENTS]; /* offset * 8 + kind (1: error, 2: end/chunk complete) */
	size_t nev;
	uint64_t size, bare_lf, bare_cr, long_lines;
	int error;
};

/* next_rand - tiny LCG */
static unsigned next_rand(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

/* decode - feed p[0..n) in pieces of 1..piece_mod bytes (0: whole) */
static void decode(const uint8_t *p, size_t n, const struct smtp_data_limits *lim, int bdat, unsigned seed,
		   unsigned piece_mod, struct run *r)
{
	struct smtp_data d;
	unsigned chunk_seed = seed ^ 0x5a5a;
	size_t pos = 0, chunk_total = 0;

	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 0);
	if (bdat) {
		size_t len = next_rand(&chunk_seed) % 9;

		smtp_data_begin_bdat(&d, lim);
		chunk_total = len;
		smtp_data_bdat(&d, len, chunk_total >= n);
	} else {
		smtp_data_begin(&d, lim);
	}
	while (!d.done) {
		size_t k = n - pos, used;
		int rc;

		if (piece_mod) {
			k = 1 + next_rand(&seed) % piece_mod;
			if (k > n - pos)
				k = n - pos;
		}
		rc = smtp_data_feed(&d, p + pos, k, &r->out, &used);
		if (used > k)
			abort();
		pos += used;
		if (rc == -1 || rc == 1) {
			if (r->nev < MAX_EVENTS)
				r->ev[r->nev++] = pos * 8 + (rc == -1 ? 1 : 2);
			if (rc == 1 && bdat && !d.done) {
				size_t len = next_rand(&chunk_seed) % 9;

				chunk_total += len;
				smtp_data_bdat(&d, len, chunk_total >= n);
			}
			continue;
		}
		if (rc != 0 || used != k)
			abort();
		if (pos == n)
			break;
	}
	r->size = d.size;
	r->bare_lf = d.bare_lf_count;
	r->bare_cr = d.bare_cr_count;
	r->long_lines = d.long_lines;
	r->error = (int)d.error;
	/* DATA ends only at CRLF.CRLF */
	if (!bdat && d.done) {
		size_t e = r->ev[r->nev - 1] / 8;

		if (e < 3 || memcmp(p + e - 3, ".\r\n", 3) != 0 || (e != 3 && (e < 5 || memcmp(p + e - 5, "\r\n", 2))))
			abort();
	}
	if (lim->max_size && r->out.len > lim->max_size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data_limits lim;
	struct run a, b;
	int bdat;
	unsigned seed;

	if (size < 3)
		return 0;
	lim.bare_lf = (enum smtp_bare_lf)(data[0] & 3) % 3;
	lim.bare_cr = (enum smtp_bare_cr)((data[0] >> 2) & 3) % 3;
	bdat = (data[0] >> 4) & 1;
	lim.max_size = data[1];
	lim.max_line = 8;
	seed = data[2];
	decode(data + 3, size - 3, &lim, bdat, seed, 0, &a);
	decode(data + 3, size - 3, &lim, bdat, seed, 1 + seed % 7, &b);
	if (a.out.len != b.out.len || memcmp(buf_cstr(&a.out), buf_cstr(&b.out), a.out.len) != 0 ||
	    a.nev != b.nev || memcmp(a.ev, b.ev, a.nev * sizeof(a.ev[0])) != 0 || a.size != b.size ||
	    a.bare_lf != b.bare_lf || a.bare_cr != b.bare_cr || a.long_lines != b.long_lines ||
	    a.error != b.error)
		abort();
	buf_free(&a.out);
	buf_free(&b.out);
	return 0;
}
