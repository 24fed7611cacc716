/*
 * cmd_check.c - `postern check`: validate the configuration an administrator wrote
 *
 * Reports, each with file:line and a one-line fix:
 *   - main.cf syntax, unknown parameters (warning), bad values (error);
 *   - master.cf service lines and their -o overrides;
 *   - cross-parameter rules (config_check(): domain overlaps, open relay);
 *   - smtpd_relay_restrictions / smtpd_recipient_restrictions (restrict_check():
 *     unknown restrictions, missing tables, no relay guard);
 *   - mynetworks /file/name entries, read and checked line by line;
 *   - every lookup table set explicitly in main.cf: hash:/cdb: index file
 *     missing, unreadable, not ours (Berkeley DB) or older than its source
 *     ("run postern postmap"); texthash:/cidr:/inline:/static: syntax;
 *   - virtual_mailbox_base: missing, not a directory, world-writable, not
 *     owned by the static virtual uid;
 *   - mailbox_command set: not supported yet, local delivery defers (warning).
 *   - dovecot.conf, when the directory has one (dconf_load(): syntax, unknown
 *     and obsolete settings, bad values, unknown %variables).
 * Tables that only have their default value (alias_maps = hash:/etc/aliases)
 * are not checked: they are not something this administrator wrote.
 * Exit: 0 when no error (warnings allowed), 2 when an error was found.
 *
 * Tests:    tests/e2e/test_check.py, tests/e2e/test_howto.py
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth_main.h"
#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/htab.h"
#include "lib/log.h"
#include "lib/slice.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "libmail/config.h"
#include "libmail/config_check.h"
#include "libmail/dict.h"
#include "libmail/dovecot_conf.h"
#include "libmail/mastercf.h"
#include "libmail/restrict.h"

/* parameters whose values are (or may contain) lookup tables */
static const char *const table_params[] = {
	"virtual_mailbox_maps", "virtual_alias_maps", "virtual_uid_maps",	  "virtual_gid_maps",
	"alias_maps",		"transport_maps",     "canonical_maps",		  "smtpd_sender_login_maps",
	"local_recipient_maps", "relay_domains",      "virtual_mailbox_domains", "virtual_alias_domains",
	"mydestination",	"mynetworks",	      NULL,
};

#define MYNETWORKS_FILE_MAX (1024 * 1024)

/* check_master - parse master.cf and validate each service's -o overrides */
static void check_master(struct config *cfg, const char *dir, struct diag_list *dl)
{
	char *path = xasprintf("%s/master.cf", dir), *text;
	size_t len, i;
	struct mastercf *m;

	if (config_read_file(path, &text, &len) < 0) {
		if (errno == ENOENT)
			diag_add(dl, DIAG_WARN, path, 0,
				 "create it with a listener, e.g. \"smtp inet n - n - - smtpd\"",
				 "file not found: no service will be started");
		else
			diag_add(dl, DIAG_ERROR, path, 0, "make it readable by root", "cannot read: %s",
				 strerror(errno));
		free(path);
		return;
	}
	m = mastercf_parse(text, len, path, dl);
	for (i = 0; i < m->n; i++) {
		struct config *svc = mastercf_service_config(cfg, &m->v[i], dl);

		config_free(&svc);
	}
	mastercf_free(&m);
	free(text);
	free(path);
}

/* check_network_file - a mynetworks /file/name entry: each white-space separated item */
static void check_network_file(const char *path, const char *param, const char *cf, int cf_line,
			       struct diag_list *dl)
{
	char *text;
	size_t len;
	struct slice rest, line;
	int lineno = 0;

	if (config_read_file(path, &text, &len) < 0) {
		diag_add(dl, DIAG_ERROR, cf, cf_line, "create the file or remove it from the list",
			 "%s: cannot read %s: %s", param, path, strerror(errno));
		return;
	}
	rest = slice_make(text, len);
	while (rest.n > 0) {
		long nl = slice_chr(rest, '\n');
		struct slice tok;

		line = nl < 0 ? rest : slice_sub(rest, 0, (size_t)nl);
		rest = nl < 0 ? slice_make(rest.p + rest.n, 0) : slice_sub(rest, (size_t)nl + 1, rest.n);
		lineno++;
		line = slice_trim(line);
		if (line.n == 0 || line.p[0] == '#')
			continue;
		while (slice_next_token(&line, " \t\r,", &tok)) {
			char *item = xmemdup(tok.p, tok.n);

			if (check_network_item(item, param, path, lineno, dl) == NET_ITEM_FILE)
				diag_add(dl, DIAG_WARN, path, lineno, "list the networks themselves",
					 "%s: nested file \"%s\" is not read", param, item);
			free(item);
		}
	}
	free(text);
}

