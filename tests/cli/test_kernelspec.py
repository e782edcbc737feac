"""`kernelspec install` and `kernel-launch` through Jupyter's own launcher (jupyter_client's
KernelManager, Debian's python3-jupyter-client).

The specs are installed into a temporary prefix that JUPYTER_PATH points at; a kernel started from
`llmspell-lua-default` runs code, is a fleet container with the fleet's labels and limits on the
ports Jupyter chose, survives an interrupt and a restart, and is gone after shutdown, and after its
launcher is killed outright. Kernels carry this run's test labels and are removed at the end.
"""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from engine_http import engine_call, labelled  # noqa: E402 (after the path is set)

CLI = os.environ["FLEET_CLI"]
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SESSION = f"kspec{os.getpid()}-{int(time.time())}"
TEST_LABELS = {
    "dev.llmspell.fleet-test.session": SESSION,
    "dev.llmspell.fleet-test.pid": str(os.getpid()),
    "dev.llmspell.fleet-test.expires": str(int(time.time()) + 3600),
}
PREFIX = tempfile.mkdtemp(prefix="fleet-kernelspec-test-")
HOME = tempfile.mkdtemp(prefix="fleet-kernelspec-home-")
# KernelManager passes its environment to the launcher: this run's fleet home and spec folder.
os.environ["LLMSPELL_FLEET_HOME"] = HOME
os.environ["JUPYTER_PATH"] = os.path.join(PREFIX, "share", "jupyter")

from jupyter_client import KernelManager  # noqa: E402 (after JUPYTER_PATH is set)


def containers(label):
    return labelled("containers", label)


def launched(km):
    return containers(f"dev.llmspell.fleet.launcher={os.path.abspath(km.connection_file)}")


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def run(client, code, timeout=30):
    """Executes code; returns (reply content, stdout text)."""
    msg_id = client.execute(code)
    out = []
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return shell_reply(client, msg_id, timeout)["content"], "".join(out)


def shell_reply(client, msg_id, timeout):
    """The reply to msg_id (wait_for_ready's extra kernel_info replies may come first)."""
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def install(*args):
    labels = sum((["--label", f"{k}={v}"] for k, v in TEST_LABELS.items()), [])
    return subprocess.run([CLI, "kernelspec", "install", "--prefix", PREFIX, *labels, *args],
                          capture_output=True, text=True, timeout=60)


def tearDownModule():
    for c in containers(f"dev.llmspell.fleet-test.session={SESSION}"):
        engine_call("DELETE", f"/containers/{c['Id']}?force=1&v=1")
    shutil.rmtree(PREFIX, ignore_errors=True)
    shutil.rmtree(HOME, ignore_errors=True)


