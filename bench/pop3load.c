/* pop3load.c - POP3 load client for bench/pop3: N threads each run whole sessions back to back.
 *
 * Runs in:  bench/pop3 only (built there with `cc -O2 -pthread`); not part of Postern's build.
 * Usage:    pop3load HOST PORT CONCURRENCY SESSIONS USERFILE MSGS_PER_USER
 *           USERFILE: one "user password" per line. Session i logs in as user (i mod users);
 *           thread t runs sessions t, t + CONCURRENCY, ... (so with users a multiple of
 *           CONCURRENCY, never two sessions of one user at once).
 * Session:  greeting, USER, PASS, UIDL (must list exactly MSGS_PER_USER messages), RETR 1..n one
 *           at a time as a real client does (no pipelining), QUIT. Every reply is checked: +OK, and a
 *           multi-line reply must end with CRLF.CRLF; any deviation fails the session.
 * Output:   one line on stdout: "ok=N failed=N messages=N bytes=N wall_ms=N client_cpu_ms=N"
 *           (bytes = RETR payload received; client CPU = this process's user+system time), and
 *           the first few errors on stderr. Exit 0 when no session failed, 1 otherwise.
 * Limits:   IPv4 only, 64 KiB read buffer per connection, 60 s socket timeout, 4096 users.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_USERS 4096

static struct sockaddr_in server;
static char *users[MAX_USERS], *passwords[MAX_USERS];
static int nusers, sessions, expect_msgs;
static int conc;
static atomic_int ok_sessions, failed_sessions, errors_printed;
static atomic_llong total_messages, total_bytes;

struct conn {
	int fd;
	char buf[65536];
	size_t start, end;
};

static void report(int session, const char *what, const char *line)
{
	if (atomic_fetch_add(&errors_printed, 1) < 10)
		fprintf(stderr, "pop3load: session %d: %s%s%.200s\n", session, what, line ? ": " : "", line ? line : "");
}

/* fill - read more bytes; 0 ok, -1 on EOF, error or timeout */
static int fill(struct conn *c)
{
	ssize_t n;

	if (c->start > 0 && c->start == c->end)
		c->start = c->end = 0;
	if (c->end == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
		if (c->end == sizeof(c->buf))
			return -1; /* a line longer than the buffer */
	}
	do
		n = read(c->fd, c->buf + c->end, sizeof(c->buf) - c->end);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->end += (size_t)n;
	return 0;
}

/* get_line - the next line without its CRLF, NUL-terminated in the buffer; NULL on error */
static char *get_line(struct conn *c, size_t *len)
{
	for (;;) {
		char *p = memchr(c->buf + c->start, '\n', c->end - c->start);

		if (p) {
			char *line = c->buf + c->start;
			size_t n = (size_t)(p - line);

			if (n == 0 || line[n - 1] != '\r')
				return NULL; /* POP3 lines end in CRLF */
			line[n - 1] = '\0';
			*len = n - 1;
			c->start += n + 1;
			return line;
		}
		if (fill(c) < 0)
			return NULL;
	}
}

