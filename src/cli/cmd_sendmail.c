/*
 * cmd_sendmail.c - `postern sendmail`: a minimal sendmail(1) that queues one message
 *
 *   postern sendmail [-f SENDER] [-i|-oi] [-F NAME] [-oX...] RECIPIENT... < message
 *
 * Reads the message from standard input (LF or CR LF line ends, stored as LF);
 * unless -i/-oi is given a line with a single "." ends it (sendmail's default).
 * The sender defaults to the invoking user @$myorigin; recipients without "@"
 * get @$myorigin. A Received: header like Postfix's pickup(8) is prepended:
 *     Received: by HOST (Postern, from userid N)
 *     <TAB>id QUEUEID; DATE
 * The message is written with qstore (incoming/, committed durably) and the
 * queue manager is notified ("I<id>" on public/qmgr; if it is not running the
 * message waits for its next scan). -t (recipients from headers) is not
 * supported yet and is refused. Must run as root or mail_owner (incoming/ is 0700).
 *
 * Tests:    tests/e2e/test_delivery.py
 * Refs:     sendmail(1) as documented by Postfix, Postfix pickup(8)
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "libmail/config.h"
#include "libmail/diag.h"
#include "libmail/msghdr.h"
#include "master/service.h"
#include "queue/qstore.h"

/* read_message - stdin into b as LF lines; dot: a lone "." ends it. 0, or -1 when too big */
static int read_message(struct buf *b, bool dot)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;

		if (len && line[len - 1] == '\n')
			len--;
		if (len && line[len - 1] == '\r')
			len--;
		if (dot && len == 1 && line[0] == '.')
			break;
		if (buf_append(b, line, len) < 0 || buf_putc(b, '\n') < 0) {
			rc = -1;
			break;
		}
	}
	free(line);
	return rc;
}

/* qualify - addr, or addr@origin when it has no '@' (caller frees) */
static char *qualify(const char *addr, const char *origin)
{
	struct buf b = BUF_INIT(0);

	if (strchr(addr, '@') || !*addr)
		buf_puts(&b, addr);
	else
		buf_printf(&b, "%s@%s", addr, origin);
	return buf_detach(&b);
}

/* cmd_sendmail - queue stdin for the recipients */
int cmd_sendmail(struct cli *cli, int argc, char **argv)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct config *cfg;
	struct qstore qs;
	struct qstore_file *f = NULL;
	struct qfile_env env;
	struct buf msg = BUF_INIT(0), hdr = BUF_INIT(0);
	const char *sender = NULL, *qdir, *origin, *err = "";
	char *from, idbuf[TIMEID_QUEUE_SIZE];
	bool dot = true;
	int i, rc = 1;
	int64_t limit;
	struct passwd *pw = getpwuid(getuid());

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-f") && i + 1 < argc)
			sender = argv[++i];
		else if (!strncmp(argv[i], "-f", 2) && argv[i][2])
			sender = argv[i] + 2;
		else if (!strcmp(argv[i], "-i") || !strcmp(argv[i], "-oi"))
			dot = false;
		else if (!strcmp(argv[i], "-F") && i + 1 < argc)
			i++;
		else if (!strcmp(argv[i], "-t"))
			return cli_usage_error(cli, "-t (recipients from the headers) is not supported yet");
		else if (!strncmp(argv[i], "-o", 2) || !strncmp(argv[i], "-F", 2))
			continue;
		else
			return cli_usage_error(cli, "unknown option %s", argv[i]);
	}
	if (i >= argc)
		return cli_usage_error(cli, "no recipients given");
	cfg = config_load(cli->config_dir, &dl);
	if (!cfg || diag_has_errors(&dl)) {
		fprintf(stderr, "postern sendmail: cannot load the configuration from %s\n", cli->config_dir);
		diag_free(&dl);
		config_free(&cfg);
		return 1;
	}
	diag_free(&dl);
	qdir = config_get(cfg, "queue_directory");
	origin = config_get(cfg, "myorigin");
	if (config_get_int(cfg, "message_size_limit", &limit, &err) < 0 || limit <= 0)
		limit = 50 * 1024 * 1024;
	buf_init(&msg, (size_t)limit);
	if (!qdir || qstore_open(&qs, qdir, (uid_t)-1, (gid_t)-1, &err) < 0) {
		fprintf(stderr, "postern sendmail: queue: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	from = qualify(sender ? sender : pw ? pw->pw_name : "nobody", origin ? origin : "localhost");
	if (read_message(&msg, dot) < 0) {
		fprintf(stderr, "postern sendmail: message too large (message_size_limit %lld)\n", (long long)limit);
		goto out;
	}
	memset(&env, 0, sizeof(env));
	env.sender = from;
	env.client = (struct qfile_client){ "", "localhost", "", "local", "" };
	env.params.envid = "";
	if (qstore_begin(&qs, &env, &f, &err) < 0)
		goto fail;
	for (; i < argc; i++) {
		char *r = qualify(argv[i], origin ? origin : "localhost");
		struct qfile_rcpt rc_ = { r, r, "", 0, QFILE_RCPT_PENDING, "", "", 0 };
		int x = qstore_add_rcpt(f, &rc_, &err);

		free(r);
		if (x < 0)
			goto fail;
	}
	snprintf(idbuf, sizeof(idbuf), "%s", qstore_file_id(f));
	buf_printf(&hdr, "Received: by %s (%s, from userid %u)\n\tid %s; ", config_get(cfg, "myhostname"),
		   config_get(cfg, "mail_name"), (unsigned)getuid(), idbuf);
	rfc5322_date(&hdr, time(NULL));
	buf_putc(&hdr, '\n');
	if (qstore_append(f, hdr.data, hdr.len, &err) < 0 || qstore_append(f, msg.data, msg.len, &err) < 0 ||
	    qstore_finish(f, &err) < 0 || qstore_commit(f, &err) < 0)
		goto fail;
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		char note[1 + TIMEID_QUEUE_SIZE];
		int nl = snprintf(note, sizeof(note), "%c%s", QMGR_MSG_NEW, idbuf);

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", qdir, SERVICE_QMGR_SOCKET);
		if (fd >= 0) {
			sendto(fd, note, (size_t)nl, 0, (struct sockaddr *)&sun, sizeof(sun));
			close(fd);
		}
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "postern sendmail: cannot queue the message: %s\n", err);
out:
	qstore_file_free(&f);
	qstore_close(&qs);
	free(from);
	buf_free(&msg);
	buf_free(&hdr);
	config_free(&cfg);
	return rc;
}
