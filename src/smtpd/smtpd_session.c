/*
 * smtpd_session.c - the SMTP session engine: commands, transaction state, message data
 *
 * Runs in:  smtpd; every byte it reads is UNTRUSTED network data
 * API:      smtpd_session_*()   -- see smtpd.h
 * Model:    the glue appends raw input to s->lr; smtpd_session_run() takes
 *           command lines (or DATA/BDAT bytes) in order and appends replies to
 *           s->out, which the glue writes when the input runs dry (Postfix's
 *           PIPELINING behaviour). Bytes after the end of DATA or of a BDAT
 *           chunk stay in s->lr and are the next commands.
 * Queue:    nothing on disk before DATA/BDAT; then qstore_begin() with the
 *           envelope, the recipients (original + final address from the route
 *           decision), a Received: header, the decoded content streamed in
 *           16 KiB steps; qstore_finish(); the glue's group commit; 250.
 * Bare LF:  smtpd_forbid_bare_newline (Postfix 3.9): "yes"/"normalize" treat
 *           a bare LF as a line end in commands and data (never as part of
 *           the DATA terminator: only CRLF.CRLF ends DATA); "reject" answers a
 *           command line ending in bare LF, or a message containing one, with
 *           "550 5.5.2 Error: bare <LF> received" and stays in sync (the
 *           message is read to its end, then rejected); "no" accepts it.
 * Limits:   line_length_limit, smtpd_recipient_limit, message_size_limit,
 *           smtpd_soft/hard_error_limit, smtpd_junk_command_limit.
 * Tests:    tests/unit/test_smtpd_session.c, tests/e2e/test_smtpd.py
 * Refs:     RFC 5321, RFC 2920, RFC 3030; Postfix smtpd(8), smtpd/smtpd.c
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/msghdr.h"
#include "libmail/smtp_reply.h"
#include "smtpd/smtpd.h"

#define DATA_STEP 16384       /* bytes decoded per step */
#define OUT_FLUSH_AT 16384    /* replies buffered before the glue must flush */
#define OUT_MAX (256 * 1024)  /* hard bound on buffered replies */

enum sess_mode { MODE_CMD, MODE_DATA, MODE_BDAT, MODE_BDAT_SKIP, MODE_COMMIT, MODE_CLOSED };

/* per-verb counters for the disconnect line, in Postfix's order */
enum { C_HELO, C_EHLO, C_STARTTLS, C_AUTH, C_MAIL, C_RCPT, C_DATA, C_BDAT, C_RSET, C_NOOP, C_VRFY, C_ETRN,
       C_QUIT, C_UNKNOWN, C__N };
static const char *const counter_names[C__N] = { "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data",
						 "bdat", "rset", "noop", "vrfy", "etrn", "quit", "unknown" };

struct smtpd_session {
	struct smtpd_server *srv;
	char *addr, *name;            /* client */
	char *helo;                   /* NULL before HELO/EHLO */
	bool esmtp;
	enum sess_mode mode;
	struct linereader lr;
	struct buf out;
	const char *last_cmd;         /* for "timeout after X" */
	unsigned errors, junk;
	unsigned cnt_ok[C__N], cnt_all[C__N];
	/* transaction */
	struct arena *ta;             /* NULL outside a transaction */
	bool in_mail;
	char *sender;
	struct smtp_cmd mail;         /* MAIL parameters (strings in ta) */
	struct qfile_rcpt *rcpts;
	size_t nrcpt, cap_rcpt, n_accepted, rcpt_tried;
	/* message */
	struct qstore_file *file;
	struct smtp_data dec;
	struct buf dbuf;
	bool bdat_started;
	uint64_t skip_left;           /* MODE_BDAT_SKIP: bytes to discard */
	struct smtp_status skip_reply;
	bool write_failed;
	int cur_counter;              /* the counter of the DATA/BDAT in progress */
};

/* reply - append one reply line */
static void reply(struct smtpd_session *s, unsigned code, const char *enh, const char *text)
{
	if (smtp_reply(&s->out, code, enh, text) < 0)
		s->mode = MODE_CLOSED;
}

