/*
 * cli_diag.c - print configuration findings (diag.h) for the `postern` subcommands
 *
 * One Postfix-style log line per finding on stderr, optionally sorted by file
 * and line and optionally followed by its suggested fix.
 *
 * API:      cli_print_diags()  -- see cli.h
 * Tests:    tests/e2e/test_conf.py, test_check.py, test_doveconf.py
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* cmp_diag - by file, then line, then the order found */
static int cmp_diag(const void *a, const void *b)
{
	const struct diag *const *x = a, *const *y = b;
	int c = strcmp((*x)->file ? (*x)->file : "", (*y)->file ? (*y)->file : "");

	if (c == 0)
		c = ((*x)->line > (*y)->line) - ((*x)->line < (*y)->line);
	return c != 0 ? c : (*x > *y) - (*x < *y);
}

/* cli_print_diags - every finding on stderr */
void cli_print_diags(const struct diag_list *dl, unsigned flags)
{
	const struct diag **v = xcalloc(dl->n + 1, sizeof(*v));
	struct buf b = BUF_INIT(8192);
	size_t i;

	for (i = 0; i < dl->n; i++)
		v[i] = &dl->v[i];
	if ((flags & CLI_DIAG_SORTED) && dl->n > 1)
		qsort(v, dl->n, sizeof(*v), cmp_diag);
	for (i = 0; i < dl->n; i++) {
		buf_reset(&b);
		diag_format(v[i], &b);
		log_msg(v[i]->level == DIAG_ERROR ? LOG_LVL_ERR : LOG_LVL_WARN, "%s", buf_cstr(&b));
		if ((flags & CLI_DIAG_FIX) && v[i]->fix)
			fprintf(stderr, "    fix: %s\n", v[i]->fix);
	}
	if (dl->dropped > 0)
		log_warn("%zu more findings not shown", dl->dropped);
	buf_free(&b);
	free(v);
}
