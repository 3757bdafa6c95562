# exitwatch: eBPF container exit tracer.  `make help` lists the targets.
#
# The BPF object is compiled with clang, turned into a libbpf skeleton and embedded in one
# binary, build/exitwatch.  Only the loader (src/ingest/loader*.c) sees the skeleton and libbpf,
# so every other module and its unit tests build without clang, bpftool or root.

BUILD	?= build
OUTPUT	?= $(BUILD)/obj
BIN	:= $(BUILD)/exitwatch
PREFIX	?= /usr/local
CLANG	?= clang
CC	?= cc
BPFTOOL	?= $(firstword $(shell command -v bpftool 2>/dev/null) \
		$(wildcard /usr/sbin/bpftool /usr/lib/linux-tools/*/bpftool) bpftool)
# Debian's and Ubuntu's llvm package has llvm-strip; a lone llvm-N has only llvm-strip-N.
LLVM_STRIP ?= $(firstword $(shell command -v llvm-strip 2>/dev/null) \
		$(wildcard /usr/bin/llvm-strip-* /usr/lib/llvm-*/bin/llvm-strip) llvm-strip)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH	?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION	?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
SANITIZE ?=
DEBUG	?= 0

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-9s %s\n' "$(1)" "$(2)";
endif

PKGS	:= libbpf json-c libmicrohttpd libcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -ljson-c -lmicrohttpd -lcap)
# The core library (everything but the loader and the agent's run loop) needs only these.
CORE_PKGS := json-c libmicrohttpd
CORE_LIBS := $(shell pkg-config --libs $(CORE_PKGS) 2>/dev/null || echo -ljson-c -lmicrohttpd) -lm
# Messages and labels are deliberately bounded: snprintf truncation is intended, not a bug.

# Link-time optimisation: the record path crosses a dozen small modules (the JSON writer, the
# map, the renderers), and inlining across them cut its instructions by 4.5% (docs/benchmarks.md).
# LTO= builds without it (everything is rebuilt for it: see FLAGS_STAMP below).
# Sanitizer builds go without: they test the code, not the binary shipped, and link faster.
ifeq ($(SANITIZE),)
LTO	?= -flto=auto
endif
CFLAGS	?= -O2 -g
CFLAGS	+= $(LTO)
LDFLAGS	+= $(LTO)
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	   -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation -MMD -MP \
	   -Iinclude -Isrc -I$(OUTPUT) $(PKG_CFLAGS)
LDLIBS	+= $(PKG_LIBS) -lelf -lz -lm
ifneq ($(SANITIZE),)
CFLAGS	+= -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=$(SANITIZE)
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(OUTPUT) -Wall -Werror
ifeq ($(DEBUG),1)
BPF_CFLAGS += -DEW_BPF_DEBUG
endif

# `make` builds the binary: the rules below come before `all:`, and the first target would be the
# default goal.
.DEFAULT_GOAL := all

# The flags every object is compiled and linked with, kept in a file that changes only when they
# do: objects depend on it, so a build with other flags (LTO=, CFLAGS=, SANITIZE=) rebuilds them
# all instead of linking objects of two kinds. The version is not among them (it changes with
# every commit): only the two objects that print it depend on VERSION_STAMP.
FLAGS_STAMP := $(OUTPUT)/flags.stamp
VERSION_STAMP := $(OUTPUT)/version.stamp
FLAGS_NOW := $(CC) $(CFLAGS) | $(LDFLAGS) | $(LDLIBS)
ifeq ($(filter clean help format,$(MAKECMDGOALS)),)
$(shell mkdir -p $(OUTPUT))
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_NOW))
$(file >$(FLAGS_STAMP),$(FLAGS_NOW))
endif
ifneq ($(file <$(VERSION_STAMP)),$(VERSION))
$(file >$(VERSION_STAMP),$(VERSION))
endif
endif
VERSION_OBJS := $(OUTPUT)/agent/agent.o $(OUTPUT)/cli/args.o
$(VERSION_OBJS): CFLAGS += -DEW_VERSION='"$(VERSION)"'
$(VERSION_OBJS): $(VERSION_STAMP)

SRCS	:= $(shell find src -name '*.c' | sort)
OBJS	:= $(patsubst src/%.c,$(OUTPUT)/%.o,$(SRCS))
# libbpf (the loader, which embeds the skeleton), libcap and the run loop that uses them go
# only into the binary: the core library, which the unit tests link, needs neither, and
# building it needs no clang or bpftool.
LOADER_OBJS := $(OUTPUT)/ingest/loader.o $(OUTPUT)/ingest/loader_mains.o
AGENT_OBJS := $(OUTPUT)/main.o $(LOADER_OBJS) $(OUTPUT)/agent/agent.o $(OUTPUT)/agent/caps.o
LIB_OBJS := $(filter-out $(AGENT_OBJS),$(OBJS))
LIB	:= $(OUTPUT)/libexitwatch.a
SKEL	:= $(OUTPUT)/exitwatch.skel.h

