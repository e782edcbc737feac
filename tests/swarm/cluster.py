#!/usr/bin/python3
"""A throwaway multi-node Docker Swarm on one machine, for the fleet's Swarm tests.

Each node is a dockerd of its own (which starts its own containerd) in a network namespace of its
own. A hub namespace holds a bridge that joins the nodes, and one veth puts the host on that bridge,
so that processes in the root namespace reach ports published in host mode on node IPs directly
(the root namespace forwards nothing: its FORWARD policy is DROP). node1 is the manager, the others
join as workers. Everything a cluster creates is named after the cluster and listed in a state file
under /run/llmspell-swarm/<cluster>/, so down() and reap_stale() remove it, also after a crash.
The recipe and its pitfalls: shared/notes/engine-facts.md, "A multi-node Swarm on one machine".

    import sys; sys.path.insert(0, "tests/swarm")
    from cluster import Cluster
    with Cluster(name="t123", nodes=3) as c:        # up() on enter, down() on exit
        c.load_images(["llmspell:latest"])          # copied from the host engine
        c.manager.engine().call("POST", "/services/create", spec)
        c.kill_engine("node2"); c.restart_engine("node2")

CLI (as root, /usr/bin/python3):
    cluster.py up --name N [--nodes 3] [--images IMG ...] [--owner-pid PID]   prints the nodes as JSON
    cluster.py status --name N
    cluster.py down --name N | down --all
    cluster.py reap                       removes clusters whose owner process is gone
A cluster started by the CLI is kept until `down` unless --owner-pid names a process to outlive.
"""
import argparse
import concurrent.futures
import dataclasses
import fcntl
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

ROOT = "/run/llmspell-swarm"
HOST_SOCKET = "/var/run/docker.sock"
API = "/v1.41"                      # Engine 20.10; also keeps services/create from asking a registry
CGROUP_TOP = "llmspell-swarm"       # containers' cgroups: /<CGROUP_TOP>/<cluster>/<node>/<id>
SWARM_POOL = "10.200.0.0/16"
SHIM_SOCKETS = "/run/containerd/s"
MAX_SLOTS = 8                       # concurrent clusters; slot k owns the hub subnet 10.99.k.0/24
MAX_NODES = 9                       # one digit in interface names
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,5}$")   # "lsw" + name + digit + suffix fits IFNAMSIZ (15)
ENGINE_BINARIES = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2",
                   "docker-proxy", "runc")

log = logging.getLogger("llmspell-swarm")


# --- Engine API over a unix socket ------------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket: the engines listen on nothing else."""

    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Engine:
    """Just enough of the Engine API: JSON calls, a ping, and raw connections for streams."""

    def __init__(self, socket_path, timeout=60):
        self.socket_path = socket_path
        self.timeout = timeout

    def connection(self):
        return UnixHTTPConnection(self.socket_path, self.timeout)

    def call(self, method, path, body=None, ok=(200, 201, 204, 304)):
        """The decoded JSON answer (None if empty); a status outside `ok` raises RuntimeError."""
        conn = self.connection()
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, API + path, json.dumps(body) if body is not None else None, headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status not in ok:
            raise RuntimeError(f"{self.socket_path}: {method} {path}: {response.status} "
                               f"{data[:300].decode(errors='replace')}")
        return json.loads(data) if data else None

    def ping(self):
        """True when the engine answers /_ping; a missing or dead socket is just False."""
        try:
            conn = UnixHTTPConnection(self.socket_path, timeout=2)
            conn.request("GET", "/_ping")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False


# --- Names and addresses -----------------------------------------------------------------------

@dataclasses.dataclass
class Node:
    """One engine of the cluster. node_id and role are filled in once the swarm is formed."""
    name: str           # node1, node2, ...
    ip: str             # on the hub bridge; published host-mode ports are reached here
    socket_path: str
    docker_host: str    # "unix://..." for DOCKER_HOST
    node_id: str = ""   # swarm NodeID
    role: str = ""      # "manager" or "worker"
    netns: str = ""
    dir: str = ""
    hostname: str = ""

    def engine(self, timeout=60):
        return Engine(self.socket_path, timeout)

    def public(self):
        return {"name": self.name, "ip": self.ip, "docker_host": self.docker_host,
                "node_id": self.node_id, "role": self.role}


def check_name(name):
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(f"cluster name {name!r}: 1 to 6 of [a-z0-9], a letter first "
                         "(interface names are limited to 15 characters)")


def cluster_dir(name):
    return os.path.join(ROOT, name)


