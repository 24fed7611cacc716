/*
 * test_qfile.c - unit tests for src/libmail/qfile.c (queue file encoder and strict decoder)
 *
 * Round trip of every record type, truncation at every offset ("incomplete", never
 * complete, never corrupt), the unfinished content length, in-place status
 * updates, and one test per kind of corruption the decoder must refuse.
 */
#include "unit.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "libmail/qfile.h"

static const char content[] = "Received: from client\nSubject: test\n\nFrom the body\n.dot\n";

static struct qfile_rcpt rcpts[3];

/* sample - an envelope that uses every field */
static void sample(struct qfile_env *env)
{
	memset(env, 0, sizeof(*env));
	env->arrival_us = 1700000000123456ULL;
	env->queue_id = "4jZ5pv083N054fnj";
	env->sender = "alice@example.org";
	env->client.addr = "192.0.2.7";
	env->client.name = "mx.example.net";
	env->client.helo = "helo.example.net";
	env->client.protocol = "ESMTPA";
	env->client.sasl_user = "alice";
	env->params.body = QFILE_BODY_8BITMIME;
	env->params.smtputf8 = true;
	env->params.ret = QFILE_RET_HDRS;
	env->params.envid = "QQ314159";
	memset(rcpts, 0, sizeof(rcpts));
	rcpts[0] = (struct qfile_rcpt){ .orig = "team@example.org", .addr = "john@example.org", .orcpt = "",
					.notify = 0, .status = QFILE_RCPT_PENDING, .text = "" };
	rcpts[1] = (struct qfile_rcpt){ .orig = "team@example.org", .addr = "jane@example.org",
					.orcpt = "rfc822;team@example.org",
					.notify = QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE,
					.status = QFILE_RCPT_DELIVERED, .text = "delivered to maildir" };
	memcpy(rcpts[1].dsn, "2.0.0", 6);
	rcpts[2] = (struct qfile_rcpt){ .orig = "x@example.org", .addr = "x@example.org", .orcpt = "",
					.notify = QFILE_NOTIFY_NEVER, .status = QFILE_RCPT_FAILED,
					.text = "User unknown" };
	memcpy(rcpts[2].dsn, "5.1.1", 6);
	env->rcpts = rcpts;
	env->nrcpt = 3;
}

/* encode_sample - the sample file into b */
static void encode_sample(struct buf *b)
{
	struct qfile_env env;

	sample(&env);
	buf_init(b, 0);
	assert_int_equal(qfile_encode(b, &env, content, strlen(content)), 0);
}

static void test_round_trip(void **state)
{
	struct qfile_env in, out;
	struct buf b;
	struct arena *a = arena_new(0);
	const char *error = NULL;
	size_t i;

	(void)state;
	sample(&in);
	encode_sample(&b);
	assert_memory_equal(b.data, QFILE_MAGIC, QFILE_MAGIC_LEN);
	assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 1);
	assert_true(out.arrival_us == in.arrival_us);
	assert_string_equal(out.queue_id, in.queue_id);
	assert_string_equal(out.sender, in.sender);
	assert_string_equal(out.client.addr, "192.0.2.7");
	assert_string_equal(out.client.name, "mx.example.net");
	assert_string_equal(out.client.helo, "helo.example.net");
	assert_string_equal(out.client.protocol, "ESMTPA");
	assert_string_equal(out.client.sasl_user, "alice");
	assert_int_equal(out.params.body, QFILE_BODY_8BITMIME);
	assert_true(out.params.smtputf8);
	assert_int_equal(out.params.ret, QFILE_RET_HDRS);
	assert_string_equal(out.params.envid, "QQ314159");
	assert_int_equal(out.nrcpt, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(out.rcpts[i].orig, in.rcpts[i].orig);
		assert_string_equal(out.rcpts[i].addr, in.rcpts[i].addr);
		assert_string_equal(out.rcpts[i].orcpt, in.rcpts[i].orcpt);
		assert_int_equal(out.rcpts[i].notify, in.rcpts[i].notify);
		assert_int_equal(out.rcpts[i].status, in.rcpts[i].status);
		assert_string_equal(out.rcpts[i].dsn, in.rcpts[i].dsn);
		assert_string_equal(out.rcpts[i].text, in.rcpts[i].text);
		/* the status slot offset points at the status byte in the file */
		assert_int_equal((uint8_t)b.data[out.rcpts[i].status_offset], in.rcpts[i].status);
	}
	/* the content is where the decoder says, byte for byte */
	assert_int_equal(out.content_size, strlen(content));
	assert_memory_equal(b.data + out.content_offset, content, strlen(content));
	/* re-encoding the decoded envelope gives the same bytes */
	{
		struct buf b2;

		buf_init(&b2, 0);
		assert_int_equal(qfile_encode(&b2, &out, b.data + out.content_offset, out.content_size), 0);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.data, b.data, b.len);
		buf_free(&b2);
	}
	buf_free(&b);
	arena_free(&a);
}

