/*
 * fuzz_dovecot_conf.c - libFuzzer target: dovecot.conf parse (with includes), write-back, %variables
 *
 * The input is parsed as dovecot.conf; every "!include NAME.conf" reads the
 * input again through an in-memory struct dconf_io (loops and depth are the
 * parser's business), the model is written back in 2.x syntax and every
 * setting is read; then the input is expanded as a %variable template.
 * Build: make fuzz; run: build/fuzz/fuzz_dovecot_conf -dict=fuzz/dovecot_conf.dict fuzz/corpus/dovecot_conf
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "libmail/dovecot_conf.h"
#include "libmail/varexpand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *data;
	size_t size;
};

/* f_match - every pattern matches itself and, when it has a "*", one more name */
static int f_match(void *ctx, const char *pattern, char ***paths_r, size_t *n_r, const char **error_r)
{
	(void)ctx;
	(void)error_r;
	*paths_r = xcalloc(3, sizeof(char *));
	(*paths_r)[0] = xstrdup(pattern);
	*n_r = 1;
	if (strchr(pattern, '*') != NULL)
		(*paths_r)[(*n_r)++] = xasprintf("%s.2", pattern);
	return 0;
}

/* f_read - ".conf" names read the input itself; others do not exist */
static int f_read(void *ctx, const char *path, char **text_r, size_t *len_r, const char **error_r)
{
	struct input *in = ctx;
	size_t n = strlen(path);

	(void)error_r;
	if (n < 5 || strcmp(path + n - 5, ".conf") != 0)
		return 1;
	*text_r = xmemdup(in->data, in->size);
	*len_r = in->size;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct dconf_io io = { f_match, f_read, &in };
	struct dconf_limits lim = { 4096, 8, 3, 6 }; /* few files: many runs */
	struct diag_list dl = DIAG_LIST_INIT;
	struct buf out = BUF_INIT(1 << 20);
	struct var_entry tab[VAR_USER_ENTRIES];
	struct dconf *cf;
	const char *err;
	char *text, scratch[32];
	size_t i, n, at;

	cf = dconf_parse((const char *)data, size, "/etc/postern/dovecot.conf", &io, &lim, &dl);
	(void)dconf_write(cf, false, &out);
	for (i = 0; i < DCONF__COUNT; i++) {
		(void)dconf_get(cf, (enum dconf_id)i);
		(void)dconf_get_proto(cf, "imap", (enum dconf_id)i);
	}
	dconf_free(&cf);
	diag_free(&dl);

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	n = var_user_table(tab, "User.Name@Example.ORG", "/home/u", scratch);
	buf_reset(&out);
	(void)var_expand(text, tab, n, &out, &err, &at);
	free(text);
	buf_free(&out);
	return 0;
}
