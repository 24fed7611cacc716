/*
 * local.c - `postern service local`: delivery to system users (mydestination)
 *
 * Listens on queue_directory/private/local and answers dlvproto requests from
 * the queue manager, one per recipient, with agent.c's loop (as virtual). For
 * a recipient user@domain (a domain of class local):
 *   1. alias_maps: the local part, folded to lower case, is expanded with
 *      aliases.h (with extension, then without; local names recursively,
 *      loops delivered to the mailbox of the name met twice, depth and size
 *      limits). A table that cannot be opened is reopened at each delivery;
 *      until it works the recipient is deferred and the log names the table
 *      and how to build it - except the untouched default hash:/etc/aliases
 *      on a system with neither /etc/aliases nor /etc/aliases.db, which is an
 *      empty table (alias_default_absent()).
 *   2. Several destinations, or one in another domain (virtual, remote):
 *      forwarded as Postfix's local(8) does, as a new queue file (same sender
 *      and parameters, one recipient per target, "Delivered-To: alias"
 *      prepended), staged for the queue manager (qstore.h) and answered
 *      "forwarded as ID". "|command", "/file", ":include:" are bounced (5.3.0),
 *      as Postfix does when allow_mail_to_commands / allow_mail_to_files exclude
 *      them; the other targets of the alias are still forwarded.
 *      A recipient a forward produced goes to its mailbox without a second
 *      expansion; any other recipient named in a Delivered-To: line is a loop
 *      (5.4.6 "mail forwarding loop for ADDR").
 *   3. Each local user: getpwnam(); unknown: bounce 5.1.1 'unknown user: "x"'
 *      (Postfix's text). mailbox_command set: defer (not supported yet). The
 *      mailbox is $HOME/$home_mailbox (a trailing '/' means Maildir) or
 *      $mail_spool_directory/USER (mbox). Return-Path: and Delivered-To: are
 *      prepended as by virtual (Delivered-To: the request address for the
 *      recipient itself, user@domain for a user reached through an alias;
 *      folded to lower case).
 *
 * Privileges (when root; not root: nothing changes uid). Effective ids are
 * switched per delivery, as in virtual (no fork: the writers are in-process
 * and bounded). As Postfix's local(8) mailbox.c:
 *   - home_mailbox, or a world-writable spool: as the user (uid, gid);
 *   - a group-writable spool (Debian's 2775 root:mail): the user's uid with
 *     the spool directory's group;
 *   - a spool writable by root only: the mbox is created 0600 and given to
 *     the user, and the append runs as root (Postfix locks as root and copies
 *     as the user; on a local file system the result is the same).
 *   - root's own mailbox (uid 0, reached without an alias) is written as root,
 *     as Postfix does (default_privs only applies to files and commands,
 *     which Postern refuses).
 * Every target of a forwarded alias is a recipient of its own in the new
 * queue file, so a deferred one delays nobody else and nobody gets a copy
 * twice.
 * Not implemented: ~/.forward, mailbox_command, mailbox_size_limit,
 * allow_mail_to_commands/files (always "no").
 *
 * Runs in:  local (root when the master is root; effective ids per delivery)
 * API:      local_main()  -- see local.h
 * Tests:    tests/e2e/test_local.py, tests/unit/test_aliases.c
 * Refs:     local(8), aliases(5), Postfix local/mailbox.c (delivery rights)
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/safefile.h"
#include "lib/strutil.h"
#include "lib/timeid.h"
#include "lib/xalloc.h"
#include "libmail/addr_lookup.h"
#include "libmail/aliases.h"
#include "libmail/config.h"
#include "libmail/dict.h"
#include "libmail/msghdr.h"
#include "libmail/resolve.h"
#include "master/service.h"
#include "queue/agent.h"
#include "queue/local.h"

struct lagent {
	struct agent *ag;
	const char *const *alias_specs;
	struct dict **alias;  /* NULL entries: not open (yet) */
	bool *alias_absent;   /* the default table on a system without one: empty (rechecked per delivery) */
	size_t n_alias;
	struct route *rt;
	const char *delims, *home_mailbox, *spool, *mailbox_command;
	char err[1024];
};

