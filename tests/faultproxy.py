"""A local HTTP server that forwards to a real CKAN and injects faults on request.

Tests put it between the harvester and the local CKAN to produce what a real server rarely does
on demand: 5xx and 429 answers (with Retry-After), HTML instead of JSON, malformed JSON, answers
that never come (timeouts), and slow pages. Without an upstream it answers only with faults.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import requests


@dataclass
class Fault:
    """Answer `times` requests to `action` (None: any) with this instead of forwarding."""

    action: str | None = None
    times: int = 1
    status: int = 503
    body: str = '{"success": false, "error": {"message": "injected"}}'
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    when: Callable[[dict[str, list[str]]], bool] | None = None
    forward_after_delay: bool = False
    forward_then_fail: bool = False


class FaultProxy:
    """Start with `with FaultProxy(upstream) as proxy:`; point the harvester at `proxy.url`."""

    def __init__(self, upstream: str | None = None, page_delay: float = 0.0) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.faults: list[Fault] = []
        self.page_delay = page_delay
        self.log: list[tuple[str, dict[str, list[str]], int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def calls(self, action: str) -> int:
        return sum(1 for a, _, _ in self.log if a == action)

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take(self, action: str, query: dict[str, list[str]]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times <= 0 or (fault.action and fault.action != action):
                    continue
                if fault.when and not fault.when(query):
                    continue
                fault.times -= 1
                return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                action = parts.path.rsplit("/", 1)[-1]
                query = parse_qs(parts.query)
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else b""
                fault = proxy._take(action, query)
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and not (fault.forward_after_delay or fault.forward_then_fail):
                    proxy.log.append((action, query, fault.status))
                    return self._send(fault.status, fault.body.encode(), fault.content_type, fault.headers)
                if proxy.page_delay and action == "package_search":
                    time.sleep(proxy.page_delay)
                if proxy.upstream is None:
                    proxy.log.append((action, query, 502))
                    return self._send(502, b"no upstream", "text/plain", {})
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                response = requests.request(method, proxy.upstream + self.path, data=payload or None,
                                            headers=headers, timeout=60)
                if fault and fault.forward_then_fail:
                    proxy.log.append((action, query, fault.status))
                    return self._send(fault.status, fault.body.encode(), fault.content_type, fault.headers)
                proxy.log.append((action, query, response.status_code))
                self._send(response.status_code, response.content,
                           response.headers.get("Content-Type", "application/json"), {})

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

        return Handler


def ckan_answer(result: object) -> str:
    """A CKAN action answer body with `result`."""
    return json.dumps({"help": "", "success": True, "result": result})
