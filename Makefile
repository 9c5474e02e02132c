# Cairn: two-command set-up. `make run` installs what is missing, builds and runs the main job;
# `make test` runs the whole suite. Each target installs only what is missing.

SHELL := /bin/bash
APT_PACKAGES := libssl-dev libsodium-dev pkg-config libsqlite3-dev strace zlib1g-dev libzstd-dev \
  curl chromium umoci skopeo wrk nginx
PYTHON ?= python3
VENV := .venv
PIP_PACKAGES := kubo-python aleph-cid ipfs-car-decoder dag-cbor aioipfs==0.7.1 aiohttp==3.11.18 ipfsspec==0.6.0
SWIFT_BUILD_FLAGS ?=
CAIRN := .build/release/cairn

.PHONY: all deps apt venv build release run test bench clean faults

all: build

deps: apt venv

# apt packages: check each with dpkg -s, install only the missing ones.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# A local venv for the Python peers and reference tools (created once).
venv: $(VENV)/.stamp
$(VENV)/.stamp: Makefile
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q $(PIP_PACKAGES)
	@touch $@

build: apt
	swift build $(SWIFT_BUILD_FLAGS)

release: apt
	swift build -c release $(SWIFT_BUILD_FLAGS)

run: deps release
	@bash scripts/demo.sh $(CAIRN)

# Tests run optimised: the suite pushes tens of megabytes through chunkers and hashers.
# At most 8 tests at once: Swift Testing otherwise starts all 529 together, and the synchronous
# ones (each waiting on `cairn` children) queue on the two cooperative threads of a 2-core host
# for about two minutes; an async test's next step (a push's request body, which
# AsyncHTTPClient iterates in a task of its own on that pool) then waited behind the whole queue,
# past the client's 120 s deadline. With 8 the queue ahead of it is short, and the suite is faster.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH ?= 8
test: deps
	swift test -c release -Xswiftc -enable-testing $(SWIFT_BUILD_FLAGS)

bench: deps release
	cd Benchmarks && swift package --disable-sandbox benchmark

clean:
	rm -rf .build Benchmarks/.build

# --- Fuzzing, sanitizers, crash loop (Fuzz/README.md) -----------------------------------------
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_RUNS ?=
SANITIZE_FILTER ?=
CRASH_KILLS ?= 200
CRASH_SEED ?=
TEST_BUILD_FLAGS := -c release -Xswiftc -enable-testing $(SWIFT_BUILD_FLAGS)
# Background priority for the long sanitizer runs: SCHED_IDLE where chrt exists (nice does not
# hold: Dispatch worker threads reset their own priority when they start), else nice.
IDLE := $(shell command -v chrt >/dev/null 2>&1 && echo "chrt -i 0" || echo "nice -n 19")

.PHONY: fuzz sanitize crash

# libFuzzer: each target for FUZZ_SECONDS (FUZZ_TARGETS="car dagpb" for some), executions printed.
fuzz: apt
	FUZZ_RUNS=$(FUZZ_RUNS) Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The whole test suite under AddressSanitizer, then ThreadSanitizer (own scratch paths, lowest
# priority; CAIRN_SANITIZER tells the few tests that cannot hold under one to skip, see
# Fuzz/README.md). SANITIZE_FILTER="--filter CARTests" narrows it. Time on 2 shared cores: see
# Fuzz/README.md (each sanitizer's build alone: 35–40 minutes quiet, over an hour loaded).
# atexit_sleep_ms=0: by default every TSan process sleeps 1 s before it exits, and the suite runs
# a few thousand `cairn` children (the fault matrix alone, hundreds): the run sat idle for most
# of its 55 minutes.
sanitize: deps
	CAIRN_SANITIZER=address LSAN_OPTIONS="suppressions=$(CURDIR)/scripts/lsan.supp" $(IDLE) swift test $(TEST_BUILD_FLAGS) --sanitize=address \
	  --scratch-path .build-asan $(SANITIZE_FILTER)
	CAIRN_SANITIZER=thread TSAN_OPTIONS="suppressions=$(CURDIR)/scripts/tsan.supp atexit_sleep_ms=0" $(IDLE) \
	  swift test $(TEST_BUILD_FLAGS) --sanitize=thread --scratch-path .build-tsan $(SANITIZE_FILTER)

# CRASH_KILLS SIGKILLs over add, car import, gc and pin on one store, invariants after each.
crash: apt
	swift build $(TEST_BUILD_FLAGS) --product cairn
	$(PYTHON) scripts/crash-loop.py --cairn $(CAIRN) --kills $(CRASH_KILLS) $(if $(CRASH_SEED),--seed $(CRASH_SEED))

# The whole fault matrix (spec/system.md §5): every call of every kind (ours, and SQLite's own
# I/O through the cairn-fault VFS: sqlite-open/write/truncate/sync) failed with ENOSPC and EIO
# for every command that writes; a summary line per command (runs, failing runs).
faults: deps
	swift build -c release -Xswiftc -enable-testing --build-tests $(SWIFT_BUILD_FLAGS)
	@CAIRN_FAULT_MATRIX=full swift test -c release -Xswiftc -enable-testing --skip-build \
	  --filter 'FaultMatrixTests' > .build/faults.log 2>&1; status=$$?; \
	grep -E 'recorded an issue' .build/faults.log | head -50; \
	echo "fault matrix (full; log in .build/faults.log):"; grep '^fault matrix:' .build/faults.log | sed -E 's/, calls.*//'; \
	exit $$status
