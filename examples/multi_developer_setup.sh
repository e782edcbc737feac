#!/usr/bin/env bash
# Three developers, three providers, one kernel each: alice (OpenAI, Lua), bob (Anthropic, Lua) and
# carol (a local model, JavaScript). Shows that the kernels are isolated: each has the memory and
# CPU limits it asked for, as the engine enforces them, its own connection file and key, and no
# state of another's. Ends with how each developer connects, and removes the kernels.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# developer  config          language    memory  cpus
DEVELOPERS=(
  "alice     openai.toml     lua         256m    0.5"
  "bob       anthropic.toml  lua         384m    0.25"
  "carol     local.toml      javascript  128m    1"
)
declare -A KERNEL CONN MEMORY CPUS

say "1. One kernel per developer"
for row in "${DEVELOPERS[@]}"; do
  read -r dev config language memory cpus <<<"$row"
  spawn_kernel "$dev" "$config" "$language" --owner "$dev" --memory "$memory" --cpus "$cpus"
  KERNEL[$dev]=$KID CONN[$dev]=$KCONN MEMORY[$dev]=$memory CPUS[$dev]=$cpus
  info "$dev: $KID ($config, $language, --memory $memory --cpus $cpus)"
done

say "2. Each developer sees their own kernels: list --owner"
for dev in alice bob carol; do
  "$FLEET" list --owner "$dev" --json | "$PYTHON" -c 'import json, sys
rows = json.load(sys.stdin)
dev, mine = sys.argv[1], sys.argv[2]
if any(r["owner"] != dev for r in rows) or mine not in [r["kernel_id"] for r in rows]:
    sys.exit("FAIL: list --owner %s: %s" % (dev, [(r["kernel_id"], r["owner"]) for r in rows]))
print(f"   {dev}: " + ", ".join(r["kernel_id"] for r in rows))' "$dev" "${KERNEL[$dev]}" ||
    fail "list --owner $dev"
done

say "3. Isolated by limits: what the engine enforces on each container"
for dev in alice bob carol; do
  id=${KERNEL[$dev]}
  inspect=$(engine_get "/containers/$(kernel_row "$id" | json_field '["container_id"]')/json") ||
    fail "the engine does not know $id's container"
  memory=$(json_field '["HostConfig"]["Memory"]' <<<"$inspect")
  nano_cpus=$(json_field '["HostConfig"]["NanoCpus"]' <<<"$inspect")
  pids=$(json_field '["HostConfig"]["PidsLimit"]' <<<"$inspect")
  info "$dev ($id): Memory $((memory / 1048576)) MiB, NanoCpus $nano_cpus, PidsLimit $pids"
  expect_eq "$dev's memory limit (MiB)" "${MEMORY[$dev]%m}" "$((memory / 1048576))"
  expect_eq "$dev's CPU limit (NanoCpus)" \
    "$("$PYTHON" -c 'import sys; print(int(float(sys.argv[1]) * 1e9))' "${CPUS[$dev]}")" "$nano_cpus"
done
echo
info "and as the fleet reports them (list --verbose, from the engine's stats):"
"$FLEET" list --verbose | grep -E "^KERNEL|-$RUN_ID " | sed 's/^/   /' || fail "list --verbose"
for dev in alice bob carol; do
  limit=$(kernel_row "${KERNEL[$dev]}" --verbose | json_field '["memory_limit"]')
  expect_eq "$dev's memory_limit in list --verbose (MiB)" "${MEMORY[$dev]%m}" "$((limit / 1048576))"
done

say "4. Isolated by state: what alice defines is not in bob's or carol's kernel"
kexec "${CONN[alice]}" --as alice 'api_key = "alice-secret"; history = {"prompt 1", "prompt 2"}'
kexec "${CONN[alice]}" --as alice '#history .. " prompts, key " .. api_key' --expect-result '2 prompts, key alice-secret'
kexec "${CONN[bob]}" --as bob 'api_key == nil and history == nil' --expect-result true
kexec "${CONN[bob]}" --as bob 'api_key = "bob-secret"'
kexec "${CONN[carol]}" --as carol 'typeof api_key + " " + typeof history' --expect-result '"undefined undefined"'
kexec "${CONN[alice]}" --as alice 'api_key' --expect-result 'alice-secret'
ok "bob's assignment did not reach alice's kernel either"

say "5. Isolated by connection: a file, ports and key of their own (mode 0600)"
"$PYTHON" - "${CONN[alice]}" "${CONN[bob]}" "${CONN[carol]}" <<'EOF' || fail "connection files"
import json, os, sys
files = sys.argv[1:]
infos = [json.load(open(f)) for f in files]
for f, info in zip(files, infos):
    mode = os.stat(f).st_mode & 0o777
    print(f"   {os.path.basename(f)}: shell port {info['shell_port']}, key {info['key'][:8]}..., mode {mode:o}")
    if mode != 0o600:
        sys.exit(f"FAIL: {f} has mode {mode:o}, not 600")
if len({i["key"] for i in infos}) != 3 or len({i["shell_port"] for i in infos}) != 3:
    sys.exit("FAIL: two kernels share a key or a port")
EOF
ok "three keys, three port blocks"

say "6. Fleet metrics for the team"
METRICS=$("$FLEET" metrics --json) "$PYTHON" - alice "${KERNEL[alice]}" bob "${KERNEL[bob]}" \
  carol "${KERNEL[carol]}" <<'EOF' || fail "metrics"
import json, os, sys
kernels = {k["kernel_id"]: k for k in json.loads(os.environ["METRICS"])["kernels"]}
pairs = list(zip(sys.argv[1::2], sys.argv[2::2]))
total = 0
for dev, kid in pairs:
    k = kernels.get(kid) or sys.exit(f"FAIL: {kid} not in metrics")
    total += k["memory_used"]
    print(f"   {dev:6} {kid:22} cpu {k['cpu_percent']:5.1f}%  memory {k['memory_used'] / 2**20:5.1f} MiB"
          f" ({k['memory_percent']:.1f}% of {k['memory_limit'] / 2**20:.0f} MiB)")
print(f"   the team uses {total / 2**20:.1f} MiB")
EOF

say "7. How each developer connects"
for dev in alice bob carol; do
  info "$dev: jupyter console --existing ${CONN[$dev]}"
done
