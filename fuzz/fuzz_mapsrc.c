/*
 * fuzz_mapsrc.c - libFuzzer target: lookup table source parser, inline: lists, CIDR parsing
 *
 * Every input is parsed three ways: as a postmap(1) source (line limit taken
 * from the first byte, so the "too long" paths are reached), each entry's key
 * as a CIDR network and value as an IP address; and the whole input as an
 * inline: list. Entry invariants are checked (non-empty key without white
 * space, non-empty trimmed value, slices inside the input or the scratch).
 *
 * Build:    make fuzz;   run: build/fuzz/fuzz_mapsrc -dict=fuzz/mapsrc.dict fuzz/corpus/mapsrc
 * Refs:     src/libmail/mapsrc.h, src/libmail/cidr.h
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/strutil.h"
#include "libmail/cidr.h"
#include "libmail/mapsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_entry - invariants of a returned entry; trap on violation */
static void check_entry(const struct mapsrc_entry *e)
{
	size_t i;

	if (e->key.n == 0 || e->value.n == 0 || e->line == 0)
		__builtin_trap();
	for (i = 0; i < e->key.n; i++)
		if (ascii_isspace(e->key.p[i]) || e->key.p[i] == '\0')
			__builtin_trap();
	if (ascii_isspace(e->value.p[0]) || ascii_isspace(e->value.p[e->value.n - 1]))
		__builtin_trap();
}

/* fuzz_cidr - parse key as a network and value as an address, match and format */
static void fuzz_cidr(const struct mapsrc_entry *e)
{
	struct cidr c;
	struct ip_addr a;
	struct buf b = BUF_INIT(256);
	const char *why;

	if (cidr_parse(e->key.p, e->key.n, &c, &why) != 0)
		return;
	if (c.prefix > (c.net.family == IP_V4 ? 32 : 128))
		__builtin_trap();
	(void)cidr_is_everything(&c);
	if (cidr_format(&c, &b) != 0)
		__builtin_trap();
	/* the canonical text must parse back to the same network */
	{
		struct cidr again;

		if (cidr_parse(b.data, b.len, &again, &why) != 0 || again.prefix != c.prefix
		    || memcmp(again.net.a, c.net.a, 16) != 0)
			__builtin_trap();
	}
	buf_free(&b);
	if (ip_addr_parse(e->value.p, e->value.n, &a, &why) == 0)
		(void)cidr_match(&c, &a);
}

/* LLVMFuzzerTestOneInput - one input through the source parser, CIDR parsing and inline: */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapsrc_limits lim = { 0 };
	struct mapsrc ms;
	struct mapsrc_entry e;
	struct mapsrc_inline it;
	struct slice k, v;
	const char *why;
	enum mapsrc_result r;
	unsigned last = 0;

	if (size > 0)
		lim.line_max = data[0] < 128 ? 1 + (size_t)data[0] * 4 : 0;
	/* postmap syntax, then aliases(5) syntax over the same bytes */
	for (lim.alias = 0; lim.alias < 2; lim.alias++) {
		last = 0;
		mapsrc_init(&ms, data, size, &lim);
		while ((r = mapsrc_next(&ms, &e, &why)) != MAPSRC_END) {
			/* lines only move forward */
			if (e.line <= last && e.line != 0)
				__builtin_trap();
			if (e.line)
				last = e.line;
			if (r == MAPSRC_ENTRY) {
				check_entry(&e);
				if (!lim.alias)
					fuzz_cidr(&e);
			}
		}
		mapsrc_free(&ms);
	}

	if (mapsrc_inline_init(&it, (const char *)data, size, &why) == 0) {
		while (mapsrc_inline_next(&it, &k, &v, &why) == 1)
			if (k.n == 0)
				__builtin_trap();
	}
	return 0;
}
