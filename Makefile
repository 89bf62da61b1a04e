# Two commands do all the set-up on a fresh machine (Rust, Python 3.10+ and make present):
#   make demo   install the core only, print samples, generate a corpus, print throughput
#   make test   build, then run every test: cargo test, pytest (slow ones included), stubtest
# The virtual environment and the cargo target directory live outside the clone, so that
# later runs (and CI) reuse them.

CACHE      ?= $(HOME)/.cache/hyperword
VENV       ?= $(CACHE)/venv
PY         := $(VENV)/bin/python
export CARGO_TARGET_DIR ?= $(CACHE)/target
DEMO_WORDS ?= 100M
DEMO_OUT   ?= $(CACHE)/demo-corpus


.PHONY: core setup build demo test lint test-rust test-python bench lexicon fuzz

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# core: the package and what generation needs (numpy, pyarrow, sentencepiece, unicodedata2)
core: $(PY)
	$(PY) -m pip install "maturin>=1.7,<2"
	$(PY) -m pip install --no-build-isolation -e .

# setup: the development set on top (train and ray extras, test tools; several GB once)
setup: $(PY)
	$(PY) -m pip install "maturin>=1.7,<2" "setuptools>=70.1" wheel
	$(PY) -m pip install --no-build-isolation -e ".[dev]"

build: setup

demo: core
	$(VENV)/bin/hyperword sample -n 3 --langs ru --seed 1
	$(VENV)/bin/hyperword sample -n 3 --mix word --langs en,ru,es,fr --seed 1
	$(VENV)/bin/hyperword sample -n 3 --langs zh,ar,he --joiner "·" --seed 1
	$(VENV)/bin/hyperword generate --words $(DEMO_WORDS) --out $(DEMO_OUT) --threads 2 --force
	$(VENV)/bin/hyperword inspect $(DEMO_OUT) --rows 5

test: setup lint test-rust test-python

# The gate: formatting and lints of both languages, and the Python types (mypy --strict).
LINTED := python tests benches lexicons
lint: setup
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m mypy
	cargo fmt --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust:
	cargo test -p hyperword-core

test-python:
	$(PY) -m pytest -m "not bench"
	$(PY) -m mypy.stubtest hyperword._hyperword

bench: setup
	cargo bench -p hyperword-core --bench fusion
	$(PY) benches/bench_generate.py --words 1e9 --threads 1,2

# Coverage-guided fuzzing of the lexicon and configuration parsers (cargo-fuzz on stable,
# installed from crates.io when missing), FUZZ_SECONDS per target on the committed corpus.
FUZZ_SECONDS ?= 30
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) HYPERWORD_CACHE=$(CACHE) FUZZ_TARGET_DIR=$(CACHE)/target-fuzz rust/fuzz/run.sh

lexicon:
	python3 lexicons/build_multisimlex.py
