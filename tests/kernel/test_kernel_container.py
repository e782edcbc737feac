"""Kernel containers against real Jupyter clients (Debian's python3-jupyter-client and jupyter-console).

Kernels are started with `llmspell-fleet spawn`, so these tests also cover the image, the published
ports and the host-side connection files. Every container carries this run's test labels and is
removed at the end, also when a test fails; a run that dies is reaped by the next run's set-up.
"""
import http.client
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

from jupyter_client import BlockingKernelClient

CLI = os.environ["FLEET_CLI"]
# Another image than the default llmspell:latest, e.g. one built from a branch under test.
IMAGE = os.environ.get("FLEET_TEST_IMAGE", "llmspell:latest")
SESSION = f"py{os.getpid()}-{int(time.time())}"
TEST_LABELS = {
    "dev.llmspell.fleet-test.session": SESSION,
    "dev.llmspell.fleet-test.pid": str(os.getpid()),
    "dev.llmspell.fleet-test.expires": str(int(time.time()) + 3600),
}
FLEET_HOME = tempfile.mkdtemp(prefix="fleet-kernel-test-")
ENV = dict(os.environ, LLMSPELL_FLEET_HOME=FLEET_HOME)


class Engine:
    """Just enough of the Engine API to check what the fleet did, over DOCKER_HOST."""

    def __init__(self):
        host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.unix = host[len("unix://"):] if host.startswith("unix://") else None
        self.tcp = host[len("tcp://"):] if host.startswith("tcp://") else None

    def _connection(self):
        if self.tcp:
            return http.client.HTTPConnection(self.tcp, timeout=60)
        conn = http.client.HTTPConnection("localhost", timeout=60)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.unix)
        conn.sock = sock
        return conn

    def call(self, method, path, ok=(200, 201, 204, 304)):
        conn = self._connection()
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status not in ok:
            raise RuntimeError(f"{method} {path}: {response.status} {body[:200]!r}")
        return json.loads(body) if body else None

    def containers_of_this_run(self):
        filters = json.dumps({"label": [f"dev.llmspell.fleet-test.session={SESSION}"]})
        return self.call("GET", "/containers/json?all=1&filters=" + urllib.parse.quote(filters))


ENGINE = Engine()


def spawn(language, config="openai.toml"):
    args = [CLI, "spawn", config, language, "--json", "--image", IMAGE]
    for key, value in TEST_LABELS.items():
        args += ["--label", f"{key}={value}"]
    done = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"spawn failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)


def connect(kernel, key=None):
    client = BlockingKernelClient()
    client.load_connection_file(kernel["connection_file"])
    if key is not None:
        client.session.key = key.encode()
    client.start_channels()
    return client


def execute(client, code, timeout=30):
    """Runs code; returns (reply content, stdout text, execute_result texts, error contents)."""
    streams, results, errors = [], [], []

    def on_iopub(msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            streams.append(content["text"])
        elif kind == "execute_result":
            results.append(content["data"]["text/plain"])
        elif kind == "error":
            errors.append(content)

    reply = client.execute_interactive(code, timeout=timeout, output_hook=on_iopub)
    return reply["content"], "".join(streams), results, errors


def llmspell_status(client, timeout=10):
    """The kernel's status (as in its status.json) through llmspell_status_request on control."""
    request = client.session.msg("llmspell_status_request", {})
    client.control_channel.send(request)
    while True:  # a late reply to an earlier request is skipped
        reply = client.get_control_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            return reply["content"]


def wait_for_connections(client, shell, iopub, timeout=30):
    """Polls the status until the kernel counts these connections; returns that status."""
    deadline = time.monotonic() + timeout
    while True:
        status = llmspell_status(client)
        if status["connections"] == {"shell": shell, "iopub": iopub}:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"wanted shell {shell}, iopub {iopub}; the kernel says {status}")
        time.sleep(0.1)


class KernelContainerTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kernels = {"lua": spawn("lua"), "javascript": spawn("javascript", "default.toml")}

    @classmethod
    def tearDownClass(cls):
        for container in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{container['Id']}?force=1&v=1", ok=(204, 404))
        shutil.rmtree(FLEET_HOME, ignore_errors=True)

    def client(self, language):
        client = connect(self.kernels[language])
        self.addCleanup(client.stop_channels)
        client.wait_for_ready(timeout=30)
        return client

    def test_host_connection_file_points_at_published_loopback_ports(self):
        for kernel in self.kernels.values():
            with open(kernel["connection_file"]) as f:
                info = json.load(f)
            self.assertEqual(info["ip"], "127.0.0.1")
            self.assertEqual(info["shell_port"], kernel["shell_port"])
            self.assertEqual(len(info["key"]), 64)
            self.assertEqual(oct(os.stat(kernel["connection_file"]).st_mode & 0o777), "0o600")
            inspect = ENGINE.call("GET", f"/containers/{kernel['container_id']}/json")
            self.assertEqual(inspect["Config"]["User"], "1000:1000")
            self.assertEqual(inspect["HostConfig"]["CapDrop"], ["ALL"])
            self.assertEqual(inspect["HostConfig"]["Memory"], 512 * 1024 * 1024)
            self.assertEqual(inspect["HostConfig"]["PortBindings"]["9555/tcp"][0]["HostIp"], "127.0.0.1")

    def test_lua_print_goes_to_the_stream(self):
        reply, out, results, _ = execute(self.client("lua"), "print(1+1)")
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(out, "2\n")
        self.assertEqual(results, [])

    def test_lua_final_expression_is_the_result_and_state_persists(self):
        client = self.client("lua")
        self.assertEqual(execute(client, "6*7")[2], ["42"])
        execute(client, "counter = 41")
        self.assertEqual(execute(client, "counter + 1")[2], ["42"])

    def test_lua_error_gives_an_error_reply_and_the_kernel_keeps_serving(self):
        client = self.client("lua")
        reply, _, _, errors = execute(client, 'error("boom")')
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "LuaError")
        self.assertIn("boom", reply["evalue"])
        self.assertEqual(errors[0]["ename"], "LuaError")
        self.assertEqual(execute(client, 'print("still here")')[1], "still here\n")

    def test_lua_kernel_info_reports_language_and_config(self):
        info = self.client("lua").kernel_info(reply=True, timeout=10)["content"]
        self.assertEqual(info["language_info"]["name"], "lua")
        self.assertEqual(info["protocol_version"], "5.3")
        self.assertEqual(info["llmspell"]["config"]["provider"], "openai")
        self.assertIn("provider openai", info["banner"])

    def test_javascript_print_result_error_and_kernel_info(self):
        client = self.client("javascript")
        self.assertEqual(execute(client, "print(1+1)")[1], "2\n")
        self.assertEqual(execute(client, "6*7")[2], ["42"])
        reply, _, _, errors = execute(client, "nosuchthing.x")
        self.assertEqual(reply["status"], "error")
        self.assertEqual(errors[0]["ename"], "ReferenceError")
        self.assertEqual(execute(client, "console.log('after', 1)")[1], "after 1\n")
        info = client.kernel_info(reply=True, timeout=10)["content"]
        self.assertEqual(info["language_info"]["name"], "javascript")

    def test_other_requests_answer_as_the_protocol_says(self):
        client = self.client("lua")
        execute(client, "answer_value = 42")
        client.is_complete("for i=1,3 do")
        self.assertEqual(client.get_shell_msg(timeout=10)["content"]["status"], "incomplete")
        client.complete("answer_v")
        matches = client.get_shell_msg(timeout=10)["content"]["matches"]
        self.assertIn("answer_value", matches)
        client.inspect("answer_value")
        reply = client.get_shell_msg(timeout=10)["content"]
        self.assertEqual((reply["status"], reply["found"]), ("ok", True))
        self.assertIn("42", reply["data"]["text/plain"])
        client.history(hist_access_type="tail", n=1)
        history = client.get_shell_msg(timeout=10)["content"]["history"]
        self.assertEqual([entry[2] for entry in history], ["answer_value = 42"])
        client.comm_info()
        self.assertEqual(client.get_shell_msg(timeout=10)["content"]["comms"], {})
        # The fleet's activity view, over the control channel.
        msg = client.session.msg("llmspell_status_request", {})
        client.control_channel.send(msg)
        status = client.get_control_msg(timeout=10)
        self.assertEqual(status["msg_type"], "llmspell_status_reply")
        self.assertEqual(status["content"]["execution_state"], "idle")
        self.assertGreaterEqual(status["content"]["execution_count"], 1)

    def test_clients_are_counted_as_they_come_and_go(self):
        kernel = spawn("lua")  # its own: the shared kernels see other tests' clients come and go
        first, second = connect(kernel), connect(kernel)
        for client in (first, second):
            self.addCleanup(client.stop_channels)
            client.wait_for_ready(timeout=30)
        # Each client also holds control, stdin and heartbeat, and the HEALTHCHECK probes heartbeat:
        # only shell and iopub count.
        status = wait_for_connections(first, 2, 2)
        self.assertEqual(status["clients"], 2)
        self.assertEqual(status["execution_state"], "idle")

        second.stop_channels()
        self.assertEqual(wait_for_connections(first, 1, 1)["clients"], 1)

        # A client that dies without closing: its sockets go with the process, the kernel sees the
        # TCP connections end.
        crashing = subprocess.Popen(
            [sys.executable, "-c",
             "import sys, time\n"
             "from jupyter_client import BlockingKernelClient\n"
             "c = BlockingKernelClient()\n"
             "c.load_connection_file(sys.argv[1])\n"
             "c.start_channels()\n"
             "time.sleep(600)\n",
             kernel["connection_file"]])
        self.addCleanup(crashing.wait)
        self.addCleanup(crashing.kill)
        self.assertEqual(wait_for_connections(first, 2, 2)["clients"], 2)
        crashing.kill()
        self.assertEqual(wait_for_connections(first, 1, 1)["clients"], 1)

    def test_interrupt_on_the_control_channel_stops_a_running_execution(self):
        client = self.client("lua")
        msg_id = client.execute("spin(60)")
        time.sleep(0.5)
        client.control_channel.send(client.session.msg("interrupt_request", {}))
        self.assertEqual(client.get_control_msg(timeout=10)["content"]["status"], "ok")
        reply = client.get_shell_msg(timeout=20)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        self.assertEqual(execute(client, "1 + 1")[2], ["2"])  # still serving

    def test_restart_clears_the_interpreter_state(self):
        kernel = spawn("javascript", "default.toml")
        client = connect(kernel)
        self.addCleanup(client.stop_channels)
        client.wait_for_ready(timeout=30)
        execute(client, "var kept = 7")
        self.assertEqual(execute(client, "kept")[2], ["7"])
        client.shutdown(restart=True)
        self.assertTrue(client.get_control_msg(timeout=10)["content"]["restart"])
        reply, _, results, _ = execute(client, "typeof kept")
        self.assertEqual(results, ['"undefined"'])
        self.assertEqual(reply["execution_count"], 1)  # counting starts again

    def test_message_signed_with_a_wrong_key_is_ignored(self):
        good = self.client("lua")
        bad = connect(self.kernels["lua"], key="0" * 64)
        self.addCleanup(bad.stop_channels)
        bad.execute("pwned = 1")
        with self.assertRaises(queue.Empty):
            bad.get_shell_msg(timeout=3)
        self.assertEqual(execute(good, "pwned == nil")[2], ["true"])

    def test_jupyter_console_runs_a_line(self):
        kernel = self.kernels["lua"]
        done = subprocess.run(
            ["jupyter-console", "--existing", kernel["connection_file"], "--simple-prompt"],
            input="print(6*7)\n", capture_output=True, text=True, timeout=120,
            env=dict(ENV, JUPYTER_RUNTIME_DIR=FLEET_HOME, HOME=FLEET_HOME))
        self.assertIn("LLMSpell kernel", done.stdout)
        self.assertIn("42", done.stdout)

    def test_sigterm_during_a_3_second_execution_finishes_it_and_exits_0(self):
        kernel = spawn("lua")
        client = connect(kernel)
        self.addCleanup(client.stop_channels)
        client.wait_for_ready(timeout=30)
        msg_id = client.execute('spin(3); print("finished")')
        time.sleep(0.5)  # the execution is running
        stopper = threading.Thread(
            target=ENGINE.call, args=("POST", f"/containers/{kernel['container_id']}/stop?t=20"))
        stopper.start()
        reply = client.get_shell_msg(timeout=20)
        stopper.join()
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        state = ENGINE.call("GET", f"/containers/{kernel['container_id']}/json")["State"]
        self.assertEqual(state["Status"], "exited")
        self.assertEqual(state["ExitCode"], 0)
        self.assertFalse(state["OOMKilled"])


