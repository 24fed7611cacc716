/*
 * cmd_service.c - `postern service NAME`: run one service process (started by the master)
 *
 * The master execs the postern binary with "service NAME" and the environment
 * described in src/master/service.h. Each service is one row of the table
 * below: its main function takes the CLI context (for the configuration
 * directory) and the remaining arguments. Running a service by hand is
 * possible for tests (pass listening sockets as descriptors 3.. and set
 * $POSTERN_LISTEN_FDS) but administrators use `postern start`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth_main.h"
#include "cli/cli.h"
#include "queue/local.h"
#include "queue/qmgr.h"
#include "pop3d/pop3d.h"
#include "queue/virtual.h"
#include "smtpd/smtpd.h"

struct service_entry {
	const char *name;
	cli_cmd_fn *main;
	const char *what;
};

static const struct service_entry services[] = {
	{ "smtpd", smtpd_main, "SMTP server" },
	{ "qmgr", qmgr_main, "queue manager" },
	{ "virtual", virtual_main, "virtual mailbox delivery agent" },
	{ "local", local_main, "local delivery agent (mydestination)" },
	{ "auth", auth_main, "authentication service (dovecot.conf passdb/userdb, SASL)" },
	{ "pop3-login", pop3_login_main, "POP3 before login: TLS, STLS, authentication" },
	{ "pop3", pop3_disp_main, "POP3 dispatcher: starts the mail session workers (root)" },
	{ "pop3-worker", pop3_worker_main, "POP3 mail sessions of one uid:gid (started by pop3)" },
	{ NULL, NULL, NULL },
};

/* service_known - true when NAME is a row of the service table */
bool service_known(const char *name)
{
	size_t i;

	for (i = 0; services[i].name; i++)
		if (strcmp(services[i].name, name) == 0)
			return true;
	return false;
}

int cmd_service(struct cli *cli, int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return cli_usage_error(cli, "which service?");
	for (i = 0; services[i].name; i++)
		if (strcmp(services[i].name, argv[1]) == 0)
			return services[i].main(cli, argc - 1, argv + 1);
	fprintf(stderr, "postern service: unknown service \"%s\"; known:", argv[1]);
	for (i = 0; services[i].name; i++)
		fprintf(stderr, " %s", services[i].name);
	fputc('\n', stderr);
	return EXIT_USAGE;
}
