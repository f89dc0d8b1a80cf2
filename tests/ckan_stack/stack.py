"""Start and stop a local CKAN 2.12 stack: PostgreSQL, Redis, the Solr stand-in and N CKANs.

Everything lives in one temp dir (logs in `<dir>/logs/`). Long-running children are started with
`setpriv --pdeathsig` so they die with the process that started them (start the stack from a
thread that outlives it, e.g. pytest's main thread); `stop()` runs at exit too, and a later stack
reaps the processes of an earlier one whose owner died without cleaning up.

    stack = CkanStack().start()
    source = stack.add_instance("source")                       # plain CKAN like DUO's
    target = stack.add_instance("target", kind="target",
                                scheming_schema="tests/ckan_stack/tiny_schema.yaml")
    ...
    stack.stop()
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from .solr_standin import SolrStandin

HERE = Path(__file__).resolve().parent
CONTROL_PATH = "/__ckan_stack__/reindex"  # see ckan_serve.py
DEFAULT_VENV = Path.home() / ".cache" / "dcat-ap-nl-harvester" / "ckan-2.12-venv"
PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")
INSTALL_HINT = "install it with `bash .ci/install-ckan-stack.sh`"
DB_USER, DB_PASSWORD = "ckan_default", "pass"
STACK_PREFIX = "ckan-stack-"
KIND_PLUGINS = {"source": ["activity"], "target": ["activity", "scheming_datasets"]}


class StackError(RuntimeError):
    """The stack could not start (the message carries the tail of the relevant log)."""


class StackUnavailable(StackError):
    """A prerequisite (CKAN venv, PostgreSQL, Redis, setpriv) is not installed."""


def ckan_venv() -> Path:
    """The CKAN virtualenv: $CKAN_STACK_VENV or the default cache location."""
    return Path(os.environ.get("CKAN_STACK_VENV") or DEFAULT_VENV)


def pg_bin_dir() -> Path | None:
    """The directory holding initdb/postgres ($CKAN_STACK_PG_BIN or Debian's), if any."""
    candidates = [os.environ.get("CKAN_STACK_PG_BIN", ""), *PG_BIN_CANDIDATES]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    return None


def missing_prerequisites(venv: Path | None = None) -> list[str]:
    """Human-readable list of what is missing to start the stack (empty when all is there)."""
    venv = venv or ckan_venv()
    missing = []
    if not (venv / ".ckan-stack-installed").exists() or not (venv / "bin" / "ckan").exists():
        missing.append(f"CKAN 2.12 virtualenv at {venv} (complete install)")
    if pg_bin_dir() is None:
        missing.append("PostgreSQL server binaries (Debian package postgresql-15)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server (Debian package redis-server)")
    if shutil.which("setpriv") is None:
        missing.append("setpriv (Debian package util-linux)")
    return missing


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file (or a note that it is empty or absent)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = "\n".join(text.rstrip().splitlines()[-lines:])
    return f"--- tail of {path} ---\n{tail}" if tail else f"(log {path} is empty)"


def run_logged(cmd: list[str], log: Path, what: str, env: dict[str, str] | None = None,
               timeout: float = 300) -> str:
    """Run a short command, appending its output to `log`; StackError with the tail on failure."""
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(cmd)}\n")
        handle.flush()
        try:
            result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=handle, env=env,
                                    timeout=timeout, text=True, check=False)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"{what}: timed out after {timeout}s\n{log_tail(log)}") from exc
        handle.write(result.stdout)
    if result.returncode != 0:
        raise StackError(f"{what}: exit code {result.returncode}\n{log_tail(log)}")
    return result.stdout


def start_on_free_port(spawn: Any, attempts: int = 3) -> None:
    """Call spawn(port) until it does not fail because another process took the port."""
    for attempt in range(attempts):
        try:
            spawn(free_port())
            return
        except StackError as exc:
            if "already in use" not in str(exc) or attempt == attempts - 1:
                raise