def fleet(*args, timeout=180):
    """Runs the CLI in this run's fleet home; the finished process."""
    return subprocess.run([CLI, *args], env=ENV, capture_output=True, text=True, timeout=timeout)


def run_in_background(kernel, code):
    """Starts `code` on its own connection and returns the thread running it (and its reply)."""
    outcome = {"ready": threading.Event()}

    def run():
        client = connect(kernel)
        try:
            client.wait_for_ready(timeout=30)
            outcome["ready"].set()
            outcome["reply"] = execute(client, code, timeout=120)[0]
        finally:
            client.stop_channels()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def wait_busy(kernel, outcome, timeout=20):
    # Not before the other client is ready: jupyter_client's wait_for_ready waits for a quiet iopub,
    # and every status request here publishes busy and idle there.
    if not outcome["ready"].wait(timeout):
        raise AssertionError("the client running the code never became ready")
    client = connect(kernel)
    try:
        deadline = time.monotonic() + timeout
        # Busy alone could be the other client's kernel_info (wait_for_ready may send several): the
        # execution counts once its request is pending.
        while not ((state := llmspell_status(client))["execution_state"] == "busy" and state["pending"] >= 1):
            if time.monotonic() > deadline:
                raise AssertionError(f"the kernel never became busy: {state}")
            time.sleep(0.1)
    finally:
        client.stop_channels()


