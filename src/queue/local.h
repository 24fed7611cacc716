/*
 * local.h - the local delivery agent (`postern service local`)
 *
 * Runs in:  local (see local.c for the delivery rules and src/master/service.h)
 * Tests:    tests/e2e/test_local.py, tests/unit/test_aliases.c
 */
#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H

#include "cli/cli.h"

/*
 * local_main - serve private/local until SIGTERM; returns 0, or exits through
 * fatal() on a configuration error or a malformed request from the queue manager.
 */
int local_main(struct cli *cli, int argc, char **argv);

#endif
