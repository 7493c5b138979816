# Slipway: two commands on a fresh machine.
#   make demo   installs the tools, builds, and prints the review of a sample change
#   make test   installs and starts what the tests need, then runs every check and test
SHELL := /bin/bash
export TF_CLI_CONFIG_FILE := $(CURDIR)/.tools/terraformrc
export SLIPWAY_TERRAFORM := $(CURDIR)/.tools/bin/terraform
CARGO ?= cargo

.PHONY: demo test tools services build lint unit bench

demo: tools
	$(CARGO) build --release --locked -p slipway
	scripts/demo.sh

test: tools services lint
	$(CARGO) test --workspace --locked

tools:
	scripts/tools.sh

services:
	scripts/services.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

build:
	$(CARGO) build --release --locked -p slipway

bench: tools services
	$(CARGO) bench --locked -p slipway-agent --bench graph
	$(CARGO) build --release --locked -p slipway
	$(CARGO) bench --locked -p slipway-tests --bench service
