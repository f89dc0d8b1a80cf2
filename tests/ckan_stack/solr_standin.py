"""An in-memory Solr stand-in that answers the requests CKAN 2.12 (through pysolr) makes.

CKAN writes each dataset change to Solr before committing it and refuses the write when Solr does
not answer, so every test CKAN needs a Solr. This threaded stdlib HTTP server holds any number of
cores (one per CKAN instance, created on first use) under `/solr/<core>/` and serves:

- `select` (GET, or POST form for long queries): q, fq (repeatable), defType, q.op, df, qf, mm,
  sort, start, rows, fl, facet, facet.field, facet.limit, facet.mincount; JSON answer.
- `update` (JSON list of docs or JSON commands; XML add/delete/commit/optimize): documents are
  keyed by `index_id` and visible at once (commit is accepted and needs nothing more).
- `schema?wt=schema.xml` and `admin/file?file=schema.xml`: a schema named `ckan-2.12`, which
  CKAN checks at startup; `admin/ping`; `/solr/admin/cores` STATUS/CREATE/UNLOAD.

Run standalone with `python -m tests.ckan_stack.solr_standin --port 8983`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .solr_query import (
    Document,
    QuerySyntaxError,
    facet_counts,
    first,
    parse_filter,
    parse_fl,
    parse_main_query,
    sort_hits,
)

SCHEMA_NAME = "ckan-2.12"
SCHEMA_XML = (f'<?xml version="1.0" encoding="UTF-8"?>\n<schema name="{SCHEMA_NAME}" '
              'version="1.6"><uniqueKey>index_id</uniqueKey></schema>\n')


class SolrError(Exception):
    """A request error, answered with the given HTTP status and a Solr-style JSON error."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class SolrCore:
    """One core: documents keyed by their unique key, in index (insertion) order."""

    def __init__(self, name: str):
        self.name = name
        self.lock = threading.RLock()
        self.docs: dict[str, Document] = {}
        self.commits = 0

    def __len__(self) -> int:
        return len(self.docs)

    def add(self, docs: list[dict[str, Any]]) -> None:
        """Add or replace documents (a replaced document moves to the end, as in Lucene)."""
        with self.lock:
            for fields in docs:
                key = fields.get("index_id") or fields.get("id")
                if key is None:
                    raise SolrError("Document is missing mandatory uniqueKey field: index_id")
                self.docs.pop(str(key), None)
                self.docs[str(key)] = Document(fields)

    def delete_ids(self, ids: list[str]) -> None:
        """Delete documents by unique key."""
        with self.lock:
            for key in ids:
                self.docs.pop(str(key), None)

    def delete_query(self, query: str) -> None:
        """Delete every document matching a Lucene query."""
        with self.lock:
            node = _parse(parse_filter, query, {})
            for key in [k for k, doc in self.docs.items() if node.score(doc) is not None]:
                del self.docs[key]

    def clear(self) -> None:
        """Remove all documents."""
        with self.lock:
            self.docs.clear()

    def commit(self) -> None:
        """Accept a commit (changes are visible at once anyway)."""
        self.commits += 1

    def search(self, params: dict[str, list[str]]) -> dict[str, Any]:
        """Run a select request and build Solr's JSON response."""
        started = time.monotonic()
        query = _parse(parse_main_query, params)
        filters = [_parse(parse_filter, fq, params) for fq in params.get("fq", []) if fq.strip()]
        with self.lock:
            docs = list(self.docs.values())
        hits = []
        for doc in docs:
            score = query.score(doc)
            if score is not None and all(f.score(doc) is not None for f in filters):
                hits.append((doc, score))
        try:
            hits = sort_hits(hits, first(params, "sort", "score desc"))
        except QuerySyntaxError as exc:
            raise SolrError(str(exc)) from exc
        answer = {"responseHeader": {"status": 0, "params": _flat(params)},
                  "response": self._page(hits, params)}
        if first(params, "facet", "false").lower() == "true":
            answer["facet_counts"] = facet_counts([doc for doc, _ in hits], params)
        answer["responseHeader"]["QTime"] = int((time.monotonic() - started) * 1000)
        return answer

    @staticmethod
    def _page(hits: list[tuple[Document, float]], params: dict[str, list[str]]) -> dict:
        """The `response` block: numFound plus the requested page of documents."""
        try:
            start = int(first(params, "start", "0") or 0)
            rows = int(first(params, "rows", "10") or 10)
        except ValueError as exc:
            raise SolrError(f"Invalid start/rows: {exc}") from exc
        if start < 0 or rows < 0:
            raise SolrError("'start' and 'rows' must not be negative")
        fl = parse_fl(params)
        docs = []
        for doc, score in hits[start:start + rows]:
            out = doc.stored(fl)
            if "score" in fl:
                out["score"] = score
            docs.append(out)
        return {"numFound": len(hits), "start": start, "numFoundExact": True, "docs": docs}


