# SPDX-License-Identifier: GPL-2.0
#
# directmap: the repository's entry points.
#
#   make check   build the x86 and arm64 test kernels, run every suite,
#                print "N passed, N failed"
#   make demo    boot directmap=off and on, run one memfd_secret workload, compare
#                (make demo-arm64: the same on arm64)
#   make fuzz    the region cache policy under libFuzzer (FUZZ_SECONDS=60)
#   make sim     replay traces over a simulated 1 TiB direct map through the
#                stock, mainline and directmap policies (build/sim/)
#   make kunit-arm64-bbml2
#                arm64 KUnit in the BBML2 mode, on 6.12 unless KERNEL=7.2
#                (make check runs it on 7.2; on 6.12 only the gate builds
#                arm64, with directmap and without)
#   make kunit-i386
#                a 32-bit x86 (PAE) boot of the patched tree (directmap
#                itself is 64-bit), a minimal KUnit kernel (make check
#                runs it on 7.2)
#   make stress  the full reliability storm: 60 s on 4 vCPUs and 10,000
#                injected failures, under KASAN, lockdep and DEBUG_VM
#   make bench   the benchmarks with directmap off and on, side by side
#                (benchmarks/results/), in kernels without the debugging
#                options of the test kernels (build/kernel-perf, and
#                build/kernel-arm64-perf for arm64)
#   make record  traces of real workloads in the guest, for make sim
#                (tools/testing/directmap/harness/traces/)
#   make audit   set_memory/set_direct_map calls whose result is dropped,
#                before and after patches/KERNEL/ (build/audit/)
#   make series  the posting form of patches/KERNEL/post/*.series, signed off
#                by git config's identity, with To/Cc, and its gate
#                (build/series/KERNEL/)
#   make gate    every object that calls them or that the series changes
#                compiles with -Werror under x86_64 and arm64 defconfig and
#                allmodconfig, i386 allmodconfig and directmap's own
#                x86_64 and arm64 configurations (build/gate/)
#
# The kernel is Debian's linux-source-6.12 with patches/6.12/series applied
# and the overlay (mm/ include/ arch/ Documentation/ samples/) copied in,
# built once under build/ with ccache.  KERNEL=7.2 selects Debian sid's
# linux-source-7.2 (fetched into build/sid) and patches/7.2/ instead, in
# build directories of its own (build/linux-7.2, build/kernel-7.2, ...).

SHELL     := /bin/bash
REPO      := $(CURDIR)
BUILD     := $(REPO)/build
# The demo, the benchmarks and the posted series are the mainline base's
# unless KERNEL says otherwise
ifneq ($(filter demo demo-arm64 bench record series series-bisect,$(MAKECMDGOALS)),)
KERNEL    ?= 7.2
endif
KERNEL    ?= 6.12
export KERNEL
# 6.12's directories keep their names; another kernel's are suffixed
SUFFIX    := $(if $(filter 6.12,$(KERNEL)),,-$(KERNEL))
TREE      := $(BUILD)/linux$(SUFFIX)
KOBJ      := $(BUILD)/kernel$(SUFFIX)
GATE      := $(BUILD)/gate$(SUFFIX)
JOBS      ?= $(shell nproc)
FUZZ_SECONDS ?= 60
T         := $(REPO)/tools/testing/directmap
BZIMAGE   := $(KOBJ)/arch/x86/boot/bzImage
KOBJ_PERF := $(BUILD)/kernel-perf$(SUFFIX)
KOBJ_ARM64 := $(BUILD)/kernel-arm64$(SUFFIX)
IMAGE_ARM64 := $(KOBJ_ARM64)/arch/arm64/boot/Image.gz
KOBJ_ARM64_KASAN := $(BUILD)/kernel-arm64-kasan$(SUFFIX)
IMAGE_ARM64_KASAN := $(KOBJ_ARM64_KASAN)/arch/arm64/boot/Image.gz
BZIMAGE_PERF := $(KOBJ_PERF)/arch/x86/boot/bzImage
KOBJ_ARM64_PERF := $(BUILD)/kernel-arm64-perf$(SUFFIX)
IMAGE_ARM64_PERF := $(KOBJ_ARM64_PERF)/arch/arm64/boot/Image.gz

