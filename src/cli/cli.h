/*
 * cli.h - the `postern` command: shared context and the subcommand entry points
 *
 * Each subcommand lives in its own cmd_<name>.c and is listed once in the
 * command table in postern.c. Exit codes (shared/DESIGN.md): 0 ok, 1 "not
 * found"/"refused", 2 usage or configuration error, with one clear line on stderr.
 */
#ifndef POSTERN_CLI_H
#define POSTERN_CLI_H

#include <stdbool.h>

#include "libmail/diag.h"

#define EXIT_OK 0
#define EXIT_NOTFOUND 1
#define EXIT_USAGE 2

struct cli {
	const char *config_dir; /* -c DIR, $POSTERN_CONFIG, or /etc/postern */
	const char *cmd;        /* subcommand name, for messages */
};

/* a subcommand: argv[0] is the subcommand name, getopt-ready */
typedef int cli_cmd_fn(struct cli *cli, int argc, char **argv);

cli_cmd_fn cmd_conf;
cli_cmd_fn cmd_check;
cli_cmd_fn cmd_postmap;
cli_cmd_fn cmd_postalias;
cli_cmd_fn cmd_newaliases;
cli_cmd_fn cmd_service;
cli_cmd_fn cmd_queue;
cli_cmd_fn cmd_sendmail;
cli_cmd_fn cmd_start;
cli_cmd_fn cmd_stop;
cli_cmd_fn cmd_reload;
cli_cmd_fn cmd_status;
cli_cmd_fn cmd_pw;
cli_cmd_fn cmd_doveconf;
cli_cmd_fn cmd_auth;
cli_cmd_fn cmd_user;

/*
 * postmap_run - `postern postmap` with map_build() flags added when building
 * (MAP_BUILD_ALIAS for postalias); queries are the same. Returns the exit code.
 */
int postmap_run(struct cli *cli, int argc, char **argv, int build_flags);

/* service_known - true when `postern service NAME` exists (cmd_service.c's table) */
bool service_known(const char *name);

/* cli_usage_error - print "postern CMD: message" and a usage hint; returns EXIT_USAGE */
int cli_usage_error(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define CLI_DIAG_SORTED 1u /* by file and line */
#define CLI_DIAG_FIX 2u    /* each finding's suggested fix on the next line */
/* cli_print_diags - every finding of dl on stderr as a Postfix-style log line (cli_diag.c) */
void cli_print_diags(const struct diag_list *dl, unsigned flags);
/* cli_print_usage - print the usage text of the current subcommand to stdout */
void cli_print_usage(const struct cli *cli);

#endif