def unprivileged_prefix() -> list[str]:
    """Command prefix that drops root to the `postgres` user (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]


class ManagedProcess:
    """A long-running child with its own log file; dies with its parent (pdeathsig)."""

    def __init__(self, name: str, cmd: list[str], log: Path, marker: str,
                 env: dict[str, str] | None = None, death_signal: str = "TERM"):
        self.name, self.cmd, self.log = name, cmd, log
        self.marker = marker  # a string in /proc/<pid>/cmdline that identifies this process
        self.env, self.death_signal = env, death_signal
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        """Spawn the process in its own session, output to the log file."""
        cmd = self.cmd
        if cmd[0] == "setpriv":
            cmd = [cmd[0], f"--pdeathsig={self.death_signal}", *cmd[1:]]
        else:
            cmd = ["setpriv", f"--pdeathsig={self.death_signal}", *cmd]
        with open(self.log, "ab") as handle:  # the child keeps its own copy of the descriptor
            self.popen = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=self.env,
                                          start_new_session=True)
        return self

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.popen is not None and self.popen.poll() is None

    def check_alive(self) -> None:
        """Raise StackError with the log tail when the process has exited."""
        if self.popen is not None and self.popen.poll() is not None:
            raise StackError(f"{self.name} exited with code {self.popen.returncode}\n"
                             f"{log_tail(self.log)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        """Send `sig` to the process, then SIGKILL it if it has not exited within `timeout`."""
        if not self.alive():
            return
        assert self.popen is not None
        try:
            os.kill(self.popen.pid, sig)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)
        except ProcessLookupError:
            pass


def wait_until(check: Any, timeout: float, what: str, proc: ManagedProcess | None = None,
               interval: float = 0.2) -> Any:
    """Poll `check()` until it returns a truthy value; StackError (with log tail) on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None:
            proc.check_alive()
        try:
            result = check()
        except Exception:  # noqa: BLE001 (not ready yet: refused, partial file, ...)
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            tail = log_tail(proc.log) if proc else ""
            raise StackError(f"{what}: not ready after {timeout}s\n{tail}")
        time.sleep(interval)


class Postgres:
    """A throw-away PostgreSQL cluster on its own port and socket directory."""

    def __init__(self, base: Path, logs: Path, bin_dir: Path):
        self.dir, self.bin = base / "postgres", bin_dir
        self.data, self.sockets = self.dir / "data", self.dir / "sockets"
        self.log = logs / "postgres.log"
        self.port = 0
        self.process: ManagedProcess | None = None

    def start(self) -> None:
        """initdb (trust auth, no fsync), start the server, create the CKAN role."""
        self.sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        run_logged([*unprivileged_prefix(), str(self.bin / "initdb"), "-D", str(self.data),
                    "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C",
                    "--no-sync", "--no-instructions"], self.log, "initdb")
        start_on_free_port(self._serve)
        self.sql(f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}'")

    def _serve(self, port: int) -> None:
        """Start the server on a port and wait until it accepts connections."""
        self.port = port
        self.process = ManagedProcess("postgres", [
            *unprivileged_prefix(), str(self.bin / "postgres"), "-D", str(self.data),
            "-p", str(port), "-k", str(self.sockets), "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200"], self.log, marker=str(self.data),
            death_signal="INT").start()
        wait_until(self._ready, 30, "PostgreSQL", self.process)

    def _ready(self) -> bool:
        """Whether the server accepts connections."""
        return subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", str(self.sockets),
                               "-p", str(self.port)], check=False).returncode == 0

    def sql(self, statement: str, database: str = "postgres") -> list[list[str]]:
        """Run SQL as the superuser; returns the result rows as lists of strings."""
        out = run_logged([str(self.bin / "psql"), "-h", str(self.sockets), "-p", str(self.port),
                          "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt",
                          "-F", "\t", "-c", statement], self.log, f"psql {statement[:60]}")
        return [line.split("\t") for line in out.splitlines() if line]

    def create_database(self, name: str) -> str:
        """Create a database owned by the CKAN role; returns its SQLAlchemy URL."""
        self.sql(f'CREATE DATABASE "{name}" OWNER {DB_USER} ENCODING \'UTF8\' TEMPLATE template0')
        return f"postgresql://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Fast shutdown (SIGINT), which disconnects clients."""
        if self.process:
            self.process.stop(signal.SIGINT, timeout=15)


