/*
 * uidlist.h - the dovecot-uidlist file of a Maildir: IMAP UIDs of its messages
 *
 * Version 3 (Dovecot 1.1+), which Postern reads and writes:
 *
 *     3 V<uidvalidity> N<next uid> G<mailbox guid, 32 hex digits> [other header fields]
 *     <uid> [<key><value> ...] :<file base name>
 *
 * The base name is the Maildir file name without its ":2,FLAGS" info part; the
 * keyed fields are W (virtual size: the size with CRLF line ends), S (file
 * size), G (message guid), M (modseq), and any other letter, kept as given.
 * Version 1 (Courier's courierimapuiddb, "1 <uidvalidity> <next uid>" and
 * "<uid> <file name>") is read too; writing always produces version 3.
 * UIDs must increase line by line and stay below the next uid; a name may
 * appear once. Parsing and formatting are pure; the mail store does the
 * locking (dovecot-uidlist.lock) and the atomic rewrite.
 *
 * Runs in:  the mail session processes (as the mail user)
 * API:      uidlist_parse(), uidlist_new(), uidlist_format(), uidlist_add(),
 *           uidlist_find_name(), uidlist_find_uid(), uidlist_field(), uidlist_free()
 * Limits:   UIDLIST_LINE_MAX bytes a line, UIDLIST_RECS_MAX records
 * Tests:    tests/unit/test_uidlist.c (the Maildir Dovecot served, in shared/vectors),
 *           fuzz/fuzz_uidlist.c
 * Refs:     Dovecot's Maildir documentation ("IMAP UID mapping"), RFC 3501 section 2.3.1.1
 */
#ifndef POSTERN_UIDLIST_H
#define POSTERN_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define UIDLIST_LINE_MAX 8192
#define UIDLIST_RECS_MAX 10000000u

struct uidlist_rec {
	uint32_t uid;
	const char *name;   /* base file name */
	const char *fields; /* the keyed fields as written ("W491 S474"), "" when none */
};

struct uidlist {
	unsigned version;     /* 1 or 3 as read; 3 for a new list */
	uint32_t uidvalidity; /* never 0 */
	uint32_t next_uid;    /* > every uid */
	char guid[33];        /* 32 hex digits, "" when unknown (version 1) */
	const char *header_extra; /* other header fields, kept as given ("" when none) */
	struct uidlist_rec *recs; /* ascending uid */
	size_t n;
	/* private */
	size_t cap;
	struct arena *a;
	struct htab *names;
};

/*
 * uidlist_parse - parse a file's bytes; NULL when malformed, with *error_r and
 * the line number in *line_r (0 when the error is not tied to a line)
 */
struct uidlist *uidlist_parse(const char *text, size_t n, unsigned *line_r, const char **error_r);
/* uidlist_new - an empty version 3 list with this uidvalidity and guid (32 hex digits) */
struct uidlist *uidlist_new(uint32_t uidvalidity, const char *guid);
/*
 * uidlist_add - give name the next uid (fields: "W491 S474" or ""). Returns the
 * uid, or 0 when the name is already listed, malformed (empty, ':' or space
 * or line breaks), or UIDs are exhausted.
 */
uint32_t uidlist_add(struct uidlist *l, const char *name, const char *fields);
/* uidlist_remove_uid - forget a record (an expunged message); true when it was there */
bool uidlist_remove_uid(struct uidlist *l, uint32_t uid);
/* uidlist_find_name - the record of a base name, or NULL */
const struct uidlist_rec *uidlist_find_name(const struct uidlist *l, const char *name);
/* uidlist_find_uid - the record of a uid (binary search), or NULL */
const struct uidlist_rec *uidlist_find_uid(const struct uidlist *l, uint32_t uid);
/* uidlist_field - the numeric value of keyed field key (e.g. 'W') of a record; false when absent */
bool uidlist_field(const struct uidlist_rec *r, char key, uint64_t *value);
/* uidlist_format - append the version 3 text of the list; 0 or -1 (out's maximum) */
int uidlist_format(const struct uidlist *l, struct buf *out);
/* uidlist_free - release; *lp = NULL */
void uidlist_free(struct uidlist **lp);

#endif
