"""Warm pool, stats and autoscaling figures for `make bench` (never a pass/fail test):
  - pool acquire vs a cold start of the same template through POST /kernels, interleaved, 20 each
    (target: acquire median <= 0.1 x cold), and the pool's own acquire (unpause + heartbeat, from
    GET /pool) vs one raw unpause call to the engine, interleaved (target <= 1.3 x);
  - a whole-fleet stats sample at 5, 10 and 20 kernels (`metrics`' sample time; target <= 1.5 s);
  - CPU of `serve` while 20 kernels idle (no pool, no autoscaler).
Every container it starts carries this run's labels and is removed at the end."""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernel"))
os.environ.setdefault("FLEET_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "llmspell-fleet"))
from test_kernel_container import ENGINE, TEST_LABELS  # noqa: E402
from bench_common import free_port, percentile, request  # noqa: E402

CLI = os.environ["FLEET_CLI"]
ROUNDS = int(os.environ.get("POOL_BENCH_ROUNDS", "20"))
LABEL_ARGS = [a for k, v in TEST_LABELS.items() for a in ("--label", f"{k}={v}")]


def engine_post(path):
    """One raw engine call (the unix socket, as `docker` makes it); its time in ms."""
    conn = ENGINE._connection()
    started = time.perf_counter()
    conn.request("POST", path)
    r = conn.getresponse()
    r.read()
    took = (time.perf_counter() - started) * 1000
    conn.close()
    if r.status not in (204, 304):
        raise RuntimeError(f"POST {path}: {r.status}")
    return took


def serve(home, settings, *args):
    port = free_port()
    env = dict(os.environ, LLMSPELL_FLEET_HOME=home, LLMSPELL_FLEET_SETTINGS=settings)
    log = open(os.path.join(home, "serve.log"), "ab")
    p = subprocess.Popen([CLI, "serve", "--port", str(port), *LABEL_ARGS, *args], env=env, stdout=log,
                         stderr=subprocess.STDOUT, cwd=home)
    for _ in range(200):
        try:
            request(port, "GET", "/health")
            return p, port, env
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("serve did not start")


def write_settings(text):
    path = os.path.join(tempfile.mkdtemp(prefix="fleet-bench-settings-"), "fleet.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def wait_pool_full(port, size, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pools = request(port, "GET", "/pool")[1]
        if pools and pools[0]["current_size"] >= size:
            return pools[0]
        time.sleep(0.1)
    raise RuntimeError("the pool did not fill")


def acquire_vs_cold():
    size = 3
    settings = write_settings('[templates.lua-default]\nlanguage = "lua"\nconfig = "default.toml"\n'
                              f'warm_pool = {{ enabled = true, size = {size}, refresh_interval_seconds = 3600 }}\n'
                              'graceful_drain = { timeout_seconds = 5, checkpoint_before_drain = false }\n')
    home = tempfile.mkdtemp(prefix="fleet-bench-pool-")
    server, port, _ = serve(home, settings)
    acquire, cold, unpause = [], [], []
    try:
        for i in range(ROUNDS):
            wait_pool_full(port, size)
            # A raw unpause of a container the same as a member: pause one running kernel, time the unpause.
            started = time.perf_counter()
            status, k = request(port, "POST", "/kernels", {"owner": "bench"})
            acquire.append((time.perf_counter() - started) * 1000)
            assert status == 201, k
            kid = k["kernel"]["container_id"]
            engine_post(f"/containers/{kid}/pause")
            unpause.append(engine_post(f"/containers/{kid}/unpause"))
            started = time.perf_counter()
            status, c = request(port, "POST", "/kernels", {"owner": "bench", "name": f"cold-{os.getpid()}-{i}",
                                                          "labels": TEST_LABELS})
            cold.append((time.perf_counter() - started) * 1000)
            assert status == 201, c
            for row in (k, c):
                request(port, "DELETE", f"/kernels/{row['kernel']['kernel_id']}?force=1&checkpoint=false")
        pool = request(port, "GET", "/pool")[1][0]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        subprocess.run([CLI, "stop-all", "--all", "--force"], env=dict(os.environ, LLMSPELL_FLEET_HOME=home),
                       capture_output=True)
    inner = pool.get("acquire_ms", {})
    a, c, u = statistics.median(acquire), statistics.median(cold), statistics.median(unpause)
    print(f"pool acquire (POST /kernels, from the pool): p50 {a:.1f} ms, p99 {percentile(acquire, 99):.1f} ms "
          f"(n={len(acquire)})")
    print(f"cold spawn (POST /kernels, same template):   p50 {c:.1f} ms, p99 {percentile(cold, 99):.1f} ms "
          f"(n={len(cold)})")
    print(f"  acquire / cold = {a / c:.3f} (target <= 0.1)")
    if inner:
        print(f"pool acquire inside serve (unpause + heartbeat): p50 {inner['p50']:.1f} ms, "
              f"p99 {inner['p99']:.1f} ms (n={inner['count']})")
        print(f"raw engine unpause: p50 {u:.1f} ms, p99 {percentile(unpause, 99):.1f} ms (n={len(unpause)})")
        print(f"  acquire / raw unpause = {inner['p50'] / u:.2f} (target <= 1.3)")
    print(f"pool hit rate: {pool['hit_rate_percent']:.0f}% ({pool['hits']} hits, {pool['misses']} misses)")


def spawn_kernels(home, count):
    env = dict(os.environ, LLMSPELL_FLEET_HOME=home, LLMSPELL_FLEET_SETTINGS=write_settings("# no pools\n"))
    for i in range(count):
        done = subprocess.run([CLI, "spawn", "default.toml", "lua", "--owner", "bench", "--json", *LABEL_ARGS],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
    return env


def stats_samples():
    home = tempfile.mkdtemp(prefix="fleet-bench-stats-")
    have = 0
    env = None
    results = {}
    try:
        # Through a serve (a long-running fleet: it keeps each container's previous sample, so the
        # engine's one-shot answers do), as its autoscaler samples; and the command line's, which
        # has no previous sample and waits for the engine's second tick.
        server, port, _ = None, None, None
        for n in (5, 10, 20):
            env = spawn_kernels(home, n - have)
            have = n
            if server is None:
                server, port, _ = serve(home, env["LLMSPELL_FLEET_SETTINGS"])
            request(port, "GET", "/metrics")  # the first sample of each new kernel: no previous one
            times = [request(port, "GET", "/metrics")[1]["sample_seconds"] for _ in range(5)]
            cli = [json.loads(subprocess.run([CLI, "metrics", "--json"], env=env, capture_output=True, text=True,
                                             check=True).stdout)["sample_seconds"] for _ in range(3)]
            results[n] = statistics.median(times)
            print(f"whole-fleet stats sample, {n} kernels: serve (autoscaler, GET /metrics) median "
                  f"{results[n]:.2f} s, max {max(times):.2f} s (target <= 1.5 s); command line (no previous "
                  f"sample) {statistics.median(cli):.2f} s")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        # CPU of serve with 20 idle kernels (no pools, no compose file: no autoscaler).
        server, port, _ = serve(home, env["LLMSPELL_FLEET_SETTINGS"])
        try:
            time.sleep(3)

            def cpu_ticks():
                with open(f"/proc/{server.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                return int(fields[11]) + int(fields[12])
            before, started = cpu_ticks(), time.time()
            time.sleep(20)
            used = (cpu_ticks() - before) / os.sysconf("SC_CLK_TCK")
            print(f"serve CPU with 20 idle kernels: {100 * used / (time.time() - started):.2f}% of one core")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
    finally:
        for c in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1", ok=(204, 404))


def main():
    try:
        acquire_vs_cold()
        stats_samples()
    finally:
        for c in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1", ok=(204, 404))


if __name__ == "__main__":
    main()
