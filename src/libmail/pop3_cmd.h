/*
 * pop3_cmd.h - parse one POP3 command line (RFC 1939, RFC 2449, RFC 2595, RFC 5034)
 *
 * A pure function over the bytes of one line (without its CRLF): the keyword
 * is matched case-insensitively against a command table that also says in
 * which session states the command is allowed; the arguments are checked
 * (message numbers are decimal, 1..2^31-1; PASS takes the rest of the line,
 * spaces included; AUTH takes a mechanism and an optional initial response).
 * Errors carry the text of the -ERR reply, in Dovecot's wording.
 *
 * Runs in:  pop3 login and session processes; input is UNTRUSTED network data
 * API:      pop3_cmd_parse(), pop3_cmd_name()
 * Limits:   line <= the caller's limit (RFC 2449: 255 octets; Postern's
 *           default is larger for long AUTH initial responses), arguments <= POP3_ARG_MAX
 * Tests:    tests/unit/test_pop3_cmd.c, fuzz/fuzz_pop3_cmd.c
 * Refs:     RFC 1939, RFC 2449 (CAPA, arguments up to 40 octets), RFC 2595 (STLS), RFC 5034 (AUTH)
 */
#ifndef POSTERN_POP3_CMD_H
#define POSTERN_POP3_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/slice.h"

#define POP3_ARG_MAX 1024 /* user names, passwords, mechanisms; initial responses may be longer */

enum pop3_cmd_id {
	POP3_USER, POP3_PASS, POP3_APOP, POP3_AUTH, POP3_STLS, POP3_CAPA, POP3_QUIT, POP3_STAT, POP3_LIST,
	POP3_RETR, POP3_DELE, POP3_NOOP, POP3_RSET, POP3_TOP, POP3_UIDL,
};

/* session states a command is allowed in (RFC 1939 section 3) */
#define POP3_IN_AUTHORIZATION 1u
#define POP3_IN_TRANSACTION 2u

struct pop3_cmd {
	enum pop3_cmd_id id;
	unsigned states;     /* POP3_IN_* where the command is valid */
	struct slice arg1;   /* USER/APOP name, PASS password, AUTH mechanism; len 0 when absent */
	struct slice arg2;   /* APOP digest, AUTH initial response */
	int nargs;           /* message-number arguments given: 0, 1 (LIST/UIDL msg), 2 (TOP msg n) */
	uint32_t msg;        /* the message number (1-based) */
	uint32_t lines;      /* TOP's line count */
};

/*
 * pop3_cmd_parse - parse line[0..n). Returns 0, or -1 with *error_r the text
 * for "-ERR <text>" (unknown command, missing or bad argument, line too long).
 * The slices point into line.
 */
int pop3_cmd_parse(const char *line, size_t n, size_t line_max, struct pop3_cmd *out, const char **error_r);
/* pop3_cmd_name - the upper-case keyword of a command */
const char *pop3_cmd_name(enum pop3_cmd_id id);

#endif
