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
        init spawn-openai spawn-anthropic spawn-local list health stop-all cleanup metrics demo \
        serve manager-up manager-down

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
	@FLEET_CLI=$(abspath $(FLEET)) /usr/bin/python3 tests/bench/pool_bench.py
	@FLEET_CLI=$(abspath $(FLEET)) /usr/bin/python3 tests/bench/gateway_bench.py
	@FLEET_CLI=$(abspath $(FLEET)) /usr/bin/python3 tests/bench/swarm_bench.py

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

# The fleet over HTTP in the foreground, on 127.0.0.1:9550 (loopback: no token needed); Ctrl-C stops it.
serve: engine build
	@$(FLEET) serve

# The same as a container: compose's fleet-manager service (profile manager) in a project of its own,
# so `docker-down` leaves it alone and `manager-down` removes it alone. It serves on the host's
# 127.0.0.1:$(MANAGER_PORT) behind a token: $LLMSPELL_FLEET_TOKEN, else the one kept in
# $(MANAGER_TOKEN_FILE) (made on first use, mode 0600). The kernel image is built first: the
# manager spawns kernels from it but has no build context to make it from.
MANAGER_PROJECT ?= llmspell-manager
MANAGER_PORT ?= $(or $(LLMSPELL_FLEET_PORT),9550)
MANAGER_TOKEN_FILE ?= $(FLEET_HOME)/manager.token
# What the compose file cannot work out itself: the configs' absolute host path (the manager sees
# them there too) and the Docker socket's group (the manager's group, to reach the engine).
MANAGER_FLEET = LLMSPELL_FLEET_CONFIGS=$(CURDIR)/configs LLMSPELL_FLEET_PORT=$(MANAGER_PORT) \
  LLMSPELL_DOCKER_GID=$$(stat -c %g /var/run/docker.sock) \
  $(FLEET) -p $(MANAGER_PROJECT) --profile manager

manager-up: setup build
	@$(FLEET) build --context $(BUILD_DIR)/docker/kernel --tag llmspell:latest >/dev/null
	@if [ -z "$${LLMSPELL_FLEET_TOKEN:-}" ] && [ ! -s "$(MANAGER_TOKEN_FILE)" ]; then \
	  mkdir -p -m 0700 "$(dir $(MANAGER_TOKEN_FILE))" && \
	  (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '+/=\n' > "$(MANAGER_TOKEN_FILE)") && \
	  echo "manager-up: a new token in $(MANAGER_TOKEN_FILE) (mode 0600)"; fi
	@export LLMSPELL_FLEET_TOKEN="$${LLMSPELL_FLEET_TOKEN:-$$(cat "$(MANAGER_TOKEN_FILE)")}" && \
	  $(MANAGER_FLEET) build fleet-manager && \
	  { $(MANAGER_FLEET) up fleet-manager --wait --timeout 60 || \
	    { $(MANAGER_FLEET) logs --tail 20 fleet-manager; exit 1; }; }
	@echo
	@echo "The fleet manager serves on http://127.0.0.1:$(MANAGER_PORT) (project $(MANAGER_PROJECT)):"
	@if [ -n "$${LLMSPELL_FLEET_TOKEN:-}" ]; then \
	  echo '  curl -H "Authorization: Bearer $$LLMSPELL_FLEET_TOKEN" http://127.0.0.1:$(MANAGER_PORT)/kernels'; else \
	  echo '  curl -H "Authorization: Bearer $$(cat $(MANAGER_TOKEN_FILE))" http://127.0.0.1:$(MANAGER_PORT)/kernels'; fi
	@echo "Logs: $(FLEET) -p $(MANAGER_PROJECT) logs -f fleet-manager    Stop: make manager-down"

# Removes the manager's container; its fleet home (a named volume) and the kernels it spawned stay.
manager-down: engine build
	@$(MANAGER_FLEET) down

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
