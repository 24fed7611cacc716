/*
 * cmd_start.c - `postern start|start-fg|stop|reload|status`: control the master
 *
 * start [-f]  validate the configuration (findings printed as `postern check`
 *             does; any error: exit 2, nothing started), then run the master
 *             (src/master/master.h): exit 0 once the listeners are bound.
 * stop        SIGTERM to the master, wait until it is gone (exit 1: not running).
 * reload      SIGHUP to the master (exit 1: not running).
 * status      "running: PID: N" exit 0, or "not running" exit 1.
 * The running master is the holder of the lock on queue_directory/pid/master.pid.
 *
 * Tests:    tests/e2e/test_master.py
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "master/master.h"

#define STOP_WAIT_SECONDS 30

/* print_findings - the configuration findings, as `postern check` prints them */
static void print_findings(const struct diag_list *dl)
{
	struct buf line = BUF_INIT(8192);
	size_t i;

	for (i = 0; i < dl->n; i++) {
		buf_reset(&line);
		diag_format(&dl->v[i], &line);
		log_msg(dl->v[i].level == DIAG_ERROR ? LOG_LVL_ERR : LOG_LVL_WARN, "%s", buf_cstr(&line));
		if (dl->v[i].fix)
			fprintf(stderr, "    fix: %s\n", dl->v[i].fix);
	}
	buf_free(&line);
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
	struct diag_list dl;
	struct master_conf mc;
	bool fg = strcmp(argv[0], "start-fg") == 0;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			fg = true;
		else
			return cli_usage_error(cli, "unexpected argument \"%s\"", argv[i]);
	}
	diag_init(&dl);
	if (master_load(cli->config_dir, &mc, &dl) < 0) {
		print_findings(&dl);
		fprintf(stderr, "postern/master: fatal: configuration errors: not starting (see `postern check`)\n");
		diag_free(&dl);
		return EXIT_USAGE;
	}
	print_findings(&dl);
	diag_free(&dl);
	log_init("postern", "master", LOG_TO_STDERR, NULL, NULL);
	rc = master_run(cli->config_dir, &mc, fg);
	master_conf_free(&mc);
	return rc;
}

/* running_master - load just main.cf and find the master; 0 when none, -1 config error */
static long running_master(struct cli *cli)
{
	struct diag_list dl;
	struct config *cfg;
	long pid;

	diag_init(&dl);
	cfg = config_load(cli->config_dir, &dl);
	if (cfg == NULL) {
		print_findings(&dl);
		diag_free(&dl);
		return -1;
	}
	diag_free(&dl);
	pid = master_running(cfg);
	config_free(&cfg);
	return pid;
}

/* signal_master - common part of stop and reload */
static long signal_master(struct cli *cli, int argc, char **argv, int sig)
{
	long pid;

	(void)argv;
	if (argc > 1)
		return -(long)cli_usage_error(cli, "unexpected argument \"%s\"", argv[1]);
	pid = running_master(cli);
	if (pid < 0)
		return -EXIT_USAGE;
	if (pid == 0) {
		fprintf(stderr, "postern/%s: fatal: the Postern mail system is not running\n", cli->cmd);
		return -EXIT_NOTFOUND;
	}
	if (kill((pid_t)pid, sig) < 0) {
		fprintf(stderr, "postern/%s: fatal: signal pid %ld: %s\n", cli->cmd, pid, strerror(errno));
		return -EXIT_NOTFOUND;
	}
	return pid;
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	long pid = signal_master(cli, argc, argv, SIGTERM);
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i;

	if (pid < 0)
		return (int)-pid;
	for (i = 0; i < STOP_WAIT_SECONDS * 10; i++) {
		if (running_master(cli) != pid) {
			printf("postern/stop: stopping the Postern mail system\n");
			return EXIT_OK;
		}
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "postern/stop: fatal: the master (pid %ld) did not stop in %d s\n", pid,
		STOP_WAIT_SECONDS);
	return EXIT_NOTFOUND;
}

int cmd_reload(struct cli *cli, int argc, char **argv)
{
	long pid = signal_master(cli, argc, argv, SIGHUP);

	if (pid < 0)
		return (int)-pid;
	printf("postern/reload: refreshing the Postern mail system\n");
	return EXIT_OK;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	long pid;

	if (argc > 1)
		return cli_usage_error(cli, "unexpected argument \"%s\"", argv[1]);
	pid = running_master(cli);
	if (pid < 0)
		return EXIT_USAGE;
	if (pid == 0) {
		fprintf(stderr, "postern/status: the Postern mail system is not running\n");
		return EXIT_NOTFOUND;
	}
	printf("postern/status: the Postern mail system is running: PID: %ld\n", pid);
	return EXIT_OK;
}
