/*
 * cmd_auth.c - `postern auth test USER [PASSWORD]` and `postern user USER`: ask the running auth service
 *
 * Like `doveadm auth test` and `doveadm user`: they talk to the auth service
 * of the running system over queue_directory/private/auth and
 * private/auth-master with the client libraries the login processes and
 * dispatchers use (src/auth/auth_client.c, auth_master.c), so they also show
 * that those work. auth test authenticates with PLAIN (as a secured
 * connection from RIP, default 127.0.0.1), then REQUESTs the result as a
 * dispatcher would and prints the userdb fields. Both need root (the
 * sockets are in private/).
 *
 * Runs in:  the postern command (administrators, tests)
 * Exit:     0 ok, 1 authentication failed / user not found, 2 usage, config or service unreachable
 * Tests:    tests/e2e/test_auth.py
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth/auth_client.h"
#include "auth/auth_master.h"
#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/encode.h"
#include "lib/xalloc.h"
#include "libmail/config.h"
#include "master/service.h"

#define WAIT_SECONDS 15

struct run {
	struct event_base *base;
	struct auth_client *c;
	struct auth_master *m;
	uint32_t id;
	int rc;
	bool done, authenticated;
};

/* socket_path - queue_directory/name of the configuration; NULL when unreadable */
static char *socket_path(struct cli *cli, const char *name)
{
	struct diag_list dl;
	struct config *cfg;
	char *p = NULL;

	diag_init(&dl);
	cfg = config_load(cli->config_dir, &dl);
	if (cfg && !diag_has_errors(&dl) && config_get(cfg, "queue_directory"))
		p = xasprintf("%s/%s", config_get(cfg, "queue_directory"), name);
	else
		fprintf(stderr, "postern %s: cannot read the configuration in %s\n", cli->cmd, cli->config_dir);
	config_free(&cfg);
	diag_free(&dl);
	return p;
}

/* print_user - the userdb answer, doveadm user's "field value" lines */
static void print_user(enum auth_master_result r, const struct auth_userdb *u, const char *reason, void *ctx)
{
	struct run *run = ctx;

	run->done = true;
	if (r == AUTH_MASTER_OK) {
		printf("userdb: %s\n", u->user);
		if (u->has_uid)
			printf("  uid       : %lu\n", (unsigned long)u->uid);
		if (u->has_gid)
			printf("  gid       : %lu\n", (unsigned long)u->gid);
		if (u->home[0])
			printf("  home      : %s\n", u->home);
		if (u->mail[0])
			printf("  mail      : %s\n", u->mail);
		run->rc = EXIT_OK;
	} else if (r == AUTH_MASTER_NOTFOUND) {
		printf("userdb lookup: user not found\n");
		run->rc = EXIT_NOTFOUND;
	} else {
		fprintf(stderr, "userdb lookup failed: %s\n", reason ? reason : "?");
		run->rc = EXIT_USAGE;
	}
	event_base_loopbreak(run->base);
}

/* on_auth - the auth service's answer to the PLAIN request */
static void on_auth(enum auth_client_reply r, const char *data, void *ctx)
{
	struct run *run = ctx;

	if (r == AUTH_CLIENT_OK) {
		printf("passdb: %s auth succeeded\n", data);
		run->authenticated = true;
		run->done = true;
		event_base_loopbreak(run->base);
		return;
	}
	run->done = true;
	if (r == AUTH_CLIENT_FAIL) {
		printf("passdb: auth failed%s%s\n", data ? ": " : "", data ? data : "");
		run->rc = EXIT_NOTFOUND;
	} else {
		fprintf(stderr, "auth service failure: %s\n", data ? data : "?");
		run->rc = EXIT_USAGE;
	}
	event_base_loopbreak(run->base);
}

/* wait_done - run the loop until done or the deadline */
static void wait_done(struct run *run)
{
	struct timeval tv = { WAIT_SECONDS, 0 };

	event_base_loopexit(run->base, &tv);
	event_base_dispatch(run->base);
	if (!run->done) {
		fprintf(stderr, "no answer from the auth service within %d s\n", WAIT_SECONDS);
		run->rc = EXIT_USAGE;
	}
}

