"""Kernel figures: image size, idle memory (RSS of the kernel process and the container's memory
use as `docker stats` counts it), spawn time (p50/p95), `metrics` and `list --verbose` with ten
kernels, execute round trip. Run by `make bench`; removes every kernel it starts."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernel"))
os.environ.setdefault("FLEET_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "llmspell-fleet"))
from test_kernel_container import ENGINE, ENV, SESSION, spawn, connect  # noqa: E402

ROUNDS = int(os.environ.get("KERNEL_BENCH_ROUNDS", "20"))
CLI = os.environ["FLEET_CLI"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(args, runs=5):
    """Median wall time of a fleet command, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([CLI] + args, env=ENV, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def memory_used(stats):
    m = stats["memory_stats"]
    inactive = m.get("stats", {}).get("total_inactive_file", m.get("stats", {}).get("inactive_file", 0))
    return m["usage"] - inactive


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    image = ENGINE.call("GET", "/images/llmspell:latest/json")
    print(f"image llmspell:latest: {image['Size'] / 1e6:.1f} MB")
    try:
        ready = []
        kernels = []
        for n in range(ROUNDS):
            start = time.perf_counter()
            kernels.append(spawn("lua"))
            ready.append(time.perf_counter() - start)
            if n + 1 == 10:
                total = len(json.loads(subprocess.run([CLI, "list", "--json"], env=ENV, check=True,
                                                      capture_output=True).stdout))
                print(f"with {total} kernels on the engine: `metrics` median {timed(['metrics', '--json']):.2f} s, "
                      f"`list --verbose` median {timed(['list', '--verbose', '--json']):.2f} s, "
                      f"`list` median {timed(['list', '--json']) * 1000:.0f} ms (5 runs each)")
        print(f"spawn (create, start, serving, host connection file), {ROUNDS} kernels one after another: "
              f"p50 {percentile(ready, 50) * 1000:.0f} ms, p95 {percentile(ready, 95) * 1000:.0f} ms, "
              f"min {min(ready) * 1000:.0f}, max {max(ready) * 1000:.0f}")

        time.sleep(2)  # let them settle idle
        rss, used = [], []
        for k in kernels[:5]:
            pid = ENGINE.call("GET", f"/containers/{k['container_id']}/json")["State"]["Pid"]
            rss.append(rss_kib(pid) / 1024)
            used.append(memory_used(ENGINE.call("GET", f"/containers/{k['container_id']}/stats?stream=0")) / 2**20)
        print(f"idle kernel memory (median of {len(rss)}): RSS {statistics.median(rss):.1f} MiB, "
              f"container memory use {statistics.median(used):.1f} MiB")

        client = connect(kernels[0])
        client.wait_for_ready(timeout=30)
        trips = []
        for i in range(50):
            start = time.perf_counter()
            reply = client.execute_interactive(f"{i} + 1", timeout=10, output_hook=lambda m: None)
            trips.append(time.perf_counter() - start)
            assert reply["content"]["status"] == "ok"
        client.stop_channels()
        print(f"execute round trip (execute_request to execute_reply with iopub idle, 50 runs): "
              f"median {statistics.median(trips) * 1000:.2f} ms, p90 {sorted(trips)[44] * 1000:.2f} ms")
    finally:
        for c in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1", ok=(204, 404))


if __name__ == "__main__":
    main()