class DrainAndCheckpointTests(unittest.TestCase):
    """`stop` drains: it waits for the kernel to be idle (up to the drain timeout, past it E2093),
    saves a checkpoint of the user's state, and `restore` brings the state back in a new kernel."""

    def tearDown(self):
        for container in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{container['Id']}?force=1&v=1", ok=(204, 404))

    def checkpoint_of(self, kernel_id):
        done = fleet("checkpoints", "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        mine = [c for c in json.loads(done.stdout) if c["kernel_id"] == kernel_id]
        self.assertEqual(len(mine), 1, done.stdout)
        return mine[0]

    def test_stop_waits_for_a_running_execution_and_keeps_a_checkpoint(self):
        kernel = spawn("lua", "default.toml")
        thread, outcome = run_in_background(
            kernel, "local t = os.clock() while os.clock() - t < 5 do end done_at = os.time() print('done')")
        wait_busy(kernel, outcome)
        started = time.monotonic()
        done = fleet("stop", kernel["kernel_id"], "--drain-timeout", "30", "--json")
        waited = time.monotonic() - started
        self.assertEqual(done.returncode, 0, done.stderr)
        row = json.loads(done.stdout)[0]
        self.assertFalse(row["drain"]["timed_out"], row)
        self.assertGreater(row["drain"]["waited_seconds"], 1.0, row)
        self.assertGreater(waited, 1.0)
        thread.join(timeout=30)
        self.assertEqual(outcome.get("reply", {}).get("status"), "ok", outcome)
        checkpoint = self.checkpoint_of(kernel["kernel_id"])
        self.assertEqual(row["drain"]["checkpoint"], checkpoint["id"])
        self.assertEqual(checkpoint["language"], "lua")
        self.assertEqual(engine_state(kernel["container_id"]), None)

    def test_a_drain_timeout_is_e2093_and_the_kernel_stops_anyway(self):
        kernel = spawn("lua", "default.toml")
        thread, outcome = run_in_background(kernel, "local t = os.clock() while os.clock() - t < 20 do end")
        wait_busy(kernel, outcome)
        done = fleet("stop", kernel["kernel_id"], "--drain-timeout", "1", "--no-checkpoint", "-t", "1")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("E2093", done.stdout + done.stderr)
        self.assertEqual(engine_state(kernel["container_id"]), None)
        thread.join(timeout=30)

    def restored_answer(self, language, setup, question):
        kernel = spawn(language, "default.toml")
        client = connect(kernel)
        client.wait_for_ready(timeout=30)
        self.assertEqual(execute(client, setup)[0]["status"], "ok")
        client.stop_channels()
        done = fleet("stop", kernel["kernel_id"], "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        checkpoint = json.loads(done.stdout)[0]["drain"]["checkpoint"]
        args = ["restore", checkpoint, "--json"]
        for key, value in TEST_LABELS.items():
            args += ["--label", f"{key}={value}"]
        restored = fleet(*args)
        self.assertEqual(restored.returncode, 0, restored.stderr)
        row = json.loads(restored.stdout)
        self.assertNotEqual(row["kernel_id"], kernel["kernel_id"])
        self.assertEqual(row["restored"]["checkpoint"], checkpoint)
        client = connect(row)
        client.wait_for_ready(timeout=30)
        try:
            reply, out, results, errors = execute(client, question)
            return reply, results, errors, row
        finally:
            client.stop_channels()

    def test_lua_tables_survive_a_drain_and_a_restore(self):
        reply, results, errors, row = self.restored_answer(
            "lua", 'x = {a = 1, b = {"two", 3}} x.self = x f = function() end',
            'x.b[1] .. " " .. math.type(x.b[2]) .. " " .. tostring(x.self == x) .. " " .. tostring(x.a)')
        self.assertEqual(reply["status"], "ok", errors)
        self.assertEqual(results, ["two integer true 1"])
        self.assertIn("x", row["restored"]["globals"])

    def test_javascript_objects_survive_a_drain_and_a_restore(self):
        reply, results, errors, _ = self.restored_answer("javascript", "var y = {n: [1, 2]}", "y.n[1]")
        self.assertEqual(reply["status"], "ok", errors)
        self.assertEqual(results, ["2"])

    def test_restore_of_an_unknown_checkpoint_is_bad_input(self):
        done = fleet("restore", "no-such-checkpoint")
        self.assertEqual(done.returncode, 2)
        self.assertIn("no-such-checkpoint", done.stderr)


def engine_state(container_id):
    """The container's state, None when the engine has no such container."""
    try:
        return ENGINE.call("GET", f"/containers/{container_id}/json")["State"]["Status"]
    except RuntimeError:
        return None


if __name__ == "__main__":
    unittest.main(verbosity=2)