/* reply_std - append a standard reply */
static void reply_std(struct smtpd_session *s, enum smtp_reply_id id)
{
	if (smtp_reply_status(&s->out, smtp_std(id)) < 0)
		s->mode = MODE_CLOSED;
}

/* reply_line - append a complete reply line given without CRLF */
static void reply_line(struct smtpd_session *s, const char *line)
{
	if (buf_printf(&s->out, "%s\r\n", line) < 0)
		s->mode = MODE_CLOSED;
}

/* client_id - "name[addr]" for logs */
static const char *client_id(struct smtpd_session *s)
{
	static char b[512];

	snprintf(b, sizeof(b), "%s[%s]", s->name, s->addr);
	return b;
}

/* smtpd_session_new - create a session and queue the banner */
struct smtpd_session *smtpd_session_new(struct smtpd_server *srv, const char *addr, const char *name)
{
	struct smtpd_session *s = xcalloc(1, sizeof(*s));

	s->srv = srv;
	s->addr = xstrdup(addr);
	s->name = xstrdup(name ? name : "unknown");
	s->mode = MODE_CMD;
	s->last_cmd = "CONNECT";
	linereader_init(&s->lr, srv->line_limit, 0);
	buf_init(&s->out, OUT_MAX);
	buf_init(&s->dbuf, DATA_STEP + 16);
	reply(s, 220, NULL, srv->banner);
	log_info("connect from %s", client_id(s));
	return s;
}

/* txn_reset - forget the transaction (RSET, end of message); removes an uncommitted file */
static void txn_reset(struct smtpd_session *s)
{
	qstore_file_free(&s->file);
	arena_free(&s->ta);
	s->in_mail = false;
	s->sender = NULL;
	s->rcpts = NULL;
	s->nrcpt = s->cap_rcpt = s->n_accepted = s->rcpt_tried = 0;
	s->bdat_started = false;
	s->write_failed = false;
	buf_release(&s->dbuf);
	buf_init(&s->dbuf, DATA_STEP + 16);
}

/* smtpd_session_free - log the disconnect summary and release */
void smtpd_session_free(struct smtpd_session **sp)
{
	struct smtpd_session *s = *sp;
	struct buf line = BUF_INIT(0);
	unsigned ok = 0, all = 0;
	int i;

	if (!s)
		return;
	for (i = 0; i < C__N; i++) {
		if (!s->cnt_all[i])
			continue;
		ok += s->cnt_ok[i];
		all += s->cnt_all[i];
		if (s->cnt_ok[i] == s->cnt_all[i])
			buf_printf(&line, " %s=%u", counter_names[i], s->cnt_ok[i]);
		else
			buf_printf(&line, " %s=%u/%u", counter_names[i], s->cnt_ok[i], s->cnt_all[i]);
	}
	if (ok == all)
		buf_printf(&line, " commands=%u", ok);
	else
		buf_printf(&line, " commands=%u/%u", ok, all);
	log_info("disconnect from %s%s", client_id(s), buf_cstr(&line));
	buf_free(&line);
	txn_reset(s);
	buf_free(&s->dbuf);
	linereader_free(&s->lr);
	buf_free(&s->out);
	free(s->addr);
	free(s->name);
	free(s->helo);
	free(s);
	*sp = NULL;
}

/* smtpd_session_input - the reader the glue fills */
struct linereader *smtpd_session_input(struct smtpd_session *s)
{
	return &s->lr;
}

/* smtpd_session_output - the replies the glue writes */
struct buf *smtpd_session_output(struct smtpd_session *s)
{
	return &s->out;
}

/* smtpd_session_file - the file waiting for commit */
struct qstore_file *smtpd_session_file(struct smtpd_session *s)
{
	return s->file;
}

/* smtpd_session_addr - the client address */
const char *smtpd_session_addr(const struct smtpd_session *s)
{
	return s->addr;
}

