"""The kernel against Jupyter's own conformance suite (Debian's python3-jupyter-kernel-test), Lua and
JavaScript, started by jupyter_client from a plain kernelspec as Jupyter starts any kernel (no
Docker), or with FLEET_CLI set from `kernelspec install`'s kernelspecs (each kernel a fleet container).

Beyond the suite (0.4.5 has no input test): input requests on the stdin channel, input refused and
interrupted, stop_on_error, and the comm_close an unknown comm target gets.

LLMSPELL_KERNEL names the kernel binary (CMake passes it).
"""
import json
import os
import shutil
import sys
import tempfile
import unittest


KERNEL = os.environ["LLMSPELL_KERNEL"]
# Kernelspecs and connection files of this run only; set before jupyter_client looks for them.
JUPYTER_DIR = tempfile.mkdtemp(prefix="llmspell-conformance-")
os.environ["JUPYTER_PATH"] = os.pathsep.join([JUPYTER_DIR, os.path.join(JUPYTER_DIR, "share", "jupyter")])
os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(JUPYTER_DIR, "runtime")
os.environ["JUPYTER_DATA_DIR"] = os.path.join(JUPYTER_DIR, "data")

import jupyter_kernel_test  # noqa: E402  (after the environment it reads)
from jupyter_kernel_test import TIMEOUT  # noqa: E402


# With FLEET_CLI set: the same suite on the container kernelspecs `kernelspec install` writes (each
# kernel a fleet container on the ports Jupyter chose); containers carry this run's test labels.
FLEET_CLI = os.environ.get("FLEET_CLI")
if FLEET_CLI:
    sys.path.insert(0, os.path.dirname(__file__))
    from test_kernel_container import ENGINE, TEST_LABELS  # noqa: E402


def install_container_kernelspec(language):
    import subprocess
    labels = [arg for key, value in TEST_LABELS.items() for arg in ("--label", f"{key}={value}")]
    done = subprocess.run(
        [FLEET_CLI, "kernelspec", "install", "--prefix", JUPYTER_DIR, "--language", language,
         "--config", "default.toml", "--name", f"llmspell-{language}-container", *labels],
        capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"kernelspec install failed: {done.stderr}")
    return f"llmspell-{language}-container"


def write_kernelspec(language):
    if FLEET_CLI:
        return install_container_kernelspec(language)
    name = f"llmspell-{language}-conformance"
    folder = os.path.join(JUPYTER_DIR, "kernels", name)
    os.makedirs(folder, exist_ok=True)
    spec = {
        "argv": [KERNEL, "start", "--connection-file", "{connection_file}", "--language", language],
        "display_name": f"LLMSpell {language} (conformance)",
        "language": language,
        # The status file goes beside the kernelspec, not into /var/lib/llmspell.
        "env": {"LLMSPELL_STATE_DIR": os.path.join(JUPYTER_DIR, "state", language),
                "LLMSPELL_LOG_LEVEL": "warn"},
    }
    with open(os.path.join(folder, "kernel.json"), "w") as f:
        json.dump(spec, f)
    return name


