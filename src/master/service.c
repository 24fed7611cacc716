/*
 * service.c - configuration helpers every service process shares
 *
 * Services read parameters that config_validate() already checked when the
 * master started, so a bad value here is fatal (exit status 1: the master
 * logs it and restarts the service with a backoff).
 *
 * Runs in:  smtpd, qmgr, the delivery agents
 * API:      service_int(), service_time(), service_concurrency()  -- see service.h
 * Tests:    tests/e2e/test_delivery.py, tests/e2e/test_smtpd.py (through the services)
 */
#include "libmail/config.h"
#include "lib/log.h"
#include "master/service.h"

/* service_int - an INT (or SIZE) parameter, fatal when bad */
int64_t service_int(struct config *cfg, const char *name)
{
	int64_t v;
	const char *err;

	if (config_get_int(cfg, name, &v, &err) < 0)
		fatal("%s", err);
	return v;
}

/* service_time - a TIME parameter in seconds, fatal when bad */
int64_t service_time(struct config *cfg, const char *name)
{
	int64_t v;
	const char *err;

	if (config_get_time(cfg, name, &v, &err) < 0)
		fatal("%s", err);
	return v;
}

/* service_concurrency - a transport's concurrency: limit_param, at most default_process_limit, at least 1 */
size_t service_concurrency(struct config *cfg, const char *limit_param)
{
	int64_t n = service_int(cfg, limit_param), procs = service_int(cfg, "default_process_limit");

	if (n > procs)
		n = procs;
	return n < 1 ? 1 : (size_t)n;
}
