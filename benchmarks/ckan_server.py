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
counts the requests it answered (a second opinion next to CkanActionClient.requests_made).
`changed` is a set of indexes whose packages differ from the base catalogue (a changed title and
metadata_modified), for a run where some datasets changed at the source.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from benchmarks import catalogue


def changed_package(index: int, seed: int, invalid_share: float) -> dict[str, Any]:
    """Package `index` as it is after an edit at the source."""
    pkg = catalogue.package(index, seed, invalid_share)
    pkg["title"] = (pkg["title"] or "Naamloos") + " (bijgewerkt)"
    pkg["metadata_modified"] = "2026-01-15T10:00:00.000000"
    return pkg


class _State:
    def __init__(self, n: int, seed: int, invalid_share: float, changed: frozenset[int]) -> None:
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
        self.requests = 0
        self.lock = threading.Lock()

    def package(self, index: int) -> dict[str, Any]:
        if index in self.changed:
            return changed_package(index, self.seed, self.invalid_share)
        return catalogue.package(index, self.seed, self.invalid_share)

    def answer(self, action: str, params: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.requests += 1
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


class _Raw(bytes):
    """A result that is already JSON."""


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle's algorithm on, the body waits for
        # the client's delayed ACK (some 40 ms a request, which a real CKAN does not add)
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _reply(self, params: dict[str, str]) -> None:
            action = urlparse(self.path).path.rstrip("/").rsplit("/", 1)[-1]
            status, result = state.answer(action, params)
            if isinstance(result, _Raw):
                data = b'{"success": true, "result": ' + result + b"}"
            else:
                if status == 200:
                    body = {"success": True, "result": result}
                else:
                    body = {"success": False, "error": {
                        "__type": "Not Found Error" if status == 404 else "Validation Error",
                        "message": f"{action}: not found"}}
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            self._reply({k: v[-1] for k, v in query.items()})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            data = json.loads(raw or b"{}")
            self._reply({k: str(v) for k, v in data.items()})

    return Handler


def _serve(n: int, seed: int, invalid_share: float, changed: frozenset[int],
           conn: Any) -> None:
    state = _State(n, seed, invalid_share, changed)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    conn.send(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        message = conn.recv()
        if message == "requests":
            conn.send(state.requests)
        elif message == "stop":
            server.shutdown()
            conn.send("stopped")
            return


class CatalogueServer:
    """The generated catalogue behind a local CKAN-like action API, in a child process."""

    def __init__(self, n: int, seed: int = catalogue.SEED, invalid_share: float = 0.05,
                 changed: frozenset[int] = frozenset()) -> None:
        self.args = (n, seed, invalid_share, frozenset(changed))
        self.url = ""
        self._conn: Any = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> CatalogueServer:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(*self.args, child), daemon=True)
        self._process.start()
        self._conn = parent
        self.url = f"http://127.0.0.1:{parent.recv()}"
        return self

    def requests(self) -> int:
        self._conn.send("requests")
        return int(self._conn.recv())

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

    def __enter__(self) -> CatalogueServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
