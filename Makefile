# Every user-facing command. Each target bootstraps .venv from requirements.txt
# (reinstalling when it changes) after checking Python; targets that build
# simulations check g++/make/perl and warn once about a missing optional tool
# (sim/check_env.sh; `make deps` installs the optional ones).
SHELL      := /bin/bash
PYTHON     ?= python3
VENV       := .venv
VPY        := $(VENV)/bin/python
STAMP      := $(VENV)/.requirements.stamp
JOBS       ?= auto
# make test leaves out the fresh-venv install check and the full-size / long
# soaks (one microrec_small build alone compiles for ~10 min on 2 cores); they
# run in `make regress PROFILE=nightly` (the CI nightly matrix)
TEST_MARKERS ?= not install and not fullsize and not slow
PROFILE    ?= smoke
CONFIG     ?= microrec_small
QUERIES    ?= 1000
PRESET     ?= u280
CLOCK_MHZ  ?= 120
ZIPF       ?= 0
PES        ?= 128
LANES      ?= 24
PRECISION  ?= int16
ZERO_SKIP  ?= 1
BAG_LENGTH ?= 20
BAG_LENGTHS ?= fixed
CACHE      ?= off
CACHE_LINES ?= 1024
CACHE_WAYS ?= 8
CACHE_POLICY ?= lru
PIPELINE   ?= none
CANDIDATES ?= 1024
KEEP       ?= 64
TOP_K      ?= 10
FILTER     ?= 256x128x128
DECAY      ?= 0.75
REQUESTS   ?= 2
TEST       ?=
K          ?=
SEED       ?= 1
BENCH_ARGS ?=
SHARD      ?=
BASE_SEED  ?=
COV        ?=
DIR        ?= build/regress/$(PROFILE)
SAMPLE     ?=
PYTEST     := $(VPY) -m pytest
CHECK_ENV  := PYTHON=$(PYTHON) sim/check_env.sh

.DEFAULT_GOAL := help
.PHONY: help venv deps csr sim test testplan lint regress merge coverage mutate waves bench bench-model bench-hbm bench-mlp bench-lookup bench-quant bench-dlrm bench-cache bench-recpipe clean

help: ## list the targets
	@echo "MicroRec-style recommendation accelerator: RTL, pyuvm benches, golden model"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "  make sim     CONFIG=<built-in name|path.json> QUERIES=<n> PRESET=ideal|u280|ddr4 CLOCK_MHZ=<MHz>"
	@echo "               ZIPF=<exponent, 0 = uniform> SEED=<n> PES=<P> LANES=<U>"
	@echo "               PRECISION=int16|int8|mixed ZERO_SKIP=1|0 (skip zero activations, default 1)"
	@echo "  make sim PIPELINE=recpipe  CONFIG=microrec_small|tiny CANDIDATES=<N> KEEP=<k kept> TOP_K=<K>"
	@echo "               FILTER=<hidden widths, e.g. 256x128x128> DECAY=<ranker decay> REQUESTS=<n>"
	@echo "  make test    K=<pytest -k expression> JOBS=<n|auto>"
	@echo "  make regress PROFILE=smoke|nightly SEEDS=<n per test>"
	@echo "  make waves   TEST=<pytest node id> SEED=<n>"
	@echo "  make bench-* BENCH_ARGS=<the benchmark's own options, e.g. --help>"
	@echo "  regress:     SHARD=<i>/<N>  K=<pytest -k expr>  BASE_SEED=<n>  COV=1 (code coverage);  merge: DIR=<dir with shard results>"
	@echo "  setup:       PYTHON=<python3.11 or newer> for the .venv"
	@echo "  mutate:      SAMPLE=<n> SEED=<s> runs n mutants sampled from all of rtl/ instead of the named ones"

$(STAMP): requirements.txt
	@$(CHECK_ENV) python
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.txt
	@touch $@

venv: $(STAMP) ## create/refresh the virtual environment

deps: ## install the optional tools (ccache, lcov, lz4 headers): apt-get as root, else prints the apt/dnf/brew command
	@$(CHECK_ENV) --install

csr: $(STAMP) ## regenerate the CSR block, pyuvm register model, register map and C header from rtl/csr/microrec_csr.rdl
	$(VPY) -m sim.csr_gen

sim: $(STAMP) ## the main job: run the most complete system that exists, print a summary (PIPELINE=recpipe: two-stage ranking)
	@$(CHECK_ENV) build
ifeq ($(PIPELINE),recpipe)
	$(VPY) -m apps.recpipe_sim --config "$(CONFIG)" --filter "$(FILTER)" --decay $(DECAY) --candidates $(CANDIDATES) \
	  --keep $(KEEP) --top-k $(TOP_K) --requests $(REQUESTS) --pes $(PES) --lanes $(LANES) --preset $(PRESET) \
	  --clock-mhz $(CLOCK_MHZ) --seed $(SEED)
