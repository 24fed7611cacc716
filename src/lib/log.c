/*
 * log.c - Postfix-style log lines to stderr, syslog (mail facility) or a file
 *
 * API:      see log.h
 * Tests:    tests/unit/test_log.c
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "xalloc.h"

static char log_ident_buf[128] = "postern";
static int log_targets = LOG_TO_STDERR;
static int log_fd = -1;
static enum log_level log_min = LOG_LVL_INFO;
static int log_fatal_code = 1;
static log_hook_fn *log_hook;
static void *log_hook_ctx;
static int log_in_fatal;

static const char *const level_prefix[] = {
	[LOG_LVL_DEBUG] = "debug: ", [LOG_LVL_INFO] = "",	    [LOG_LVL_WARN] = "warning: ",
	[LOG_LVL_ERR] = "error: ",   [LOG_LVL_FATAL] = "fatal: ", [LOG_LVL_PANIC] = "panic: ",
};

static const int level_syslog[] = {
	[LOG_LVL_DEBUG] = LOG_DEBUG,  [LOG_LVL_INFO] = LOG_INFO, [LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_ERR] = LOG_ERR,      [LOG_LVL_FATAL] = LOG_CRIT, [LOG_LVL_PANIC] = LOG_CRIT,
};

/* log_init - choose identity and destinations */
int log_init(const char *syslog_name, const char *service, int targets, const char *file,
	     const char **error_r)
{
	int rc = 0;

	if (service && *service)
		snprintf(log_ident_buf, sizeof(log_ident_buf), "%s/%s", syslog_name, service);
	else
		snprintf(log_ident_buf, sizeof(log_ident_buf), "%s", syslog_name);
	if (log_fd >= 0) {
		close(log_fd);
		log_fd = -1;
	}
	if (log_targets & LOG_TO_SYSLOG)
		closelog();
	log_targets = targets;
	if (targets & LOG_TO_FILE) {
		log_fd = file ? open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : -1;
		if (log_fd < 0) {
			if (error_r)
				*error_r = file ? strerror(errno) : "no log file name";
			log_targets = (log_targets & ~LOG_TO_FILE) | LOG_TO_STDERR;
			rc = -1;
		}
	}
	if (log_targets & LOG_TO_SYSLOG)
		openlog(log_ident_buf, LOG_PID | LOG_NDELAY, LOG_MAIL);
	return rc;
}

void log_use_fd(int fd)
{
	if (log_fd >= 0 && log_fd != fd)
		close(log_fd);
	log_fd = fd;
	log_targets = (log_targets & ~(LOG_TO_STDERR | LOG_TO_SYSLOG)) | LOG_TO_FILE;
}

void log_set_min_level(enum log_level lvl)
{
	log_min = lvl;
}

void log_set_fatal_status(int status)
{
	log_fatal_code = status;
}

const char *log_ident(void)
{
	return log_ident_buf;
}

void log_set_hook(log_hook_fn *fn, void *ctx)
{
	log_hook = fn;
	log_hook_ctx = ctx;
}

/* log_vmsg - format one line and send it to every destination */
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char text[2048];
	char line[2400];
	int saved_errno = errno;
	int n;

	if (lvl < log_min)
		return;
	/* bounded: an over-long line is truncated, never overflowed */
	vsnprintf(text, sizeof(text), fmt, ap);
	if (log_hook) {
		log_hook(lvl, text, log_hook_ctx);
		errno = saved_errno;
		return;
	}
	if (log_targets & LOG_TO_STDERR) {
		n = snprintf(line, sizeof(line), "%s: %s%s\n", log_ident_buf, level_prefix[lvl], text);
		if (n > 0)
			(void)fd_write_all(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	if (log_targets & LOG_TO_SYSLOG)
		syslog(level_syslog[lvl], "%s%s", level_prefix[lvl], text);
	if ((log_targets & LOG_TO_FILE) && log_fd >= 0) {
		char stamp[64], host[256];
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n", stamp, host, log_ident_buf,
			     (long)getpid(), level_prefix[lvl], text);
		if (n > 0)
			(void)fd_write_all(log_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	errno = saved_errno;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

/* fatal - log and exit; a fatal inside fatal (e.g. OOM while logging) exits at once */
void fatal(const char *fmt, ...)
{
	va_list ap;

	if (log_in_fatal++)
		_exit(log_fatal_code);
	va_start(ap, fmt);
	log_vmsg(LOG_LVL_FATAL, fmt, ap);
	va_end(ap);
	exit(log_fatal_code);
}

/* panic_at - log a bug with its location and abort for a core dump */
void panic_at(const char *file, int line, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_msg(LOG_LVL_PANIC, "%s:%d: %s", file, line, text);
	abort();
}

#define SANITIZE_RING 8
#define SANITIZE_MAX 1024

/* log_sanitize_n - printable, bounded copy of peer bytes */
const char *log_sanitize_n(const char *src, size_t n, size_t max)
{
	static char ring[SANITIZE_RING][SANITIZE_MAX + 4];
	static unsigned slot;
	char *out = ring[slot++ % SANITIZE_RING];
	size_t i, o = 0;

	if (max > SANITIZE_MAX)
		max = SANITIZE_MAX;
	if (src == NULL)
		return "(null)";
	for (i = 0; i < n && o < max; i++) {
		unsigned char c = (unsigned char)src[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < n) {
		/* truncated: mark it; the ring slot has room for max + "..." + NUL */
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

const char *log_sanitize(const char *src, size_t max)
{
	return log_sanitize_n(src, src ? strlen(src) : 0, max);
}
