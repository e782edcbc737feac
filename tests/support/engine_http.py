"""The Docker engine's HTTP API for the Python tests: what they check and clean up, asked directly
(DOCKER_HOST honoured), never through the docker CLI."""
import http.client
import json
import os
import socket
import urllib.parse


def engine_call(method, path):
    """The decoded JSON answer; None for 404 or an empty body. Other errors raise RuntimeError."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("tcp://"):
        conn = http.client.HTTPConnection(host[len("tcp://"):], timeout=60)
    else:
        conn = http.client.HTTPConnection("localhost", timeout=60)
        conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock.connect(host[len("unix://"):])
    conn.request(method, path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status == 404:
        return None
    if response.status >= 400:
        raise RuntimeError(f"{method} {path}: {response.status} {body!r}")
    return json.loads(body) if body else None


def labelled(kind, label):
    """Containers (all, stopped too) or networks carrying `label` ("key=value")."""
    filters = urllib.parse.quote(json.dumps({"label": [label]}))
    path = {"containers": "/containers/json?all=1&filters=", "networks": "/networks?filters="}[kind]
    return engine_call("GET", path + filters) or []