export CCACHE_DIR      ?= $(HOME)/.cache/ccache
export CCACHE_BASEDIR  := $(REPO)
export CCACHE_MAXSIZE  ?= 5G
# A miss costs one compile, not a preprocessor run and a compile: hashes
# come from the compiler's own dependency file (-Wp,-MMD)
export CCACHE_DEPEND   ?= 1
export KBUILD_BUILD_TIMESTAMP := directmap
export KBUILD_BUILD_USER := directmap
export KBUILD_BUILD_HOST := directmap

# The guests' machine, from the runners' one definition (qemu.py); expanded
# when used, after deps has installed python3
KUNIT_QEMU = $(or $(shell python3 $(T)/qemu.py kunit-args x86_64),$(error qemu.py kunit-args failed))

# the runner under TCG whatever /dev/kvm offers (tcg/qemu-system-*)
KUNIT := cd $(TREE) && PATH=$(T)/tcg:$$PATH python3 tools/testing/kunit/kunit.py
KUNIT_ARGS := --arch=x86_64 --build_dir=$(KOBJ) \
	--kunitconfig=$(T)/debug.kunitconfig \
	--kunitconfig=mm/directmap/.kunitconfig \
	--make_options CC="ccache gcc"
# arm64 (QEMU virt, TCG): one config for KUnit and the integration boots
KUNIT_ARGS_ARM64 := --arch=arm64 --cross_compile=aarch64-linux-gnu- \
	--build_dir=$(KOBJ_ARM64) --kunitconfig=$(T)/arm64.kunitconfig \
	--make_options CC="ccache aarch64-linux-gnu-gcc"
# GICv3 for pseudo-NMIs, on in the BBML2 mode's boot
KUNIT_QEMU_ARM64 = $(or $(shell python3 $(T)/qemu.py kunit-args arm64),$(error qemu.py kunit-args failed))
# The same kernel without KASAN, lockdep and fault injection, for timings
KUNIT_ARGS_PERF := --arch=x86_64 --build_dir=$(KOBJ_PERF) \
	--kunitconfig=mm/directmap/.kunitconfig \
	--make_options CC="ccache gcc"

.PHONY: series series-bisect run-series
.PHONY: all deps tree kernel kernel-perf kernel-arm64 kernel-arm64-perf kernel-arm64-kasan demo-arm64 check harness fuzz sim record kunit \
	integration demo stress bench audit gate run-gate clean

all: check

deps:
	@$(T)/install-deps.sh

tree: deps
	@$(T)/prepare-tree.sh $(REPO) $(TREE) $(KERNEL)

kernel: tree
	@mkdir -p $(BUILD)/logs
	@echo "  BUILD   kernel (log: $(BUILD)/logs/kernel-build.log)"
	@$(KUNIT) build $(KUNIT_ARGS) --jobs=$(JOBS) > $(BUILD)/logs/kernel-build.log 2>&1 || \
		{ tail -50 $(BUILD)/logs/kernel-build.log; exit 1; }
	@echo "  KERNEL  $(BZIMAGE)"

kernel-perf: tree
	@mkdir -p $(BUILD)/logs
	@echo "  BUILD   kernel-perf (log: $(BUILD)/logs/kernel-perf-build.log)"
	@$(KUNIT) build $(KUNIT_ARGS_PERF) --jobs=$(JOBS) > $(BUILD)/logs/kernel-perf-build.log 2>&1 || \
		{ tail -50 $(BUILD)/logs/kernel-perf-build.log; exit 1; }
	@echo "  KERNEL  $(BZIMAGE_PERF)"

kernel-arm64: tree
	@mkdir -p $(BUILD)/logs
	@echo "  BUILD   kernel-arm64 (log: $(BUILD)/logs/kernel-arm64-build.log)"
	@$(KUNIT) build $(KUNIT_ARGS_ARM64) --jobs=$(JOBS) > $(BUILD)/logs/kernel-arm64-build.log 2>&1 || \
		{ tail -50 $(BUILD)/logs/kernel-arm64-build.log; exit 1; }
	@echo "  KERNEL  $(IMAGE_ARM64)"

