# LLMSpell Fleet. Every target prepares the machine it needs on its own (packages, a running
# Docker engine), idempotently: with everything present the set-up costs a fraction of a second.
SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
FLEET := $(BUILD_DIR)/bin/llmspell-fleet
CMAKE_FLAGS ?=

.PHONY: all setup deps engine configure build test unit-test integration-test sanitize bench \
        format format-check docker-build docker-up docker-down docker-logs docker-ps docker-health clean

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

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
