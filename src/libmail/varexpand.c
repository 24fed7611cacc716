/*
 * varexpand.c - Dovecot %variable templates (pure: no I/O, no globals)
 *
 * Runs in:  any process that expands dovecot.conf templates; values may be
 *           client-supplied, the output is bounded by the caller's buf
 * API:      var_expand(), var_check(), var_user_table() -- see varexpand.h
 * Limits:   at most VAR_MAX_MODS modifiers per variable; numbers capped at
 *           VAR_MAX_WIDTH; one value at most VAR_MAX_VALUE bytes while modified
 * Tests:    tests/unit/test_varexpand.c
 * Refs:     Dovecot 2.3 documentation "Config Variables"
 */
#include "varexpand.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/strutil.h"

#define VAR_MAX_MODS 10
#define VAR_MAX_WIDTH 100000
#define VAR_MAX_VALUE (64 * 1024)

/* one parsed "%..." reference */
struct var_ref {
	long offset, width;
	bool zero_pad;
	char mods[VAR_MAX_MODS];
	size_t n_mods;
	char key;             /* single-letter key, or '\0' for a long one */
	const char *long_key; /* into the template */
	size_t long_len;
};

/* is_modifier - a letter Dovecot reads as a modifier (supported or not) */
static bool is_modifier(char c)
{
	return c != '\0' && strchr("LUEXRHNMDT", c) != NULL;
}

/* read_number - digits at *p into *v (capped), advancing *p */
static void read_number(const char **p, long *v)
{
	*v = 0;
	while (ascii_isdigit(**p)) {
		if (*v < VAR_MAX_WIDTH)
			*v = *v * 10 + (**p - '0');
		(*p)++;
	}
	if (*v > VAR_MAX_WIDTH)
		*v = VAR_MAX_WIDTH;
}

/* parse_ref - the reference after a "%" at *pp; advances past it. 0 or -1 with *error_r */
static int parse_ref(const char **pp, struct var_ref *r, const char **error_r)
{
	const char *p = *pp;
	long sign = 1, n;
	int depth;

	memset(r, 0, sizeof(*r));
	if (*p == '-') {
		sign = -1;
		p++;
	}
	if (*p == '0') {
		r->zero_pad = true;
		p++;
	}
	read_number(&p, &n);
	r->width = n;
	if (*p == '.') {
		p++;
		r->offset = sign * n;
		sign = 1;
		r->zero_pad = false;
		if (*p == '0') {
			r->zero_pad = true;
			p++;
		}
		if (*p == '-') {
			sign = -1;
			p++;
		}
		read_number(&p, &n);
		r->width = sign * n;
	}
	while (is_modifier(*p) && r->n_mods < VAR_MAX_MODS)
		r->mods[r->n_mods++] = *p++;
	if (*p == '\0') {
		*error_r = "\"%\" at the end of the template";
		return -1;
	}
	if (*p == '{') {
		r->long_key = ++p;
		for (depth = 1; *p != '\0'; p++) {
			if (*p == '{')
				depth++;
			else if (*p == '}' && --depth == 0)
				break;
		}
		if (*p != '}') {
			*error_r = "unterminated \"%{\"";
			return -1;
		}
		r->long_len = (size_t)(p - r->long_key);
		p++;
	} else {
		r->key = *p++;
	}
	*pp = p;
	return 0;
}

/* lookup - the table entry for r, or NULL */
static const struct var_entry *lookup(const struct var_ref *r, const struct var_entry *tab, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (r->long_key == NULL && tab[i].key != '\0' && tab[i].key == r->key)
			return &tab[i];
		if (r->long_key != NULL && tab[i].long_key != NULL &&
		    strlen(tab[i].long_key) == r->long_len &&
		    memcmp(tab[i].long_key, r->long_key, r->long_len) == 0)
			return &tab[i];
	}
	return NULL;
}

/* check_mods - every modifier of r is one we implement */
static int check_mods(const struct var_ref *r, const char **error_r)
{
	size_t i;

	for (i = 0; i < r->n_mods; i++)
		if (strchr("HNM", r->mods[i]) != NULL) {
			*error_r = "hash modifiers %H, %N and %M are not supported";
			return -1;
		}
	return 0;
}

/* apply_mod - value in cur, modified by m, into next (both bounded) */
static int apply_mod(char m, const struct buf *cur, struct buf *next)
{
	const char *s = buf_cstr(cur);
	size_t n = cur->len, i;
	uint64_t v;
	int rc = 0;

	buf_reset(next);
	switch (m) {
	case 'L':
	case 'U':
		for (i = 0; i < n && rc == 0; i++)
			rc = buf_putc(next, m == 'L' ? ascii_tolower(s[i]) : ascii_toupper(s[i]));
		return rc;
	case 'E':
		for (i = 0; i < n && rc == 0; i++) {
			if (s[i] == '\\' || s[i] == '"' || s[i] == '\'')
				rc = buf_putc(next, '\\');
			if (rc == 0)
				rc = buf_putc(next, s[i]);
		}
		return rc;
	case 'X':
		if (parse_u64(s, n, &v) < 0)
			v = 0;
		return buf_printf(next, "%llx", (unsigned long long)v);
	case 'R':
		for (i = n; i > 0 && rc == 0; i--)
			rc = buf_putc(next, s[i - 1]);
		return rc;
	case 'T':
		while (n > 0 && ascii_isspace(s[n - 1]))
			n--;
		return buf_append(next, s, n);
	case 'D':
		for (i = 0; i < n && rc == 0; i++)
			rc = s[i] == '.' ? buf_puts(next, ",dc=") : buf_putc(next, s[i]);
		return rc;
	default:
		return -1; /* check_mods() ran first: cannot happen */
	}
}

