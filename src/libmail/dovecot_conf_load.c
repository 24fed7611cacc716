/*
 * dovecot_conf_load.c - read DIR/dovecot.conf and its includes from disk: the thin I/O wrapper
 *
 * Runs in:  postern doveconf, postern check (as the administrator)
 * API:      dconf_load() -- see dovecot_conf.h; everything that interprets
 *           bytes is in dovecot_conf.c (pure); this file only globs and reads
 * Limits:   CONFIG_FILE_MAX bytes per file (config_read_file()), DCONF_LIMITS_DEFAULT
 * Tests:    tests/e2e/test_doveconf.py
 */
#include "dovecot_conf.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "libmail/config.h"

/* disk_match - glob(3) for patterns, the path itself otherwise */
static int disk_match(void *ctx, const char *pattern, char ***paths_r, size_t *n_r, const char **error_r)
{
	glob_t g;
	size_t i;
	int rc;

	(void)ctx;
	*paths_r = NULL;
	*n_r = 0;
	if (strpbrk(pattern, "*?[") == NULL) {
		*paths_r = xcalloc(1, sizeof(char *));
		(*paths_r)[0] = xstrdup(pattern);
		*n_r = 1;
		return 0;
	}
	rc = glob(pattern, GLOB_ERR, NULL, &g);
	if (rc == GLOB_NOMATCH)
		return 0;
	if (rc != 0) {
		*error_r = rc == GLOB_NOSPACE ? "out of memory" : "cannot read the directory";
		return -1;
	}
	*paths_r = xcalloc(g.gl_pathc + 1, sizeof(char *));
	for (i = 0; i < g.gl_pathc; i++)
		(*paths_r)[i] = xstrdup(g.gl_pathv[i]); /* glob sorts them */
	*n_r = g.gl_pathc;
	globfree(&g);
	return 0;
}

/* disk_read - the whole file; 1 when it does not exist */
static int disk_read(void *ctx, const char *path, char **text_r, size_t *len_r, const char **error_r)
{
	(void)ctx;
	if (config_read_file(path, text_r, len_r) == 0)
		return 0;
	if (errno == ENOENT)
		return 1;
	*error_r = strerror(errno);
	return -1;
}

/* dconf_load - DIR/dovecot.conf */
struct dconf *dconf_load(const char *dir, bool *missing_r, struct diag_list *dl)
{
	static const struct dconf_io io = { disk_match, disk_read, NULL };
	char *path = xasprintf("%s/dovecot.conf", dir), *text;
	struct dconf *cf;
	size_t len;

	*missing_r = false;
	if (config_read_file(path, &text, &len) < 0) {
		if (errno == ENOENT)
			*missing_r = true;
		else
			diag_add(dl, DIAG_ERROR, path, 0, "make it readable", "cannot read: %s", strerror(errno));
		free(path);
		return NULL;
	}
	cf = dconf_parse(text, len, path, &io, NULL, dl);
	free(text);
	free(path);
	return cf;
}
