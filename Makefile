# zstor: one Makefile, pkg-config for every library.
#   make            build zstor, zstor-master, the 0-db test double, the unit
#                   tests and the test tools
#   make check      install deps, build, run every test (plain and ASan+UBSan)
#   make demo       end-to-end demo on local directory backends
#   make bench      throughput and memory figures against single-core ceilings
#   make fuzz       libFuzzer harnesses (clang), each run FUZZ_SECONDS (10)
#   make deb        the Debian package (dpkg-deb, offline)
VERSION := 0.4.0
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SANBUILD ?= $(BUILD)-san
SAN     ?=

PKGS    := libevent_core libevent_extra hiredis libsodium snappy libisal libcjson libbsd-overlay libseccomp libcrypto
CC      ?= cc
WARN    := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
           -Wpointer-arith -Wcast-qual -Werror
HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
OPT     ?= -O2 -g
ifneq ($(SAN),)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
HARDEN  := -fstack-protector-strong
endif
CFLAGS  += -std=gnu11 -pthread $(OPT) $(WARN) $(HARDEN) -D_GNU_SOURCE -Ishared -Iipc -Iworkers -I$(BUILD)/gen \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LDFLAGS += -pthread $(if $(SAN),-fsanitize=address$(comma)undefined)
comma   := ,
# zstor runs as one process per request (0-db's hook starts one per file), so
# its start-up counts: it links in the libraries Debian ships archives of,
# which takes a start from about 5 ms of CPU to 2 (most of it was the dynamic
# linker's symbol lookups). libcrypto stays shared: security updates touch it
# most, and its archive defines names libisal calls (gf_mul), which the
# program's copy would take over; scripts/check-exports fails the link of any
# program that would do that. zstor does not link it at all: it loads it when
# a command first needs AES-GCM (client/evp_lazy.c), which no command through
# the daemon does; loading it was two-thirds of a start's CPU. Nor snappy: the
# archive Debian ships compresses at half the rate of its shared library, so
# zstor loads that when a command first frames or unframes
# (client/snappy_lazy.c; shared/snappy_api.h says more). libisal and libcjson
# ship no archive. The daemon starts once and links everything shared.
# STATIC_CLIENT= links zstor shared.
STATIC_CLIENT ?= $(if $(SAN)$(FUZZ),,1)
STATIC_PKGS := libevent_core libevent_extra hiredis libsodium libseccomp
CLIENT_PKGS := $(filter-out libcrypto snappy,$(PKGS))
CLIENT_LDLIBS := $(if $(STATIC_CLIENT),-Wl$(comma)-Bstatic \
	$(shell pkg-config --libs $(STATIC_PKGS) 2>/dev/null) -Wl$(comma)-Bdynamic \
	$(shell pkg-config --libs $(filter-out $(STATIC_PKGS),$(CLIENT_PKGS)) 2>/dev/null) -lm,\
	$(shell pkg-config --libs $(CLIENT_PKGS) 2>/dev/null) -lm)
# Fuzzing: the engine built with clang, ASan and UBSan and libFuzzer's coverage.
FUZZBUILD    ?= $(BUILD)-fuzz
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 10
# fuzz_zdb's values are a few bytes: the fuzz build reads every value the way
# the others read large ones (shared/zdb_bulk.h).
ifneq ($(FUZZ),)
CFLAGS  += -fsanitize=fuzzer-no-link -DZBULK_MIN=1
endif

# Short build lines; V=1 shows the full commands.
say      = $(if $(V),,@printf '  %-3s %s\n' $(1) $(2);)

