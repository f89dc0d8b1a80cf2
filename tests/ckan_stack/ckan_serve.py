"""Serve one CKAN instance; run with the CKAN virtualenv's python, not the project's.

Usage: CKAN_STACK_SECRET=... python ckan_serve.py INI HOST PORT CREDENTIALS_JSON SYSADMIN_NAME

First listens on HOST:PORT, or on a free port when another process took PORT since the stack
chose it, and tells CKAN its real URL through CKAN_SITE_URL. Then loads the ini and builds the
CKAN app (as `ckan -c INI run` does), makes sure SYSADMIN_NAME exists as a sysadmin, creates a
fresh API token for it, writes {"user", "password", "api_key", "port"} to CREDENTIALS_JSON
(atomically), and serves the app on that socket with Werkzeug's threaded WSGI server, without
reloader or debugger. Doing the bootstrap in the serving process saves one CKAN start-up.

One extra route serves the test stack itself: `POST /__ckan_stack__/reindex` with header
`X-Ckan-Stack-Secret: $CKAN_STACK_SECRET` and body `{"ids": [...]}` (or `{}` for all datasets)
rebuilds those datasets' search index entries with CKAN's own `ckan.lib.search.rebuild`, as
`ckan search-index rebuild` does, without the seconds a CLI start-up costs.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from typing import Any


def ensure_sysadmin(app: Any, name: str) -> dict[str, str]:
    """Create (or reuse) sysadmin `name` and return its credentials with a new API token."""
    from ckan import model
    from ckan.plugins import toolkit

    with app._wsgi_app.test_request_context():
        site_user = toolkit.get_action("get_site_user")({"ignore_auth": True}, {})
        password = secrets.token_urlsafe(16)
        user = model.User.by_name(name)
        if user is None:
            toolkit.get_action("user_create")(
                {"ignore_auth": True, "user": site_user["name"]},
                {"name": name, "email": f"{name}@example.org", "password": password})
            user = model.User.by_name(name)
        else:
            user.password = password
        user.sysadmin = True
        model.Session.commit()
        token = toolkit.get_action("api_token_create")(
            {"ignore_auth": True, "user": site_user["name"]},
            {"user": name, "name": "ckan-stack"})["token"]
    return {"user": name, "password": password, "api_key": token}


CONTROL_PATH = "/__ckan_stack__/reindex"


def with_control_route(app: Any, secret: str) -> Any:
    """Wrap the CKAN WSGI app so that CONTROL_PATH reindexes datasets (secret required)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """Answer the control route; pass everything else to CKAN."""
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return app(environ, start_response)
        if not secret or environ.get("HTTP_X_CKAN_STACK_SECRET") != secret:
            return _reply(start_response, "403 Forbidden", {"error": "bad secret"})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        try:
            count = reindex(app, body.get("ids"))
        except Exception as exc:  # noqa: BLE001 (reported to the caller)
            return _reply(start_response, "500 Internal Server Error",
                          {"error": f"{type(exc).__name__}: {exc}"})
        return _reply(start_response, "200 OK", {"reindexed": count})

    return wsgi


def reindex(app: Any, package_ids: list[str] | None) -> int | None:
    """Rebuild the search index of the given datasets (all when None) like the CLI does."""
    from ckan import model
    from ckan.lib import search

    with app._wsgi_app.test_request_context():
        try:
            search.rebuild(package_ids=package_ids, quiet=True, defer_commit=True)
            search.commit()
        finally:
            model.Session.remove()
    return None if package_ids is None else len(package_ids)


def _reply(start_response: Any, status: str, payload: dict[str, Any]) -> list[bytes]:
    """A JSON WSGI response."""
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def listen(host: str, preferred_port: int) -> socket.socket:
    """A listening socket on preferred_port, or on a free port when that one is taken."""
    for port in (preferred_port, 0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        return sock
    raise OSError(f"cannot listen on {host}")


def write_json_atomically(path: str, payload: dict[str, Any]) -> None:
    """Write JSON so that a reader never sees a partial file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.replace(tmp, path)


def main(argv: list[str]) -> None:
    """Bootstrap the sysadmin, then serve forever."""
    ini, host, port, credentials_path, sysadmin = argv
    import ckan.cli
    from ckan.config.middleware import make_app
    from werkzeug.serving import make_server

    sock = listen(host, int(port))
    port = sock.getsockname()[1]
    os.environ["CKAN_SITE_URL"] = f"http://{host}:{port}"  # overrides the ini's ckan.site_url
    app = make_app(ckan.cli.load_config(ini))
    credentials = ensure_sysadmin(app, sysadmin)
    write_json_atomically(credentials_path, {**credentials, "port": port})
    wsgi = with_control_route(app, os.environ.get("CKAN_STACK_SECRET", ""))
    server = make_server(host, port, wsgi, threaded=True, fd=sock.fileno())
    print(f"ckan_serve: serving {ini} on http://{host}:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
