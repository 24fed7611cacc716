/*
 * svclog.c - a service's log destination from main.cf (maillog_file or syslog)
 *
 * API:      see svclog.h
 */
#include "libmail/svclog.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* stderr_is - is standard error the file at path (the daemonized master hands maillog_file over as stderr)? */
static bool stderr_is(const char *path)
{
	struct stat a, b;

	return fstat(STDERR_FILENO, &a) == 0 && stat(path, &b) == 0 && S_ISREG(a.st_mode) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* service_log_init - syslog_name/SERVICE to maillog_file or syslog, plus extra */
int service_log_init(struct config *cfg, const char *service, int extra, const char **error_r)
{
	const char *file = config_get(cfg, "maillog_file");
	const char *name = config_get(cfg, "syslog_name");
	int targets = (file && *file ? LOG_TO_FILE : LOG_TO_SYSLOG) | extra;

	/* a copy on stderr would write every line twice into the log, once without its timestamp */
	if (file && *file && (extra & LOG_TO_STDERR) && stderr_is(file))
		targets &= ~LOG_TO_STDERR;
	return log_init(name && *name ? name : "postern", service, targets, file && *file ? file : NULL,
			error_r);
}