/* check_index_file - hash:/cdb: source vs index: missing, stale */
static void check_index_file(const char *type, const char *path, const char *cf, int cf_line,
			     const char *param, struct diag_list *dl)
{
	const char *suffix = strcmp(type, "hash") == 0 ? ".db" : ".cdb";
	char *index = xasprintf("%s%s", path, suffix);
	struct stat st_src, st_idx;
	bool have_src = stat(path, &st_src) == 0;
	char fix[1024];

	/* alias tables have the aliases(5) source syntax: postalias builds them */
	snprintf(fix, sizeof(fix), "run: postern %s %s:%s", strncmp(param, "alias_", 6) == 0 ? "postalias" : "postmap",
		 type, path);
	if (stat(index, &st_idx) != 0) {
		if (have_src)
			diag_add(dl, DIAG_ERROR, cf, cf_line, fix, "%s: table %s:%s: %s does not exist", param,
				 type, path, index);
		else
			diag_add(dl, DIAG_ERROR, cf, cf_line, "create the table source and run postern postmap",
				 "%s: table %s:%s: neither %s nor its source exists", param, type, path, index);
	} else if (have_src && (st_src.st_mtim.tv_sec > st_idx.st_mtim.tv_sec ||
				(st_src.st_mtim.tv_sec == st_idx.st_mtim.tv_sec &&
				 st_src.st_mtim.tv_nsec > st_idx.st_mtim.tv_nsec))) {
		diag_add(dl, DIAG_WARN, cf, cf_line, fix,
			 "%s: table %s:%s: source file %s is newer than %s: the server uses old data", param,
			 type, path, path, index);
	}
	free(index);
}

/* check_table - one "type:name" item of a table parameter */
static void check_table(const char *spec, const char *param, const char *cf, int cf_line,
			struct htab *seen, struct diag_list *dl)
{
	const char *colon = strchr(spec, ':'), *err;
	char *type;
	struct dict *d;

	if (colon == NULL || htab_has(seen, spec))
		return;
	htab_put(seen, spec, NULL);
	type = xstrndup(spec, (size_t)(colon - spec));
	if (!dict_type_known(type)) {
		diag_add(dl, DIAG_ERROR, cf, cf_line,
			 "use one of hash:, cdb:, texthash:, static:, inline:{...}, cidr:",
			 "%s: unsupported lookup table type \"%s\" in %s", param, type, spec);
		free(type);
		return;
	}
	if (strcmp(type, "hash") == 0 || strcmp(type, "cdb") == 0) {
		size_t before = dl->n_error;

		check_index_file(type, colon + 1, cf, cf_line, param, dl);
		if (dl->n_error > before) {
			free(type);
			return;
		}
	}
	d = dict_open(spec, DICT_FLAGS_DEFAULT | DICT_FLAG_NO_RELOAD, &err);
	if (d == NULL)
		diag_add(dl, DIAG_ERROR, cf, cf_line, NULL, "%s: %s", param, err);
	dict_close(&d);
	free(type);
}

/* check_tables - every table and file named by an explicitly set table parameter */
static void check_tables(struct config *cfg, struct diag_list *dl)
{
	struct htab *seen = htab_new(32, NULL);
	size_t i, k, n;

	for (i = 0; table_params[i]; i++) {
		const char *const *items, *err, *cf;
		char **copy;
		int line;

		if (!config_is_set(cfg, table_params[i]) ||
		    config_get_list(cfg, table_params[i], &items, &n, &err) < 0)
			continue;
		cf = config_where(cfg, table_params[i], &line);
		/* copy: opening tables may not touch cfg, but be safe against list storage reuse */
		copy = xcalloc(n + 1, sizeof(*copy));
		for (k = 0; k < n; k++)
			copy[k] = xstrdup(items[k]);
		for (k = 0; k < n; k++) {
			const char *item = copy[k][0] == '!' ? copy[k] + 1 : copy[k];

			if (strcmp(table_params[i], "mynetworks") == 0 && item[0] == '/')
				check_network_file(item, "mynetworks", cf, line, dl);
			else if (item[0] != '/' && strchr(item, ':') && item[0] != '[' &&
				 !(strcmp(table_params[i], "mynetworks") == 0 &&
				   check_network_item(item, "mynetworks", NULL, 0, NULL) != NET_ITEM_TABLE))
				check_table(item, table_params[i], cf, line, seen, dl);
		}
		for (k = 0; k < n; k++)
			free(copy[k]);
		free(copy);
	}
	htab_free(&seen);
}

