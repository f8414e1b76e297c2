# Every target creates and uses a local virtual environment by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Offline MNIST and Fashion-MNIST for this workplace; anywhere else linclass finds or downloads them itself.
SHARED_MNIST := $(abspath ../shared/data/mnist)
ifneq ($(wildcard $(SHARED_MNIST)/train-images-idx3-ubyte.gz),)
export LINCLASS_DATA_DIR ?= $(SHARED_MNIST)
endif
SHARED_FASHION := $(abspath ../shared/data/fashion-mnist)
ifneq ($(wildcard $(SHARED_FASHION)/train-images-idx3-ubyte.gz),)
export LINCLASS_FASHION_MNIST_DIR ?= $(SHARED_FASHION)
endif

OUT ?= reproduce
JOBS ?= 2

.PHONY: test test-fast reproduce bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The whole suite (about five minutes on two cores): before a commit, and what CI runs.
test: $(STAMP)
	$(BIN)/python -m pytest -q

# The suite without the slow tests that train full runs on real MNIST (about a minute): while editing.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

reproduce: $(STAMP)
	$(BIN)/linclass reproduce --out $(OUT) --force --jobs $(JOBS)

# The performance benchmark (python -m benchmarks): prints one table, writes
# benchmarks/results/latest.json. Needs the bench extra (PyTorch CPU, scikit-learn, psutil).
# BENCH_ARGS="--quick --skip-peers" make bench for a short run.
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# A long property-based run of the IDX reader and the models (tests/test_fuzz.py) and of tampered run
# folders, checkpoints and reproductions (tests/test_tamper.py); `make test` runs the same properties
# with fewer examples. FUZZ_EXAMPLES=200000 TAMPER_EXAMPLES=5000 make fuzz for longer.
FUZZ_EXAMPLES ?= 20000
TAMPER_EXAMPLES ?= 500
fuzz: $(STAMP)
	LINCLASS_HYPOTHESIS_PROFILE=fuzz LINCLASS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) LINCLASS_TAMPER_EXAMPLES=$(TAMPER_EXAMPLES) \
		$(BIN)/python -m pytest -q tests/test_fuzz.py tests/test_tamper.py --hypothesis-show-statistics

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