else
	@test "$(PIPELINE)" = none || { echo "make sim: PIPELINE=$(PIPELINE): none or recpipe" >&2; exit 2; }
	MICROREC_CALLER_DIR="$(PWD)" $(VPY) -m apps.microrec_sim --config "$(CONFIG)" --queries $(QUERIES) \
	  --preset $(PRESET) --clock-mhz $(CLOCK_MHZ) --zipf $(ZIPF) --seed $(SEED) --pes $(PES) --lanes $(LANES) \
	  --precision $(PRECISION) --zero-skip $(ZERO_SKIP) --bag-length $(BAG_LENGTH) --bag-lengths $(BAG_LENGTHS) \
  --cache $(CACHE) --cache-lines $(CACHE_LINES) --cache-ways $(CACHE_WAYS) --cache-policy $(CACHE_POLICY)
endif

test: $(STAMP) ## what CI runs: lint, model unit tests, RTL smoke tests; then each testplan feature's status
	@$(CHECK_ENV) build
	$(MAKE) --no-print-directory lint
	@mkdir -p build
	rc=0; $(PYTEST) -n $(JOBS) -q tests -m "$(TEST_MARKERS)" $(if $(K),-k "$(K)") --junitxml=build/test-results.xml \
	  --html=build/test-report.html --self-contained-html || rc=$$?; \
	$(VPY) -m sim.testplan --results build/test-results.xml || [ $$rc -ne 0 ] || rc=1; \
	exit $$rc

testplan: $(STAMP) ## check docs/testplan.toml (every test it names exists), then each feature's status from the latest results
	$(VPY) -m sim.testplan --check --status

lint: $(STAMP) ## verilator --lint-only -Wall on all of rtl/
	$(VPY) -m sim.lint

regress: $(STAMP) ## tests x seeds in parallel: PROFILE=smoke (default) or nightly; SHARD=i/N runs one slice
	@$(CHECK_ENV) build
	$(VPY) -m sim.regress --profile $(PROFILE) --jobs $(JOBS) $(if $(SEEDS),--seeds $(SEEDS)) \
	  $(if $(SHARD),--shard $(SHARD)) $(if $(BASE_SEED),--base-seed $(BASE_SEED)) \
	  $(if $(K),-k "$(K)") $(if $(COV),--coverage)

merge: $(STAMP) ## join the shard results below DIR (default build/regress/PROFILE) into DIR/merged: JUnit, summary, testplan, coverage
	$(VPY) -m sim.merge "$(DIR)"

coverage: $(STAMP) ## RTL tests with line/toggle/branch coverage, merged: text report, lcov file, HTML when genhtml is present; K=<expr> for a subset
	@$(CHECK_ENV) build genhtml
	$(VPY) -m sim.coverage run --jobs $(JOBS) $(if $(K),-k "$(K)")

mutate: $(STAMP) ## RTL mutation check: the named mutants after a passing baseline; SAMPLE=n SEED=s runs n sampled from all of rtl/ instead
	@$(CHECK_ENV) build
	$(VPY) -m sim.mutate --jobs $(JOBS) $(if $(SAMPLE),--sample $(SAMPLE) --seed $(SEED))

waves: $(STAMP) ## rerun one test with FST waves: make waves TEST=<node id> SEED=<n>
	@test -n "$(TEST)" || { echo "usage: make waves TEST=<pytest node id> SEED=<n>"; exit 2; }
	@$(CHECK_ENV) build waves
	$(PYTEST) -p no:xdist -q "$(TEST)" --seed $(SEED) --waves
	@$(VPY) -m sim.waves

bench: bench-model bench-lookup bench-mlp bench-hbm bench-quant bench-dlrm bench-cache bench-recpipe ## all benchmarks: tables in the terminal, JSON and PNG in build/bench/

bench-model: $(STAMP) ## lookup RTL vs performance model: 4 models x channels x Cartesian on/off, plots
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.model_sweep $(BENCH_ARGS)

bench-lookup: $(STAMP) ## lookup latency/throughput (ideal and u280 memory) vs MicroRec
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.lookup $(BENCH_ARGS)

bench-mlp: $(STAMP) ## MLP engine: MACs/cycle, utilization, cycles/inference, sim speed vs P x U
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.mlp $(BENCH_ARGS)

bench-quant: $(STAMP) ## int16/int8 x dense/zero-skip on the accelerator: items/cycle, latency, fidelity vs MicroRec
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.quant $(BENCH_ARGS)

bench-dlrm: $(STAMP) ## DLRM (dlrm_kaggle, bags of 20) on the accelerator vs dlrm_infer on this CPU, same run
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.dlrm $(BENCH_ARGS)

bench-recpipe: $(STAMP) ## RecPipe two-stage ranking: recall/NDCG against latency per request (Pareto), stage overheads from the RTL
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.recpipe $(BENCH_ARGS)

bench-cache: $(STAMP) ## hot-row caches in the lookup stage: hit rate, memory reads, throughput vs Zipf, size, policy (RTL + model)
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.cache $(BENCH_ARGS)

bench-hbm: $(STAMP) ## HBM model simulation speed with 32 busy channels vs an idle Python side
	@$(CHECK_ENV) build
	$(VPY) -m apps.benchmarks.hbm_speed $(BENCH_ARGS)

clean: ## remove builds and reports (keeps .venv)
	rm -rf build .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