SHARED_SRC := $(wildcard shared/*.c ipc/*.c workers/sandbox.c)
CLIENT_SRC := $(wildcard client/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
ZDBD_SRC   := $(wildcard tests/zdbd/*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
# The daemon: supervisor and worker roles in one program (workers are exec'd as
# "zstor-master --worker ROLE"); the sandbox lives in the library for its tests.
MASTER_SRC := $(wildcard supervisor/*.c) \
              $(filter-out workers/sandbox.c,$(wildcard workers/*.c))
MASTER_OBJ := $(MASTER_SRC:%.c=$(BUILD)/%.o)

SHARED_OBJ := $(SHARED_SRC:%.c=$(BUILD)/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
LIB        := $(BUILD)/libzstor.a
MSG_TYPES  := $(BUILD)/gen/msg_types.h

PROGS := $(BUILD)/zstor $(BUILD)/zstor-master

all: $(PROGS) $(BUILD)/zdbd-double $(UNIT_BIN) $(TOOL_BIN)

# -V: the version everywhere, the commit and library versions in version.o,
# which is rebuilt when the commit changes (a stamp keeps the rest as it is).
COMMIT   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
CFLAGS   += -DZSTOR_VERSION='"$(VERSION)"'
$(BUILD)/shared/version.o: CFLAGS += -DZSTOR_COMMIT='"$(COMMIT)"' \
	-DZSTOR_BUILT_WITH='"$(foreach p,snappy libisal,$(p) $(shell pkg-config --modversion $(p) 2>/dev/null))"'
$(BUILD)/shared/version.o: $(BUILD)/commit
$(BUILD)/commit: FORCE
	@mkdir -p $(dir $@)
	@echo '$(COMMIT)' | cmp -s - $@ || echo '$(COMMIT)' >$@

$(BUILD)/%.o: %.c | $(MSG_TYPES)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# enum msg_type: the ids of the message table in ipc/msg.c, generated from it.
$(MSG_TYPES): ipc/msg.c scripts/msg-types.awk
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)awk -f scripts/msg-types.awk ipc/msg.c >$@.tmp && mv $@.tmp $@

$(LIB): $(SHARED_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(BUILD)/zstor: $(CLIENT_OBJ) $(LIB)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $(CLIENT_OBJ) $(LIB) $(CLIENT_LDLIBS)
	$(if $(STATIC_CLIENT),@scripts/check-exports $@,@:)

$(BUILD)/zstor-master: $(MASTER_OBJ) $(LIB)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $(MASTER_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/zdbd-double: $(ZDBD_SRC:%.c=$(BUILD)/%.o) $(LIB)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/t.o $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $(filter-out $(LIB),$^) $(LIB) $(LDLIBS)

# Test and benchmark helpers: one program per file, linked with the engine.
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%.o: CFLAGS += -Itests/unit -Isupervisor

# The 0-db-fs stand-in is a FUSE file system (libfuse3), not an engine tool.
$(BUILD)/tools/zdbfs-stub: $(BUILD)/tests/tools/zdbfs-stub.o
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $< \
	    $(shell pkg-config --libs fuse3)
$(BUILD)/tests/tools/zdbfs-stub.o: CFLAGS += $(shell pkg-config --cflags fuse3)

# The scheduler's test links sched.c itself, with stand-ins for the rest of
# the master.
$(BUILD)/tests/test_sched: $(BUILD)/supervisor/sched.o
# The metrics registry and the master's table of metrics, alone.
$(BUILD)/tests/test_metrics: $(BUILD)/supervisor/metrics.o \
    $(BUILD)/supervisor/metrics_table.o

# One libFuzzer program per tests/fuzz/fuzz_*.c (a new harness is picked up by
# name); seeds are made from tests/vectors/ into $(BUILD)/fuzz/seeds/.
fuzzers: $(FUZZ_BIN) $(BUILD)/fuzz/seeds/.made

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/fuzz.o $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ \
	    $(filter-out $(LIB),$^) $(LIB) $(LDLIBS)

$(BUILD)/fuzz/mkseeds: $(BUILD)/tests/fuzz/mkseeds.o $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/seeds/.made: $(BUILD)/fuzz/mkseeds $(wildcard tests/vectors/*.json)
	$(call say,GEN,$(BUILD)/fuzz/seeds)rm -rf $(dir $@) && $< tests/vectors $(dir $@) && touch $@

$(BUILD)/tests/fuzz/%.o: CFLAGS += -Itests/fuzz

# The metrics endpoint's harness runs the master's own HTTP server.
METRICS_HTTP_OBJ := $(addprefix $(BUILD)/supervisor/,metrics.o \
    metrics_table.o metrics_http.o)
$(BUILD)/fuzz/fuzz_http: $(METRICS_HTTP_OBJ)
$(BUILD)/tests/fuzz/fuzz_http.o: CFLAGS += -Isupervisor

fuzz: deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZBUILD) SAN=1 FUZZ=1 CC=$(FUZZ_CC) fuzzers
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-tests $(FUZZBUILD)

deps:
	@scripts/install-deps

# The plain build runs unit and integration tests; the sanitizer build runs them again.
# The three builds compile on every core: from a fresh clone they are a fifth of
# the run.
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(SANBUILD) SAN=1 all
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(FUZZBUILD) SAN=1 FUZZ=1 CC=$(FUZZ_CC) fuzzers
	@FUZZ_SECONDS=10 scripts/run-tests $(BUILD) $(SANBUILD) $(FUZZBUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench

# The libraries zstor links statically, as -l flags, for the package's
# Static-Built-Using (scripts/mkdeb).
static-libs:
	@echo $(if $(STATIC_CLIENT),$(shell pkg-config --libs-only-l $(STATIC_PKGS)))

MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= /lib/systemd/system
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BUILD)/zstor $(DESTDIR)$(PREFIX)/bin/zstor
	install -m 644 man/zstor.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 755 $(BUILD)/zstor-master $(DESTDIR)$(PREFIX)/bin/zstor-master
	install -m 644 man/zstor.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/zstor-master.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin|$(PREFIX)/bin|g' contrib/zstor-master.service \
		>$(DESTDIR)$(UNITDIR)/zstor-master.service
	install -d $(DESTDIR)$(SYSCONFDIR)/zstor
	install -m 644 contrib/zstor.toml.example $(DESTDIR)$(SYSCONFDIR)/zstor/

# The Debian package, built offline with dpkg-deb (scripts/mkdeb).
deb: $(PROGS)
	@scripts/mkdeb $(BUILD) $(BUILD)

clean:
	rm -rf $(BUILD) $(SANBUILD) $(FUZZBUILD)

FORCE:
.PHONY: all deps check demo bench install deb clean fuzz fuzzers static-libs FORCE
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
