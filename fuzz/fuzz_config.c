/*
 * fuzz_config.c - libFuzzer target: main.cf parse + expansion of every parameter, master.cf parse
 *
 * The input is used three ways: as main.cf (config_parse, then every known
 * and every explicitly set parameter expanded and read through the typed
 * getters), as master.cf (mastercf_parse, then each service's derived config),
 * and as free text expanded in the parsed config's context.
 * Build: make fuzz; run: build/fuzz/fuzz_config -dict=fuzz/config.dict fuzz/corpus/config
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "libmail/config.h"
#include "libmail/mastercf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const struct config_setting **set;
	const char *const *items;
	struct buf out = BUF_INIT(1 << 20);
	struct config *cfg, *svc;
	struct mastercf *m;
	const char *v, *err;
	char *text;
	size_t i, n, count;
	int64_t iv;
	bool bv;

	cfg = config_new("main.cf");
	config_set_max_value(cfg, 64 * 1024); /* keep doubling chains cheap */
	config_feed(cfg, (const char *)data, size, &dl);
	config_validate(cfg, &dl);
	for (i = 0; i < PARAM__COUNT; i++) {
		const char *name = param_table[i].name;

		/* the getter of the parameter's type, and (rotating) one of another type */
		(void)config_lookup(cfg, name, &v, &err);
		switch ((param_table[i].type + i) % 4) {
		case 0:
			(void)config_get_int(cfg, name, &iv, &err);
			break;
		case 1:
			(void)config_get_bool(cfg, name, &bv, &err);
			break;
		case 2:
			(void)config_get_time(cfg, name, &iv, &err);
			break;
		default:
			(void)config_get_list(cfg, name, &items, &count, &err);
			break;
		}
	}
	n = config_settings(cfg, &set);
	for (i = 0; i < n; i++) {
		(void)config_get(cfg, set[i]->name);
		(void)config_where(cfg, set[i]->name, NULL);
	}
	free(set);

	m = mastercf_parse((const char *)data, size, "master.cf", &dl);
	for (i = 0; i < m->n && i < 4; i++) {
		svc = mastercf_service_config(cfg, &m->v[i], &dl);
		(void)config_get(svc, "smtpd_banner");
		config_free(&svc);
	}
	mastercf_free(&m);

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	(void)config_expand_text(cfg, text, &out, &err);
	free(text);

	buf_free(&out);
	config_free(&cfg);
	diag_free(&dl);
	return 0;
}
