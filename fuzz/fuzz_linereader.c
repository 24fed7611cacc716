/*
 * fuzz_linereader.c - libFuzzer target for src/lib/linereader.c
 *
 * Input: byte 0 = max_line (0..63), byte 1 = seed of the chunk sizes, the rest
 * is the stream. The stream is split twice, whole and in seeded small chunks,
 * and both runs must give the same results (the drip-feed property); ASan and
 * UBSan watch the bounds. Any difference aborts.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/linereader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RESULTS 4096

struct result {
	enum lr_status st;
	size_t n;
	uint32_t sum; /* checksum of the text */
	int crlf;
};

/* collect - drain lr into r[*nr...] until NEED_MORE or EOF */
static void collect(struct linereader *lr, struct result *r, size_t *nr)
{
	struct lr_line line;
	enum lr_status st;

	while ((st = linereader_next(lr, &line)) != LR_NEED_MORE) {
		if (*nr < MAX_RESULTS) {
			size_t i;
			uint32_t sum = 2166136261u;

			if (st != LR_EOF)
				for (i = 0; i < line.text.n; i++)
					sum = (sum ^ (uint8_t)line.text.p[i]) * 16777619u;
			r[*nr].st = st;
			r[*nr].n = st == LR_EOF ? 0 : line.text.n;
			r[*nr].sum = st == LR_EOF ? 0 : sum;
			r[*nr].crlf = st == LR_LINE ? line.crlf : 0;
			(*nr)++;
		}
		if (st == LR_EOF)
			return;
		if (linereader_pending(lr) > lr->max_line + 1 && st == LR_NEED_MORE)
			abort();
	}
	if (linereader_pending(lr) > lr->max_line + 1)
		abort();
}

/* run - feed p[0..n) in chunks of 1..chunk_mod bytes driven by seed (chunk_mod 0: whole) */
static size_t run(const uint8_t *p, size_t n, size_t max, unsigned seed, unsigned chunk_mod,
		  struct result *r)
{
	struct linereader lr;
	size_t pos = 0, nr = 0;

	linereader_init(&lr, max, n + 1);
	while (pos < n) {
		size_t k = n - pos;

		if (chunk_mod) {
			seed = seed * 1103515245u + 12345u;
			k = 1 + (seed >> 16) % chunk_mod;
			if (k > n - pos)
				k = n - pos;
		}
		if (linereader_feed(&lr, p + pos, k) != 0)
			abort();
		pos += k;
		collect(&lr, r, &nr);
	}
	linereader_set_eof(&lr);
	collect(&lr, r, &nr);
	linereader_free(&lr);
	return nr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result a[MAX_RESULTS], b[MAX_RESULTS];
	size_t na, nb, max, i;
	unsigned seed;

	if (size < 2)
		return 0;
	max = data[0] % 64;
	seed = data[1];
	na = run(data + 2, size - 2, max, 0, 0, a);
	nb = run(data + 2, size - 2, max, seed, 1 + seed % 7, b);
	if (na != nb)
		abort();
	for (i = 0; i < na; i++)
		if (a[i].st != b[i].st || a[i].n != b[i].n || a[i].sum != b[i].sum || a[i].crlf != b[i].crlf)
			abort();
	if (na == 0 || a[na - 1].st != LR_EOF)
		abort();
	return 0;
}