def _parse(parser: Any, text_or_params: Any, params: Any = None) -> Any:
    """Run a query parser, turning syntax errors into HTTP 400 errors."""
    try:
        if params is None:
            return parser(text_or_params)
        return parser(text_or_params, params)
    except QuerySyntaxError as exc:
        raise SolrError(f"org.apache.solr.search.SyntaxError: {exc}") from exc


def _flat(params: dict[str, list[str]]) -> dict[str, Any]:
    """Echo request params as Solr does (single values as strings, repeats as lists)."""
    return {k: v[0] if len(v) == 1 else v for k, v in params.items()}


# --- update messages --------------------------------------------------------------------------

def apply_update(core: SolrCore, body: bytes, content_type: str) -> None:
    """Apply a JSON or XML update message to a core."""
    text = body.decode("utf-8").strip()
    if not text:
        return
    if "json" in content_type or text[0] in "[{":
        _apply_json(core, _load_json(text))
    else:
        _apply_xml(core, text)


def _load_json(text: str) -> Any:
    """Decode a JSON update body."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SolrError(f"Cannot parse JSON update: {exc}") from exc


def _apply_json(core: SolrCore, message: Any) -> None:
    """Apply a JSON update: a list of docs, or an object of add/delete/commit commands."""
    if isinstance(message, list):
        core.add(message)
        return
    if not isinstance(message, dict):
        raise SolrError("JSON update must be a list of documents or an object of commands")
    if not {"add", "delete", "commit", "optimize"} & message.keys():
        core.add([message])
        return
    add = message.get("add")
    if add is not None:
        items = add if isinstance(add, list) else [add]
        core.add([item.get("doc", item) for item in items])
    if "delete" in message:
        _json_delete(core, message["delete"])
    if "commit" in message or "optimize" in message:
        core.commit()


def _json_delete(core: SolrCore, spec: Any) -> None:
    """Apply a JSON delete command (`{"id": ..}`, `{"query": ..}`, an id or a list of ids)."""
    for item in spec if isinstance(spec, list) else [spec]:
        if isinstance(item, dict) and "query" in item:
            core.delete_query(item["query"])
        elif isinstance(item, dict):
            core.delete_ids([item["id"]])
        else:
            core.delete_ids([item])


def _apply_xml(core: SolrCore, text: str) -> None:
    """Apply an XML update: <add>, <delete>, <commit>, <optimize> (or several in <update>)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SolrError(f"Cannot parse XML update: {exc}") from exc
    for element in (list(root) if root.tag == "update" else [root]):
        if element.tag == "add":
            core.add([_xml_doc(doc) for doc in element.findall("doc")])
        elif element.tag == "delete":
            core.delete_ids([e.text or "" for e in element.findall("id")])
            for query in element.findall("query"):
                core.delete_query(query.text or "")
        elif element.tag in ("commit", "optimize", "rollback"):
            core.commit()
        else:
            raise SolrError(f"Unknown update command <{element.tag}>")


def _xml_doc(element: ET.Element) -> dict[str, Any]:
    """Turn an XML <doc> into a dict (repeated fields become lists)."""
    doc: dict[str, Any] = {}
    for fld in element.findall("field"):
        name, value = fld.get("name", ""), fld.text or ""
        if name in doc:
            doc[name] = (doc[name] if isinstance(doc[name], list) else [doc[name]]) + [value]
        else:
            doc[name] = value
    return doc


# --- HTTP layer -------------------------------------------------------------------------------