/* auth_test - `postern auth test [-r RIP] [-s SERVICE] USER [PASSWORD]` */
static int auth_test(struct cli *cli, int argc, char **argv)
{
	struct run run = { .rc = EXIT_USAGE };
	struct auth_request_info info = { .mech = "PLAIN", .service = "pop3", .rip = "127.0.0.1", .lip = "127.0.0.1" };
	struct buf ir = BUF_INIT(8192), raw = BUF_INIT(4096);
	char *apath, *mpath, pwbuf[1024];
	const char *pass;
	int opt;

	optind = 1;
	while ((opt = getopt(argc, argv, "r:s:")) != -1) {
		if (opt == 'r')
			info.rip = optarg;
		else if (opt == 's')
			info.service = optarg;
		else
			return cli_usage_error(cli, "unknown option");
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage_error(cli, "auth test USER [PASSWORD]");
	pass = argv[optind + 1];
	if (pass == NULL) {
		if (isatty(0))
			fprintf(stderr, "Password: ");
		if (!fgets(pwbuf, sizeof(pwbuf), stdin))
			pwbuf[0] = '\0';
		pwbuf[strcspn(pwbuf, "\r\n")] = '\0';
		pass = pwbuf;
	}
	info.secured = strcmp(info.rip, "127.0.0.1") == 0 || strcmp(info.rip, "::1") == 0;
	if (!(apath = socket_path(cli, SERVICE_AUTH_SOCKET)) || !(mpath = socket_path(cli, SERVICE_AUTH_MASTER_SOCKET))) {
		free(apath);
		return EXIT_USAGE;
	}
	buf_putc(&raw, '\0');
	buf_puts(&raw, argv[optind]);
	buf_putc(&raw, '\0');
	buf_puts(&raw, pass);
	base64_encode(&ir, raw.data, raw.len);
	explicit_bzero(raw.data, raw.len);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	info.initial_response = buf_cstr(&ir);
	signal(SIGPIPE, SIG_IGN);
	run.base = event_base_new();
	run.c = auth_client_new(run.base, apath);
	for (int i = 0; i < WAIT_SECONDS * 20 && !auth_client_ready(run.c); i++) {
		struct timeval tv = { 0, 50000 };

		event_base_loopexit(run.base, &tv);
		event_base_dispatch(run.base);
	}
	if (!auth_client_ready(run.c) || !(run.id = auth_request_start(run.c, &info, on_auth, &run))) {
		fprintf(stderr, "postern auth: cannot reach the auth service at %s\n", apath);
	} else {
		wait_done(&run);
		if (run.authenticated) { /* now the dispatcher's view */
			run.m = auth_master_new(run.base, mpath);
			run.done = false;
			auth_master_request(run.m, getpid(), run.id, auth_client_cookie(run.c), print_user, &run);
			wait_done(&run);
		}
	}
	explicit_bzero(ir.data, ir.len);
	buf_free(&ir);
	buf_free(&raw);
	auth_master_free(&run.m);
	auth_client_free(&run.c);
	event_base_free(run.base);
	free(apath);
	free(mpath);
	return run.rc;
}

/* cmd_auth - `postern auth test ...` */
int cmd_auth(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "test") != 0)
		return cli_usage_error(cli, "auth test [-r RIP] [-s SERVICE] USER [PASSWORD]");
	return auth_test(cli, argc - 1, argv + 1);
}

/* cmd_user - `postern user [-s SERVICE] USER`: the userdb fields */
int cmd_user(struct cli *cli, int argc, char **argv)
{
	struct run run = { .rc = EXIT_USAGE };
	const char *service = "pop3";
	char *mpath;
	int opt;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt == 's')
			service = optarg;
		else
			return cli_usage_error(cli, "unknown option");
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "which user?");
	if (!(mpath = socket_path(cli, SERVICE_AUTH_MASTER_SOCKET)))
		return EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	run.base = event_base_new();
	run.m = auth_master_new(run.base, mpath);
	auth_master_user(run.m, argv[optind], service, print_user, &run);
	wait_done(&run);
	auth_master_free(&run.m);
	event_base_free(run.base);
	free(mpath);
	return run.rc;
}
