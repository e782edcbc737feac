"""`llmspell-fleet serve` against the real engine, through real HTTP clients (http.client, a raw
socket for server-sent events, Debian's jupyter_client for kernels, prometheus_client's parser).

Every kernel these tests ask for carries this run's test labels and an owner of this run, and is
removed at the end, also when a test fails; a run that dies is reaped by the next run's set-up.
"""
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernel"))
from test_kernel_container import ENGINE, SESSION, TEST_LABELS  # noqa: E402

from jupyter_client import BlockingKernelClient  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

CLI = os.environ["FLEET_CLI"]
SOURCE = os.path.join(os.path.dirname(__file__), "..", "..")
# The servers of these tests keep no warm pool unless a test gives them one: five paused kernels
# per server would only slow the other tests down.
NO_POOLS = os.path.join(tempfile.mkdtemp(prefix="fleet-serve-settings-"), "fleet.toml")
with open(NO_POOLS, "w") as f:
    f.write("# no [templates.*]: no warm pools\n")
OWNER = f"serve{os.getpid()}"
TOKEN = "t0ken-" + "x" * 26


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `serve` process of its own: its port, its fleet home."""

    def __init__(self, *args, port=None, home=None, env=None):
        self.port = port or free_port()
        self.home = home or tempfile.mkdtemp(prefix="fleet-serve-test-")
        self.env = dict(os.environ, LLMSPELL_FLEET_HOME=self.home, LLMSPELL_FLEET_SETTINGS=NO_POOLS)
        self.env.update(env or {})
        self.args = args
        self.log = open(os.path.join(self.home, "serve.log"), "ab")
        self.process = subprocess.Popen([CLI, "serve", "--port", str(self.port), *args], env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {self.log_text()}")
            try:
                self.request("GET", "/health", headers=self.auth())
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("serve did not answer within 20 s")

    def auth(self):
        return {"Authorization": f"Bearer {TOKEN}"} if "--token" in self.args else {}

    def log_text(self):
        with open(os.path.join(self.home, "serve.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def request(self, method, path, body=None, headers=None, content_type="application/json", timeout=180):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers if headers is not None else self.auth())
        data = body
        if body is not None and not isinstance(body, (bytes, str)):
            data = json.dumps(body)
        if data is not None and content_type:
            h.setdefault("Content-Type", content_type)
        conn.request(method, path, body=data, headers=h)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        return response.status, dict(response.getheaders()), raw

    def json(self, method, path, body=None, **kw):
        status, headers, raw = self.request(method, path, body, **kw)
        return status, json.loads(raw) if raw else None

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


class EventListener:
    """A server-sent-events client on GET /events: every event's data, with the time it arrived."""

    def __init__(self, port, timeout=120):
        self.events, self.ready = [], threading.Event()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        data = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            self.ready.set()
            lines = (data + chunk).split(b"\n")
            data = lines.pop()  # a line not complete yet
            for line in lines:
                if line.startswith(b"data: "):
                    self.events.append((json.loads(line[6:]), time.time()))

    def data(self):
        return [e for e, _ in self.events]

    def wait_for(self, match, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for e, t in list(self.events):
                if match(e):
                    return e, t
            time.sleep(0.05)
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def spawn_body(owner, **extra):
    return dict({"owner": owner, "labels": TEST_LABELS}, **extra)


def engine_kernels(owner):
    """Kernel containers of this owner, as the engine has them: id -> state."""
    filters = json.dumps({"label": [f"dev.llmspell.fleet.owner={owner}", "dev.llmspell.fleet.kernel=true"]})
    from urllib.parse import quote
    out = {}
    for c in ENGINE.call("GET", "/containers/json?all=1&filters=" + quote(filters)):
        out[c["Labels"]["dev.llmspell.fleet.kernel-id"]] = c["State"]
    return out


def remove_run_containers():
    for c in ENGINE.containers_of_this_run():
        ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1", ok=(204, 404))


def tearDownModule():
    remove_run_containers()


class ServeTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server("-f", "/nonexistent/docker-compose.yml")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.server.home, ignore_errors=True)
        assert code == 0, f"serve exited {code}"

    def test_health_and_a_registry_without_keys(self):
        status, body = self.server.json("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        status, registry = self.server.json("GET", "/registry")
        self.assertEqual(status, 200)
        self.assertIn("kernels", registry)
        self.assertNotIn('"key"', json.dumps(registry))

    def test_thirty_concurrent_spawns(self):
        owner = OWNER + "-30"
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(lambda _: self.server.json("POST", "/kernels", spawn_body(owner)), range(30)))
        statuses = [s for s, _ in answers]
        self.assertEqual(statuses, [201] * 30, [b for s, b in answers if s != 201][:3])
        kernels = [b["kernel"] for _, b in answers]
        ids = {k["kernel_id"] for k in kernels}
        self.assertEqual(len(ids), 30)
        ports = [set(k["ports"].values()) for k in kernels]
        for k, block in zip(kernels, ports):
            self.assertEqual(len(block), 5)
            self.assertEqual(sorted(block), list(range(k["shell_port"], k["shell_port"] + 5)))
        self.assertEqual(len(set().union(*ports)), 150)  # 30 blocks, none shared
        for _, b in answers:  # what a client needs to connect, key included
            self.assertEqual(len(b["connection"]["key"]), 64)
            self.assertEqual(b["connection"]["shell_port"], b["kernel"]["shell_port"])
        status, registry = self.server.json("GET", "/registry")
        self.assertEqual({k["kernel_id"] for k in registry["kernels"] if k["owner"] == owner}, ids)
        status, listed = self.server.json("GET", f"/kernels?owner={owner}")
        self.assertEqual({k["kernel_id"] for k in listed}, ids)
        self.assertEqual(set(engine_kernels(owner)), ids)
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            deleted = list(pool.map(lambda i: self.server.json("DELETE", f"/kernels/{i}?force=true")[0], ids))
        self.assertEqual(deleted, [200] * 30)
        self.assertEqual(engine_kernels(owner), {})

    def test_hostile_and_malformed_requests_change_nothing(self):
        owner = OWNER + "-bad"
        deep = {"language": json.loads("[" * 100 + "]" * 100)}
        cases = [
            ("POST", "/kernels", "{", "application/json", 400),
            ("POST", "/kernels", json.dumps(deep), "application/json", 400),
            ("POST", "/kernels", "[1]", "application/json", 422),
            ("POST", "/kernels", {"language": 5}, "application/json", 422),
            ("POST", "/kernels", {"cpus": "two"}, "application/json", 422),
            ("POST", "/kernels", {"memory": True}, "application/json", 422),
            ("POST", "/kernels", {"labels": []}, "application/json", 422),
            ("POST", "/kernels", {"labels": {"a": 1}}, "application/json", 422),
            ("POST", "/kernels", {"privileged": True}, "application/json", 422),
            ("POST", "/kernels", {"language": "cobol"}, "application/json", 422),
            ("POST", "/kernels", {"config": "nosuch.toml"}, "application/json", 422),
            ("POST", "/kernels", {"config": "../../etc/passwd"}, "application/json", 422),
            ("POST", "/kernels", {"memory": "lots"}, "application/json", 422),
            ("POST", "/kernels", {"memory": "1m"}, "application/json", 422),
            ("POST", "/kernels", {"memory": "100000g"}, "application/json", 422),
            ("POST", "/kernels", {"cpus": -1}, "application/json", 422),
            ("POST", "/kernels", {"cpus": 1e308}, "application/json", 422),
            ("POST", "/kernels", {"name": "../x"}, "application/json", 422),
            ("POST", "/kernels", {"name": "9999"}, "application/json", 422),
            ("POST", "/kernels", {"owner": "a b"}, "application/json", 422),
            ("POST", "/kernels", {"labels": {"dev.llmspell.fleet.managed": "x"}}, "application/json", 422),
            ("POST", "/kernels", {"image": "busybox"}, "application/json", 422),
            ("POST", "/find", {"shared": "yes"}, "application/json", 422),
            ("POST", "/find", {"language": "lua", "config": "../x"}, "application/json", 422),
            ("POST", "/kernels", {"language": "lua"}, "text/plain", 415),
            ("POST", "/kernels", {"language": "lua"}, None, 415),
            ("POST", "/kernels", b"{" + b" " * (64 << 20) + b"}", "application/json", 413),
            ("PUT", "/kernels", None, None, 405),
            ("DELETE", "/health", None, None, 405),
            ("POST", "/metrics", None, None, 405),
            ("GET", "/nope", None, None, 404),
            ("GET", "/kernels/nosuch", None, None, 404),
            ("DELETE", "/kernels/nosuch", None, None, 404),
            ("GET", "/kernels/nosuch/logs", None, None, 404),
            ("GET", "/kernels/%zz", None, None, 400),
            ("DELETE", "/kernels/nosuch?force=maybe", None, None, 400),
            ("GET", "/metrics?format=xml", None, None, 400),
            ("POST", "/services/web/scale", {"replicas": -1}, "application/json", 422),
            ("POST", "/services/web/scale", {"replicas": 2}, "application/json", 422),  # no compose file
        ]
        self.assertGreaterEqual(len(cases), 30)
        for method, path, body, content_type, expected in cases:
            with self.subTest(method=method, path=path, body=str(body)[:60], content_type=content_type):
                if isinstance(body, dict) and path == "/kernels" and "owner" not in body:
                    body = dict(body, owner=owner, labels=body.get("labels", TEST_LABELS))
                status, headers, raw = self.server.request(method, path, body, content_type=content_type)
                self.assertEqual(status, expected, raw[:300])
                answer = json.loads(raw)
                self.assertEqual(set(answer), {"error", "message"})
                if status == 405:
                    self.assertIn("Allow", headers)
        status, _, raw = self.server.request("GET", "/kernels", headers={"Host": "evil.example:9550"})
        self.assertEqual(status, 403, raw)
        self.assertEqual(engine_kernels(owner), {})
        self.assertEqual(self.server.json("GET", "/health")[0], 200)  # still answering

    def test_logs_and_one_kernel(self):
        status, b = self.server.json("POST", "/kernels", spawn_body(OWNER + "-logs", name=f"logs-{os.getpid()}"))
        self.assertEqual(status, 201, b)
        kid = b["kernel"]["kernel_id"]
        try:
            status, one = self.server.json("GET", f"/kernels/{kid}")
            self.assertEqual((status, one["kernel_id"]), (200, kid))
            status, by_port = self.server.json("GET", f"/kernels/{b['kernel']['shell_port']}")
            self.assertEqual(by_port["kernel_id"], kid)
            status, _, text = self.server.request("GET", f"/kernels/{kid}/logs?tail=5")
            self.assertEqual(status, 200)
            self.assertIn(f"kernel {kid} (lua) ready", text.decode())
            # follow: the stream stays open; the first line comes, then the client leaves
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            conn.request("GET", f"/kernels/{kid}/logs?follow=true&tail=1")
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertIn(b"ready", response.fp.readline() + response.fp.readline())
            conn.close()
        finally:
            self.assertEqual(self.server.json("DELETE", f"/kernels/{kid}")[0], 200)

    def test_metrics_in_json_and_prometheus_text(self):
        status, body = self.server.json("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn("kernels_by_state", body)
        for path, headers in (("/metrics?format=prometheus", {}), ("/metrics", {"Accept": "text/plain"})):
            status, h, raw = self.server.request("GET", path, headers=headers)
            self.assertEqual(status, 200)
            self.assertTrue(h["Content-Type"].startswith("text/plain; version=0.0.4"))
            families = {f.name: f for f in text_string_to_metric_families(raw.decode())}
            for name in ("llmspell_fleet_kernels", "llmspell_kernel_cpu_ratio", "llmspell_kernel_memory_usage_bytes",
                         "llmspell_kernel_memory_limit_bytes", "llmspell_fleet_memory_usage_bytes",
                         "llmspell_fleet_sample_duration_seconds"):
                self.assertIn(name, families)
                self.assertEqual(families[name].type, "gauge")

    def test_an_oom_kill_reaches_event_clients_within_two_seconds(self):
        listener = EventListener(self.server.port)
        self.assertTrue(listener.ready.wait(10))
        status, b = self.server.json("POST", "/kernels", spawn_body(OWNER + "-oom", memory="16m"))
        self.assertEqual(status, 201, b)
        kid = b["kernel"]["kernel_id"]
        path = os.path.join(self.server.home, f"{kid}-client.json")
        with open(path, "w") as f:
            json.dump(b["connection"], f)
        client = BlockingKernelClient()
        client.load_connection_file(path)
        client.start_channels()
        client.wait_for_ready(timeout=30)
        client.execute('local t = {} for i = 1, 1e7 do t[i] = string.rep("x", 64) .. i end')
        died = listener.wait_for(lambda e: e.get("kernel_id") == kid and e["type"] == "died", 30)
        client.stop_channels()
        listener.close()
        self.assertTrue(died, [e for e in listener.data() if e.get("kernel_id") == kid])
        event, received = died
        self.assertTrue(event["oom"])
        self.assertEqual(event["exit_code"], 137)
        self.assertLess(received - event["time_nano"] / 1e9, 2.0)  # the engine's die -> the client
        types = [e["type"] for e in listener.data() if e.get("kernel_id") == kid]
        self.assertEqual(types[:2], ["created", "started"])
        deadline = time.time() + 10  # the engine's listing catches up with its own event a moment later
        while time.time() < deadline:
            status, gone = self.server.json("GET", f"/kernels/{kid}")
            if gone["state"] != "running":
                break
            time.sleep(0.1)
        self.assertEqual((gone["state"], gone["state_reason"]), ("exited", "OOM killed"))
        self.server.json("DELETE", f"/kernels/{kid}")


class SafetyTest(unittest.TestCase):
    def test_a_token_is_required_on_every_request_when_given(self):
        server = Server("--token", TOKEN, "-f", "/nonexistent.yml")
        try:
            for headers in ({}, {"Authorization": "Bearer wrong-" + "x" * 26}, {"Authorization": TOKEN}):
                status, h, raw = server.request("GET", "/kernels", headers=headers)
                self.assertEqual(status, 401, headers)
                self.assertIn("Bearer", h["WWW-Authenticate"])
            self.assertEqual(server.request("GET", "/kernels", headers={"Authorization": "bearer " + TOKEN})[0], 200)
            self.assertEqual(server.request("GET", "/kernels")[0], 200)
            # ?token= too (EventSource cannot send headers), never written to the log.
            self.assertEqual(server.request("GET", f"/kernels?token=wrong{TOKEN}", headers={})[0], 401)
            self.assertEqual(server.request("GET", f"/kernels?state=running&token={TOKEN}", headers={})[0], 200)
            self.assertNotIn(TOKEN, server.log_text())
            self.assertIn("token=***", server.log_text())
        finally:
            self.assertEqual(server.stop(), 0)

    def test_the_dashboard_files(self):
        server = Server("-f", "/nonexistent.yml")
        missing = Server("-f", "/nonexistent.yml", env={"LLMSPELL_FLEET_CHART_JS": "/nonexistent/chart.min.js"})
        try:
            status, h, page = server.request("GET", "/")
            self.assertEqual(status, 200)
            self.assertTrue(h["Content-Type"].startswith("text/html"))
            self.assertIn("script-src 'self' 'sha256-", h["Content-Security-Policy"])
            self.assertIn(b'id="kernels"', page)
            status, h, chart = server.request("GET", "/dashboard/chart.min.js")
            self.assertEqual((status, h["Content-Type"]), (200, "text/javascript; charset=utf-8"))
            self.assertIn(b"Chart.js v3", chart[:200])
            self.assertEqual(server.request("GET", "/dashboard/dashboard.css")[0], 200)
            self.assertEqual(server.request("GET", "/dashboard/nosuch.js")[0], 404)
            self.assertEqual(server.request("POST", "/", b"{}")[0], 405)
            status, _, raw = missing.request("GET", "/dashboard/chart.min.js")
            self.assertEqual(status, 500)
            self.assertIn("/nonexistent/chart.min.js", json.loads(raw)["message"])
        finally:
            self.assertEqual(server.stop(), 0)
            self.assertEqual(missing.stop(), 0)

    def test_no_other_address_without_a_token(self):
        done = subprocess.run([CLI, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertIn("without a token", done.stderr)
        short = subprocess.run([CLI, "serve", "--token", "short"], capture_output=True, text=True, timeout=30)
        self.assertEqual(short.returncode, 2)

    def test_sigterm_lets_a_request_in_flight_finish(self):
        server = Server("-f", "/nonexistent.yml")
        result = {}

        def spawn():
            result["answer"] = server.json("POST", "/kernels", spawn_body(OWNER + "-term"))

        t = threading.Thread(target=spawn)
        t.start()
        time.sleep(0.2)
        code = server.stop(signal.SIGTERM)
        t.join()
        self.assertEqual(code, 0)
        self.assertEqual(result["answer"][0], 201, result)
        self.assertEqual(set(engine_kernels(OWNER + "-term")), {result["answer"][1]["kernel"]["kernel_id"]})


class CrashTest(unittest.TestCase):
    def test_kill_9_while_spawning_then_restart(self):
        owner = OWNER + "-crash"
        home = tempfile.mkdtemp(prefix="fleet-serve-crash-")
        server = Server("-f", "/nonexistent.yml", home=home)
        answers = []

        def spawn():
            try:
                answers.append(server.json("POST", "/kernels", spawn_body(owner))[0])
            except OSError:
                answers.append("cut")

        threads = [threading.Thread(target=spawn) for _ in range(6)]
        for t in threads:
            t.start()
        deadline = time.time() + 60
        while not engine_kernels(owner) and time.time() < deadline:
            time.sleep(0.05)
        server.stop(signal.SIGKILL)
        for t in threads:
            t.join()
        self.assertIn("cut", answers)  # the kill did land in the middle
        again = Server("-f", "/nonexistent.yml", home=home, port=server.port)
        try:
            engine = engine_kernels(owner)
            status, listed = again.json("GET", f"/kernels?owner={owner}")
            ids = [k["kernel_id"] for k in listed]
            self.assertEqual(len(ids), len(set(ids)))  # no duplicates
            self.assertEqual(set(ids), set(engine))  # no orphan, no ghost
            self.assertEqual({k["kernel_id"]: k["state"] for k in listed}, engine)
            status, registry = again.json("GET", "/registry")
            self.assertEqual({k["kernel_id"] for k in registry["kernels"] if k["owner"] == owner}, set(engine))
            for kid in ids:
                self.assertEqual(again.json("DELETE", f"/kernels/{kid}?force=true")[0], 200)
            self.assertEqual(engine_kernels(owner), {})
        finally:
            again.stop()
            shutil.rmtree(home, ignore_errors=True)


class EngineProxy:
    """A unix socket that forwards to the real engine, and can go away and come back: the engine
    going away, as the server sees it, without touching the engine other tests use."""

    def __init__(self, path):
        self.path = path
        self.listener = None
        self.connections = []
        self.lock = threading.Lock()

    def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(self.path)
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(ENGINE.unix)
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.listener.close()
        os.unlink(self.path)
        with self.lock:
            for c in self.connections:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections = []


class EngineOutageTest(unittest.TestCase):
    @unittest.skipUnless(ENGINE.unix, "needs the engine on a unix socket")
    def test_the_engine_goes_away_and_comes_back(self):
        proxy = EngineProxy(tempfile.mktemp(prefix="fleet-engine-proxy-", suffix=".sock"))
        proxy.start()
        server = Server("-f", "/nonexistent.yml", env={"DOCKER_HOST": "unix://" + proxy.path})
        listener = EventListener(server.port)
        owner = OWNER + "-outage"
        try:
            time.sleep(1)
            proxy.stop()
            status, body = server.json("GET", "/kernels")
            self.assertEqual(status, 503, body)
            self.assertEqual(body["error"], "engine_unavailable")
            self.assertTrue(listener.wait_for(lambda e: e["type"] == "engine" and e["health"] == "unavailable", 10),
                            listener.data())
            # While the server cannot see it, a kernel comes (through the real engine).
            made = subprocess.run([CLI, "spawn", "--owner", owner, "--json"] +
                                  sum((["--label", f"{k}={v}"] for k, v in TEST_LABELS.items()), []),
                                  capture_output=True, text=True, timeout=120,
                                  env=dict(os.environ, LLMSPELL_FLEET_HOME=server.home))
            self.assertEqual(made.returncode, 0, made.stderr)
            kid = json.loads(made.stdout)["kernel_id"]
            proxy.start()
            # backoff grows to 10 s at the most
            self.assertTrue(listener.wait_for(lambda e: e.get("kernel_id") == kid and e["type"] == "started", 30),
                            [(e["type"], e.get("kernel_id")) for e in listener.data()])
            self.assertTrue(listener.wait_for(lambda e: e["type"] == "engine" and e["health"] == "available", 1))
            status, listed = server.json("GET", f"/kernels?owner={owner}")
            self.assertEqual((status, [k["kernel_id"] for k in listed]), (200, [kid]))
            with open(os.path.join(server.home, "registry", "registry.json")) as f:
                self.assertIn(kid, [k["kernel_id"] for k in json.load(f)["kernels"]])
            self.assertEqual(server.json("DELETE", f"/kernels/{kid}?force=true")[0], 200)
        finally:
            listener.close()
            self.assertEqual(server.stop(), 0)
            try:
                proxy.stop()
            except OSError:
                pass


class ServicesTest(unittest.TestCase):
    def test_services_listed_and_scaled(self):
        project = f"serve{os.getpid()}"
        env = {"FLEET_TEST_SESSION": SESSION, "FLEET_TEST_PID": str(os.getpid()),
               "FLEET_TEST_EXPIRES": str(int(time.time()) + 3600)}
        compose_file = os.path.join(SOURCE, "tests", "compose", "good", "fleet-test.yml")
        server = Server("-f", compose_file, "-p", project, env=env)
        try:
            status, services = server.json("GET", "/services")
            self.assertEqual(status, 200)
            by_name = {s["name"]: s for s in services}
            self.assertIn("web", by_name)
            self.assertEqual(by_name["web"]["containers"], 0)
            status, report = server.json("POST", "/services/web/scale", {"replicas": 2})
            self.assertEqual(status, 200, report)
            self.assertEqual(report["services"], ["web"])
            status, services = server.json("GET", "/services")
            web = {s["name"]: s for s in services}["web"]
            self.assertEqual((web["containers"], web["running"]), (2, 2))
            self.assertEqual(server.json("POST", "/services/nosuch/scale", {"replicas": 1})[0], 422)
        finally:
            server.stop()
            subprocess.run([CLI, "-f", compose_file, "-p", project, "down", "-t", "1"], env=dict(os.environ, **env),
                           capture_output=True, timeout=120)


def run_env():
    return {"FLEET_TEST_SESSION": SESSION, "FLEET_TEST_PID": str(os.getpid()),
            "FLEET_TEST_EXPIRES": str(int(time.time()) + 3600)}


def label_args():
    out = []
    for key, value in TEST_LABELS.items():
        out += ["--label", f"{key}={value}"]
    return out


def paused_pool_members():
    """The engine's paused warm-pool members of this run (made by servers given the test labels)."""
    return [c for c in ENGINE.containers_of_this_run()
            if "dev.llmspell.fleet.pool" in c["Labels"] and c["State"] == "paused"]


def pool_members():
    return [c for c in ENGINE.containers_of_this_run() if "dev.llmspell.fleet.pool" in c["Labels"]]


def wait_until(check, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


class PoolTest(unittest.TestCase):
    """A warm pool of two: filled and paused, handed out with one unpause, refilled, rebuilt after a
    kill -9 without leaks, and nothing paused left after down."""

    def test_pool_fill_acquire_refill_crash_and_down(self):
        settings = os.path.join(tempfile.mkdtemp(prefix="fleet-pool-settings-"), "fleet.toml")
        with open(settings, "w") as f:
            f.write('[templates.lua-pool]\nlanguage = "lua"\nconfig = "default.toml"\n'
                    'warm_pool = { enabled = true, size = 2, refresh_interval_seconds = 3600 }\n')
        env = {"LLMSPELL_FLEET_SETTINGS": settings}
        server = Server(*label_args(), env=env)
        home = server.home
        try:
            wait_until(lambda: len(paused_pool_members()) == 2 and server.json("GET", "/pool")[1][0]["current_size"] == 2,
                       120, "two paused members")
            status, pools = server.json("GET", "/pool")
            self.assertEqual(status, 200)
            self.assertEqual((pools[0]["current_size"], pools[0]["target_size"]), (2, 2), pools)
            started = time.time()
            # No labels: a kernel with labels of its own cannot be one made ahead (the members carry the
            # test labels serve was given).
            status, kernel = server.json("POST", "/kernels", {"owner": OWNER, "config": "default.toml"})
            took = time.time() - started
            self.assertEqual(status, 201, kernel)
            self.assertEqual(kernel["kernel"]["state"], "running")
            # A cold start takes ~0.7 s here; the pool's is one unpause and a heartbeat.
            self.assertLess(took, 0.5, "served from the pool")
            status, pools = server.json("GET", "/pool")
            self.assertEqual(pools[0]["hits"], 1, pools)
            client = BlockingKernelClient()
            client.load_connection_info(kernel["connection"])
            client.start_channels()
            try:
                client.wait_for_ready(timeout=30)
                reply = client.execute_interactive("print(6*7)", timeout=30)
                self.assertEqual(reply["content"]["status"], "ok")
            finally:
                client.stop_channels()
            # Refilled in the background; GET /health has the seed's warm_pool shape.
            wait_until(lambda: len(paused_pool_members()) == 2, 120, "refilled to two")
            status, health = server.json("GET", "/health")
            self.assertEqual(health["warm_pool"]["target_size"], 2, health)
            self.assertEqual(health["warm_pool"]["hits"], 1, health)
            self.assertIn("hit_rate_percent", health["warm_pool"])
            # Paused members are paused, not unhealthy, in list.
            listed = subprocess.run([CLI, "list", "--json"], env=server.env, capture_output=True, text=True,
                                    timeout=60)
            pooled = [k for k in json.loads(listed.stdout) if k.get("pool") == "ready"]
            self.assertEqual(len(pooled), 2, listed.stdout)
            self.assertTrue(all(k["state"] == "paused" for k in pooled))
            # kill -9 while the pool fills (take one out, so it refills), then a restart in the same home.
            ENGINE.call("DELETE", f"/containers/{paused_pool_members()[0]['Id']}?force=1", ok=(204, 404))
            wait_until(lambda: any(c["Names"][0].startswith("/llmspell-filling-") for c in pool_members()), 60,
                       "a member filling")
            server.stop(signal.SIGKILL)
            server = Server(*label_args(), env=env, home=home)
            wait_until(lambda: len(paused_pool_members()) == 2 and len(pool_members()) == 3, 120,
                       "two paused members and the handed-out kernel, nothing else")
            time.sleep(3)  # and it stays so
            members = pool_members()
            self.assertEqual(len([c for c in members if c["State"] == "paused"]), 2, members)
            self.assertFalse([c for c in members if c["Names"][0].startswith("/llmspell-filling-")], members)
        finally:
            server.stop()
        # down leaves nothing of the fleet paused (the compose project here is the shipped one's name).
        env_down = dict(server.env)
        done = subprocess.run([CLI, "-f", os.path.join(SOURCE, "tests", "compose", "good", "autoscale.yml"),
                               "-p", f"pooldown{os.getpid()}", "down", "-t", "1"],
                              env=dict(env_down, **run_env()), capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(paused_pool_members(), [])


class AutoscaleTest(unittest.TestCase):
    """serve's autoscaler on a compose service with a 2 s interval: a CPU load step scales it up
    within three intervals, the reason naming the utilization; after the load, it scales down after
    the down window, draining the replica it removes; the history keeps both with their samples.
    The same with pending execute requests as the metric."""

    @classmethod
    def setUpClass(cls):
        cls.project = f"scale{os.getpid()}"
        cls.compose = os.path.join(SOURCE, "tests", "compose", "good", "autoscale.yml")
        cls.env = run_env()

    def fleet(self, server, *args, timeout=180):
        return subprocess.run([CLI, "-f", self.compose, "-p", self.project, *args],
                              env=dict(server.env, **self.env), capture_output=True, text=True, timeout=timeout)

    def replicas(self, service):
        return sorted(c["Labels"]["com.docker.compose.container-number"]
                      for c in ENGINE.containers_of_this_run()
                      if c["Labels"].get("com.docker.compose.project") == self.project
                      and c["Labels"].get("com.docker.compose.service") == service and c["State"] == "running")

    def connect(self, server, number, service):
        path = os.path.join(server.home, f"{self.project}-{service}-{number}.json")
        client = BlockingKernelClient()
        client.load_connection_file(path)
        client.start_channels()
        client.wait_for_ready(timeout=30)
        return client

    def history(self, server):
        status, history = server.json("GET", "/autoscaling/history?limit=100")
        self.assertEqual(status, 200)
        return history

    def run_scenario(self, service, profile_args, load, metric_word, pool=0):
        # Up first (serve's autoscaler would otherwise bring the service to its min_replicas itself).
        home = tempfile.mkdtemp(prefix="fleet-serve-test-")
        up = subprocess.run([CLI, "-f", self.compose, "-p", self.project, *profile_args, "up", "--wait", service],
                            env=dict(os.environ, LLMSPELL_FLEET_HOME=home, **self.env),
                            capture_output=True, text=True, timeout=180)
        self.assertEqual(up.returncode, 0, up.stderr)
        server = Server("-f", self.compose, "-p", self.project, *profile_args, env=self.env, home=home)
        clients = []
        try:
            self.assertEqual(self.replicas(service), ["1"])
            if pool:
                def pool_full():
                    status = server.json("GET", "/autoscaling")[1]
                    mine = [s for s in status["services"] if s["service"] == service]
                    return mine and mine[0].get("warm_pool", {}).get("current_size") == pool
                wait_until(pool_full, 60, "the service's warm pool filled")
                self.assertEqual(self.replicas(service), ["1"], "pool members are not replicas")
            client = self.connect(server, 1, service)
            clients.append(client)
            step = time.time()
            load(client)
            decision = wait_until(
                lambda: next((d for d in self.history(server) if d["service"] == service
                              and d["action"] == "scale_up"), None), 3 * 2 + 4, "a scale_up within three intervals")
            self.assertIn(metric_word, decision["reason"])
            self.assertTrue(decision["samples"], decision)
            self.assertGreater(decision["target_replicas"], 1)
            if pool:
                self.assertIn(f"{pool} from the warm pool", decision.get("outcome", ""), decision)
            wait_until(lambda: len(self.replicas(service)) == decision["target_replicas"], 60, "the new replicas")
            serving = time.time() - step
            print(f"\n{service}: load step to {decision['target_replicas']} replicas running: {serving:.1f} s",
                  file=sys.stderr)
            # The load ends by itself; then the down window passes.
            down = wait_until(
                lambda: next((d for d in self.history(server) if d["service"] == service
                              and d["action"] == "scale_down"), None), 60, "a scale_down after the window")
            self.assertTrue(down["samples"], down)
            wait_until(lambda: len(self.replicas(service)) == down["target_replicas"], 60,
                       "replicas drained and removed")
            status, auto = server.json("GET", "/autoscaling")
            mine = next(s for s in auto["services"] if s["service"] == service)
            self.assertGreaterEqual(mine["scale_up_count"], 1)
            self.assertGreaterEqual(mine["scale_down_count"], 1)
            self.assertTrue(auto["running"])
            if pool:
                print(f"{service}: warm pool in the autoscaling run: {mine.get('warm_pool')}", file=sys.stderr)
            # The drained replica left a checkpoint (checkpoint_before_drain) for the cpu service.
            return server
        finally:
            for c in clients:
                try:
                    c.stop_channels()
                except Exception:
                    pass
            server.stop()
            self.fleet(server, *profile_args, "down", "-t", "1")

    def test_cpu_load_scales_up_and_back_down(self):
        def spin(client):
            client.execute("local t = os.clock() while os.clock() - t < 12 do end")
        server = self.run_scenario("cpu", [], spin, "CPU utilization", pool=1)
        listed = subprocess.run([CLI, "checkpoints", "--json"], env=server.env, capture_output=True, text=True)
        self.assertTrue(json.loads(listed.stdout), "the drained replica's checkpoint")
        with open(os.path.join(server.home, "events.jsonl")) as f:
            events = [json.loads(line) for line in f]
        self.assertTrue([e for e in events if e["type"] == "scaling" and e.get("action") == "scale_up"])
        self.assertTrue([e for e in events if e["type"] == "drain"])

    def test_pending_requests_scale_up(self):
        def queue_up(client):
            for _ in range(4):  # one runs, three wait behind it
                client.execute("local t = os.clock() while os.clock() - t < 4 do end")
        self.run_scenario("queue", ["--profile", "pending"], queue_up, "pending")

    def test_cli_status_start_stop(self):
        home = tempfile.mkdtemp(prefix="fleet-autoscale-cli-")
        env = dict(os.environ, LLMSPELL_FLEET_HOME=home)
        stopped = subprocess.run([CLI, "autoscale", "stop", "--json"], env=env, capture_output=True, text=True)
        self.assertEqual(stopped.returncode, 0, stopped.stderr)
        self.assertFalse(json.loads(stopped.stdout)["enabled"])
        status = subprocess.run([CLI, "autoscale", "status"], env=env, capture_output=True, text=True)
        self.assertIn("stopped", status.stdout)
        self.assertIn("serve", status.stdout)  # nothing runs it: says so
        started = subprocess.run([CLI, "autoscale", "start", "--json"], env=env, capture_output=True, text=True)
        self.assertTrue(json.loads(started.stdout)["enabled"])
        bad = subprocess.run([CLI, "autoscale", "sideways"], env=env, capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
