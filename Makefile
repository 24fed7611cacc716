# Makefile - build, test, fuzz, install and demo-run Postern (GNU Make + pkg-config)
#
#   make            build build/postern (warnings are errors)
#   make check      install missing deps, build, run unit + e2e tests under ASan/UBSan, short fuzz runs
#   make run        install missing deps, build, generate a demo config and run it (see scripts/demo)
#   make fuzz       build the libFuzzer targets in build/fuzz/
#   make install    install into $(DESTDIR)$(PREFIX)
#   make clean
#
# Sources are picked up by wildcard: a new src/lib/*.c, src/libmail/*.c (the library), src/<service>/*.c
# (linked into the postern binary), tests/unit/test_*.c or fuzz/fuzz_*.c needs no Makefile change.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
FUZZCC  ?= clang
PYTHON  ?= /usr/bin/python3
PKGS    := libcdb libevent_core libevent_openssl libssl libcrypto libcrypt libargon2

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcdb)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
           -Wvla -Wpointer-arith -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) -Isrc $(PKG_CFLAGS) $(CFLAGS)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC     := $(sort $(wildcard src/lib/*.c) $(wildcard src/libmail/*.c))
# the postern binary: the command (src/cli) and every service folder (src/smtpd, src/queue, ...)
CLI_SRC     := $(sort $(filter-out src/lib/% src/libmail/%,$(wildcard src/*/*.c)))
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC    := $(sort $(wildcard fuzz/fuzz_*.c))
HDRS        := $(wildcard src/*/*.h) $(wildcard src/*/*.def)

B  := build
BS := build/san
BF := build/fuzz

LIB_OBJ     := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ     := $(CLI_SRC:%.c=$(B)/obj/%.o)
LIB_OBJ_SAN := $(LIB_SRC:%.c=$(BS)/obj/%.o)
CLI_OBJ_SAN := $(CLI_SRC:%.c=$(BS)/obj/%.o)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BS)/tests/%)
FUZZ_BIN    := $(FUZZ_SRC:fuzz/%.c=$(BF)/%)

.PHONY: all check run fuzz install clean deps unit e2e fuzz-run san
all: $(B)/postern

deps:
	@scripts/install-deps

# --- normal build ---------------------------------------------------------------------
$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libpostern.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/postern: $(CLI_OBJ) $(B)/libpostern.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(B)/libpostern.a $(PKG_LIBS)

# --- sanitizer build (what the tests run) -----------------------------------------------
$(BS)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c $< -o $@

$(BS)/libpostern.a: $(LIB_OBJ_SAN)
	@rm -f $@
	ar rcs $@ $^

$(BS)/postern: $(CLI_OBJ_SAN) $(BS)/libpostern.a
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $(CLI_OBJ_SAN) $(BS)/libpostern.a $(PKG_LIBS)

# service code without main(), so unit tests can exercise it too
SVC_OBJ_SAN := $(filter-out $(BS)/obj/src/cli/postern.o,$(CLI_OBJ_SAN))
$(BS)/libpostern-svc.a: $(SVC_OBJ_SAN)
	@rm -f $@
	ar rcs $@ $^

$(BS)/tests/%: tests/unit/%.c tests/unit/unit.h $(BS)/libpostern-svc.a $(BS)/libpostern.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) $(shell pkg-config --cflags cmocka) -Itests/unit -o $@ $< \
		$(BS)/libpostern-svc.a $(BS)/libpostern.a $(PKG_LIBS) $(shell pkg-config --libs cmocka)

san: $(BS)/postern $(UNIT_BIN)

# --- fuzzing (clang libFuzzer) ---------------------------------------------------------
# the library is compiled once (instrumented, not linked with the fuzzer's main), then each target
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -Isrc $(PKG_CFLAGS)
LIB_OBJ_FUZZ := $(LIB_SRC:%.c=$(BF)/obj/%.o)
$(BF)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZCC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BF)/libpostern.a: $(LIB_OBJ_FUZZ)
	@rm -f $@
	ar rcs $@ $^

$(BF)/%: fuzz/%.c $(BF)/libpostern.a $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZCC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(BF)/libpostern.a $(PKG_LIBS)

fuzz: $(FUZZ_BIN)

# --- tests ----------------------------------------------------------------------------
check: deps
	@$(MAKE) --no-print-directory all san fuzz
	@POSTERN_BIN=$(abspath $(BS)/postern) PYTHON=$(PYTHON) FUZZ_SECONDS=$${FUZZ_SECONDS:-15} \
		scripts/run-tests $(UNIT_BIN) -- $(FUZZ_BIN)

# --- demo ------------------------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(abspath $(B)/postern)

# --- install ---------------------------------------------------------------------------
install: $(B)/postern
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/postern
	install -m 0755 $(B)/postern $(DESTDIR)$(PREFIX)/sbin/postern
	install -m 0644 docs/postern.1 $(DESTDIR)$(PREFIX)/share/man/man1/postern.1
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/postern/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/sbin/postern|$(PREFIX)/sbin/postern|g' docs/postern.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/postern.service

clean:
	rm -rf $(B)