def state_path(name):
    return os.path.join(cluster_dir(name), "state.json")


def netns_name(name, node):
    return f"lsw-{name}-{node}"          # node is "hub" or "nodeN"


def host_link(name):
    return f"lsw{name}r"                  # the root namespace's veth onto the hub bridge


def cgroup_parent(name, node):
    return f"/{CGROUP_TOP}/{name}/{node}"


def subnet(slot):
    return f"10.99.{slot}"


def make_nodes(name, count, slot):
    nodes = []
    for i in range(1, count + 1):
        node_dir = os.path.join(cluster_dir(name), f"node{i}")
        sock = os.path.join(node_dir, "docker.sock")
        nodes.append(Node(name=f"node{i}", ip=f"{subnet(slot)}.{10 + i}", socket_path=sock,
                          docker_host=f"unix://{sock}", netns=netns_name(name, f"node{i}"),
                          dir=node_dir, hostname=f"{name}-node{i}"))
    return nodes


def engine_argv(name, node, index):
    """The command that starts one node's dockerd: in the node's network namespace (nsenter, not
    `ip netns exec`, which remounts /sys and hides the cgroup v1 mounts), with a hostname of its own
    (the swarm names nodes after it), and every path and address pool its own."""
    d = node.dir
    return ["nsenter", f"--net=/run/netns/{node.netns}", "--",
            "unshare", "--uts", "--",
            "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh", node.hostname,
            "dockerd",
            "-H", node.docker_host,
            "--config-file", os.path.join(d, "daemon.json"),   # not the host's /etc/docker one
            "--data-root", os.path.join(d, "data"),
            "--exec-root", os.path.join(d, "exec"),
            "--pidfile", os.path.join(d, "docker.pid"),
            "--bip", f"172.30.{index}.1/24",
            "--default-address-pool", f"base=172.{20 + index}.0.0/16,size=24",
            "--cgroup-parent", cgroup_parent(name, node.name)]


def engine_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env["DOCKER_SERVICE_PREFER_OFFLINE_IMAGE"] = "1"   # tasks use the loaded image, no registry
    return env


# --- Small system helpers ----------------------------------------------------------------------

def run(*argv, check=True):
    """Runs a short command; a failure raises with its stderr (used by up(), which must not hide)."""
    result = subprocess.run(argv, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip() or result.returncode}")
    return result


def netns_list():
    return [line.split()[0] for line in run("ip", "netns", "list").stdout.splitlines() if line.strip()]


def link_exists(link):
    return os.path.exists(f"/sys/class/net/{link}")


def proc_start_time(pid):
    """The process's start time in clock ticks, or None: tells a live owner from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid):
    return pid > 0 and proc_start_time(pid) is not None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def remove_file(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def is_engine_of(pid, node_dir):
    """Only a process whose command line names this node's folder is ours to signal: pid files
    outlive their processes and pids get reused."""
    return any(node_dir + "/" in arg for arg in cmdline(pid))


def wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in pids if alive(p)]
        if not pids:
            return []
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def mounts_under(path):
    """Mount points at or under path, in the order they were mounted (from mountinfo)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == path or point.startswith(path + "/"):
                found.append(point)
    return found


def cgroup_mounts():
    """Mount points of every cgroup hierarchy, v1 controllers and the v2 (unified) one alike."""
    points = []
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] in ("cgroup", "cgroup2"):
                points.append(fields[1])
    return points