# The arm64 kernel of make bench: no lockdep, DEBUG_VM or fault injection
kernel-arm64-perf: tree
	@mkdir -p $(BUILD)/logs
	@echo "  BUILD   kernel-arm64-perf (log: $(BUILD)/logs/kernel-arm64-perf-build.log)"
	@$(KUNIT) build $(subst $(T)/arm64.kunitconfig,$(T)/arm64-perf.kunitconfig,$(subst $(KOBJ_ARM64),$(KOBJ_ARM64_PERF),$(KUNIT_ARGS_ARM64))) \
		--jobs=$(JOBS) > $(BUILD)/logs/kernel-arm64-perf-build.log 2>&1 || \
		{ tail -50 $(BUILD)/logs/kernel-arm64-perf-build.log; exit 1; }
	@echo "  KERNEL  $(IMAGE_ARM64_PERF)"

# The arm64 test kernel with KASAN too, for the stress run
kernel-arm64-kasan: tree
	@mkdir -p $(BUILD)/logs
	@echo "  BUILD   kernel-arm64-kasan (log: $(BUILD)/logs/kernel-arm64-kasan-build.log)"
	@$(KUNIT) build $(subst $(KOBJ_ARM64),$(KOBJ_ARM64_KASAN),$(KUNIT_ARGS_ARM64)) \
		--kunitconfig=$(T)/arm64-kasan.kunitconfig --jobs=$(JOBS) \
		> $(BUILD)/logs/kernel-arm64-kasan-build.log 2>&1 || \
		{ tail -50 $(BUILD)/logs/kernel-arm64-kasan-build.log; exit 1; }
	@echo "  KERNEL  $(IMAGE_ARM64_KASAN)"

harness: deps
	@$(MAKE) -s -C $(T)/harness run

# the region cache policy under libFuzzer, FUZZ_SECONDS long
fuzz: deps
	@$(MAKE) -s -C $(T)/harness fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

# SIM_ARGS adds dmsim options, e.g. SIM_ARGS="-g 1024 -t cvm"
sim: deps
	@$(MAKE) -s -C $(T)/harness sim SIM_OUT=$(BUILD)/sim SIM_ARGS="$(SIM_ARGS)"

kunit: kernel run-kunit
integration: kernel run-integration

AUDIT := $(T)/audit/audit.py
TARBALL := $(or $(DIRECTMAP_KERNEL_TARBALL),$(if $(SUFFIX),$(BUILD)/sid/x/usr/src/linux-source-$(KERNEL).tar.xz,/usr/src/linux-source-6.12.tar.xz))

# The whole tree and the built config, before and after our patches
audit: kernel
	@mkdir -p $(BUILD)/audit
	@$(AUDIT) --before $(TARBALL) --json $(BUILD)/audit/built.json \
		--built $(KOBJ) $(TREE)
	@$(AUDIT) --before $(TARBALL) --json $(BUILD)/audit/tree.json $(TREE) | \
		grep -E '^(before|after|json)'
	@[ ! -d $(GATE) ] || $(AUDIT) --configs $(GATE) $(TREE)

# The suites without the kernel dependency, for check to run once built
.PHONY: run-harness run-kunit run-integration run-audit run-kunit-arm64 \
	run-kunit-arm64-bbml2 run-integration-arm64 kunit-arm64 integration-arm64 \
	kunit-arm64-bbml2 kunit-i386
run-harness:
	@mkdir -p $(BUILD)/logs
	@$(MAKE) -s -C $(T)/harness run > $(BUILD)/logs/harness.out 2>&1 || \
		echo "not ok 99 harness exited with an error" >> $(BUILD)/logs/harness.out
	@$(MAKE) -s -C $(T)/harness fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) \
		> $(BUILD)/logs/fuzz.out 2>&1; \
		grep -q "^\(not \)\?ok 1 fuzz_policy" $(BUILD)/logs/fuzz.out || \
		echo "not ok 98 the fuzzer did not run" >> $(BUILD)/logs/fuzz.out
	@cat $(BUILD)/logs/fuzz.out >> $(BUILD)/logs/harness.out
	@$(MAKE) -s -C $(T)/harness sim-check > $(BUILD)/logs/sim.out 2>&1; \
		grep -q "^1\.\.[0-9]" $(BUILD)/logs/sim.out || \
		echo "not ok 97 the simulator check did not finish" >> $(BUILD)/logs/sim.out
	@cat $(BUILD)/logs/sim.out >> $(BUILD)/logs/harness.out
	@cat $(BUILD)/logs/harness.out
	@$(T)/tap-summary.py harness $(BUILD)/logs/harness.out > $(BUILD)/logs/harness.sum

