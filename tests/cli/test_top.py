"""`llmspell-fleet top` on a real terminal (tmux) and without one.

On the terminal: the view shows a kernel this run spawned, shows a second one within a few refreshes
of its spawn, quits on q, SIGINT and SIGTERM, and leaves the terminal as it found it (main screen,
cursor shown, canonical mode and echo on). Without a terminal: a block per refresh, or one with
--no-stream. Kernels carry this run's test labels and are removed at the end, also on failure.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from engine_http import engine_call, labelled  # noqa: E402 (after the path is set)

CLI = os.environ["FLEET_CLI"]
SESSION = f"top{os.getpid()}-{int(time.time())}"
TEST_LABELS = {
    "dev.llmspell.fleet-test.session": SESSION,
    "dev.llmspell.fleet-test.pid": str(os.getpid()),
    "dev.llmspell.fleet-test.expires": str(int(time.time()) + 3600),
}
TMUX = ["tmux", "-L", f"fleet-top-{os.getpid()}"]  # a tmux server of this run's own


def remove_this_runs_containers():
    for c in labelled("containers", f"dev.llmspell.fleet-test.session={SESSION}"):
        engine_call("DELETE", f"/containers/{c['Id']}?force=1&v=1")


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class Top(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="fleet-top-test-")
        cls.env = dict(os.environ, LLMSPELL_FLEET_HOME=cls.home)

    @classmethod
    def tearDownClass(cls):
        remove_this_runs_containers()
        subprocess.run(TMUX + ["kill-server"], capture_output=True)
        shutil.rmtree(cls.home, ignore_errors=True)

    def spawn(self, name):
        args = [CLI, "spawn", "default.toml", "lua", "--name", name, "--json"]
        for key, value in TEST_LABELS.items():
            args += ["--label", f"{key}={value}"]
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout)

    # --- tmux
    def tmux(self, *args):
        return subprocess.run(TMUX + list(args), capture_output=True, text=True, timeout=30).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "top")

    def pane(self, fmt):
        return self.tmux("display-message", "-p", "-t", "top", fmt).strip()

    def start_top_in_tmux(self):
        self.tmux("kill-session", "-t", "top")
        env = " ".join(f"{k}={v}" for k, v in {"LLMSPELL_FLEET_HOME": self.home}.items())
        self.tmux("new-session", "-d", "-s", "top", "-x", "200", "-y", "50", "bash --norc --noprofile")
        self.tmux("send-keys", "-t", "top", f"clear; {env} {CLI} top --interval 1; echo TOP-EXITED=$?", "Enter")
        self.assertTrue(wait_for(lambda: self.pane("#{alternate_on}") == "1", 20), "top did not take the screen")

    def top_pid(self):
        shell = self.pane("#{pane_pid}")
        out = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        return int(out[0]) if out else None

    def assert_terminal_restored(self):
        self.assertTrue(wait_for(lambda: "TOP-EXITED=0" in self.screen(), 15), self.screen())
        self.assertIsNone(self.top_pid(), "top still running")
        self.assertEqual(self.pane("#{alternate_on}"), "0", "still on the alternate screen")
        self.assertEqual(self.pane("#{cursor_flag}"), "1", "cursor still hidden")
        stty = os.path.join(self.home, "stty.txt")
        self.tmux("send-keys", "-t", "top", f"stty -a > {stty}", "Enter")
        self.assertTrue(wait_for(lambda: os.path.exists(stty) and os.path.getsize(stty) > 0, 10))
        with open(stty) as f:
            flags = f.read().split()
        os.remove(stty)
        self.assertIn("icanon", flags)  # not -icanon: line editing back
        self.assertIn("echo", flags)

    def test_tty_view_follows_the_fleet_and_quits_cleanly(self):
        first = self.spawn(f"top-a-{os.getpid()}")["kernel_id"]
        self.start_top_in_tmux()
        self.assertTrue(wait_for(lambda: first in self.screen(), 20), self.screen())
        screen = self.screen()
        for heading in ("KERNEL", "ORIGIN", "OWNER", "STATE", "HEALTH", "CPU %", "MEM USAGE / LIMIT", "CLIENTS",
                        "PENDING", "EXECUTION", "AUTOSCALER"):
            self.assertIn(heading, screen)
        row = next(line for line in screen.splitlines() if line.startswith(first))
        self.assertRegex(row, r"spawned .* running .*%.*MiB / 512MiB .* idle")

        second = self.spawn(f"top-b-{os.getpid()}")["kernel_id"]
        spawned_at = time.monotonic()
        self.assertTrue(wait_for(lambda: second in self.screen(), 10), self.screen())
        print(f"\nsecond kernel on screen {time.monotonic() - spawned_at:.1f} s after its spawn returned")

        self.tmux("send-keys", "-t", "top", "q")
        self.assert_terminal_restored()

    def test_sigint_and_sigterm_restore_the_terminal(self):
        self.start_top_in_tmux()
        self.tmux("send-keys", "-t", "top", "C-c")
        self.assert_terminal_restored()
        self.start_top_in_tmux()
        pid = wait_for(self.top_pid, 10)
        os.kill(pid, signal.SIGTERM)
        self.assert_terminal_restored()

    # --- without a terminal
    def test_no_stream_prints_one_block(self):
        kernel = self.spawn(f"top-c-{os.getpid()}")["kernel_id"]
        for flag in ("--no-stream", "--once"):
            done = subprocess.run([CLI, "top", flag], env=self.env, capture_output=True, text=True, timeout=60)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertNotIn("\x1b", done.stdout)  # no terminal controls in a pipe
            self.assertEqual(done.stdout.count("llmspell-fleet top "), 1)
            self.assertRegex(done.stdout, re.escape(kernel) + r" +spawned ")

    def test_piped_output_is_a_block_per_refresh(self):
        # Waits for the third header (two whole blocks) rather than a fixed time: one refresh samples
        # every kernel on the engine, other suites' too, and a busy CI engine makes that slow.
        top = subprocess.Popen([CLI, "top", "--interval", "0.5"], env=self.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        seen = []

        def read_lines():
            for line in top.stdout:
                seen.append(line)

        reader = threading.Thread(target=read_lines, daemon=True)
        reader.start()
        try:
            wait_for(lambda: sum(line.startswith("llmspell-fleet top ") for line in list(seen)) >= 3, 60)
        finally:
            top.send_signal(signal.SIGINT)
            top.wait(timeout=20)
            reader.join(20)
            err = top.stderr.read()
        out = "".join(seen)
        self.assertEqual(top.returncode, 0, err)
        blocks = out.split("\n\nllmspell-fleet top ")
        self.assertGreaterEqual(len(blocks), 2, out)
        self.assertTrue(all("KERNEL" in b for b in blocks))

    def test_bad_flags_exit_2_naming_them(self):
        for args, named in ((["--interval", "0"], "--interval"), (["--interval", "soon"], "--interval"),
                            (["--bogus"], "--bogus")):
            done = subprocess.run([CLI, "top"] + args, env=self.env, capture_output=True, text=True, timeout=30)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn(named, done.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