class RootLock:
    """An exclusive flock on ROOT itself, held while clusters are reserved or removed. Taken again
    if ROOT was removed and made anew meanwhile (the last teardown removes ROOT)."""

    def __enter__(self):
        while True:
            os.makedirs(ROOT, mode=0o755, exist_ok=True)
            self.fd = os.open(ROOT, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                if os.stat(ROOT).st_ino == os.fstat(self.fd).st_ino:
                    return self
            except FileNotFoundError:
                pass
            os.close(self.fd)

    def __exit__(self, *exc):
        os.close(self.fd)


# --- State files -------------------------------------------------------------------------------

def read_state(name):
    try:
        with open(state_path(name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_state(name, state):
    tmp = state_path(name) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, state_path(name))


def owner_alive(state):
    """Owner pid 0 means kept until `down`; otherwise the owner must still be the same process."""
    pid = state.get("owner_pid", 0)
    return pid == 0 or (proc_start_time(pid) is not None
                        and proc_start_time(pid) == state.get("owner_start"))


def known_clusters():
    """Every cluster name with anything left of it: folders, namespaces, host veths, cgroups."""
    names = set()
    if os.path.isdir(ROOT):
        names.update(n for n in os.listdir(ROOT)
                     if NAME_RE.match(n) and os.path.isdir(os.path.join(ROOT, n)))
    for ns in netns_list():
        m = re.match(r"^lsw-([a-z][a-z0-9]{0,5})-(hub|node\d+)$", ns)
        if m:
            names.add(m.group(1))
    for link in os.listdir("/sys/class/net"):
        m = re.match(r"^lsw([a-z][a-z0-9]{0,5})r$", link)
        if m:
            names.add(m.group(1))
    for mount in cgroup_mounts():
        top = os.path.join(mount, CGROUP_TOP)
        if os.path.isdir(top):   # v1 hierarchies also hold files such as "tasks"
            names.update(n for n in os.listdir(top)
                         if NAME_RE.match(n) and os.path.isdir(os.path.join(top, n)))
    return sorted(names)


# --- The cluster -------------------------------------------------------------------------------

class Cluster:
    """A swarm of `nodes` engines named after `name` (1 to 6 of [a-z0-9], a letter first).

    owner_pid: the process whose end makes the cluster stale for reap_stale(); default this one,
    0 to keep it until down()."""

    def __init__(self, name, nodes=3, owner_pid=None):
        check_name(name)
        if not 1 <= nodes <= MAX_NODES:
            raise ValueError(f"nodes: 1 to {MAX_NODES}, not {nodes}")
        self.name = name
        self.count = nodes
        self.owner_pid = os.getpid() if owner_pid is None else owner_pid
        self.nodes = []
        self.slot = None
        self.created = time.time()
        self.timings = {}
        self._procs = {}     # node name -> Popen, to reap the engines this process started
        self._owned = False  # set once this object has claimed the name: down() removes only then

    # context manager: a failed up() is torn down before the error goes on
    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    @property
    def manager(self):
        return self.nodes[0]

    def node(self, name):
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in cluster {self.name} ({[n.name for n in self.nodes]})")

    @property
    def hub_ip(self):
        return f"{subnet(self.slot)}.254"

    @property
    def host_ip(self):
        return f"{subnet(self.slot)}.253"

    # --- up ---

    def up(self):
        """Network, engines, swarm; returns when every node is Ready. Raises on any failure
        (the context manager then tears down what was made)."""
        if os.geteuid() != 0:
            raise PermissionError("a swarm of engines in namespaces needs root")
        start = time.monotonic()
        reap_stale()
        self._reserve()
        t = time.monotonic()
        self._make_network()
        self.timings["network"] = round(time.monotonic() - t, 3)
        t = time.monotonic()
        self._start_engines()
        self.timings["engines"] = round(time.monotonic() - t, 3)
        t = time.monotonic()
        self._form_swarm()
        self.timings["swarm"] = round(time.monotonic() - t, 3)
        self.timings["up"] = round(time.monotonic() - start, 3)
        self._save()
        return self

    def _reserve(self):
        """Claims the name and a subnet slot, and writes the state file before anything is made,
        so a crash at any later point leaves something down() and reap_stale() can find."""
        with RootLock():
            if os.path.exists(cluster_dir(self.name)) or self.name in known_clusters():
                state = read_state(self.name)
                owner = state.get("owner_pid") if state else "unknown"
                raise RuntimeError(f"cluster {self.name} already exists (owner pid {owner}); "
                                   f"`cluster.py down --name {self.name}` removes it")
            used = {s.get("slot") for s in map(read_state, os.listdir(ROOT)) if s}
            free = [k for k in range(MAX_SLOTS) if k not in used and not self._subnet_taken(k)]
            if not free:
                raise RuntimeError(f"no free subnet: {MAX_SLOTS} clusters at most at a time "
                                   f"(running: {sorted(os.listdir(ROOT))})")
            self.slot = free[0]
            self.nodes = make_nodes(self.name, self.count, self.slot)
            os.makedirs(cluster_dir(self.name))
            self._owned = True
            self._save()

    @staticmethod
    def _subnet_taken(slot):
        """Another route to 10.99.k.0/24 in the root namespace would make node IPs unreachable."""
        routes = run("ip", "route", "show").stdout.splitlines()
        return any(line.split()[0] == f"{subnet(slot)}.0/24" for line in routes if line.strip())

    def _save(self):
        write_state(self.name, {
            "name": self.name, "slot": self.slot, "owner_pid": self.owner_pid,
            "owner_start": proc_start_time(self.owner_pid) if self.owner_pid else None,
            "created": self.created, "hub_ip": self.hub_ip, "host_ip": self.host_ip,
            "nodes": [dataclasses.asdict(n) for n in self.nodes],
            "argv": {n.name: engine_argv(self.name, n, i + 1) for i, n in enumerate(self.nodes)},
            "timings": self.timings})

    def _make_network(self):
        """Hub namespace with a bridge; a veth from it to each node namespace and one to the
        root namespace. No default routes: nothing can leave the machine."""
        hub = netns_name(self.name, "hub")
        bridge = f"lsw{self.name}br"
        run("ip", "netns", "add", hub)
        run("ip", "-n", hub, "link", "set", "lo", "up")
        run("ip", "-n", hub, "link", "add", bridge, "type", "bridge")
        run("ip", "-n", hub, "addr", "add", f"{self.hub_ip}/24", "dev", bridge)
        run("ip", "-n", hub, "link", "set", bridge, "up")
        for i, node in enumerate(self.nodes, start=1):
            hub_end, node_end = f"lsw{self.name}{i}h", f"lsw{self.name}{i}n"
            run("ip", "netns", "add", node.netns)
            run("ip", "-n", node.netns, "link", "set", "lo", "up")
            # made inside the namespaces at once, so no name ever appears in the root namespace
            run("ip", "-n", hub, "link", "add", hub_end, "type", "veth",
                "peer", "name", node_end, "netns", node.netns)
            run("ip", "-n", hub, "link", "set", hub_end, "master", bridge, "up")
            run("ip", "-n", node.netns, "addr", "add", f"{node.ip}/24", "dev", node_end)
            run("ip", "-n", node.netns, "link", "set", node_end, "up")
        # the host's own leg: only a /24 on-link route appears in the root namespace
        run("ip", "link", "add", host_link(self.name), "type", "veth",
            "peer", "name", f"lsw{self.name}rh", "netns", hub)
        run("ip", "-n", hub, "link", "set", f"lsw{self.name}rh", "master", bridge, "up")
        run("ip", "addr", "add", f"{self.host_ip}/24", "dev", host_link(self.name))
        run("ip", "link", "set", host_link(self.name), "up")

    def _start_engines(self):
        for i, node in enumerate(self.nodes, start=1):
            os.makedirs(node.dir, exist_ok=True)
            with open(os.path.join(node.dir, "daemon.json"), "w") as f:
                f.write("{}\n")
            self._spawn(node, engine_argv(self.name, node, i))
        for node in self.nodes:
            self._wait_ping(node, timeout=60)

    def _spawn(self, node, argv):
        """Starts a node's dockerd in a session of its own (it outlives a CLI `up`), its output
        appended to <node>/dockerd.log. nsenter, unshare and sh all exec: the pid is dockerd's."""
        with open(os.path.join(node.dir, "dockerd.log"), "ab") as out:
            self._procs[node.name] = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=engine_env(),
                start_new_session=True, close_fds=True)

    def _wait_ping(self, node, timeout):
        engine = node.engine()
        deadline = time.monotonic() + timeout
        while not engine.ping():
            proc = self._procs.get(node.name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{node.name}: dockerd exited ({proc.returncode}):\n"
                                   + self.log_tail(node))
            if time.monotonic() > deadline:
                raise TimeoutError(f"{node.name}: no answer on {node.socket_path} in {timeout}s:\n"
                                   + self.log_tail(node))
            time.sleep(0.1)

    def log_tail(self, node, lines=15):
        """The end of the node's log without grpc's reconnect chatter, which hides the cause."""
        try:
            with open(os.path.join(node.dir, "dockerd.log"), errors="replace") as f:
                return "".join([line for line in f if "module=grpc" not in line][-lines:])
        except OSError as e:
            return str(e)

    def _form_swarm(self):
        manager = self.manager
        manager.engine().call("POST", "/swarm/init", {
            "ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": manager.ip,
            "DefaultAddrPool": [SWARM_POOL], "SubnetSize": 24})
        token = manager.engine().call("GET", "/swarm")["JoinTokens"]["Worker"]

        def join(node):
            node.engine().call("POST", "/swarm/join", {
                "ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": node.ip,
                "RemoteAddrs": [f"{manager.ip}:2377"], "JoinToken": token})

        with concurrent.futures.ThreadPoolExecutor(max(1, len(self.nodes) - 1)) as pool:
            for future in [pool.submit(join, n) for n in self.nodes[1:]]:
                future.result()
        for node in self.nodes:
            info = node.engine().call("GET", "/info")["Swarm"]
            node.node_id = info["NodeID"]
            node.role = "manager" if info.get("ControlAvailable") else "worker"
        self.wait_ready(timeout=60)

    def wait_ready(self, timeout=60):
        """Until the manager lists every node Ready."""
        deadline = time.monotonic() + timeout
        while True:
            states = {n["ID"]: n["Status"]["State"] for n in self.manager.engine().call("GET", "/nodes")}
            if all(states.get(n.node_id) == "ready" for n in self.nodes):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"nodes not ready after {timeout}s: {states}")
            time.sleep(0.2)

    # --- images ---

    def load_images(self, names):
        """Copies images from the host engine into every node: one GET /images/get streamed into a
        POST /images/load per node, chunk by chunk, so no image is ever held in memory whole."""
        if not names:
            return
        start = time.monotonic()
        query = "&".join("names=" + urllib.parse.quote(n) for n in names)
        source = UnixHTTPConnection(HOST_SOCKET, timeout=600)
        source.request("GET", f"{API}/images/get?{query}")
        response = source.getresponse()
        if response.status != 200:
            raise RuntimeError(f"host engine: GET /images/get {names}: {response.status} "
                               f"{response.read()[:300].decode(errors='replace')}")
        sinks = []
        for node in self.nodes:
            conn = UnixHTTPConnection(node.socket_path, timeout=600)
            conn.putrequest("POST", f"{API}/images/load?quiet=1")
            conn.putheader("Content-Type", "application/x-tar")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            sinks.append((node, conn))
        while chunk := response.read(1 << 20):
            frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            for _, conn in sinks:
                conn.send(frame)
        source.close()
        for node, conn in sinks:
            conn.send(b"0\r\n\r\n")
            answer = conn.getresponse()
            body = answer.read().decode(errors="replace")
            conn.close()
            if answer.status != 200 or "errorDetail" in body:
                raise RuntimeError(f"{node.name}: POST /images/load: {answer.status} {body[:300]}")
        for node in self.nodes:
            for name in names:
                node.engine().call("GET", f"/images/{urllib.parse.quote(name)}/json")
        self.timings["load_images"] = round(time.monotonic() - start, 3)

    # --- engine failures ---

    def engine_pid(self, node_name):
        """The node's dockerd pid, 0 when it is not running."""
        node = self.node(node_name)
        pid = read_pidfile(os.path.join(node.dir, "docker.pid"))
        return pid if alive(pid) and is_engine_of(pid, node.dir) else 0

    def kill_engine(self, node_name):
        """SIGKILL of that node's dockerd only. Its containers keep running (their shims survive);
        the manager marks the node Down after ~15 s."""
        pid = self.engine_pid(node_name)
        if not pid:
            raise RuntimeError(f"{node_name}: no dockerd running")
        os.kill(pid, signal.SIGKILL)
        proc = self._procs.pop(node_name, None)
        if proc is not None:
            proc.wait(timeout=10)
        if wait_gone([pid], 10):
            raise RuntimeError(f"{node_name}: dockerd {pid} survived SIGKILL")

    def restart_engine(self, node_name, timeout=60):
        """Starts the node's dockerd again with the arguments it had; returns once its socket answers
        /_ping and its swarm state is active again."""
        node = self.node(node_name)
        if self.engine_pid(node_name):
            raise RuntimeError(f"{node_name}: dockerd still running; kill_engine() first")
        # dockerd refuses to start while its pid file names a live process, which a reused pid can be
        remove_file(os.path.join(node.dir, "docker.pid"))
        # The killed dockerd's containerd died with it (parent-death signal) but stays a zombie until
        # pid 1 reaps it, which here takes seconds; the new dockerd would take the zombie for a live
        # containerd and wait for its socket until "timeout waiting for containerd to start".
        containerd_pidfile = os.path.join(node.dir, "exec", "containerd", "containerd.pid")
        pid = read_pidfile(containerd_pidfile)
        if not (alive(pid) and is_engine_of(pid, node.dir)):
            remove_file(containerd_pidfile)
        start = time.monotonic()
        self._spawn(node, engine_argv(self.name, node, self.nodes.index(node) + 1))
        self._wait_ping(node, timeout)
        deadline = start + timeout
        while node.engine().call("GET", "/info")["Swarm"]["LocalNodeState"] != "active":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{node_name}: swarm not active again in {timeout}s")
            time.sleep(0.2)
        self.timings[f"restart_{node_name}"] = round(time.monotonic() - start, 3)

    # --- down ---

    def down(self):
        """Removes everything of this cluster; best effort, idempotent. Returns what is left.
        Does nothing when up() failed before claiming the name (it may be another run's cluster)."""
        if not self._owned:
            return {}
        start = time.monotonic()
        left = teardown(self.name)
        for proc in self._procs.values():   # the engines this process started: no zombies
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("dockerd %s did not exit", proc.pid)
        self._procs.clear()
        self.timings["down"] = round(time.monotonic() - start, 3)
        return left

    def leftovers(self):
        return leftovers(self.name)

    def describe(self):
        return {"name": self.name, "hub_ip": self.hub_ip, "host_ip": self.host_ip,
                "manager": self.manager.name, "nodes": [n.public() for n in self.nodes],
                "timings": self.timings}


