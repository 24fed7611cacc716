/*
 * virtual.c - `postern service virtual`: the virtual mailbox delivery agent
 *
 * Listens on queue_directory/private/virtual and answers dlvproto requests,
 * one delivery per request (the loop is agent.c's). For each request it looks the
 * final address up in virtual_mailbox_maps (addr_lookup key order: full,
 * without extension, @domain; each key in every table before the next key, as
 * Postfix's mail_addr_find), builds virtual_mailbox_base/result (a trailing "/"
 * means Maildir, else mbox), takes the owner from virtual_uid_maps and
 * virtual_gid_maps, switches effective ids when root (setgroups, setegid,
 * seteuid; back afterwards, as Postfix's virtual(8)), prepends Return-Path: and
 * Delivered-To: and delivers with maildir_deliver()/mbox_deliver().
 *
 * Decisions (documented differences from Postfix):
 *   - a mailbox map result that is absolute or has a ".." component would
 *     escape virtual_mailbox_base: the recipient is deferred (4.3.5 "mail
 *     system configuration error") so that the administrator can fix the table
 *     without losing mail; Postfix simply concatenates.
 *   - a uid below virtual_minimum_uid bounces (5.3.5, Postfix's text "mail
 *     system configuration error"); Postfix defers it.
 *   - table lookup failures defer (4.3.0), unknown users bounce (5.1.1).
 * A malformed request is fatal (typed IPC rule): the peer is the queue manager.
 *
 * Runs in:  virtual (root when the master is root; effective ids per delivery)
 * API:      virtual_main()  -- see virtual.h; the request loop is agent.h
 * Tests:    tests/e2e/test_delivery.py
 * Refs:     Postfix virtual/virtual.c, mailbox.c, maildir.c; virtual(8)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "libmail/addr_lookup.h"
#include "libmail/config.h"
#include "libmail/dict.h"
#include "master/service.h"
#include "queue/agent.h"
#include "queue/virtual.h"

struct maps {
	struct dict **d;
	size_t n;
};

struct vagent {
	struct maps mailbox, uid, gid;
	const char *base;
	const char *delims;
	int64_t min_uid;
	bool root;
};

/* maps_open - open every table of a list parameter; fatal on failure (configuration) */
static void maps_open(struct config *cfg, const char *name, struct maps *m)
{
	const char *const *items;
	const char *err;
	size_t i;

	if (config_get_list(cfg, name, &items, &m->n, &err) < 0)
		fatal("%s: %s", name, err);
	m->d = xcalloc(m->n + 1, sizeof(*m->d));
	for (i = 0; i < m->n; i++)
		if (!(m->d[i] = dict_open(items[i], DICT_FLAGS_DEFAULT, &err)))
			fatal("%s: %s: %s", name, items[i], err);
}

/* maps_close - close every table of a list */
static void maps_close(struct maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		dict_close(&m->d[i]);
	free(m->d);
	m->d = NULL;
	m->n = 0;
}

/* maps_find - first value for addr: keys in Postfix order, each key in every table; 1/0/-1 */
static int maps_find(struct maps *m, const char *addr, const char *delims, char **value_r, const char **error_r)
{
	struct addr_keys k;
	size_t i, j;
	int rc = 0;

	addr_lookup_keys(addr, delims, &k);
	for (i = 0; i < k.n && rc == 0; i++)
		for (j = 0; j < m->n && rc == 0; j++) {
			const char *v;
			int r = dict_lookup(m->d[j], k.key[i], &v, error_r);

			if (r < 0)
				rc = -1;
			else if (r > 0) {
				*value_r = xstrdup(v);
				rc = 1;
			}
		}
	addr_keys_free(&k);
	return rc;
}

/* path_escapes - is a map result absolute, or has it a ".." component? */
static bool path_escapes(const char *p)
{
	const char *s = p;

	if (*p == '/')
		return true;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s += n;
		if (*s == '/')
			s++;
	}
	return false;
}

/* parse_id - a decimal uid/gid */
static int parse_id(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return (errno || end == s || *end || *v < 0 || *v > 0x7fffffff) ? -1 : 0;
}