/* emit - the modified value cut by offset/width or zero-padded, appended to out */
static int emit(const struct var_ref *r, const char *s, size_t n, struct buf *out)
{
	size_t skip;
	long w = r->width;

	if (r->offset < 0) {
		skip = (size_t)-r->offset;
		if (n > skip) {
			s += n - skip;
			n = skip;
		}
	} else {
		skip = (size_t)r->offset < n ? (size_t)r->offset : n;
		s += skip;
		n -= skip;
	}
	if (w == 0)
		return buf_append(out, s, n);
	if (!r->zero_pad) {
		if (w < 0)
			w = (long)n + w; /* drop -w characters from the end */
		if (w < 0)
			w = 0;
		return buf_append(out, s, (size_t)w < n ? (size_t)w : n);
	}
	for (; w > (long)n; w--)
		if (buf_putc(out, '0') < 0)
			return -1;
	return buf_append(out, s, n);
}

/* expand_ref - one reference's value (modified, cut) appended to out */
static int expand_ref(const struct var_ref *r, const char *value, struct buf *out)
{
	struct buf a = BUF_INIT(VAR_MAX_VALUE), b = BUF_INIT(VAR_MAX_VALUE), t;
	size_t i;
	int rc = buf_puts(&a, value);

	for (i = 0; i < r->n_mods && rc == 0; i++) {
		rc = apply_mod(r->mods[i], &a, &b);
		t = a;
		a = b;
		b = t;
	}
	if (rc == 0)
		rc = emit(r, buf_cstr(&a), a.len, out);
	buf_free(&a);
	buf_free(&b);
	return rc;
}

/* run - expand (out != NULL) or only check (out == NULL) */
static int run(const char *tmpl, const struct var_entry *tab, size_t n, struct buf *out,
	       const char **error_r, size_t *err_at_r)
{
	const char *p = tmpl, *pct;
	const struct var_entry *e;
	struct var_ref r;

	while (*p != '\0') {
		if (*p != '%') {
			pct = strchr(p, '%');
			if (pct == NULL)
				pct = p + strlen(p);
			if (out && buf_append(out, p, (size_t)(pct - p)) < 0)
				goto too_long;
			p = pct;
			continue;
		}
		pct = p++;
		if (err_at_r)
			*err_at_r = (size_t)(pct - tmpl);
		if (parse_ref(&p, &r, error_r) < 0 || check_mods(&r, error_r) < 0)
			return -1;
		if (r.long_key == NULL && r.key == '%') {
			if (out && buf_putc(out, '%') < 0)
				goto too_long;
			continue;
		}
		if ((e = lookup(&r, tab, n)) == NULL) {
			*error_r = "unknown variable";
			return -1;
		}
		if (out && expand_ref(&r, e->value ? e->value : "", out) < 0)
			goto too_long;
	}
	return 0;
too_long:
	*error_r = "result too long";
	return -1;
}

/* var_expand - expand tmpl into out */
int var_expand(const char *tmpl, const struct var_entry *tab, size_t n, struct buf *out,
	       const char **error_r, size_t *err_at_r)
{
	return run(tmpl, tab, n, out, error_r, err_at_r);
}

/* var_check - syntax and keys only */
int var_check(const char *tmpl, const struct var_entry *tab, size_t n, const char **error_r,
	      size_t *err_at_r)
{
	return run(tmpl, tab, n, NULL, error_r, err_at_r);
}

/* var_user_table - %u %n %d %h and their long names */
size_t var_user_table(struct var_entry *tab, const char *user, const char *home, char *scratch)
{
	const char *at = strchr(user, '@');
	size_t ulen = at ? (size_t)(at - user) : strlen(user);
	char *name = scratch, *domain = scratch + ulen + 1;

	memcpy(name, user, ulen);
	name[ulen] = '\0';
	if (at)
		memcpy(domain, at + 1, strlen(at + 1) + 1);
	else
		domain = name + ulen; /* "" */
	tab[0] = (struct var_entry){ 'u', "user", user };
	tab[1] = (struct var_entry){ 'n', "username", name };
	tab[2] = (struct var_entry){ 'd', "domain", domain };
	tab[3] = (struct var_entry){ 'h', "home", home ? home : "" };
	return 4;
}
