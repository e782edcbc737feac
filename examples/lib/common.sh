# Shared by the example scripts (sourced, not run): which fleet binary, a fleet home of the script's
# own, the kernels it spawned and their removal on every exit, small assertions.
#
# Environment:
#   FLEET               the llmspell-fleet binary (default build/bin/llmspell-fleet of this repository)
#   LLMSPELL_FLEET_HOME the fleet home to use (default: a fresh temporary one, removed at exit)
#   FLEET_TEST=1        run as a test: every spawned kernel carries the test labels, so the test
#                       reaper removes what a run that died left behind
#   DOCKER_HOST         the engine (default unix:///var/run/docker.sock)
set -euo pipefail

EXAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$EXAMPLES_DIR/.." && pwd)
FLEET=${FLEET:-$REPO_ROOT/build/bin/llmspell-fleet}
# Debian's interpreter, where python3-jupyter-client is installed (not a pyenv or venv one).
PYTHON=${PYTHON:-/usr/bin/python3}
KERNEL_CLIENT=$EXAMPLES_DIR/lib/kernel_client.py
EXAMPLE=$(basename "$0" .sh)
SESSION="$EXAMPLE-$$-$(date +%s)"
# In every kernel id of this run: short, so `list` keeps its columns, and unique on the engine.
RUN_ID=$(printf '%x%04x' $$ "$RANDOM")
STARTED_AT=$(date +%s)

[ -x "$FLEET" ] || { echo "FAIL: no fleet binary at $FLEET (run \`make build\`, or set FLEET)" >&2; exit 1; }
"$PYTHON" -c 'import jupyter_client' 2>/dev/null ||
  { echo "FAIL: $PYTHON cannot import jupyter_client (apt-get install python3-jupyter-client)" >&2; exit 1; }

if [ -z "${LLMSPELL_FLEET_HOME:-}" ]; then
  LLMSPELL_FLEET_HOME=$(mktemp -d "${TMPDIR:-/tmp}/fleet-$EXAMPLE-XXXXXX")
  OWN_FLEET_HOME=1
else
  OWN_FLEET_HOME=0
fi
export LLMSPELL_FLEET_HOME

# Only tests label their kernels: the reaper of the test suite removes labelled leftovers of runs
# whose process is gone or whose time is up.
TEST_LABELS=()
if [ "${FLEET_TEST:-0}" = 1 ]; then
  TEST_LABELS=(--label "dev.llmspell.fleet-test.session=$SESSION"
               --label "dev.llmspell.fleet-test.pid=$$"
               --label "dev.llmspell.fleet-test.expires=$((STARTED_AT + 3600))")
fi

SPAWNED=()   # kernel ids this script created, stopped at exit

say() { printf '\n== %s\n' "$*"; }
info() { printf '   %s\n' "$*"; }
fail() { echo "FAIL [$EXAMPLE]: $*" >&2; exit 1; }
ok() { printf '   ok: %s\n' "$*"; }

expect_eq() {  # WHAT EXPECTED ACTUAL
  [ "$2" = "$3" ] || fail "$1: expected \"$2\", got \"$3\""
  ok "$1 = $3"
}

# A field of a JSON document on stdin, by a Python subscript path: json_field '["ports"]["shell"]'.
json_field() {
  "$PYTHON" -c 'import json, sys
value = eval("json.load(sys.stdin)" + sys.argv[1])
print(json.dumps(value) if isinstance(value, (dict, list)) else value)' "$1"
}

# The `list --json` row of one kernel (empty when the engine has no such kernel).
kernel_row() {  # KERNEL_ID [list options...]
  local id=$1; shift
  "$FLEET" list --json "$@" | "$PYTHON" -c 'import json, sys
rows = [r for r in json.load(sys.stdin) if r["kernel_id"] == sys.argv[1]]
print(json.dumps(rows[0]) if rows else "")' "$id"
}

# GET on the Engine API, over DOCKER_HOST like the fleet.
engine_get() {  # PATH
  local host=${DOCKER_HOST:-unix:///var/run/docker.sock}
  case "$host" in
    unix://*) curl -sf --unix-socket "${host#unix://}" "http://localhost$1" ;;
    tcp://*) curl -sf "http://${host#tcp://}$1" ;;
    *) fail "DOCKER_HOST=$host is not unix:// or tcp://" ;;
  esac
}

