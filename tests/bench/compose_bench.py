"""`llmspell-fleet` against Debian's docker-compose 1.29 on the same compose file: `up` of 10
replicas (from nothing, detached) and `ps` of those 10, interleaved rounds, medians and ratios,
plus the peak memory of each `ps`. Run by `make bench`; removes both projects at the end."""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

FLEET = os.environ["FLEET_CLI"]
ROUNDS = int(os.environ.get("COMPOSE_BENCH_ROUNDS", "5"))
PS_ROUNDS = int(os.environ.get("COMPOSE_BENCH_PS_ROUNDS", "10"))
SESSION = f"bench{os.getpid()}"

COMPOSE_FILE = f"""
services:
  web:
    image: llmspell-fleet-test:latest
    user: "1000:1000"
    mem_limit: 64m
    cpus: 0.25
    pids_limit: 32
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    stop_grace_period: 5s
    labels:
      dev.llmspell.fleet-test.session: "{SESSION}"
      dev.llmspell.fleet-test.pid: "{os.getpid()}"
      dev.llmspell.fleet-test.expires: "{int(time.time()) + 3600}"
"""


def timed(args, cwd):
    """Wall time in seconds and peak RSS in MiB of one command, which must succeed."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.read().decode()[:500]}")
    return elapsed, usage.ru_maxrss / 1024


def main():
    with tempfile.TemporaryDirectory(prefix="fleet-compose-bench-") as d:
        with open(os.path.join(d, "docker-compose.yml"), "w") as f:
            f.write(COMPOSE_FILE)
        fleet = lambda *a: [FLEET, "-p", "benchfleet", "-f", "docker-compose.yml", *a]
        compose = lambda *a: ["docker-compose", "-p", "benchcompose", "-f", "docker-compose.yml", *a]
        try:
            ups = {"fleet": [], "compose": []}
            for i in range(ROUNDS):
                order = [("fleet", fleet("up", "--scale", "web=10")), ("compose", compose("up", "-d", "--scale", "web=10"))]
                for name, args in (order if i % 2 == 0 else order[::-1]):
                    ups[name].append(timed(args, d)[0])
                timed(fleet("down", "-t", "1"), d)
                timed(compose("down", "-t", "1"), d)

            timed(fleet("up", "--scale", "web=10"), d)
            ps = {"fleet": [], "compose": []}
            rss = {"fleet": [], "compose": []}
            for i in range(PS_ROUNDS):
                # The same 10 containers, listed by each tool (compose reads our labels).
                order = [("fleet", fleet("ps")),
                         ("compose", ["docker-compose", "-p", "benchfleet", "-f", "docker-compose.yml", "ps"])]
                for name, args in (order if i % 2 == 0 else order[::-1]):
                    t, m = timed(args, d)
                    ps[name].append(t)
                    rss[name].append(m)
        finally:
            subprocess.run(fleet("down", "-t", "1"), cwd=d, capture_output=True)
            subprocess.run(compose("down", "-t", "1"), cwd=d, capture_output=True)

    med = {k: statistics.median(v) for k, v in ups.items()}
    print(f"up of 10 replicas from nothing, {ROUNDS} interleaved rounds, medians:")
    print(f"  llmspell-fleet up --scale web=10      {med['fleet']:.2f} s")
    print(f"  docker-compose up -d --scale web=10   {med['compose']:.2f} s   (ratio {med['compose'] / med['fleet']:.2f})")
    med = {k: statistics.median(v) for k, v in ps.items()}
    mem = {k: statistics.median(v) for k, v in rss.items()}
    print(f"ps of those 10 containers, {PS_ROUNDS} interleaved rounds, medians:")
    print(f"  llmspell-fleet ps   {med['fleet'] * 1000:.0f} ms, peak RSS {mem['fleet']:.1f} MiB")
    print(f"  docker-compose ps   {med['compose'] * 1000:.0f} ms, peak RSS {mem['compose']:.1f} MiB"
          f"   (ratio {med['compose'] / med['fleet']:.2f})")


if __name__ == "__main__":
    sys.exit(main())
