/*
 * test_dlvproto.c - unit tests for src/queue/dlvproto.c (qmgr <-> virtual frames)
 */
#include "unit.h"

#include "queue/dlvproto.h"

static const struct dlvproto_request req = { "0123456789ABCDEF", "active", 7, "john@example.org",
					     "johnsmith@example.org", DLVPROTO_F_RECHECK };

/* roundtrip_request - encode, frame, decode */
static void test_request_roundtrip(void **state)
{
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);
	struct dlvproto_request q;
	const uint8_t *body;
	size_t blen, flen;
	const char *err = NULL;

	(void)state;
	assert_int_equal(dlvproto_put_request(&b, &req), 0);
	assert_int_equal(dlvproto_frame(b.data, b.len, &body, &blen, &flen, &err), 1);
	assert_int_equal(flen, b.len);
	assert_int_equal(dlvproto_get_request(body, blen, a, &q, &err), 0);
	assert_string_equal(q.queue_id, req.queue_id);
	assert_string_equal(q.queue_name, "active");
	assert_int_equal(q.rcpt, 7);
	assert_string_equal(q.addr, req.addr);
	assert_string_equal(q.orig, req.orig);
	assert_int_equal(q.flags, DLVPROTO_F_RECHECK);
	buf_free(&b);
	arena_free(&a);
}

/* test_reply_roundtrip - each status, and a long text is cut */
static void test_reply_roundtrip(void **state)
{
	static const struct dlvproto_reply r[] = {
		{ DLVPROTO_OK, "2.0.0", "delivered to maildir", NULL },
		{ DLVPROTO_DEFER, "4.2.0", "maildir delivery failed: create tmp: Permission denied", NULL },
		{ DLVPROTO_BOUNCE, "5.1.1", "unknown user: \"x@example.org\"", NULL },
		{ DLVPROTO_OK, "2.0.0", "forwarded as 0123456789BCDFGH", "0123456789BCDFGH" },
	};
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);
	struct dlvproto_reply p;
	const uint8_t *body;
	size_t blen, flen, i;
	const char *err = NULL;
	char longtext[DLVPROTO_TEXT_MAX + 50];

	(void)state;
	for (i = 0; i < 4; i++) {
		buf_reset(&b);
		assert_int_equal(dlvproto_put_reply(&b, &r[i]), 0);
		assert_int_equal(dlvproto_frame(b.data, b.len, &body, &blen, &flen, &err), 1);
		assert_int_equal(dlvproto_get_reply(body, blen, a, &p, &err), 0);
		assert_int_equal(p.status, r[i].status);
		assert_string_equal(p.dsn, r[i].dsn);
		assert_string_equal(p.text, r[i].text);
		assert_string_equal(p.forward_id, r[i].forward_id ? r[i].forward_id : "");
	}
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	buf_reset(&b);
	assert_int_equal(dlvproto_put_reply(&b, &(struct dlvproto_reply){ DLVPROTO_OK, "2.0.0", longtext, NULL }), 0);
	assert_int_equal(dlvproto_frame(b.data, b.len, &body, &blen, &flen, &err), 1);
	assert_int_equal(dlvproto_get_reply(body, blen, a, &p, &err), 0);
	assert_int_equal(strlen(p.text), DLVPROTO_TEXT_MAX);
	buf_free(&b);
	arena_free(&a);
}

/* test_encode_rejects - bad fields never reach the wire, and b is unchanged */
static void test_encode_rejects(void **state)
{
	struct buf b = BUF_INIT(0);
	struct dlvproto_request q = req;
	char big[DLVPROTO_ADDR_MAX + 2];

	(void)state;
	assert_int_equal(buf_puts(&b, "keep"), 0);
	q.queue_id = "bad/id";
	assert_int_equal(dlvproto_put_request(&b, &q), -1);
	q = req;
	q.queue_name = "corrupt";
	assert_int_equal(dlvproto_put_request(&b, &q), -1);
	q = req;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	q.addr = big;
	assert_int_equal(dlvproto_put_request(&b, &q), -1);
	q = req;
	q.rcpt = DLVPROTO_RCPT_MAX;
	assert_int_equal(dlvproto_put_request(&b, &q), -1);
	q = req;
	q.flags = 0x80;
	assert_int_equal(dlvproto_put_request(&b, &q), -1);
	assert_int_equal(dlvproto_put_reply(&b, &(struct dlvproto_reply){ DLVPROTO_OK, "2.0.0", "x", "not/an/id" }), -1);
	assert_int_equal(dlvproto_put_reply(&b, &(struct dlvproto_reply){ DLVPROTO_OK, "4.2.0", "x", NULL }), -1);
	assert_int_equal(dlvproto_put_reply(&b, &(struct dlvproto_reply){ DLVPROTO_BOUNCE, "5.1", "x", NULL }), -1);
	assert_int_equal(dlvproto_put_reply(&b, &(struct dlvproto_reply){ DLVPROTO_DEFER, "4.2.0x", "x", NULL }), -1);
	assert_int_equal(dlvproto_put_reply(&b, &(struct dlvproto_reply){ 'X', "4.2.0", "x", NULL }), -1);
	assert_int_equal(b.len, 4);
	assert_string_equal(buf_cstr(&b), "keep");
	buf_free(&b);
}

