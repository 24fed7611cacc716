/*
 * test_uidlist.c - unit tests for src/libmail/uidlist.c with the dovecot-uidlist files
 * that real Dovecot wrote (shared/vectors/maildir-from-dovecot, or the copy in tests/shared)
 */
#include "unit.h"

#include <stdio.h>

#include "libmail/uidlist.h"

/* slurp - a vector file's bytes (from ../shared beside the checkout, else tests/shared) */
static char *slurp(const char *rel, size_t *n)
{
	static const char *const bases[] = { "../shared/vectors/", "tests/shared/vectors/" };
	char path[256];
	FILE *f = NULL;
	char *p;
	long len;

	for (size_t i = 0; i < 2 && f == NULL; i++) {
		snprintf(path, sizeof(path), "%s%s", bases[i], rel);
		f = fopen(path, "rb");
	}
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	p = malloc((size_t)len + 1);
	assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
	p[len] = '\0';
	fclose(f);
	*n = (size_t)len;
	return p;
}

static void test_dovecot_inbox(void **state)
{
	size_t n;
	char *text = slurp("maildir-from-dovecot/dovecot-uidlist", &n);
	const char *err = NULL;
	unsigned line;
	struct uidlist *l = uidlist_parse(text, n, &line, &err);
	const struct uidlist_rec *r;
	struct buf out = BUF_INIT(0);
	uint64_t w;

	(void)state;
	assert_non_null(l);
	assert_int_equal(l->version, 3);
	assert_int_equal(l->uidvalidity, 1795550914u);
	assert_int_equal(l->next_uid, 6); /* message 5 was expunged before: 5 is never reused */
	assert_string_equal(l->guid, "30619319c1ee056bbe62000083ecc375");
	assert_int_equal(l->n, 4);
	r = uidlist_find_name(l, "1795550912.Vfe00I10c401M302802.vm");
	assert_non_null(r);
	assert_int_equal(r->uid, 4);
	assert_true(uidlist_field(r, 'W', &w));
	assert_int_equal(w, 491); /* RFC822.SIZE that Dovecot reported */
	assert_false(uidlist_field(r, 'S', &w));
	assert_ptr_equal(uidlist_find_uid(l, 2), uidlist_find_name(l, "1795550912.Vfe00I10c3e1M204890.vm"));
	assert_null(uidlist_find_uid(l, 5));
	assert_null(uidlist_find_name(l, "1795550912.Vfe00I10c401M302802.vm:2,FR"));
	/* written back byte for byte */
	assert_int_equal(uidlist_format(l, &out), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, text, n);
	/* a new message gets 6, the next 7 */
	assert_int_equal(uidlist_add(l, "1800000000.M1P2.host,S=10,W=11", "W11"), 6);
	assert_int_equal(uidlist_add(l, "1800000000.M1P2.host,S=10,W=11", ""), 0); /* already listed */
	assert_int_equal(uidlist_add(l, "bad:name", ""), 0);
	assert_int_equal(uidlist_add(l, "bad name", ""), 0);
	assert_int_equal(uidlist_add(l, "x", "W 1"), 0);
	assert_int_equal(uidlist_add(l, "1800000001.M2P2.host", NULL), 7);
	assert_int_equal(l->next_uid, 8);
	assert_true(uidlist_remove_uid(l, 6));
	assert_false(uidlist_remove_uid(l, 6));
	assert_null(uidlist_find_name(l, "1800000000.M1P2.host,S=10,W=11"));
	assert_int_equal(uidlist_find_name(l, "1800000001.M2P2.host")->uid, 7);
	buf_reset(&out);
	assert_int_equal(uidlist_format(l, &out), 0);
	assert_non_null(strstr(buf_cstr(&out), "3 V1795550914 N8 G30619319c1ee056bbe62000083ecc375\n"));
	assert_non_null(strstr(buf_cstr(&out), "\n7 :1800000001.M2P2.host\n"));
	uidlist_free(&l);
	assert_null(l);
	free(text);
	buf_free(&out);
}

static void test_dovecot_sent(void **state)
{
	size_t n;
	char *text = slurp("maildir-from-dovecot/.Sent/dovecot-uidlist", &n);
	const char *err;
	unsigned line;
	struct uidlist *l = uidlist_parse(text, n, &line, &err);
	struct buf out = BUF_INIT(0);

	(void)state;
	assert_non_null(l);
	/* the uidlist says N1 but lists uid 1: the next uid must still be above it */
	assert_int_equal(l->next_uid, 2);
	assert_int_equal(uidlist_find_name(l, "1795550913.M433762P25278.vm,S=64,W=69")->uid, 1);
	assert_int_equal(uidlist_format(l, &out), 0);
	assert_non_null(strstr(buf_cstr(&out), "3 V1795550913 N2 G2f619319c1ee056bbe62000083ecc375\n1 :"));
	uidlist_free(&l);
	free(text);
	buf_free(&out);
}

