/*
 * diag.h - a list of configuration findings (warnings and errors with file:line and a fix)
 *
 * Parsers and checkers (main.cf, master.cf, `postern check`) never print: they
 * append findings here and the caller decides how to show them. Each finding
 * has a level, the file and line it is about (file may be NULL and line 0 when
 * the finding is not tied to a place), a one-line message, and optionally a
 * one-line suggested fix. All strings are copied into the list.
 *
 * The list is bounded: past DIAG_MAX entries further findings are counted but
 * not stored, so hostile input cannot make it grow without limit.
 *
 * Tests:    tests/unit/test_config.c (through the config parser)
 */
#ifndef POSTERN_DIAG_H
#define POSTERN_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

enum diag_level { DIAG_WARN, DIAG_ERROR };

struct diag {
	enum diag_level level;
	char *file;    /* NULL: not tied to a file */
	int line;      /* 0: not tied to a line */
	char *msg;     /* one line, no trailing newline */
	char *fix;     /* NULL, or a one-line suggested fix */
};

#define DIAG_MAX 1000

struct diag_list {
	struct diag *v;
	size_t n;          /* stored entries */
	size_t cap;
	size_t dropped;    /* findings past DIAG_MAX that were counted, not stored */
	size_t n_warn;     /* all warnings, stored or dropped */
	size_t n_error;    /* all errors, stored or dropped */
};

#define DIAG_LIST_INIT { NULL, 0, 0, 0, 0, 0 }

/* diag_init - make an empty list */
void diag_init(struct diag_list *dl);
/* diag_free - release every entry; the list is empty (and reusable) afterwards */
void diag_free(struct diag_list *dl);

/*
 * diag_add - append a finding. file may be NULL, line 0; fix may be NULL.
 * A NULL list is allowed and ignores the finding (callers that do not care).
 */
void diag_add(struct diag_list *dl, enum diag_level level, const char *file, int line,
	      const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void diag_vadd(struct diag_list *dl, enum diag_level level, const char *file, int line,
	       const char *fix, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* diag_has_errors - true when at least one DIAG_ERROR was added */
bool diag_has_errors(const struct diag_list *dl);

/*
 * diag_format - append one finding to out in Postfix's wording, without level
 * or program prefix and without newline:
 *     "/etc/postern/main.cf, line 12: unknown parameter \"foo\""
 *     "message" (no file)  /  "/etc/postern/main.cf: message" (file, no line)
 * The fix, when present, is not included (see d->fix).
 * Returns 0, or -1 when out's maximum was reached (out keeps what fitted).
 */
int diag_format(const struct diag *d, struct buf *out);

/* diag_level_name - "warning" or "error" */
const char *diag_level_name(enum diag_level level);

#endif
