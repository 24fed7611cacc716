/*
 * test_smtp_cmd.c - unit tests for src/libmail/smtp_cmd.c and smtp_path.c
 *
 * Table-driven: each command line is parsed and the result rendered as one
 * string ("VERB ok <details>" or "VERB <code> <enh> <text>"), compared with
 * the expectation. Limits and the normalizer have their own tests.
 */
#include "unit.h"

#include <inttypes.h>
#include <stdio.h>

#include "libmail/smtp_cmd.h"

static const struct smtp_cmd_limits lim = {
	.line_max = 2048,
	.path_max = 256,
	.param_max = 10,
	.param_len = 500,
	.size_max = 10240000,
};

/* render - one line describing the parse result */
static void render(int rc, const struct smtp_cmd *c, char *out, size_t outsz)
{
	size_t o;

	o = (size_t)snprintf(out, outsz, "%s ", smtp_verb_name(c->verb));
	if (rc < 0) {
		snprintf(out + o, outsz - o, "%u %s %s", c->err.code, c->err.enh ? c->err.enh : "-", c->err.text);
		return;
	}
	assert_int_equal(rc, 1);
	if (c->verb != SMTP_VERB_MAIL && c->verb != SMTP_VERB_RCPT) {
		o += (size_t)snprintf(out + o, outsz - o, "ok [%s]", c->arg);
		if (c->verb == SMTP_VERB_BDAT)
			snprintf(out + o, outsz - o, " %" PRIu64 "%s", c->bdat_size, c->bdat_last ? " last" : "");
		return;
	}
#define ADD(...) (o += (size_t)snprintf(out + o, outsz - o, __VA_ARGS__))
	ADD("ok %s", c->path.addr);
	if (c->path.null)
		ADD(" null");
	if (c->path.postmaster)
		ADD(" pm");
	if (c->path.quoted)
		ADD(" quoted");
	if (c->path.literal)
		ADD(" literal");
	if (c->path.utf8)
		ADD(" utf8");
	if (c->path.routed)
		ADD(" routed");
	if (c->has_size)
		ADD(" size=%" PRIu64, c->size);
	if (c->body)
		ADD(" body=%d", (int)c->body);
	if (c->smtputf8)
		ADD(" SMTPUTF8");
	if (c->ret)
		ADD(" ret=%d", (int)c->ret);
	if (c->envid)
		ADD(" envid=%s", c->envid);
	if (c->auth)
		ADD(" auth=%s", c->auth);
	if (c->notify)
		ADD(" notify=%u", c->notify);
	if (c->orcpt)
		ADD(" orcpt=%s", c->orcpt);
	if (c->nparams)
		ADD(" n=%zu", c->nparams);
#undef ADD
	assert_true(o < outsz);
}

struct cmd_case {
	const char *line;
	unsigned flags;
	const char *want;
};

#define BAD_SENDER "MAIL 501 5.1.7 Bad sender address syntax"
#define BAD_RCPT "RCPT 501 5.1.3 Bad recipient address syntax"
#define U8 SMTP_CMD_SMTPUTF8