# Spawns a kernel with id NAME-<run id>; sets KID (its id), KCONN (its host connection file) and
# KROW (its `spawn --json` row). The id is chosen here and recorded before the engine is asked, so
# the exit trap removes the kernel even when spawn fails halfway. Not for $(...): it records state.
spawn_kernel() {  # NAME [spawn arguments...]
  KID="$1-$RUN_ID"; shift
  SPAWNED+=("$KID")
  local progress
  progress=$(mktemp)
  if ! KROW=$("$FLEET" spawn "$@" --name "$KID" "${TEST_LABELS[@]}" --json 2>"$progress"); then
    cat "$progress" >&2; rm -f "$progress"
    fail "spawn $* --name $KID failed"
  fi
  rm -f "$progress"
  KCONN=$(json_field '["connection_file"]' <<<"$KROW")
  [ -f "$KCONN" ] || fail "spawn $KID: no connection file at \"$KCONN\""
}

# Waits until the engine's health check calls every kernel given healthy (the image checks every
# 10 s, so a fresh kernel is "starting" for about that long, and `health` fails meanwhile).
wait_healthy() {  # KERNEL_ID...
  local deadline=$(( $(date +%s) + 40 )) states
  while :; do
    states=$("$FLEET" list --json | "$PYTHON" -c 'import json, sys
rows = {r["kernel_id"]: r for r in json.load(sys.stdin)}
print(" ".join(k + ":" + (rows[k]["health"] if k in rows else "missing") for k in sys.argv[1:]))' "$@")
    case " $states " in
      *":starting "*) ;;
      *":unhealthy "* | *":none "* | *":missing "*) fail "not healthy: $states" ;;
      *) return 0 ;;
    esac
    [ "$(date +%s)" -lt "$deadline" ] || fail "not healthy within 40 s: $states"
    sleep 1
  done
}

# Runs CODE in the kernel of CONNECTION_FILE through jupyter_client; see kernel_client.py for the
# --expect-* options.
kexec() {  # CONNECTION_FILE CODE [--expect-... VALUE]...
  "$PYTHON" "$KERNEL_CLIENT" "$@" || fail "kernel execution did not go as expected (see above)"
}

# Removes the kernels this script spawned (by id, also exited ones), then checks the engine kept
# none of them, and removes the fleet home when it is the script's own.
cleanup_example() {
  local status=$? containers left="" present=()
  trap - EXIT INT TERM
  set +e
  if [ "${#SPAWNED[@]}" -gt 0 ]; then
    # Only those still there: `stop` refuses the whole list when one name is unknown.
    read -r -a present < <("$FLEET" list --json 2>/dev/null | "$PYTHON" -c 'import json, sys
listed = {r["kernel_id"] for r in json.load(sys.stdin)}
print(" ".join(k for k in sys.argv[1:] if k in listed))' "${SPAWNED[@]}")
    if [ "${#present[@]}" -gt 0 ]; then
      "$FLEET" stop -t 5 "${present[@]}" 2>/dev/null | sed 's/^/   /'
    fi
  fi
  # Checked on the engine itself, by the fleet's kernel-id label: what `stop` missed shows here.
  containers=$(engine_get '/containers/json?all=1') || left="(cannot ask the engine)"
  [ -n "$left" ] || left=$("$PYTHON" -c 'import json, sys
mine = set(sys.argv[1:])
print(" ".join(c["Names"][0].lstrip("/") for c in json.load(sys.stdin)
               if (c.get("Labels") or {}).get("dev.llmspell.fleet.kernel-id") in mine))' "${SPAWNED[@]}" <<<"$containers")
  if [ "$OWN_FLEET_HOME" = 1 ]; then rm -rf "$LLMSPELL_FLEET_HOME"; fi
  if [ -n "$left" ]; then
    echo "FAIL [$EXAMPLE]: containers left behind: $left" >&2
    [ "$status" = 0 ] && status=1
  fi
  if [ "$status" = 0 ]; then
    echo
    echo "PASS [$EXAMPLE] in $(( $(date +%s) - STARTED_AT )) s; its ${#SPAWNED[@]} kernel(s) removed"
  fi
  exit "$status"
}
trap cleanup_example EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