UNIT_SRCS := $(wildcard tests/test_*.c)
UNIT_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPF_TEST_SRCS := $(wildcard tests/bpf/test_*.c)
BPF_TEST_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPF_TEST_SRCS))
# Integration tests of single modules that need sockets, mounts or an external tool: run with
# the BPF tests, not with the unit tests.
INTEG_TEST_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_TEST_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_TEST_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))
# The test library (tests/harness/unit.h): the skip rule, scratch directories and loopback
# addresses, once for every test binary. An archive, so that each links only the parts it calls.
TESTLIB_SRCS := $(wildcard tests/harness/unit_*.c)
TESTLIB_OBJS := $(patsubst tests/%.c,$(OUTPUT)/tests/%.o,$(TESTLIB_SRCS))
TESTLIB	:= $(OUTPUT)/tests/libewtest.a
# The BPF tests' harness (tests/harness/harness.h): the agent, cgroups, container processes.
HARNESS_SRCS := $(filter-out $(TESTLIB_SRCS),$(wildcard tests/harness/*.c))
HARNESS_OBJS := $(patsubst tests/%.c,$(OUTPUT)/tests/%.o,$(HARNESS_SRCS))

.PHONY: all bpf test unit-test test-build run install uninstall clean format check \
	bench help
.PHONY: fuzz fuzz-build sanitize-test vmtest
all: $(BIN)

help:
	@echo 'make            build build/exitwatch (BPF object embedded)'
	@echo 'make test       unit tests, then as root the BPF, Docker and sink tests'
	@echo 'make unit-test  only the unit tests (no root, no clang needed)'
	@echo 'make run        build and run exitwatch (as root) with ARGS="..."'
	@echo 'make bench      side-by-side overhead benchmark, churn soak (root)'
	@echo 'make install PREFIX=/usr/local'
	@echo 'make format | check | clean;  V=1 shows full commands; SANITIZE=address,undefined;'
	@echo '                      LTO= builds without link-time optimisation (a change of flags rebuilds all)'
	@echo 'make sanitize-test   make test with ASan+UBSan, built into build-asan/'
	@echo 'make fuzz [FUZZ_SECONDS=20]   libFuzzer targets (clang 14) into build/fuzz/, run each'
	@echo 'make vmtest [KERNELS="5.10 6.1 6.12"]   the BPF tests in QEMU on each kernel (root)'

$(OUTPUT) $(OUTPUT)/tests/harness $(BUILD)/tests $(BUILD)/tests/bpf $(BUILD)/tests/helpers \
		$(BUILD)/tests/integration:
	$(Q)mkdir -p $@

# vmlinux.h: from the running kernel's BTF when it has one, else the checked-in copy, so an
# image build on a host without BTF still works. CO-RE relocates every access at load time.
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)if [ -n "$(VMLINUX_BTF)" ] && [ -r "$(VMLINUX_BTF)" ]; then \
		$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@; \
	elif [ -r bpf/vmlinux/$(ARCH)/vmlinux.h ]; then \
		cp bpf/vmlinux/$(ARCH)/vmlinux.h $@; \
	else \
		echo "no BTF at $(VMLINUX_BTF) and no bpf/vmlinux/$(ARCH)/vmlinux.h" >&2; exit 1; \
	fi

# -g makes the BTF that CO-RE relocates against; llvm-strip -g then drops the DWARF (.debug_*),
# about 90% of the object, and keeps .BTF and .BTF.ext, which the skeleton embeds and libbpf
# loads. The Makefile is a prerequisite so that a tree built before a flag changed is rebuilt.
$(OUTPUT)/exitwatch.bpf.o: bpf/exitwatch.bpf.c include/exitwatch/abi.h $(OUTPUT)/vmlinux.h Makefile
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(SKEL): $(OUTPUT)/exitwatch.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ew_bpf > $@

bpf: $(SKEL)

# Only the loader includes the skeleton, and test_loader, which reads the loader's counters in
# the skeleton's .bss where it plays a BPF program's delete.
$(LOADER_OBJS) $(OUTPUT)/tests/bpf/test_loader.o: $(SKEL)

$(OUTPUT)/%.o: src/%.c $(FLAGS_STAMP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(AGENT_OBJS) $(LIB) $(FLAGS_STAMP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(filter %.o %.a,$^) $(LDLIBS) -o $@

$(OUTPUT)/tests/%.o: tests/%.c $(FLAGS_STAMP) | $(OUTPUT)/tests/harness
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(TESTLIB): $(TESTLIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/test_%: $(OUTPUT)/tests/test_%.o $(TESTLIB) $(LIB) | $(BUILD)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(CORE_LIBS) -lcmocka -o $@

$(BUILD)/tests/bpf/test_%: $(OUTPUT)/tests/bpf/test_%.o $(HARNESS_OBJS) $(TESTLIB) $(LIB) \
		| $(BUILD)/tests/bpf
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -lpthread -o $@

# test_loader tests the loader itself: the one BPF test that links it (and through it libbpf).
# It wraps bpf_map_update_elem() to play a BPF program's delete inside a race window of µs.
$(BUILD)/tests/bpf/test_loader: $(OUTPUT)/tests/bpf/test_loader.o $(LOADER_OBJS) \
		$(HARNESS_OBJS) $(TESTLIB) $(LIB) | $(BUILD)/tests/bpf
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -Wl,--wrap=bpf_map_update_elem $^ $(LDLIBS) -lcmocka -lpthread -o $@

$(BUILD)/tests/integration/test_%: $(OUTPUT)/tests/integration/test_%.o $(TESTLIB) $(LIB) \
		| $(BUILD)/tests/integration
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(CORE_LIBS) -lcmocka -o $@

# Workloads the integration tests run as container main processes: static, so they also run
# inside the busybox test image.
$(BUILD)/tests/helpers/%: tests/helpers/%.c | $(BUILD)/tests/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -Werror -static -pthread $< -o $@

test-build: $(BIN) $(UNIT_BINS) $(BPF_TEST_BINS) $(INTEG_TEST_BINS) $(HELPER_BINS)

unit-test: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

# Unit tests first (no privileges), then the tests that need root and real parts. BUILD tells
# the scripts (and through them the harness) whose binaries to run. Both list their skips in
# one log, which run-integration.sh prints last ("SKIPPED: ...").
test: test-build
	$(Q)rm -f $(BUILD)/test-skips.log
	$(Q)BUILD=$(BUILD) EW_SKIP_LOG=$(abspath $(BUILD))/test-skips.log \
		tests/run-unit.sh $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) EW_SKIP_LOG=$(abspath $(BUILD))/test-skips.log tests/run-integration.sh

# The whole suite under ASan+UBSan, in its own tree: build/ is left as it is.
sanitize-test:
	$(Q)$(MAKE) test SANITIZE=address,undefined BUILD=build-asan

# The kernel matrix: each kernel boots in QEMU from an initramfs of this tree's binaries and
# runs the BPF integration tests (scripts/vmtest/run.sh says which and why). KERNELS picks some.
KERNELS ?=
vmtest: test-build
	$(Q)BUILD=$(BUILD) KERNELS="$(KERNELS)" scripts/vmtest/run.sh

# libFuzzer targets for the parsers of hostile input (tests/fuzz/). The library is compiled
# again with clang and the sanitizers; the loader (libbpf, the skeleton) and the two files that
# call it are left out, which no parser needs.
FUZZ_CC	?= clang-14
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := cgroup meta config state replay runtime_log
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes \
	-Wmissing-prototypes -MMD -MP -Iinclude -Isrc -Itests $(PKG_CFLAGS) \
	-DEW_VERSION='"$(VERSION)"'
FUZZ_SRCS := $(filter-out src/ingest/loader.c src/ingest/loader_mains.c src/agent/agent.c \
	src/agent/caps.c src/main.c,$(SRCS))
FUZZ_OBJS := $(patsubst src/%.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRCS))
FUZZ_LIB := $(FUZZ_DIR)/libexitwatch-fuzz.a
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

$(FUZZ_DIR)/obj/%.o: src/%.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_LIB) $(PKG_LIBS) -lm -o $@

fuzz-build:
	$(Q)test -e "$$($(FUZZ_CC) -print-file-name=libclang_rt.fuzzer-$(shell uname -m).a)" || \
		{ echo "no libFuzzer for $(FUZZ_CC): apt-get install libclang-rt-14-dev" \
			"(scripts/deps.sh test)" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BINS)

# Each target for FUZZ_SECONDS from a copy of its seeds; any crash, leak or timeout fails.
fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

run: $(BIN)
	$(Q)scripts/run.sh $(ARGS)

bench: $(BIN)
	$(Q)bench/run.sh

install: $(BIN)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/sbin/exitwatch)
	$(Q)install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/exitwatch
	$(Q)install -D -m 0644 deploy/exitwatch.conf $(DESTDIR)$(PREFIX)/share/exitwatch/exitwatch.conf.example

uninstall:
	$(Q)rm -f $(DESTDIR)$(PREFIX)/sbin/exitwatch
	$(Q)rm -rf $(DESTDIR)$(PREFIX)/share/exitwatch

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^bpf/vmlinux/')

# The layering README.md states (includes point down, no module cycles), then lint and format.
check: $(OBJS)
	$(Q)python3 scripts/check-layers.py $(OUTPUT)
	$(Q)git apply --check bench/floor.patch || \
		{ echo "bench/floor.patch no longer applies to src/agent/agent.c: update it" >&2; exit 1; }
	$(Q)t=$$(mktemp -d) && mkdir -p $$t/src/agent && cp src/agent/pipeline.c $$t/src/agent/ && \
		(cd $$t && git apply $(CURDIR)/bench/norender.patch && git apply $(CURDIR)/bench/nodetect.patch); \
		r=$$?; rm -rf $$t; [ $$r = 0 ] || \
		{ echo "bench/norender.patch, then bench/nodetect.patch, no longer apply to src/agent/pipeline.c: update them" >&2; exit 1; }
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		-Iinclude -Isrc -I$(OUTPUT) --suppress=missingIncludeSystem src
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' | grep -v '^bpf/vmlinux/')

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

.DELETE_ON_ERROR:
.SECONDARY:

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)