class Redis:
    """A Redis server without persistence on its own port."""

    def __init__(self, base: Path, logs: Path):
        self.dir, self.log = base / "redis", logs / "redis.log"
        self.port = 0
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        """Base redis:// URL (append /<db>)."""
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start redis-server in the foreground and wait for PING."""
        self.dir.mkdir(parents=True)
        start_on_free_port(self._serve)

    def _serve(self, port: int) -> None:
        """Start the server on a port and wait for PING."""
        self.port = port
        self.process = ManagedProcess("redis", [
            shutil.which("redis-server") or "redis-server", "--port", str(port),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir),
            "--daemonize", "no"], self.log, marker=f"127.0.0.1:{port}").start()
        wait_until(self._ping, 15, "Redis", self.process)

    def _ping(self) -> bool:
        """Whether Redis answers PING."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        """Terminate the server."""
        if self.process:
            self.process.stop()


@dataclass
class CkanInstance:
    """One CKAN site of the stack: where it listens and how to reach it as sysadmin.

    `port` is chosen when the instance is created and written to its ini; ckan_serve.py takes
    another free port (and tells CKAN through CKAN_SITE_URL) if it was taken in the meantime.
    """

    name: str
    kind: str
    dir: Path
    port: int
    plugins: list[str]
    scheming_schema: str | None = None
    extra_config: dict[str, str] = field(default_factory=dict)
    python_path: list[str] = field(default_factory=list)
    db_name: str = ""
    db_url: str = ""
    solr_url: str = ""
    ini: Path = Path()
    log: Path = Path()
    redis_db: int = 0
    control_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    sysadmin: str = "ckan_admin"
    password: str = ""
    api_key: str = ""
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        """The site URL, e.g. http://127.0.0.1:5123."""
        return f"http://127.0.0.1:{self.port}"

    def action_url(self, action: str) -> str:
        """URL of an action API call."""
        return f"{self.url}/api/3/action/{action}"

    def remote(self, api_key: str | None = None) -> Any:
        """A ckanapi.RemoteCKAN for this site (as sysadmin unless another key is given)."""
        import ckanapi

        return ckanapi.RemoteCKAN(self.url, apikey=self.api_key if api_key is None else api_key,
                                  user_agent="dcat-ap-nl-harvester-tests/ckan-stack")

    def status(self) -> dict[str, Any]:
        """status_show of the running site."""
        response = requests.get(self.action_url("status_show"), timeout=5)
        response.raise_for_status()
        return response.json()["result"]


