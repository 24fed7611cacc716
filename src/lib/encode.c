/*
 * encode.c - hex and base64 encoding of binary data into bounded buffers
 *
 * API:      hex_encode(), hex_decode(), base64_encode(), base64_decode() -- see encode.h
 * Tests:    tests/unit/test_encode.c
 * Refs:     RFC 4648; OpenSSL EVP_EncodeBlock(3)
 */
#include <string.h>

#include <openssl/evp.h>

#include "encode.h"

/* hex_encode - append 2*n lower-case hex digits */
int hex_encode(struct buf *b, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	if (n > ((size_t)-1) / 2 || buf_reserve(b, 2 * n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		b->data[b->len++] = digits[s[i] >> 4];
		b->data[b->len++] = digits[s[i] & 15];
	}
	b->data[b->len] = '\0';
	return 0;
}

/* hexval - the value of one hex digit, or -1 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex_decode - append the bytes of an even-length hex string */
int hex_decode(struct buf *b, const char *s, size_t n)
{
	size_t i, start = b->len;

	if (n % 2 != 0 || buf_reserve(b, n / 2) < 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0) {
			buf_truncate(b, start);
			return -1;
		}
		b->data[b->len++] = (char)(hi << 4 | lo);
	}
	b->data[b->len] = '\0';
	return 0;
}

/* base64_encode - append the padded base64 form of p[0..n) */
int base64_encode(struct buf *b, const void *p, size_t n)
{
	size_t out;

	if (n > (size_t)1 << 28)
		return -1;
	out = (n + 2) / 3 * 4;
	if (buf_reserve(b, out) < 0)
		return -1;
	/* EVP_EncodeBlock writes out bytes and a NUL */
	EVP_EncodeBlock((unsigned char *)b->data + b->len, p, (int)n);
	b->len += out;
	b->data[b->len] = '\0';
	return 0;
}

/* is_b64 - is c a base64 alphabet character (not padding)? */
static int is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

/* base64_decode - append the bytes of a padded base64 string */
int base64_decode(struct buf *b, const char *s, size_t n)
{
	size_t i, pad = 0, out;
	int got;

	if (n % 4 != 0 || n > (size_t)1 << 28)
		return -1;
	/* strict alphabet: padding only in the last two positions, nothing after it */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '=') {
			if (i < n - 2)
				return -1;
			pad++;
		} else if (!is_b64(c) || pad > 0) {
			return -1;
		}
	}
	out = n / 4 * 3;
	if (buf_reserve(b, out) < 0)
		return -1;
	if (n == 0)
		return 0;
	got = EVP_DecodeBlock((unsigned char *)b->data + b->len, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != out)
		return -1;
	/* EVP_DecodeBlock counts the bytes that padding stands for: drop them */
	b->len += out - pad;
	b->data[b->len] = '\0';
	return 0;
}
