# LLMSpell Fleet. Every target prepares the machine it needs on its own (packages, a running
# Docker engine), idempotently: with everything present the set-up costs a fraction of a second.
SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
FLEET := $(BUILD_DIR)/bin/llmspell-fleet
CMAKE_FLAGS ?=

.PHONY: all setup deps engine configure build test unit-test integration-test sanitize bench \
        format format-check docker-build docker-up clean

all: build

deps:
	@bash docker/host-setup.sh deps

engine:
	@bash docker/host-setup.sh engine

setup: deps engine

$(BUILD_DIR)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null

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
	@$(FLEET) build >/dev/null
	@$(BUILD_DIR)/bin/fleet-bench
	@FLEET_CLI=$(abspath $(FLEET)) /usr/bin/python3 tests/bench/kernel_bench.py

format: configure
	@cmake --build $(BUILD_DIR) --target format

format-check: configure
	@cmake --build $(BUILD_DIR) --target format-check

# The kernel image (llmspell:latest), built offline through the engine from the staged context.
docker-build: setup build
	@$(FLEET) build

# The main job. Today it readies the host (packages, engine), the fleet binary and the kernel image.
docker-up: docker-build
	@$(FLEET) version

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
