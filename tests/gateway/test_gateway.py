"""Jupyter's kernel gateway protocol on `llmspell-fleet serve`, against the real engine, through
clients nobody here wrote: websocket-client for the channels, and Debian's Jupyter Server 1.23 with
--gateway-url (its GatewayClient and its own kernel WebSocket in front of ours).

Every kernel the gateway makes carries this run's test labels (serve --label) and is removed at the
end, also when a test fails.
"""
import datetime
import http.client
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "server"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernel"))
from test_kernel_container import ENGINE, TEST_LABELS  # noqa: E402
from test_serve import TOKEN, Server, free_port  # noqa: E402

import websocket  # noqa: E402  (Debian's python3-websocket)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LABEL_ARGS = [arg for key, value in TEST_LABELS.items() for arg in ("--label", f"{key}={value}")]
OWNER = f"gw{os.getpid()}"
JUPYTER_AUTH = {"Authorization": f"token {TOKEN}"}


def remove_this_runs_containers():
    for container in ENGINE.containers_of_this_run():
        ENGINE.call("DELETE", f"/containers/{container['Id']}?force=1&v=1", ok=(204, 404))


def message(msg_type, content, channel="shell", session="test-session"):
    return {"channel": channel,
            "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session,
                       "username": OWNER, "version": "5.3",
                       "date": datetime.datetime.utcnow().isoformat() + "Z"},
            "parent_header": {}, "metadata": {}, "content": content, "buffers": []}


