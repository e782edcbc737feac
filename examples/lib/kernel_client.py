"""Runs code in a kernel the way any Jupyter front end does: Debian's jupyter_client on the kernel's
host connection file. Prints a short transcript and checks what came back.

  kernel_client.py CONNECTION_FILE CODE [--as NAME] [--expect-stdout TEXT] [--expect-result TEXT]
                   [--expect-error ENAME] [--send-only] [--timeout S]
  kernel_client.py CONNECTION_FILE --banner

--expect-stdout compares without the final newline.

Exit status: 0 when the execution went as expected, 1 otherwise (with a FAIL line).
--send-only sends the request and returns once the kernel has started on it (status busy): for code
that is not expected to finish, such as code that gets the kernel killed.
"""
import argparse
import sys
import time

from jupyter_client import BlockingKernelClient


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def connect(connection_file, timeout):
    client = BlockingKernelClient()
    client.load_connection_file(connection_file)
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
    except RuntimeError as e:
        fail(f"kernel of {connection_file} not ready within {timeout} s: {e}")
    return client


def send_only(client, code, timeout):
    msg_id = client.execute(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:  # queue.Empty
            break
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "busy"):
            return
    fail(f"the kernel did not start on the request within {timeout} s")


def run(client, code, timeout):
    streams, results, errors = [], [], []

    def on_iopub(msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            streams.append(content["text"])
        elif kind == "execute_result":
            results.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            errors.append(f'{content["ename"]}: {content["evalue"]}')

    try:
        reply = client.execute_interactive(code, timeout=timeout, output_hook=on_iopub)
    except TimeoutError:
        fail(f"no reply within {timeout} s")
    return reply["content"], "".join(streams), results, errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("connection_file")
    parser.add_argument("code", nargs="?")
    parser.add_argument("--as", dest="who", default="", help="who runs it, for the transcript")
    parser.add_argument("--expect-stdout")
    parser.add_argument("--expect-result")
    parser.add_argument("--expect-error", metavar="ENAME")
    parser.add_argument("--send-only", action="store_true")
    parser.add_argument("--banner", action="store_true", help="print the kernel_info banner")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_intermixed_args()

    client = connect(args.connection_file, args.timeout)
    try:
        if args.banner:
            print(client.kernel_info(reply=True, timeout=args.timeout)["content"]["banner"])
            return
        if args.code is None:
            parser.error("CODE is required")
        prompt = f"   {args.who + ' ' if args.who else ''}>>> "
        print(prompt + args.code.replace("\n", "\n" + " " * len(prompt)))
        if args.send_only:
            send_only(client, args.code, args.timeout)
            print("   (sent; the kernel is busy with it)")
            return
        reply, stdout, results, errors = run(client, args.code, args.timeout)
        for line in stdout.splitlines():
            print(f"   | {line}")
        for result in results:
            print(f"   = {result}")
        for error in errors:
            print(f"   ! {error}")
        if args.expect_error is not None:
            if reply["status"] != "error" or reply.get("ename") != args.expect_error:
                fail(f"expected error {args.expect_error}, got status {reply['status']} {reply.get('ename', '')}")
        elif reply["status"] != "ok":
            fail(f"execution failed: {reply.get('ename')}: {reply.get('evalue')}")
        if args.expect_stdout is not None and stdout.rstrip("\n") != args.expect_stdout:
            fail(f"expected stdout {args.expect_stdout!r}, got {stdout!r}")
        if args.expect_result is not None and results != [args.expect_result]:
            fail(f"expected result {args.expect_result!r}, got {results!r}")
    finally:
        client.stop_channels()


if __name__ == "__main__":
    main()
