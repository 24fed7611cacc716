/*
 * mastercf.h - master.cf: the service table (Postfix master(5) syntax)
 *
 * Each logical line (cfline.h rules: indented lines continue, "#" comments
 * are skipped even between -o lines) is one service:
 *     service type private unpriv chroot wakeup maxproc command [args...]
 *     smtp            inet n - n - - smtpd
 *     127.0.0.1:2525  inet n - n - - smtpd
 *     submission      inet n - n - - smtpd
 *       -o syslog_name=postfix/submission
 *       -o { smtpd_banner = $myhostname ESMTP submission }
 * Fields:
 *   service  inet: [host:]port, host may be [IPv6]; port a number or one of the
 *            builtin names (smtp 25, submission 587, submissions/smtps 465, pop3
 *            110, imap 143, imaps 993, pop3s 995); other types: a name
 *   type     inet, unix, unix-dgram, fifo or pass
 *   private  y, n or - (default y; inet services cannot be private)
 *   unpriv   y, n or - (default y)
 *   chroot   y, n or - (default n, Postfix 3.0 and later)
 *   wakeup   - (0: none) or seconds, optionally followed by "?" (only when used)
 *   maxproc  - (default_process_limit) or a number (0: no limit)
 *   command  program name, then arguments; "-o name=value", "-oname=value" and
 *            "-o { name = value with spaces }" set main.cf parameters for this
 *            service only and are taken out of the argument list.
 * A "{ ... }" group is one token anywhere on the line. Errors name file and
 * line and skip the line; a service name and type may appear only once.
 *
 * Tests:    tests/unit/test_mastercf.c, fuzz/fuzz_config.c
 */
#ifndef POSTERN_MASTERCF_H
#define POSTERN_MASTERCF_H

#include <stdbool.h>
#include <stddef.h>

#include "libmail/config.h"
#include "libmail/diag.h"

enum master_type { MASTER_INET, MASTER_UNIX, MASTER_UNIX_DGRAM, MASTER_FIFO, MASTER_PASS };

struct master_opt {
	const char *name;
	const char *value;  /* as written, not expanded */
	int line;           /* physical line of the -o */
};

struct master_service {
	const char *name;        /* the service field as written */
	enum master_type type;
	const char *host;        /* inet: host part without brackets, NULL when none (all interfaces) */
	int port;                /* inet: resolved port 1..65535; 0 for other types */
	bool private_;           /* "-" resolved to the default */
	bool unpriv;
	bool chroot;
	int wakeup;              /* seconds, 0: none */
	bool wakeup_if_used;     /* wakeup written with a trailing "?" */
	int maxproc;             /* -1: default_process_limit, 0: no limit */
	const char *command;
	const char **args;       /* after the command, -o options removed; n_args of them */
	size_t n_args;
	struct master_opt *opts; /* -o overrides in order; n_opts of them */
	size_t n_opts;
	const char *file;
	int line;                /* where the service line starts */
};

struct mastercf {
	struct master_service *v; /* valid services in file order */
	size_t n;
	struct arena *arena;      /* owns every string */
};

/*
 * mastercf_parse - parse master.cf text (pure). Bad lines are reported to diags
 * (may be NULL) and left out. Always returns a table; free with mastercf_free().
 */
struct mastercf *mastercf_parse(const char *text, size_t len, const char *filename,
				struct diag_list *diags);
/* mastercf_free - release the table; sets *mp = NULL */
void mastercf_free(struct mastercf **mp);
/* mastercf_find - the service with this name (as written) and type, or NULL */
const struct master_service *mastercf_find(const struct mastercf *m, const char *name,
					   enum master_type type);
/* master_type_name - "inet", "unix", ... */
const char *master_type_name(enum master_type t);
/* master_port_by_name - port of a builtin service name (smtp -> 25, ...), or -1 */
int master_port_by_name(const char *name);

/*
 * mastercf_service_config - the configuration a service runs with: base plus
 * its -o overrides (config_derive()), validated; findings carry master.cf's
 * file:line. Returns the derived config (free it before base), even when
 * diags got errors.
 */
struct config *mastercf_service_config(struct config *base, const struct master_service *svc,
				       struct diag_list *diags);

#endif
