/*
 * test_qmgr_sched.c - unit tests for src/queue/qmgr_sched.c (backoff, expiry)
 */
#include "unit.h"

#include "queue/qmgr_sched.h"

static const struct qmgr_times T = { 300, 4000, 5 * 86400, 86400 };

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(qmgr_backoff(&T, 1000, 1000), 300);      /* fresh: the minimum */
	assert_int_equal(qmgr_backoff(&T, 1000, 1000 + 600), 600); /* age */
	assert_int_equal(qmgr_backoff(&T, 1000, 1000 + 1200), 1200);
	assert_int_equal(qmgr_backoff(&T, 1000, 1000 + 99999), 4000); /* capped */
	assert_int_equal(qmgr_backoff(&T, 5000, 1000), 300);       /* clock went back */
}

static void test_expired(void **state)
{
	(void)state;
	assert_false(qmgr_expired(&T, 0, 5 * 86400, false));
	assert_true(qmgr_expired(&T, 0, 5 * 86400 + 1, false));
	assert_false(qmgr_expired(&T, 0, 86400, true));
	assert_true(qmgr_expired(&T, 0, 86401, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_backoff), cmocka_unit_test(test_expired) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