run-kunit:
	@mkdir -p $(BUILD)/logs
	@rm -f $(KOBJ)/test.log $(BUILD)/logs/kunit$(SUFFIX)-kernel.log
	-@$(KUNIT) exec $(KUNIT_ARGS) --timeout=900 --kernel_args=no5lvl \
		--qemu_args="$(KUNIT_QEMU)" 'directmap*' 2>&1 | tee $(BUILD)/logs/kunit$(SUFFIX).log
	@cp $(KOBJ)/test.log $(BUILD)/logs/kunit$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit$(SUFFIX) $(BUILD)/logs/kunit$(SUFFIX).log \
		$(BUILD)/logs/kunit$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit$(SUFFIX).sum
	@rm -f $(KOBJ)/test.log
	-@$(KUNIT) exec $(KUNIT_ARGS) --timeout=600 --kernel_args=no5lvl \
		--kernel_args=debug_pagealloc=on --qemu_args="$(KUNIT_QEMU)" \
		'kdirectmapd_pagealloc' 2>&1 | tee $(BUILD)/logs/kunit-pagealloc$(SUFFIX).log
	@cp $(KOBJ)/test.log $(BUILD)/logs/kunit-pagealloc$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit-pagealloc$(SUFFIX) $(BUILD)/logs/kunit-pagealloc$(SUFFIX).log \
		$(BUILD)/logs/kunit-pagealloc$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit-pagealloc$(SUFFIX).sum
	@# a small machine: one CPU, one node, no 1G pages; what needs more skips
	@rm -f $(KOBJ)/test.log
	-@$(KUNIT) exec $(KUNIT_ARGS) --timeout=600 --kernel_args=no5lvl \
		--qemu_args="-cpu max,pdpe1gb=off -smp 1 -m 4G" 'directmap*' \
		2>&1 | tee $(BUILD)/logs/kunit-small$(SUFFIX).log
	@cp $(KOBJ)/test.log $(BUILD)/logs/kunit-small$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit-small$(SUFFIX) $(BUILD)/logs/kunit-small$(SUFFIX).log \
		$(BUILD)/logs/kunit-small$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit-small$(SUFFIX).sum

run-integration:
	@mkdir -p $(BUILD)/logs
	@$(T)/integration.py $(BZIMAGE) $(BUILD) 2>&1 | tee $(BUILD)/logs/integration$(SUFFIX).out; \
		[ $${PIPESTATUS[0]} -le 1 ] || \
		echo "not ok 99 integration.py crashed" >> $(BUILD)/logs/integration$(SUFFIX).out
	@$(T)/tap-summary.py integration$(SUFFIX) $(BUILD)/logs/integration$(SUFFIX).out \
		> $(BUILD)/logs/integration$(SUFFIX).sum

# A 32-bit x86 (PAE) boot of the series: the boot-time walks of the
# direct map on folded page-table levels; a minimal KUnit kernel of its own
KOBJ_I386 := $(BUILD)/kernel-i386$(SUFFIX)
kunit-i386: tree
	@mkdir -p $(BUILD)/logs
	@rm -f $(KOBJ_I386)/test.log
	-@$(KUNIT) run --arch=i386 --build_dir=$(KOBJ_I386) --jobs=$(JOBS) \
		--kunitconfig=$(T)/i386.kunitconfig --timeout=300 2>&1 | \
		tee $(BUILD)/logs/kunit-i386$(SUFFIX).log
	@cp $(KOBJ_I386)/test.log $(BUILD)/logs/kunit-i386$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit-i386$(SUFFIX) $(BUILD)/logs/kunit-i386$(SUFFIX).log \
		$(BUILD)/logs/kunit-i386$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit-i386$(SUFFIX).sum

