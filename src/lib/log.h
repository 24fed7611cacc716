/*
 * log.h - logging in Postfix's form, and the fatal/panic conventions
 *
 * Lines look like Postfix's: "postern/smtpd[1234]: warning: text" in syslog
 * (facility mail) or in maillog_file with a timestamp and host name prefixed,
 * and "postern/postmap: warning: text" on stderr for commands.
 *
 * Conventions (see docs/CONTRIBUTING.md):
 *   log_debug/info/warn/err  - report, continue
 *   fatal()                  - environment or configuration problem: log, exit(log_fatal_status)
 *   panic() / ASSERT()       - impossible state (a bug): log with file:line, abort()
 * Bad peer input is never fatal; a malformed internal message always is.
 *
 * Tests:    tests/unit/test_log.c
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR, LOG_LVL_FATAL, LOG_LVL_PANIC };

/* where log lines go; several may be enabled at once */
#define LOG_TO_STDERR 0x1
#define LOG_TO_SYSLOG 0x2
#define LOG_TO_FILE 0x4

/*
 * log_init - set the program identity and destinations.
 * syslog_name: like Postfix's syslog_name ("postern"); service: "smtpd", "postmap", ...
 * The ident becomes "syslog_name/service". file may be NULL unless LOG_TO_FILE.
 * Returns 0, or -1 when the file cannot be opened (then stderr is used and *error_r says why).
 */
int log_init(const char *syslog_name, const char *service, int targets, const char *file,
	     const char **error_r);
/*
 * log_use_fd - write file lines to fd (an open append-mode log file) instead
 * of opening one: a process that cannot open maillog_file itself (a pop3
 * worker running as the mail user) gets it from its privileged parent
 */
void log_use_fd(int fd);
/* log_set_min_level - lines below this level are dropped (default LOG_LVL_INFO) */
void log_set_min_level(enum log_level lvl);
/* log_set_fatal_status - exit status used by fatal() (default 1) */
void log_set_fatal_status(int status);
/* log_ident - the current "syslog_name/service" ident */
const char *log_ident(void);

/*
 * log_set_hook - route every line to fn instead of the destinations (tests).
 * fn gets the level and the formatted text without prefix; NULL restores.
 */
typedef void log_hook_fn(enum log_level lvl, const char *text, void *ctx);
void log_set_hook(log_hook_fn *fn, void *ctx);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)

/* fatal - log "fatal: ..." and exit(log_fatal_status); for environment/config failures */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* panic_at - log "panic: file:line: ..." and abort(); use through panic() */
_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(cond) \
	do { \
		if (!(cond)) \
			panic_at(__FILE__, __LINE__, "assertion failed: %s", #cond); \
	} while (0)

/*
 * log_sanitize - printable copy of untrusted bytes for a log line.
 * Control and non-ASCII bytes become "?", at most max bytes are kept and a
 * truncation is marked with "...". The result lives in one of a small ring of
 * internal buffers: valid until 8 more calls; use it in one log call.
 */
const char *log_sanitize(const char *src, size_t max);
/* log_sanitize_n - the same for n bytes that need not be NUL-terminated */
const char *log_sanitize_n(const char *src, size_t n, size_t max);

#endif
