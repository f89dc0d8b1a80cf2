"""A small CKAN-like action API serving a generated catalogue (benchmarks/catalogue.py).

    server = CatalogueServer(n=10_000, seed=SEED)   # runs in a child process
    server.start(); ...; server.url; server.requests(); server.stop()

It answers what harvester.source.ckan.CkanSource asks: `package_search` (q=*:*, sorted by id, `rows`
and `start`; `fl` gives the light form (id, name, metadata_modified); `fq=id:(...)` gives those
packages; an `fq` on metadata_modified is ignored, so an incremental run sees everything),
`organization_show`, `organization_list` and `group_list` (also with `all_fields=true`),
`group_show` and `license_list`. The packages are generated and encoded once when the server
starts, in its own process: serving does not take the harvester's interpreter lock and its
memory is not the harvester's. It
counts the requests it answered (a second opinion next to CkanActionClient.requests_made), in
all and by action (`stats()`, or GET /_stats). `delay` seconds are waited before each answer
(default 0), standing for the network between the harvester and the source.
`changed` is a set of indexes whose packages differ from the base catalogue (a changed title and
metadata_modified), for a run where some datasets changed at the source.

The machinery here (a child process with a control pipe, a request handler that counts, waits
and wraps results in CKAN's envelope) also serves benchmarks/target_server.py: `ActionState`
answers the actions, `ServerProcess` runs one in a child process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Self
from urllib.parse import parse_qs, urlparse

from benchmarks import catalogue


def changed_package(index: int, seed: int, invalid_share: float) -> dict[str, Any]:
    """Package `index` as it is after an edit at the source."""
    pkg = catalogue.package(index, seed, invalid_share)
    pkg["title"] = (pkg["title"] or "Naamloos") + " (bijgewerkt)"
    pkg["metadata_modified"] = "2026-01-15T10:00:00.000000"
    return pkg


class ActionState:
    """What a CKAN-like action API serves: `answer` gives (HTTP status, result) for an action;
    this base counts the requests (in all and by action) and waits `delay` seconds before each
    answer. A result that is a dict on a status other than 200 is CKAN's `error` object."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests = 0
        self.actions: Counter[str] = Counter()
        self.lock = threading.Lock()

    def count(self, action: str) -> None:
        """Count a request for `action`, then wait the delay (outside the lock: requests overlap)."""
        with self.lock:
            self.requests += 1
            self.actions[action] += 1
        if self.delay > 0:
            time.sleep(self.delay)

    def answer(self, action: str, params: dict[str, Any], headers: Any = None) -> tuple[int, Any]:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """The requests answered so far, in all and by action."""
        with self.lock:
            return {"requests": self.requests, "actions": dict(self.actions)}

    def control(self, message: Any) -> Any:
        """The answer to a message on the control pipe (`requests`, `stats`, ("delay", seconds))."""
        if message == "requests":
            return self.requests
        if message == "stats":
            return self.stats()
        if isinstance(message, tuple) and message[0] == "delay":
            self.delay = float(message[1])
            return self.delay
        raise ValueError(f"unknown control message {message!r}")


class _State(ActionState):
    def __init__(self, n: int, seed: int, invalid_share: float, changed: frozenset[int],
                 delay: float = 0.0) -> None:
        super().__init__(delay)
        self.n, self.seed, self.invalid_share, self.changed = n, seed, invalid_share, changed
        ids = [(catalogue.package_id(i, seed), i) for i in range(n)]
        ids.sort()
        # every package encoded once, in id order (a page is a join of these); and its light form
        packages = [self.package(i) for _, i in ids]
        self.encoded = [json.dumps(p, ensure_ascii=False).encode("utf-8") for p in packages]
        self.light = [json.dumps({"id": p["id"], "name": p["name"],
                                  "metadata_modified": p["metadata_modified"]}).encode("utf-8") for p in packages]
        self.position = {p["id"]: i for i, p in enumerate(packages)}
        self.context = catalogue.context_lists()

    def package(self, index: int) -> dict[str, Any]:
        if index in self.changed:
            return changed_package(index, self.seed, self.invalid_share)
        return catalogue.package(index, self.seed, self.invalid_share)

    def answer(self, action: str, params: dict[str, Any], headers: Any = None) -> tuple[int, Any]:
        params = _as_text(params)
        if action == "package_search":
            fq = str(params.get("fq", ""))
            if fq.startswith("id:("):  # the full dicts of some ids
                wanted = [i.strip('"') for i in fq[4:-1].split(" OR ")]
                found = [self.encoded[self.position[i]] for i in wanted if i in self.position]
                return 200, _Raw(b'{"count": %d, "results": [%s]}' % (len(found), b",".join(found)))
            rows = min(int(params.get("rows", 10)), 1000)
            start = int(params.get("start", 0))
            source = self.light if params.get("fl") else self.encoded
            page = b",".join(source[start:start + rows])
            return 200, _Raw(b'{"count": %d, "results": [%s]}' % (self.n, page))
        if action == "organization_show":
            for org in self.context["organizations"]:
                if params.get("id") in (org["name"], org["id"]):
                    return 200, org
            return 404, None
        if action == "group_list":
            if str(params.get("all_fields", "")).lower() == "true":
                return 200, self.context["groups"]
            return 200, [g["name"] for g in self.context["groups"]]
        if action == "organization_list":
            if str(params.get("all_fields", "")).lower() == "true":
                return 200, self.context["organizations"]
            return 200, [o["name"] for o in self.context["organizations"]]
        if action == "group_show":
            for group in self.context["groups"]:
                if params.get("id") in (group["name"], group["id"]):
                    return 200, group
            return 404, None
        if action == "license_list":
            return 200, self.context["licenses"]
        return 400, None


