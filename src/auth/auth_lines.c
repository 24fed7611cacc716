/*
 * auth_lines.c - read auth protocol lines from a bufferevent
 *
 * Runs in:  the auth service and the client libraries; input is UNTRUSTED
 * API:      auth_lines.h
 * Limits:   AUTHPROTO_LINE_MAX a line, AUTHPROTO_FIELDS_MAX fields
 * Tests:    tests/unit/test_auth_client.c, tests/e2e/test_auth.py
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "auth/auth_lines.h"
#include "libmail/authproto.h"

/* auth_lines - split each complete line and hand it to fn */
int auth_lines(struct bufferevent *bev, auth_line_fn *fn, void *ctx, const char **error_r)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line, *f[AUTHPROTO_FIELDS_MAX];
	size_t len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		int n = len > AUTHPROTO_LINE_MAX ? -1 : authproto_split(line, len, f, AUTHPROTO_FIELDS_MAX, error_r);
		bool go = n >= 0 && fn(ctx, f, n);

		if (len > AUTHPROTO_LINE_MAX)
			*error_r = "line too long";
		explicit_bzero(line, len);
		free(line);
		if (n < 0)
			return -1;
		if (!go)
			return 0;
	}
	if (evbuffer_get_length(in) > AUTHPROTO_LINE_MAX) {
		*error_r = "line too long";
		return -1;
	}
	return 1;
}
