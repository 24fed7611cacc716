/*
 * cmd_postalias.c - `postern postalias` and `postern newaliases`: build alias tables
 *
 * Usage:    postern postalias [-fw] [TYPE:]FILE...         build FILE.db from an aliases(5) file
 *           postern postalias [-f] -q KEY [TYPE:]FILE...   print the value of KEY
 *           postern newaliases                             postalias every table of alias_database
 * The source format is aliases(5): "name: value, value..." with continuation
 * lines starting with white space and '#' comments (mapsrc.h, alias syntax);
 * everything else (indexed CDB file, atomic rebuild, key folding, -q) is
 * `postern postmap`. Unlike Postfix's postalias, no "@" entry is added (it
 * only served sendmail's check that the database is complete).
 * Exit:     as postmap: 0 ok / found, 1 not found, 2 error (one line on stderr)
 * Tests:    tests/e2e/test_local.py, tests/unit/test_mapsrc.c
 * Refs:     postalias(1), newaliases(1), aliases(5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/config.h"
#include "libmail/diag.h"
#include "libmail/dict.h"
#include "libmail/mapbuild.h"

/* cmd_postalias - postmap with the aliases(5) source syntax */
int cmd_postalias(struct cli *cli, int argc, char **argv)
{
	return postmap_run(cli, argc, argv, MAP_BUILD_ALIAS);
}

/* cmd_newaliases - build each table of alias_database */
int cmd_newaliases(struct cli *cli, int argc, char **argv)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct config *cfg;
	const char *const *items;
	const char *err;
	size_t i, n;
	int status = EXIT_OK;

	if (argc > 1)
		return cli_usage_error(cli, "newaliases takes no arguments (got \"%s\")", argv[1]);
	cfg = config_load(cli->config_dir, &dl);
	if (!cfg || diag_has_errors(&dl)) {
		fprintf(stderr, "postern newaliases: cannot load the configuration from %s\n", cli->config_dir);
		diag_free(&dl);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	diag_free(&dl);
	if (config_get_list(cfg, "alias_database", &items, &n, &err) < 0) {
		log_msg(LOG_LVL_FATAL, "alias_database: %s", err);
		config_free(&cfg);
		return EXIT_USAGE;
	}
	for (i = 0; i < n && status == EXIT_OK; i++) {
		if (map_build(items[i], DICT_FLAG_FOLD_KEY | MAP_BUILD_ALIAS, &err) != 0) {
			log_msg(LOG_LVL_FATAL, "alias_database: %s", err);
			status = EXIT_USAGE;
		}
	}
	config_free(&cfg);
	return status;
}
