/*
 * login_tls.c - the OpenSSL server context of a login process, from dovecot.conf
 *
 * ssl = no: no context (no STLS, implicit-TLS listeners refuse to start).
 * ssl_cert / ssl_key: "<path" reads the file (Dovecot 2.x); the 1.x names
 * ssl_cert_file / ssl_key_file arrive here in that form (dovecot_conf.c).
 * ssl_min_protocol (default TLSv1.2), ssl_cipher_list, ssl_prefer_server_ciphers.
 *
 * Runs in:  login processes (mail_owner); the key comes on a descriptor the
 *           master opened as root ($POSTERN_SSL_KEY_FD), as Dovecot's master
 *           reads it for its logins; without it the login reads the file
 * API:      login_tls_ctx()
 * Tests:    tests/e2e/test_pop3.py (STLS, POP3S, TLS 1.1 refused)
 */
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "lib/log.h"
#include "libmail/dovecot_conf.h"
#include "login/login-private.h"

/* file_of - the path of a "<path" setting; NULL when empty */
static const char *file_of(const char *v)
{
	if (v == NULL || *v == '\0')
		return NULL;
	return *v == '<' ? v + 1 : v;
}

/* ssl_error - the last OpenSSL error as text */
static const char *ssl_error(void)
{
	static char msg[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, msg, sizeof(msg));
	return msg;
}

/* min_version - ssl_min_protocol as an OpenSSL version; 0 for ANY */
static int min_version(const char *v)
{
	static const struct {
		const char *name;
		int ver;
	} tab[] = {
		{ "SSLv3", SSL3_VERSION },     { "TLSv1", TLS1_VERSION },     { "TLSv1.1", TLS1_1_VERSION },
		{ "TLSv1.2", TLS1_2_VERSION }, { "TLSv1.3", TLS1_3_VERSION }, { "ANY", 0 },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].name, v) == 0)
			return tab[i].ver;
	return TLS1_2_VERSION;
}

/* login_tls_ctx - the server context; NULL when ssl = no or no certificate is set */
SSL_CTX *login_tls_ctx(const struct dconf *dc, int key_fd)
{
	const char *ssl = dconf_get(dc, DCONF_ssl), *cert = file_of(dconf_get(dc, DCONF_ssl_cert)),
		   *key = file_of(dconf_get(dc, DCONF_ssl_key));
	bool prefer = false;
	SSL_CTX *ctx;

	if (strcmp(ssl, "no") == 0)
		return NULL;
	if (cert == NULL || key == NULL) {
		log_warn("ssl = %s but ssl_cert or ssl_key is not set: TLS is not offered", ssl);
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		fatal("SSL_CTX_new: %s", ssl_error());
	if (!SSL_CTX_set_min_proto_version(ctx, min_version(dconf_get(dc, DCONF_ssl_min_protocol))))
		fatal("ssl_min_protocol: %s", ssl_error());
	if (!SSL_CTX_set_cipher_list(ctx, dconf_get(dc, DCONF_ssl_cipher_list)))
		fatal("ssl_cipher_list: %s", ssl_error());
	(void)dconf_parse_bool(dconf_get(dc, DCONF_ssl_prefer_server_ciphers), &prefer);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
					 (prefer ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		fatal("ssl_cert %s: %s", cert, ssl_error());
	if (key_fd >= 0) {
		/* the master's descriptor: its offset is shared with every earlier login */
		BIO *bio = lseek(key_fd, 0, SEEK_SET) == 0 ? BIO_new_fd(key_fd, BIO_CLOSE) : NULL;
		EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

		if (bio == NULL)
			close(key_fd);
		BIO_free(bio);
		if (pk == NULL || SSL_CTX_use_PrivateKey(ctx, pk) != 1)
			fatal("ssl_key %s: %s", key, ssl_error());
		EVP_PKEY_free(pk);
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		fatal("ssl_key %s: %s (the master could not open it, and neither can the login process)", key,
		      ssl_error());
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		fatal("ssl_key %s does not match ssl_cert %s", key, cert);
	return ctx;
}
