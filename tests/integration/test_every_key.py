"""tests/compose/good/every-key.yml through the command line against the real engine.

`up` creates db, web and side; the containers are inspected (HostConfig, Config, endpoint settings,
the network's IPAM) and looked into (secrets, the config, the post_start hook's file, /etc/hosts, the
linked name, the shared namespace); `down` runs web's pre_stop hook. Everything carries this run's
test labels and is removed at the end whatever happened (down, then by label).
"""
import json
import os
import random
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
FILE = os.path.join(SOURCE, "tests", "compose", "good", "every-key.yml")
SESSION = f"everykey{os.getpid()}-{int(time.time())}"
PROJECT = SESSION.lower()
THIRD = random.randint(1, 250)
ENV = dict(os.environ,
           FLEET_TEST_SESSION=SESSION,
           FLEET_TEST_PID=str(os.getpid()),
           FLEET_TEST_EXPIRES=str(int(time.time()) + 3600),
           EVERY_KEY_SUBNET=f"172.28.{THIRD}.0/24",
           EVERY_KEY_PREFIX=f"172.28.{THIRD}.",
           EVERY_KEY_TOKEN="env-secret-content")


def remove_everything():
    for label in (f"com.docker.compose.project={PROJECT}", f"dev.llmspell.fleet-test.session={SESSION}"):
        for c in labelled("containers", label):
            engine_call("DELETE", f"/containers/{c['Id']}?force=1&v=1")
        for n in labelled("networks", label):
            try:
                engine_call("DELETE", f"/networks/{n['Id']}")
            except RuntimeError:
                pass


class EveryKey(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fleet-every-key-")
        cls.home = os.path.join(cls.dir, "home")
        shutil.copy(FILE, os.path.join(cls.dir, "docker-compose.yml"))
        with open(os.path.join(cls.dir, "pw.txt"), "w") as f:
            f.write("file-secret-content\n")
        os.makedirs(os.path.join(cls.dir, "hooks"))
        os.chmod(os.path.join(cls.dir, "hooks"), 0o777)
        ENV["LLMSPELL_FLEET_HOME"] = cls.home
        remove_everything()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.fleet("down")
        finally:
            remove_everything()
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def fleet(cls, *args):
        return subprocess.run([CLI, "-f", os.path.join(cls.dir, "docker-compose.yml"), "-p", PROJECT, *args],
                              env=ENV, capture_output=True, text=True, timeout=300)

    def inspect(self, service):
        return engine_call("GET", f"/containers/{PROJECT}-{service}-1/json")

    def exec(self, service, *cmd):
        out = subprocess.run(["docker", "exec", f"{PROJECT}-{service}-1", *cmd], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip()

    def test_every_key(self):
        config = self.fleet("config")
        self.assertEqual(config.returncode, 0, config.stderr)
        # Without -f, the compose file of the current folder, as docker compose finds it.
        here = subprocess.run([CLI, "config", "--services"], cwd=self.dir, env=ENV, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(here.stdout.split(), ["db", "side", "web"], here.stderr)
        # The secret's value is not shown by `config`.
        self.assertNotIn("env-secret-content", config.stdout)

        up = self.fleet("up")
        self.assertEqual(up.returncode, 0, up.stdout + up.stderr)
        self.assertNotIn("env-secret-content", up.stdout + up.stderr)

        web = self.inspect("web")
        host, cfg = web["HostConfig"], web["Config"]
        self.assertTrue(host["Init"])
        self.assertTrue(cfg["Tty"])
        self.assertTrue(cfg["OpenStdin"])
        self.assertEqual(cfg["Hostname"], "web-host")
        self.assertEqual(cfg["Domainname"], "fleet.test")
        self.assertEqual(host["Dns"], ["10.0.0.2"])
        self.assertEqual(host["DnsSearch"], ["fleet.test"])
        self.assertEqual(host["DnsOptions"], ["ndots:2"])
        self.assertEqual(host["ExtraHosts"], ["registry.fleet.test:10.1.2.3"])
        self.assertEqual(host["Ulimits"], [{"Name": "nofile", "Soft": 1024, "Hard": 2048}])
        self.assertEqual(host["Sysctls"], {"net.ipv4.ip_unprivileged_port_start": "80"})
        self.assertEqual(host["ShmSize"], 32 * 1024 * 1024)
        self.assertEqual(host["Tmpfs"], {"/scratch": "size=8388608,mode=1777"})
        self.assertEqual(host["GroupAdd"], ["1234"])
        self.assertEqual(host["OomScoreAdj"], 300)
        self.assertEqual(cfg["Healthcheck"]["Interval"], 1000000000)
        # No test in the file: the engine filled in the image's.
        image = engine_call("GET", "/images/llmspell-fleet-test:latest/json")
        self.assertEqual(cfg["Healthcheck"]["Test"], image["Config"]["Healthcheck"]["Test"])
        endpoint = web["NetworkSettings"]["Networks"][f"{PROJECT}_default"]
        self.assertEqual(endpoint["IPAddress"], ENV["EVERY_KEY_PREFIX"] + "50")
        self.assertIn("www", endpoint["Aliases"])
        self.assertEqual(endpoint["Links"][0], f"{PROJECT}-db-1:database")
        network = engine_call("GET", f"/networks/{PROJECT}_default")
        self.assertEqual(network["IPAM"]["Config"][0]["Subnet"], ENV["EVERY_KEY_SUBNET"])
        self.assertNotIn("env-secret-content", json.dumps(web))

        self.assertEqual(self.exec("web", "cat", "/run/secrets/pw"), "file-secret-content")
        # The fleet's own shell, with the separator docker users type.
        shell = self.fleet("shell", "web", "--", "cat", "/run/secrets/pw")
        self.assertEqual((shell.returncode, shell.stdout.strip()), (0, "file-secret-content"), shell.stderr)
        self.assertEqual(self.exec("web", "cat", "/run/secrets/token"), "env-secret-content")
        self.assertEqual(self.exec("web", "stat", "-c", "%u:%g %a", "/run/secrets/token"), "1000:1000 400")
        self.assertEqual(self.exec("web", "cat", "/etc/app.conf"), "answer = 42")
        self.assertEqual(self.exec("web", "cat", "/tmp/post_start"), "started")
        # The container's first process: an exec's own NOFILE is racy on runc 1.1 (opencontainers/runc#4195).
        self.assertEqual(self.exec("web", "sh", "-c", "grep 'open files' /proc/1/limits | tr -s ' ' | cut -d' ' -f4,5"),
                         "1024 2048")
        self.assertIn("registry.fleet.test", self.exec("web", "cat", "/etc/hosts"))
        db_ip = self.inspect("db")["NetworkSettings"]["Networks"][f"{PROJECT}_default"]["IPAddress"]
        self.assertIn(db_ip, self.exec("web", "nslookup", "database", "127.0.0.11"))

        side = self.inspect("side")
        self.assertTrue(side["HostConfig"]["NetworkMode"].startswith("container:"))
        self.assertEqual(side["HostConfig"]["VolumesFrom"], [f"{PROJECT}-db-1:ro"])
        self.assertEqual(self.exec("side", "hostname"), "db-host")

        down = self.fleet("down")
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        with open(os.path.join(self.dir, "hooks", "pre_stop")) as f:
            self.assertEqual(f.read().strip(), "stopping")
        self.assertEqual(labelled("containers", f"com.docker.compose.project={PROJECT}"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
