/*
 * timeid.h - clocks, and unique time-based ids for sessions and queue files
 *
 * Clocks: time_mono_ms() for timeouts and durations (never jumps), and
 * time_wall_us() for timestamps.
 *
 * Ids must be unique on one host across all its processes, sort by creation
 * time, and cost no coordination. Each mixes a time, the process id and a
 * per-process sequence. Within a process the time part strictly increases from
 * one id to the next: when the clock did not advance (or was stepped back) the
 * last value plus one unit is used instead, so a process never repeats an id
 * and a burst merely borrows a little from the future. Processes alive at the
 * same time differ in pid. The remaining risk is a pid reused while the time
 * part of its previous owner still ran ahead of the clock; the queue id's
 * sequence makes even that a 1-in-2704 chance, and queue files are created with
 * O_EXCL anyway (on EEXIST: take a new id).
 *
 * Session id: 64 bits, printed as "%016" PRIx64 in log lines.
 *     bits 63..22  milliseconds since 2020-01-01 00:00:00 UTC (42 bits: until 2159)
 *     bits 21..0   pid (Linux pids are < 2^22)
 *   e.g. 0caca00cdb4035c2. Never 0. Sorts by time at millisecond resolution; a process can take about
 *   1000 ids per second before its ids run ahead of the clock.
 *
 * Queue id: TIMEID_QUEUE_LEN (16) characters from the 52-character alphabet
 * 0-9 B-Z b-z without vowels (as Postfix's long queue ids: no words, safe in
 * file names and Maildir), each field a fixed-width base-52 number:
 *     [0..5]   seconds since the epoch     (6 digits: until the year 2596)
 *     [6..9]   microseconds, 0..999999     (4 digits)
 *     [10..13] pid                         (4 digits: < 7311616)
 *     [14..15] per-process sequence        (2 digits, mod 2704, random start)
 *   e.g. "4jZ5pv083N054fnj". The alphabet is in ASCII order, so comparing ids
 *   with strcmp() orders them by creation time (microseconds).
 *
 * Not thread-safe: Postern's processes are single-threaded. After fork() the
 * child notices its new pid and starts afresh.
 *
 * Tests:    tests/unit/test_timeid.c
 */
#ifndef POSTERN_TIMEID_H
#define POSTERN_TIMEID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* time_mono_ms - milliseconds on the monotonic clock (arbitrary origin; only differences mean anything) */
uint64_t time_mono_ms(void);
/* time_wall_us - microseconds since the Unix epoch (wall clock: may jump) */
uint64_t time_wall_us(void);

/* timeid_session - a new session id (see the format above); never 0 */
uint64_t timeid_session(void);

#define TIMEID_QUEUE_LEN 16
#define TIMEID_QUEUE_SIZE (TIMEID_QUEUE_LEN + 1)

/* timeid_queue - write a new NUL-terminated queue id into out; returns out */
char *timeid_queue(char out[TIMEID_QUEUE_SIZE]);
/*
 * timeid_queue_decode - check that id[0..n) is a queue id and extract its parts:
 * *wall_us_r (may be NULL) the creation time in microseconds since the epoch,
 * *pid_r (may be NULL) the creating process. Returns 0, or -1 when not a queue id.
 */
int timeid_queue_decode(const char *id, size_t n, uint64_t *wall_us_r, long *pid_r);

#endif
