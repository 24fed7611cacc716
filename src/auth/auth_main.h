/*
 * auth_main.h - entry points of the auth service for the CLI (cmd_service.c, cmd_check.c)
 *
 * Runs in:  `postern service auth`; auth_settings_load() also in `postern check`
 * Tests:    tests/e2e/test_auth.py
 */
#ifndef POSTERN_AUTH_MAIN_H
#define POSTERN_AUTH_MAIN_H

#include <stdbool.h>

#include "cli/cli.h"
#include "libmail/diag.h"

struct auth_settings;
struct dconf;

/* auth_main - `postern service auth` */
int auth_main(struct cli *cli, int argc, char **argv);
/* auth_settings_load - the auth settings of cf; 0, or -1 with *error_r (malloc'd) */
int auth_settings_load(struct auth_settings *set, const struct dconf *cf, const char *myhostname, char **error_r);
/* auth_settings_free - release what auth_settings_load made */
void auth_settings_free(struct auth_settings *set);

/*
 * auth_conf_check - dir/dovecot.conf's auth part as the service reads it (no
 * file: 0). check_files: also warn when passwd-file hashes cannot serve a
 * mechanism (`postern check`). 0, or -1 when errors were added to dl.
 */
int auth_conf_check(const char *dir, bool check_files, struct diag_list *dl);

#endif