kunit-arm64: kernel-arm64 run-kunit-arm64
kunit-arm64-bbml2: kernel-arm64 run-kunit-arm64-bbml2
integration-arm64: kernel-arm64 run-integration-arm64

# the BBML2 mode: blocks split and re-formed in place, pseudo-NMIs on
run-kunit-arm64-bbml2:
	@mkdir -p $(BUILD)/logs
	@rm -f $(KOBJ_ARM64)/test.log $(BUILD)/logs/kunit-arm64$(SUFFIX)-kernel.log
	-@$(KUNIT) exec $(KUNIT_ARGS_ARM64) --timeout=900 \
		--kernel_args=arm64.bbml2_noabort_emulated \
		--kernel_args=irqchip.gicv3_pseudo_nmi=1 \
		--qemu_args="$(KUNIT_QEMU_ARM64)" 'directmap*' 2>&1 | \
		tee $(BUILD)/logs/kunit-arm64$(SUFFIX).log
	@cp $(KOBJ_ARM64)/test.log $(BUILD)/logs/kunit-arm64$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit-arm64$(SUFFIX) $(BUILD)/logs/kunit-arm64$(SUFFIX).log \
		$(BUILD)/logs/kunit-arm64$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit-arm64$(SUFFIX).sum

run-kunit-arm64: run-kunit-arm64-bbml2
	@# at 4K, as on CPUs without BBML2_NOABORT: the cases of the core,
	@# single-page and wipe suites (dmap_test_*)
	@rm -f $(KOBJ_ARM64)/test.log
	-@$(KUNIT) exec $(KUNIT_ARGS_ARM64) --timeout=600 \
		--qemu_args="$(KUNIT_QEMU_ARM64)" 'directmap*.dmap_test_*' 2>&1 | \
		tee $(BUILD)/logs/kunit-arm64-4k$(SUFFIX).log
	@cp $(KOBJ_ARM64)/test.log $(BUILD)/logs/kunit-arm64-4k$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit-arm64-4k$(SUFFIX) $(BUILD)/logs/kunit-arm64-4k$(SUFFIX).log \
		$(BUILD)/logs/kunit-arm64-4k$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit-arm64-4k$(SUFFIX).sum
	@# KPTI's non-global kernel mappings: the owner suite
	@rm -f $(KOBJ_ARM64)/test.log
	-@$(KUNIT) exec $(KUNIT_ARGS_ARM64) --timeout=600 \
		--kernel_args=arm64.bbml2_noabort_emulated --kernel_args=kpti=1 \
		--qemu_args="$(KUNIT_QEMU_ARM64)" 'directmap_owner' 2>&1 | \
		tee $(BUILD)/logs/kunit-arm64-kpti$(SUFFIX).log
	@cp $(KOBJ_ARM64)/test.log $(BUILD)/logs/kunit-arm64-kpti$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit-arm64-kpti$(SUFFIX) $(BUILD)/logs/kunit-arm64-kpti$(SUFFIX).log \
		$(BUILD)/logs/kunit-arm64-kpti$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit-arm64-kpti$(SUFFIX).sum
	@rm -f $(KOBJ_ARM64)/test.log
	-@$(KUNIT) exec $(KUNIT_ARGS_ARM64) --timeout=600 \
		--kernel_args=debug_pagealloc=on --qemu_args="$(KUNIT_QEMU_ARM64)" \
		'kdirectmapd_pagealloc' 2>&1 | tee $(BUILD)/logs/kunit-arm64-pagealloc$(SUFFIX).log
	@cp $(KOBJ_ARM64)/test.log $(BUILD)/logs/kunit-arm64-pagealloc$(SUFFIX)-kernel.log 2>/dev/null || true
	@$(T)/tap-summary.py kunit-arm64-pagealloc$(SUFFIX) $(BUILD)/logs/kunit-arm64-pagealloc$(SUFFIX).log \
		$(BUILD)/logs/kunit-arm64-pagealloc$(SUFFIX)-kernel.log > $(BUILD)/logs/kunit-arm64-pagealloc$(SUFFIX).sum

