/*
 * varexpand.h - Dovecot %variable templates: expand with a table of keys, or check one
 *
 * Runs in:  config checking (postern doveconf, check), later auth (userdb
 *           templates, auth_username_format) and the mail store (mail_location,
 *           pop3_uidl_format); templates come from dovecot.conf, values may
 *           come from a client (user names): output is bounded by out's maximum
 * API:      var_expand(), var_check(), var_user_table()
 * Tests:    tests/unit/test_varexpand.c
 * Refs:     Dovecot 2.3 documentation "Config Variables" (variables, modifiers,
 *           offset/width, zero padding)
 *
 * Template syntax (Dovecot 2.3's, the form 1.x also used):
 *   %%             a literal "%"
 *   %K             the value of single-letter key K from the table
 *   %{name}        the value of long key name from the table
 *   %[-][0]W[.[0][-]W2][MODS]K    optional numbers then modifiers, then the key:
 *     - "%Wk": at most W characters (%1u: the first one); "%0Wk": zero-padded
 *       on the left to W characters, never truncated (%08Xu)
 *     - "%O.Wk": skip O characters, then at most W; a negative O counts from
 *       the end (%-2.2u: the last two); a negative W drops that many from the end
 *   MODS, applied left to right before the numbers:
 *     L lowercase, U uppercase, E backslash before \ " ', X decimal number
 *     to lowercase hex (non-numbers give 0), R reverse, T trim trailing white
 *     space, D "a.b" to "a,dc=b" (LDAP DN)
 *   H, N and M (hashes) are not supported: an error.
 * Errors: an unknown key, "%" at the end, an unterminated "%{", an
 * unsupported modifier. *error_r is a static phrase and *err_at_r (may be
 * NULL) the offset of the "%" that started the bad variable.
 */
#ifndef POSTERN_VAREXPAND_H
#define POSTERN_VAREXPAND_H

#include <stddef.h>

#include "lib/buf.h"

struct var_entry {
	char key;             /* single letter, or '\0' for a long-name-only entry */
	const char *long_key; /* "user", or NULL */
	const char *value;    /* NULL counts as "" */
};

/*
 * var_expand - append tmpl, expanded with the n entries of tab, to out.
 * 0, or -1 with *error_r / *err_at_r (out then holds a partial result);
 * "result too long" when out's maximum is reached.
 */
int var_expand(const char *tmpl, const struct var_entry *tab, size_t n, struct buf *out,
	       const char **error_r, size_t *err_at_r);

/* var_check - would tmpl expand with these keys? (values are not used) 0, or -1 as var_expand */
int var_check(const char *tmpl, const struct var_entry *tab, size_t n, const char **error_r,
	      size_t *err_at_r);

#define VAR_USER_ENTRIES 8
/*
 * var_user_table - fill tab (VAR_USER_ENTRIES entries) with a user's keys:
 * %u %{user}, %n %{username} (the part before "@", or all), %d %{domain}
 * (after "@", or empty), %h %{home}. Strings point into user and home
 * (home may be NULL); the user part and domain are copied into the
 * caller's scratch of at least strlen(user) + 2 bytes. Returns the count.
 */
size_t var_user_table(struct var_entry *tab, const char *user, const char *home, char *scratch);

#endif