/* static_id - the number of a "static:N" table, or -1 */
static long static_id(struct config *cfg, const char *param)
{
	const char *v = config_get(cfg, param);
	uint64_t n;

	if (v == NULL || strncmp(v, "static:", 7) != 0 || parse_u64(v + 7, strlen(v + 7), &n) < 0 ||
	    n > 0x7fffffff)
		return -1;
	return (long)n;
}

/* check_mailbox_base - virtual_mailbox_base exists, is private enough, belongs to the virtual uid */
static void check_mailbox_base(struct config *cfg, struct diag_list *dl)
{
	const char *base = config_get(cfg, "virtual_mailbox_base"), *cf;
	long uid = static_id(cfg, "virtual_uid_maps"), gid = static_id(cfg, "virtual_gid_maps");
	struct stat st;
	char fix[1024];
	int line;

	if (base == NULL || *base == '\0')
		return;
	cf = config_where(cfg, "virtual_mailbox_base", &line);
	if (stat(base, &st) != 0) {
		if (uid >= 0)
			snprintf(fix, sizeof(fix), "mkdir -p %s && chown %ld:%ld %s && chmod 0750 %s", base, uid,
				 gid >= 0 ? gid : uid, base, base);
		else
			snprintf(fix, sizeof(fix), "mkdir -p %s && chmod 0750 %s", base, base);
		diag_add(dl, DIAG_ERROR, cf, line, fix, "virtual_mailbox_base %s: %s", base, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_add(dl, DIAG_ERROR, cf, line, "point virtual_mailbox_base at a directory",
			 "virtual_mailbox_base %s is not a directory", base);
		return;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(fix, sizeof(fix), "chmod o-w %s", base);
		diag_add(dl, DIAG_ERROR, cf, line, fix,
			 "virtual_mailbox_base %s is world-writable: any local user can tamper with mail", base);
	}
	if (uid >= 0 && (long)st.st_uid != uid) {
		snprintf(fix, sizeof(fix), "chown %ld:%ld %s", uid, gid >= 0 ? gid : uid, base);
		diag_add(dl, DIAG_WARN, cf, line, fix,
			 "virtual_mailbox_base %s is owned by uid %ld, but virtual_uid_maps gives uid %ld: "
			 "delivery cannot create mailboxes in it",
			 base, (long)st.st_uid, uid);
	}
}

/* check_dovecot - DIR/dovecot.conf's findings, when the file exists, with its passwd-files' hashes */
static void check_dovecot(const char *dir, struct diag_list *dl)
{
	(void)auth_conf_check(dir, true, dl);
}

/* check_local - local delivery settings Postern does not support yet */
static void check_local(struct config *cfg, struct diag_list *dl)
{
	const char *cmd = config_get(cfg, "mailbox_command"), *cf;
	int line = 0;

	if (cmd == NULL || *cmd == '\0')
		return;
	cf = config_where(cfg, "mailbox_command", &line);
	diag_add(dl, DIAG_WARN, cf, line, "remove mailbox_command to deliver to home_mailbox or mail_spool_directory",
		 "mailbox_command is not supported yet: the local delivery agent defers mail for local users");
}

/* cmd_check - run every check and print the findings */
int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct diag_list dl;
	struct config *cfg;
	int rc;

	if (argc > 1)
		return cli_usage_error(cli, "unexpected argument \"%s\"", argv[1]);
	diag_init(&dl);
	cfg = config_load(cli->config_dir, &dl);
	if (cfg != NULL) {
		check_master(cfg, cli->config_dir, &dl);
		config_check(cfg, &dl);
		restrict_check(cfg, &dl);
		check_tables(cfg, &dl);
		check_mailbox_base(cfg, &dl);
		check_local(cfg, &dl);
	}
	check_dovecot(cli->config_dir, &dl);
	cli_print_diags(&dl, CLI_DIAG_FIX);
	rc = diag_has_errors(&dl) || cfg == NULL ? EXIT_USAGE : EXIT_OK;
	config_free(&cfg);
	diag_free(&dl);
	return rc;
}
