"""Debian's Jupyter Notebook 6.4 on the fleet as its kernel gateway, in a real browser: starts a
`serve` (token, this run's test labels on the kernels it makes) and `jupyter notebook --gateway-url`
on it, runs notebook.test.js (playwright-core driving Debian's headless Chromium), then checks that
the notebooks' kernels were fleet kernels and that closing the notebooks removed their containers.
Everything this run made is removed at the end, also on failure.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from test_serve import ENGINE, TEST_LABELS, TOKEN, Server, free_port  # noqa: E402

LABEL_ARGS = [arg for key, value in TEST_LABELS.items() for arg in ("--label", f"{key}={value}")]


class NotebookTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="fleet-notebook-test-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.addCleanup(self.remove_this_runs_containers)
        self.fleet = Server("--token", TOKEN, *LABEL_ARGS)
        self.addCleanup(self.fleet.stop)
        self.port, self.token = free_port(), uuid.uuid4().hex
        env = dict(os.environ, JUPYTER_CONFIG_DIR=os.path.join(self.root, "config"),
                   JUPYTER_DATA_DIR=os.path.join(self.root, "data"),
                   JUPYTER_RUNTIME_DIR=os.path.join(self.root, "run"))
        self.log = open(os.path.join(self.root, "notebook.log"), "wb")
        self.notebook = subprocess.Popen(
            ["/usr/bin/python3", "-m", "notebook", "--no-browser", "--allow-root", f"--port={self.port}",
             "--ip=127.0.0.1", f"--NotebookApp.token={self.token}", f"--notebook-dir={self.root}",
             f"--gateway-url=http://127.0.0.1:{self.fleet.port}", f"--GatewayClient.auth_token={TOKEN}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_notebook)
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                self.assertLess(time.time(), deadline, self.notebook_log())
                time.sleep(0.2)

    def stop_notebook(self):
        self.notebook.terminate()
        try:
            self.notebook.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.notebook.kill()
        self.log.close()

    def remove_this_runs_containers(self):
        for c in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1", ok=(204, 404))

    def notebook_log(self):
        with open(os.path.join(self.root, "notebook.log"), "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def test_notebooks_run_on_fleet_kernels(self):
        artifacts = os.environ.get("NOTEBOOK_ARTIFACTS", os.path.join(self.root, "artifacts"))
        browser = subprocess.run(
            ["node", os.path.join(HERE, "notebook.test.js")], capture_output=True, text=True, timeout=480,
            env=dict(os.environ, NOTEBOOK_URL=f"http://127.0.0.1:{self.port}", NOTEBOOK_TOKEN=self.token,
                     NOTEBOOK_ARTIFACTS=artifacts))
        self.assertEqual(browser.returncode, 0,
                         f"{browser.stderr}\n--- notebook:\n{self.notebook_log()}\n--- serve:\n"
                         f"{self.fleet.log_text()[-3000:]}")
        result = json.loads(browser.stdout.strip().splitlines()[-1])
        print(json.dumps(result), file=sys.stderr)
        self.assertEqual(len(result["kernels"]), 2)
        # The notebooks' kernels were the fleet's, and closing the notebooks removed their containers.
        log = self.fleet.log_text()
        for kernel in result["kernels"]:
            self.assertIn(f"POST /api/kernels/{kernel}/interrupt" if kernel == result["kernels"][0]
                          else f"GET /api/kernels/{kernel}/channels", log)
            self.assertIn(f"DELETE /api/kernels/{kernel} 204", log)
            status, _ = self.fleet.json("GET", f"/api/kernels/{kernel}",
                                        headers={"Authorization": f"token {TOKEN}"})
            self.assertEqual(status, 404)
        running = [c for c in ENGINE.containers_of_this_run() if c["State"] == "running"]
        self.assertEqual(running, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
