/*
 * config_load.c - read DIR/main.cf (and master.cf's -o references) from disk: the thin I/O wrapper
 *
 * Everything that interprets bytes is in config.c / mastercf.c (pure); this
 * file only reads files and asks the system for its host name.
 * API:      config_load(), config_read_file() -- see config.h
 * Limits:   CONFIG_FILE_MAX bytes per file
 * Tests:    tests/e2e/test_conf.py
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "libmail/mastercf.h"

/* config_read_file - whole file into *text_r (NUL-terminated, free() it); 0 or -1 with errno */
int config_read_file(const char *path, char **text_r, size_t *len_r)
{
	struct buf b = BUF_INIT(CONFIG_FILE_MAX);
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			n = -1;
			errno = EFBIG;
			break;
		}
	}
	saved = errno;
	close(fd);
	if (n < 0) {
		buf_free(&b);
		errno = saved;
		return -1;
	}
	*len_r = b.len;
	*text_r = buf_detach(&b);
	return 0;
}

/* note_master_references - every $name in master.cf -o values and arguments counts as used */
static void note_master_references(struct config *cfg, const char *dir)
{
	char *path = xasprintf("%s/master.cf", dir), *text;
	struct mastercf *m;
	size_t len, i, j;

	if (config_read_file(path, &text, &len) == 0) {
		/* syntax errors are master.cf's business (postern check); ignore them here */
		m = mastercf_parse(text, len, path, NULL);
		for (i = 0; i < m->n; i++) {
			for (j = 0; j < m->v[i].n_opts; j++)
				config_note_references(cfg, m->v[i].opts[j].value);
			for (j = 0; j < m->v[i].n_args; j++)
				config_note_references(cfg, m->v[i].args[j]);
		}
		mastercf_free(&m);
		free(text);
	}
	free(path);
}

/* config_load - DIR/main.cf with the system host name */
struct config *config_load(const char *dir, struct diag_list *diags)
{
	char *path = xasprintf("%s/main.cf", dir), *text;
	char host[HOST_NAME_MAX + 1];
	struct config *cfg;
	size_t len;

	if (config_read_file(path, &text, &len) < 0) {
		diag_add(diags, DIAG_ERROR, path, 0, "check the configuration directory (-c DIR)",
			 "cannot read: %s", strerror(errno));
		free(path);
		return NULL;
	}
	cfg = config_new(path);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		config_set_system_hostname(cfg, host);
	}
	note_master_references(cfg, dir);
	(void)config_feed(cfg, text, len, diags);
	(void)config_validate(cfg, diags);
	free(text);
	free(path);
	return cfg;
}