# --- Teardown (works from the name alone, so it also cleans up after crashed runs) --------------

def teardown(name):
    """Stops the engines, kills what they left, unmounts, deletes namespaces, veths, cgroups and
    folders. Never raises for what it cannot remove: it logs it and returns leftovers(name)."""
    check_name(name)     # the name becomes a folder that is removed: never "..", "/" or ""
    with RootLock():
        namespaces = [ns for ns in netns_list() if re.match(rf"^lsw-{name}-(hub|node\d+)$", ns)]
        ns_inodes = set()
        for ns in namespaces:
            try:
                ns_inodes.add(os.stat(f"/run/netns/{ns}").st_ino)
            except OSError:
                pass
        sockets = shim_sockets(name)
        stop_engines(name)
        kill_processes(name, ns_inodes)
        sockets |= shim_sockets(name)
        for path in sorted(sockets):
            step(f"remove shim socket {path}", os.unlink, path, missing_ok=True)
        unmount_all(cluster_dir(name))
        for ns in namespaces:
            step(f"delete netns {ns}", run, "ip", "netns", "delete", ns)
        if link_exists(host_link(name)):
            step(f"delete veth {host_link(name)}", run, "ip", "link", "delete", host_link(name))
        remove_cgroups(name)
        if not mounts_under(cluster_dir(name)):   # never rmtree through a mount
            step(f"remove {cluster_dir(name)}", shutil.rmtree, cluster_dir(name), ignore_errors=False,
                 missing_ok=True)
        try:
            os.rmdir(ROOT)                         # the last cluster out removes the top folder
        except OSError:
            pass
        release_netns_dir()
    left = leftovers(name)
    for kind, items in left.items():
        log.warning("cluster %s: could not remove %s: %s", name, kind, items)
    return left


