"""Jupyter gateway figures for `make bench` (never a pass/fail test):
  - a notebook kernel's start: from POST /api/kernels to the first execute_reply over the kernel's
    WebSocket, with the warm pool and without, interleaved, 20 each;
  - an execute round trip over the WebSocket (through serve's bridge) vs the same over ZeroMQ
    directly (jupyter_client on the kernel's connection file), interleaved, 200 each.
Every container it starts carries this run's labels and is removed at the end."""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernel"))
os.environ.setdefault("FLEET_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "llmspell-fleet"))
from bench_common import percentile, request  # noqa: E402
from pool_bench import serve, wait_pool_full, write_settings  # noqa: E402

import websocket  # noqa: E402
from jupyter_client import BlockingKernelClient  # noqa: E402

CLI = os.environ["FLEET_CLI"]
ROUNDS = int(os.environ.get("GATEWAY_BENCH_ROUNDS", "20"))
TRIPS = int(os.environ.get("GATEWAY_BENCH_TRIPS", "200"))
POOL_SIZE = 3


def execute_message(code):
    return json.dumps({"channel": "shell", "header": {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request",
                                                      "session": "bench", "username": "bench", "version": "5.3"},
                       "parent_header": {}, "metadata": {},
                       "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                                   "allow_stdin": False, "stop_on_error": True}})


def ws_execute(ws, code):
    """Sends an execute_request and waits for its reply; the time in ms."""
    msg = execute_message(code)
    msg_id = json.loads(msg)["header"]["msg_id"]
    started = time.perf_counter()
    ws.send(msg)
    while True:
        m = json.loads(ws.recv())
        if m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id:
            return (time.perf_counter() - started) * 1000


def start_to_first_reply(port):
    """POST /api/kernels, the WebSocket, the first execute_reply: ms, and the kernel's gateway id."""
    started = time.perf_counter()
    status, model = request(port, "POST", "/api/kernels", {"name": "llmspell-lua-default"})
    assert status == 201, model
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/api/kernels/{model['id']}/channels", timeout=60)
    msg = execute_message("x = 1")
    msg_id = json.loads(msg)["header"]["msg_id"]
    ws.send(msg)
    while True:
        m = json.loads(ws.recv())
        if m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id:
            break
    took = (time.perf_counter() - started) * 1000
    ws.close()
    return took, model


def report(name, values):
    print(f"{name}: p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
          f"p99 {percentile(values, 99):.1f} ms (n={len(values)})")


def main():
    pooled_settings = write_settings(
        '[templates.lua-default]\nlanguage = "lua"\nconfig = "default.toml"\n'
        f'warm_pool = {{ enabled = true, size = {POOL_SIZE}, refresh_interval_seconds = 3600 }}\n'
        'graceful_drain = { timeout_seconds = 5, checkpoint_before_drain = false }\n')
    cold_settings = write_settings("# no pools\n")
    homes = [tempfile.mkdtemp(prefix="fleet-bench-gateway-") for _ in range(2)]
    (pooled, pooled_port, _), (cold, cold_port, _) = serve(homes[0], pooled_settings), serve(homes[1], cold_settings)
    with_pool, without_pool, over_ws, over_zmq = [], [], [], []
    try:
        for _ in range(ROUNDS):
            wait_pool_full(pooled_port, POOL_SIZE)
            for port, into in ((pooled_port, with_pool), (cold_port, without_pool)):
                took, model = start_to_first_reply(port)
                into.append(took)
                request(port, "DELETE", f"/api/kernels/{model['id']}")

        # One kernel, two clients: the WebSocket through serve, and ZeroMQ straight to its ports.
        status, model = request(cold_port, "POST", "/api/kernels", {"name": "llmspell-lua-default"})
        connection = request(cold_port, "GET", f"/kernels/{model['llmspell']['kernel_id']}")[1]
        ws = websocket.create_connection(f"ws://127.0.0.1:{cold_port}/api/kernels/{model['id']}/channels")
        client = BlockingKernelClient()
        client.load_connection_file(connection["connection_file"])
        client.start_channels()
        client.wait_for_ready(timeout=30)
        for _ in range(TRIPS):
            over_ws.append(ws_execute(ws, "x = 1"))
            # The same measure on both sides: the request sent, its execute_reply back.
            started = time.perf_counter()
            msg_id = client.execute("x = 1", store_history=False)
            while client.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != msg_id:
                pass
            over_zmq.append((time.perf_counter() - started) * 1000)
        client.stop_channels()
        ws.close()
        request(cold_port, "DELETE", f"/api/kernels/{model['id']}")
    finally:
        for server, home in ((pooled, homes[0]), (cold, homes[1])):
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
            subprocess.run([CLI, "stop-all", "--all", "--force"], env=dict(os.environ, LLMSPELL_FLEET_HOME=home),
                           capture_output=True)
    report("notebook kernel start, POST /api/kernels to first execute_reply, warm pool", with_pool)
    report("notebook kernel start, POST /api/kernels to first execute_reply, no pool  ", without_pool)
    print(f"  pool / no pool = {statistics.median(with_pool) / statistics.median(without_pool):.3f}")
    report("execute round trip over the gateway's WebSocket", over_ws)
    report("execute round trip over ZeroMQ (jupyter_client)", over_zmq)
    print(f"  WebSocket / ZeroMQ = {statistics.median(over_ws) / statistics.median(over_zmq):.2f}")


if __name__ == "__main__":
    main()
