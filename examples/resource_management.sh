#!/usr/bin/env bash
# Resource management with the engine's cgroups: limits asked for at spawn (and what is refused),
# live usage of a kernel under load (list --verbose, metrics), a kernel pushed past its memory limit
# and killed by the engine, and `cleanup` removing what is left of it.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mib() { "$PYTHON" -c 'import sys; print(f"{int(sys.argv[1]) / 2**20:.1f}")' "$1"; }

say "1. Limits are checked before anything is created"
errors=$(mktemp)
for args in "--memory 100000g" "--memory 4m" "--cpus 64"; do
  # shellcheck disable=SC2086 # the options are meant to split
  if "$FLEET" spawn default.toml lua $args --name "refused-$RUN_ID" "${TEST_LABELS[@]}" >/dev/null 2>"$errors"; then
    SPAWNED+=("refused-$RUN_ID")
    fail "spawn $args was accepted"
  else
    code=$?
  fi
  expect_eq "exit code of spawn $args ($(sed 's/^llmspell-fleet: //' "$errors"))" 2 "$code"
done
rm -f "$errors"
[ -z "$(kernel_row "refused-$RUN_ID")" ] || { SPAWNED+=("refused-$RUN_ID"); fail "a refused spawn left a kernel"; }
ok "no kernel was created for them"

say "2. Two kernels with limits of their own"
spawn_kernel worker default.toml lua --memory 64m --cpus 0.25
WORKER=$KID WORKER_CONN=$KCONN
info "$WORKER: --memory 64m --cpus 0.25"
spawn_kernel small default.toml lua --memory 16m --cpus 0.5
SMALL=$KID SMALL_CONN=$KCONN
info "$SMALL: --memory 16m --cpus 0.5"
expect_eq "$WORKER's memory limit (engine, bytes)" $((64 * 1048576)) \
  "$(engine_get "/containers/llmspell-$WORKER/json" | json_field '["HostConfig"]["Memory"]')"
expect_eq "$WORKER's CPU limit (engine, NanoCpus)" 250000000 \
  "$(engine_get "/containers/llmspell-$WORKER/json" | json_field '["HostConfig"]["NanoCpus"]')"

say "3. Live usage: the worker holds 24 MiB and spins on its CPU quota"
kexec "$WORKER_CONN" 'blob = string.rep("x", 24 * 1024 * 1024)'
kexec "$WORKER_CONN" '#blob' --expect-result 25165824
kexec "$WORKER_CONN" 'spin(10)' --send-only
sleep 1   # the spin under way for a whole stats sample
"$FLEET" list --verbose | grep -E "^KERNEL|-$RUN_ID " | sed 's/^/   /' || fail "list --verbose"
row=$(kernel_row "$WORKER" --verbose)
cpu=$(json_field '["cpu_percent"]' <<<"$row")
used=$(json_field '["memory_used"]' <<<"$row")
limit=$(json_field '["memory_limit"]' <<<"$row")
info "$WORKER (list --verbose --json): cpu $(printf '%.1f' "$cpu")%, memory $(mib "$used") MiB of $(mib "$limit") MiB"
"$PYTHON" -c 'import sys
cpu, used, limit = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
# 0.25 CPU: the engine reports about 25 (percent of one CPU); the margin is for sampling jitter.
sys.exit(0 if 5 < cpu <= 35 and 24 * 2**20 < used < limit == 64 * 2**20 else 1)' "$cpu" "$used" "$limit" ||
  fail "expected a busy kernel held to 0.25 CPU (5-35%) using over 24 MiB of 64 MiB"
ok "busy, and held to its quarter CPU; the 24 MiB string shows in its memory"
echo
"$FLEET" metrics | grep -E "^KERNEL|^kernels:|-$RUN_ID " | sed 's/^/   /' || fail "metrics"
kexec "$WORKER_CONN" '"done spinning"' --expect-result 'done spinning'

say "4. Past the limit: the small kernel allocates beyond its 16 MiB"
kexec "$SMALL_CONN" 'local t = {} for i = 1, 1e7 do t[i] = string.rep("x", 64) .. i end' --send-only
deadline=$(( $(date +%s) + 30 ))
until [ "$(kernel_row "$SMALL" | json_field '["state"]')" = exited ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "$SMALL did not exit within 30 s"
  sleep 0.5
done
row=$(kernel_row "$SMALL")
"$FLEET" list | grep -E "^KERNEL|-$RUN_ID " | sed 's/^/   /' || fail "list"
expect_eq "$SMALL's state_reason" "OOM killed" "$(json_field '["state_reason"]' <<<"$row")"
expect_eq "OOMKilled on the engine" True \
  "$(engine_get "/containers/llmspell-$SMALL/json" | json_field '["State"]["OOMKilled"]')"
if "$FLEET" health "$SMALL" | sed 's/^/   /'; then fail "health calls an OOM-killed kernel healthy"; fi
ok "health fails for it"
kexec "$WORKER_CONN" 'blob:sub(1, 3)' --expect-result xxx
ok "the worker next to it kept its state"

say "5. cleanup removes exited kernels"
# cleanup removes every exited kernel on the engine, not only this fleet home's. On an engine others
# use too, it runs here only when the OOM-killed kernel is the only one; else that one is stopped.
others=$("$FLEET" list --json | "$PYTHON" -c 'import json, sys
print(" ".join(r["kernel_id"] for r in json.load(sys.stdin)
               if r["state"] in ("exited", "dead", "created") and r["kernel_id"] != sys.argv[1]))' "$SMALL")
if [ -z "$others" ]; then
  report=$("$FLEET" cleanup --json) || fail "cleanup"
  removed=$(json_field '["removed"]' <<<"$report")
  info "cleanup removed: $removed"
  [ "$removed" = "[\"$SMALL\"]" ] || info "note: cleanup also removed kernels of others: $removed"
  case "$removed" in *"\"$SMALL\""*) ok "cleanup removed $SMALL" ;; *) fail "cleanup did not remove $SMALL" ;; esac
else
  info "other exited kernels on this engine ($others): stopping $SMALL by id instead of cleanup"
  "$FLEET" stop "$SMALL" | sed 's/^/   /' || fail "stop $SMALL"
fi
[ -z "$(kernel_row "$SMALL")" ] || fail "$SMALL is still listed"
engine_get "/containers/llmspell-$SMALL/json" >/dev/null 2>&1 && fail "$SMALL's container is still on the engine"
[ ! -e "$SMALL_CONN" ] || fail "$SMALL's connection file is still there"
ok "$SMALL: no container, no connection file"
[ "$(kernel_row "$WORKER" | json_field '["state"]')" = running ] || fail "$WORKER is not running any more"
ok "$WORKER is still running"
