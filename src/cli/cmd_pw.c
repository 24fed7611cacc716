/*
 * cmd_pw.c - `postern pw`: make or test password hashes (Dovecot's `doveadm pw`, `dovecotpw`)
 *
 *   postern pw [-l] [-s SCHEME] [-u USER] [-p PASSWORD] [-r ROUNDS] [-t HASH] [-V]
 *
 *   -l        list the schemes, on one line
 *   -s        scheme (default SHA512-CRYPT); a .HEX/.B64 suffix picks the encoding
 *   -u        user name, for schemes that hash it in (DIGEST-MD5)
 *   -p        the password; without it, it is read twice from the terminal
 *             without echo ("Enter new password:", "Retype new password:"), or
 *             once per line from standard input when that is not a terminal
 *   -r        rounds / cost for crypt, PBKDF2, SCRAM and Argon2 schemes
 *   -t HASH   test: does the password match HASH? prints "HASH (verified)" and
 *             exits 0, or says "password mismatch" and exits 1
 *   -V        verify the new hash before printing it, adding " (verified)"
 *
 * Exit codes as every postern command: 0 ok, 1 mismatch, 2 usage or bad input.
 *
 * Tests:    tests/e2e/test_pw.py
 * Refs:     doveadm-pw(1)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "libmail/pwscheme.h"
#include "cli/cli.h"
#include "lib/buf.h"

/* read_secret - one line from stdin (echo off when it is a terminal) into out; 0, or -1 at EOF */
static int read_secret(const char *prompt, char *out, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) == 1;
	size_t n;
	int rc = 0;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	if (fgets(out, (int)size, stdin) == NULL)
		rc = -1;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (rc == 0) {
		n = strlen(out);
		if (n && out[n - 1] == '\n')
			out[--n] = '\0';
		else if (n == size - 1)
			rc = -1; /* longer than the buffer: never use a cut password */
		if (n && out[n - 1] == '\r')
			out[--n] = '\0';
	}
	return rc;
}

/* list_schemes - print every scheme name on one line */
static void list_schemes(void)
{
	const char *const *n;

	for (n = pw_scheme_names(); *n; n++)
		printf("%s%s", *n, n[1] ? " " : "\n");
}

int cmd_pw(struct cli *cli, int argc, char **argv)
{
	const char *scheme = NULL, *user = NULL, *test = NULL, *error = NULL;
	char *password = NULL;
	static char line1[PW_PASSWORD_MAX + 2], line2[PW_PASSWORD_MAX + 2];
	bool list = false, verify = false;
	unsigned long rounds = 0;
	struct buf out = BUF_INIT(PW_PASSWORD_MAX * 2 + 512);
	int opt, rc = EXIT_OK, r;
	char *end;

	optind = 1;
	while ((opt = getopt(argc, argv, "+ls:u:p:r:t:V")) != -1) {
		switch (opt) {
		case 'l':
			list = true;
			break;
		case 's':
			scheme = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'p':
			password = optarg;
			break;
		case 'r':
			rounds = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' || rounds == 0 || rounds > 100000000)
				return cli_usage_error(cli, "-r wants a positive number of rounds, not \"%s\"", optarg);
			break;
		case 't':
			test = optarg;
			break;
		case 'V':
			verify = true;
			break;
		default:
			return cli_usage_error(cli, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, "unexpected argument \"%s\"", argv[optind]);
	if (list) {
		list_schemes();
		return EXIT_OK;
	}
	if (test == NULL && scheme == NULL)
		scheme = PW_DEFAULT_SCHEME;
	if (scheme != NULL && !pw_scheme_known(scheme)) {
		fprintf(stderr, "postern pw: unknown scheme \"%s\" (`postern pw -l` lists them)\n", scheme);
		return EXIT_USAGE;
	}
	if (test == NULL && pw_scheme_needs_user(scheme) && (user == NULL || *user == '\0')) {
		fprintf(stderr, "postern pw: scheme %s hashes the user name in: give it with -u USER\n", scheme);
		return EXIT_USAGE;
	}

	if (password == NULL) {
		if (read_secret(test ? "Enter password to verify: " : "Enter new password: ", line1, sizeof(line1)) < 0) {
			fprintf(stderr, "postern pw: no password given (or longer than %d bytes)\n", PW_PASSWORD_MAX);
			return EXIT_USAGE;
		}
		if (test == NULL) {
			if (read_secret("Retype new password: ", line2, sizeof(line2)) < 0 ||
			    strcmp(line1, line2) != 0) {
				OPENSSL_cleanse(line1, sizeof(line1));
				OPENSSL_cleanse(line2, sizeof(line2));
				fprintf(stderr, "postern pw: passwords don't match\n");
				return EXIT_USAGE;
			}
			OPENSSL_cleanse(line2, sizeof(line2));
		}
		password = line1;
	}
	if (*password == '\0') {
		fprintf(stderr, "postern pw: empty passwords are not allowed\n");
		return EXIT_USAGE;
	}

	if (test) {
		/* a bare hash is read in -s SCHEME (default CRYPT, as Dovecot's default_pass_scheme) */
		r = pw_verify(test, password, user, scheme, &error);
		if (r == 1) {
			printf("%s (verified)\n", test);
		} else if (r == 0) {
			fprintf(stderr, "postern pw: password mismatch\n");
			rc = EXIT_NOTFOUND;
		} else {
			fprintf(stderr, "postern pw: cannot verify the hash: %s\n", error);
			rc = EXIT_USAGE;
		}
	} else if (pw_generate(scheme, password, user, (unsigned)rounds, &out, &error) < 0) {
		fprintf(stderr, "postern pw: %s: %s\n", scheme, error);
		rc = EXIT_USAGE;
	} else if (verify && pw_verify(buf_cstr(&out), password, user, NULL, &error) != 1) {
		fprintf(stderr, "postern pw: reverse verification of the new hash failed: %s\n",
			error ? error : "password mismatch");
		rc = EXIT_USAGE;
	} else {
		printf("%s%s\n", buf_cstr(&out), verify ? " (verified)" : "");
	}
	OPENSSL_cleanse(line1, sizeof(line1));
	buf_free(&out);
	return rc;
}
