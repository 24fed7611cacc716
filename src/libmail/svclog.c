/*
 * svclog.c - a service's log destination from main.cf (maillog_file or syslog)
 *
 * API:      see svclog.h
 */
#include "libmail/svclog.h"

#include "lib/log.h"

/* service_log_init - syslog_name/SERVICE to maillog_file or syslog, plus extra */
int service_log_init(struct config *cfg, const char *service, int extra, const char **error_r)
{
	const char *file = config_get(cfg, "maillog_file");
	const char *name = config_get(cfg, "syslog_name");
	int targets = (file && *file ? LOG_TO_FILE : LOG_TO_SYSLOG) | extra;

	return log_init(name && *name ? name : "postern", service, targets, file && *file ? file : NULL,
			error_r);
}
