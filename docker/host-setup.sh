#!/usr/bin/env bash
# Prepares this Debian 12 host for the fleet: build packages, and a Docker engine answering on
# DOCKER_HOST. Idempotent and quiet when everything is already there (one dpkg-query, one ping).
#   host-setup.sh deps     install missing build/test packages, and the browser tests' node modules
#   host-setup.sh engine   make sure an engine answers; install docker.io and start dockerd if not
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/llmspell-dockerd.log}
BUILD_PACKAGES=(g++ cmake make pkg-config git curl tar busybox-static
  libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev catch2 libcli11-dev
  libzmq3-dev cppzmq-dev libssl-dev liblua5.4-dev duktape-dev libtomlplusplus-dev
  python3-jupyter-client jupyter-console docker-compose libboost-dev python3-prometheus-client
  python3-jupyter-kernel-test jupyter-notebook python3-jupyter-server libjs-chart.js tmux
  chromium-headless-shell)
ENGINE_PACKAGES=(docker.io iptables)

say() { echo "host-setup: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; exit 1; fi
}

missing_packages() {
  # Prints the packages of "$@" that are not installed.
  local installed
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null | awk '$2=="installed"{print $1}')
  for p in "$@"; do grep -qx "$p" <<<"$installed" || echo "$p"; done
}

install_packages() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  say "installing:" $missing
  export DEBIAN_FRONTEND=noninteractive
  # An old package list can miss versions; refresh it once when an install fails.
  if ! as_root apt-get install -y -qq $missing >/tmp/llmspell-apt.log 2>&1; then
    as_root apt-get update -qq >>/tmp/llmspell-apt.log 2>&1 || true
    as_root apt-get install -y -qq $missing >>/tmp/llmspell-apt.log 2>&1 ||
      { say "apt-get install failed, see /tmp/llmspell-apt.log"; exit 1; }
  fi
}

# The browser tests drive Debian's headless Chromium with npm's playwright-core, pinned by
# tests/browser/package-lock.json (no browser download); installed again only when the lockfile changes.
BROWSER_DIR=$(cd "$(dirname "$0")/../tests/browser" && pwd)
browser_modules() {
  local stamp="$BROWSER_DIR/node_modules/.installed-lock.sha256"
  local want
  want=$(sha256sum "$BROWSER_DIR/package-lock.json" | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  command -v npm >/dev/null || install_packages nodejs npm
  say "installing the browser tests' node modules (npm ci)"
  (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/tmp/llmspell-npm.log 2>&1) ||
    { say "npm ci failed, see /tmp/llmspell-npm.log"; exit 1; }
  echo "$want" >"$stamp"
}

# DOCKER_HOST: unix:///path or tcp://host:port (the same forms the fleet's client accepts).
docker_host=${DOCKER_HOST:-unix:///var/run/docker.sock}
case "$docker_host" in
  unix://*) socket=${docker_host#unix://}; ping_cmd=(curl -s -m 2 --unix-socket "$socket" http://localhost/_ping) ;;
  tcp://*)  socket=""; ping_cmd=(curl -s -m 2 "http://${docker_host#tcp://}/_ping") ;;
  *) say "DOCKER_HOST=\"$docker_host\" is not unix:///path or tcp://host:port"; exit 2 ;;
esac

engine_answers() { [ "$("${ping_cmd[@]}" 2>/dev/null)" = "OK" ]; }

ensure_engine() {
  engine_answers && return 0
  if [ -z "$socket" ]; then
    say "no Docker engine answers at $docker_host (a tcp engine is not started from here)"; exit 1
  fi
  install_packages "${ENGINE_PACKAGES[@]}"
  engine_answers && return 0
  if ! pgrep -x dockerd >/dev/null; then
    say "starting dockerd (log: $DOCKERD_LOG)"
    as_root mkdir -p "$(dirname "$DOCKERD_LOG")"
    # setsid: the daemon must outlive make and the shell that started it.
    as_root setsid dockerd -H "unix://$socket" >>"$DOCKERD_LOG" 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 120); do
    engine_answers && { say "engine ready at $docker_host"; return 0; }
    sleep 0.5
  done
  say "the Docker engine did not answer at $docker_host within 60 s; see $DOCKERD_LOG"
  tail -n 5 "$DOCKERD_LOG" >&2 || true
  exit 1
}

case "${1:-all}" in
  deps) install_packages "${BUILD_PACKAGES[@]}"; browser_modules ;;
  engine) ensure_engine ;;
  all) install_packages "${BUILD_PACKAGES[@]}"; browser_modules; ensure_engine ;;
  *) say "usage: host-setup.sh [deps|engine|all]"; exit 2 ;;
esac
