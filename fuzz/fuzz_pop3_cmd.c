/*
 * fuzz_pop3_cmd.c - libFuzzer target for src/libmail/pop3_cmd.c
 *
 * Input: one command line. A parse must succeed or fail with an error text;
 * on success the argument slices lie inside the line, message numbers are
 * 1..2^31-1 and the keyword matches the command's name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libmail/pop3_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* inside - is s within line[0..n)? */
static int inside(struct slice s, const char *line, size_t n)
{
	return s.n == 0 || (s.p >= line && s.p + s.n <= line + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1);
	struct pop3_cmd c;
	const char *err = NULL;

	memcpy(line, data, size);
	if (pop3_cmd_parse(line, size, 512, &c, &err) == 0) {
		const char *name = pop3_cmd_name(c.id);

		if (!inside(c.arg1, line, size) || !inside(c.arg2, line, size) || strncasecmp(line, name, strlen(name)))
			abort();
		if (c.nargs && (c.msg == 0 || c.msg > 0x7fffffffu))
			abort();
	} else if (err == NULL) {
		abort();
	}
	free(line);
	return 0;
}