class Install(unittest.TestCase):
    def test_a_spec_per_language_and_config(self):
        done = install("--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        written = json.loads(done.stdout)
        configs = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(SOURCE, "configs", "*.toml"))
                         if not p.endswith("fleet.toml"))
        names = sorted(f"llmspell-{language}-{config}" for language in ("lua", "javascript") for config in configs)
        self.assertEqual(sorted(w["name"] for w in written), names)
        kernels = os.path.join(PREFIX, "share", "jupyter", "kernels")
        self.assertEqual(sorted(os.listdir(kernels)), names)
        with open(os.path.join(kernels, "llmspell-lua-openai", "kernel.json")) as f:
            spec = json.load(f)
        self.assertEqual(spec["argv"][:8], [os.path.realpath(CLI), "kernel-launch", "--connection-file",
                                            "{connection_file}", "--language", "lua", "--config", "openai.toml"])
        self.assertEqual(spec["display_name"], "LLMSpell Lua (openai)")
        self.assertEqual(spec["language"], "lua")
        self.assertEqual(spec["interrupt_mode"], "signal")
        self.assertEqual(spec["metadata"]["llmspell"]["config"], "openai.toml")
        self.assertEqual(spec["env"]["LLMSPELL_FLEET_CONFIGS"], os.path.join(SOURCE, "configs"))

    def test_one_spec_by_name(self):
        other = tempfile.mkdtemp(prefix="fleet-kernelspec-one-")
        try:
            done = subprocess.run([CLI, "kernelspec", "install", "--prefix", other, "--language", "javascript",
                                   "--config", "local.toml", "--name", "js-local", "--json"],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(os.listdir(os.path.join(other, "share", "jupyter", "kernels")), ["js-local"])
        finally:
            shutil.rmtree(other)

    def test_user_folder_follows_jupyter_data_dir(self):
        data = tempfile.mkdtemp(prefix="fleet-kernelspec-data-")
        try:
            done = subprocess.run([CLI, "kernelspec", "install", "--user", "--config", "default.toml"],
                                  env=dict(os.environ, JUPYTER_DATA_DIR=data), capture_output=True, text=True,
                                  timeout=60)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(sorted(os.listdir(os.path.join(data, "kernels"))),
                             ["llmspell-javascript-default", "llmspell-lua-default"])
        finally:
            shutil.rmtree(data)

    def test_bad_input_exits_2_naming_it(self):
        for args, named in ((["--language", "cobol"], "cobol"), (["--config", "nosuch.toml"], "nosuch.toml"),
                            (["--name", "x"], "--name"), (["--sys-prefix"], "--sys-prefix"),
                            (["--label", "novalue"], "novalue")):
            done = install(*args)
            self.assertEqual(done.returncode, 2, f"{args}: {done.stderr}")
            self.assertIn(named, done.stderr)
        done = subprocess.run([CLI, "kernel-launch", "--connection-file", "/nonexistent.json"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("/nonexistent.json", done.stderr)


class ThroughJupyter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        done = install("--config", "default.toml")
        assert done.returncode == 0, done.stderr

    def start(self):
        km = KernelManager(kernel_name="llmspell-lua-default")
        started = time.monotonic()
        km.start_kernel()
        self.addCleanup(lambda: km.has_kernel and km.shutdown_kernel(now=True))
        client = km.client()
        client.start_channels()
        self.addCleanup(client.stop_channels)
        client.wait_for_ready(timeout=90)
        print(f"\nkernel ready through Jupyter's launcher in {time.monotonic() - started:.2f} s")
        return km, client

    def test_run_interrupt_restart_shutdown(self):
        km, client = self.start()
        reply, out = run(client, "print(1+1)")
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(out.strip(), "2")

        # A fleet container: its labels, limits and security, on the ports Jupyter chose.
        [c] = launched(km)
        inspect = engine_call("GET", f"/containers/{c['Id']}/json")
        labels = inspect["Config"]["Labels"]
        self.assertEqual(labels["dev.llmspell.fleet.managed"], "true")
        self.assertEqual(labels["dev.llmspell.fleet.kernel"], "true")
        self.assertEqual(labels["dev.llmspell.fleet.language"], "lua")
        self.assertEqual(labels["dev.llmspell.fleet.config"], "default.toml")
        self.assertEqual(labels["dev.llmspell.fleet-test.session"], SESSION)
        self.assertTrue(labels["dev.llmspell.fleet.owner"])
        host = inspect["HostConfig"]
        self.assertEqual(host["Memory"], 512 * 1024 * 1024)
        self.assertEqual(host["NanoCpus"], 500_000_000)
        self.assertEqual(host["CapDrop"], ["ALL"])
        self.assertIn("no-new-privileges:true", host["SecurityOpt"])
        self.assertEqual(inspect["Config"]["User"], "1000:1000")
        published = sorted(int(b[0]["HostPort"]) for b in host["PortBindings"].values())
        self.assertEqual(published, sorted([km.shell_port, km.iopub_port, km.stdin_port, km.control_port,
                                            km.hb_port]))
        self.assertTrue(all(b[0]["HostIp"] == "127.0.0.1" for b in host["PortBindings"].values()))

        # Interrupt: Jupyter signals the launcher, which passes SIGINT on to the kernel.
        msg_id = client.execute("spin(30)")
        time.sleep(1)
        interrupted = time.monotonic()
        km.interrupt_kernel()
        reply = shell_reply(client, msg_id, 20)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertLess(time.monotonic() - interrupted, 10)

        # Restart: a new launcher with the same connection file, a new container, state cleared.
        run(client, "x = 41")
        restarted = time.monotonic()
        km.restart_kernel()
        client.wait_for_ready(timeout=90)
        print(f"restart through Jupyter took {time.monotonic() - restarted:.2f} s")
        self.assertIsNone(engine_call("GET", f"/containers/{c['Id']}/json"), "the old container is still there")
        [after] = launched(km)
        self.assertNotEqual(after["Id"], c["Id"])
        reply, out = run(client, "print(x == nil)")
        self.assertEqual(out.strip(), "true")

        process = km.provisioner.process
        km.shutdown_kernel()
        self.assertIsNotNone(process.poll(), "the launcher is still running")
        self.assertTrue(wait_for(lambda: not launched(km), 10), "the container is still there after shutdown")
        self.assertFalse(os.path.exists(os.path.join(HOME, "jupyter-" + os.path.basename(km.connection_file))))

    def test_killed_launcher_leaves_no_container(self):
        km, client = self.start()
        self.assertEqual(len(launched(km)), 1)
        km.provisioner.process.kill()  # SIGKILL: the launcher runs no code of its own
        self.assertTrue(wait_for(lambda: not launched(km), 30), "the watchdog did not remove the container")


if __name__ == "__main__":
    unittest.main(verbosity=2)
