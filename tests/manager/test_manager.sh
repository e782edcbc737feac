#!/usr/bin/env bash
# The fleet manager as a service: compose's fleet-manager (profile manager) built offline and run
# under a project of this test's own, on a free port of the host's loopback; its token, its refusals
# (no configs variable, no token), how the engine runs it (inspect), a kernel spawned, used by a
# Jupyter client and removed through its API, exit code 0 on SIGTERM, and the systemd unit passing
# `systemd-analyze verify`. Removes what it created on every exit, also when it fails; the image
# llmspell-fleet:latest is a build product (like llmspell:latest) and stays.
#
# Environment:
#   FLEET               the llmspell-fleet binary (default build/bin/llmspell-fleet of this repository)
#   MANAGER_CONTEXT     the staged manager image context (default build/docker/manager)
#   LLMSPELL_FLEET_PORT the manager's port (default: a free one)
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FLEET=${FLEET:-$SOURCE_DIR/build/bin/llmspell-fleet}
MANAGER_CONTEXT=${MANAGER_CONTEXT:-$SOURCE_DIR/build/docker/manager}
COMPOSE=$SOURCE_DIR/compose/docker-compose.yml
UNIT=$SOURCE_DIR/docker/llmspell-fleet.service
SOCKET=/var/run/docker.sock   # what the service mounts
PYTHON=/usr/bin/python3
# Everything this run creates is named after it: the project (container, volume), the kernel's id and
# owner. Earlier runs that died are recognised by the process id in these names.
PREFIX=fleet-test-manager
PROJECT=$PREFIX-$$
OWNER=$PREFIX-$$
KID=mgrtest-$(printf '%x%04x' $$ "$RANDOM")

fail() { echo "FAIL [manager]: $*" >&2; exit 1; }
ok() { echo "   ok: $*"; }

[ -x "$FLEET" ] || fail "no fleet binary at $FLEET (make build, or set FLEET)"
[ -f "$MANAGER_CONTEXT/Dockerfile" ] || fail "no staged manager context at $MANAGER_CONTEXT (make build)"
[ -S "$SOCKET" ] || fail "no Docker socket at $SOCKET (the service mounts that one)"
command -v systemd-analyze >/dev/null || fail "no systemd-analyze (apt-get install systemd)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/$PREFIX-$$-XXXXXX")
# The host-side CLI (stop, list, down) keeps its registry in a fleet home of this run's own.
export LLMSPELL_FLEET_HOME=$WORK/home
fleet() { "$FLEET" -f "$COMPOSE" -p "$PROJECT" --profile manager "$@"; }
engine() {  # METHOD PATH: the Engine API on the socket; prints the body, then the status code
  curl -s --unix-socket "$SOCKET" -X "$1" -w '\n%{http_code}' "http://localhost$2"
}
project_objects() {  # containers and volumes carrying this run's project label, one per line
  local filter="%7B%22label%22%3A%5B%22com.docker.compose.project%3D$PROJECT%22%5D%7D"
  { engine GET "/containers/json?all=1&filters=$filter" | sed '$d'; echo
    engine GET "/volumes?filters=$filter" | sed '$d'; } |
    "$PYTHON" -c 'import json, sys
for line in sys.stdin:
    if not line.strip(): continue
    d = json.loads(line)
    for c in d if isinstance(d, list) else (d.get("Volumes") or []):
        print(c.get("Id", c.get("Name")))'
}

