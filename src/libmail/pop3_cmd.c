/*
 * pop3_cmd.c - parse one POP3 command line
 *
 * Runs in:  pop3 login and session processes; input is UNTRUSTED network data
 * API:      see pop3_cmd.h
 * Tests:    tests/unit/test_pop3_cmd.c, fuzz/fuzz_pop3_cmd.c
 */
#include <string.h>
#include <strings.h>

#include "lib/strutil.h"
#include "libmail/pop3_cmd.h"

enum argspec {
	A_NONE,    /* no argument */
	A_NAME,    /* one word (USER) */
	A_REST,    /* the rest of the line, spaces included (PASS) */
	A_TWO,     /* two words (APOP name digest) */
	A_AUTH,    /* mechanism [initial-response] */
	A_MSG_OPT, /* [msg] (LIST, UIDL) */
	A_MSG,     /* msg (RETR, DELE) */
	A_MSG_N,   /* msg n (TOP) */
};

static const struct {
	const char *name;
	enum pop3_cmd_id id;
	enum argspec args;
	unsigned states;
} table[] = {
	{ "USER", POP3_USER, A_NAME, POP3_IN_AUTHORIZATION },
	{ "PASS", POP3_PASS, A_REST, POP3_IN_AUTHORIZATION },
	{ "APOP", POP3_APOP, A_TWO, POP3_IN_AUTHORIZATION },
	{ "AUTH", POP3_AUTH, A_AUTH, POP3_IN_AUTHORIZATION },
	{ "STLS", POP3_STLS, A_NONE, POP3_IN_AUTHORIZATION },
	{ "CAPA", POP3_CAPA, A_NONE, POP3_IN_AUTHORIZATION | POP3_IN_TRANSACTION },
	{ "QUIT", POP3_QUIT, A_NONE, POP3_IN_AUTHORIZATION | POP3_IN_TRANSACTION },
	{ "STAT", POP3_STAT, A_NONE, POP3_IN_TRANSACTION },
	{ "LIST", POP3_LIST, A_MSG_OPT, POP3_IN_TRANSACTION },
	{ "RETR", POP3_RETR, A_MSG, POP3_IN_TRANSACTION },
	{ "DELE", POP3_DELE, A_MSG, POP3_IN_TRANSACTION },
	{ "NOOP", POP3_NOOP, A_NONE, POP3_IN_TRANSACTION },
	{ "RSET", POP3_RSET, A_NONE, POP3_IN_TRANSACTION },
	{ "TOP", POP3_TOP, A_MSG_N, POP3_IN_TRANSACTION },
	{ "UIDL", POP3_UIDL, A_MSG_OPT, POP3_IN_TRANSACTION },
};

/* pop3_cmd_name - the upper-case keyword of a command */
const char *pop3_cmd_name(enum pop3_cmd_id id)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].id == id)
			return table[i].name;
	return "?";
}

/* word - the next space-separated word of s[*pos..n); len 0 at the end */
static struct slice word(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos, start;

	while (i < n && s[i] == ' ')
		i++;
	start = i;
	while (i < n && s[i] != ' ')
		i++;
	*pos = i;
	return (struct slice){ s + start, i - start };
}

/* number - a message number or count: decimal, no sign, at most 2^31-1; -1 when bad */
static int number(struct slice w, uint32_t *out)
{
	uint64_t v;

	if (w.n == 0 || w.n > 10 || parse_u64(w.p, w.n, &v) < 0 || v > 0x7fffffff)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* pop3_cmd_parse - parse one line */
int pop3_cmd_parse(const char *line, size_t n, size_t line_max, struct pop3_cmd *out, const char **error_r)
{
	size_t pos = 0, i;
	struct slice kw, w;
	enum argspec spec = A_NONE;

	memset(out, 0, sizeof(*out));
	if (n > line_max) {
		*error_r = "Input line too long.";
		return -1;
	}
	if (memchr(line, '\0', n) != NULL || memchr(line, '\r', n) != NULL || memchr(line, '\n', n) != NULL) {
		*error_r = "Invalid characters in the command line.";
		return -1;
	}
	kw = n && line[0] == ' ' ? (struct slice){ line, 0 } : word(line, n, &pos);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strlen(table[i].name) == kw.n && strncasecmp(table[i].name, kw.p, kw.n) == 0)
			break;
	}
	if (kw.n == 0 || i == sizeof(table) / sizeof(table[0])) {
		*error_r = "Unknown command.";
		return -1;
	}
	out->id = table[i].id;
	out->states = table[i].states;
	spec = table[i].args;

	switch (spec) {
	case A_NONE:
		if (word(line, n, &pos).n != 0) {
			*error_r = "Noise after the command.";
			return -1;
		}
		return 0;
	case A_NAME:
		out->arg1 = word(line, n, &pos);
		if (out->arg1.n == 0) {
			*error_r = "No username given.";
			return -1;
		}
		break;
	case A_REST:
		/* RFC 1939: exactly one space after PASS; the password may hold spaces */
		if (pos < n && line[pos] == ' ')
			pos++;
		out->arg1 = (struct slice){ line + pos, n - pos };
		pos = n;
		if (out->arg1.n == 0) {
			*error_r = "No password given.";
			return -1;
		}
		break;
	case A_TWO:
		out->arg1 = word(line, n, &pos);
		out->arg2 = word(line, n, &pos);
		if (out->arg1.n == 0 || out->arg2.n == 0) {
			*error_r = "Invalid APOP parameters.";
			return -1;
		}
		break;
	case A_AUTH:
		out->arg1 = word(line, n, &pos);
		out->arg2 = word(line, n, &pos);
		break;
	case A_MSG_OPT:
	case A_MSG:
	case A_MSG_N:
		w = word(line, n, &pos);
		if (w.n == 0 && spec == A_MSG_OPT)
			return 0;
		if (number(w, &out->msg) < 0 || out->msg == 0) {
			*error_r = "Invalid message number.";
			return -1;
		}
		out->nargs = 1;
		if (spec == A_MSG_N) {
			if (number(word(line, n, &pos), &out->lines) < 0) {
				*error_r = "Invalid size.";
				return -1;
			}
			out->nargs = 2;
		}
		break;
	}
	if (word(line, n, &pos).n != 0) {
		*error_r = "Noise after the arguments.";
		return -1;
	}
	if (out->arg1.n > POP3_ARG_MAX || (out->id != POP3_AUTH && out->arg2.n > POP3_ARG_MAX)) {
		*error_r = "Argument too long.";
		return -1;
	}
	return 0;
}