/* deliver - one recipient; fills res */
static void deliver(struct agent *ag, const struct dlvproto_request *q, struct qstore_msg *m,
		    struct dlv_result *res)
{
	struct vagent *va = ag->ctx;
	char *mbox = NULL, *uids = NULL, *gids = NULL;
	const char *err = "";
	struct buf path = BUF_INIT(4096), pre = BUF_INIT(8192);
	long long uid, gid;
	int r;

	r = maps_find(&va->mailbox, q->addr, va->delims, &mbox, &err);
	if (r < 0) {
		dlv_set(res, "4.3.0", "virtual_mailbox_maps lookup failure: %s", err);
		goto out;
	}
	if (r == 0) {
		dlv_set(res, "5.1.1", "unknown user: \"%s\"", q->addr);
		goto out;
	}
	if (path_escapes(mbox) || !*va->base) {
		log_warn("recipient %s: mailbox path \"%s\" escapes or has no virtual_mailbox_base", q->addr,
			 log_sanitize(mbox, 200));
		dlv_set(res, "4.3.5", "mail system configuration error");
		goto out;
	}
	if ((r = maps_find(&va->uid, q->addr, va->delims, &uids, &err)) <= 0 || parse_id(uids, &uid) < 0) {
		log_warn("recipient %s: no valid uid in virtual_uid_maps%s%s", q->addr, r < 0 ? ": " : "", r < 0 ? err : "");
		dlv_set(res, "4.3.5", "mail system configuration error");
		goto out;
	}
	if (uid < va->min_uid) {
		log_warn("recipient %s: bad uid %lld in virtual_uid_maps", q->addr, uid);
		dlv_set(res, "5.3.5", "mail system configuration error");
		goto out;
	}
	if ((r = maps_find(&va->gid, q->addr, va->delims, &gids, &err)) <= 0 || parse_id(gids, &gid) < 0) {
		log_warn("recipient %s: no valid gid in virtual_gid_maps%s%s", q->addr, r < 0 ? ": " : "", r < 0 ? err : "");
		dlv_set(res, "4.3.5", "mail system configuration error");
		goto out;
	}
	if (buf_printf(&path, "%s/%s", va->base, mbox) < 0 || agent_prepend(&pre, m->env.sender, q->addr) < 0) {
		dlv_set(res, "5.3.5", "mailbox path or headers too long");
		goto out;
	}
	{
		struct dlv_owner own = { (uid_t)-1, (gid_t)-1 };

		if (va->root) {
			own.uid = (uid_t)uid;
			own.gid = (gid_t)gid;
			if (agent_set_eids((uid_t)uid, (gid_t)gid) < 0) {
				dlv_set(res, "4.3.0", "cannot switch to uid %lld gid %lld: %s", uid, gid, strerror(errno));
				agent_restore_eids();
				goto out;
			}
		}
		agent_mailbox(buf_cstr(&path), &pre, m, q->addr, q->flags & DLVPROTO_F_RECHECK, &own, res);
		if (va->root)
			agent_restore_eids();
	}
out:
	free(mbox);
	free(uids);
	free(gids);
	buf_free(&path);
	buf_free(&pre);
}

/* virtual_main - `postern service virtual` */
int virtual_main(struct cli *cli, int argc, char **argv)
{
	struct agent ag;
	struct vagent va;
	const char *err;
	int rc;

	(void)argc;
	(void)argv;
	memset(&va, 0, sizeof(va));
	agent_init(&ag, cli, "virtual", SERVICE_VIRTUAL_SOCKET);
	va.root = ag.root;
	va.base = config_get(ag.cfg, "virtual_mailbox_base");
	va.delims = config_get(ag.cfg, "recipient_delimiter");
	if (!va.base || config_get_int(ag.cfg, "virtual_minimum_uid", &va.min_uid, &err) < 0)
		fatal("bad configuration for the virtual agent");
	maps_open(ag.cfg, "virtual_mailbox_maps", &va.mailbox);
	maps_open(ag.cfg, "virtual_uid_maps", &va.uid);
	maps_open(ag.cfg, "virtual_gid_maps", &va.gid);
	ag.deliver = deliver;
	ag.ctx = &va;
	rc = agent_run(&ag);
	maps_close(&va.mailbox);
	maps_close(&va.uid);
	maps_close(&va.gid);
	return rc;
}