static int send_cmd(struct conn *c, const char *cmd)
{
	size_t len = strlen(cmd), off = 0;

	while (off < len) {
		ssize_t n = write(c->fd, cmd + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* status - one reply line; 0 when it is +OK */
static int status(struct conn *c, int session, const char *what)
{
	size_t len;
	char *line = get_line(c, &len);

	if (!line) {
		report(session, what, "connection closed or bad line");
		return -1;
	}
	if (strncmp(line, "+OK", 3) != 0) {
		report(session, what, line);
		return -1;
	}
	return 0;
}

/* multiline - the body of a multi-line reply up to ".": line count and payload bytes */
static int multiline(struct conn *c, long *lines, long long *bytes)
{
	size_t len;
	char *line;

	*lines = 0;
	*bytes = 0;
	while ((line = get_line(c, &len)) != NULL) {
		if (line[0] == '.') {
			if (len == 1)
				return 0;
			len--; /* dot-stuffed */
		}
		(*lines)++;
		*bytes += (long long)len + 2;
	}
	return -1;
}

static int run_session(int session)
{
	struct conn *c = malloc(sizeof(*c));
	const int u = session % nusers;
	char cmd[1024];
	long lines, m;
	long long bytes, sum = 0;
	int rc = -1, one = 1;
	struct timeval tv = { 60, 0 };

	if (!c)
		return -1;
	c->start = c->end = 0;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0) {
		free(c);
		return -1;
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
		report(session, "connect", strerror(errno));
		goto out;
	}
	if (status(c, session, "greeting") < 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "USER %s\r\n", users[u]);
	if (send_cmd(c, cmd) < 0 || status(c, session, "USER") < 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "PASS %s\r\n", passwords[u]);
	if (send_cmd(c, cmd) < 0 || status(c, session, "PASS") < 0)
		goto out;
	if (send_cmd(c, "UIDL\r\n") < 0 || status(c, session, "UIDL") < 0)
		goto out;
	if (multiline(c, &lines, &bytes) < 0) {
		report(session, "UIDL listing", "truncated");
		goto out;
	}
	if (lines != expect_msgs) {
		snprintf(cmd, sizeof(cmd), "%ld messages listed, %d expected", lines, expect_msgs);
		report(session, "UIDL", cmd);
		goto out;
	}
	for (m = 1; m <= lines; m++) {
		long l;

		snprintf(cmd, sizeof(cmd), "RETR %ld\r\n", m);
		if (send_cmd(c, cmd) < 0 || status(c, session, "RETR") < 0)
			goto out;
		if (multiline(c, &l, &bytes) < 0) {
			report(session, "RETR body", "truncated");
			goto out;
		}
		sum += bytes;
	}
	if (send_cmd(c, "QUIT\r\n") < 0 || status(c, session, "QUIT") < 0)
		goto out;
	atomic_fetch_add(&total_messages, lines);
	atomic_fetch_add(&total_bytes, sum);
	rc = 0;
out:
	close(c->fd);
	free(c);
	return rc;
}

/* worker - thread t runs sessions t, t + conc, t + 2 conc, ...: when the number of users is a
 * multiple of conc, each user belongs to one thread, so no two sessions of a user overlap (a POP3
 * server may lock a mailbox for the length of a session) */
static void *worker(void *arg)
{
	int s;

	for (s = (int)(long)arg; s < sessions; s += conc) {
		if (run_session(s) == 0)
			atomic_fetch_add(&ok_sessions, 1);
		else
			atomic_fetch_add(&failed_sessions, 1);
	}
	return NULL;
}

static void load_users(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024], u[512], p[512];

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) && nusers < MAX_USERS)
		if (sscanf(line, "%511s %511s", u, p) == 2) {
			users[nusers] = strdup(u);
			passwords[nusers] = strdup(p);
			nusers++;
		}
	fclose(f);
	if (nusers == 0) {
		fprintf(stderr, "pop3load: no users in %s\n", path);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	pthread_t *th;
	int i;
	long wall_ms, cpu_ms;

	if (argc != 7) {
		fprintf(stderr, "usage: pop3load HOST PORT CONCURRENCY SESSIONS USERFILE MSGS_PER_USER\n");
		return 2;
	}
	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	server.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
		fprintf(stderr, "pop3load: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	conc = atoi(argv[3]);
	sessions = atoi(argv[4]);
	expect_msgs = atoi(argv[6]);
	if (conc <= 0 || conc > 1000 || sessions <= 0 || expect_msgs < 0) {
		fprintf(stderr, "pop3load: bad CONCURRENCY, SESSIONS or MSGS_PER_USER\n");
		return 2;
	}
	load_users(argv[5]);
	th = calloc((size_t)conc, sizeof(*th));
	if (!th)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < conc; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(long)i) != 0) {
			fprintf(stderr, "pop3load: pthread_create failed\n");
			return 2;
		}
	for (i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	wall_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	printf("ok=%d failed=%d messages=%lld bytes=%lld wall_ms=%ld client_cpu_ms=%ld\n", atomic_load(&ok_sessions),
	       atomic_load(&failed_sessions), (long long)atomic_load(&total_messages),
	       (long long)atomic_load(&total_bytes), wall_ms, cpu_ms);
	free(th);
	return atomic_load(&failed_sessions) ? 1 : 0;
}
