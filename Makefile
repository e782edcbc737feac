# LLMSpell Fleet. Every target prepares the machine it needs on its own (packages, a running
# Docker engine), idempotently: with everything present the set-up costs a fraction of a second.
SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
FLEET := $(BUILD_DIR)/bin/llmspell-fleet
CMAKE_FLAGS ?=

.PHONY: all setup deps engine configure build test unit-test integration-test sanitize bench \
        format format-check docker-build docker-up docker-down docker-logs docker-ps docker-health clean \
        init spawn-openai spawn-anthropic spawn-local list health stop-all cleanup metrics demo

all: build

deps:
	@bash docker/host-setup.sh deps

engine:
	@bash docker/host-setup.sh engine

setup: deps engine

$(BUILD_DIR)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_TARGET_MESSAGES=OFF $(CMAKE_FLAGS) >/dev/null

configure: $(BUILD_DIR)/CMakeCache.txt

build: deps configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) -- --no-print-directory

# The whole suite: unit tests, then integration tests against the real engine.
test: setup build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

unit-test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

integration-test: setup build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L integration --timeout 600

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	@cmake -S . -B $(ASAN_DIR) -DFLEET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS) -- --no-print-directory
	@cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

bench: setup build
	@$(FLEET) build --context $(BUILD_DIR)/docker/kernel --tag llmspell:latest >/dev/null
	@$(BUILD_DIR)/bin/fleet-bench
	@FLEET_CLI=$(abspath $(FLEET)) /usr/bin/python3 tests/bench/kernel_bench.py
	@FLEET_CLI=$(abspath $(FLEET)) /usr/bin/python3 tests/bench/compose_bench.py
	@FLEET_CLI=$(abspath $(FLEET)) /usr/bin/python3 tests/bench/serve_bench.py

format: configure
	@cmake --build $(BUILD_DIR) --target format

format-check: configure
	@cmake --build $(BUILD_DIR) --target format-check

# The fleet's images (kernel, registry), built offline through the engine from the staged contexts.
# PROFILE=dev (or "dev javascript") selects compose profiles for every docker-* target.
PROFILE ?=
PROFILE_FLAGS := $(foreach p,$(PROFILE),--profile $(p))

docker-build: setup build
	@$(FLEET) $(PROFILE_FLAGS) build

# The main job: the host, the fleet, its images, then the kernels up and healthy.
docker-up: docker-build
	@$(FLEET) $(PROFILE_FLAGS) up --wait
	@$(FLEET) ps
	@echo
	@echo "Connect to a kernel:  jupyter console --existing $${LLMSPELL_FLEET_HOME:-~/.llmspell/fleet}/<NAME>.json"
	@echo "More:                 $(FLEET) scale kernel-lua-openai 3 | logs -f | health | shell kernel-lua-openai"

docker-down: engine build
	@$(FLEET) down

docker-logs: engine build
	@$(FLEET) logs --tail 100

docker-ps: engine build
	@$(FLEET) ps

docker-health: engine build
	@$(FLEET) health

# Kernels one by one (the seed's fleet commands), each in its own container. Connection files go to
# the fleet home, $LLMSPELL_FLEET_HOME (default ~/.llmspell/fleet); `init` creates it (mode 0700).
FLEET_HOME := $(or $(LLMSPELL_FLEET_HOME),$(HOME)/.llmspell/fleet)

init: engine build
	@$(FLEET) list >/dev/null
	@echo "fleet home: $(FLEET_HOME)"

spawn-openai: engine build
	@$(FLEET) spawn openai.toml lua

spawn-anthropic: engine build
	@$(FLEET) spawn anthropic.toml lua

spawn-local: engine build
	@$(FLEET) spawn local.toml lua

list: engine build
	@$(FLEET) list

health: engine build
	@$(FLEET) health

stop-all: engine build
	@$(FLEET) stop-all

cleanup: engine build
	@$(FLEET) cleanup

metrics: engine build
	@$(FLEET) metrics

# A scripted tour: three kernels, code run in each through jupyter_client, metrics, all stopped
# (examples/demo.sh; the other examples/ scripts run the same way).
demo: engine build
	@FLEET=$(abspath $(FLEET)) examples/demo.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
