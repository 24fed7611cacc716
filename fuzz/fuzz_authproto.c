/*
 * fuzz_authproto.c - libFuzzer target for src/libmail/authproto.c
 *
 * Input: one protocol line. It is split; when that succeeds, every field must
 * escape and split back to itself (escaping is the inverse of splitting), and
 * an AUTH line must parse or fail with an error text, its strings pointing
 * into the fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmail/authproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *f[AUTHPROTO_FIELDS_MAX], *g[AUTHPROTO_FIELDS_MAX];
	const char *err = NULL;
	struct authproto_auth a;
	struct buf b = BUF_INIT(1 << 20);
	int n;

	memcpy(line, data, size);
	line[size] = '\0';
	n = authproto_split(line, size, f, AUTHPROTO_FIELDS_MAX, &err);
	if (n < 0) {
		if (err == NULL)
			abort();
	} else {
		for (int i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(&b, '\t');
			if (authproto_escape(&b, f[i]) < 0)
				abort();
		}
		char *copy = strdup(buf_cstr(&b));
		if (authproto_split(copy, b.len, g, AUTHPROTO_FIELDS_MAX, &err) != n)
			abort();
		for (int i = 0; i < n; i++)
			if (strcmp(f[i], g[i]) != 0)
				abort();
		free(copy);
		if (authproto_parse_auth(f, (size_t)n, &a, &err) == 0) {
			if (a.id == 0 || a.mech == NULL || a.service == NULL || (a.lport > 65535 || a.rport > 65535))
				abort();
		} else if (err == NULL) {
			abort();
		}
	}
	buf_free(&b);
	free(line);
	return 0;
}