run-integration-arm64:
	@mkdir -p $(BUILD)/logs
	@$(T)/integration-arm64.py $(IMAGE_ARM64) $(BUILD) 2>&1 | \
		tee $(BUILD)/logs/integration-arm64$(SUFFIX).out; \
		[ $${PIPESTATUS[0]} -le 1 ] || \
		echo "not ok 99 integration-arm64.py crashed" >> $(BUILD)/logs/integration-arm64$(SUFFIX).out
	@$(T)/tap-summary.py integration-arm64$(SUFFIX) $(BUILD)/logs/integration-arm64$(SUFFIX).out \
		> $(BUILD)/logs/integration-arm64$(SUFFIX).sum

gate: tree run-gate

# GATE_CONFIGS: some of kspp_gate.py's configurations only (default: all)
run-gate:
	@mkdir -p $(BUILD)/logs $(GATE)
	@$(T)/kspp_gate.py $(TREE) $(GATE) $(GATE_CONFIGS) 2>&1 | tee $(BUILD)/logs/gate$(SUFFIX).out; \
		[ $${PIPESTATUS[0]} -le 1 ] || \
		echo "not ok 99 kspp_gate.py crashed" >> $(BUILD)/logs/gate$(SUFFIX).out
	@$(T)/kspp_gate.py --fixes $(TARBALL) $(GATE) 2>&1 | \
		tee -a $(BUILD)/logs/gate$(SUFFIX).out; \
		[ $${PIPESTATUS[0]} -le 1 ] || \
		echo "not ok 98 kspp_gate.py --fixes crashed" >> $(BUILD)/logs/gate$(SUFFIX).out
	@$(T)/tap-summary.py gate$(SUFFIX) $(BUILD)/logs/gate$(SUFFIX).out > $(BUILD)/logs/gate$(SUFFIX).sum

# The series as they would be posted, gated; the short gate runs in check
series: deps
	@mkdir -p $(BUILD)/logs
	@[ -n "$(SUFFIX)" ] && [ -z "$(DIRECTMAP_KERNEL_TARBALL)" ] && \
		$(T)/fetch-sid-source.sh $(BUILD) $(KERNEL) > /dev/null || true
	@set -o pipefail; $(T)/series.py write $(REPO) $(TARBALL) $(KERNEL) \
		$(BUILD)/series/$(KERNEL) 2>&1 | tee $(BUILD)/logs/series-write.out

# Build every step of make series' directmap series (x86_64, a small
# config, directmap y and n); the first that fails ends each
BISECT_FROM ?= must-check
BISECT_TO   ?= directmap
series-bisect: series
	@set -o pipefail; $(T)/series_bisect.py $(BUILD)/series/$(KERNEL)/base \
		$(BISECT_FROM) $(BISECT_TO) $(BUILD)/series-bisect$(SUFFIX) 2>&1 | \
		tee $(BUILD)/logs/series-bisect$(SUFFIX).out

