/*
 * test_pop3_cmd.c - unit tests for src/libmail/pop3_cmd.c (one POP3 command line)
 */
#include "unit.h"

#include "libmail/pop3_cmd.h"

#define MAX 4096

/* ok - the line parses; returns the command */
static struct pop3_cmd ok(const char *line)
{
	struct pop3_cmd c;
	const char *err = NULL;

	if (pop3_cmd_parse(line, strlen(line), MAX, &c, &err) != 0)
		fail_msg("\"%s\" refused: %s", line, err);
	return c;
}

/* bad - the line is refused with an error text containing want */
static void bad(const char *line, const char *want)
{
	struct pop3_cmd c;
	const char *err = NULL;

	if (pop3_cmd_parse(line, strlen(line), MAX, &c, &err) != -1)
		fail_msg("\"%s\" accepted", line);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": error \"%s\", want \"%s\"", line, err, want);
}

static int eq(struct slice s, const char *want)
{
	return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

static void test_rfc1939_commands(void **state)
{
	struct pop3_cmd c;

	(void)state;
	c = ok("USER john@example.org");
	assert_int_equal(c.id, POP3_USER);
	assert_true(eq(c.arg1, "john@example.org"));
	assert_int_equal(c.states, POP3_IN_AUTHORIZATION);
	c = ok("pass  two  spaces kept ");
	assert_int_equal(c.id, POP3_PASS);
	assert_true(eq(c.arg1, " two  spaces kept "));
	c = ok("APOP mrose c4c9334bac560ecc979e58001b3e22fb");
	assert_true(eq(c.arg1, "mrose") && eq(c.arg2, "c4c9334bac560ecc979e58001b3e22fb"));
	c = ok("STAT");
	assert_int_equal(c.id, POP3_STAT);
	assert_int_equal(c.states, POP3_IN_TRANSACTION);
	c = ok("list");
	assert_int_equal(c.nargs, 0);
	c = ok("LIST 2");
	assert_int_equal(c.nargs, 1);
	assert_int_equal(c.msg, 2);
	c = ok("RETR 1");
	assert_int_equal(c.id, POP3_RETR);
	c = ok("DELE 2147483647");
	assert_int_equal(c.msg, 2147483647u);
	c = ok("TOP 1 0");
	assert_int_equal(c.nargs, 2);
	assert_int_equal(c.lines, 0);
	c = ok("UIDL");
	assert_int_equal(c.id, POP3_UIDL);
	c = ok("NOOP");
	c = ok("RSET");
	c = ok("QUIT");
	assert_int_equal(c.states, POP3_IN_AUTHORIZATION | POP3_IN_TRANSACTION);
	c = ok("CAPA");
	c = ok("STLS");
	assert_int_equal(c.id, POP3_STLS);
	c = ok("AUTH PLAIN AGpvaG4Ac2VjcmV0");
	assert_true(eq(c.arg1, "PLAIN") && eq(c.arg2, "AGpvaG4Ac2VjcmV0"));
	c = ok("AUTH CRAM-MD5");
	assert_int_equal(c.arg2.n, 0);
	c = ok("AUTH");
	assert_int_equal(c.arg1.n, 0);
	assert_string_equal(pop3_cmd_name(POP3_TOP), "TOP");
}

static void test_refusals(void **state)
{
	char longline[MAX + 2];

	(void)state;
	bad("", "Unknown command");
	bad("XYZZY", "Unknown command");
	bad("RETRX 1", "Unknown command");
	bad(" RETR 1", "Unknown command");
	bad("USER", "No username");
	bad("PASS", "No password");
	bad("APOP mrose", "APOP");
	bad("RETR", "Invalid message number");
	bad("RETR 0", "Invalid message number");
	bad("RETR -1", "Invalid message number");
	bad("RETR +1", "Invalid message number");
	bad("RETR 1x", "Invalid message number");
	bad("RETR 2147483648", "Invalid message number");
	bad("DELE 99999999999999999999", "Invalid message number");
	bad("TOP 1", "Invalid size");
	bad("TOP 1 x", "Invalid size");
	bad("LIST 1 2", "Noise");
	bad("STAT now", "Noise");
	bad("USER a b", "Noise");
	bad("RETR 1\r", "Invalid characters");
	memset(longline, 'A', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	bad(longline, "too long");
	memset(longline, 'a', 1100);
	memcpy(longline, "USER ", 5);
	longline[1100] = '\0';
	bad(longline, "too long");
	/* a NUL inside the line */
	struct pop3_cmd c;
	const char *err;
	assert_int_equal(pop3_cmd_parse("USER a\0b", 8, MAX, &c, &err), -1);
}

/* every prefix of each valid line parses or fails cleanly, and never reads past n */
static void test_every_prefix(void **state)
{
	static const char *const lines[] = { "USER john@example.org", "PASS a b", "TOP 12 34", "AUTH PLAIN =",
					     "APOP x y" };

	(void)state;
	for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		size_t n = strlen(lines[k]);

		for (size_t i = 0; i <= n; i++) {
			char *p = malloc(i ? i : 1);
			struct pop3_cmd c;
			const char *err;

			memcpy(p, lines[k], i);
			(void)pop3_cmd_parse(p, i, MAX, &c, &err);
			free(p);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1939_commands),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_every_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
