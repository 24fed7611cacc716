/*
 * encode.h - hex and base64 encoding of binary data into bounded buffers
 *
 * Base64 is RFC 4648 with padding (OpenSSL's EVP block coder underneath);
 * decoding is strict: no white space, length a multiple of four, padding only
 * at the end. Hex output is lower case; hex input accepts both cases.
 *
 * Tests:    tests/unit/test_encode.c
 * Refs:     RFC 4648
 */
#ifndef POSTERN_ENCODE_H
#define POSTERN_ENCODE_H

#include <stddef.h>

#include "buf.h"

/* hex_encode - append 2*n lower-case hex digits; 0, or -1 when b's maximum would be passed */
int hex_encode(struct buf *b, const void *p, size_t n);
/* hex_decode - append the bytes of an even-length hex string; 0, or -1 (bad digit, odd length, full) */
int hex_decode(struct buf *b, const char *s, size_t n);
/* base64_encode - append the padded base64 form of p[0..n); 0 or -1 (full) */
int base64_encode(struct buf *b, const void *p, size_t n);
/* base64_decode - append the bytes of a padded base64 string; 0, or -1 (malformed, full) */
int base64_decode(struct buf *b, const char *s, size_t n);

#endif
