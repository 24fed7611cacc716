/*
 * dovecot_conf-private.h - helpers shared by the dovecot.conf parser and model files only
 *
 * Tests:    tests/unit/test_dovecot_conf.c (through dovecot_conf.h)
 */
#ifndef POSTERN_DOVECOT_CONF_PRIVATE_H
#define POSTERN_DOVECOT_CONF_PRIVATE_H

#include "libmail/dovecot_conf.h"

/* dconf_service_make - the service called name, appended (at file:line) when missing */
struct dconf_service *dconf_service_make(struct dconf *cf, const char *name, const char *file, int line);
/* dconf_listener_make - the inet_listener name of svc, appended with port and ssl unset when missing */
struct dconf_listener *dconf_listener_make(struct dconf *cf, struct dconf_service *svc, const char *name,
					   const char *file, int line);

#endif
