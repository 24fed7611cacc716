/*
 * login-private.h - what login.c and login_tls.c share inside the login layer
 */
#ifndef POSTERN_LOGIN_PRIVATE_H
#define POSTERN_LOGIN_PRIVATE_H

#include <openssl/ssl.h>

struct dconf;

/* login_tls_ctx - the server TLS context from dovecot.conf; NULL when TLS is off (fatal on bad files) */
SSL_CTX *login_tls_ctx(const struct dconf *dc);

#endif
