/*
 * fuzz_qfile.c - libFuzzer target for src/libmail/qfile.c (the queue file decoder)
 *
 * Input: the bytes of a queue file. Properties checked besides ASan/UBSan:
 * a file that decodes as complete re-encodes to exactly the same bytes (the
 * format has one encoding, padding included), and its prefix one byte shorter
 * is "incomplete", never complete or corrupt.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "libmail/qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct qfile_env env, env2;
	const char *error = NULL;
	int rc = qfile_decode(data, size, a, &env, &error);

	if (error == NULL && rc != 1)
		abort();
	if (rc == 1) {
		struct buf b = BUF_INIT(0);

		if (qfile_encode(&b, &env, data + env.content_offset, env.content_size) != 0)
			abort();
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
		buf_free(&b);
		if (qfile_decode(data, size - 1, a, &env2, &error) != 0)
			abort();
	}
	arena_free(&a);
	return 0;
}
