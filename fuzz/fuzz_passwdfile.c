/*
 * fuzz_passwdfile.c - libFuzzer target for src/libmail/passwdfile.c
 *
 * Input: a passwd-file. Every parsed entry must be found again by its name,
 * have a non-empty user name, and its extra fields must iterate to the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmail/passwdfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct pwf *f = pwf_parse((const char *)data, size, "fuzz", &d);
	const uint8_t *p = data, *end = data + size;

	/* look up the first field of every line */
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const uint8_t *c = memchr(p, ':', (size_t)(le - p));
		size_t n = (size_t)((c ? c : le) - p);
		char *name = malloc(n + 1);
		const struct pwf_entry *e;

		memcpy(name, p, n);
		name[n] = '\0';
		e = pwf_lookup(f, name);
		if (e != NULL) {
			char k[16], v[16];
			size_t pos = 0, items = 0;

			if (strcmp(e->user, name) != 0 || e->user[0] == '\0')
				abort();
			while (pwf_extra_next(e->extra, &pos, k, sizeof(k), v, sizeof(v)))
				if (++items > size)
					abort();
		}
		free(name);
		p = nl ? nl + 1 : end;
	}
	pwf_free(&f);
	diag_free(&d);
	return 0;
}
