/*
 * test_timeid.c - unit tests for src/lib/timeid.c (clocks, session and queue ids)
 */
#include "unit.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "lib/timeid.h"

#define N 100000

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_clocks(void **state)
{
	uint64_t m0 = time_mono_ms(), m, w = time_wall_us(), t = (uint64_t)time(NULL);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	(void)state;
	/* wall clock agrees with time(2) */
	assert_true(w / 1000000 + 1 >= t && w / 1000000 <= t + 1);
	/* monotonic never goes back, and measures a sleep */
	for (i = 0, m = m0; i < 100000; i++) {
		uint64_t x = time_mono_ms();

		assert_true(x >= m);
		m = x;
	}
	m = time_mono_ms();
	nanosleep(&ts, NULL);
	assert_true(time_mono_ms() - m >= 20);
	assert_true(time_mono_ms() - m < 5000);
}

static void test_session_ids(void **state)
{
	uint64_t *ids = malloc(N * sizeof(*ids)), now_ms = time_wall_us() / 1000;
	int i;

	(void)state;
	assert_non_null(ids);
	for (i = 0; i < N; i++) {
		ids[i] = timeid_session();
		assert_true(ids[i] != 0);
		/* the pid is in the low 22 bits */
		assert_int_equal(ids[i] & 0x3fffff, (uint64_t)getpid() & 0x3fffff);
		if (i > 0)
			assert_true(ids[i] > ids[i - 1]);
	}
	/* the time part starts at the wall clock (ms since 2020-01-01) */
	assert_true((ids[0] >> 22) + 1577836800000ULL + 2 >= now_ms);
	assert_true((ids[0] >> 22) + 1577836800000ULL <= now_ms + 1000);
	free(ids);
}

static void test_queue_ids(void **state)
{
	char **ids = malloc(N * sizeof(*ids));
	uint64_t before = time_wall_us(), us, prev_us = 0;
	long pid;
	int i;

	(void)state;
	assert_non_null(ids);
	for (i = 0; i < N; i++) {
		char id[TIMEID_QUEUE_SIZE];
		size_t k;

		assert_ptr_equal(timeid_queue(id), id);
		assert_int_equal(strlen(id), TIMEID_QUEUE_LEN);
		for (k = 0; k < TIMEID_QUEUE_LEN; k++) {
			/* no vowels, letters and digits only */
			assert_non_null(strchr("0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz", id[k]));
		}
		ids[i] = strdup(id);
		/* strictly increasing, as strings: sortable and unique */
		if (i > 0)
			assert_true(strcmp(ids[i - 1], ids[i]) < 0);
		assert_int_equal(timeid_queue_decode(id, strlen(id), &us, &pid), 0);
		assert_int_equal(pid, (long)getpid());
		assert_true(us > prev_us);
		prev_us = us;
	}
	assert_int_equal(timeid_queue_decode(ids[0], TIMEID_QUEUE_LEN, &us, NULL), 0);
	assert_true(us >= before && us < before + 5000000);
	for (i = 0; i < N; i++)
		free(ids[i]);
	free(ids);
}

static void test_queue_decode_rejects(void **state)
{
	char id[TIMEID_QUEUE_SIZE], bad[TIMEID_QUEUE_SIZE];
	uint64_t us;

	(void)state;
	timeid_queue(id);
	assert_int_equal(timeid_queue_decode(id, TIMEID_QUEUE_LEN, NULL, NULL), 0);
	assert_int_equal(timeid_queue_decode(id, TIMEID_QUEUE_LEN - 1, &us, NULL), -1);
	assert_int_equal(timeid_queue_decode("", 0, &us, NULL), -1);
	memcpy(bad, id, sizeof(bad));
	bad[3] = 'a'; /* a vowel */
	assert_int_equal(timeid_queue_decode(bad, TIMEID_QUEUE_LEN, &us, NULL), -1);
	memcpy(bad, id, sizeof(bad));
	bad[15] = '\0';
	assert_int_equal(timeid_queue_decode(bad, TIMEID_QUEUE_LEN, &us, NULL), -1);
	memcpy(bad, id, sizeof(bad));
	bad[0] = '/';
	assert_int_equal(timeid_queue_decode(bad, TIMEID_QUEUE_LEN, &us, NULL), -1);
	/* microseconds field past 999999 */
	memcpy(bad, id, sizeof(bad));
	memcpy(bad + 6, "zzzz", 4);
	assert_int_equal(timeid_queue_decode(bad, TIMEID_QUEUE_LEN, &us, NULL), -1);
	/* the smallest and a hand-made id decode */
	assert_int_equal(timeid_queue_decode("0000000000000000", 16, &us, NULL), 0);
	assert_true(us == 0);
	assert_int_equal(timeid_queue_decode("000001000B000000", 16, &us, NULL), 0);
	assert_true(us == 1000000 + 10); /* 1 s and "B" (10) µs */
}

/* child_ids - write 20000 queue ids and 20000 session ids to stdout's pipe (fd in arg) */
static void child_ids(void *arg)
{
	int fd = *(int *)arg, i;

	for (i = 0; i < 20000; i++) {
		char id[TIMEID_QUEUE_SIZE + 24];
		uint64_t s = timeid_session();

		timeid_queue(id);
		id[TIMEID_QUEUE_LEN] = ' ';
		snprintf(id + TIMEID_QUEUE_LEN + 1, 23, "%016" PRIx64 "\n", s);
		if (write(fd, id, strlen(id)) != (ssize_t)strlen(id))
			_exit(3);
	}
	close(fd);
}

static void test_unique_across_processes(void **state)
{
	enum { KIDS = 4, PER = 20000, TOTAL = (KIDS + 1) * PER };
	char **q = calloc(TOTAL, sizeof(*q));
	uint64_t *s = calloc(TOTAL, sizeof(*s));
	int fds[2], k, i, n = 0;
	FILE *f;
	char line[128];

	(void)state;
	assert_non_null(q);
	assert_non_null(s);
	assert_int_equal(pipe(fds), 0);
	/* the parent's generator state is inherited by the children: they must not repeat it */
	for (i = 0; i < PER; i++) {
		char id[TIMEID_QUEUE_SIZE];

		q[n] = strdup(timeid_queue(id));
		s[n++] = timeid_session();
	}
	for (k = 0; k < KIDS; k++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child_ids(&fds[1]);
			_exit(0);
		}
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		assert_true(n < TOTAL);
		assert_int_equal(strlen(line), TIMEID_QUEUE_LEN + 1 + 16 + 1);
		line[TIMEID_QUEUE_LEN] = '\0';
		q[n] = strdup(line);
		s[n++] = strtoull(line + TIMEID_QUEUE_LEN + 1, NULL, 16);
	}
	fclose(f);
	for (k = 0; k < KIDS; k++) {
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(n, TOTAL);
	qsort(q, (size_t)n, sizeof(*q), cmp_str);
	qsort(s, (size_t)n, sizeof(*s), cmp_u64);
	for (i = 1; i < n; i++) {
		if (strcmp(q[i - 1], q[i]) == 0)
			fail_msg("duplicate queue id %s", q[i]);
		if (s[i - 1] == s[i])
			fail_msg("duplicate session id %016" PRIx64, s[i]);
	}
	for (i = 0; i < n; i++)
		free(q[i]);
	free(q);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_session_ids),
		cmocka_unit_test(test_queue_ids),
		cmocka_unit_test(test_queue_decode_rejects),
		cmocka_unit_test(test_unique_across_processes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