def step(what, fn, *args, missing_ok=False, **kwargs):
    """One best-effort teardown step: a failure is logged, not raised."""
    try:
        fn(*args, **kwargs)
    except FileNotFoundError:
        if not missing_ok:
            log.warning("%s: not found", what)
    except (OSError, RuntimeError) as e:
        log.warning("%s: %s", what, e)


def stop_engines(name, grace=10):
    """SIGTERM to every node's dockerd (by pid file, also any other dockerd naming the cluster's
    folder), so each stops its containers and unmounts; SIGKILL what is left after `grace` s."""
    cdir = cluster_dir(name)
    pids = set()
    if os.path.isdir(cdir):
        for node in os.listdir(cdir):
            node_dir = os.path.join(cdir, node)
            pid = read_pidfile(os.path.join(node_dir, "docker.pid"))
            if alive(pid) and is_engine_of(pid, node_dir):
                pids.add(pid)
    pids.update(p for p in all_pids() if engine_process(p, cdir, "dockerd"))
    for pid in pids:
        step(f"SIGTERM dockerd {pid}", os.kill, pid, signal.SIGTERM, missing_ok=True)
    for pid in wait_gone(list(pids), grace):
        log.warning("cluster %s: dockerd %s ignored SIGTERM for %ss: SIGKILL", name, pid, grace)
        step(f"SIGKILL dockerd {pid}", os.kill, pid, signal.SIGKILL, missing_ok=True)
    wait_gone(list(pids), 10)


