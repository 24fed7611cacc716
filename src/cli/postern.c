/*
 * postern.c - main() of the `postern` command: global options and subcommand dispatch
 *
 * Usage:    postern [-c CONFIG_DIR] COMMAND [ARGS...]; postern help; postern COMMAND --help
 * Config:   -c DIR, else $POSTERN_CONFIG, else /etc/postern
 * Commands: one table below; each entry names its cmd_*.c implementation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/log.h"

#define DEFAULT_CONFIG_DIR "/etc/postern"

struct command {
	const char *name;
	cli_cmd_fn *fn; /* NULL: planned, not implemented yet */
	const char *usage;
	const char *summary;
};

static const struct command commands[] = {
	{ "conf", cmd_conf, "conf [-n [-x]|-d|-h|--markdown] [NAME...]",
	  "show main.cf settings: non-default (-n, the default; -x expands), defaults (-d), docs (-h), "
	  "NAMEs expanded, or the Markdown parameter reference" },
	{ "check", cmd_check, "check",
	  "validate main.cf, master.cf, lookup tables and mailbox directories; each finding with a fix" },
	{ "postmap", cmd_postmap, "postmap [-f] [-w] [-q KEY|-q -] [TYPE:]FILE...",
	  "build an indexed lookup table from its text source, or query a table (-q); -f keeps key case, -w no duplicate warnings" },
	{ "postalias", cmd_postalias, "postalias [-f] [-w] [-q KEY|-q -] [TYPE:]FILE...",
	  "build an alias table from an aliases(5) file (\"name: value\" lines), or query it (-q)" },
	{ "newaliases", cmd_newaliases, "newaliases", "build every table of alias_database (postalias)" },
	{ "service", cmd_service, "service NAME",
	  "run one service process (the master does this; see src/master/service.h)" },
	{ "start", cmd_start, "start [-f]",
	  "validate the configuration and start the mail system (-f: stay in the foreground)" },
	{ "start-fg", cmd_start, "start-fg", "start the mail system in the foreground (start -f)" },
	{ "stop", cmd_stop, "stop", "stop the mail system; sessions in progress finish first" },
	{ "reload", cmd_reload, "reload", "re-read the configuration; the old one stays when the new one is invalid" },
	{ "status", cmd_status, "status", "is the mail system running? (exit 0: yes, 1: no)" },
	{ "doveconf", cmd_doveconf, "doveconf [-n|-d|--markdown] [-f protocol=NAME] [NAME...]",
	  "show dovecot.conf settings in Dovecot 2.x syntax: non-default (-n, the default), defaults (-d), "
	  "NAMEs' values (as protocol NAME sees them with -f), or the Markdown settings reference" },
	{ "pw", cmd_pw, "pw [-l] [-s SCHEME] [-u USER] [-p PASS] [-r ROUNDS] [-t HASH] [-V]",
	  "make or test password hashes in Dovecot's schemes (doveadm pw, dovecotpw)" },
	{ "auth", cmd_auth, "auth test [-r RIP] [-s SERVICE] USER [PASSWORD]",
	  "authenticate USER with the running auth service (PLAIN), then show the userdb fields (doveadm auth test)" },
	{ "user", cmd_user, "user [-s SERVICE] USER", "look USER up in the running auth service's userdb (doveadm user)" },
	{ "queue", cmd_queue, "queue [list|flush|delete ID|ALL|hold ID|release ID]",
	  "inspect and manage the mail queue" },
	{ "sendmail", cmd_sendmail, "sendmail [-f SENDER] [-i] recipient... < message", "submit a message" },
};

static const struct command *current;

static void usage_all(FILE *out)
{
	size_t i;

	fprintf(out, "usage: postern [-c CONFIG_DIR] COMMAND [ARGS...]\n\n"
		     "The configuration directory is -c DIR, else $POSTERN_CONFIG, else " DEFAULT_CONFIG_DIR
		     ".\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-48s %s\n", commands[i].usage, commands[i].summary);
	fprintf(out, "\n`postern COMMAND --help` describes one command.\n");
}

void cli_print_usage(const struct cli *cli)
{
	(void)cli;
	if (current)
		printf("usage: postern [-c CONFIG_DIR] %s\n  %s\n", current->usage, current->summary);
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "postern %s: ", cli->cmd ? cli->cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (current)
		fprintf(stderr, "\nusage: postern [-c CONFIG_DIR] %s\n", current->usage);
	else
		fputc('\n', stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct cli cli = { NULL, NULL };
	const char *env = getenv("POSTERN_CONFIG");
	int i = 1;
	size_t k;

	log_init("postern", "postern", LOG_TO_STDERR, NULL, NULL);
	log_set_fatal_status(EXIT_USAGE);
	cli.config_dir = env && *env ? env : DEFAULT_CONFIG_DIR;

	/* global options come before the command */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "postern: option -c needs a directory\n");
				return EXIT_USAGE;
			}
			cli.config_dir = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "-c", 2) == 0) {
			cli.config_dir = argv[i] + 2;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage_all(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "postern: unknown option %s (try `postern help`)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc) {
			for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
				if (strcmp(commands[k].name, argv[i + 1]) == 0) {
					current = &commands[k];
					cli_print_usage(&cli);
					return EXIT_OK;
				}
			fprintf(stderr, "postern: unknown command \"%s\" (try `postern help`)\n", argv[i + 1]);
			return EXIT_USAGE;
		}
		usage_all(stdout);
		return EXIT_OK;
	}
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(commands[k].name, argv[i]) != 0)
			continue;
		current = &commands[k];
		cli.cmd = current->name;
		if (i + 1 < argc && strcmp(argv[i + 1], "--help") == 0) {
			cli_print_usage(&cli);
			return EXIT_OK;
		}
		if (current->fn == NULL) {
			fprintf(stderr, "postern %s: not implemented yet in this version\n", current->name);
			return EXIT_USAGE;
		}
		log_init("postern", current->name, LOG_TO_STDERR, NULL, NULL);
		return current->fn(&cli, argc - i, argv + i);
	}
	fprintf(stderr, "postern: unknown command \"%s\" (try `postern help`)\n", argv[i]);
	return EXIT_USAGE;
}