class CkanStack:
    """PostgreSQL + Redis + Solr stand-in + CKAN instances in one temp dir."""

    def __init__(self, venv: Path | None = None, base_dir: Path | None = None,
                 keep_dir: bool = False, start_timeout: float = 120):
        self.venv = Path(venv) if venv else ckan_venv()
        self.base = base_dir
        self.keep_dir = keep_dir or os.environ.get("CKAN_STACK_KEEP") == "1"
        self.start_timeout = start_timeout
        self.instances: dict[str, CkanInstance] = {}
        self.postgres: Postgres | None = None
        self.redis: Redis | None = None
        self.solr: SolrStandin | None = None
        self.logs = Path()
        self._lock = threading.Lock()
        self._started = False
        self._own_base = False

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> CkanStack:
        """Start PostgreSQL, Redis and the Solr stand-in (CKANs come with add_instance(s))."""
        missing = missing_prerequisites(self.venv)
        if missing:
            raise StackUnavailable("missing: " + "; ".join(missing) + f" — {INSTALL_HINT}")
        reap_stale_stacks()
        self._own_base = self.base is None
        self.base = Path(tempfile.mkdtemp(prefix=STACK_PREFIX)) if self.base is None \
            else Path(self.base)
        os.chmod(self.base, 0o755)  # the postgres user must reach its data dir
        self.logs = self.base / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._started = True
        atexit.register(self.stop)
        try:
            self._write_owner_file()
            self.solr = SolrStandin(log_path=str(self.logs / "solr.log")).start()
            self.redis = Redis(self.base, self.logs)
            self.redis.start()
            self.postgres = Postgres(self.base, self.logs, pg_bin_dir() or Path())
            self.postgres.start()
            self._write_owner_file()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process, the Solr stand-in, and remove the temp dir (unless kept)."""
        if not self._started:
            return
        self._started = False
        for instance in self.instances.values():
            if instance.process:
                instance.process.stop()
        for service in (self.redis, self.postgres):
            if service:
                service.stop()
        if self.solr:
            self.solr.stop()
        if self.base and self._own_base and not self.keep_dir:
            shutil.rmtree(self.base, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> CkanStack:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- CKAN instances ---------------------------------------------------------------------

    def add_instance(self, name: str, kind: str = "source", scheming_schema: str | None = None,
                     extra_plugins: Iterable[str] = (),
                     extra_config: dict[str, str] | None = None,
                     python_path: Iterable[str] = ()) -> CkanInstance:
        """Create, initialise and start one CKAN instance; returns it once it answers.

        kind: "source" (plugins: activity) or "target" (activity, scheming_datasets; needs
        scheming_schema, a file path or a `module:file` reference). extra_plugins are appended
        to ckan.plugins, extra_config entries are written to the ini, and python_path folders
        are put on the instance's PYTHONPATH (for plugins that are not installed in the venv).
        """
        spec = {"name": name, "kind": kind, "scheming_schema": scheming_schema,
                "extra_plugins": extra_plugins, "extra_config": extra_config,
                "python_path": python_path}
        return self.add_instances([spec])[0]

    def add_instances(self, specs: list[dict[str, Any]]) -> list[CkanInstance]:
        """Create several instances, preparing them in parallel; returns them in order."""
        if not self._started:
            raise StackError("start() the stack before adding CKAN instances")
        instances = [self._new_instance(**spec) for spec in specs]
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(self._prepare, instances))
            for instance in instances:  # spawned from this thread: pdeathsig follows its life
                self._spawn(instance)
            self._write_owner_file()
            with ThreadPoolExecutor(max_workers=max(1, len(instances))) as pool:
                list(pool.map(self._wait_ready, instances))
        except BaseException:
            self._discard(instances)
            raise
        return instances

    def _discard(self, instances: list[CkanInstance]) -> None:
        """Stop and forget instances that failed to come up (their logs stay)."""
        for instance in instances:
            if instance.process:
                instance.process.stop()
            self.instances.pop(instance.name, None)

    def instance(self, name: str) -> CkanInstance:
        """A started instance by name."""
        return self.instances[name]

    def sql(self, instance: CkanInstance, statement: str) -> list[list[str]]:
        """Run SQL in an instance's database (rows as lists of strings)."""
        assert self.postgres
        return self.postgres.sql(statement, database=instance.db_name)

    def reindex(self, instance: CkanInstance, package_ids: list[str] | None = None) -> None:
        """Rebuild search index entries from the database (all datasets when no ids are given).

        Runs CKAN's own `ckan.lib.search.rebuild` inside the serving process (see ckan_serve.py).
        """
        response = requests.post(instance.url + CONTROL_PATH, timeout=self.start_timeout,
                                 json={} if package_ids is None else {"ids": package_ids},
                                 headers={"X-Ckan-Stack-Secret": instance.control_secret})
        if response.status_code != 200:
            raise StackError(f"reindex of {instance.name} failed: HTTP {response.status_code} "
                             f"{response.text[:500]}\n{log_tail(instance.log)}")

    def restart_instance(self, instance: CkanInstance,
                         config: dict[str, str] | None = None) -> CkanInstance:
        """Stop an instance's web server, apply ini changes, start it again and wait for it."""
        if instance.process:
            instance.process.stop()
        if config:
            instance.extra_config.update(config)
            self._ckan(instance, ["config-tool", str(instance.ini),
                                  *[f"{k}={v}" for k, v in config.items()]],
                       "ckan config-tool", with_config=False)
        (instance.dir / "credentials.json").unlink(missing_ok=True)
        self._spawn(instance)
        self._write_owner_file()
        self._wait_ready(instance)
        return instance

    def _new_instance(self, name: str, kind: str = "source", scheming_schema: str | None = None,
                      extra_plugins: Iterable[str] = (),
                      extra_config: dict[str, str] | None = None,
                      python_path: Iterable[str] = ()) -> CkanInstance:
        """Register a new instance (port, dirs, plugin list) without starting anything."""
        if kind not in KIND_PLUGINS:
            raise ValueError(f"unknown instance kind {kind!r}; use one of {sorted(KIND_PLUGINS)}")
        if kind == "target" and not scheming_schema:
            raise ValueError("a target instance needs scheming_schema (a schema file path)")
        with self._lock:
            if name in self.instances or not name.replace("_", "").isalnum():
                raise ValueError(f"instance name {name!r} is taken or not alphanumeric")
            plugins = KIND_PLUGINS[kind] + [p for p in extra_plugins
                                            if p not in KIND_PLUGINS[kind]]
            instance = CkanInstance(name=name, kind=kind, dir=self.base / "ckan" / name,
                                    port=free_port(), plugins=plugins,
                                    scheming_schema=scheming_schema,
                                    extra_config=dict(extra_config or {}),
                                    python_path=[str(Path(p).resolve()) for p in python_path])
            instance.log = self.logs / f"ckan-{name}.log"
            instance.redis_db = len(self.instances) % 16
            self.instances[name] = instance
        return instance

    def _prepare(self, instance: CkanInstance) -> None:
        """Database, Solr core, ini file and `ckan db init` for one instance."""
        assert self.postgres and self.solr
        instance.dir.mkdir(parents=True)
        (instance.dir / "storage").mkdir()
        instance.db_name = f"ckan_{instance.name}"
        instance.db_url = self.postgres.create_database(instance.db_name)
        instance.solr_url = self.solr.core_url(instance.name)
        self.solr.core(instance.name)
        instance.ini = instance.dir / "ckan.ini"
        self._ckan(instance, ["generate", "config", str(instance.ini)], "ckan generate config",
                   with_config=False)
        options = self._config_options(instance)
        self._ckan(instance, ["config-tool", str(instance.ini),
                              *[f"{k}={v}" for k, v in options.items()]], "ckan config-tool",
                   with_config=False)
        self._ckan(instance, ["db", "init"], "ckan db init")

    def _config_options(self, instance: CkanInstance) -> dict[str, str]:
        """The ini settings of an instance (extra_config wins)."""
        assert self.redis
        options = {
            "sqlalchemy.url": instance.db_url,
            "solr_url": instance.solr_url,
            "ckan.redis.url": f"{self.redis.url}/{instance.redis_db}",
            "ckan.site_url": instance.url,
            "ckan.site_id": instance.name,
            "ckan.site_title": f"CKAN stack {instance.name}",
            "ckan.storage_path": str(instance.dir / "storage"),
            "ckan.plugins": " ".join(instance.plugins),
            "ckan.auth.create_unowned_dataset": "true",
            "ckan.auth.create_dataset_if_not_in_organization": "true",
            "ckan.search.rows_max": "1000",
            "ckan.requests.timeout": "10",
            "ckan.devserver.host": "127.0.0.1",
            "ckan.devserver.port": str(instance.port),
        }
        if instance.scheming_schema:
            options["scheming.dataset_schemas"] = schema_reference(instance.scheming_schema)
            options["scheming.dataset_fallback"] = "false"
        options.update(instance.extra_config)
        return options

    def _ckan(self, instance: CkanInstance, args: list[str], what: str,
              with_config: bool = True) -> str:
        """Run a `ckan` CLI command of the CKAN venv for an instance, logged to its log."""
        cmd = [str(self.venv / "bin" / "ckan")]
        if with_config:
            cmd += ["-c", str(instance.ini)]
        return run_logged(cmd + args, instance.log, f"{what} [{instance.name}]",
                          env=self._env(instance), timeout=self.start_timeout)

    def _env(self, instance: CkanInstance) -> dict[str, str]:
        """Environment of an instance's CKAN processes (its python_path first, no CKAN_INI)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
        env["PYTHONUNBUFFERED"] = "1"
        paths = [*instance.python_path, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def _spawn(self, instance: CkanInstance) -> None:
        """Start the web server process of an instance (see ckan_serve.py)."""
        credentials = instance.dir / "credentials.json"
        instance.process = ManagedProcess(f"CKAN {instance.name}", [
            str(self.venv / "bin" / "python"), str(HERE / "ckan_serve.py"), str(instance.ini),
            "127.0.0.1", str(instance.port), str(credentials), instance.sysadmin],
            instance.log, marker=str(instance.ini),
            env={**self._env(instance), "CKAN_STACK_SECRET": instance.control_secret}).start()

    def _wait_ready(self, instance: CkanInstance) -> None:
        """Wait for the credentials file and for status_show to answer."""
        credentials = instance.dir / "credentials.json"
        what = f"CKAN {instance.name} ({instance.url})"
        data = wait_until(lambda: json.loads(credentials.read_text()), self.start_timeout,
                          f"{what} sysadmin bootstrap", instance.process)
        instance.password, instance.api_key = data["password"], data["api_key"]
        instance.port = data["port"]  # another port when the chosen one was taken meanwhile
        wait_until(instance.status, self.start_timeout, f"{what} status_show", instance.process)

    # --- stale stack reaping ----------------------------------------------------------------

    def _write_owner_file(self) -> None:
        """Record the owner pid and child pids so a later stack can reap them if we die."""
        assert self.base
        children = [{"pid": p.pid, "marker": p.marker} for p in self._processes() if p.pid]
        (self.base / "owner.json").write_text(
            json.dumps({"owner": os.getpid(), "children": children}))

    def _processes(self) -> list[ManagedProcess]:
        """All long-running child processes."""
        procs = [i.process for i in self.instances.values() if i.process]
        for service in (self.redis, self.postgres):
            if service and service.process:
                procs.append(service.process)
        return procs


def schema_reference(schema: str) -> str:
    """A scheming schema reference: `module:file` and URLs as given, file paths as file:// URLs."""
    if "://" in schema or (":" in schema and not Path(schema).exists()):
        return schema
    path = Path(schema).resolve()
    if not path.exists():
        raise StackError(f"scheming schema file not found: {path}")
    return path.as_uri()


def reap_stale_stacks(tmp: Path | None = None) -> list[int]:
    """Kill processes of earlier stacks whose owner process is gone; returns the pids killed."""
    killed = []
    for owner_file in Path(tmp or tempfile.gettempdir()).glob(f"{STACK_PREFIX}*/owner.json"):
        try:
            info = json.loads(owner_file.read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(info.get("owner", 0)):
            continue
        for child in info.get("children", []):
            if child.get("marker") and child["marker"] in _cmdline(child.get("pid", 0)):
                _kill_quietly(child["pid"])
                killed.append(child["pid"])
        shutil.rmtree(owner_file.parent, ignore_errors=True)
    return killed


def _pid_alive(pid: int) -> bool:
    """Whether a process id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def _cmdline(pid: int) -> str:
    """The command line of a process ('' if it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _kill_quietly(pid: int) -> None:
    """SIGKILL a process that may already be gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