class SolrStandin:
    """The stand-in server: start() it, point CKAN's solr_url at core_url(name), stop() it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, log_path: str | None = None):
        self.cores: dict[str, SolrCore] = {}
        self._cores_lock = threading.Lock()
        self._log_path = log_path
        self._log_lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), _handler_class(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8983/solr."""
        return f"http://{self.server.server_address[0]}:{self.port}/solr"

    def core_url(self, name: str) -> str:
        """The solr_url CKAN should use for a core."""
        return f"{self.url}/{name}"

    def core(self, name: str) -> SolrCore:
        """The core of that name, created when it does not exist yet."""
        with self._cores_lock:
            if name not in self.cores:
                self.cores[name] = SolrCore(name)
            return self.cores[name]

    def start(self) -> SolrStandin:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        name=f"solr-standin:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> SolrStandin:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self, line: str) -> None:
        """Append a line to the request log, when one is configured."""
        if self._log_path:
            with self._log_lock, open(self._log_path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def handle(self, method: str, path: str, params: dict[str, list[str]], body: bytes,
               content_type: str) -> tuple[int, str, str]:
        """Route one request; returns (status, content type, body text)."""
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != "solr":
            raise SolrError(f"No such path {path}", 404)
        if parts[1:3] == ["admin", "cores"]:
            return _json(self._cores_admin(params))
        if len(parts) < 2:
            raise SolrError("No core given", 404)
        core, handler = self.core(parts[1]), "/".join(parts[2:])
        if handler in ("select", "query"):
            return _json(core.search(params))
        if handler.startswith("update"):
            if method == "POST":
                apply_update(core, body, content_type)
            if first(params, "commit") == "true":
                core.commit()
            return _json({"responseHeader": {"status": 0, "QTime": 0}})
        if handler in ("schema", "admin/file"):
            return self._schema(params)
        if handler == "admin/ping":
            return _json({"responseHeader": {"status": 0}, "status": "OK"})
        raise SolrError(f"Unknown handler {handler!r} for core {core.name}", 404)

    @staticmethod
    def _schema(params: dict[str, list[str]]) -> tuple[int, str, str]:
        """The schema, as XML when asked for schema.xml, else as JSON."""
        if first(params, "wt") == "schema.xml" or first(params, "file") == "schema.xml":
            return 200, "application/xml; charset=utf-8", SCHEMA_XML
        return _json({"responseHeader": {"status": 0},
                      "schema": {"name": SCHEMA_NAME, "version": 1.6, "uniqueKey": "index_id"}})

    def _cores_admin(self, params: dict[str, list[str]]) -> dict[str, Any]:
        """CoreAdmin: STATUS (default), CREATE and UNLOAD."""
        action = first(params, "action", "STATUS").upper()
        name = first(params, "core") or first(params, "name")
        if action == "CREATE" and name:
            self.core(name)
        elif action == "UNLOAD" and name:
            with self._cores_lock:
                self.cores.pop(name, None)
        with self._cores_lock:
            status = {n: {"name": n, "index": {"numDocs": len(c)}} for n, c in self.cores.items()
                      if not name or n == name or action != "STATUS"}
        return {"responseHeader": {"status": 0}, "status": status}


def _json(payload: dict[str, Any]) -> tuple[int, str, str]:
    """A 200 JSON response triple."""
    return 200, "application/json; charset=utf-8", json.dumps(payload)


def _handler_class(standin: SolrStandin) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one stand-in."""

    class Handler(BaseHTTPRequestHandler):
        """Parses HTTP requests and hands them to the stand-in."""

        protocol_version = "HTTP/1.1"
        # headers and body are two writes: with Nagle's algorithm on, the body would wait for
        # the client's delayed ACK, some 40 ms on every request CKAN makes (Solr does not)
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            """Serve a GET request."""
            self._serve("GET")

        def do_POST(self) -> None:
            """Serve a POST request."""
            self._serve("POST")

        def _serve(self, method: str) -> None:
            """Read the request, route it, and write the response."""
            split = urlsplit(self.path)
            params = parse_qs(split.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            if method == "POST" and "x-www-form-urlencoded" in content_type:
                for key, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
                    params.setdefault(key, []).extend(values)
                body = b""
            try:
                status, ctype, text = standin.handle(method, split.path, params, body,
                                                     content_type)
            except SolrError as exc:
                status, ctype, text = exc.status, "application/json; charset=utf-8", \
                    json.dumps({"responseHeader": {"status": exc.status},
                                "error": {"msg": str(exc), "code": exc.status}})
            except Exception as exc:  # noqa: BLE001 (a bug must reach CKAN as an error)
                status, ctype, text = 500, "application/json; charset=utf-8", \
                    json.dumps({"error": {"msg": f"{type(exc).__name__}: {exc}", "code": 500}})
            standin.log(f"{method} {self.path} -> {status}"
                        + (f" {text[:300]}" if status != 200 else ""))
            self._reply(status, ctype, text)

        def _reply(self, status: int, ctype: str, text: str) -> None:
            """Write a complete response with Content-Length (keep-alive safe)."""
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log (the stand-in keeps its own)."""

    return Handler


def main() -> None:
    """Run the stand-in in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8983)
    parser.add_argument("--log", default=None, help="request log file")
    args = parser.parse_args()
    standin = SolrStandin(args.host, args.port, args.log)
    print(f"Solr stand-in on {standin.url}", flush=True)
    try:
        standin.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        standin.server.server_close()


if __name__ == "__main__":
    main()
