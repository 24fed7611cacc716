/*
 * diag.c - a bounded list of configuration findings
 *
 * API:      see diag.h
 * Tests:    tests/unit/test_config.c
 */
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/xalloc.h"

/* diag_init - make an empty list */
void diag_init(struct diag_list *dl)
{
	struct diag_list empty = DIAG_LIST_INIT;

	*dl = empty;
}

/* diag_free - release every entry */
void diag_free(struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++) {
		free(dl->v[i].file);
		free(dl->v[i].msg);
		free(dl->v[i].fix);
	}
	free(dl->v);
	diag_init(dl);
}

/* diag_vadd - append a finding (va_list form) */
void diag_vadd(struct diag_list *dl, enum diag_level level, const char *file, int line,
	       const char *fix, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT(65536);
	struct diag *d;

	if (dl == NULL)
		return;
	if (level == DIAG_ERROR)
		dl->n_error++;
	else
		dl->n_warn++;
	if (dl->n >= DIAG_MAX) {
		dl->dropped++;
		return;
	}
	if (dl->n == dl->cap) {
		dl->cap = dl->cap ? dl->cap * 2 : 8;
		dl->v = xreallocarray(dl->v, dl->cap, sizeof(*dl->v));
	}
	/* callers bound what they quote; past the maximum say so instead of failing */
	if (buf_vprintf(&b, fmt, ap) < 0)
		(void)buf_puts(&b, "(message too long)");
	d = &dl->v[dl->n++];
	d->level = level;
	d->file = file ? xstrdup(file) : NULL;
	d->line = line;
	d->msg = buf_detach(&b);
	d->fix = fix ? xstrdup(fix) : NULL;
}

/* diag_add - append a finding */
void diag_add(struct diag_list *dl, enum diag_level level, const char *file, int line,
	      const char *fix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(dl, level, file, line, fix, fmt, ap);
	va_end(ap);
}

/* diag_has_errors - any error so far? */
bool diag_has_errors(const struct diag_list *dl)
{
	return dl != NULL && dl->n_error > 0;
}

/* diag_format - "file, line N: message" */
int diag_format(const struct diag *d, struct buf *out)
{
	if (d->file && d->line > 0)
		return buf_printf(out, "%s, line %d: %s", d->file, d->line, d->msg);
	if (d->file)
		return buf_printf(out, "%s: %s", d->file, d->msg);
	return buf_puts(out, d->msg);
}

/* diag_level_name - the word Postfix prints before the message */
const char *diag_level_name(enum diag_level level)
{
	switch (level) {
	case DIAG_WARN:
		return "warning";
	case DIAG_ERROR:
		return "error";
	}
	panic("diag: bad level %d", (int)level);
}
