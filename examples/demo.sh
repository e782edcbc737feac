#!/usr/bin/env bash
# A tour of the fleet (what `make demo` runs): three kernels with three configs, code run in each
# through a real Jupyter client, their health and metrics, then all of them stopped.
# Needs `make build` (the binary, and the kernel image's context that spawn builds from when the
# image is missing) and a Docker engine. Leaves nothing behind, also when it fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

say "The fleet and its engine"
"$FLEET" version | sed 's/^/   /' || fail "the engine does not answer (make engine)"
info "fleet home: $LLMSPELL_FLEET_HOME"

say "1. Three kernels, three configs"
spawn_kernel openai openai.toml lua --owner alice
OPENAI=$KID OPENAI_CONN=$KCONN
info "$KID: openai.toml, lua, shell port $(json_field '["shell_port"]' <<<"$KROW")"
spawn_kernel anthropic anthropic.toml lua --owner bob
ANTHROPIC=$KID ANTHROPIC_CONN=$KCONN
info "$KID: anthropic.toml, lua, shell port $(json_field '["shell_port"]' <<<"$KROW")"
spawn_kernel local local.toml javascript --owner carol
LOCAL=$KID LOCAL_CONN=$KCONN
info "$KID: local.toml, javascript, shell port $(json_field '["shell_port"]' <<<"$KROW")"
KERNELS=("$OPENAI" "$ANTHROPIC" "$LOCAL")
echo
# `list` shows every kernel on the engine; the tour shows its own.
"$FLEET" list | grep -E "^KERNEL|-$RUN_ID " | sed 's/^/   /' || fail "list"

say "2. Code in each kernel, through jupyter_client and the host connection files"
for conn in "$OPENAI_CONN" "$ANTHROPIC_CONN" "$LOCAL_CONN"; do
  banner=$("$PYTHON" "$KERNEL_CLIENT" "$conn" --banner) || fail "no kernel_info from $conn"
  info "$banner"
done
case "$("$PYTHON" "$KERNEL_CLIENT" "$ANTHROPIC_CONN" --banner)" in
  *"provider anthropic"*) ok "the anthropic kernel runs with anthropic.toml" ;;
  *) fail "the anthropic kernel does not report provider anthropic" ;;
esac
echo
kexec "$OPENAI_CONN" --as alice 'greeting = "hello from " .. _VERSION'
kexec "$OPENAI_CONN" --as alice 'greeting' --expect-result 'hello from Lua 5.4'
kexec "$ANTHROPIC_CONN" --as bob 'for i = 1, 3 do print(i, i * i) end' --expect-stdout $'1\t1\n2\t4\n3\t9'
kexec "$ANTHROPIC_CONN" --as bob 'error("a Lua error is an error reply; the kernel goes on")' --expect-error LuaError
kexec "$ANTHROPIC_CONN" --as bob '6 * 7' --expect-result 42
kexec "$LOCAL_CONN" --as carol 'var squares = [1, 2, 3].map(function (x) { return x * x; })'
kexec "$LOCAL_CONN" --as carol 'squares.join(" ")' --expect-result '"1 4 9"'

say "3. Health and metrics"
wait_healthy "${KERNELS[@]}"
"$FLEET" health "${KERNELS[@]}" | sed 's/^/   /' || fail "health reports a problem"
echo
METRICS=$("$FLEET" metrics --json) "$PYTHON" - "${KERNELS[@]}" <<'EOF' || fail "metrics"
import json, os, sys
m = json.loads(os.environ["METRICS"])
mine = {k["kernel_id"]: k for k in m["kernels"]}
for kid in sys.argv[1:]:
    k = mine.get(kid)
    if not k:
        sys.exit(f"FAIL: {kid} is not in metrics")
    used, limit = k["memory_used"] / 2**20, k["memory_limit"] / 2**20
    print(f"   {kid:40} cpu {k['cpu_percent']:5.1f}%   memory {used:5.1f} MiB of {limit:.0f} MiB")
    if limit != 512 or not 0 < used < limit:
        sys.exit(f"FAIL: {kid}: memory {used} MiB of {limit} MiB, expected some of 512 MiB")
print(f"   the whole engine: {sum(m['kernels_by_state'].values())} kernel(s), "
      f"{m['total']['memory_used'] / 2**20:.1f} MiB in use")
EOF

say "4. Stop them all"
"$FLEET" stop "${KERNELS[@]}" | sed 's/^/   /' || fail "stop"
for id in "${KERNELS[@]}"; do
  [ -z "$(kernel_row "$id")" ] || fail "$id is still listed after stop"
  [ ! -e "$LLMSPELL_FLEET_HOME/$id.json" ] || fail "$id's connection file is still there"
done
ok "no kernel of this tour is listed, no connection file is left"
