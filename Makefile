# README's two commands: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL ?= minilm-l6-v2
TARGET_PYTHON ?= 3.12
ARCH ?= x86_64
ARTIFACT := dist/$(MODEL)-py$(subst .,,$(TARGET_PYTHON))-$(ARCH).zip
# The second target: the Cloud Functions (2nd gen) source archive of the same model.
GCF_ARTIFACT := dist/$(MODEL)-gcf-py$(subst .,,$(TARGET_PYTHON))-x86_64.zip
# torch is installed first and pinned: letting pip choose it pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
EXTRAS := runtime,model,infra,dev,bench,capacity,deploy
# SAM CLI for tests/synth/test_sam.py, in its own virtualenv: it pins many packages .venv must not share.
SAM_VENV := .venv-sam
SAM_VERSION ?= 1.170.0
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export HF_HUB_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help demo test lint typecheck model artifact synth-cdk clean constraints

help:
	@echo "make demo   build the MiniLM model and artifact, serve it on a local function URL, send requests,"
	@echo "            deploy onto moto, the same for Cloud Functions briefly, cdk synth"
	@echo "make test   lint, type-check and run the test suite (unit, functional, synth)"

# Both installs are held to constraints.txt, the dev/CI lock (`make constraints` regenerates it).
# The wheelhouse holds the artifacts' pinned wheels for the Lambda targets the tests build
# (python 3.12, x86_64 and arm64): `coldbrew build` resolves from it with no package index.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt $(TORCH)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	$(BIN)/python -m coldbrew.artifact.wheelhouse packaging/aws-lambda.toml packaging/aws-lambda-numpy.toml
	touch $@

# The lock from what .venv holds now (install or upgrade there first, then run the tests).
constraints: $(BIN)/.installed
	{ sed -n '/^#/p' constraints.txt; $(BIN)/pip freeze --exclude-editable \
	  | sed -E 's/^([A-Za-z0-9_.-]+==[^+]+)\+.*$$/\1/'; } > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

# About 1.5 minutes and 340 MB, once per SAM_VERSION (the stamp names it).
$(SAM_VENV)/bin/.installed-$(SAM_VERSION):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

model: $(BIN)/.installed
	$(BIN)/coldbrew model build $(MODEL)

# The model build is cached by content and the artifact build is reproducible, so both run every time.
artifact: model
	$(BIN)/coldbrew build --model $(MODEL) --python $(TARGET_PYTHON) --arch $(ARCH)

synth-cdk: node_modules/.installed
	@test -f $(ARTIFACT) || { echo "no $(ARTIFACT): run 'make artifact' first"; exit 1; }
	npx cdk synth --quiet -c coldbrew:artifact=$(ARTIFACT) > /dev/null
	$(BIN)/python -m coldbrew.cli.synth_summary cdk.out

demo: $(BIN)/.installed node_modules/.installed
	$(MAKE) --no-print-directory artifact
	$(BIN)/coldbrew demo $(ARTIFACT)
	$(BIN)/coldbrew deploy --local --serve-for 0 $(ARTIFACT)
	@echo "--- the second target, briefly: Google Cloud Functions (2nd gen) ---"
	$(BIN)/coldbrew build --platform gcf --model $(MODEL) --python $(TARGET_PYTHON)
	$(BIN)/coldbrew demo --platform gcf --cold-runs 2 --warm-runs 20 $(GCF_ARTIFACT)
	$(BIN)/coldbrew deploy --platform gcf --local --serve-for 0 $(GCF_ARTIFACT)
	$(MAKE) --no-print-directory synth-cdk

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

test: $(BIN)/.installed node_modules/.installed $(SAM_VENV)/bin/.installed-$(SAM_VERSION)
	$(MAKE) --no-print-directory model
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/pytest

clean:
	rm -rf dist cdk.out models/*/dist
