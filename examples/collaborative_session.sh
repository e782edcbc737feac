#!/usr/bin/env bash
# Pair programming on one kernel: alice spawns it, bob joins it, and both work on the same
# interpreter through their own Jupyter clients (one connection file, two sessions). What one
# defines the other reads; each sees the other's input, output and errors on the broadcast (iopub)
# channel, as in a shared notebook. Removes the kernel at the end.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

say "1. alice starts a kernel for the session"
spawn_kernel pair openai.toml lua --owner alice
PAIR=$KID PAIR_CONN=$KCONN
info "$PAIR, connection file $PAIR_CONN"

say "2. bob looks for a shared kernel of the same kind: find --shared"
# find --shared answers with the oldest healthy kernel of this template on the engine, whoever
# started it, so on a busy engine it may be another session's kernel than alice's.
found=$("$FLEET" find --language lua --config openai.toml --shared --owner bob --json) || fail "find --shared"
found_id=$(json_field '["kernel_id"]' <<<"$found")
created=$(json_field '["created"]' <<<"$found")
if [ "$created" = True ]; then
  SPAWNED+=("$found_id")
  fail "find --shared started a new kernel ($found_id) although alice's $PAIR is running"
elif [ "$found_id" = "$PAIR" ]; then
  ok "find --shared gives bob alice's kernel $PAIR (created: false)"
else
  info "find --shared gives bob $found_id, an older kernel of this template on this engine that is"
  info "not this session's; bob joins alice's $PAIR through its connection file instead"
fi

say "3. Two clients, one kernel"
"$PYTHON" - "$PAIR_CONN" "$FLEET" "$PAIR" <<'EOF' || fail "the collaborative session did not go as expected"
import json
import queue
import subprocess
import sys
import time

from jupyter_client import BlockingKernelClient


def fail(message):
    sys.exit(f"FAIL: {message}")


def client():
    c = BlockingKernelClient()
    c.load_connection_file(sys.argv[1])
    c.start_channels()
    c.wait_for_ready(timeout=30)
    return c


alice, bob = client(), client()
if alice.session.session == bob.session.session:
    fail("the two clients share a session id")
print(f"   alice's session {alice.session.session[:8]}, bob's session {bob.session.session[:8]}")

# The fleet sees both: the kernel counts its connected clients, and list --verbose shows them.
deadline, clients = time.time() + 10, None
while time.time() < deadline and clients != 2:
    rows = json.loads(subprocess.run([sys.argv[2], "list", "--verbose", "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    clients = next((r.get("clients") for r in rows if r["kernel_id"] == sys.argv[3]), None)
    time.sleep(0.2)
if clients != 2:
    fail(f"list --verbose shows {clients} clients on the shared kernel, not 2")
print("   list --verbose: 2 clients connected")


def run(who, c, code, expect=None, error=None):
    """Runs code as one of the two; returns the result text."""
    out = []

    def hook(msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append("| " + content["text"].rstrip("\n"))
        elif kind == "execute_result":
            out.append("= " + content["data"]["text/plain"])
        elif kind == "error":
            out.append(f'! {content["ename"]}: {content["evalue"]}')

    print(f"   {who:5} >>> {code}")
    reply = c.execute_interactive(code, timeout=30, output_hook=hook)["content"]
    for line in out:
        print(f"   {'':5}     {line}")
    if error and reply.get("ename") != error:
        fail(f"expected {error}, got {reply['status']}")
    if not error and reply["status"] != "ok":
        fail(f"{reply.get('ename')}: {reply.get('evalue')}")
    results = [line[2:] for line in out if line.startswith("= ")]
    if expect is not None and results != [expect]:
        fail(f"expected {expect!r}, got {results!r}")
    return results


def drain(c):
    """What a client's iopub channel has received so far."""
    msgs = []
    while True:
        try:
            msgs.append(c.get_iopub_msg(timeout=0.5))
        except queue.Empty:
            return msgs


print("\n   -- a variable set by one is read by the other")
run("alice", alice, "answer = 6 * 7")
run("bob", bob, "answer", expect="42")
run("bob", bob, "answer = answer + 1")
run("alice", alice, "answer", expect="43")

print("\n   -- a shared data structure both of them add to")
run("alice", alice, 'review = {} function note(who, text) review[#review + 1] = who .. ": " .. text return #review end')
run("bob", bob, 'note("bob", "rename answer")', expect="1")
run("alice", alice, 'note("alice", "done")', expect="2")
run("bob", bob, 'table.concat(review, "; ")', expect="bob: rename answer; alice: done")

print("\n   -- live review: bob sees alice's input, output and errors as they happen")
drain(bob)
run("alice", alice, 'print("checking answer = " .. answer)')
run("alice", alice, 'answer.field = 1', error="LuaError")
seen = [m for m in drain(bob) if m["parent_header"].get("session") == alice.session.session]
inputs = [m["content"]["code"] for m in seen if m["msg_type"] == "execute_input"]
streams = [m["content"]["text"] for m in seen if m["msg_type"] == "stream"]
errors = [m["content"]["evalue"] for m in seen if m["msg_type"] == "error"]
for code in inputs:
    print(f"   bob's iopub: alice ran {code!r}")
for text in streams:
    print(f"   bob's iopub: alice's output {text.rstrip()!r}")
for text in errors:
    print(f"   bob's iopub: alice's error {text!r}")
if inputs != ['print("checking answer = " .. answer)', "answer.field = 1"]:
    fail(f"bob did not see alice's two inputs: {inputs}")
if streams != ["checking answer = 43\n"] or len(errors) != 1:
    fail(f"bob did not see alice's output and error: {streams} {errors}")

print("\n   -- bob debugs it in the same interpreter")
run("bob", bob, "type(answer)", expect="number")
run("bob", bob, "answer = {value = answer}")
run("alice", alice, "answer.field = 1")
run("alice", alice, "answer.value + answer.field", expect="44")

for c in (alice, bob):
    c.stop_channels()
print("   ok: both clients shared one interpreter")
EOF
ok "alice and bob worked in one kernel through two clients"
