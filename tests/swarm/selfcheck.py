#!/usr/bin/python3
"""Checks cluster.py end to end on this machine (root; the host engine must hold the image) and
prints the figures as JSON: up, image load and teardown times over several rounds; a dnsrr service
with host-mode ports spread over the nodes and reached from the root namespace; kill and restart
of a worker's engine; the CLI; a crashed owner reaped; and after each round, proof that nothing of
any cluster is left (namespaces, veths, mounts, processes, cgroups, folders, shim sockets).

    /usr/bin/python3 tests/swarm/selfcheck.py [--rounds 3] [--image llmspell:latest]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster as cl  # noqa: E402

ENGINE_COMMS = ("dockerd", "containerd", "containerd-shim", "docker-proxy", "runc")


def engine_pids():
    """Pids of live engine processes anywhere on the machine (the host engine's included). Zombies
    do not count: pid 1 here reaps orphans only every few seconds."""
    found = set()
    for pid in cl.all_pids():
        if not cl.alive(pid):
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith(ENGINE_COMMS):
            found.add(pid)
    return found


def snapshot():
    """What exists before any cluster: the host engine's processes and shim sockets."""
    sockets = set(os.listdir("/run/containerd/s")) if os.path.isdir("/run/containerd/s") else set()
    return {"engine_pids": engine_pids(), "shim_sockets": sockets,
            "run_netns_mounted": "/run/netns" in cl.mounts_under("/run/netns")}


def global_leftovers(base):
    """Anything of any cluster still on the machine, compared with the snapshot taken before."""
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if "llmspell-swarm" in line]
    sockets = set(os.listdir("/run/containerd/s")) if os.path.isdir("/run/containerd/s") else set()
    left = {
        "netns": [ns for ns in cl.netns_list() if ns.startswith("lsw-")],
        "veths": [link for link in os.listdir("/sys/class/net") if link.startswith("lsw")],
        "mounts": mounts,
        "processes": [f"{p} {' '.join(cl.cmdline(p))[:100]}"
                      for p in sorted(engine_pids() - base["engine_pids"])],
        "cgroups": [os.path.join(m, cl.CGROUP_TOP) for m in cl.cgroup_mounts()
                    if os.path.exists(os.path.join(m, cl.CGROUP_TOP))],
        "folders": [cl.ROOT] if os.path.exists(cl.ROOT) else [],
        "shim_sockets": sorted(sockets - base["shim_sockets"]),
        "run_netns_mount": (["/run/netns"] if "/run/netns" in cl.mounts_under("/run/netns")
                            and not base["run_netns_mounted"] else []),
    }
    return {kind: items for kind, items in left.items() if items}


def wait_for(what, predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout}s")
        time.sleep(interval)


def tcp_connect(ip, port, timeout=20):
    """From this (root) namespace; retried while the kernel in the task starts listening."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((ip, port), timeout=2):
                return True
        except OSError as e:
            if time.monotonic() > deadline:
                raise RuntimeError(f"TCP connect {ip}:{port} from the root namespace: {e}")
            time.sleep(0.3)


def running_tasks(manager, service_id):
    filters = urllib.parse.quote(json.dumps({"service": [service_id], "desired-state": ["running"]}))
    tasks = manager.engine().call("GET", f"/tasks?filters={filters}")
    return [t for t in tasks if t["Status"]["State"] == "running"]


def service_check(c, image, replicas=3):
    """A dnsrr service with one host-mode port on an overlay network: tasks on several nodes, each
    task's published port reached by TCP from the root namespace at its node's IP; then removed."""
    manager = c.manager.engine()
    figures = {}
    t = time.monotonic()
    net = manager.call("POST", "/networks/create", {"Name": "lswcheck", "Driver": "overlay",
                                                    "Attachable": True, "CheckDuplicate": True})
    spec = {
        "Name": "lswcheck",
        "TaskTemplate": {
            "ContainerSpec": {"Image": image, "Args": ["start", "--port", "9555", "--language", "lua"],
                              "User": "1000:1000"},
            "Networks": [{"Target": net["Id"]}],
            "RestartPolicy": {"Condition": "on-failure"},
        },
        "Mode": {"Replicated": {"Replicas": replicas}},
        "EndpointSpec": {"Mode": "dnsrr", "Ports": [
            {"Protocol": "tcp", "TargetPort": 9555, "PublishedPort": 0, "PublishMode": "host"}]},
    }
    service = manager.call("POST", "/services/create", spec)["ID"]

    def all_running():
        tasks = running_tasks(c.manager, service)
        return tasks if len(tasks) == replicas else None

    # tasks stay "starting" until the image's healthcheck passes (first probe after 10 s)
    tasks = wait_for(f"{replicas} running tasks", all_running, timeout=90)
    figures["service_running_s"] = round(time.monotonic() - t, 3)
    ip_of = {n.node_id: (n.name, n.ip) for n in c.nodes}
    reached = []
    for task in tasks:
        name, ip = ip_of[task["NodeID"]]
        port = task["Status"]["PortStatus"]["Ports"][0]["PublishedPort"]
        tcp_connect(ip, port)
        reached.append(f"{name} {ip}:{port}")
    figures["tasks_reached_from_root_ns"] = reached
    figures["nodes_with_tasks"] = sorted({ip_of[t["NodeID"]][0] for t in tasks})
    if len(figures["nodes_with_tasks"]) < 2:
        raise RuntimeError(f"tasks all on one node: {reached}")
    route = cl.run("ip", "route", "get", c.nodes[1].ip).stdout.strip()
    figures["route_from_root_ns"] = route
    t = time.monotonic()
    manager.call("DELETE", f"/services/{service}")
    label = urllib.parse.quote(json.dumps({"label": [f"com.docker.swarm.service.id={service}"]}))
    for node in c.nodes:
        wait_for(f"{node.name}: service containers gone",
                 lambda: not node.engine().call("GET", f"/containers/json?all=1&filters={label}"), 60)
    wait_for("overlay network removed", lambda: manager.call(
        "DELETE", f"/networks/{net['Id']}", ok=(204, 404)) is None, 30, interval=0.5)
    figures["service_removed_s"] = round(time.monotonic() - t, 3)
    return figures


def kill_restart_check(c, node="node2"):
    """kill -9 of a worker's dockerd leaves its containers running; restart brings it back."""
    engine = c.node(node).engine()
    engine.call("POST", "/containers/create?name=survivor",
                {"Image": "llmspell:latest", "User": "1000:1000"})
    engine.call("POST", "/containers/survivor/start")
    pid = engine.call("GET", "/containers/survivor/json")["State"]["Pid"]
    t = time.monotonic()
    c.kill_engine(node)
    killed_s = round(time.monotonic() - t, 3)
    survived = cl.alive(pid)
    c.restart_engine(node)
    return {"kill_s": killed_s, "container_survived_kill": survived,
            "restart_to_ping_and_active_s": c.timings[f"restart_{node}"],
            "container_after_restart": engine.call("GET", "/containers/survivor/json")["State"]["Status"]}