/* smtpd_session_idle - give buffers back while nothing is pending */
void smtpd_session_idle(struct smtpd_session *s)
{
	if (s->out.len == 0)
		buf_release(&s->out);
	if (linereader_pending(&s->lr) == 0 && s->lr.in.cap > 0) {
		linereader_free(&s->lr);
		linereader_init(&s->lr, s->srv->line_limit, 0);
	}
	if (s->dbuf.len == 0)
		buf_release(&s->dbuf);
}

/* error_reply - count an error; past the hard limit, 421 and close */
static void count_error(struct smtpd_session *s)
{
	s->errors++;
	if (s->srv->hard_error_limit > 0 && s->errors >= (uint64_t)s->srv->hard_error_limit) {
		char t[300];

		snprintf(t, sizeof(t), "%s Error: too many errors", s->srv->myhostname);
		reply(s, 421, "4.7.0", t);
		log_warn("too many errors after %s from %s", s->last_cmd, client_id(s));
		s->mode = MODE_CLOSED;
	}
}

/* fail_status - reply with an error status and count it */
static void fail_status(struct smtpd_session *s, const struct smtp_status *st)
{
	if (smtp_reply_status(&s->out, st) < 0)
		s->mode = MODE_CLOSED;
	count_error(s);
}

/* fail_std - reply with a standard error and count it */
static void fail_std(struct smtpd_session *s, enum smtp_reply_id id)
{
	fail_status(s, smtp_std(id));
}

/* junk - NOOP/VRFY/ETRN/RSET past smtpd_junk_command_limit count as errors */
static void junk(struct smtpd_session *s)
{
	if (s->srv->junk_command_limit > 0 && ++s->junk > (uint64_t)s->srv->junk_command_limit)
		count_error(s);
}

/* proto_name - ESMTP or SMTP */
static const char *proto_name(struct smtpd_session *s)
{
	return s->esmtp ? "ESMTP" : "SMTP";
}

/* cmd_helo - HELO and EHLO */
static bool cmd_helo(struct smtpd_session *s, const struct smtp_cmd *c, bool ehlo)
{
	free(s->helo);
	s->helo = xstrdup(c->arg);
	s->esmtp = ehlo;
	txn_reset(s);
	if (!ehlo) {
		reply(s, 250, NULL, s->srv->myhostname);
		return true;
	}
	struct smtp_ehlo_caps caps = {
		.pipelining = true,
		.size = s->srv->message_size_limit,
		.size_on = true,
		.enhancedstatuscodes = true,
		.eightbitmime = true,
		.smtputf8 = true,
		.chunking = true,
		/* STARTTLS and AUTH: set .starttls / .auth here when the submission issue lands */
	};
	if (smtp_reply_ehlo(&s->out, s->srv->myhostname, &caps) < 0)
		s->mode = MODE_CLOSED;
	return true;
}

/* cmd_mail - MAIL FROM */
static bool cmd_mail(struct smtpd_session *s, const struct smtp_cmd *c)
{
	if (s->in_mail) {
		fail_std(s, SMTP_R_NESTED_MAIL);
		return false;
	}
	if (s->srv->cmd_lim.size_max && c->has_size && c->size > s->srv->cmd_lim.size_max) {
		fail_std(s, SMTP_R_SIZE_LIMIT);
		return false;
	}
	/* c's strings live in ta: keep the arena of the parse as the transaction arena */
	s->in_mail = true;
	s->mail = *c;
	s->sender = c->path.addr;
	reply_std(s, SMTP_R_SENDER_OK);
	return true;
}

/* add_rcpt - remember one (original, final) recipient pair */
static void add_rcpt(struct smtpd_session *s, const char *orig, const char *final, const struct smtp_cmd *c)
{
	struct qfile_rcpt *r;

	if (s->nrcpt == s->cap_rcpt) {
		size_t ncap = s->cap_rcpt ? s->cap_rcpt * 2 : 4;
		struct qfile_rcpt *n = arena_zalloc(s->ta, ncap * sizeof(*n));

		if (s->nrcpt)
			memcpy(n, s->rcpts, s->nrcpt * sizeof(*n));
		s->rcpts = n;
		s->cap_rcpt = ncap;
	}
	r = &s->rcpts[s->nrcpt++];
	memset(r, 0, sizeof(*r));
	r->orig = orig;
	r->addr = arena_strdup(s->ta, final);
	r->orcpt = c->orcpt ? c->orcpt : "";
	r->notify = c->notify;
	r->status = QFILE_RCPT_PENDING;
	r->text = "";
}