class BeyondTheSuite:
    """What the suite does not ask; each language names its code."""

    code_input = ""           # reads a line and makes it the result
    code_failing = ""         # fails
    code_harmless = ""        # runs fine, and says so on stdout
    input_prompt = ""

    def execute_raw(self, code, **options):
        msg_id = self.kc.execute(code, **options)
        while True:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def iopub_of(self, msg_id, until_idle=True):
        """The iopub messages of one request, up to its idle status."""
        messages = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if until_idle and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages

    def answer_input(self, text):
        self.kc.input(text)

    def test_input_request_goes_to_the_client_and_its_answer_to_the_code(self):
        self.flush_channels()
        msg_id = self.kc.execute(self.code_input, allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=TIMEOUT)
        self.assertEqual(request["msg_type"], "input_request")
        self.assertEqual(request["parent_header"]["msg_id"], msg_id)
        self.assertEqual(request["content"]["prompt"], self.input_prompt)
        self.assertIs(request["content"]["password"], False)
        self.answer_input("typed words")
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual((reply["parent_header"]["msg_id"], reply["content"]["status"]), (msg_id, "ok"))
        results = [m for m in self.iopub_of(msg_id) if m["msg_type"] == "execute_result"]
        self.assertIn("typed words", results[0]["content"]["data"]["text/plain"])

    def test_input_without_allow_stdin_is_an_error_in_the_language(self):
        self.flush_channels()
        reply = self.execute_raw(self.code_input, allow_stdin=False)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("allow_stdin", reply["content"]["evalue"])

    def test_an_interrupt_frees_code_waiting_for_input(self):
        self.flush_channels()
        msg_id = self.kc.execute(self.code_input, allow_stdin=True)
        self.assertEqual(self.kc.get_stdin_msg(timeout=TIMEOUT)["msg_type"], "input_request")
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual((reply["content"]["status"], reply["content"]["ename"]), ("error", "KeyboardInterrupt"))
        self.assertEqual(self.execute_raw(self.code_harmless)["content"]["status"], "ok")

    def test_stop_on_error_aborts_the_requests_queued_behind_a_failure(self):
        self.flush_channels()
        failing = self.kc.execute(self.code_failing)
        queued = [self.kc.execute(self.code_harmless) for _ in range(2)]
        replies = {}
        while len(replies) < 3:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
        self.assertEqual([replies[failing]] + [replies[q] for q in queued], ["error", "aborted", "aborted"])
        # Nothing of theirs ran: no stdout from the queued requests.
        for msg_id in queued:
            kinds = [m["msg_type"] for m in self.iopub_of(msg_id)]
            self.assertNotIn("stream", kinds)
        # Requests sent after the failure was answered run again.
        self.assertEqual(self.execute_raw(self.code_harmless)["content"]["status"], "ok")

    def test_without_stop_on_error_the_queued_requests_run(self):
        self.flush_channels()
        failing = self.kc.execute(self.code_failing, stop_on_error=False)
        queued = self.kc.execute(self.code_harmless)
        replies = {}
        while len(replies) < 2:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
        self.assertEqual((replies[failing], replies[queued]), ("error", "ok"))

    def test_a_comm_to_an_unknown_target_is_closed(self):
        self.flush_channels()
        msg = self.kc.session.msg("comm_open", {"comm_id": "c0ffee", "target_name": "no.such.target", "data": {}})
        self.kc.shell_channel.send(msg)
        closes = [m for m in self.iopub_of(msg["header"]["msg_id"]) if m["msg_type"] == "comm_close"]
        self.assertEqual([c["content"]["comm_id"] for c in closes], ["c0ffee"])

    def test_inspect_finds_a_user_global_and_not_a_missing_name(self):
        self.flush_channels()
        self.assertEqual(self.execute_raw(self.code_define_global)["content"]["status"], "ok")
        self.kc.inspect("conformance_global")
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)["content"]
        self.assertTrue(reply["found"])
        self.assertIn("conformance_global", reply["data"]["text/plain"])
        self.kc.inspect("no_such_name_anywhere")
        self.assertFalse(self.kc.get_shell_msg(timeout=TIMEOUT)["content"]["found"])


