"""`serve` figures for `make bench` (never a pass/fail test): spawn p50/p95 through POST /kernels,
Debian's wrk against GET /kernels and GET /health with 20 kernels (requests/s, p50, p99), RSS of
`serve` idle and with 20 kernels, and how long the server takes to tell an event client that a
kernel died. Installs wrk when missing; removes every kernel it starts, also when interrupted."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernel"))
os.environ.setdefault("FLEET_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "llmspell-fleet"))
from test_kernel_container import ENGINE, TEST_LABELS  # noqa: E402
from bench_common import free_port, percentile, request  # noqa: E402

CLI = os.environ["FLEET_CLI"]
KERNELS = int(os.environ.get("SERVE_BENCH_KERNELS", "20"))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wrk(port, path):
    """wrk's requests/s, p50 and p99 latency (ms) for 10 s, 2 threads, 10 connections."""
    out = subprocess.run(["wrk", "-t2", "-c10", "-d10s", "--latency", f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout

    def ms(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(errors.group(1)) if errors else 0


def main():
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    home = tempfile.mkdtemp(prefix="fleet-serve-bench-")
    port = free_port()
    env = dict(os.environ, LLMSPELL_FLEET_HOME=home)
    server = subprocess.Popen([CLI, "serve", "--port", str(port), "-f", "/nonexistent.yml"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ids = []
    try:
        for _ in range(100):
            try:
                request(port, "GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        idle = rss_mib(server.pid)
        owner = f"bench{os.getpid()}"
        spawn_times = []
        for _ in range(KERNELS):
            start = time.perf_counter()
            status, body = request(port, "POST", "/kernels", {"owner": owner, "labels": TEST_LABELS})
            spawn_times.append(time.perf_counter() - start)
            assert status == 201, body
            ids.append(body["kernel"]["kernel_id"])
        print(f"spawn through POST /kernels, {KERNELS} one after another: p50 {percentile(spawn_times, 50) * 1000:.0f} ms, "
              f"p95 {percentile(spawn_times, 95) * 1000:.0f} ms")
        for path in ("/kernels", "/health"):
            rps, p50, p99, errors = wrk(port, path)
            print(f"wrk GET {path} with {KERNELS} kernels (10 s, 2 threads, 10 connections): {rps:.0f} requests/s, "
                  f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, non-2xx {errors}")
        print(f"serve RSS: idle {idle:.1f} MiB, with {KERNELS} kernels after the wrk runs {rss_mib(server.pid):.1f} MiB")

        # Death notice: a kernel killed from outside, to the `died` event on an SSE client.
        seen = threading.Event()
        victim = ids[-1]
        got = {}

        def listen():
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while not seen.is_set():
                chunk = s.recv(65536)
                if not chunk:
                    return
                data += chunk
                for line in data.split(b"\n"):
                    if line.startswith(b"data: ") and b'"died"' in line and victim.encode() in line:
                        got["at"] = time.perf_counter()
                        seen.set()
            s.close()

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        time.sleep(0.5)
        killed_at = time.perf_counter()
        ENGINE.call("POST", f"/containers/llmspell-{victim}/kill")
        seen.wait(10)
        if "at" in got:
            print(f"a kernel killed from outside -> `died` on an event client: {(got['at'] - killed_at) * 1000:.0f} ms "
                  "(from the kill request, the engine's own part included)")
        else:
            print("a kernel killed from outside: no `died` event within 10 s")
    finally:
        for kid in ids:
            try:
                request(port, "DELETE", f"/kernels/{kid}?force=true")
            except OSError:
                pass
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        for c in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1", ok=(204, 404))
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