/* cmd_rcpt - RCPT TO: restrictions and recipient validation decide */
static bool cmd_rcpt(struct smtpd_session *s, const struct smtp_cmd *c)
{
	struct restrict_result res;
	struct restrict_ctx ctx = { 0 };
	const char *rcpt = c->path.postmaster ? "postmaster" : c->path.addr;
	size_t i;

	if (!s->in_mail) {
		fail_std(s, SMTP_R_NEED_MAIL);
		return false;
	}
	s->rcpt_tried++;
	if (s->srv->recipient_limit > 0 && s->n_accepted >= (uint64_t)s->srv->recipient_limit) {
		fail_std(s, SMTP_R_TOO_MANY_RCPTS);
		return false;
	}
	ctx.client_addr = s->addr;
	ctx.client_name = s->name;
	ctx.helo = s->helo;
	ctx.sender = s->sender;
	ctx.recipient = rcpt;
	restrict_rcpt(s->srv->restr, &ctx, &res);
	if (res.verdict == RESTRICT_REJECT || res.verdict == RESTRICT_DEFER) {
		reply_line(s, res.reply);
		count_error(s);
		log_info("NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=%s helo=<%s>", client_id(s),
			 log_sanitize(res.reply, 400), log_sanitize(s->sender, 300), log_sanitize(rcpt, 300),
			 proto_name(s), log_sanitize(s->helo ? s->helo : "", 100));
		restrict_result_free(&res);
		return false;
	}
	char *orig = arena_strdup(s->ta, rcpt);
	if (res.validated && res.route.verdict == ROUTE_ACCEPT && res.route.n_targets > 0) {
		for (i = 0; i < res.route.n_targets; i++)
			add_rcpt(s, orig, res.route.targets[i].address, c);
	} else {
		add_rcpt(s, orig, smtp_path_normalize(&c->path, s->ta), c);
	}
	s->n_accepted++;
	restrict_result_free(&res);
	reply_std(s, SMTP_R_RCPT_OK);
	return true;
}

/* begin_message - create the queue file with envelope, recipients and Received: */
static bool begin_message(struct smtpd_session *s)
{
	struct qfile_env env = { 0 };
	struct msghdr_trace t = { 0 };
	struct buf hdr = BUF_INIT(8192);
	const char *err;
	bool ok = false;
	size_t i;

	if (!s->srv->qs)
		return false;
	env.sender = s->sender;
	env.client.addr = s->addr;
	env.client.name = s->name;
	env.client.helo = s->helo ? s->helo : "";
	env.client.protocol = proto_name(s);
	env.client.sasl_user = "";
	env.params.body = (enum qfile_body)s->mail.body;
	env.params.smtputf8 = s->mail.smtputf8;
	env.params.ret = (enum qfile_ret)s->mail.ret;
	env.params.envid = s->mail.envid ? s->mail.envid : "";
	if (qstore_begin(s->srv->qs, &env, &s->file, &err) < 0) {
		log_warn("queue file create: %s", err);
		return false;
	}
	for (i = 0; i < s->nrcpt; i++)
		if (qstore_add_rcpt(s->file, &s->rcpts[i], &err) < 0) {
			log_warn("%s: queue file write: %s", qstore_file_id(s->file), err);
			goto out;
		}
	log_info("%s: client=%s", qstore_file_id(s->file), client_id(s));
	t.helo = s->helo;
	t.client_name = s->name;
	t.client_addr = s->addr;
	t.by_host = s->srv->myhostname;
	t.mail_name = s->srv->mail_name;
	t.esmtp = s->esmtp;
	t.smtputf8 = s->mail.smtputf8;
	t.queue_id = qstore_file_id(s->file);
	t.for_rcpt = s->n_accepted == 1 ? s->rcpts[0].orig : NULL;
	t.when = time(NULL);
	if (msghdr_received(&hdr, &t) < 0 || qstore_append(s->file, hdr.data, hdr.len, &err) < 0) {
		log_warn("%s: queue file write: %s", qstore_file_id(s->file), hdr.len ? err : "header too long");
		goto out;
	}
	ok = true;
out:
	buf_free(&hdr);
	if (!ok)
		qstore_file_free(&s->file);
	return ok;
}