static void test_null_sender_no_rcpt_empty_content(void **state)
{
	struct qfile_env in, out;
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);
	const char *error = NULL;

	(void)state;
	sample(&in);
	in.sender = "";
	in.nrcpt = 0;
	in.params = (struct qfile_params){ QFILE_BODY_NONE, false, QFILE_RET_NONE, "" };
	assert_int_equal(qfile_encode(&b, &in, "", 0), 0);
	assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 1);
	assert_string_equal(out.sender, "");
	assert_int_equal(out.nrcpt, 0);
	assert_int_equal(out.content_size, 0);
	assert_false(out.params.smtputf8);
	assert_string_equal(out.params.envid, "");
	buf_free(&b);
	arena_free(&a);
}

static void test_truncated_everywhere(void **state)
{
	struct buf b;
	struct qfile_env out;
	const char *error;
	size_t n;

	(void)state;
	encode_sample(&b);
	for (n = 0; n < b.len; n++) {
		struct arena *a = arena_new(0);
		/* a copy of exactly n bytes, so ASan sees any read past it */
		char *copy = malloc(n ? n : 1);

		memcpy(copy, b.data, n);
		error = NULL;
		if (qfile_decode(copy, n, a, &out, &error) != 0)
			fail_msg("prefix of %zu/%zu bytes not incomplete: %s", n, b.len, error ? error : "");
		assert_non_null(strstr(error, "incomplete"));
		free(copy);
		arena_free(&a);
	}
	buf_free(&b);
}

static void test_unfinished_length(void **state)
{
	struct qfile_env env, out;
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);
	const char *error = NULL;
	size_t len_at, i;

	(void)state;
	sample(&env);
	assert_int_equal(qfile_put_header(&b), 0);
	assert_int_equal(qfile_put_envelope(&b, &env), 0);
	for (i = 0; i < env.nrcpt; i++)
		assert_int_equal(qfile_put_rcpt(&b, &env.rcpts[i]), 0);
	assert_int_equal(qfile_put_content_start(&b, &len_at), 0);
	assert_int_equal(buf_puts(&b, content), 0);
	/* the writer crashed before patching the length; even an end record does not help */
	assert_int_equal(qfile_put_end(&b, 3, strlen(content)), 0);
	assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 0);
	assert_non_null(strstr(error, "incomplete"));
	/* patched: complete */
	qfile_put_len((uint8_t *)b.data + len_at, (uint32_t)strlen(content));
	assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 1);
	buf_free(&b);
	arena_free(&a);
}

