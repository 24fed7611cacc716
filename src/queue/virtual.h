/*
 * virtual.h - the virtual mailbox delivery agent (`postern service virtual`)
 *
 * Runs in:  virtual (see virtual.c for the delivery rules and src/master/service.h)
 * Tests:    tests/e2e/test_delivery.py
 */
#ifndef POSTERN_VIRTUAL_H
#define POSTERN_VIRTUAL_H

#include "cli/cli.h"

/*
 * virtual_main - serve private/virtual until SIGTERM; returns 0, or exits through
 * fatal() on a configuration error or a malformed request from the queue manager.
 */
int virtual_main(struct cli *cli, int argc, char **argv);

#endif