/* check_data_start - DATA/BDAT preconditions; false with the error replied */
static bool check_data_start(struct smtpd_session *s, struct smtp_status *err_r)
{
	if (!s->in_mail) {
		*err_r = *smtp_std(SMTP_R_NEED_MAIL);
		return false;
	}
	if (s->n_accepted == 0) {
		*err_r = *smtp_std(s->rcpt_tried ? SMTP_R_NO_VALID_RCPTS : SMTP_R_NEED_RCPT);
		return false;
	}
	if (!begin_message(s)) {
		err_r->code = 451;
		err_r->enh = "4.3.0";
		err_r->text = "Error: queue file write error";
		return false;
	}
	return true;
}

/* cmd_data - DATA: create the file, 354, decode until CRLF.CRLF */
static bool cmd_data(struct smtpd_session *s)
{
	struct smtp_status err;

	if (s->bdat_started) {
		fail_std(s, SMTP_R_DATA_AFTER_BDAT);
		return false;
	}
	if (!check_data_start(s, &err)) {
		fail_status(s, &err);
		return false;
	}
	smtp_data_begin(&s->dec, &s->srv->data_lim);
	s->mode = MODE_DATA;
	s->cur_counter = C_DATA;
	reply_std(s, SMTP_R_DATA_GO);
	return true;
}

/* cmd_bdat - BDAT n [LAST]: a chunk follows whatever we answer */
static void cmd_bdat(struct smtpd_session *s, const struct smtp_cmd *c)
{
	struct smtp_status err;

	s->cur_counter = C_BDAT;
	if (!s->bdat_started) {
		if (!check_data_start(s, &err)) {
			s->mode = MODE_BDAT_SKIP;
			s->skip_left = c->bdat_size;
			s->skip_reply = err;
			return;
		}
		s->bdat_started = true;
		smtp_data_begin_bdat(&s->dec, &s->srv->data_lim);
	}
	smtp_data_bdat(&s->dec, c->bdat_size, c->bdat_last);
	s->mode = MODE_BDAT;
}