static const struct cmd_case cases[] = {
	/* MAIL: valid paths */
	{ "MAIL FROM:<a@b.c>", 0, "MAIL ok a@b.c" },
	{ "mail from:<a@b.c>", 0, "MAIL ok a@b.c" },
	{ "MaIl FrOm:<John.Doe@Example.ORG>", 0, "MAIL ok John.Doe@Example.ORG" },
	{ "MAIL FROM: <a@b.c>", 0, "MAIL ok a@b.c" },
	{ "MAIL FROM:\t <a@b.c> \t", 0, "MAIL ok a@b.c" },
	{ "MAIL\tFROM:<a@b.c>", 0, "MAIL ok a@b.c" },
	{ "  MAIL  FROM:<a@b.c>", 0, "MAIL ok a@b.c" },
	{ "MAIL FROM:<>", 0, "MAIL ok  null" },
	{ "MAIL FROM:<> SIZE=100", 0, "MAIL ok  null size=100 n=1" },
	{ "MAIL FROM:<\"john doe\"@b.c>", 0, "MAIL ok \"john doe\"@b.c quoted" },
	{ "MAIL FROM:<\"a\\\"b\"@b.c>", 0, "MAIL ok \"a\\\"b\"@b.c quoted" },
	{ "MAIL FROM:<\"a>b\"@b.c> SIZE=1", 0, "MAIL ok \"a>b\"@b.c quoted size=1 n=1" },
	{ "MAIL FROM:<\"\"@b.c>", 0, "MAIL ok \"\"@b.c quoted" },
	{ "MAIL FROM:<a@[1.2.3.4]>", 0, "MAIL ok a@[1.2.3.4] literal" },
	{ "MAIL FROM:<a@[IPv6:2001:db8::1]>", 0, "MAIL ok a@[IPv6:2001:db8::1] literal" },
	{ "MAIL FROM:<a@[ipv6:::1]>", 0, "MAIL ok a@[ipv6:::1] literal" },
	{ "MAIL FROM:<@x.y,@z.w:a@b.c>", 0, "MAIL ok a@b.c routed" },
	{ "MAIL FROM:<@x.y:a@b.c>", 0, "MAIL ok a@b.c routed" },
	{ "MAIL FROM:<a.b+tag@sub-d.example.org>", 0, "MAIL ok a.b+tag@sub-d.example.org" },
	{ "MAIL FROM:<!#$%&'*+-/=?^_`{|}~@b.c>", 0, "MAIL ok !#$%&'*+-/=?^_`{|}~@b.c" },
	{ "MAIL FROM:<a@localhost>", 0, "MAIL ok a@localhost" },
	{ "MAIL FROM:<a@123.example>", 0, "MAIL ok a@123.example" },
	/* MAIL: parameters */
	{ "MAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME", 0, "MAIL ok a@b.c size=1000 body=2 n=2" },
	{ "MAIL FROM:<a@b.c> size=0 body=7bit ret=hdrs envid=QQ+2B", 0,
	  "MAIL ok a@b.c size=0 body=1 ret=2 envid=QQ+2B n=4" },
	{ "MAIL FROM:<a@b.c>  BODY=BINARYMIME  RET=FULL ", 0, "MAIL ok a@b.c body=3 ret=1 n=2" },
	{ "MAIL FROM:<a@b.c> AUTH=<>", 0, "MAIL ok a@b.c auth=<> n=1" },
	{ "MAIL FROM:<a@b.c> AUTH=joe+40example.org", 0, "MAIL ok a@b.c auth=joe+40example.org n=1" },
	{ "MAIL FROM:<a@b.c> SIZE=10240000", 0, "MAIL ok a@b.c size=10240000 n=1" },
	{ "MAIL FROM:<a@b.c> SIZE=10240001", 0, "MAIL 552 5.3.4 Message size exceeds fixed limit" },
	{ "MAIL FROM:<a@b.c> SIZE=99999999999999999999999", 0,
	  "MAIL 552 5.3.4 Message size exceeds file system imposed limit" },
	{ "MAIL FROM:<a@b.c> SIZE=abc", 0, "MAIL 501 5.5.4 Bad message size syntax" },
	{ "MAIL FROM:<a@b.c> SIZE=", 0, "MAIL 501 5.5.4 Bad message size syntax" },
	{ "MAIL FROM:<a@b.c> SIZE", 0, "MAIL 501 5.5.4 Bad message size syntax" },
	{ "MAIL FROM:<a@b.c> SIZE=-1", 0, "MAIL 501 5.5.4 Bad message size syntax" },
	{ "MAIL FROM:<a@b.c> SIZE=1 SIZE=2", 0, "MAIL 501 5.5.4 Bad message size syntax" },
	{ "MAIL FROM:<a@b.c> BODY=9BIT", 0, "MAIL 555 5.5.4 Unsupported option: BODY=9BIT" },
	{ "MAIL FROM:<a@b.c> BODY", 0, "MAIL 555 5.5.4 Unsupported option: BODY" },
	{ "MAIL FROM:<a@b.c> FOO=bar", 0, "MAIL 555 5.5.4 Unsupported option: FOO=bar" },
	{ "MAIL FROM:<a@b.c> FOO", 0, "MAIL 555 5.5.4 Unsupported option: FOO" },
	{ "MAIL FROM:<a@b.c> X=\xc3\xa9", 0, "MAIL 555 5.5.4 Unsupported option: X=??" },
	{ "MAIL FROM:<a@b.c> NOTIFY=NEVER", 0, "MAIL 555 5.5.4 Unsupported option: NOTIFY=NEVER" },
	{ "MAIL FROM:<a@b.c> SMTPUTF8=yes", 0, "MAIL 555 5.5.4 Unsupported option: SMTPUTF8=yes" },
	{ "MAIL FROM:<a@b.c> RET=ALL", 0, "MAIL 501 5.5.4 Bad RET parameter syntax" },
	{ "MAIL FROM:<a@b.c> RET=FULL RET=HDRS", 0, "MAIL 501 5.5.4 Bad RET parameter syntax" },
	{ "MAIL FROM:<a@b.c> ENVID=a=b", 0, "MAIL 501 5.5.4 Bad ENVID parameter syntax" },
	{ "MAIL FROM:<a@b.c> ENVID=", 0, "MAIL 501 5.5.4 Bad ENVID parameter syntax" },
	{ "MAIL FROM:<a@b.c> ENVID=+zz", 0, "MAIL 501 5.5.4 Bad ENVID parameter syntax" },
	{ "MAIL FROM:<a@b.c> ENVID=ab+2", 0, "MAIL 501 5.5.4 Bad ENVID parameter syntax" },
	{ "MAIL FROM:<a@b.c> AUTH=<> AUTH=<>", 0, "MAIL 503 5.5.4 Error: multiple AUTH= options" },
	{ "MAIL FROM:<a@b.c> AUTH=a=b", 0, "MAIL 501 5.5.4 Error: Bad AUTH parameter syntax" },
	/* MAIL: bad syntax */
	{ "MAIL FROM:a@b.c", 0, BAD_SENDER },
	{ "MAIL FROM: a@b.c", 0, BAD_SENDER },
	{ "MAIL FROM:", 0, "MAIL 501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "MAIL FROM:   ", 0, "MAIL 501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "MAIL", 0, "MAIL 501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "MAIL TO:<a@b.c>", 0, "MAIL 501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "MAIL FROM <a@b.c>", 0, "MAIL 501 5.5.4 Syntax: MAIL FROM:<address>" },
	{ "MAIL FROM:<a@b.c", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b.c>x", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b.c><d@e.f>", 0, BAD_SENDER },
	{ "MAIL FROM:<a..b@c.d>", 0, BAD_SENDER },
	{ "MAIL FROM:<.a@c.d>", 0, BAD_SENDER },
	{ "MAIL FROM:<a.@c.d>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@-b.c>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b-.c>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b..c>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b.c.>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@.b.c>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@>", 0, BAD_SENDER },
	{ "MAIL FROM:<@b.c>", 0, BAD_SENDER },
	{ "MAIL FROM:<a b@c.d>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b_c.d>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b@c.d>", 0, BAD_SENDER },
	{ "MAIL FROM:<a>", 0, BAD_SENDER },
	{ "MAIL FROM:<postmaster>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[1.2.3]>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[1.2.3.4.5]>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[256.1.1.1]>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[IPv6:1.2.3.4]>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[::1]>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[tag:stuff]>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[1.2.3.4]x>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@[]>", 0, BAD_SENDER },
	{ "MAIL FROM:<\"unterminated@b.c>", 0, BAD_SENDER },
	{ "MAIL FROM:<\"a\"b@c.d>", 0, BAD_SENDER },
	{ "MAIL FROM:<@a.b:>", 0, BAD_SENDER },
	{ "MAIL FROM:<@a.b,c.d:x@y.z>", 0, BAD_SENDER },
	{ "MAIL FROM:<@a.b,:x@y.z>", 0, BAD_SENDER },
	{ "MAIL FROM:<@:x@y.z>", 0, BAD_SENDER },
	{ "MAIL FROM:<a@b.c> <d@e.f>", 0, "MAIL 555 5.5.4 Unsupported option: <d@e.f>" },
	/* SMTPUTF8 (RFC 6531) */
	{ "MAIL FROM:<\xc3\xbc@b.c> SMTPUTF8", 0, "MAIL ok \xc3\xbc@b.c utf8 SMTPUTF8 n=1" },
	{ "MAIL FROM:<a@b\xc3\xbc" "cher.de> SMTPUTF8", 0, "MAIL ok a@b\xc3\xbc" "cher.de utf8 SMTPUTF8 n=1" },
	{ "MAIL FROM:<\"\xc3\xbc x\"@b.c> smtputf8", 0, "MAIL ok \"\xc3\xbc x\"@b.c quoted utf8 SMTPUTF8 n=1" },
	{ "MAIL FROM:<\xf0\x9f\x98\x80@b.c> SMTPUTF8", 0, "MAIL ok \xf0\x9f\x98\x80@b.c utf8 SMTPUTF8 n=1" },
	{ "MAIL FROM:<a@b.c> SMTPUTF8", 0, "MAIL ok a@b.c SMTPUTF8 n=1" },
	{ "MAIL FROM:<\xc3\xbc@b.c>", 0, "MAIL 553 5.6.7 Must declare SMTPUTF8 to send unicode address" },
	{ "MAIL FROM:<\xc3\xbc@b.c>", U8, "MAIL 553 5.6.7 Must declare SMTPUTF8 to send unicode address" },
	{ "MAIL FROM:<\xc0\xaf@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<\xed\xa0\x80@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<\xf4\x90\x80\x80@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<\xe0\x80\xaf@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<\xf0\x80\x80\xaf@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<\xe2\x82@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<\x80@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<\xf8\x88\x80\x80\x80@b.c> SMTPUTF8", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "MAIL FROM:<a@b.c> SMTPUTF8 \xc3", 0, "MAIL 500 5.5.2 Error: bad UTF-8 syntax" },
	{ "NOOP \xff", 0, "NOOP 500 5.5.2 Error: bad UTF-8 syntax" },
	/* RCPT */
	{ "RCPT TO:<a@b.c>", 0, "RCPT ok a@b.c" },
	{ "rcpt to: <a@b.c>", 0, "RCPT ok a@b.c" },
	{ "RCPT TO:<postmaster>", 0, "RCPT ok postmaster pm" },
	{ "RCPT TO:<PostMaster>", 0, "RCPT ok PostMaster pm" },
	{ "RCPT TO:<postmaster@b.c>", 0, "RCPT ok postmaster@b.c" },
	{ "RCPT TO:<@r.s:a@b.c>", 0, "RCPT ok a@b.c routed" },
	{ "RCPT TO:<a@b.c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b.c", 0,
	  "RCPT ok a@b.c notify=6 orcpt=rfc822;a+40b.c n=2" },
	{ "RCPT TO:<a@b.c> notify=never", 0, "RCPT ok a@b.c notify=1 n=1" },
	{ "RCPT TO:<a@b.c> NOTIFY=DELAY", 0, "RCPT ok a@b.c notify=8 n=1" },
	{ "RCPT TO:<\xc3\xbc@b.c>", U8, "RCPT ok \xc3\xbc@b.c utf8" },
	{ "RCPT TO:<\xc3\xbc@b.c>", 0, "RCPT 553 5.6.7 Must declare SMTPUTF8 to send unicode address" },
	{ "RCPT TO:<\xc3\xbc@b.c> SMTPUTF8", U8, "RCPT 555 5.5.4 Unsupported option: SMTPUTF8" },
	{ "RCPT TO:<>", 0, BAD_RCPT },
	{ "RCPT TO:a@b.c", 0, BAD_RCPT },
	{ "RCPT TO:<user>", 0, BAD_RCPT },
	{ "RCPT TO:<\"postmaster\">", 0, BAD_RCPT },
	{ "RCPT TO:<@r.s:postmaster>", 0, BAD_RCPT },
	{ "RCPT TO:", 0, "RCPT 501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "RCPT", 0, "RCPT 501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "RCPT FROM:<a@b.c>", 0, "RCPT 501 5.5.4 Syntax: RCPT TO:<address>" },
	{ "RCPT TO:<a@b.c> SIZE=1", 0, "RCPT 555 5.5.4 Unsupported option: SIZE=1" },
	{ "RCPT TO:<a@b.c> NOTIFY=NEVER,DELAY", 0, "RCPT 501 5.5.4 Error: Bad NOTIFY parameter syntax" },
	{ "RCPT TO:<a@b.c> NOTIFY=", 0, "RCPT 501 5.5.4 Error: Bad NOTIFY parameter syntax" },
	{ "RCPT TO:<a@b.c> NOTIFY=SUCCESS,,DELAY", 0, "RCPT 501 5.5.4 Error: Bad NOTIFY parameter syntax" },
	{ "RCPT TO:<a@b.c> NOTIFY=SUCCESS,", 0, "RCPT 501 5.5.4 Error: Bad NOTIFY parameter syntax" },
	{ "RCPT TO:<a@b.c> NOTIFY=BOGUS", 0, "RCPT 501 5.5.4 Error: Bad NOTIFY parameter syntax" },
	{ "RCPT TO:<a@b.c> ORCPT=rfc822", 0, "RCPT 501 5.5.4 Error: Bad ORCPT parameter syntax" },
	{ "RCPT TO:<a@b.c> ORCPT=;a@b", 0, "RCPT 501 5.5.4 Error: Bad ORCPT parameter syntax" },
	{ "RCPT TO:<a@b.c> ORCPT=rfc822;", 0, "RCPT 501 5.5.4 Error: Bad ORCPT parameter syntax" },
	{ "RCPT TO:<a@b.c> ORCPT=rfc822;a=b", 0, "RCPT 501 5.5.4 Error: Bad ORCPT parameter syntax" },
	{ "RCPT TO:<a@b.c> ORCPT=rf.c;a", 0, "RCPT 501 5.5.4 Error: Bad ORCPT parameter syntax" },
	/* every verb, case-insensitive, with Postfix's argument rules */
	{ "EHLO mx.example.org", 0, "EHLO ok [mx.example.org]" },
	{ "ehlo [192.0.2.1]", 0, "EHLO ok [[192.0.2.1]]" },
	{ "EHLO", 0, "EHLO 501 5.5.4 Syntax: EHLO hostname" },
	{ "HELO x", 0, "HELO ok [x]" },
	{ "HeLo", 0, "HELO 501 5.5.4 Syntax: HELO hostname" },
	{ "DATA", 0, "DATA ok []" },
	{ "data  ", 0, "DATA ok []" },
	{ "DATA x", 0, "DATA 501 5.5.4 Syntax: DATA" },
	{ "BDAT 100", 0, "BDAT ok [100] 100" },
	{ "BDAT 100 LAST", 0, "BDAT ok [100 LAST] 100 last" },
	{ "bdat 0 last", 0, "BDAT ok [0 last] 0 last" },
	{ "BDAT", 0, "BDAT 501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "BDAT x", 0, "BDAT 501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "BDAT 10x", 0, "BDAT 501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "BDAT 10 FIRST", 0, "BDAT 501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "BDAT -1", 0, "BDAT 501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "BDAT 1 LAST x", 0, "BDAT 501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "BDAT 99999999999999999999999", 0, "BDAT 501 5.5.4 Syntax: BDAT count [LAST]" },
	{ "RSET", 0, "RSET ok []" },
	{ "RSET x", 0, "RSET 501 5.5.4 Syntax: RSET" },
	{ "NOOP", 0, "NOOP ok []" },
	{ "NOOP x", 0, "NOOP 501 5.5.4 Syntax: NOOP" },
	{ "QUIT", 0, "QUIT ok []" },
	{ "quit now", 0, "QUIT ok [now]" },
	{ "VRFY joe", 0, "VRFY ok [joe]" },
	{ "VRFY", 0, "VRFY 501 5.5.4 Syntax: VRFY address" },
	{ "HELP", 0, "HELP ok []" },
	{ "help MAIL", 0, "HELP ok [MAIL]" },
	{ "STARTTLS", 0, "STARTTLS ok []" },
	{ "starttls x", 0, "STARTTLS 501 5.5.4 Syntax: STARTTLS" },
	{ "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", 0, "AUTH ok [PLAIN dGVzdAB0ZXN0AHRlc3Q=]" },
	{ "AUTH", 0, "AUTH 501 5.5.4 Syntax: AUTH mechanism" },
	{ "EXPN list", 0, "EXPN ok [list]" },
	{ "EXPN", 0, "EXPN 501 5.5.4 Syntax: EXPN address" },
	{ "ETRN example.org", 0, "ETRN ok [example.org]" },
	{ "ETRN", 0, "ETRN 501 5.5.4 Syntax: ETRN domain" },
	/* not commands */
	{ "FOO", 0, "UNKNOWN 502 5.5.2 Error: command not recognized" },
	{ "MAILFROM:<a@b.c>", 0, "UNKNOWN 502 5.5.2 Error: command not recognized" },
	{ "MAI", 0, "UNKNOWN 502 5.5.2 Error: command not recognized" },
	{ "GET / HTTP/1.0", 0, "UNKNOWN 502 5.5.2 Error: command not recognized" },
	{ "", 0, "UNKNOWN 500 5.5.2 Error: bad syntax" },
	{ "   ", 0, "UNKNOWN 500 5.5.2 Error: bad syntax" },
	{ "NOOP\r", 0, "UNKNOWN 500 5.5.2 Error: bad syntax" },
	{ "MAIL FROM:<a@b.c>\x7f", 0, "MAIL 500 5.5.2 Error: bad syntax" },
};

