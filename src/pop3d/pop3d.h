/*
 * pop3d.h - the POP3 service processes' entry points (`postern service NAME`)
 *
 *   pop3-login   pre-authentication POP3, TLS, hand-over (pop3_login.c)
 *   pop3         the dispatcher: verifies a login, runs a worker per uid:gid (pop3_disp.c)
 *   pop3-worker  started by the dispatcher: the mail sessions of one uid:gid (pop3_worker.c)
 *
 * Contract: docs/mail-access.md
 */
#ifndef POSTERN_POP3D_H
#define POSTERN_POP3D_H

#include "cli/cli.h"

cli_cmd_fn pop3_login_main;
cli_cmd_fn pop3_disp_main;
cli_cmd_fn pop3_worker_main;

#endif