/* cmd_line - one command line */
static void cmd_line(struct smtpd_session *s, struct lr_line *line)
{
	struct arena *a;
	struct smtp_cmd c;
	unsigned flags;
	int idx = C_UNKNOWN;
	bool ok = false;

	if (!line->crlf && s->srv->data_lim.bare_lf == SMTP_BARE_LF_REJECT) {
		struct smtp_status st = *smtp_std(SMTP_R_BARE_LF);

		st.code = (uint16_t)s->srv->bare_lf_code;
		s->cnt_all[C_UNKNOWN]++;
		fail_status(s, &st);
		log_info("bare <LF> received from %s", client_id(s));
		return;
	}
	if (!s->ta)
		s->ta = arena_new(0);
	a = s->ta;
	flags = s->in_mail && s->mail.smtputf8 ? SMTP_CMD_SMTPUTF8 : 0;
	int rc = smtp_cmd_parse(line->text.p, line->text.n, &s->srv->cmd_lim, flags, a, &c);
	switch (c.verb) {
	case SMTP_VERB_HELO: idx = C_HELO; s->last_cmd = "HELO"; break;
	case SMTP_VERB_EHLO: idx = C_EHLO; s->last_cmd = "EHLO"; break;
	case SMTP_VERB_MAIL: idx = C_MAIL; s->last_cmd = "MAIL"; break;
	case SMTP_VERB_RCPT: idx = C_RCPT; s->last_cmd = "RCPT"; break;
	case SMTP_VERB_DATA: idx = C_DATA; s->last_cmd = "DATA"; break;
	case SMTP_VERB_BDAT: idx = C_BDAT; s->last_cmd = "BDAT"; break;
	case SMTP_VERB_RSET: idx = C_RSET; s->last_cmd = "RSET"; break;
	case SMTP_VERB_NOOP: idx = C_NOOP; s->last_cmd = "NOOP"; break;
	case SMTP_VERB_QUIT: idx = C_QUIT; s->last_cmd = "QUIT"; break;
	case SMTP_VERB_VRFY: idx = C_VRFY; s->last_cmd = "VRFY"; break;
	case SMTP_VERB_STARTTLS: idx = C_STARTTLS; s->last_cmd = "STARTTLS"; break;
	case SMTP_VERB_AUTH: idx = C_AUTH; s->last_cmd = "AUTH"; break;
	case SMTP_VERB_ETRN: idx = C_ETRN; s->last_cmd = "ETRN"; break;
	case SMTP_VERB_HELP: idx = C_UNKNOWN; s->last_cmd = "HELP"; break;
	case SMTP_VERB_EXPN: idx = C_UNKNOWN; s->last_cmd = "EXPN"; break;
	case SMTP_VERB_UNKNOWN: idx = C_UNKNOWN; s->last_cmd = "UNKNOWN"; break;
	}
	s->cnt_all[idx]++;
	if (rc < 0) {
		if (c.verb == SMTP_VERB_BDAT) {
			/* a BDAT we cannot parse has no size we could skip: close (Postfix does the same) */
			fail_status(s, &c.err);
			s->mode = MODE_CLOSED;
		} else {
			fail_status(s, &c.err);
		}
		goto done;
	}
	switch (c.verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		ok = cmd_helo(s, &c, c.verb == SMTP_VERB_EHLO);
		break;
	case SMTP_VERB_MAIL:
		ok = cmd_mail(s, &c);
		break;
	case SMTP_VERB_RCPT:
		ok = cmd_rcpt(s, &c);
		break;
	case SMTP_VERB_DATA:
		(void)cmd_data(s); /* counted as ok once the message is committed */
		break;
	case SMTP_VERB_BDAT:
		cmd_bdat(s, &c);
		s->cnt_all[idx]--; /* counted when the chunk ends */
		return;
	case SMTP_VERB_RSET:
		txn_reset(s);
		junk(s);
		reply_std(s, SMTP_R_OK);
		ok = true;
		break;
	case SMTP_VERB_NOOP:
		junk(s);
		reply_std(s, SMTP_R_OK);
		ok = true;
		break;
	case SMTP_VERB_VRFY:
		junk(s);
		reply_std(s, SMTP_R_VRFY_CANNOT);
		ok = true;
		break;
	case SMTP_VERB_HELP:
		reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT");
		ok = true;
		break;
	case SMTP_VERB_QUIT:
		reply_std(s, SMTP_R_BYE);
		s->mode = MODE_CLOSED;
		ok = true;
		break;
	case SMTP_VERB_STARTTLS: /* hook: the submission issue adds STARTTLS and AUTH */
	case SMTP_VERB_AUTH:
	case SMTP_VERB_ETRN:
	case SMTP_VERB_EXPN:
		fail_std(s, SMTP_R_NOT_IMPLEMENTED);
		break;
	case SMTP_VERB_UNKNOWN:
		fail_std(s, SMTP_R_NOT_RECOGNIZED);
		break;
	}
done:
	if (ok)
		s->cnt_ok[idx]++;
	/* the parse arena is the transaction arena: outside a transaction, drop it */
	if (!s->in_mail && s->mode == MODE_CMD)
		arena_free(&s->ta);
}