def _as_text(params: dict[str, Any]) -> dict[str, str]:
    """The parameters as text, as a query string gives them (a JSON body's values may not be)."""
    return {k: v if isinstance(v, str) else str(v) for k, v in params.items()}


class _Raw(bytes):
    """A result that is already JSON."""


def _envelope(action: str, status: int, result: Any) -> bytes:
    """An answer in CKAN's envelope: the result on success, else an error object."""
    if isinstance(result, _Raw):
        return b'{"success": true, "result": ' + result + b"}"
    if status == 200:
        body = {"success": True, "result": result}
    elif isinstance(result, dict):
        body = {"success": False, "error": result}
    else:
        body = {"success": False, "error": {
            "__type": "Not Found Error" if status == 404 else "Validation Error",
            "message": f"{action}: not found"}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _handler(state: ActionState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle's algorithm on, the body waits for
        # the client's delayed ACK (some 40 ms a request, which a real CKAN does not add)
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _reply(self, params: dict[str, Any]) -> None:
            action = urlparse(self.path).path.rstrip("/").rsplit("/", 1)[-1]
            state.count(action)
            status, result = state.answer(action, params, self.headers)
            self._send(status, _envelope(action, status, result))

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/_stats":  # the counters (not counted as a request)
                self._send(200, json.dumps(state.stats()).encode("utf-8"))
                return
            query = parse_qs(url.query)
            self._reply({k: v[-1] for k, v in query.items()})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            self._reply(json.loads(raw or b"{}"))

    return Handler


def _serve(make_state: Callable[[], ActionState], conn: Any) -> None:
    state = make_state()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    conn.send(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        message = conn.recv()
        if message == "stop":
            server.shutdown()
            conn.send("stopped")
            return
        try:
            conn.send(state.control(message))
        except Exception as exc:  # noqa: BLE001 - the caller sees what went wrong
            conn.send(exc)


class ServerProcess:
    """An `ActionState` (made by `make_state`, in the child) served from a forked child process
    on a free local port; `control` sends it a message over a pipe and returns its answer."""

    def __init__(self) -> None:
        self.url = ""
        self._conn: Any = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def make_state(self) -> ActionState:
        raise NotImplementedError

    def start(self) -> Self:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(self.make_state, child), daemon=True)
        self._process.start()
        self._conn = parent
        self.url = f"http://127.0.0.1:{parent.recv()}"
        return self

    def control(self, message: Any) -> Any:
        self._conn.send(message)
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def requests(self) -> int:
        return int(self.control("requests"))

    def stats(self) -> dict[str, Any]:
        """{"requests": all answered so far, "actions": {action: requests}}."""
        return dict(self.control("stats"))

    def cpu_seconds(self) -> float:
        """The CPU seconds (user and system, all threads) the server's process has used so far."""
        if self._process is None or self._process.pid is None:
            return 0.0
        with open(f"/proc/{self._process.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def set_delay(self, seconds: float) -> None:
        """Wait `seconds` before each answer from now on."""
        self.control(("delay", seconds))

    def stop(self) -> None:
        if self._process is None:
            return
        try:
            self._conn.send("stop")
            self._conn.recv()
        except (OSError, EOFError):
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
        self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CatalogueServer(ServerProcess):
    """The generated catalogue behind a local CKAN-like action API, in a child process."""

    def __init__(self, n: int, seed: int = catalogue.SEED, invalid_share: float = 0.05,
                 changed: frozenset[int] = frozenset(), delay: float = 0.0) -> None:
        super().__init__()
        self.args = (n, seed, invalid_share, frozenset(changed))
        self.delay = delay

    def make_state(self) -> ActionState:
        return _State(*self.args, delay=self.delay)