/* test_truncated - every proper prefix of a frame needs more; every cut body fails */
static void test_truncated(void **state)
{
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);
	struct dlvproto_request q;
	struct dlvproto_reply p;
	const uint8_t *body;
	size_t blen, flen, i;
	const char *err = NULL;

	(void)state;
	assert_int_equal(dlvproto_put_request(&b, &req), 0);
	for (i = 0; i < b.len; i++)
		assert_int_equal(dlvproto_frame(b.data, i, &body, &blen, &flen, &err), 0);
	body = (const uint8_t *)b.data + 4;
	for (i = 0; i < b.len - 4; i++) {
		err = NULL;
		assert_int_equal(dlvproto_get_request(body, i, a, &q, &err), -1);
		assert_non_null(err);
	}
	/* a request is not a reply */
	assert_int_equal(dlvproto_get_reply(body, b.len - 4, a, &p, &err), -1);
	assert_string_equal(err, "unexpected message type");
	buf_reset(&b);
	assert_int_equal(dlvproto_put_reply(&b, &(struct dlvproto_reply){ DLVPROTO_OK, "2.0.0", "ok", NULL }), 0);
	body = (const uint8_t *)b.data + 4;
	for (i = 0; i < b.len - 4; i++)
		assert_int_equal(dlvproto_get_reply(body, i, a, &p, &err), -1);
	buf_free(&b);
	arena_free(&a);
}

/* test_malformed - trailing bytes, bad lengths, NULs, wrong version, bad codes */
static void test_malformed(void **state)
{
	struct buf b = BUF_INIT(0);
	struct arena *a = arena_new(0);
	struct dlvproto_request q;
	struct dlvproto_reply p;
	const uint8_t *body;
	size_t blen, flen;
	const char *err = NULL;
	uint8_t m[64];

	(void)state;
	/* frame lengths: too small, too big */
	memcpy(m, "\0\0\0\1Q", 5);
	assert_int_equal(dlvproto_frame(m, 5, &body, &blen, &flen, &err), -1);
	memcpy(m, "\0\0\x10\x01", 4);
	assert_int_equal(dlvproto_frame(m, 4, &body, &blen, &flen, &err), -1);
	memcpy(m, "\xff\xff\xff\xff", 4);
	assert_int_equal(dlvproto_frame(m, 4, &body, &blen, &flen, &err), -1);
	/* trailing byte after a valid request */
	assert_int_equal(dlvproto_put_request(&b, &req), 0);
	assert_int_equal(buf_putc(&b, 'x'), 0);
	assert_int_equal(dlvproto_get_request((const uint8_t *)b.data + 4, b.len - 4, a, &q, &err), -1);
	assert_string_equal(err, "trailing bytes after the last field");
	/* unknown flags */
	b.data[b.len - 2] = 0x40;
	assert_int_equal(dlvproto_get_request((const uint8_t *)b.data + 4, b.len - 5, a, &q, &err), -1);
	assert_string_equal(err, "unknown flags");
	b.data[b.len - 2] = 0;
	/* wrong version */
	b.data[5] = DLVPROTO_VERSION + 1;
	assert_int_equal(dlvproto_get_request((const uint8_t *)b.data + 4, b.len - 5, a, &q, &err), -1);
	assert_string_equal(err, "unsupported protocol version");
	/* a string length that runs past the body */
	b.data[5] = DLVPROTO_VERSION;
	b.data[6] = 0x7f;
	assert_int_equal(dlvproto_get_request((const uint8_t *)b.data + 4, b.len - 5, a, &q, &err), -1);
	assert_string_equal(err, "bad queue id");
	/* NUL inside a queue id */
	b.data[6] = 0;
	b.data[9] = '\0';
	assert_int_equal(dlvproto_get_request((const uint8_t *)b.data + 4, b.len - 5, a, &q, &err), -1);
	/* reply: bad status letter, dsn class not matching the status */
	memcpy(m, "A\2X\0\0052.0.0\0\0\0\0", 14);
	assert_int_equal(dlvproto_get_reply(m, 14, a, &p, &err), -1);
	assert_string_equal(err, "bad status");
	memcpy(m, "A\2D\0\0052.0.0\0\0\0\0", 14);
	assert_int_equal(dlvproto_get_reply(m, 14, a, &p, &err), -1);
	assert_string_equal(err, "bad dsn code");
	memcpy(m, "A\2O\0\0052.0.0\0\0\0\0", 14);
	assert_int_equal(dlvproto_get_reply(m, 14, a, &p, &err), 0);
	assert_string_equal(p.text, "");
	assert_string_equal(p.forward_id, "");
	assert_int_equal(dlvproto_get_reply(m, 15, a, &p, &err), -1);
	/* a forward id that is not a queue id */
	memcpy(m, "A\2O\0\0052.0.0\0\0\0\2a/", 16);
	assert_int_equal(dlvproto_get_reply(m, 16, a, &p, &err), -1);
	assert_string_equal(err, "bad forward id");
	buf_free(&b);
	arena_free(&a);
}

/* test_stream - two frames back to back split at every offset */
static void test_stream(void **state)
{
	struct buf b = BUF_INIT(0);
	const uint8_t *body;
	size_t blen, flen, first;
	const char *err = NULL;

	(void)state;
	assert_int_equal(dlvproto_put_request(&b, &req), 0);
	first = b.len;
	assert_int_equal(dlvproto_put_request(&b, &req), 0);
	assert_int_equal(dlvproto_frame(b.data, b.len, &body, &blen, &flen, &err), 1);
	assert_int_equal(flen, first);
	assert_int_equal(dlvproto_frame(b.data + first, b.len - first, &body, &blen, &flen, &err), 1);
	assert_int_equal(flen, b.len - first);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip), cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_encode_rejects),    cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),         cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