/* open_alias - (re)open table i; 0, or -1 with l->err naming the table and the fix */
static int open_alias(struct lagent *l, size_t i)
{
	const char *err, *spec = l->alias_specs[i];

	if (l->alias[i] || l->alias_absent[i])
		return 0;
	if ((l->alias[i] = dict_open(spec, DICT_FLAGS_DEFAULT, &err)) != NULL)
		return 0;
	if (alias_default_absent(l->ag->cfg, spec)) {
		l->alias_absent[i] = true;
		return 0;
	}
	snprintf(l->err, sizeof(l->err), "alias_maps: cannot open %s: %s", spec, err);
	log_warn("alias_maps: table %s is unavailable (%s): build it with \"postern postalias %s\" "
		 "(or \"postern newaliases\")", spec, err, strncmp(spec, "hash:", 5) == 0 ? spec + 5 : spec);
	return -1;
}

/* hook_lookup - name in every alias table, first match wins */
static int hook_lookup(void *ctx, const char *name, char **value_r, const char **error_r)
{
	struct lagent *l = ctx;
	size_t i;

	for (i = 0; i < l->n_alias; i++) {
		const char *v, *err;
		int r;

		if (open_alias(l, i) < 0) {
			*error_r = l->err;
			return -1;
		}
		if (l->alias_absent[i])
			continue;
		r = dict_lookup(l->alias[i], name, &v, &err);
		if (r < 0) {
			snprintf(l->err, sizeof(l->err), "alias_maps: %s", err);
			*error_r = l->err;
			return -1;
		}
		if (r > 0) {
			*value_r = xstrdup(v);
			return 1;
		}
	}
	return 0;
}

/* hook_classify - is an alias target's domain one of ours (class local)? */
static int hook_classify(void *ctx, const char *addr, char **local_r, const char **error_r)
{
	struct lagent *l = ctx;
	struct route_addr ra;
	const char *err;
	int rc = 0;

	memset(&ra, 0, sizeof(ra));
	if (route_classify(l->rt, addr, &ra, &err) < 0) {
		snprintf(l->err, sizeof(l->err), "%s", err);
		*error_r = l->err;
		rc = -1;
	} else if (ra.cls == ADDR_CLASS_LOCAL && !ra.routed) {
		*local_r = xstrdup(ra.local);
		rc = 1;
	}
	route_addr_free(&ra);
	return rc;
}

