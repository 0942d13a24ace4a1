# Ingest: `make run` starts the daemon (on the embedded broker when no Kafka is configured);
# `make test` runs every test. Both install what they need first and skip work already done.
SHELL := /bin/bash
.DEFAULT_GOAL := build
DOTNET ?= dotnet
CONFIG ?= Release
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

LIBRDKAFKA := .deps/librdkafka/lib/librdkafka.so.1
INGEST := out/ingest/ingest

.PHONY: deps deps-apt deps-test build helper run test test-dotnet validate vm-test guest-test bench format lint clean

# deps: what building and running need; deps-test adds the test tools (kcat, QEMU, kernel, ...).
deps: deps-apt $(LIBRDKAFKA) .deps/restore.stamp

deps-apt:
	@bash scripts/deps-apt.sh run

deps-test:
	@bash scripts/deps-apt.sh test

$(LIBRDKAFKA):
	@bash scripts/build-librdkafka.sh

.deps/restore.stamp: Directory.Packages.props $(wildcard src/*/*.csproj tests/*/*.csproj bench/*/*.csproj)
	$(DOTNET) restore Ingest.sln
	@touch $@

build: deps helper
	$(DOTNET) publish src/Ingest/Ingest.csproj -c $(CONFIG) -o out/ingest --no-restore -nologo -v q
	@test -f out/ingest/librdkafka.so.1 || cp $(LIBRDKAFKA) out/ingest/
	@echo "built $(INGEST)"

# The upcall helper the kernel spawns (static C): out/ingest/ingest-upcall.
helper:
	@$(MAKE) -s -C src/Ingest.Transports/Upcall/helper OUT=$(CURDIR)/out/ingest

# Runs the daemon in the foreground. ARGS passes flags, e.g. make run ARGS="--bootstrap kafka:9092".
run: build
	$(INGEST) run $(ARGS)

test: deps-test build lint test-dotnet validate vm-test guest-test
	@bash scripts/test-summary.sh out/test-dotnet.log

test-dotnet:
	@mkdir -p out && rm -rf out/test-results
	set -o pipefail; $(DOTNET) test Ingest.sln -c $(CONFIG) --no-restore -nologo \
		--logger "trx;LogFilePrefix=ingest" --results-directory out/test-results 2>&1 | tee out/test-dotnet.log
	@/usr/bin/python3 scripts/skipped-reasons.py 'out/test-results/*.trx'

# Dockerfile, compose file, systemd unit and CI workflow, checked without a Docker engine.
validate:
	@bash scripts/validate-deploy.sh

vm-test:
	@if [ -f kmodule/Makefile ]; then $(MAKE) -C kmodule vm-test; else echo "vm-test: no kmodule yet"; fi

# The end-to-end scenario in the QEMU guest: all six channels, hostile input, ioctl commands,
# SIGKILL and restart (tests/guest/run.sh; results in .vm/out/guest-test).
guest-test: build
	@bash tests/guest/run.sh

# The UDP load generator the benchmarks (and anyone) drive: out/bench/udpgen --help.
UDPGEN := out/bench/udpgen
$(UDPGEN): bench/udpgen/udpgen.c
	@mkdir -p $(@D)
	gcc -O2 -Wall -Wextra -Werror -o $@ $<

# The floor the UDP benchmarks compare against: a bare recvmmsg loop that only counts (out/bench/udpfloor --help).
UDPFLOOR := out/bench/udpfloor
$(UDPFLOOR): bench/udpfloor/udpfloor.c
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
