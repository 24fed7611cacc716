/*
 * fuzz_smtp_cmd.c - libFuzzer target for src/libmail/smtp_cmd.c and smtp_path.c
 *
 * Input: byte 0 = flags (bit 0: SMTPUTF8 transaction), the rest is one command
 * line. The parse must return 1 or -1; on success every string is
 * NUL-terminated and within the line's bounds, the normalized path can be
 * built, and a successful path parses again on its own; on error the reply
 * is a sane code with printable text. ASan and UBSan watch the bounds; any
 * violated property aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmail/smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* printable - is s printable ASCII (what a reply may carry)? */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct smtp_cmd_limits lim = { 512, 256, 10, 500, 10240000 };
	struct arena *a;
	struct smtp_cmd c;
	const char *line;
	char *copy;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	n = size - 1;
	/* an exact-size heap copy, so that ASan sees any read past the end */
	copy = malloc(n ? n : 1);
	memcpy(copy, data + 1, n);
	line = copy;
	a = arena_new(0);
	rc = smtp_cmd_parse(line, n, &lim, data[0] & 1 ? SMTP_CMD_SMTPUTF8 : 0, a, &c);
	if (rc != 1 && rc != -1)
		abort();
	if (rc == -1) {
		if (c.err.code < 400 || c.err.code > 599 || !c.err.text || !printable(c.err.text))
			abort();
	} else if (c.verb == SMTP_VERB_MAIL || c.verb == SMTP_VERB_RCPT) {
		struct smtp_path again;
		struct smtp_status err;
		char *path = NULL;
		size_t len = strlen(c.path.addr);

		if (len > n || strlen(c.path.local) > len || strlen(c.path.domain) > len)
			abort();
		(void)smtp_path_normalize(&c.path, a);
		/* the address, re-wrapped, is a valid path by itself */
		path = malloc(len + 2);
		path[0] = '<';
		memcpy(path + 1, c.path.addr, len);
		path[len + 1] = '>';
		if (smtp_path_parse(path, len + 2, c.verb == SMTP_VERB_RCPT, 1, 1000, a, &again, &err) != 0)
			abort();
		if (strcmp(again.addr, c.path.addr) != 0)
			abort();
		free(path);
	} else if (strlen(c.arg) > n) {
		abort();
	}
	arena_free(&a);
	free(copy);
	return 0;
}
