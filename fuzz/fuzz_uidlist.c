/*
 * fuzz_uidlist.c - libFuzzer target for src/libmail/uidlist.c
 *
 * Input: a dovecot-uidlist file. A list that parses must format to text that
 * parses again into the same uids and names, every record must be found by
 * uid and by name, and uids must ascend below the next uid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmail/uidlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *err;
	unsigned line;
	struct uidlist *l = uidlist_parse((const char *)data, size, &line, &err), *again;
	struct buf out = BUF_INIT(0);
	size_t i;

	if (l == NULL) {
		if (err == NULL)
			abort();
		return 0;
	}
	for (i = 0; i < l->n; i++) {
		if (l->recs[i].uid >= l->next_uid || (i && l->recs[i].uid <= l->recs[i - 1].uid))
			abort();
		if (uidlist_find_uid(l, l->recs[i].uid) != &l->recs[i] ||
		    uidlist_find_name(l, l->recs[i].name) != &l->recs[i])
			abort();
	}
	if (uidlist_format(l, &out) < 0)
		abort();
	again = uidlist_parse(out.data, out.len, &line, &err);
	if (again == NULL || again->n != l->n || again->next_uid != l->next_uid || again->uidvalidity != l->uidvalidity)
		abort();
	for (i = 0; i < l->n; i++)
		if (again->recs[i].uid != l->recs[i].uid || strcmp(again->recs[i].name, l->recs[i].name) != 0)
			abort();
	uidlist_free(&again);
	uidlist_free(&l);
	buf_free(&out);
	return 0;
}
