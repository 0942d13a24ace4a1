# Ingest: `make run` starts the daemon (on the embedded broker when no Kafka is configured);
# `make test` runs every test. Both install what they need first and skip work already done.
SHELL := /bin/bash
.DEFAULT_GOAL := build
DOTNET ?= dotnet
CONFIG ?= Release
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

INGEST := out/ingest/ingest
# make build publishes a NativeAOT executable (PublishAot in src/Ingest/Ingest.csproj: ILCompiler
# from NuGet, linked by clang/lld from scripts/deps-apt.sh) for this machine's RID, so it is
# self-contained and librdkafka.redist's native library for it lands flat beside the binary.
RID ?= linux-$(subst aarch64,arm64,$(subst x86_64,x64,$(shell uname -m)))

.PHONY: deps deps-apt deps-test build helper run test test-dotnet validate vm-test guest-test guest-test-debug bench format lint clean

# deps: what building and running need; deps-test adds the test tools (kcat, QEMU, kernel, ...).
deps: deps-apt .deps/restore.stamp

deps-apt:
	@bash scripts/deps-apt.sh run

deps-test:
	@bash scripts/deps-apt.sh test

.deps/restore.stamp: Directory.Packages.props $(wildcard src/*/*.csproj tests/*/*.csproj bench/*/*.csproj)
	$(DOTNET) restore Ingest.sln
	@mkdir -p $(@D) && touch $@

build: deps helper
	$(DOTNET) publish src/Ingest/Ingest.csproj -c $(CONFIG) -r $(RID) -o out/ingest -nologo -v q
	@echo "built $(INGEST)"

# The upcall helper the kernel spawns (static C): out/ingest/ingest-upcall.
helper:
	@$(MAKE) -s -C src/Ingest.Transports/Upcall/helper OUT=$(CURDIR)/out/ingest

# Runs the daemon in the foreground. ARGS passes flags, e.g. make run ARGS="--bootstrap kafka:9092".
run: build
	$(INGEST) run $(ARGS)

test: deps-test build lint test-dotnet validate vm-test guest-test
	@bash scripts/test-summary.sh out/test-dotnet.log

# Tests that spawn the CLI run the published executable (out/ingest/ingest), so build it first.
test-dotnet: build
	@mkdir -p out && rm -rf out/test-results
	set -o pipefail; $(DOTNET) test Ingest.sln -c $(CONFIG) --no-restore -nologo \
		--logger "trx;LogFilePrefix=ingest" --results-directory out/test-results 2>&1 | tee out/test-dotnet.log
	@/usr/bin/python3 scripts/skipped-reasons.py 'out/test-results/*.trx'

# Dockerfile, compose file, systemd unit and CI workflow, checked without a Docker engine.
validate:
	@bash scripts/validate-deploy.sh

# The module's selftests in a guest of each Debian kernel, then under the debug kernel (KASAN,
# lockdep, kmemleak, UBSAN; the first run builds it: kmodule/vm/debug-kernel/): the canary,
# the selftests and the six-channel guest scenario with the daemon (hence build). Any detector
# report or kmemleak object fails it.
vm-test: build
	@if [ -f kmodule/Makefile ]; then $(MAKE) -C kmodule vm-test; else echo "vm-test: no kmodule yet"; fi
	@if [ -f kmodule/Makefile ]; then $(MAKE) -C kmodule vm-test-debug DEBUG_STEPS="canary selftests scenario"; fi

# The end-to-end scenario in the QEMU guest, once per kernel of KVERS (default: Debian 12's 6.1
# and 6.12 lines): all six channels, hostile input, ioctl commands, SIGKILL and restart
# (tests/guest/run.sh; results in .vm/out/guest-test/<kernel>).
guest-test: build
	@bash kmodule/scripts/for-kernels.sh guest-test bash tests/guest/run.sh

# Only the scenario under the debug kernel (make vm-test runs it too): fails on any KASAN,
# lockdep or UBSAN report, BUG:/WARNING: or kmemleak object (figures in kmodule/README.md).
guest-test-debug: build
	@bash kmodule/vm/debug-kernel/test.sh scenario

# The UDP load generator the benchmarks (and anyone) drive: out/bench/udpgen --help.
UDPGEN := out/bench/udpgen
$(UDPGEN): bench/udpgen/udpgen.c bench/common/benchutil.h
	@mkdir -p $(@D)
	gcc -O2 -Wall -Wextra -Werror -o $@ $<

# The floor the UDP benchmarks compare against: a bare recvmmsg loop that only counts (out/bench/udpfloor --help).
UDPFLOOR := out/bench/udpfloor
$(UDPFLOOR): bench/udpfloor/udpfloor.c bench/common/benchutil.h
	@mkdir -p $(@D)
	gcc -O2 -Wall -Wextra -Werror -o $@ $<

bench: build $(UDPGEN) $(UDPFLOOR)
	$(DOTNET) run -c $(CONFIG) --project bench/Ingest.Bench -- $(BENCH)

format:
	$(DOTNET) format Ingest.sln

lint:
	$(DOTNET) format Ingest.sln --verify-no-changes

clean:
	rm -rf out src/*/bin src/*/obj tests/*/bin tests/*/obj bench/*/bin bench/*/obj .deps/restore.stamp