static void test_table(void **state)
{
	struct arena *a = arena_new(0);
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct smtp_cmd c;
		char got[1024];
		int rc = smtp_cmd_parse(cases[k].line, strlen(cases[k].line), &lim, cases[k].flags, a, &c);

		render(rc, &c, got, sizeof(got));
		if (strcmp(got, cases[k].want) != 0)
			fail_msg("case %zu \"%s\":\n  got  \"%s\"\n  want \"%s\"", k, cases[k].line, got, cases[k].want);
		arena_clear(a);
	}
	arena_free(&a);
}

static void test_nul_is_bad_syntax(void **state)
{
	struct arena *a = arena_new(0);
	struct smtp_cmd c;

	(void)state;
	assert_int_equal(smtp_cmd_parse("NOOP\0x", 6, &lim, 0, a, &c), -1);
	assert_int_equal(c.err.code, 500);
	assert_string_equal(c.err.text, "Error: bad syntax");
	/* the input need not be NUL-terminated: the parser reads exactly n bytes */
	assert_int_equal(smtp_cmd_parse("QUITxyz", 4, &lim, 0, a, &c), 1);
	assert_int_equal(c.verb, SMTP_VERB_QUIT);
	arena_free(&a);
}

static void test_limits(void **state)
{
	struct arena *a = arena_new(0);
	struct smtp_cmd_limits l = lim;
	struct smtp_cmd c;
	char line[3000];
	size_t n;
	int i;

	(void)state;
	/* line length: line_max bytes are fine, one more is not */
	l.line_max = 512;
	memset(line, 0, sizeof(line));
	memcpy(line, "NOOP", 4);
	assert_int_equal(smtp_cmd_parse(line, 4, &l, 0, a, &c), 1);
	memcpy(line, "HELP ", 5);
	memset(line + 5, 'x', 507);
	assert_int_equal(smtp_cmd_parse(line, 512, &l, 0, a, &c), 1);
	assert_int_equal(smtp_cmd_parse(line, 513, &l, 0, a, &c), -1);
	assert_int_equal(c.err.code, 500);
	assert_string_equal(c.err.text, "Error: line too long");

	/* path length: 256 with the brackets is fine, 257 is not */
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<");
	memset(line + n, 'a', 249);
	memcpy(line + n + 249, "@b.cd>", 6);
	assert_int_equal(smtp_cmd_parse(line, n + 255, &lim, 0, a, &c), 1);
	assert_int_equal(strlen(c.path.addr), 254);
	memset(line + n, 'a', 250);
	memcpy(line + n + 250, "@b.cd>", 6);
	assert_int_equal(smtp_cmd_parse(line, n + 256, &lim, 0, a, &c), -1);
	assert_string_equal(c.err.text, "Bad sender address syntax");

	/* parameter count: param_max are fine, one more is not */
	n = (size_t)snprintf(line, sizeof(line), "RCPT TO:<a@b.c>");
	for (i = 0; i < 10; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " NOTIFY=NEVER");
	assert_int_equal(smtp_cmd_parse(line, n, &lim, 0, a, &c), -1); /* duplicates are refused ... */
	assert_string_equal(c.err.text, "Error: Bad NOTIFY parameter syntax");
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@b.c> SIZE=1 BODY=7BIT SMTPUTF8 RET=FULL "
						 "ENVID=x AUTH=<>");
	l = lim;
	l.param_max = 6;
	assert_int_equal(smtp_cmd_parse(line, n, &l, 0, a, &c), 1); /* ... six distinct ones pass */
	assert_int_equal(c.nparams, 6);
	assert_string_equal(c.params[5].key, "AUTH");
	assert_string_equal(c.params[5].value, "<>");
	assert_string_equal(c.params[2].key, "SMTPUTF8");
	assert_null(c.params[2].value);
	l.param_max = 5;
	assert_int_equal(smtp_cmd_parse(line, n, &l, 0, a, &c), -1);
	assert_string_equal(c.err.text, "Error: too many parameters");

	/* parameter length */
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@b.c> ENVID=");
	memset(line + n, 'x', 100);
	l = lim;
	l.param_len = 106;
	assert_int_equal(smtp_cmd_parse(line, n + 100, &l, 0, a, &c), 1);
	l.param_len = 105;
	assert_int_equal(smtp_cmd_parse(line, n + 100, &l, 0, a, &c), -1);
	assert_string_equal(c.err.text, "Error: parameter too long");
	/* ENVID itself is at most 100 characters (RFC 3461) */
	memset(line + n, 'x', 101);
	assert_int_equal(smtp_cmd_parse(line, n + 101, &lim, 0, a, &c), -1);
	assert_string_equal(c.err.text, "Bad ENVID parameter syntax");

	/* size_max 0: no limit */
	l = lim;
	l.size_max = 0;
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@b.c> SIZE=18446744073709551615");
	assert_int_equal(smtp_cmd_parse(line, n, &l, 0, a, &c), 1);
	assert_true(c.size == UINT64_MAX);

	/* an echoed unknown option is bounded */
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@b.c> X=");
	memset(line + n, 'y', 300);
	assert_int_equal(smtp_cmd_parse(line, n + 300, &lim, 0, a, &c), -1);
	assert_int_equal(c.err.code, 555);
	assert_true(strlen(c.err.text) <= strlen("Unsupported option: ") + 100 + 3);
	arena_free(&a);
}