def engine_process(pid, cdir, binary=None):
    """A dockerd/containerd/shim/docker-proxy whose command line names the cluster's folder. Only
    engine binaries: a shell that merely looks at the folder is not ours to kill."""
    argv = cmdline(pid)
    if not argv:
        return False
    exe = os.path.basename(argv[0])
    if binary and exe != binary or not exe.startswith(ENGINE_BINARIES):
        return False
    return any(cdir + "/" in a for a in argv)


def cluster_process(pid, name, cdir, ns_inodes):
    """Ours: an engine process naming the folder, anything in one of the cluster's network
    namespaces (dockerd, containerd, shims, docker-proxy), or anything in the cluster's cgroups
    (the containers' processes)."""
    if pid == os.getpid():
        return False
    if engine_process(pid, cdir):
        return True
    try:
        if os.stat(f"/proc/{pid}/ns/net").st_ino in ns_inodes:
            return True
        with open(f"/proc/{pid}/cgroup") as f:
            return f"/{CGROUP_TOP}/{name}/" in f.read()
    except OSError:            # gone, or not ours to look at (pid 1 here)
        return False


def kill_processes(name, ns_inodes):
    """SIGKILL what the engines left behind: shims, docker-proxy, containers' processes."""
    cdir = cluster_dir(name)
    for attempt in range(3):
        pids = [p for p in all_pids() if cluster_process(p, name, cdir, ns_inodes)]
        if not pids:
            return
        for pid in pids:
            step(f"SIGKILL {pid} {' '.join(cmdline(pid))[:80]}", os.kill, pid, signal.SIGKILL,
                 missing_ok=True)
        left = wait_gone(pids, 10)
    if left:
        log.warning("cluster %s: processes survived SIGKILL: %s", name, left)