/* end_message - the content is complete: finish and hand over to the commit, or reject */
static void end_message(struct smtpd_session *s)
{
	const char *err;

	if (s->dec.error != SMTP_DATA_OK || s->write_failed) {
		if (s->cur_counter == C_BDAT)
			s->cnt_all[C_BDAT]++;
		if (s->dec.error == SMTP_DATA_ERR_SIZE) {
			fail_std(s, SMTP_R_SIZE_LIMIT);
		} else if (s->dec.error == SMTP_DATA_ERR_BARE_LF) {
			struct smtp_status st = *smtp_std(SMTP_R_BARE_LF);

			st.code = (uint16_t)s->srv->bare_lf_code;
			fail_status(s, &st);
		} else if (s->dec.error == SMTP_DATA_ERR_BARE_CR) {
			reply(s, 550, "5.5.2", "Error: bare <CR> received");
			count_error(s);
		} else {
			reply(s, 451, "4.3.0", "Error: queue file write error");
			count_error(s);
		}
		log_info("%s: reject: %s from %s: %s; from=<%s> proto=%s helo=<%s>",
			 s->file ? qstore_file_id(s->file) : "NOQUEUE", s->cur_counter == C_BDAT ? "BDAT" : "DATA",
			 client_id(s), s->write_failed ? "write error" : smtp_data_error_name(s->dec.error),
			 log_sanitize(s->sender, 300), proto_name(s), log_sanitize(s->helo ? s->helo : "", 100));
		txn_reset(s);
		if (s->mode != MODE_CLOSED)
			s->mode = MODE_CMD;
		return;
	}
	if (qstore_finish(s->file, &err) < 0) {
		log_warn("%s: queue file finish: %s", qstore_file_id(s->file), err);
		reply(s, 451, "4.3.0", "Error: queue file write error");
		count_error(s);
		txn_reset(s);
		s->mode = MODE_CMD;
		return;
	}
	s->mode = MODE_COMMIT;
	s->srv->commit_enqueue(s->srv, s);
}

/* smtpd_session_committed - the group commit is done for this session's file */
void smtpd_session_committed(struct smtpd_session *s)
{
	char t[128];

	ASSERT(s->mode == MODE_COMMIT && s->file);
	if (s->cur_counter == C_BDAT)
		s->cnt_all[C_BDAT]++;
	if (qstore_file_state(s->file) == QSTORE_FILE_COMMITTED) {
		const char *id = qstore_file_id(s->file);

		snprintf(t, sizeof(t), "Ok: queued as %s", id);
		reply(s, 250, "2.0.0", t);
		s->cnt_ok[s->cur_counter]++;
		/* the from=/size=/nrcpt= line is qmgr's when it takes the message, as in Postfix */
		smtpd_notify_qmgr(s->srv, id);
	} else {
		log_warn("%s: queue file commit: %s", qstore_file_id(s->file), qstore_file_error(s->file));
		reply(s, 451, "4.3.0", "Error: queue file write error");
		count_error(s);
	}
	txn_reset(s);
	if (s->mode == MODE_COMMIT)
		s->mode = MODE_CMD;
}

/* feed_data - decode buffered DATA/BDAT bytes; true when the mode changed or input ran dry */
static bool feed_data(struct smtpd_session *s)
{
	struct slice in;
	size_t taken, used = 0;
	const char *err;
	int rc;

	taken = linereader_take(&s->lr, DATA_STEP, &in);
	if (taken == 0 && !(s->mode == MODE_BDAT && s->dec.chunk_left == 0))
		return false;
	buf_reset(&s->dbuf);
	rc = smtp_data_feed(&s->dec, in.p, in.n, &s->dbuf, &used);
	if (used < taken)
		linereader_untake(&s->lr, taken - used);
	if (s->file && !s->write_failed && s->dbuf.len > 0 &&
	    qstore_append(s->file, s->dbuf.data, s->dbuf.len, &err) < 0) {
		log_warn("%s: queue file write: %s", qstore_file_id(s->file), err);
		s->write_failed = true;
	}
	if (rc != 1)
		return true; /* 0: more input; -1: error noted, keep reading to stay in sync */
	if (s->mode == MODE_DATA || s->dec.done) {
		end_message(s);
		return true;
	}
	/* a BDAT chunk that is not the LAST */
	if (s->dec.error == SMTP_DATA_ERR_SIZE || s->dec.error == SMTP_DATA_ERR_BARE_LF ||
	    s->dec.error == SMTP_DATA_ERR_BARE_CR || s->write_failed) {
		/* the message is lost: answer now, the next chunks get 503 need MAIL */
		end_message(s);
		return true;
	}
	s->cnt_all[C_BDAT]++;
	char t[64];
	snprintf(t, sizeof(t), "Ok: %" PRIu64 " bytes", s->dec.size);
	reply(s, 250, "2.0.0", t);
	s->cnt_ok[C_BDAT]++;
	s->mode = MODE_CMD;
	return true;
}