def cli_check(base):
    """up / status / down through the command line, as a shell script or a ctest fixture would."""
    script = os.path.join(HERE, "cluster.py")
    t = time.monotonic()
    up = subprocess.run([sys.executable, script, "up", "--name", "scli", "--images", "llmspell:latest"],
                        capture_output=True, text=True, check=True)
    up_s = round(time.monotonic() - t, 3)
    described = json.loads(up.stdout)
    status = json.loads(subprocess.run([sys.executable, script, "status", "--name", "scli"],
                                       capture_output=True, text=True, check=True).stdout)
    t = time.monotonic()
    subprocess.run([sys.executable, script, "down", "--name", "scli"], capture_output=True, check=True)
    down_s = round(time.monotonic() - t, 3)
    again = subprocess.run([sys.executable, script, "down", "--name", "scli"], capture_output=True)
    return {"up_with_images_s": up_s, "down_s": down_s, "nodes": described["nodes"],
            "status_swarm_states": [n["swarm_state"] for n in status["nodes"]],
            "second_down_rc": again.returncode, "left": global_leftovers(base)}


def crash_check(base):
    """A run that dies with its cluster up: the next reap_stale() removes all of it."""
    child = subprocess.Popen([sys.executable, "-c",
                              "import sys, time; sys.path.insert(0, %r)\n"
                              "from cluster import Cluster\n"
                              "Cluster('scrash').up(); print('up', flush=True); time.sleep(600)" % HERE],
                             stdout=subprocess.PIPE, text=True)
    if child.stdout.readline().strip() != "up":
        raise RuntimeError("crash check: the child's cluster did not come up")
    child.kill()
    child.wait()
    t = time.monotonic()
    reaped = cl.reap_stale()
    return {"reaped": reaped, "reap_s": round(time.monotonic() - t, 3), "left": global_leftovers(base)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--image", default="llmspell:latest")
    parser.add_argument("--name", default="sc")
    args = parser.parse_args()
    base = snapshot()
    if global_leftovers(base):
        sys.exit(f"a cluster is already there: {global_leftovers(base)} (cluster.py down --all)")
    report = {"rounds": []}
    for r in range(args.rounds):
        with cl.Cluster(name=args.name, nodes=3) as c:
            c.load_images([args.image])
            round_report = {"service": service_check(c, args.image)}
            if r == 0:
                round_report["kill_restart"] = kill_restart_check(c)
        round_report["timings"] = c.timings
        round_report["left"] = global_leftovers(base)
        report["rounds"].append(round_report)
        print(json.dumps(round_report), file=sys.stderr, flush=True)
    report["cli"] = cli_check(base)
    report["crash"] = crash_check(base)
    report["left_at_end"] = global_leftovers(base)
    print(json.dumps(report, indent=1))
    failed = report["left_at_end"] or any(r["left"] for r in report["rounds"]) \
        or report["cli"]["left"] or report["crash"]["left"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
