/*
 * cmd_conf.c - `postern conf` (placeholder until its module lands; see cli.h)
 */
#include <stdio.h>

#include "cli/cli.h"

int cmd_conf(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "postern %s: not implemented yet in this version\n", cli->cmd);
	return EXIT_USAGE;
}