static void test_status_in_place(void **state)
{
	struct buf b;
	struct arena *a = arena_new(0);
	struct qfile_env out;
	const char *error = NULL;
	uint8_t slot[QFILE_STATUS_SIZE];
	char longtext[QFILE_TEXT_MAX + 50];

	(void)state;
	encode_sample(&b);
	assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 1);
	assert_int_equal(out.rcpts[0].status, QFILE_RCPT_PENDING);
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	assert_int_equal(qfile_status_encode(slot, QFILE_RCPT_DEFERRED, "4.2.0", longtext), 0);
	memcpy(b.data + out.rcpts[0].status_offset, slot, sizeof(slot));
	assert_int_equal(qfile_status_encode(slot, QFILE_RCPT_PENDING, "", ""), 0);
	memcpy(b.data + out.rcpts[1].status_offset, slot, sizeof(slot));
	assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 1);
	assert_int_equal(out.rcpts[0].status, QFILE_RCPT_DEFERRED);
	assert_string_equal(out.rcpts[0].dsn, "4.2.0");
	assert_int_equal(strlen(out.rcpts[0].text), QFILE_TEXT_MAX); /* cut, not overflowing */
	assert_int_equal(out.rcpts[1].status, QFILE_RCPT_PENDING);
	assert_string_equal(out.rcpts[1].dsn, "");
	assert_string_equal(out.rcpts[1].text, "");
	assert_int_equal(out.rcpts[2].status, QFILE_RCPT_FAILED);
	/* bad slots are refused */
	assert_int_equal(qfile_status_encode(slot, (enum qfile_rcpt_status)'X', "2.0.0", ""), -1);
	assert_int_equal(qfile_status_encode(slot, QFILE_RCPT_DELIVERED, "", ""), -1);
	assert_int_equal(qfile_status_encode(slot, QFILE_RCPT_PENDING, "2.0.0", ""), -1);
	assert_int_equal(qfile_status_encode(slot, QFILE_RCPT_FAILED, "5.1.1 x", ""), -1);
	assert_int_equal(qfile_status_encode(slot, QFILE_RCPT_FAILED, "5.1.1.1.1.1.1", ""), -1);
	buf_free(&b);
	arena_free(&a);
}

static void test_encoder_refuses(void **state)
{
	struct qfile_env env;
	struct buf b = BUF_INIT(0);
	char *big = malloc(QFILE_STR_MAX + 2);

	(void)state;
	sample(&env);
	assert_int_equal(qfile_encode(&b, &env, "no final newline", 16), -1);
	env.queue_id = "bad/id";
	assert_int_equal(qfile_encode(&b, &env, "", 0), -1);
	env.queue_id = "";
	assert_int_equal(qfile_encode(&b, &env, "", 0), -1);
	sample(&env);
	memset(big, 'a', QFILE_STR_MAX + 1);
	big[QFILE_STR_MAX + 1] = '\0';
	env.client.helo = big;
	assert_int_equal(qfile_encode(&b, &env, "", 0), -1);
	sample(&env);
	rcpts[0].notify = 0x10;
	assert_int_equal(qfile_encode(&b, &env, "", 0), -1);
	sample(&env);
	memcpy(rcpts[0].dsn, "2.0.0", 6); /* pending with a code */
	assert_int_equal(qfile_encode(&b, &env, "", 0), -1);
	assert_int_equal(b.len, 0); /* nothing half-appended */
	/* a buffer maximum is respected */
	sample(&env);
	buf_free(&b);
	buf_init(&b, 100);
	assert_int_equal(qfile_encode(&b, &env, content, strlen(content)), -1);
	assert_int_equal(b.len, 0);
	free(big);
	buf_free(&b);
}

/* expect_corrupt - decoding the buffer gives -1 with an error containing what */
static void expect_corrupt(const struct buf *b, const char *what)
{
	struct arena *a = arena_new(0);
	struct qfile_env out;
	const char *error = NULL;
	int rc = qfile_decode(b->data, b->len, a, &out, &error);

	if (rc != -1 || error == NULL || strstr(error, what) == NULL)
		fail_msg("expected corrupt (%s), got %d: %s", what, rc, error ? error : "(null)");
	arena_free(&a);
}

