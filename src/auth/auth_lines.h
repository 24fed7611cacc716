/*
 * auth_lines.h - read auth protocol lines from a bufferevent (both ends of both sockets)
 *
 * Runs in:  the auth service and the client libraries (auth_client.c, auth_master.c)
 * Tests:    tests/unit/test_auth_client.c, tests/e2e/test_auth.py
 */
#ifndef POSTERN_AUTH_LINES_H
#define POSTERN_AUTH_LINES_H

#include <stdbool.h>

struct bufferevent;

/*
 * a handler of one split line (fields already unescaped); false: stop reading
 * (the connection was closed or freed: the caller must not touch it)
 */
typedef bool auth_line_fn(void *ctx, char **fields, int n);

/*
 * auth_lines - hand every complete line of bev's input to fn, in order.
 * 1: all read; 0: fn said stop; -1 with *error_r: a line longer than
 * AUTHPROTO_LINE_MAX or malformed (the caller closes the connection). Each
 * line is wiped after fn returns (it may carry a password).
 */
int auth_lines(struct bufferevent *bev, auth_line_fn *fn, void *ctx, const char **error_r);

#endif