def execute_request(code):
    return message("execute_request", {"code": code, "silent": False, "store_history": True,
                                       "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})


class Channels:
    """A WebSocket on /api/kernels/{id}/channels, as a Jupyter frontend uses it."""

    def __init__(self, url, headers=None):
        self.ws = websocket.create_connection(url, header=headers or [], timeout=60)

    def send(self, msg):
        self.ws.send(json.dumps(msg))
        return msg["header"]["msg_id"]

    def next(self, timeout=60):
        self.ws.settimeout(timeout)
        opcode, frame = self.ws.recv_data(control_frame=True)
        # Jupyter Server pings every 30 s; websocket-client answers the ping itself.
        while opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
            opcode, frame = self.ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.close_code = struct.unpack("!H", frame[:2])[0] if len(frame) >= 2 else None
            self.close_reason = frame[2:].decode()
            self.ws.close()  # the close handshake's answer, as a browser gives it
            raise websocket.WebSocketConnectionClosedException("closed")
        return json.loads(frame)

    def wait_until_relayed(self, timeout=60):
        """Asks kernel_info until a reply comes back. Jupyter Server 1.23 opens its own connection to
        the gateway on a later turn of its loop and loses what a client sends before that
        (GatewayWebSocketHandler.open spawns GatewayWebSocketClient._connect): clients retry."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg_id = self.send(message("kernel_info_request", {}))
            retry = min(deadline, time.time() + 2)
            try:
                while time.time() < retry:
                    m = self.next(max(0.1, retry - time.time()))
                    if m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id:
                        return m["content"]
            except websocket.WebSocketTimeoutException:
                pass
        raise AssertionError(f"no kernel_info_reply through the relay within {timeout} s")

    def run(self, code, timeout=60):
        """Executes `code`; returns (reply content, stdout text, iopub messages of the request)."""
        msg_id = self.send(execute_request(code))
        reply, out, iopub, idle = None, "", [], False
        deadline = time.time() + timeout
        while reply is None or not idle:
            m = self.next(max(0.1, deadline - time.time()))
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            if m["channel"] == "shell":
                reply = m["content"]
            elif m["channel"] == "iopub":
                iopub.append(m)
                if m["msg_type"] == "stream" and m["content"]["name"] == "stdout":
                    out += m["content"]["text"]
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    idle = True
        return reply, out, iopub

    def close(self):
        self.ws.close()


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--token", TOKEN, *LABEL_ARGS)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        remove_this_runs_containers()

    def api(self, method, path, body=None, headers=None, **kw):
        return self.server.json(method, path, body, headers=JUPYTER_AUTH if headers is None else headers, **kw)

    def ws_url(self, kernel_id):
        return f"ws://127.0.0.1:{self.server.port}/api/kernels/{kernel_id}/channels"

    def start_kernel(self, name="llmspell-lua-default"):
        status, headers, raw = self.server.request(
            "POST", "/api/kernels", {"name": name, "env": {"KERNEL_USERNAME": OWNER}}, headers=JUPYTER_AUTH)
        self.assertEqual(status, 201, raw)
        model = json.loads(raw)
        self.assertEqual(headers.get("Location"), f"/api/kernels/{model['id']}")
        self.addCleanup(self.server.request, "DELETE", f"/api/kernels/{model['id']}", headers=JUPYTER_AUTH)
        return model

    def channels(self, kernel_id):
        c = Channels(self.ws_url(kernel_id), [f"Authorization: token {TOKEN}"])
        self.addCleanup(c.close)
        return c

    def test_kernelspecs_one_per_language_and_config(self):
        status, specs = self.api("GET", "/api/kernelspecs")
        self.assertEqual(status, 200, specs)
        configs = sorted(f[:-5] for f in os.listdir(os.path.join(os.path.dirname(__file__), "..", "..", "configs"))
                         if f.endswith(".toml") and f != "fleet.toml")
        names = sorted(f"llmspell-{language}-{config}" for language in ("lua", "javascript") for config in configs)
        self.assertEqual(sorted(specs["kernelspecs"]), names)
        self.assertEqual(specs["default"], "llmspell-lua-default")
        status, one = self.api("GET", "/api/kernelspecs/llmspell-javascript-openai")
        self.assertEqual(status, 200, one)
        self.assertEqual(one["spec"]["language"], "javascript")
        self.assertEqual(one["spec"]["display_name"], "LLMSpell JavaScript (openai)")
        status, missing = self.api("GET", "/api/kernelspecs/python3")
        self.assertEqual(status, 404)
        self.assertIn("llmspell-lua-default", missing["message"])
        status, _ = self.api("GET", "/api")
        self.assertEqual(status, 200)

    def test_a_kernel_from_create_to_delete(self):
        model = self.start_kernel()
        self.assertRegex(model["id"], UUID)
        self.assertEqual(model["name"], "llmspell-lua-default")
        self.assertEqual(model["llmspell"]["owner"], OWNER)
        datetime.datetime.strptime(model["last_activity"], "%Y-%m-%dT%H:%M:%S.%fZ")  # as Jupyter parses it
        container = ENGINE.call("GET", f"/containers/{model['llmspell']['container']}/json")
        self.assertEqual(container["HostConfig"]["Memory"], 512 * 1024 * 1024)
        for key, value in TEST_LABELS.items():
            self.assertEqual(container["Config"]["Labels"][key], value)

        first, second = self.channels(model["id"]), self.channels(model["id"])
        reply, out, _ = first.run("print(1+1)")
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(out, "2\n")
        # The other client sees the same output on its iopub.
        seen = ""
        while "2\n" not in seen:
            m = second.next(timeout=10)
            if m["msg_type"] == "stream":
                seen += m["content"]["text"]
        status, now = self.api("GET", f"/api/kernels/{model['id']}")
        self.assertEqual(status, 200)
        self.assertEqual(now["connections"], 2, now)
        self.assertEqual(now["execution_state"], "idle")
        self.assertGreater(now["last_activity"], model["last_activity"])

        second.close()
        deadline = time.time() + 10
        while self.api("GET", f"/api/kernels/{model['id']}")[1]["connections"] != 1:
            self.assertLess(time.time(), deadline, "a closed WebSocket still counted")
            time.sleep(0.2)

        # A client that vanishes without a close frees its connection too (seen at the next ping).
        vanishing = Channels(self.ws_url(model["id"]), [f"Authorization: token {TOKEN}"])
        deadline = time.time() + 10
        while self.api("GET", f"/api/kernels/{model['id']}")[1]["connections"] != 2:
            self.assertLess(time.time(), deadline, "the third WebSocket was never counted")
            time.sleep(0.2)
        vanishing.ws.sock.shutdown(socket.SHUT_RDWR)
        vanishing.ws.sock.close()
        deadline = time.time() + 40
        while self.api("GET", f"/api/kernels/{model['id']}")[1]["connections"] != 1:
            self.assertLess(time.time(), deadline, "a vanished client still counted")
            time.sleep(0.5)

        status, listed = self.api("GET", "/api/kernels")
        self.assertIn(model["id"], [k["id"] for k in listed])

        status, raw = self.api("DELETE", f"/api/kernels/{model['id']}")
        self.assertEqual(status, 204)
        self.assertIn("No such container",
                      ENGINE.call("GET", f"/containers/{model['llmspell']['container']}/json", ok=(404,))["message"])
        status, gone = self.api("GET", f"/api/kernels/{model['id']}")
        self.assertEqual(status, 404, gone)

    def test_interrupt_and_restart(self):
        model = self.start_kernel("llmspell-javascript-default")
        c = self.channels(model["id"])
        reply, _, _ = c.run("var kept = 7; kept")
        self.assertEqual(reply["status"], "ok")
        msg_id = c.send(execute_request("spin(60)"))
        while True:  # running
            m = c.next()
            if m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id and \
                    m["content"]["execution_state"] == "busy":
                break
        started = time.time()
        status, _ = self.api("POST", f"/api/kernels/{model['id']}/interrupt")
        self.assertEqual(status, 204)
        while True:
            m = c.next()
            if m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id:
                break
        self.assertEqual(m["content"]["status"], "error")
        self.assertEqual(m["content"]["ename"], "KeyboardInterrupt")
        self.assertLess(time.time() - started, 10)

        status, after = self.api("POST", f"/api/kernels/{model['id']}/restart")
        self.assertEqual(status, 200, after)
        self.assertEqual(after["id"], model["id"])
        reply, out, iopub = c.run("typeof kept")
        self.assertEqual(reply["status"], "ok")
        results = [m["content"]["data"]["text/plain"] for m in iopub if m["msg_type"] == "execute_result"]
        self.assertEqual(results, ['"undefined"'])  # the string, shown as JavaScript writes it

    def test_a_kernel_that_dies_closes_its_websockets_saying_why(self):
        model = self.start_kernel()
        c = self.channels(model["id"])
        ENGINE.call("POST", f"/containers/{model['llmspell']['container']}/kill")
        dead = False
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                m = c.next(timeout=max(0.1, deadline - time.time()))
            except websocket.WebSocketConnectionClosedException:
                break
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "dead":
                dead = True
        self.assertTrue(dead, "no iopub status dead before the close")
        self.assertEqual(c.close_code, 1011)
        self.assertRegex(c.close_reason, r"kernel kernel-[0-9a-f]+ (exited|was removed)")
        ended = re.compile(r"websocket kernel-[0-9a-f]+ ended: kernel kernel-[0-9a-f]+ (exited|was removed)")
        deadline = time.time() + 40  # written once the close handshake is over (30 s at most)
        while not ended.search(self.server.log_text()):
            self.assertLess(time.time(), deadline, self.server.log_text())
            time.sleep(0.1)

    def test_bad_requests_are_refused_and_change_nothing(self):
        before = len(ENGINE.containers_of_this_run())
        status, body = self.api("POST", "/api/kernels", {"name": "python3"})
        self.assertEqual(status, 404, body)
        self.assertIn("llmspell-lua-default", body["message"])
        status, _, raw = self.server.request("POST", "/api/kernels", "{not json", headers=JUPYTER_AUTH)
        self.assertEqual(status, 400, raw)
        status, body = self.api("POST", "/api/kernels", {"name": 7})
        self.assertEqual(status, 422, body)
        status, body = self.api("GET", "/api/kernels", headers={"Authorization": "token wrong"})
        self.assertEqual(status, 401, body)
        status, body = self.api("GET", f"/api/kernels/{uuid.uuid4()}")
        self.assertEqual(status, 404, body)
        status, body = self.api("GET", "/api/kernels/kernel-1234")
        self.assertEqual(status, 404, body)
        status, body = self.api("PUT", "/api/kernels")
        self.assertEqual(status, 405, body)
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            Channels(self.ws_url(uuid.uuid4()), [f"Authorization: token {TOKEN}"])
        self.assertEqual(refused.exception.status_code, 404)
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            Channels(self.ws_url(uuid.uuid4()))
        self.assertEqual(refused.exception.status_code, 401)
        model = self.start_kernel()
        with self.assertRaises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(self.ws_url(model["id"]), origin="http://evil.example",
                                        header=[f"Authorization: token {TOKEN}"], timeout=10)
        self.assertEqual(refused.exception.status_code, 403)
        # A message that is not one is dropped; the connection and the kernel go on.
        c = self.channels(model["id"])
        c.ws.send("not json")
        c.ws.send(json.dumps({"channel": "iopub", "header": {"msg_type": "status"}}))
        reply, out, _ = c.run("print('still here')")
        self.assertEqual(out, "still here\n")
        self.assertEqual(len(ENGINE.containers_of_this_run()), before + 1)


class JupyterServerTest(unittest.TestCase):
    """Jupyter Server 1.23 with --gateway-url: the fleet's kernelspecs in its API, its kernels fleet
    kernels, and its own kernel WebSocket relaying ours."""

    @classmethod
    def setUpClass(cls):
        cls.fleet = Server("--token", TOKEN, *LABEL_ARGS)
        cls.port = free_port()
        cls.root = tempfile.mkdtemp(prefix="fleet-jupyter-server-")
        cls.jupyter_token = uuid.uuid4().hex
        env = dict(os.environ, JUPYTER_CONFIG_DIR=os.path.join(cls.root, "config"),
                   JUPYTER_DATA_DIR=os.path.join(cls.root, "data"), JUPYTER_RUNTIME_DIR=os.path.join(cls.root, "run"),
                   KERNEL_USERNAME=OWNER)
        cls.log = open(os.path.join(cls.root, "jupyter.log"), "wb")
        cls.jupyter = subprocess.Popen(
            ["/usr/bin/python3", "-m", "jupyter_server", "--no-browser", "--allow-root", f"--port={cls.port}",
             "--ip=127.0.0.1",
             f"--ServerApp.token={cls.jupyter_token}", f"--ServerApp.root_dir={cls.root}",
             f"--gateway-url=http://127.0.0.1:{cls.fleet.port}", f"--GatewayClient.auth_token={TOKEN}"],
            env=env, stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:  # until its API answers
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                if cls.jupyter_api("GET", "/api")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("jupyter server did not start: " + cls.log_text())

    @classmethod
    def tearDownClass(cls):
        cls.jupyter.terminate()
        try:
            cls.jupyter.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cls.jupyter.kill()
        cls.log.close()
        cls.fleet.stop()
        remove_this_runs_containers()
        shutil.rmtree(cls.root, ignore_errors=True)

    @classmethod
    def log_text(cls):
        with open(os.path.join(cls.root, "jupyter.log"), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    @classmethod
    def jupyter_api(cls, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", cls.port, timeout=120)
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Authorization": f"token {cls.jupyter_token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")  # an error page: shown by the assertion

    def test_jupyter_server_lists_fleet_kernelspecs_and_starts_fleet_kernels(self):
        # Jupyter Server takes the gateway's default on its first fetch and answers with it from the next.
        self.jupyter_api("GET", "/api/kernelspecs")
        status, specs = self.jupyter_api("GET", "/api/kernelspecs")
        self.assertEqual(status, 200, self.log_text())
        self.assertEqual(specs["default"], "llmspell-lua-default")
        self.assertIn("llmspell-javascript-openai", specs["kernelspecs"])

        status, model = self.jupyter_api("POST", "/api/kernels", {"name": "llmspell-lua-openai"})
        self.assertEqual(status, 201, self.log_text())
        self.addCleanup(self.jupyter_api, "DELETE", f"/api/kernels/{model['id']}")
        _, fleet_model = self.fleet.json("GET", f"/api/kernels/{model['id']}", headers=JUPYTER_AUTH)
        container = fleet_model["llmspell"]["container"]
        self.assertEqual(ENGINE.call("GET", f"/containers/{container}/json")["State"]["Status"], "running")
        self.assertEqual(fleet_model["llmspell"]["owner"], OWNER)  # Jupyter's KERNEL_USERNAME

        # Jupyter Server's own WebSocket, which relays to the fleet's.
        c = Channels(f"ws://127.0.0.1:{self.port}/api/kernels/{model['id']}/channels?token={self.jupyter_token}")
        self.addCleanup(c.close)
        self.assertEqual(c.wait_until_relayed()["status"], "ok")
        reply, out, _ = c.run("print(6*7)", timeout=90)
        self.assertEqual(reply["status"], "ok", self.log_text())
        self.assertEqual(out, "42\n")

        status, _ = self.jupyter_api("DELETE", f"/api/kernels/{model['id']}")
        self.assertEqual(status, 204, self.log_text())
        self.assertIn("No such container", ENGINE.call("GET", f"/containers/{container}/json", ok=(404,))["message"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