def shim_sockets(name):
    """Shim sockets of the cluster's containers that exist. containerd 1.6 puts them outside any
    folder of ours, at /run/containerd/s/sha256("<containerd address>/<namespace>/<id>"), and a
    killed shim leaves its socket there. Ids come from the nodes' folders and the live shims."""
    cdir = cluster_dir(name)
    keys = set()
    for node in os.listdir(cdir) if os.path.isdir(cdir) else []:
        address = os.path.join(cdir, node, "exec", "containerd", "containerd.sock")
        for folder in (os.path.join(cdir, node, "data", "containers"),
                       os.path.join(cdir, node, "exec", "containerd", "daemon",
                                    "io.containerd.runtime.v2.task", "moby")):
            if os.path.isdir(folder):
                keys.update(f"{address}/moby/{cid}" for cid in os.listdir(folder))
    for pid in all_pids():
        argv = cmdline(pid)
        if argv and os.path.basename(argv[0]).startswith("containerd-shim") and engine_process(pid, cdir):
            opts = dict(zip(argv[1::2], argv[2::2]))
            if {"-address", "-namespace", "-id"} <= opts.keys():
                keys.add(f"{opts['-address']}/{opts['-namespace']}/{opts['-id']}")
    paths = {os.path.join(SHIM_SOCKETS, hashlib.sha256(k.encode()).hexdigest()) for k in keys}
    return {p for p in paths if os.path.exists(p)}


def unmount_all(path):
    """Unmounts everything at or under path, newest first (stacked mounts), lazily as a last
    resort; dockerd leaves its data-root bind mount and the netns mounts under exec-root."""
    for attempt in range(3):
        points = mounts_under(path)
        if not points:
            return
        for point in reversed(points):
            if run("umount", point, check=False).returncode != 0 and attempt == 2:
                log.warning("umount %s failed: lazy unmount", point)
                step(f"umount -l {point}", run, "umount", "-l", point)
    for point in mounts_under(path):
        log.warning("still mounted: %s", point)


def release_netns_dir():
    """`ip netns add` turns /run/netns into a shared bind mount of itself and leaves it; once no
    namespace at all is left in it, undo that, as on a machine that never ran `ip netns add`."""
    if os.path.isdir("/run/netns") and not os.listdir("/run/netns"):
        while "/run/netns" in mounts_under("/run/netns"):
            if run("umount", "/run/netns", check=False).returncode != 0:
                break
        step("remove /run/netns", os.rmdir, "/run/netns", missing_ok=True)


