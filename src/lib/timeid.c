/*
 * timeid.c - clocks and unique session / queue ids (formats in timeid.h)
 *
 * API:      see timeid.h
 * Tests:    tests/unit/test_timeid.c
 */
#include "timeid.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* 0-9, B-Z, b-z without vowels: 52 characters in ASCII order */
static const char alphabet[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
#define BASE 52

/* 2020-01-01 00:00:00 UTC in milliseconds since the epoch */
#define SESSION_EPOCH_MS 1577836800000ULL
#define PID_BITS 22

/* per-process generator state; reset when the pid changes (after fork) */
static long state_pid = -1;
static uint64_t last_us; /* time part of the last queue id */
static uint64_t last_ms; /* time part of the last session id */
static unsigned seq;

/* now - read a clock; a failure means a broken system, not a peer problem */
static struct timespec now(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0)
		fatal("clock_gettime: %m");
	return ts;
}

/* time_mono_ms - monotonic milliseconds */
uint64_t time_mono_ms(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* time_wall_us - wall-clock microseconds since the epoch */
uint64_t time_wall_us(void)
{
	struct timespec ts = now(CLOCK_REALTIME);

	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* check_pid - start afresh in a new process (a fork inherits the parent's state) */
static long check_pid(void)
{
	long pid = (long)getpid();

	if (pid != state_pid) {
		unsigned r;

		state_pid = pid;
		last_us = 0;
		last_ms = 0;
		if (getentropy(&r, sizeof(r)) != 0)
			r = (unsigned)pid * 2654435761u ^ (unsigned)time_wall_us();
		seq = r;
	}
	return pid;
}

/* timeid_session - (ms since 2020, strictly increasing in this process) << 22 | pid */
uint64_t timeid_session(void)
{
	long pid = check_pid();
	uint64_t ms = time_wall_us() / 1000;

	ms = ms > SESSION_EPOCH_MS ? ms - SESSION_EPOCH_MS : 1;
	if (ms <= last_ms)
		ms = last_ms + 1;
	last_ms = ms;
	return (ms << PID_BITS) | ((uint64_t)pid & ((1u << PID_BITS) - 1));
}

/* put52 - write v as exactly width base-52 digits (v must fit) */
static void put52(char *out, int width, uint64_t v)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		out[i] = alphabet[v % BASE];
		v /= BASE;
	}
}

/* get52 - read width base-52 digits; -1 on a character outside the alphabet */
static int get52(const char *in, int width, uint64_t *v_r)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < width; i++) {
		const char *d = in[i] ? memchr(alphabet, in[i], BASE) : NULL;

		if (d == NULL)
			return -1;
		v = v * BASE + (uint64_t)(d - alphabet);
	}
	*v_r = v;
	return 0;
}

/* timeid_queue - seconds(6) microseconds(4) pid(4) sequence(2), base 52 */
char *timeid_queue(char out[TIMEID_QUEUE_SIZE])
{
	long pid = check_pid();
	uint64_t us = time_wall_us();

	if (us <= last_us)
		us = last_us + 1;
	last_us = us;
	put52(out, 6, us / 1000000);
	put52(out + 6, 4, us % 1000000);
	put52(out + 10, 4, (uint64_t)pid % (BASE * BASE * BASE * BASE));
	put52(out + 14, 2, seq++ % (BASE * BASE));
	out[TIMEID_QUEUE_LEN] = '\0';
	return out;
}

/* timeid_queue_decode - validate and split a queue id */
int timeid_queue_decode(const char *id, size_t n, uint64_t *wall_us_r, long *pid_r)
{
	uint64_t sec, usec, pid, sq;

	if (n != TIMEID_QUEUE_LEN || get52(id, 6, &sec) < 0 || get52(id + 6, 4, &usec) < 0 ||
	    get52(id + 10, 4, &pid) < 0 || get52(id + 14, 2, &sq) < 0 || usec >= 1000000)
		return -1;
	if (wall_us_r)
		*wall_us_r = sec * 1000000 + usec;
	if (pid_r)
		*pid_r = (long)pid;
	return 0;
}
