/*
 * strtab.h - name <-> code tables (Postfix's name_code and name_mask)
 *
 * A table is a static array of { name, code } rows ended by STRTAB_END:
 *
 *     static const struct strtab smtp_verbs[] = {
 *         { "HELO", CMD_HELO }, { "EHLO", CMD_EHLO }, { "MAIL", CMD_MAIL },
 *         STRTAB_END
 *     };
 *     int cmd = strtab_code_slice(smtp_verbs, verb, STRTAB_NOCASE, CMD_UNKNOWN);
 *
 * Lookups scan the rows in order (tables are small: commands, parameter values,
 * log classes); the first matching row wins, so a table may list aliases
 * ({ "yes", 1 }, { "true", 1 }) and strtab_name() then returns the first name
 * of a code. Case folding is ASCII only; names must be NUL-free C strings.
 * Pure functions: no allocation, no logging.
 *
 * Tests:    tests/unit/test_strtab.c
 */
#ifndef POSTERN_STRTAB_H
#define POSTERN_STRTAB_H

#include <stddef.h>

#include "slice.h"

struct strtab {
	const char *name; /* NULL ends the table */
	int code;
};

#define STRTAB_END { NULL, 0 }

/* lookup flags */
#define STRTAB_EXACT 0x0  /* names compare byte for byte */
#define STRTAB_NOCASE 0x1 /* names compare ASCII case-insensitively */

/* strtab_code - code of the first row named name, or dflt when no row matches */
int strtab_code(const struct strtab *t, const char *name, int flags, int dflt);
/* strtab_code_n - the same for a name of n bytes that need not be NUL-terminated */
int strtab_code_n(const struct strtab *t, const char *name, size_t n, int flags, int dflt);
/* strtab_code_slice - the same for a slice */
int strtab_code_slice(const struct strtab *t, struct slice name, int flags, int dflt);
/* strtab_find - row index of name, or -1; for callers that must tell "absent" from any code */
int strtab_find(const struct strtab *t, const char *name, size_t n, int flags);

/* strtab_name - name of the first row with code, or dflt (may be NULL) when none has it */
const char *strtab_name(const struct strtab *t, int code, const char *dflt);

/*
 * strtab_mask - OR together the codes of a list of names (Postfix name_mask), e.g.
 * "bounce, 2bounce resource" with seps ", \t". Every code should be a bit (or bits).
 * Returns 0 with the mask in *mask_r (0 for an empty list), or -1 at the first
 * unknown name: *bad_r (if not NULL) is then that name as a slice into list.
 */
int strtab_mask(const struct strtab *t, struct slice list, const char *seps, int flags, int *mask_r,
		struct slice *bad_r);

#endif