run-series:
	@mkdir -p $(BUILD)/logs
	@# every kernel's series, with the checkpatch of the tree built
	@rm -f $(BUILD)/logs/series.out
	@for k in $(notdir $(wildcard $(REPO)/patches/*.*)); do \
		$(T)/series.py check $(REPO) $$k $(TREE) 2>&1 | \
			tee -a $(BUILD)/logs/series.out; \
		[ $${PIPESTATUS[0]} -le 1 ] || \
		echo "not ok 99 series.py $$k crashed" >> $(BUILD)/logs/series.out; \
	done
	@$(T)/tap-summary.py series $(BUILD)/logs/series.out > $(BUILD)/logs/series.sum

# Every suite runs even if one fails; a kernel that does not build fails
# the two suites that need it.
run-audit:
	@mkdir -p $(BUILD)/logs
	@$(AUDIT) --check $(KOBJ) --configs $(GATE) $(TREE) 2>&1 | \
		tee $(BUILD)/logs/audit$(SUFFIX).out
	@$(T)/tap-summary.py audit$(SUFFIX) $(BUILD)/logs/audit$(SUFFIX).out > $(BUILD)/logs/audit$(SUFFIX).sum

check: deps
	@mkdir -p $(BUILD)/logs
	@rm -f $(BUILD)/logs/*.sum
	@$(MAKE) -s run-harness
	@# Linux 6.12: the gate (its defconfigs: 7.2's builds allmodconfig
	@# with the same fixes), the series and the audit, KUnit; x86
	@# integration runs on 7.2
	@if $(MAKE) -s kernel; then \
		$(MAKE) -s run-gate GATE_CONFIGS="x86_64-defconfig \
			x86_64-directmap-minimal arm64-defconfig \
			arm64-directmap"; \
		$(MAKE) -s run-series; \
		$(MAKE) -s run-audit; \
		$(MAKE) -s run-kunit; \
	fi
	@# Linux 7.2, the mainline base: x86_64 and arm64 KUnit and integration
	@if $(MAKE) -s KERNEL=7.2 kernel; then \
		$(MAKE) -s KERNEL=7.2 run-gate; \
		$(MAKE) -s KERNEL=7.2 run-audit; \
		$(MAKE) -s KERNEL=7.2 run-kunit; \
		$(MAKE) -s KERNEL=7.2 run-integration; \
		$(MAKE) -s KERNEL=7.2 kunit-i386; \
	else \
		echo "not ok 1 Linux 7.2 kernel build" > $(BUILD)/logs/kernel-7.2.out; \
		$(T)/tap-summary.py kernel-7.2 $(BUILD)/logs/kernel-7.2.out \
			> $(BUILD)/logs/kernel-7.2.sum; \
	fi
	@if $(MAKE) -s KERNEL=7.2 kernel-arm64; then \
		$(MAKE) -s KERNEL=7.2 run-kunit-arm64; \
		$(MAKE) -s KERNEL=7.2 run-integration-arm64; \
	else \
		echo "not ok 1 Linux 7.2 arm64 kernel build" > $(BUILD)/logs/kernel-arm64-7.2.out; \
		$(T)/tap-summary.py kernel-arm64-7.2 $(BUILD)/logs/kernel-arm64-7.2.out \
			> $(BUILD)/logs/kernel-arm64-7.2.sum; \
	fi
	@$(T)/tap-summary.py total $(BUILD)/logs/*.sum

demo: kernel
	@$(T)/demo.py $(BZIMAGE) $(BUILD)

# the same on arm64 (QEMU virt): build/demo-arm64.{json,png}
demo-arm64: kernel-arm64
	@$(T)/demo.py $(IMAGE_ARM64) $(BUILD) 65536 arm64

stress: kernel kernel-arm64-kasan
	@mkdir -p $(BUILD)/logs
	@$(T)/storm.py $(BZIMAGE) $(BUILD) 2>&1 | tee $(BUILD)/logs/stress.out; \
		[ $${PIPESTATUS[0]} -le 1 ] || \
		echo "not ok 99 storm.py crashed" >> $(BUILD)/logs/stress.out
	@$(T)/tap-summary.py stress $(BUILD)/logs/stress.out > $(BUILD)/logs/stress.sum
	@$(T)/integration-arm64.py $(IMAGE_ARM64_KASAN) $(BUILD) --storm-only \
		"arm64 kasan storm" 2>&1 | tee $(BUILD)/logs/stress-arm64-kasan.out; \
		[ $${PIPESTATUS[0]} -le 1 ] || echo "not ok 99 integration-arm64.py crashed" \
		>> $(BUILD)/logs/stress-arm64-kasan.out
	@$(T)/tap-summary.py stress-arm64-kasan $(BUILD)/logs/stress-arm64-kasan.out \
		> $(BUILD)/logs/stress-arm64-kasan.sum
	@$(T)/tap-summary.py sum $(BUILD)/logs/stress.sum $(BUILD)/logs/stress-arm64-kasan.sum

# traces of real workloads in the guest, for make sim (harness/traces/)
record: kernel
	@$(MAKE) -s -C $(T)/harness dmsim
	@$(T)/record.py $(BZIMAGE) $(BUILD) $(T)/harness/traces

bench: kernel-perf kernel-arm64-perf
	@PYTHONPATH=$(T) $(REPO)/benchmarks/bench.py $(BZIMAGE_PERF) $(BUILD) \
		$(REPO)/benchmarks/results $(IMAGE_ARM64_PERF)

clean:
	rm -rf $(BUILD)
	@$(MAKE) -s -C $(T)/harness clean
