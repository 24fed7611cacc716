/*
 * svclog.h - where a service's log lines go, from main.cf
 *
 * Every process of the mail system logs as "$syslog_name/SERVICE[pid]" to
 * maillog_file when it is set, else to syslog (facility mail), like Postfix.
 * Services also copy each line to stderr (a service run by hand shows its
 * lines; `postern start -f` shows them on the terminal), except when stderr
 * is maillog_file itself: the daemonized master gives each service the log
 * as its stderr, so that an error before logging is set up is not lost, and
 * the copy would write every line twice.
 * Tests:    tests/e2e/test_master.py, tests/e2e/test_delivery.py (log lines)
 */
#ifndef POSTERN_SVCLOG_H
#define POSTERN_SVCLOG_H

#include "libmail/config.h"

/*
 * service_log_init - log_init() from cfg for SERVICE, with extra targets
 * (LOG_TO_STDERR). Returns 0, or -1 with *error_r when maillog_file cannot be
 * opened (lines then go to stderr).
 */
int service_log_init(struct config *cfg, const char *service, int extra, const char **error_r);

#endif