/* create_owned - as root: create the mbox 0600 for the user when missing (root-only spool) */
static int create_owned(const char *path, uid_t uid, gid_t gid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	if (fchown(fd, uid, gid) < 0 || fsync(fd) < 0 || fsync_dir_of(path) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* deliver_user - one local user's mailbox */
static void deliver_user(struct lagent *l, const char *user, const char *rcpt, bool recheck, struct qstore_msg *m,
			 struct dlv_result *res)
{
	struct buf path = BUF_INIT(4096), pre = BUF_INIT(8192);
	struct dlv_owner own = { (uid_t)-1, (gid_t)-1 };
	struct passwd *pw;
	uid_t uid;
	gid_t gid;
	bool as_root = false;

	if (*l->mailbox_command) {
		dlv_set(res, "4.3.0", "mailbox_command is not supported yet: unset it to deliver to home_mailbox "
				      "or mail_spool_directory");
		goto out;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM)
			dlv_set(res, "4.3.0", "cannot look up user \"%s\": %s", user, strerror(errno));
		else
			dlv_set(res, "5.1.1", "unknown user: \"%s\"", user);
		goto out;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (alias_mailbox_path(&path, l->home_mailbox, pw->pw_dir, l->spool, user) < 0) {
		dlv_set(res, "5.3.5", "mailbox path for user \"%s\" too long or not absolute", user);
		goto out;
	}
	if (agent_prepend(&pre, m->env.sender, rcpt) < 0) {
		dlv_set(res, "5.3.5", "mailbox headers too long");
		goto out;
	}
	if (l->ag->root) {
		struct stat st;

		if (!*l->home_mailbox && stat(l->spool, &st) == 0 && !(st.st_mode & S_IWOTH)) {
			if (st.st_mode & S_IWGRP)
				gid = st.st_gid;
			else
				as_root = true;
		}
		if (as_root) {
			if (create_owned(buf_cstr(&path), uid, gid) < 0) {
				dlv_set(res, dlv_dsn_errno(errno, "4.2.0"), "mailbox %s: cannot create file: %s",
					buf_cstr(&path), strerror(errno));
				goto out;
			}
			own.uid = uid;
			own.gid = gid;
		} else if (agent_set_eids(uid, gid) < 0) {
			dlv_set(res, "4.3.0", "cannot switch to uid %ld gid %ld: %s", (long)uid, (long)gid,
				strerror(errno));
			agent_restore_eids();
			goto out;
		}
	}
	agent_mailbox(buf_cstr(&path), &pre, m, rcpt, recheck, &own, res);
	if (l->ag->root && !as_root)
		agent_restore_eids();
out:
	buf_free(&path);
	buf_free(&pre);
}

/* log_alias_target - Postfix's line for a mailbox reached through an alias (the request gets its own) */
static void log_alias_target(const struct dlvproto_request *q, const struct qstore_msg *m, const char *rcpt,
			     const struct dlv_result *one)
{
	uint64_t now = time_wall_us();

	log_info("%s: to=<%s>, orig_to=<%s>, relay=local, delay=%.2f, dsn=%s, status=%s (%s)", q->queue_id,
		 log_sanitize(rcpt, 300), log_sanitize(q->addr, 300),
		 now > m->env.arrival_us ? (double)(now - m->env.arrival_us) / 1e6 : 0.0, one->dsn,
		 one->status == DLV_OK ? "sent" : one->status == DLV_DEFER ? "deferred" : "bounced", one->text);
}

#define HEADER_SCAN_MAX (64 * 1024) /* Delivered-To: lines are searched in this much of the header */

/* has_delivered_to - does m's header carry "Delivered-To: addr" (case folded)? */
static bool has_delivered_to(const struct qstore_msg *m, const char *addr)
{
	size_t n = m->env.content_size < HEADER_SCAN_MAX ? (size_t)m->env.content_size : HEADER_SCAN_MAX, i = 0;
	char *h;
	ssize_t got;
	bool found = false;

	if (*addr == '\0')
		return false;
	h = xmalloc(n + 1);
	got = pread(m->fd, h, n, (off_t)m->env.content_offset);

	n = got > 0 ? (size_t)got : 0;
	h[n] = '\0';
	while (i < n && !found && h[i] != '\n') {
		char *eol = memchr(h + i, '\n', n - i), *v;
		size_t end = eol ? (size_t)(eol - h) : n, vlen;

		if (end - i > 13 && strncasecmp(h + i, "Delivered-To:", 13) == 0) {
			v = h + i + 13;
			vlen = end - i - 13;
			while (vlen && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\r'))
				vlen--;
			found = vlen == strlen(addr) && strncasecmp(v, addr, vlen) == 0;
		}
		i = end + 1;
	}
	free(h);
	return found;
}

/* fwd_content - the new message: Delivered-To: (loop protection) and the original content */
static int fwd_content(struct qstore_file *f, const struct qstore_msg *m, const char *alias, const char **err)
{
	struct buf hdr = BUF_INIT(2048);
	char chunk[65536];
	uint64_t off = m->env.content_offset, left = m->env.content_size;
	int rc = 0;

	if (msghdr_delivered_to(&hdr, alias) < 0 || qstore_append(f, hdr.data, hdr.len, err) < 0)
		rc = -1;
	buf_free(&hdr);
	while (rc == 0 && left > 0) {
		ssize_t r = pread(m->fd, chunk, left < sizeof(chunk) ? (size_t)left : sizeof(chunk), (off_t)off);

		if (r <= 0) {
			*err = r == 0 ? "queue file shorter than its envelope" : strerror(errno);
			return -1;
		}
		if (qstore_append(f, chunk, (size_t)r, err) < 0)
			return -1;
		off += (uint64_t)r;
		left -= (uint64_t)r;
	}
	return rc;
}

/*
 * forward - resubmit the alias's targets as a new message (Postfix local(8)
 * forwarding): same sender and parameters, each target its own recipient
 * (orig: the alias address), "Delivered-To: alias" prepended. The file is
 * staged (qstore.h): the queue manager makes it visible once this
 * recipient's mark "forwarded as ID" is durable. Written as mail_owner (the
 * queue manager must be able to mark it). 0 with id, or -1 with res set.
 */
static int forward(struct lagent *l, const struct dlvproto_request *q, const struct qstore_msg *m,
		   const char *alias, char *const *targets, size_t n, char id[TIMEID_QUEUE_SIZE],
		   struct dlv_result *res)
{
	const struct qfile_rcpt *orig = &m->env.rcpts[q->rcpt];
	struct qfile_env env;
	struct qstore_file *f = NULL;
	const char *err = "";
	size_t i;
	int rc = -1;

	memset(&env, 0, sizeof(env));
	env.sender = m->env.sender;
	env.client = (struct qfile_client){ "", "localhost", "", "local", "" };
	env.params = m->env.params;
	if (l->ag->root && agent_set_eids(l->ag->owner_uid, l->ag->owner_gid) < 0) {
		dlv_set(res, "4.3.0", "cannot switch to mail_owner: %s", strerror(errno));
		agent_restore_eids();
		return -1;
	}
	if (qstore_begin(&l->ag->qs, &env, &f, &err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct qfile_rcpt r;

		memset(&r, 0, sizeof(r));
		r.orig = alias;
		r.addr = targets[i];
		r.orcpt = orig->orcpt;
		r.notify = orig->notify;
		r.status = QFILE_RCPT_PENDING;
		r.text = "";
		if (qstore_add_rcpt(f, &r, &err) < 0)
			goto out;
	}
	if (fwd_content(f, m, alias, &err) < 0 || qstore_finish(f, &err) < 0 ||
	    qstore_stage(f, m->id, q->rcpt, &err) < 0)
		goto out;
	snprintf(id, TIMEID_QUEUE_SIZE, "%s", qstore_file_id(f));
	rc = 0;
out:
	if (rc < 0)
		dlv_set(res, "4.3.0", "cannot forward to the targets of alias %s: %s", alias, err);
	qstore_file_free(&f);
	if (l->ag->root)
		agent_restore_eids();
	return rc;
}

/* refused - the outcome for a destination local(8) will not deliver to */
static bool refused(const struct alias_dest *d, const char *local, struct dlv_result *res)
{
	const char *via = d->via ? d->via : local;

	switch (d->kind) {
	case ALIAS_DEST_USER:
	case ALIAS_DEST_REMOTE:
		return false;
	case ALIAS_DEST_COMMAND:
		dlv_set(res, "5.3.0", "delivery to commands from alias_maps is not allowed (\"%s\" in alias \"%s\")",
			d->text, via);
		return true;
	case ALIAS_DEST_FILE:
		dlv_set(res, "5.3.0", "delivery to files from alias_maps is not allowed (\"%s\" in alias \"%s\")", d->text,
			via);
		return true;
	case ALIAS_DEST_INCLUDE:
		dlv_set(res, "5.3.0", ":include: in alias_maps is not supported (\"%s\" in alias \"%s\")", d->text, via);
		return true;
	}
	panic("local: bad alias destination kind %d", (int)d->kind);
}

/* fan_out - several targets, or a non-local one: forward them as one new message */
static void fan_out(struct lagent *l, const struct dlvproto_request *q, struct qstore_msg *m, const char *local,
		    const char *domain, const struct alias_list *dests, struct dlv_result *res)
{
	char **targets = xcalloc(dests->n, sizeof(*targets)), id[TIMEID_QUEUE_SIZE];
	char *alias = xstrdup(q->addr);
	struct dlv_result bad;
	size_t i, n = 0;

	memset(&bad, 0, sizeof(bad));
	str_lower_ascii(alias, strlen(alias));
	for (i = 0; i < dests->n; i++) {
		const struct alias_dest *d = &dests->v[i];

		if (refused(d, local, &bad))
			continue;
		targets[n] = d->kind == ALIAS_DEST_USER ? xasprintf("%s@%s", d->text, domain) : xstrdup(d->text);
		str_lower_ascii(targets[n], strlen(targets[n]));
		n++;
	}
	if (n == 0) {
		*res = bad; /* nothing deliverable: the (last) refusal */
	} else if (forward(l, q, m, alias, targets, n, id, res) == 0) {
		if (bad.status == DLV_BOUNCE)
			dlv_set(res, bad.dsn, "%.400s; the other targets: forwarded as %s", bad.text, id);
		else
			dlv_set(res, "2.0.0", "forwarded as %s", id);
		snprintf(res->forward_id, sizeof(res->forward_id), "%s", id);
	}
	for (i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
	free(alias);
}

/*
 * deliver - one recipient: aliases, then the mailbox. A recipient that a
 * forward produced (the queue-file recipient is unchanged by virtual aliases
 * and its original address, the alias, is in a Delivered-To: line) is a final
 * target: its mailbox, no second alias expansion ("john: john, jane" keeps a
 * copy for john; a loop back to the alias ends at its mailbox or bounces).
 */
static void deliver(struct agent *ag, const struct dlvproto_request *q, struct qstore_msg *m,
		    struct dlv_result *res)
{
	struct lagent *l = ag->ctx;
	struct alias_hooks h = { hook_lookup, hook_classify, l };
	struct alias_list dests;
	const struct qfile_rcpt *qr = &m->env.rcpts[q->rcpt];
	const char *at = strrchr(q->addr, '@'), *err;
	char *local = at ? xstrndup(q->addr, (size_t)(at - q->addr)) : xstrdup(q->addr);
	const char *domain = at ? at + 1 : "";
	bool recheck = q->flags & DLVPROTO_F_RECHECK;

	if (*local == '\0' || strchr(local, '@') != NULL) {
		/* a routed local part ("a@b"@here) or an empty one: no such user, never forwarded */
		dlv_set(res, "5.1.1", "unknown user: \"%s\"", local);
		free(local);
		return;
	}
	if (strcasecmp(qr->addr, q->addr) == 0 && has_delivered_to(m, qr->orig)) {
		struct addr_keys k;
		char *rcpt = xstrdup(q->addr);

		addr_lookup_keys(local, l->delims, &k);
		str_lower_ascii(rcpt, strlen(rcpt));
		deliver_user(l, k.key[k.n - 1], rcpt, recheck, m, res);
		if (res->status == DLV_BOUNCE && strcmp(res->dsn, "5.1.1") == 0 && has_delivered_to(m, q->addr))
			dlv_set(res, "5.4.6", "mail forwarding loop for %s", rcpt);
		addr_keys_free(&k);
		free(rcpt);
		free(local);
		return;
	}
	if (has_delivered_to(m, q->addr)) {
		/* this message went through this address already (a forward came back): Postfix's loop check */
		char *rcpt = xstrdup(q->addr);

		str_lower_ascii(rcpt, strlen(rcpt));
		dlv_set(res, "5.4.6", "mail forwarding loop for %s", rcpt);
		free(rcpt);
		free(local);
		return;
	}
	/* an /etc/aliases created since the last delivery is used without a restart */
	memset(l->alias_absent, 0, l->n_alias * sizeof(*l->alias_absent));
	if (alias_expand(&h, local, l->delims, &dests, &err) < 0) {
		log_warn("%s: %s", q->queue_id, err);
		dlv_set(res, "4.3.0", "%s", err);
		free(local);
		return;
	}
	if (dests.n == 0) {
		/* cannot happen (aliases.h: a name always leads somewhere); never reply without an outcome */
		dlv_set(res, "4.3.0", "alias_maps: \"%s\" expands to nothing", local);
	} else if (dests.n > 1 || dests.v[0].kind == ALIAS_DEST_REMOTE) {
		fan_out(l, q, m, local, domain, &dests, res);
	} else if (!refused(&dests.v[0], local, res)) {
		/* one local user: the recipient itself keeps its address, a user reached through an alias is user@domain */
		const struct alias_dest *d = &dests.v[0];
		struct addr_keys k;
		bool self;
		char *rcpt;

		addr_lookup_keys(local, l->delims, &k);
		self = d->via == NULL && strcmp(d->text, k.key[k.n - 1]) == 0;
		rcpt = self ? xstrdup(q->addr) : xasprintf("%s@%s", d->text, domain);
		str_lower_ascii(rcpt, strlen(rcpt)); /* local(8) CASE FOLDING */
		deliver_user(l, d->text, rcpt, recheck, m, res);
		if (!self)
			log_alias_target(q, m, rcpt, res);
		addr_keys_free(&k);
		free(rcpt);
	}
	alias_list_free(&dests);
	free(local);
}

/* local_main - `postern service local` */
int local_main(struct cli *cli, int argc, char **argv)
{
	struct agent ag;
	struct lagent l;
	const char *err;
	size_t i;
	int rc;

	(void)argc;
	(void)argv;
	memset(&l, 0, sizeof(l));
	agent_init(&ag, cli, "local", SERVICE_LOCAL_SOCKET);
	l.ag = &ag;
	l.delims = config_get(ag.cfg, "recipient_delimiter");
	l.home_mailbox = config_get(ag.cfg, "home_mailbox");
	l.spool = config_get(ag.cfg, "mail_spool_directory");
	l.mailbox_command = config_get(ag.cfg, "mailbox_command");
	if (!l.delims || !l.home_mailbox || !l.spool || !l.mailbox_command)
		fatal("bad configuration for the local agent");
	if (config_get_list(ag.cfg, "alias_maps", &l.alias_specs, &l.n_alias, &err) < 0)
		fatal("alias_maps: %s", err);
	l.alias = xcalloc(l.n_alias + 1, sizeof(*l.alias));
	l.alias_absent = xcalloc(l.n_alias + 1, sizeof(*l.alias_absent));
	if (!(l.rt = route_open(ag.cfg, NULL, &err)))
		fatal("%s", err);
	ag.deliver = deliver;
	ag.ctx = &l;
	rc = agent_run(&ag);
	for (i = 0; i < l.n_alias; i++)
		dict_close(&l.alias[i]);
	free(l.alias);
	free(l.alias_absent);
	route_free(&l.rt);
	return rc;
}
