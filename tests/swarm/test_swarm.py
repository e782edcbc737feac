"""The swarm backend on a three-node swarm this test starts itself (cluster.py: engines in network
namespaces) and tears down, mounts and cgroups included: the shipped compose file deployed with `up`
and seen by `docker stack services`, images loaded onto the nodes by the fleet, a kernel on a node
run through its connection file, scale 2 -> 10 -> 2 spread over the nodes, drain-node with the
kernel's variables restored on another node, kill -9 of a worker's engine with the replicas back
elsewhere and nothing duplicated when it returns, and down leaving nothing. Runs serially (its steps
build on each other); the figures are printed for the closing notes."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster import Cluster  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(HERE))
FLEET = os.environ.get("FLEET_CLI", os.path.join(SOURCE, "build", "bin", "llmspell-fleet"))
COMPOSE = os.path.join(SOURCE, "compose", "docker-compose.yml")
PROJECT = f"swt{os.getpid() % 100000}"
FIGURES = {}


def wait_for(what, check, timeout, interval=0.5):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def kernel_run(connection_file, code, timeout=30):
    """Runs `code` through Jupyter's own client; returns (status, stdout, the ip it connected to)."""
    from jupyter_client import BlockingKernelClient
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        out = []
        reply = client.execute_interactive(
            code, timeout=timeout,
            output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
        return reply["content"]["status"], "".join(out), client.ip
    finally:
        client.stop_channels()


class SwarmBackendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        started = time.time()
        cls.cluster = Cluster(name=f"s{os.getpid() % 100000}", nodes=3)
        cls.cluster.__enter__()
        FIGURES["swarm_setup_s"] = round(time.time() - started, 2)
        cls.home = tempfile.mkdtemp(prefix="fleet-swarm-home-")
        cls.env = dict(os.environ,
                       DOCKER_HOST=cls.cluster.manager.docker_host,
                       LLMSPELL_FLEET_SWARM_NODES=",".join(n.docker_host for n in cls.cluster.nodes),
                       LLMSPELL_FLEET_HOME=cls.home)

    @classmethod
    def tearDownClass(cls):
        try:
            subprocess.run([FLEET, "-f", COMPOSE, "-p", PROJECT, "--backend", "swarm", "down"], env=cls.env,
                           capture_output=True, timeout=120)
        finally:
            started = time.time()
            cls.cluster.__exit__(None, None, None)
            FIGURES["swarm_teardown_s"] = round(time.time() - started, 2)
            shutil.rmtree(cls.home, ignore_errors=True)
            print("\nswarm figures: " + json.dumps(FIGURES), file=sys.stderr)

    def fleet(self, *args, ok=0, timeout=300):
        r = subprocess.run([FLEET, "-f", COMPOSE, "-p", PROJECT, "--backend", "swarm", *args], env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if ok is not None:
            self.assertEqual(r.returncode, ok, f"{args}: {r.stdout}\n{r.stderr}")
        return r

    def fleet_json(self, *args):
        return json.loads(self.fleet(*args, "--json").stdout)

    def tasks(self, service=None):
        return [r for r in self.fleet_json("ps") if r["state"] == "running" and (service is None or r["service"] == service)]

    def docker(self, *args):
        # The docker CLI only checks what the fleet did; the fleet itself never runs it.
        r = subprocess.run(["docker", "-H", self.cluster.manager.docker_host, *args], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def connection_file(self, kernel_id):
        return os.path.join(self.home, kernel_id + ".json")

    def test_1_up_deploys_the_shipped_file_as_a_stack(self):
        started = time.time()
        self.fleet("up", "--wait")
        FIGURES["up_2_kernels_wait_s"] = round(time.time() - started, 2)
        services = self.docker("stack", "services", PROJECT, "--format", "{{.Name}} {{.Replicas}}").split("\n")
        self.assertIn(f"{PROJECT}_kernel-lua-openai 1/1", services)
        self.assertIn(f"{PROJECT}_kernel-lua-anthropic 1/1", services)
        # The nodes had no image: the fleet loaded it from the engine that had it.
        for node in self.cluster.nodes:
            node.engine().call("GET", "/images/llmspell:latest/json")
        rows = self.tasks()
        self.assertEqual(len(rows), 2, rows)
        for row in rows:
            self.assertTrue(row["node"].startswith(self.cluster.name + "-node"), row)
            status, out, ip = kernel_run(self.connection_file(row["name"]), "print(1+1)")
            self.assertEqual((status, out), ("ok", "2\n"))
            self.assertIn(ip, [n.ip for n in self.cluster.nodes])
        health = self.fleet_json("health")
        self.assertTrue(all(h["ok"] and h["heartbeat"] for h in health), health)
        # Again: nothing to do, nothing restarted.
        self.assertIn("up to date", self.fleet("up").stderr)
        self.assertEqual({r["id"] for r in self.tasks()}, {r["id"] for r in rows})

    def test_2_scale_spreads_over_the_nodes(self):
        started = time.time()
        self.fleet("scale", "kernel-lua-openai", "10", "--wait")
        FIGURES["scale_2_to_10_wait_s"] = round(time.time() - started, 2)
        rows = self.tasks("kernel-lua-openai")
        self.assertEqual(len(rows), 10)
        self.assertEqual(len({r["node"] for r in rows}), 3, rows)
        nodes = self.fleet_json("nodes")
        self.assertEqual(sum(n["kernels"] for n in nodes), 11, nodes)
        self.assertTrue(all(n["state"] == "ready" and n["endpoint"] for n in nodes), nodes)
        started = time.time()
        self.fleet("scale", "kernel-lua-openai", "2", "--wait")
        FIGURES["scale_10_to_2_wait_s"] = round(time.time() - started, 2)
        kept = self.tasks("kernel-lua-openai")
        self.assertEqual(len(kept), 2)
        # The swarm picks which slots go; the connection files of those go with them.
        files = sorted(f for f in os.listdir(self.home) if f.startswith(f"{PROJECT}_kernel-lua-openai."))
        self.assertEqual(files, sorted(r["name"] + ".json" for r in kept))

    def test_3_drain_node_moves_kernels_with_their_variables(self):
        workers = {n.name for n in self.cluster.nodes if n.role == "worker"}
        rows = [r for r in self.tasks() if r["node"].split("-", 1)[1] in workers]
        if not rows:  # every kernel on the manager: put one on a worker
            self.fleet("scale", "kernel-lua-openai", "4", "--wait")
            rows = [r for r in self.tasks() if r["node"].split("-", 1)[1] in workers]
        kernel = rows[0]
        node = kernel["node"]
        before = self.connection_file(kernel["name"])
        self.assertEqual(kernel_run(before, 'notes = {count = 41, who = "ada"}; print(notes.count + 1)')[:2],
                         ("ok", "42\n"))
        on_node = [r["name"] for r in self.tasks() if r["node"] == node]
        started = time.time()
        moved = self.fleet_json("drain-node", node)
        FIGURES["drain_node_s"] = round(time.time() - started, 2)
        self.addCleanup(self.fleet, "activate-node", node)
        self.assertEqual(sorted(m["kernel_id"] for m in moved), sorted(on_node))
        for m in moved:
            self.assertNotIn("error", m, m)
            self.assertNotEqual(m["to_node"], node)
        row = next(m for m in moved if m["kernel_id"] == kernel["name"])
        self.assertIn("notes", row["restored"])
        status, out, ip = kernel_run(self.connection_file(kernel["name"]), "print(notes.count + 1, notes.who)")
        self.assertEqual((status, out), ("ok", "42\tada\n"))
        self.assertNotEqual(ip, self.cluster.node(node.split("-", 1)[1]).ip)
        self.assertFalse([r for r in self.tasks() if r["node"] == node])
        self.assertEqual(next(n for n in self.fleet_json("nodes") if n["hostname"] == node)["availability"], "drain")

    def test_4_a_killed_worker_engine_loses_no_replica(self):
        self.fleet("activate-node", self.cluster.name + "-node3")
        self.fleet("scale", "kernel-lua-openai", "6", "--wait")
        victim = self.cluster.node("node3")
        hostname = self.cluster.name + "-node3"
        if not [r for r in self.tasks() if r["node"] == hostname]:
            self.skipTest("the swarm placed nothing on node3")  # spread placement makes this rare
        wanted = len(self.tasks())
        killed = time.time()
        self.cluster.kill_engine("node3")
        wait_for("node3 down", lambda: next(n for n in self.fleet_json("nodes") if n["hostname"] == hostname)["state"]
                 == "down", 60)
        FIGURES["worker_down_after_s"] = round(time.time() - killed, 1)
        wait_for("replicas back on the other nodes",
                 lambda: len([r for r in self.tasks() if r["node"] != hostname]) == wanted, 90)
        FIGURES["replicas_back_after_s"] = round(time.time() - killed, 1)
        self.cluster.restart_engine("node3")
        wait_for("node3 ready", lambda: next(n for n in self.fleet_json("nodes") if n["hostname"] == hostname)["state"]
                 == "ready", 60)
        time.sleep(5)  # the returning node's old containers are killed by its engine
        self.assertEqual(len(self.tasks()), wanted)

        def stack_containers():
            count = 0
            for node in self.cluster.nodes:
                filters = json.dumps({"label": [f"com.docker.stack.namespace={PROJECT}"], "status": ["running"]})
                count += len(node.engine().call("GET", "/containers/json?filters=" + urllib.parse.quote(filters)))
            return count
        wait_for("no duplicate containers", lambda: stack_containers() == wanted, 30)

    def test_4b_a_kernel_spawned_on_node2_moves_with_drain_node(self):
        hostname = self.cluster.name + "-node2"
        self.fleet("activate-node", hostname)
        started = time.time()
        kernel = json.loads(self.fleet("spawn", "--node", hostname, "--owner", "ada", "--json").stdout)
        FIGURES["spawn_on_node_s"] = round(time.time() - started, 2)
        self.addCleanup(self.fleet, "stop", kernel["kernel_id"], ok=None)
        self.assertEqual(kernel["node"], hostname)
        self.assertEqual(kernel["origin"], "spawned")
        path = self.connection_file(kernel["kernel_id"])
        status, out, ip = kernel_run(path, "print(1+1); kept = 'still here'")
        self.assertEqual((status, out, ip), ("ok", "2\n", self.cluster.node("node2").ip))
        listed = {k["kernel_id"]: k for k in self.fleet_json("list")}
        self.assertEqual(listed[kernel["kernel_id"]]["owner"], "ada")
        self.assertEqual(listed[kernel["kernel_id"]]["node"], hostname)
        moved = self.fleet_json("drain-node", hostname)
        self.addCleanup(self.fleet, "activate-node", hostname)
        row = next(m for m in moved if m["kernel_id"] == kernel["kernel_id"])
        self.assertNotEqual(row["to_node"], hostname)
        self.assertIn("kept", row["restored"])
        status, out, ip = kernel_run(path, "print(kept)")
        self.assertEqual((status, out), ("ok", "still here\n"))
        self.assertNotEqual(ip, self.cluster.node("node2").ip)
        # A compose replica is scaled, not stopped; a spawned kernel stops with its file.
        replica = self.tasks("kernel-lua-openai")[0]["name"]
        self.assertIn("scale the service", self.fleet("stop", replica, ok=1).stderr)
        self.fleet("stop", kernel["kernel_id"])
        self.assertFalse(os.path.exists(path))
        self.assertNotIn(kernel["kernel_id"], {k["kernel_id"] for k in self.fleet_json("list")})

    def test_5_down_leaves_nothing(self):
        self.fleet("down")
        self.assertEqual(self.docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={PROJECT}",
                                     "-q"), "")
        self.assertEqual(self.docker("network", "ls", "--filter", f"label=com.docker.stack.namespace={PROJECT}",
                                     "-q"), "")
        self.assertFalse([f for f in os.listdir(self.home) if f.startswith(PROJECT)])

    def test_6_bad_input_changes_nothing(self):
        r = subprocess.run([FLEET, "-f", COMPOSE, "-p", PROJECT, "--backend", "mesh", "up"], capture_output=True,
                           text=True, env=self.env, timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('--backend: "mesh" is not local or swarm', r.stderr)
        # The host's own engine is no swarm manager: said, nothing made.
        r = subprocess.run([FLEET, "-f", COMPOSE, "-p", PROJECT, "--backend", "swarm", "up"], capture_output=True,
                           text=True, env=dict(self.env, DOCKER_HOST="unix:///var/run/docker.sock"), timeout=60)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("needs a swarm manager", r.stderr)
        self.assertEqual(self.docker("service", "ls", "-q"), "")  # nothing was made on the swarm either
        r = self.fleet("spawn", "--node", "nowhere", ok=2)
        self.assertIn('no node "nowhere"', r.stderr)
        self.assertEqual(self.docker("service", "ls", "-q"), "")
        r = self.fleet("scale", "kernel-dev", "2", ok=2)
        self.assertIn("not deployed on the swarm", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
