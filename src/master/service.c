/*
 * service.c - configuration helpers every service process shares
 *
 * Services read parameters that config_validate() already checked when the
 * master started, so a bad value here is fatal (exit status 1: the master
 * logs it and restarts the service with a backoff).
 *
 * Runs in:  smtpd, qmgr, the delivery agents
 * API:      service_int(), service_time(), service_concurrency(), service_listen_fds()  -- see service.h
 * Tests:    tests/e2e/test_delivery.py, tests/e2e/test_smtpd.py (through the services)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
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

/* service_listen_fds - descriptors 3.., non-blocking, and their TLS flags */
size_t service_listen_fds(bool **ssl_r)
{
	const char *n_env = getenv(SERVICE_ENV_LISTEN_FDS), *ssl = getenv(SERVICE_ENV_LISTEN_SSL);
	char *end;
	long n = 0;

	if (n_env && *n_env) {
		errno = 0;
		n = strtol(n_env, &end, 10);
		if (errno || *end || n < 0 || n > 64)
			fatal("bad $%s: \"%s\"", SERVICE_ENV_LISTEN_FDS, n_env);
	}
	if (ssl_r)
		*ssl_r = xcalloc((size_t)n + 1, sizeof(bool));
	for (long i = 0; i < n; i++) {
		int fd = SERVICE_LISTEN_FD_BASE + (int)i;
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			fatal("listening descriptor %d: %s", fd, strerror(errno));
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (ssl_r && ssl && (size_t)i < strlen(ssl))
			(*ssl_r)[i] = ssl[i] == '1';
	}
	return (size_t)n;
}