static void test_version1_and_extra_header(void **state)
{
	static const char v1[] = "1 1234 10\n3 a.host\n9 b.host\n";
	static const char v3[] = "3 V7 N3 Gffffffffffffffffffffffffffffffff M5 Xfoo\n1 W5 S4 G00 :a\n2 :b";
	struct buf out = BUF_INIT(0);
	const char *err;
	unsigned line;
	struct uidlist *l = uidlist_parse(v1, sizeof(v1) - 1, &line, &err);

	(void)state;
	assert_non_null(l);
	assert_int_equal(l->version, 1);
	assert_int_equal(l->uidvalidity, 1234);
	assert_int_equal(l->next_uid, 10);
	assert_int_equal(uidlist_find_name(l, "b.host")->uid, 9);
	assert_int_equal(uidlist_format(l, &out), 0);
	assert_string_equal(buf_cstr(&out), "3 V1234 N10\n3 :a.host\n9 :b.host\n");
	uidlist_free(&l);

	l = uidlist_parse(v3, sizeof(v3) - 1, &line, &err);
	assert_non_null(l);
	assert_string_equal(l->header_extra, "M5 Xfoo");
	assert_string_equal(uidlist_find_uid(l, 1)->fields, "W5 S4 G00");
	buf_reset(&out);
	assert_int_equal(uidlist_format(l, &out), 0);
	assert_string_equal(buf_cstr(&out), "3 V7 N3 Gffffffffffffffffffffffffffffffff M5 Xfoo\n1 W5 S4 G00 :a\n2 :b\n");
	uidlist_free(&l);

	l = uidlist_new(42, "0123456789abcdef0123456789abcdef");
	assert_int_equal(uidlist_add(l, "m1", "W10"), 1);
	buf_reset(&out);
	assert_int_equal(uidlist_format(l, &out), 0);
	assert_string_equal(buf_cstr(&out), "3 V42 N2 G0123456789abcdef0123456789abcdef\n1 W10 :m1\n");
	uidlist_free(&l);
	buf_free(&out);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
		{ "", 0 },
		{ "2 V1 N1\n", 1 },
		{ "3 N5\n", 1 },
		{ "3 V0 N5\n", 1 },
		{ "3 V1 N5 Gxyz\n", 1 },
		{ "3 V1 N5\n2 :a\n1 :b\n", 3 },
		{ "3 V1 N5\n1 :a\n2 :a\n", 3 },
		{ "3 V1 N5\n1 a\n", 2 },
		{ "3 V1 N5\n0 :a\n", 2 },
		{ "3 V1 N5\nx :a\n", 2 },
		{ "3 V1 N5\n1 :\n", 2 },
		{ "3 V1 N5\n1 W1 W2:a\n", 2 },
		{ "3 V1 N5\n1 :a b\n", 2 },
		{ "3 V1 N5\n4294967295 :a\n", 2 },
		{ "3 V1 N5\n\n1 :a\n", 2 },
		{ "3 V1  N5\n", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;
		unsigned line = 99;
		struct uidlist *l = uidlist_parse(bad[i].text, strlen(bad[i].text), &line, &err);

		if (l != NULL)
			fail_msg("accepted: %s", bad[i].text);
		assert_non_null(err);
		if (line != bad[i].line)
			fail_msg("%s: line %u, want %u", bad[i].text, line, bad[i].line);
	}
}

/* every prefix and every one-byte change of a valid file parses or fails cleanly (ASan) */
static void test_every_cut_and_flip(void **state)
{
	static const char text[] = "3 V1795550914 N6 G30619319c1ee056bbe62000083ecc375\n1 W491 :a.b.c\n4 :d,S=1\n";
	size_t i, n = sizeof(text) - 1;

	(void)state;
	for (i = 0; i <= n; i++) {
		char *p = malloc(n + 1);
		const char *err;
		unsigned line;
		struct uidlist *l;

		memcpy(p, text, i);
		l = uidlist_parse(p, i, &line, &err);
		uidlist_free(&l);
		if (i < n) {
			memcpy(p, text, n);
			p[i] ^= 0x21;
			l = uidlist_parse(p, n, &line, &err);
			if (l) {
				struct buf out = BUF_INIT(0);
				struct uidlist *again;

				/* what parses formats to something that parses to the same */
				assert_int_equal(uidlist_format(l, &out), 0);
				again = uidlist_parse(out.data, out.len, &line, &err);
				assert_non_null(again);
				assert_int_equal(again->n, l->n);
				uidlist_free(&again);
				buf_free(&out);
			}
			uidlist_free(&l);
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_inbox),
		cmocka_unit_test(test_dovecot_sent),
		cmocka_unit_test(test_version1_and_extra_header),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_cut_and_flip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
