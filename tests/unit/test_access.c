/*
 * test_access.c - the access services' shared helpers: TAB fields, loopback
 * addresses, a message with a descriptor over a socketpair (src/login/access.c)
 */
#include "unit.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "login/access.h"

static void test_split(void **state)
{
	char line[] = "LOGIN\t7\t\tx", two[] = "a\tb\tc";
	char *f[4];

	(void)state;
	assert_int_equal(access_split(line, f, 4), 4);
	assert_string_equal(f[0], "LOGIN");
	assert_string_equal(f[1], "7");
	assert_string_equal(f[2], ""); /* an empty field stays a field */
	assert_string_equal(f[3], "x");
	assert_int_equal(access_split(two, f, 2), -1); /* more fields than allowed */
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(access_loopback("127.0.0.1"));
	assert_true(access_loopback("127.9.8.7"));
	assert_true(access_loopback("::1"));
	assert_true(access_loopback("::ffff:127.0.0.1"));
	assert_false(access_loopback("128.0.0.1"));
	assert_false(access_loopback("10.0.0.1"));
	assert_false(access_loopback("::ffff:10.0.0.1"));
	assert_false(access_loopback("::2"));
	assert_false(access_loopback("unknown"));
}

static void test_fd_passing(void **state)
{
	int sp[2], got = -1, none = -1;
	struct buf b = BUF_INIT(64);
	struct stat a, c;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	assert_int_equal(access_fd_send(sp[0], "SESSION\tx", 9, STDERR_FILENO), 0);
	assert_int_equal(access_fd_send(sp[0], "plain", 5, -1), 0);
	assert_int_equal(access_fd_recv(sp[1], &b, 32, &got), 9);
	assert_string_equal(buf_cstr(&b), "SESSION\tx");
	assert_true(got > STDERR_FILENO);
	assert_int_equal(fstat(got, &a), 0);
	assert_int_equal(fstat(STDERR_FILENO, &c), 0);
	assert_true(a.st_ino == c.st_ino && a.st_dev == c.st_dev); /* the same open file */
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	buf_reset(&b);
	assert_int_equal(access_fd_recv(sp[1], &b, 32, &none), 5);
	assert_int_equal(none, -1);
	close(sp[0]);
	buf_reset(&b);
	assert_int_equal(access_fd_recv(sp[1], &b, 32, &none), 0); /* EOF */
	close(sp[1]);
	close(got);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_fd_passing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
