# FMOps Foundation: every entry point a user or CI needs. Each target installs what it uses
# from the pinned files (requirements*.txt, package-lock.json) on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= config/default.yaml
CDK := npx --no-install cdk

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export AWS_EC2_METADATA_DISABLED := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install synth test bench bench-scale rehearse rehearse-org docs diagram clean

# uv (pinned in requirements.txt) installs the locks: same packages as pip, in seconds instead of
# minutes (parallel downloads, no per-package resolver round trips); bytecode is compiled at
# install, as pip does, so that no process pays for it at import.
UV = $(VENV)/bin/uv pip install -q --compile-bytecode

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "$$(grep '^uv==' requirements.txt)"
	$(UV) --python $(PY) -r requirements.txt
	$(UV) --python $(PY) --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.venv-checkov/.installed: requirements-checkov.txt $(VENV)/.installed
	$(PYTHON) -m venv .venv-checkov
	$(VENV)/bin/uv pip install -q --python .venv-checkov/bin/python -r requirements-checkov.txt
	touch $@

install: $(VENV)/.installed node_modules/.installed .venv-checkov/.installed

## make synth: synthesize the whole app (default config; CONFIG=path for another) with every
## compliance check, lint every template with cfn-lint, then print the summary.
synth: install
	rm -rf cdk.out
	$(CDK) synth --quiet -c config=$(CONFIG)
	$(VENV)/bin/fmops cfn-lint cdk.out
	$(VENV)/bin/fmops summary cdk.out --config $(CONFIG)

## make test: the whole test suite (unit tests, compliance gates, linters).
test: install
	$(PY) -m pytest -q -n 2 --dist loadgroup

## make bench: synth time and memory of the default app next to an empty CDK app.
bench: install
	$(PY) scripts/bench.py

## make bench-scale: the same, plus one pipeline's scoped synth (its Build step's `cdk synth -c
## pipeline_group=team000`) in generated organisations of 1, 10 and 100 teams; fails unless its time
## and peak memory are flat in the team count and fit the pipeline's CodeBuild instance.
bench-scale: install
	$(PY) scripts/bench.py --scoped-teams 1,10,100

## make rehearse: deploy the single-account app with the real CDK CLI into a local AWS emulator
## (moto server on localhost), check the deployed state with boto3, destroy, stop the emulator.
rehearse: install
	$(PY) scripts/rehearse.py

## make rehearse-org: the same for mode organisation, the whole of config/default.yaml: one emulator,
## every account a separate emulator account with its own keys, each bootstrapped (workload accounts
## trusting the governance account), the governance stacks then every stage's stacks deployed with
## that account's keys, checked per account and across accounts, destroyed. The pipelines themselves
## cannot run on the emulator (reported NOT REHEARSED). The test suite rehearses tooling + risk-dev.
rehearse-org: install
	$(PY) scripts/rehearse.py --config config/default.yaml

## make docs: regenerate every generated doc from the code and the synthesized default app:
## docs/config-reference.md, docs/project-templates.md, docs/internet-free-rules.md,
## docs/architecture.dot and .svg.
## Synthesizes config/default.yaml into a temporary folder, or reuses ASSEMBLY=cdk.out.
docs: install
	$(VENV)/bin/fmops docs $(if $(ASSEMBLY),--assembly $(ASSEMBLY))

## make diagram: only the architecture diagram (docs/architecture.dot, rendered to .svg offline
## by Graphviz compiled to WebAssembly, scripts/render-dot.mjs).
diagram: install
	$(VENV)/bin/fmops diagram $(if $(ASSEMBLY),--assembly $(ASSEMBLY))

clean:
	rm -rf cdk.out .bench .pytest_cache
