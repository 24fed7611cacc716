/*
 * cmd_queue.c - `postern queue`: list, flush, delete, hold and release queued mail
 *
 *   postern queue [list]      like mailq: "ID[*!]  size  arrival  sender", then each
 *                             recipient not yet done, with its deferral reason;
 *                             "-- N Kbytes in M Requests." or "Mail queue is empty"
 *                             (* = active, ! = on hold, as Postfix)
 *   postern queue flush       ask the queue manager to retry deferred mail now ("F")
 *   postern queue delete ID|ALL   remove messages from incoming/active/deferred/hold
 *   postern queue hold ID     deferred/incoming -> hold/ (never scanned)
 *   postern queue release ID  hold/ -> deferred/, due now
 *
 * Runs as root or mail_owner (the queue directories are 0700).
 * Tests:    tests/e2e/test_delivery.py
 * Refs:     Postfix mailq(1)/postqueue(1), postsuper(1)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/log.h"
#include "libmail/config.h"
#include "libmail/diag.h"
#include "master/service.h"
#include "queue/qstore.h"

static const enum qstore_queue listed[] = { QSTORE_ACTIVE, QSTORE_INCOMING, QSTORE_DEFERRED, QSTORE_HOLD };
#define NLISTED (sizeof(listed) / sizeof(listed[0]))

/* open_queue - load the configuration and open queue_directory; NULL config on failure */
static struct config *open_queue(struct cli *cli, struct qstore *qs)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct config *cfg = config_load(cli->config_dir, &dl);
	const char *qdir, *err;

	if (!cfg || diag_has_errors(&dl)) {
		fprintf(stderr, "postern queue: cannot load the configuration from %s\n", cli->config_dir);
		diag_free(&dl);
		config_free(&cfg);
		return NULL;
	}
	diag_free(&dl);
	qdir = config_get(cfg, "queue_directory");
	if (!qdir || qstore_open(qs, qdir, (uid_t)-1, (gid_t)-1, &err) < 0) {
		fprintf(stderr, "postern queue: %s\n", qdir ? err : "no queue_directory");
		config_free(&cfg);
		return NULL;
	}
	return cfg;
}

/* list_one - print one message; adds its size to *bytes */
static void list_one(struct qstore *qs, enum qstore_queue q, const char *id, unsigned long long *bytes)
{
	struct qstore_msg *m = NULL;
	const char *err;
	char when[64];
	time_t t;
	size_t i;

	if (qstore_msg_open(qs, q, id, false, &m, &err) != QSTORE_OPEN_OK) {
		printf("%-16s  (%s)\n", id, err);
		return;
	}
	t = (time_t)(m->env.arrival_us / 1000000);
	strftime(when, sizeof(when), "%a %b %e %H:%M:%S", localtime(&t));
	printf("%s%c %8llu %s  %s\n", id, q == QSTORE_ACTIVE ? '*' : q == QSTORE_HOLD ? '!' : ' ',
	       (unsigned long long)m->env.content_size, when, *m->env.sender ? m->env.sender : "MAILER-DAEMON");
	for (i = 0; i < m->env.nrcpt; i++) {
		const struct qfile_rcpt *r = &m->env.rcpts[i];

		if (r->status == QFILE_RCPT_DELIVERED || r->status == QFILE_RCPT_FAILED)
			continue;
		if (r->status == QFILE_RCPT_DEFERRED && *r->text)
			printf("%41s(%s)\n", "", r->text);
		printf("%41s%s\n", "", r->addr);
	}
	putchar('\n');
	*bytes += m->file_size;
	qstore_msg_close(&m);
}

