/*
 * test_cidr.c - unit tests for src/libmail/cidr.c (address/network parsing and matching)
 */
#include <stdio.h>

#include "unit.h"

#include "lib/buf.h"
#include "libmail/cidr.h"

/* net - parse a network that must be valid */
static struct cidr net(const char *s)
{
	struct cidr c;
	const char *why = NULL;

	if (cidr_parse(s, strlen(s), &c, &why) != 0)
		fail_msg("cidr_parse(%s): %s", s, why);
	return c;
}

/* addr - parse an address that must be valid */
static struct ip_addr addr(const char *s)
{
	struct ip_addr a;
	const char *why = NULL;

	if (ip_addr_parse(s, strlen(s), &a, &why) != 0)
		fail_msg("ip_addr_parse(%s): %s", s, why);
	return a;
}

/* fmt - canonical text of a network (static buffer for assertions) */
static const char *fmt(const struct cidr *c)
{
	static char out[128];
	struct buf b = BUF_INIT(0);

	assert_int_equal(cidr_format(c, &b), 0);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

static void test_parse_valid(void **state)
{
	static const char *const in[][2] = {
		{ "10.0.0.0/8", "10.0.0.0/8" },
		{ "192.168.1.0/24", "192.168.1.0/24" },
		{ "10.1.2.3", "10.1.2.3/32" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "::1", "::1/128" },
		{ "[::1]", "::1/128" },
		{ "[::1]/128", "::1/128" },
		{ "::1/128", "::1/128" },
		{ "2001:DB8::/32", "2001:db8::/32" },
		{ "[2001:db8::]/32", "2001:db8::/32" },
		{ "::/0", "::/0" },
		{ "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104" },
		{ "10.0.0.128/25", "10.0.0.128/25" },
	};
	size_t i;
	struct cidr c;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		c = net(in[i][0]);
		assert_string_equal(fmt(&c), in[i][1]);
	}
}

static void test_parse_invalid(void **state)
{
	static const char *const in[][2] = {
		{ "", "empty address" },
		{ "10.0.0.0/", "bad network prefix length (expected 0..32)" },
		{ "10.0.0.0/33", "bad network prefix length (expected 0..32)" },
		{ "10.0.0.0/-1", "bad network prefix length (expected 0..32)" },
		{ "10.0.0.0/8x", "bad network prefix length (expected 0..32)" },
		{ "::/129", "bad network prefix length (expected 0..128)" },
		{ "10.0.0.256", "bad IPv4 address" },
		{ "10.0.0", "bad IPv4 address" },
		{ "010.0.0.1", "bad IPv4 address" },
		{ "10.0.0.1 ", "bad IPv4 address" },
		{ "example.com", "bad IPv4 address" },
		{ "[10.0.0.1]", "IPv4 address in [brackets]" },
		{ "1:2:3:4:5:6:7:8:9", "bad IPv6 address" },
		{ "fe80::1%eth0", "bad IPv6 address" },
		{ "[::1", "bad IPv6 address" },
		{ "[::1/128]", "bad IPv6 address" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa", "address too long" },
		{ "10.1.2.3/8", "non-null host address bits" },
		{ "10.0.0.1/31", "non-null host address bits" },
		{ "::1/64", "non-null host address bits" },
		{ "[2001:db8::1]/32", "non-null host address bits" },
	};
	size_t i;
	struct cidr c;
	const char *why;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		why = NULL;
		if (cidr_parse(in[i][0], strlen(in[i][0]), &c, &why) != -1)
			fail_msg("\"%s\" should be refused", in[i][0]);
		if (strcmp(why, in[i][1]) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", in[i][0], why, in[i][1]);
	}
	/* host bits: the network is still reported, for the hint */
	assert_int_equal(cidr_parse("10.1.2.3/8", 10, &c, &why), -1);
	assert_string_equal(fmt(&c), "10.0.0.0/8");
	/* a length that stops before a NUL byte never reads it; a NUL inside is refused */
	assert_int_equal(cidr_parse("10.0.0.0\0/8", 11, &c, &why), -1);
}

static void test_match(void **state)
{
	struct cidr c;
	struct ip_addr a;

	(void)state;
	c = net("10.0.0.0/8");
	a = addr("10.255.1.2");
	assert_true(cidr_match(&c, &a));
	a = addr("11.0.0.0");
	assert_false(cidr_match(&c, &a));
	c = net("192.168.1.128/25");
	a = addr("192.168.1.200");
	assert_true(cidr_match(&c, &a));
	a = addr("192.168.1.127");
	assert_false(cidr_match(&c, &a));
	c = net("10.1.2.3");
	a = addr("10.1.2.3");
	assert_true(cidr_match(&c, &a));
	a = addr("10.1.2.4");
	assert_false(cidr_match(&c, &a));
	/* IPv6 */
	c = net("2001:db8::/32");
	a = addr("2001:db8:ffff::1");
	assert_true(cidr_match(&c, &a));
	a = addr("2001:db9::1");
	assert_false(cidr_match(&c, &a));
	c = net("[::1]/128");
	a = addr("[::1]");
	assert_true(cidr_match(&c, &a));
	/* families do not mix, except IPv4-mapped IPv6 addresses against IPv4 networks */
	c = net("0.0.0.0/0");
	a = addr("::1");
	assert_false(cidr_match(&c, &a));
	c = net("10.0.0.0/8");
	a = addr("::ffff:10.9.8.7");
	assert_true(cidr_match(&c, &a));
	a = addr("::ffff:11.9.8.7");
	assert_false(cidr_match(&c, &a));
	c = net("::/0");
	a = addr("10.0.0.1");
	assert_false(cidr_match(&c, &a));
}

static void test_everything(void **state)
{
	struct cidr c;

	(void)state;
	c = net("0.0.0.0/0");
	assert_true(cidr_is_everything(&c));
	c = net("::/0");
	assert_true(cidr_is_everything(&c));
	c = net("[::]/0");
	assert_true(cidr_is_everything(&c));
	c = net("0.0.0.0/1");
	assert_false(cidr_is_everything(&c));
	c = net("127.0.0.0/8");
	assert_false(cidr_is_everything(&c));
	c = net("[::1]/128");
	assert_false(cidr_is_everything(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