cleanup() {
  local code=$?
  set +e
  if "$FLEET" list --json --owner "$OWNER" 2>/dev/null | grep -q "\"$KID\""; then
    "$FLEET" stop --timeout 0 "$KID" >/dev/null 2>&1
  fi
  # (down with the configs variable set: the fleet creates missing bind sources of the services it
  # takes down, and would make the compose file's placeholder folder, /LLMSPELL_FLEET_CONFIGS-is-not-set.)
  LLMSPELL_FLEET_CONFIGS=$SOURCE_DIR/configs fleet down -v --timeout 10 >/dev/null 2>&1
  rm -rf "$WORK"
  if [ -n "$(project_objects)" ]; then
    echo "FAIL [manager]: left behind: $(project_objects | tr '\n' ' ')" >&2
    code=1
  fi
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What runs of this test that died left behind: their project, their kernels, their temporary folder
# (each has a dead pid in its name).
reap_dead_runs() {
  local filter="%7B%22label%22%3A%5B%22com.docker.compose.project%22%5D%7D" project owner
  for project in $(engine GET "/containers/json?all=1&filters=$filter" | sed '$d' | "$PYTHON" -c '
import json, sys
print("\n".join(sorted({c["Labels"]["com.docker.compose.project"] for c in json.load(sys.stdin)})))' |
      grep -E "^$PREFIX-[0-9]+$"); do
    [ -d "/proc/${project##*-}" ] && continue
    LLMSPELL_FLEET_CONFIGS=$SOURCE_DIR/configs "$FLEET" -f "$COMPOSE" -p "$project" down -v --timeout 0 >/dev/null 2>&1 || true
  done
  for owner in $("$FLEET" list --json 2>/dev/null | "$PYTHON" -c '
import json, sys
print("\n".join(sorted({k["owner"] for k in json.load(sys.stdin)})))' | grep -E "^$PREFIX-[0-9]+$"); do
    [ -d "/proc/${owner##*-}" ] && continue
    "$FLEET" stop-all --owner "$owner" --force >/dev/null 2>&1 || true
  done
  local dir pid
  for dir in "${TMPDIR:-/tmp}/$PREFIX"-*-*; do
    pid=${dir##*/$PREFIX-}
    pid=${pid%%-*}
    [[ -d $dir && $pid =~ ^[0-9]+$ && ! -d /proc/$pid ]] && rm -rf "$dir"
  done
  return 0
}
reap_dead_runs

# A port of the host's loopback nobody listens on (the manager binds the host's, over host network).
PORT=${LLMSPELL_FLEET_PORT:-$("$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
TOKEN=$(head -c 32 /dev/urandom | base64 | tr -d '+/=\n')
export LLMSPELL_FLEET_PORT=$PORT
unset LLMSPELL_FLEET_CONFIGS LLMSPELL_FLEET_TOKEN LLMSPELL_DOCKER_GID

echo "== the image (llmspell-fleet:latest), offline from $MANAGER_CONTEXT"
# Through compose's build section when it names this build's context (build/ of this tree), else
# straight from the context this test was configured with.
if [ "$(realpath "$SOURCE_DIR/build/docker/manager" 2>/dev/null)" = "$(realpath "$MANAGER_CONTEXT")" ]; then
  fleet build fleet-manager >/dev/null
else
  "$FLEET" build --context "$MANAGER_CONTEXT" --tag llmspell-fleet:latest >/dev/null
fi
[ "$(engine GET /images/llmspell-fleet:latest/json | tail -n1)" = 200 ] || fail "no llmspell-fleet:latest after the build"
ok "built"

echo "== refusals: no configs folder, no token"
PLACEHOLDER=/LLMSPELL_FLEET_CONFIGS-is-not-set   # the compose file's source when the variable is unset
[ ! -e "$PLACEHOLDER" ] || fail "$PLACEHOLDER exists (made by a down without LLMSPELL_FLEET_CONFIGS?): remove it"
set +e
out=$(LLMSPELL_FLEET_TOKEN=$TOKEN LLMSPELL_DOCKER_GID=$(stat -c %g "$SOCKET") fleet up fleet-manager --wait 2>&1)
code=$?
set -e
[ "$code" = 2 ] || fail "up without LLMSPELL_FLEET_CONFIGS: exit $code, expected 2: $out"
grep -q "LLMSPELL_FLEET_CONFIGS-is-not-set does not exist" <<<"$out" || fail "up without LLMSPELL_FLEET_CONFIGS: $out"
[ -z "$(project_objects)" ] || fail "a refused up created $(project_objects)"
ok "without LLMSPELL_FLEET_CONFIGS, up refuses the mount and creates nothing"

export LLMSPELL_FLEET_CONFIGS=$SOURCE_DIR/configs
export LLMSPELL_DOCKER_GID=$(stat -c %g "$SOCKET")
if fleet up fleet-manager --wait --timeout 30 >/dev/null 2>&1; then fail "the manager came up without a token"; fi
logs=$(fleet logs --tail 5 fleet-manager 2>&1)
grep -q "LLMSPELL_FLEET_TOKEN is not set" <<<"$logs" || fail "no refusal in the container's log: $logs"
ok "without a token the manager does not start, and its log says why"

echo "== up with the token, on 127.0.0.1:$PORT"
export LLMSPELL_FLEET_TOKEN=$TOKEN
fleet up fleet-manager --wait --timeout 90 >/dev/null || {
  fleet logs --tail 20 fleet-manager >&2 || true
  fail "the manager did not become healthy"
}
# The engine's view of it, not the CLI's.
inspect=$(engine GET "/containers/$PROJECT-fleet-manager-1/json" | sed '$d')
"$PYTHON" - "$inspect" "$LLMSPELL_DOCKER_GID" "$LLMSPELL_FLEET_CONFIGS" <<'EOF' || fail "the manager's container is not as designed"
import json, sys
c, gid, configs = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
h = c["HostConfig"]
checks = {
    "healthy": c["State"]["Health"]["Status"] == "healthy",
    "host network": h["NetworkMode"] == "host",
    "user 1000 in the socket's group": c["Config"]["User"] == f"1000:{gid}",
    "all capabilities dropped": h["CapDrop"] == ["ALL"],
    "no-new-privileges": "no-new-privileges:true" in (h["SecurityOpt"] or []),
    "read-only root": h["ReadonlyRootfs"] is True,
    "limits": h["Memory"] > 0 and h["NanoCpus"] > 0 and (h["PidsLimit"] or 0) > 0,
    "restart unless-stopped": h["RestartPolicy"]["Name"] == "unless-stopped",
    "configs at their host path, read-only": f"{configs}:{configs}:ro" in h["Binds"],
}
bad = [name for name, good in checks.items() if not good]
if bad:
    print("FAIL [manager]: " + ", ".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
ok "healthy; host network, user 1000:$LLMSPELL_DOCKER_GID, no capabilities, read-only, limits, configs at their host path"

api() {  # METHOD PATH [BODY]: the manager's API with the token; prints the body, then the status code
  curl -s -X "$1" -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" \
    ${3:+-H "Content-Type: application/json" --data "$3"} "http://127.0.0.1:$PORT$2"
}
status() { tail -n1; }

[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/kernels")" = 401 ] ||
  fail "GET /kernels without the token is not 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer not-$TOKEN" "http://127.0.0.1:$PORT/kernels")" = 401 ] ||
  fail "GET /kernels with a wrong token is not 401"
[ "$(api GET /kernels | status)" = 200 ] || fail "GET /kernels with the token is not 200"
ok "GET /kernels: 401 without the token or with a wrong one, 200 with it"

echo "== a kernel through the API"
reply=$(api POST /kernels "{\"config\": \"default.toml\", \"language\": \"lua\", \"name\": \"$KID\", \"owner\": \"$OWNER\"}")
[ "$(status <<<"$reply")" = 201 ] || fail "POST /kernels: $reply"
(umask 077 && sed '$d' <<<"$reply" | "$PYTHON" -c 'import json, sys
json.dump(json.load(sys.stdin)["connection"], open(sys.argv[1], "w"))' "$WORK/$KID.json")
ok "POST /kernels: 201, $KID"
# The engine mounted the config from the host path the manager read it at.
binds=$(engine GET "/containers/llmspell-$KID/json" | sed '$d' | "$PYTHON" -c 'import json, sys
print(json.load(sys.stdin)["HostConfig"]["Binds"][0])')
[ "$binds" = "$SOURCE_DIR/configs/default.toml:/etc/llmspell/config.toml:ro" ] || fail "the kernel's config bind is $binds"
ok "the kernel's config is bound from the host path"
# A Jupyter client on the connection the API answered with.
"$PYTHON" "$SOURCE_DIR/examples/lib/kernel_client.py" "$WORK/$KID.json" '6 * 7' --expect-result 42 >/dev/null ||
  fail "no execute round trip with $KID"
ok "execute round trip through the connection the API returned"
[ "$(api GET "/kernels/$KID" | "$PYTHON" -c 'import json, sys
print(json.loads(sys.stdin.read().rsplit("\n", 1)[0])["owner"])')" = "$OWNER" ] || fail "GET /kernels/$KID"
reply=$(api DELETE "/kernels/$KID")
[ "$(status <<<"$reply")" = 200 ] || fail "DELETE /kernels/$KID: $reply"
[ "$(engine GET "/containers/llmspell-$KID/json" | status)" = 404 ] || fail "$KID's container is still there"
ok "DELETE /kernels/$KID: 200, its container is gone"

echo "== the systemd unit"
# verify wants ExecStart's binary to exist: a copy of the unit names the one just built instead.
mkdir -p "$WORK/unit"
sed "s|^ExecStart=/usr/local/bin/llmspell-fleet |ExecStart=$FLEET |" "$UNIT" >"$WORK/unit/llmspell-fleet.service"
grep -q "^ExecStart=$FLEET serve " "$WORK/unit/llmspell-fleet.service" || fail "no ExecStart to point at $FLEET"
out=$(systemd-analyze verify "$WORK/unit/llmspell-fleet.service" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify has remarks: $out"
ok "systemd-analyze verify passes, without remarks"

echo "== stop and down"
# serve is PID 1 here (the entrypoint execs it): SIGTERM must stop it, and with exit code 0.
[ "$(engine POST "/containers/$PROJECT-fleet-manager-1/stop?t=30" | status)" = 204 ] || fail "stop"
code=$(engine GET "/containers/$PROJECT-fleet-manager-1/json" | sed '$d' | "$PYTHON" -c 'import json, sys
print(json.load(sys.stdin)["State"]["ExitCode"])')
[ "$code" = 0 ] || fail "the manager exited $code on SIGTERM"
ok "SIGTERM: exit code 0"
fleet down -v --timeout 30 >/dev/null
[ -z "$(project_objects)" ] || fail "down left $(project_objects)"
[ ! -e "$PLACEHOLDER" ] || fail "$PLACEHOLDER was created"
ok "nothing of $PROJECT is left"
echo "PASS [manager]"