/* skip_bdat - discard a BDAT chunk we refused, then send the refusal */
static bool skip_bdat(struct smtpd_session *s)
{
	struct slice in;
	size_t max = s->skip_left > DATA_STEP ? DATA_STEP : (size_t)s->skip_left;

	if (max > 0 && linereader_take(&s->lr, max, &in) == 0)
		return false;
	if (max > 0)
		s->skip_left -= in.n;
	if (s->skip_left == 0) {
		s->cnt_all[C_BDAT]++;
		fail_status(s, &s->skip_reply);
		if (s->mode == MODE_BDAT_SKIP)
			s->mode = MODE_CMD;
		if (!s->in_mail)
			arena_free(&s->ta);
	}
	return true;
}

/* smtpd_session_run - process input in order until it runs dry or we must wait */
enum smtpd_want smtpd_session_run(struct smtpd_session *s, bool eof)
{
	struct lr_line line;
	enum lr_status st;

	for (;;) {
		if (s->mode == MODE_CLOSED)
			return SMTPD_WANT_CLOSE;
		if (s->mode == MODE_COMMIT)
			return SMTPD_WANT_COMMIT;
		if (s->out.len >= OUT_FLUSH_AT)
			return SMTPD_WANT_FLUSH;
		if (s->srv->soft_error_limit > 0 && s->errors > (uint64_t)s->srv->soft_error_limit &&
		    s->out.len > 0 && s->mode == MODE_CMD)
			return SMTPD_WANT_SLEEP;
		if (s->mode == MODE_DATA || s->mode == MODE_BDAT) {
			if (!feed_data(s))
				break;
			continue;
		}
		if (s->mode == MODE_BDAT_SKIP) {
			if (!skip_bdat(s))
				break;
			continue;
		}
		st = linereader_next(&s->lr, &line);
		if (st == LR_NEED_MORE)
			break;
		if (st == LR_TOO_LONG) {
			s->cnt_all[C_UNKNOWN]++;
			fail_std(s, SMTP_R_LINE_TOO_LONG);
			continue;
		}
		if (st == LR_LINE) {
			cmd_line(s, &line);
			continue;
		}
		break; /* LR_PARTIAL / LR_EOF only after EOF */
	}
	if (eof) {
		smtpd_session_lost(s);
		return SMTPD_WANT_CLOSE;
	}
	return SMTPD_WANT_READ;
}

/* smtpd_session_timeout - 421 and log */
void smtpd_session_timeout(struct smtpd_session *s)
{
	char t[300];

	snprintf(t, sizeof(t), "%s Error: timeout exceeded", s->srv->myhostname);
	reply(s, 421, "4.4.2", t);
	log_info("timeout after %s from %s", s->last_cmd, client_id(s));
	s->mode = MODE_CLOSED;
}

/* smtpd_session_shutdown - the server stops */
void smtpd_session_shutdown(struct smtpd_session *s)
{
	char t[300];

	snprintf(t, sizeof(t), "%s Service shutting down, closing transmission channel", s->srv->myhostname);
	reply(s, 421, "4.3.2", t);
	s->mode = MODE_CLOSED;
}

/* smtpd_session_lost - log a connection that broke mid-session */
void smtpd_session_lost(struct smtpd_session *s)
{
	if (s->mode != MODE_CLOSED)
		log_info("lost connection after %s from %s", s->last_cmd, client_id(s));
	s->mode = MODE_CLOSED;
}