class LuaConformance(BeyondTheSuite, jupyter_kernel_test.KernelTests):
    kernel_name = write_kernelspec("lua")
    language_name = "lua"
    file_extension = ".lua"

    code_hello_world = 'print("hello, world")'
    code_stderr = 'io.stderr:write("to stderr\\n")'
    completion_samples = [
        {"text": "string.for", "matches": {"string.format"}},
        {"text": "coroutine.isy", "matches": {"coroutine.isyieldable"}},
        {"text": "pri", "matches": {"print"}},
    ]
    complete_code_samples = ["1 + 1", "x = 1", "for i = 1, 3 do print(i) end", "function f() return 1 end"]
    incomplete_code_samples = ["for i = 1, 3 do", "function f()", "x = {", 'print("a" ..', "s = [[long"]
    invalid_code_samples = ["x = = 1", "}", "1 +* 2", "end", "x ==== y"]
    code_generate_error = 'error("boom")'
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "'con' .. 'cat'", "result": "concat"},
        {"code": "1 + 1 == 2", "result": "true"},
    ]
    code_display_data = [
        {"code": 'display("<b>bold</b>", "text/html")', "mime": "text/html"},
        {"code": 'display("plain")', "mime": "text/plain"},
        {"code": 'display(\'{"a": [1, 2]}\', "application/json")', "mime": "application/json"},
    ]
    code_history_pattern = "6 ?*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "string.format"
    code_clear_output = "clear_output(true)"

    code_input = "answer = io.read()\nreturn answer"
    input_prompt = ""
    code_failing = 'error("first fails")'
    code_harmless = 'print("harmless ran")'
    code_define_global = "conformance_global = {1, 2}"

    def test_io_stdin_read_and_formats(self):
        self.flush_channels()
        msg_id = self.kc.execute("return io.stdin:read('n'), io.read('L')", allow_stdin=True)
        for answer in ("12.5", "line"):
            self.assertEqual(self.kc.get_stdin_msg(timeout=TIMEOUT)["msg_type"], "input_request")
            self.answer_input(answer)
        self.assertEqual(self.kc.get_shell_msg(timeout=TIMEOUT)["content"]["status"], "ok")
        results = [m for m in self.iopub_of(msg_id) if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "12.5\tline\n")


class JavaScriptConformance(BeyondTheSuite, jupyter_kernel_test.KernelTests):
    kernel_name = write_kernelspec("javascript")
    language_name = "javascript"
    file_extension = ".js"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'
    completion_samples = [
        {"text": "Math.ab", "matches": {"Math.abs"}},
        {"text": "JSON.str", "matches": {"JSON.stringify"}},
        # Object.prototype's members are every object's: not offered for Math.
        {"text": "Math.toStr", "matches": set()},
        {"text": "Math.hasOwn", "matches": set()},
    ]
    complete_code_samples = ["var x = 1;", "x + 1", "function f() { return 1; }", "if (x) { x++; }",
                             "var r = /[(]/; r.source"]
    incomplete_code_samples = ["function f() {", "var a = [1, 2,", "foo(", "var s = 'abc", "/* comment",
                               "var t = `x ${"]
    invalid_code_samples = ["}", "1 +* 2", "x ==== y", "var = 3", ")(", "1 +"]
    code_generate_error = 'throw new Error("boom")'
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "'con' + 'cat'", "result": '"concat"'},
        {"code": "[1, 2].length", "result": "2"},
    ]
    code_display_data = [
        {"code": 'display("<b>bold</b>", "text/html")', "mime": "text/html"},
        {"code": 'display({a: [1, 2]}, "application/json")', "mime": "application/json"},
        {"code": "display(42)", "mime": "text/plain"},
    ]
    code_history_pattern = "6 ?*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "Math"
    code_clear_output = "clear_output(true)"

    code_input = 'var answer = input("name? "); answer'
    input_prompt = "name? "
    code_failing = 'throw new Error("first fails")'
    code_harmless = 'console.log("harmless ran")'
    code_define_global = "var conformance_global = [1, 2];"


if __name__ == "__main__":
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        shutil.rmtree(JUPYTER_DIR, ignore_errors=True)
        if FLEET_CLI:  # what a launcher left behind
            for c in ENGINE.containers_of_this_run():
                ENGINE.call("DELETE", f"/containers/{c['Id']}?force=1&v=1", ok=(204, 404))
    sys.exit(0 if result.wasSuccessful() else 1)