/* S - a string literal and its length */
#define S(lit) (lit), (sizeof(lit) - 1)

static void test_normalize(void **state)
{
	struct arena *a = arena_new(0);
	struct smtp_cmd c;
	struct smtp_path p;
	struct smtp_status err;

	(void)state;
	assert_int_equal(smtp_cmd_parse(S("MAIL FROM:<John.Doe@Example.ORG>"), &lim, 0, a, &c), 1);
	assert_string_equal(c.path.local, "John.Doe");
	assert_string_equal(c.path.domain, "Example.ORG");
	assert_string_equal(smtp_path_normalize(&c.path, a), "John.Doe@example.org");
	assert_int_equal(smtp_path_parse(S("<\"A B\"@[IPv6:2001:DB8::1]>"), true, false, 256, a, &p, &err), 0);
	assert_string_equal(smtp_path_normalize(&p, a), "\"A B\"@[IPv6:2001:DB8::1]");
	assert_int_equal(smtp_path_parse(S("<Postmaster>"), true, false, 256, a, &p, &err), 0);
	assert_string_equal(smtp_path_normalize(&p, a), "postmaster");
	assert_int_equal(smtp_path_parse(S("<>"), false, false, 256, a, &p, &err), 0);
	assert_string_equal(smtp_path_normalize(&p, a), "");
	/* UTF-8 bytes are left alone, ASCII is folded */
	assert_int_equal(smtp_path_parse(S("<x@B\xc3\x9c.DE>"), true, true, 256, a, &p, &err), 0);
	assert_string_equal(smtp_path_normalize(&p, a), "x@b\xc3\x9c.de");
	/* without utf8 permission the path parser itself refuses UTF-8 */
	assert_int_equal(smtp_path_parse(S("<x@B\xc3\x9c.DE>"), true, false, 256, a, &p, &err), -1);
	assert_int_equal(err.code, 501);
	assert_string_equal(err.enh, "5.1.3");
	arena_free(&a);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(smtp_utf8_valid("", 0));
	assert_true(smtp_utf8_valid("abc", 3));
	assert_true(smtp_utf8_valid("\xc2\x80", 2));
	assert_true(smtp_utf8_valid("\xdf\xbf", 2));
	assert_true(smtp_utf8_valid("\xe0\xa0\x80", 3));
	assert_true(smtp_utf8_valid("\xed\x9f\xbf", 3));   /* U+D7FF */
	assert_true(smtp_utf8_valid("\xee\x80\x80", 3));   /* U+E000 */
	assert_true(smtp_utf8_valid("\xf0\x90\x80\x80", 4));
	assert_true(smtp_utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
	assert_false(smtp_utf8_valid("\xc1\xbf", 2));      /* overlong */
	assert_false(smtp_utf8_valid("\xe0\x9f\xbf", 3));  /* overlong */
	assert_false(smtp_utf8_valid("\xf0\x8f\xbf\xbf", 4));
	assert_false(smtp_utf8_valid("\xed\xa0\x80", 3));  /* surrogate */
	assert_false(smtp_utf8_valid("\xed\xbf\xbf", 3));
	assert_false(smtp_utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(smtp_utf8_valid("\xf5\x80\x80\x80", 4));
	assert_false(smtp_utf8_valid("\xc2", 1));
	assert_false(smtp_utf8_valid("\xe2\x82", 2));
	assert_false(smtp_utf8_valid("\xc2\x41", 2));
	assert_false(smtp_utf8_valid("\xbf", 1));
	assert_false(smtp_utf8_valid("\xff", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_nul_is_bad_syntax),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_utf8_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