/* find_rec - offset of the first record of type t in a sample file */
static size_t find_rec(const struct buf *b, char t)
{
	size_t off = QFILE_MAGIC_LEN;

	while (off < b->len) {
		uint32_t len = (uint32_t)(uint8_t)b->data[off + 1] << 24 | (uint32_t)(uint8_t)b->data[off + 2] << 16 |
			       (uint32_t)(uint8_t)b->data[off + 3] << 8 | (uint8_t)b->data[off + 4];

		if (b->data[off] == t)
			return off;
		off += QFILE_REC_HDR + len;
	}
	fail_msg("no record %c", t);
	return 0;
}

static void test_corrupt(void **state)
{
	struct buf b;
	size_t off;

	(void)state;
	encode_sample(&b);
	b.data[0] = 'X';
	expect_corrupt(&b, "bad magic");
	b.data[0] = 'P';
	b.data[14] = '2'; /* another version */
	expect_corrupt(&b, "bad magic");
	b.data[14] = '1';
	/* unknown record type */
	off = find_rec(&b, 'S');
	b.data[off] = 'Q';
	expect_corrupt(&b, "unknown record type 0x51");
	/* a known type in the wrong place */
	b.data[off] = 'T';
	expect_corrupt(&b, "out of order");
	b.data[off] = 'S';
	/* a NUL inside the sender */
	b.data[off + QFILE_REC_HDR + 2] = '\0';
	expect_corrupt(&b, "bad record 'S'");
	b.data[off + QFILE_REC_HDR + 2] = 'i';
	/* an inner string length that runs past its record */
	off = find_rec(&b, 'C');
	b.data[off + QFILE_REC_HDR] = 0x7f;
	expect_corrupt(&b, "bad record 'C'");
	b.data[off + QFILE_REC_HDR] = 0;
	/* a record length over the limit */
	b.data[off + 1] = 0x7f;
	expect_corrupt(&b, "length");
	b.data[off + 1] = 0;
	/* a bad status byte, and a dirty padding byte, in a recipient slot */
	off = find_rec(&b, 'R');
	{
		struct arena *a = arena_new(0);
		struct qfile_env out;
		const char *error;
		size_t so;

		assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 1);
		so = out.rcpts[0].status_offset;
		b.data[so] = 'Z';
		expect_corrupt(&b, "bad record 'R'");
		b.data[so] = 'P';
		b.data[so + QFILE_STATUS_SIZE - 1] = 'x';
		expect_corrupt(&b, "bad record 'R'");
		b.data[so + QFILE_STATUS_SIZE - 1] = 0;
		arena_free(&a);
	}
	/* the end record must count what it ends */
	off = find_rec(&b, 'E');
	b.data[off + QFILE_REC_HDR + 3] = 2;
	expect_corrupt(&b, "end record counts");
	b.data[off + QFILE_REC_HDR + 3] = 3;
	/* content not ending in LF */
	off = find_rec(&b, 'M');
	b.data[off + QFILE_REC_HDR + strlen(content) - 1] = 'x';
	expect_corrupt(&b, "bad record 'M'");
	b.data[off + QFILE_REC_HDR + strlen(content) - 1] = '\n';
	/* nothing after the end record */
	assert_int_equal(buf_putc(&b, 'E'), 0);
	expect_corrupt(&b, "after the end record");
	buf_truncate(&b, b.len - 1);
	{
		struct arena *a = arena_new(0);
		struct qfile_env out;
		const char *error;

		assert_int_equal(qfile_decode(b.data, b.len, a, &out, &error), 1); /* all repaired */
		arena_free(&a);
	}
	buf_free(&b);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(qfile_status_name(QFILE_RCPT_PENDING), "pending");
	assert_string_equal(qfile_status_name(QFILE_RCPT_DEFERRED), "deferred");
	assert_string_equal(qfile_status_name(QFILE_RCPT_DELIVERED), "delivered");
	assert_string_equal(qfile_status_name(QFILE_RCPT_FAILED), "failed");
	assert_string_equal(qfile_status_name((enum qfile_rcpt_status)0), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_null_sender_no_rcpt_empty_content),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_unfinished_length),
		cmocka_unit_test(test_status_in_place),
		cmocka_unit_test(test_encoder_refuses),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
