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
 *   2. Destinations that are not local mailboxes:
 *        - an address in another domain (remote, virtual): the whole recipient
 *          is deferred (4.3.0 "forwarding from alias_maps to ... is not
 *          implemented yet") before anything is delivered, so nothing is
 *          delivered twice and nothing is lost;
 *        - "|command", "/file", ":include:": bounced (5.3.0), as Postfix does
 *          when allow_mail_to_commands / allow_mail_to_files exclude them.
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
 * A recipient whose aliases name several users gets one reply, the worst
 * outcome (deferred, then bounced, then delivered); a partly deferred alias
 * is delivered again to the users that succeeded at the retry (the queue
 * file holds one status per recipient: the qmgr limit stated in qmgr.c).
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

/* worse - keep the worst of two outcomes (defer > bounce > ok) */
static void worse(struct dlv_result *acc, const struct dlv_result *one)
{
	if (one->status == DLV_DEFER || (one->status == DLV_BOUNCE && acc->status == DLV_OK))
		*acc = *one;
}

/* deliver - one recipient: aliases, then each mailbox */
static void deliver(struct agent *ag, const struct dlvproto_request *q, struct qstore_msg *m,
		    struct dlv_result *res)
{
	struct lagent *l = ag->ctx;
	struct alias_hooks h = { hook_lookup, hook_classify, l };
	struct alias_list dests;
	const char *at = strrchr(q->addr, '@'), *err;
	char *local = at ? xstrndup(q->addr, (size_t)(at - q->addr)) : xstrdup(q->addr);
	const char *domain = at ? at + 1 : "";
	struct addr_keys k;
	size_t i;

	if (*local == '\0' || strchr(local, '@') != NULL) {
		/* a routed local part ("a@b"@here) or an empty one: no such user, never forwarded */
		dlv_set(res, "5.1.1", "unknown user: \"%s\"", local);
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
		goto out;
	}
	for (i = 0; i < dests.n; i++)
		if (dests.v[i].kind == ALIAS_DEST_REMOTE) {
			dlv_set(res, "4.3.0",
				"forwarding from alias_maps to <%s> (alias \"%s\") is not implemented yet: "
				"only local users can be alias targets",
				dests.v[i].text, dests.v[i].via ? dests.v[i].via : local);
			goto out;
		}
	addr_lookup_keys(local, l->delims, &k);
	for (i = 0; i < dests.n; i++) {
		const struct alias_dest *d = &dests.v[i];
		struct dlv_result one;

		memset(&one, 0, sizeof(one));
		switch (d->kind) {
		case ALIAS_DEST_USER: {
			/* the recipient itself keeps its address; a user reached through an alias is user@domain */
			bool self = d->via == NULL && strcmp(d->text, k.key[k.n - 1]) == 0;
			char *rcpt = self ? xstrdup(q->addr) : xasprintf("%s@%s", d->text, domain);

			str_lower_ascii(rcpt, strlen(rcpt)); /* local(8) CASE FOLDING */
			deliver_user(l, d->text, rcpt, q->flags & DLVPROTO_F_RECHECK, m, &one);
			if (!self)
				log_alias_target(q, m, rcpt, &one);
			free(rcpt);
			break;
		}
		case ALIAS_DEST_COMMAND:
			dlv_set(&one, "5.3.0", "delivery to commands from alias_maps is not allowed (\"%s\" in alias \"%s\")",
				d->text, d->via ? d->via : local);
			break;
		case ALIAS_DEST_FILE:
			dlv_set(&one, "5.3.0", "delivery to files from alias_maps is not allowed (\"%s\" in alias \"%s\")",
				d->text, d->via ? d->via : local);
			break;
		case ALIAS_DEST_INCLUDE:
			dlv_set(&one, "5.3.0", ":include: in alias_maps is not supported (\"%s\" in alias \"%s\")",
				d->text, d->via ? d->via : local);
			break;
		case ALIAS_DEST_REMOTE:
			panic("local: remote destination after the check");
		}
		if (i == 0)
			*res = one; /* all delivered: the first delivery's text ("delivered to maildir") */
		else
			worse(res, &one);
	}
	addr_keys_free(&k);
out:
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