def remove_cgroups(name):
    """Removes /<CGROUP_TOP>/<name> in every cgroup hierarchy, deepest folders first (a cgroup is
    removed with rmdir only, once it holds no process)."""
    for mount in cgroup_mounts():
        top = os.path.join(mount, CGROUP_TOP)
        tree = os.path.join(top, name)
        if not os.path.isdir(tree):
            continue
        for attempt in range(20):
            for dirpath, _, _ in sorted(os.walk(tree), key=lambda w: -w[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
            if not os.path.isdir(tree):
                break
            time.sleep(0.1)      # a killed process leaves its cgroup a moment later
        else:
            log.warning("cgroup %s not removed", tree)
        try:
            os.rmdir(top)
        except OSError:
            pass                 # another cluster's tree is still in it


def leftovers(name):
    """What is still there of cluster `name`: {kind: [items]}, empty when it is all gone."""
    check_name(name)
    cdir = cluster_dir(name)
    left = {
        "netns": [ns for ns in netns_list() if re.match(rf"^lsw-{name}-(hub|node\d+)$", ns)],
        "veths": [link for link in os.listdir("/sys/class/net") if link.startswith(f"lsw{name}")
                  and re.match(rf"^lsw{name}(r|\d+[hn]|br|rh)$", link)],
        "mounts": mounts_under(cdir),
        "processes": [f"{p} {' '.join(cmdline(p))[:100]}" for p in all_pids()
                      if cluster_process(p, name, cdir, set())],
        "cgroups": [os.path.join(m, CGROUP_TOP, name) for m in cgroup_mounts()
                    if os.path.isdir(os.path.join(m, CGROUP_TOP, name))],
        "folders": [cdir] if os.path.exists(cdir) else [],
    }
    return {kind: items for kind, items in left.items() if items}


def reap_stale():
    """Tears down every cluster whose owner process is gone (a crashed or killed earlier run), and
    any debris of a cluster without a state file. Returns the names removed."""
    reaped = []
    for name in known_clusters():
        state = read_state(name)
        if state is not None and owner_alive(state):
            continue
        log.warning("reaping stale cluster %s (owner pid %s)", name,
                    state.get("owner_pid") if state else "unknown")
        teardown(name)
        reaped.append(name)
    return reaped


def load_cluster(name):
    """A Cluster object for a running cluster, from its state file (for status and the CLI)."""
    state = read_state(name)
    if state is None:
        raise RuntimeError(f"no cluster {name} (no {state_path(name)})")
    cluster = Cluster(name, len(state["nodes"]), owner_pid=state["owner_pid"])
    cluster.slot = state["slot"]
    cluster.nodes = [Node(**n) for n in state["nodes"]]
    cluster.timings = state.get("timings", {})
    cluster.created = state.get("created", cluster.created)
    cluster._owned = True
    return cluster


# --- CLI ---------------------------------------------------------------------------------------

def status(name):
    """The state file's description plus what the engines say now."""
    cluster = load_cluster(name)
    report = cluster.describe()
    swarm = {}
    if cluster.manager.engine().ping():
        swarm = {n["ID"]: n["Status"]["State"] for n in cluster.manager.engine().call("GET", "/nodes")}
    for node, out in zip(cluster.nodes, report["nodes"]):
        out["engine_pid"] = cluster.engine_pid(node.name)
        out["answers_ping"] = node.engine().ping()
        out["swarm_state"] = swarm.get(node.node_id, "unknown")
    report["owner_pid"] = read_state(name)["owner_pid"]
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a cluster and print its nodes as JSON")
    up.add_argument("--name", required=True)
    up.add_argument("--nodes", type=int, default=3)
    up.add_argument("--images", nargs="*", default=[], help="images to copy from the host engine")
    up.add_argument("--owner-pid", type=int, default=0,
                    help="reap the cluster once this process is gone (default 0: keep until down)")
    down = sub.add_parser("down", help="remove a cluster, or all of them")
    which = down.add_mutually_exclusive_group(required=True)
    which.add_argument("--name")
    which.add_argument("--all", action="store_true")
    st = sub.add_parser("status", help="describe a running cluster")
    st.add_argument("--name", required=True)
    sub.add_parser("reap", help="remove clusters whose owner process is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="cluster.py: %(message)s")
    try:
        return run_command(args)
    except (RuntimeError, ValueError, OSError) as e:   # TimeoutError is an OSError
        print(f"cluster.py: error: {e}", file=sys.stderr)
        return 1


def run_command(args):
    if args.command == "up":
        cluster = Cluster(args.name, args.nodes, owner_pid=args.owner_pid)
        try:
            cluster.up()
            cluster.load_images(args.images)
            cluster._save()
        except BaseException:
            cluster.down()
            raise
        print(json.dumps(cluster.describe(), indent=1))
        return 0
    if args.command == "down":
        names = known_clusters() if args.all else [args.name]
        left = {}
        for name in names:
            start = time.monotonic()
            remaining = teardown(name)
            print(json.dumps({"name": name, "seconds": round(time.monotonic() - start, 3),
                              "left": remaining}))
            left.update({name: remaining} if remaining else {})
        return 1 if left else 0
    if args.command == "status":
        print(json.dumps(status(args.name), indent=1))
        return 0
    print(json.dumps({"reaped": reap_stale()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
