/*
 * qmgr.h - the queue manager (`postern service qmgr`)
 *
 * Runs in:  qmgr (as mail_owner: the master drops privileges, see src/master/service.h)
 * Tests:    tests/e2e/test_delivery.py, tests/unit/test_qmgr_sched.c
 */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include "cli/cli.h"

/*
 * qmgr_main - deliver queued mail until SIGTERM; returns 0, or exits through fatal()
 * on a configuration error or a malformed reply from the delivery agent.
 */
int qmgr_main(struct cli *cli, int argc, char **argv);

#endif
