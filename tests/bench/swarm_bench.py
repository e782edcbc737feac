"""The swarm backend against the docker CLI on a three-node swarm of this machine (tests/swarm/cluster.py):
a kernel service scaled 2 -> 10 until all ten run, `llmspell-fleet scale --wait` against `docker service
scale` (which waits for convergence too), interleaved rounds, medians; and the swarm's own set-up and
tear-down. Not a test: figures for the notes."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "swarm"))
from cluster import Cluster  # noqa: E402

FLEET = os.environ.get("FLEET_CLI", os.path.join(SOURCE, "build", "bin", "llmspell-fleet"))
COMPOSE = os.path.join(SOURCE, "compose", "docker-compose.yml")
PROJECT = "swbench"
SERVICE = f"{PROJECT}_kernel-lua-openai"
ROUNDS = int(os.environ.get("SWARM_BENCH_ROUNDS", "5"))


def main():
    started = time.time()
    with Cluster(name="bench", nodes=3) as cluster:
        setup = time.time() - started
        home = tempfile.mkdtemp(prefix="fleet-swarm-bench-")
        env = dict(os.environ, DOCKER_HOST=cluster.manager.docker_host, LLMSPELL_FLEET_HOME=home,
                   LLMSPELL_FLEET_SWARM_NODES=",".join(n.docker_host for n in cluster.nodes))
        fleet = [FLEET, "-f", COMPOSE, "-p", PROJECT, "--backend", "swarm"]

        def run(argv):
            t = time.time()
            subprocess.run(argv, env=env, check=True, capture_output=True, timeout=300)
            return time.time() - t

        up = run(fleet + ["up", "--scale", "kernel-lua-openai=2", "--wait"])
        ours, theirs = [], []
        for _ in range(ROUNDS):
            ours.append(run(fleet + ["scale", "kernel-lua-openai", "10", "--wait"]))
            run(fleet + ["scale", "kernel-lua-openai", "2", "--wait"])
            theirs.append(run(["docker", "service", "scale", f"{SERVICE}=10"]))
            run(["docker", "service", "scale", f"{SERVICE}=2"])
        run(fleet + ["down"])
        teardown_started = time.time()
    teardown = time.time() - teardown_started
    print(f"swarm of 3 engines in network namespaces: up {setup:.2f} s, torn down {teardown:.2f} s")
    print(f"up of the shipped file (2 + 1 kernels, --wait, images loaded onto the nodes): {up:.2f} s")
    print(f"scale 2 -> 10 kernels until all run, {ROUNDS} interleaved rounds, median (min-max):")
    print(f"  llmspell-fleet scale --wait  {statistics.median(ours):.2f} s ({min(ours):.2f}-{max(ours):.2f})")
    print(f"  docker service scale         {statistics.median(theirs):.2f} s ({min(theirs):.2f}-{max(theirs):.2f})")


if __name__ == "__main__":
    main()