/* queue_list - mailq */
static int queue_list(struct qstore *qs)
{
	unsigned long long bytes = 0;
	size_t n = 0, k, i;

	for (k = 0; k < NLISTED; k++) {
		struct qstore_ids ids;
		const char *err;

		if (qstore_scan(qs, listed[k], &ids, &err) < 0) {
			fprintf(stderr, "postern queue: %s\n", err);
			return 1;
		}
		for (i = 0; i < ids.n; i++, n++) {
			if (n == 0)
				printf("-Queue ID-       --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
			list_one(qs, listed[k], ids.id[i], &bytes);
		}
		qstore_ids_free(&ids);
	}
	if (n == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %llu Kbytes in %zu Request%s.\n", (bytes + 1023) / 1024, n, n == 1 ? "" : "s");
	return 0;
}

/* queue_flush - send "F" to the queue manager */
static int queue_flush(struct qstore *qs)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char f = QMGR_MSG_FLUSH;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", qs->path, SERVICE_QMGR_SOCKET);
	if (fd < 0 || sendto(fd, &f, 1, 0, (struct sockaddr *)&sun, sizeof(sun)) != 1)
		printf("postern queue: the queue manager is not running (%s: %s); mail will be retried when it starts\n",
		       sun.sun_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

/* queue_delete - remove ID (or ALL) from every listed queue */
static int queue_delete(struct qstore *qs, const char *id)
{
	size_t k, i, n = 0;

	for (k = 0; k < NLISTED; k++) {
		struct qstore_ids ids;
		const char *err;

		if (qstore_scan(qs, listed[k], &ids, &err) < 0)
			continue;
		for (i = 0; i < ids.n; i++)
			if ((strcmp(id, "ALL") == 0 || strcmp(id, ids.id[i]) == 0) &&
			    qstore_delete(qs, listed[k], ids.id[i], &err) == 0) {
				log_info("%s: removed", ids.id[i]);
				n++;
			}
		qstore_ids_free(&ids);
	}
	printf("postern queue: Deleted: %zu message%s\n", n, n == 1 ? "" : "s");
	return n || strcmp(id, "ALL") == 0 ? 0 : EXIT_NOTFOUND;
}

/* queue_move - hold (deferred/incoming -> hold) or release (hold -> deferred, due now) */
static int queue_move(struct qstore *qs, const char *id, bool hold)
{
	static const enum qstore_queue from_hold[] = { QSTORE_DEFERRED, QSTORE_INCOMING, QSTORE_ACTIVE };
	const char *err = "no such message";
	size_t k;

	if (!hold) {
		if (qstore_move(qs, id, QSTORE_HOLD, QSTORE_DEFERRED, &err) == 0) {
			utimensat(qs->dirfd[QSTORE_DEFERRED], id, NULL, 0);
			printf("postern queue: %s: released from hold\n", id);
			return 0;
		}
	} else {
		for (k = 0; k < 3; k++)
			if (qstore_move(qs, id, from_hold[k], QSTORE_HOLD, &err) == 0) {
				printf("postern queue: %s: placed on hold\n", id);
				return 0;
			}
	}
	fprintf(stderr, "postern queue: %s: %s\n", id, err);
	return EXIT_NOTFOUND;
}

/* cmd_queue - `postern queue [list|flush|delete ID|hold ID|release ID]` */
int cmd_queue(struct cli *cli, int argc, char **argv)
{
	struct qstore qs;
	struct config *cfg;
	const char *verb = argc > 1 ? argv[1] : "list";
	int rc;

	if (strcmp(verb, "list") && strcmp(verb, "flush") && strcmp(verb, "delete") && strcmp(verb, "hold") &&
	    strcmp(verb, "release"))
		return cli_usage_error(cli, "unknown queue command \"%s\"", verb);
	if ((!strcmp(verb, "delete") || !strcmp(verb, "hold") || !strcmp(verb, "release")) && argc != 3)
		return cli_usage_error(cli, "%s needs one queue id", verb);
	if (!(cfg = open_queue(cli, &qs)))
		return 1;
	if (!strcmp(verb, "list"))
		rc = queue_list(&qs);
	else if (!strcmp(verb, "flush"))
		rc = queue_flush(&qs);
	else if (!strcmp(verb, "delete"))
		rc = queue_delete(&qs, argv[2]);
	else
		rc = queue_move(&qs, argv[2], !strcmp(verb, "hold"));
	qstore_close(&qs);
	config_free(&cfg);
	return rc;
}
