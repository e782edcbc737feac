"""serve's dashboard in a real browser: brings up the autoscaling test project (tests/compose/good/
autoscale.yml, service `cpu`) and a `serve` with a token on it in a fleet home of its own, then runs
dashboard.test.js (playwright-core driving Debian's headless Chromium). Every container carries this
run's test labels and is removed at the end, also when the browser test fails; a run that dies is
reaped by the next run's set-up. Exits with the browser test's status.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from test_serve import CLI, NO_POOLS, TOKEN, ENGINE, TEST_LABELS, Server, label_args, run_env  # noqa: E402

COMPOSE = os.path.join(HERE, "..", "compose", "good", "autoscale.yml")
PROJECT = f"dash{os.getpid()}"


def main():
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        print("tests/browser/node_modules is missing: bash docker/host-setup.sh deps", file=sys.stderr)
        return 1
    home = tempfile.mkdtemp(prefix="fleet-dashboard-test-")
    # Once: the labels' values are in the service's config hash, and serve's autoscaler would
    # recreate a replica made with others.
    labels_env = run_env()
    env = dict(os.environ, LLMSPELL_FLEET_HOME=home, LLMSPELL_FLEET_SETTINGS=NO_POOLS, **labels_env)
    compose = [CLI, "-f", COMPOSE, "-p", PROJECT]
    server = None
    try:
        # Up first: serve's autoscaler would otherwise bring the service to its min_replicas itself.
        up = subprocess.run([*compose, "up", "--wait", "cpu"], env=env, capture_output=True, text=True, timeout=180)
        if up.returncode != 0:
            print(up.stderr, file=sys.stderr)
            return 1
        server = Server("--token", TOKEN, "-f", COMPOSE, "-p", PROJECT, *label_args(), home=home, env=labels_env)
        browser = subprocess.run(
            ["node", os.path.join(HERE, "dashboard.test.js")], timeout=400,
            env=dict(env, DASHBOARD_URL=f"http://127.0.0.1:{server.port}/?token={TOKEN}",
                     FLEET_COMPOSE=COMPOSE, FLEET_PROJECT=PROJECT, FLEET_TEST_LABELS=json.dumps(TEST_LABELS),
                     DASHBOARD_ARTIFACTS=os.environ.get("DASHBOARD_ARTIFACTS",
                                                        os.path.join(home, "artifacts"))))
        if browser.returncode != 0:
            print(server.log_text()[-4000:], file=sys.stderr)
        # The token came in URLs: it is never written to serve's log.
        if TOKEN in server.log_text():
            print("the token is in serve's log", file=sys.stderr)
            return 1
        return browser.returncode
    finally:
        if server:
            server.stop()
        subprocess.run([*compose, "down", "-t", "1"], env=env, capture_output=True, timeout=180)
        for c in ENGINE.containers_of_this_run():
            ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1", ok=(204, 404))
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
