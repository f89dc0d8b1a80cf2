"""The configuration file: sources, targets, state store, mapping tables and shapes.

One TOML file. Relative paths in it are relative to the file. API keys never live in the file:
a source or target names the environment variable that holds its key (`api_key_env`).

    state = "state/harvester.sqlite"
    profile = "3.0"                # the DCAT-AP-NL version datasets are validated against

    [sources.duo]
    type = "ckan"
    url = "https://onderwijsdata.duo.nl"

    [sources.duo.mapping]          # passed to the mapper (see harvester.dcat.options.MappingOptions)
    portal_url = "https://onderwijsdata.duo.nl"

    [targets.test]
    url = "https://test.data.overheid.nl/data"
    api_key_env = "DONL_TEST_API_KEY"
    owner_org = "dienst-uitvoering-onderwijs"
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from harvester.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_CONFIG_NAME = "harvester.toml"
CONFIG_ENV = "HARVESTER_CONFIG"
DEFAULT_SOURCE_URL = "https://onderwijsdata.duo.nl"
DEFAULT_TARGET_URL = "https://data.overheid.nl/data"
#: the mapping tables and shapes shipped inside the package (a configuration may point elsewhere)
MAPPINGS_DIR = Path(str(files("harvester") / "mappings"))
SHAPES_DIR = Path(str(files("harvester") / "shapes"))
#: the DCAT-AP-NL versions the shapes judge against (their rules: shapes/profiles/<profile>/):
#: "3.0" the adopted DCAT-AP-NL 3.0 (Geonovum, 2024-12) with SEMIC DCAT-AP 3.0.0; "3.0.1" the
#: 3.0.1 working version (Geonovum main) with SEMIC DCAT-AP 3.0.1
PROFILES = ("3.0", "3.0.1")
DEFAULT_PROFILE = "3.0"


@dataclass
class SourceConfig:
    """Where datasets come from: a CKAN action API (`ckan`) or a file of package dicts (`dump`)."""

    name: str
    type: str = "ckan"
    url: str = DEFAULT_SOURCE_URL
    path: Path | None = None
    page_size: int = 1000
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0
    overlap_minutes: int = 60
    organization: str | None = None
    api_key_env: str | None = None
    full_every_runs: int = 1
    full_every_days: float | None = None
    light_listing: bool = True
    mapping: dict[str, Any] = field(default_factory=dict)
    #: `[sources.NAME.high_value]`: dataset name or CKAN id -> HVD categories (codes or URIs)
    high_value: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: `[[sources.NAME.high_value_rules]]`: {tag | group | field + value, category (a tuple)}
    high_value_rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def location(self) -> str:
        """The URL or file this source reads, for messages and the state store."""
        return str(self.path) if self.type == "dump" else self.url


@dataclass
class TargetConfig:
    """A data.overheid.nl CKAN environment (a profile: acceptance `test` or `production`)."""

    name: str
    url: str = DEFAULT_TARGET_URL
    api_key_env: str = "HARVESTER_API_KEY"
    owner_org: str = ""
    production: bool = False
    timeout: float = 60.0
    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0
    write_pause: float = 0.0
    writers: int = 1
    grace_days: float = 7.0
    withdraw_threshold: float = 0.10
    #: source organisation name -> organisation on the target it is published under (empty: the
    #: source's own `organization` under `owner_org`)
    organizations: dict[str, str] = field(default_factory=dict)


@dataclass
class Config:
    """The whole configuration, with every path made absolute."""

    path: Path | None
    state: Path
    mappings: Path
    shapes: Path
    reports: Path
    #: the DCAT-AP-NL version validated against (one of PROFILES)
    profile: str = DEFAULT_PROFILE
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    targets: dict[str, TargetConfig] = field(default_factory=dict)

    def source(self, name: str | None) -> SourceConfig:
        """The named source, or the only/first one configured when no name is given."""
        if name is None:
            if not self.sources:
                raise ConfigError(f"{self._where()}: no [sources.NAME] table; add one or use --source-url")
            return next(iter(self.sources.values()))
        if name not in self.sources:
            known = ", ".join(sorted(self.sources)) or "none"
            raise ConfigError(f"{self._where()}: no source named {name!r} (configured: {known})")
        return self.sources[name]

    def target(self, name: str | None) -> TargetConfig:
        """The named target profile, or the single non-production one when no name is given."""
        if name is None:
            if not self.targets:
                raise ConfigError(f"{self._where()}: no target configured; add a [targets.NAME] table, "
                                  "or use --target-url and --owner-org")
            safe = [t for t in self.targets.values() if not t.production]
            if len(safe) == 1:
                return safe[0]
            raise ConfigError(
                f"{self._where()}: name the target with --target "
                f"(configured: {', '.join(sorted(self.targets)) or 'none'}); "
                "a production target is only used when named explicitly"
            )
        if name not in self.targets:
            known = ", ".join(sorted(self.targets)) or "none"
            raise ConfigError(f"{self._where()}: no target named {name!r} (configured: {known})")
        return self.targets[name]

    def _where(self) -> str:
        return str(self.path) if self.path else "built-in default configuration"


_TOP_KEYS = {"state", "mappings", "shapes", "profile", "reports", "sources", "targets"}


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown key {key!r}; expected one of: {', '.join(sorted(allowed))}"
            )


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(f"{where}: key {key!r} must be a {names}, got {value!r}")
    return value


def _positive(value: float, key: str, where: str, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{where}: key {key!r} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


def _check_url(url: str, key: str, where: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{where}: key {key!r} must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


def _resolve(base: Path, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else (base / path).resolve()


def _source(name: str, table: Any, base: Path, file: str) -> SourceConfig:
    where = f"{file} [sources.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    allowed = {
        "type", "url", "path", "page_size", "timeout", "retries", "backoff", "max_backoff",
        "overlap_minutes", "organization", "api_key_env", "full_every_runs", "full_every_days",
        "light_listing", "workers", "mapping", "high_value", "high_value_rules",
    }
    _check_keys(table, allowed, where)
    kind = _get(table, "type", str, where, "ckan")
    if kind not in ("ckan", "dump"):
        raise ConfigError(f"{where}: key 'type' must be 'ckan' or 'dump', got {kind!r}")
    src = SourceConfig(name=name, type=kind)
    if kind == "dump":
        if "path" not in table:
            raise ConfigError(f"{where}: a dump source needs key 'path' (a .json or .jsonl file)")
        src.path = _resolve(base, _get(table, "path", str, where, ""))
        src.url = _get(table, "url", str, where, "")
        if src.url:
            src.url = _check_url(src.url, "url", where)
    else:
        src.url = _check_url(_get(table, "url", str, where, DEFAULT_SOURCE_URL), "url", where)
    src.page_size = _get(table, "page_size", int, where, src.page_size)
    if not 1 <= src.page_size <= 1000:
        raise ConfigError(f"{where}: key 'page_size' must be between 1 and 1000, got {src.page_size}")
    for key in ("timeout", "backoff", "max_backoff"):
        setattr(src, key, _get(table, key, float, where, getattr(src, key)))
        _positive(getattr(src, key), key, where, allow_zero=key != "timeout")
    src.retries = _get(table, "retries", int, where, src.retries)
    _positive(src.retries, "retries", where, allow_zero=True)
    src.overlap_minutes = _get(table, "overlap_minutes", int, where, src.overlap_minutes)
    _positive(src.overlap_minutes, "overlap_minutes", where, allow_zero=True)
    src.organization = _get(table, "organization", str, where, None)
    src.api_key_env = _get(table, "api_key_env", str, where, None)
    src.full_every_runs = _get(table, "full_every_runs", int, where, 1)
    _positive(src.full_every_runs, "full_every_runs", where)
    src.full_every_days = _get(table, "full_every_days", float, where, None)
    src.light_listing = _get(table, "light_listing", bool, where, True)
    if "workers" in table:  # the worker processes are gone; files that name them still load
        log.warning("%s: workers: ignored; the records are mapped, validated and converted in this "
                    "process (the key may be removed)", where)
    src.mapping = dict(_get(table, "mapping", dict, where, {}))
    src.high_value = _high_value(_get(table, "high_value", dict, where, {}),
                                 f"{file} [sources.{name}.high_value]")
    src.high_value_rules = [
        _high_value_rule(rule, f"{file} [[sources.{name}.high_value_rules]] rule {i}")
        for i, rule in enumerate(_get(table, "high_value_rules", list, where, []), 1)
    ]
    return src


# High-value datasets: the shape of the tables is checked here; the categories are checked
# against the EU list (mappings/hvd_categories.csv) by harvester.dcat.hvd_categories.
_HIGH_VALUE_RULE_KEYS = {"tag", "group", "field", "value", "category"}
_HIGH_VALUE_SELECTORS = ("tag", "group", "field")


def _categories(value: Any, key: str, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or \
            not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{where}: key {key!r} must be an HVD category (a code such as "
                          f"'c_e1da4e07' or its URI) or a list of them, got {value!r}")
    return tuple(v.strip() for v in values)


def _high_value(table: dict[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    return {name: _categories(value, name, where) for name, value in table.items()}


def _high_value_rule(rule: Any, where: str) -> dict[str, Any]:
    if not isinstance(rule, dict):
        raise ConfigError(f"{where}: must be a table such as {{tag = \"statistiek\", "
                          f"category = \"c_e1da4e07\"}}, got {rule!r}")
    _check_keys(rule, _HIGH_VALUE_RULE_KEYS, where)
    selectors = [key for key in _HIGH_VALUE_SELECTORS if key in rule]
    if len(selectors) != 1 or ("value" in rule) != (selectors == ["field"]):
        raise ConfigError(f"{where}: needs exactly one of 'tag', 'group' or 'field' (with "
                          f"'value': a package field or extra and the value it holds), got "
                          f"{', '.join(sorted(rule)) or 'no keys'}")
    checked = {key: _get(rule, key, str, where, "").strip() for key in (*selectors, "value")
               if key in rule}
    for key, text in checked.items():
        if not text:
            raise ConfigError(f"{where}: key {key!r} must be a non-empty string")
    if "category" not in rule:
        raise ConfigError(f"{where}: key 'category' is required (the HVD category of the "
                          "datasets the rule marks)")
    return {**checked, "category": _categories(rule["category"], "category", where)}


def _target(name: str, table: Any, where: str) -> TargetConfig:
    where = f"{where} [targets.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    allowed = {
        "url", "api_key_env", "owner_org", "production", "timeout", "retries", "backoff",
        "max_backoff", "write_pause", "writers", "grace_days", "withdraw_threshold", "organizations",
    }
    _check_keys(table, allowed, where)
    tgt = TargetConfig(name=name)
    tgt.url = _check_url(_get(table, "url", str, where, DEFAULT_TARGET_URL), "url", where)
    tgt.api_key_env = _get(table, "api_key_env", str, where, tgt.api_key_env)
    tgt.owner_org = _get(table, "owner_org", str, where, "")
    if not tgt.owner_org:
        raise ConfigError(f"{where}: key 'owner_org' is required (the data owner's organisation name on the target)")
    tgt.production = _get(table, "production", bool, where, name == "production")
    for key in ("timeout", "backoff", "max_backoff", "write_pause", "grace_days", "withdraw_threshold"):
        setattr(tgt, key, _get(table, key, float, where, getattr(tgt, key)))
        _positive(getattr(tgt, key), key, where, allow_zero=key != "timeout")
    if tgt.withdraw_threshold > 1:
        raise ConfigError(f"{where}: key 'withdraw_threshold' is a fraction between 0 and 1, got {tgt.withdraw_threshold}")
    tgt.retries = _get(table, "retries", int, where, tgt.retries)
    _positive(tgt.retries, "retries", where, allow_zero=True)
    tgt.writers = _get(table, "writers", int, where, 1)
    if not 1 <= tgt.writers <= 8:
        raise ConfigError(f"{where}: key 'writers' must be between 1 and 8, got {tgt.writers}")
    tgt.organizations = dict(_get(table, "organizations", dict, where, {}))
    for source_org, target_org in tgt.organizations.items():
        if not isinstance(target_org, str) or not target_org:
            raise ConfigError(f"{where}: key 'organizations' maps source organisation names to organisation "
                              f"names on the target, got {source_org} = {target_org!r}")
    return tgt


def parse_config(data: dict[str, Any], path: Path | None) -> Config:
    """Check a parsed TOML document and turn it into a `Config` (paths made absolute)."""
    where = str(path) if path else "built-in default configuration"
    base = path.parent if path else Path.cwd()
    _check_keys(data, _TOP_KEYS, where)
    state = _resolve(base, _get(data, "state", str, where, "harvester-state.sqlite"))
    mappings = _resolve(base, _get(data, "mappings", str, where, str(MAPPINGS_DIR)))
    shapes = _resolve(base, _get(data, "shapes", str, where, str(SHAPES_DIR)))
    reports = _resolve(base, _get(data, "reports", str, where, str(state.parent / "reports")))
    profile = check_profile(_get(data, "profile", str, where, DEFAULT_PROFILE), f"{where}: key 'profile'")
    cfg = Config(path=path, state=state, mappings=mappings, shapes=shapes, reports=reports, profile=profile)
    sources = _get(data, "sources", dict, where, None)
    if sources is None:
        cfg.sources["duo"] = SourceConfig(name="duo")
    else:
        for name, table in sources.items():
            cfg.sources[name] = _source(name, table, base, where)
    for name, table in _get(data, "targets", dict, where, {}).items():
        cfg.targets[name] = _target(name, table, where)
    return cfg


def check_profile(profile: str, where: str) -> str:
    """`profile` when it is one of PROFILES; else a ConfigError naming `where` it was given."""
    if profile not in PROFILES:
        raise ConfigError(f"{where}: unknown DCAT-AP-NL profile {profile!r}; expected one of: "
                          f"{', '.join(repr(p) for p in PROFILES)}")
    return profile


def load_config(path: str | Path | None = None, *, allow_defaults: bool = False) -> Config:
    """Load the configuration: `path`, else $HARVESTER_CONFIG, else ./harvester.toml.

    A named file must exist. When nothing is named and ./harvester.toml is absent, that is an
    error naming where it looked and how to start (`harvester init`); with `allow_defaults` the
    built-in defaults apply instead (the DUO CKAN source, state in ./harvester-state.sqlite).
    """
    from_env = os.environ.get(CONFIG_ENV)
    explicit = path is not None or bool(from_env)
    chosen = Path(path) if path is not None else Path(from_env or DEFAULT_CONFIG_NAME)
    if not chosen.exists():
        if explicit:
            named = "--config" if path is not None else f"${CONFIG_ENV}"
            raise ConfigError(f"{chosen}: configuration file not found (named by {named})")
        if allow_defaults:
            return parse_config({}, None)
        raise ConfigError(no_config_message(chosen.resolve()))
    chosen = chosen.resolve()
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{chosen}: cannot read the configuration file: {exc}") from None
    return parse_config(data, chosen)


def no_config_message(default: Path) -> str:
    """Where the configuration was looked for, and how to start one."""
    return (
        "no configuration file found; looked for:\n"
        f"  {'--config FILE':<20}  not given\n"
        f"  {'$' + CONFIG_ENV:<20}  not set\n"
        f"  {str(default):<20}  not there\n"
        "to start: `harvester init` writes a commented harvester.toml here "
        "(`harvester init --help` for its options), or name a file with --config"
    )


def api_key_from_env(variable: str | None, what: str, *, required: bool) -> str | None:
    """The API key held in environment variable `variable` (never logged or echoed)."""
    if not variable:
        return None
    value = os.environ.get(variable, "").strip()
    if not value and required:
        raise ConfigError(f"{what}: the API key is read from environment variable ${variable}, which is not set")
    return value or None


def adhoc_source(url: str, page_size: int = 1000) -> SourceConfig:
    """A CKAN source for `--source-url`, named after the host, with default settings."""
    clean = _check_url(url, "--source-url", "command line")
    return SourceConfig(name=urlparse(clean).netloc, type="ckan", url=clean, page_size=page_size)


# --- a starting configuration (`harvester init`) ---------------------------------------------

#: data.overheid.nl's environments: the test (acceptance) environment given with a test account,
#: and production
DONL_TEST_URL = "https://test.data.overheid.nl/data"
DONL_PRODUCTION_URL = DEFAULT_TARGET_URL

_STARTING_CONFIG = """\
# harvester configuration: where datasets come from, where they go, where the state is kept.
# Relative paths are relative to this file. API keys never live here: each source or target
# names the environment variable that holds its key (api_key_env).
# Check it with `harvester --config {file} status`; then harvest and plan against `test`.

state = "state/harvester.sqlite"   # the SQLite state store (run reports go to state/reports/)
# profile = "3.0.1"                # validate against the DCAT-AP-NL 3.0.1 working version instead
                                   # of the adopted 3.0 (the default; also: --profile)

# Where the datasets come from: a CKAN 2.9+ action API.
[sources.{source_name}]
type = "ckan"
url = {source_url}
{organization_line}
# page_size = 1000                 # package_search rows per page, 1..1000
# timeout = 30                     # seconds per request
# retries = 4                      # retries after the first attempt (429, 5xx, timeouts)
# full_every_runs = 1              # with no --full/--incremental: every Nth run is full
# api_key_env = "SOURCE_API_KEY"   # only for private datasets: the variable holding the key

# How the source's packages become DCAT-AP-NL 3.0 (harvester.dcat.options.MappingOptions has
# every key; examples/duo-offline.toml is a complete example).
[sources.{source_name}.mapping]
portal_url = {source_url}
# catalog_title = "..."            # the catalogue's title, description and publisher: needed
# catalog_description = "..."      # for `harvester export`
# catalog_publisher = "..."        # a name or URI of the organisations table
# contact_name = "..."             # the contact point of packages that name none
# contact_email = "..."
# access_rights = "public"         # the default access right

# High-value datasets (HVD, Implementing Regulation (EU) 2023/138): by dataset name or CKAN id,
# or by a rule; a category is a code or URI of the EU list (mappings/hvd_categories.csv).
# [sources.{source_name}.high_value]
# "dataset-name" = "c_e1da4e07"    # Statistiek; several: ["c_e1da4e07", "c_b79e35eb"]
# [[sources.{source_name}.high_value_rules]]
# tag = "statistiek"               # or group = "NAME", or field = "FIELD" with value = "VALUE"
# category = "c_e1da4e07"

# data.overheid.nl's test (acceptance) environment: run here first (`--target test`, the
# default when it is the only non-production target). The URL comes with your test account.
[targets.test]
url = {test_url}
api_key_env = "DONL_TEST_API_KEY"  # export DONL_TEST_API_KEY=... (never in this file)
owner_org = {owner_org}
# organizations = {{ other = "its-organisation-on-data-overheid" }}  # more source organisations to publish
# grace_days = 7                   # days gone at the source before a dataset is withdrawn
# withdraw_threshold = 0.10        # withdraw nothing when more than this fraction would go

# data.overheid.nl itself: only used when named (`--target production`).
[targets.production]
url = {production_url}
api_key_env = "DONL_API_KEY"       # export DONL_API_KEY=... (never in this file)
owner_org = {owner_org}
production = true
"""


def starting_config(source_url: str = DEFAULT_SOURCE_URL, organization: str | None = None,
                    owner_org: str | None = None, file_name: str = DEFAULT_CONFIG_NAME) -> str:
    """A commented starting configuration: a CKAN source, data.overheid.nl's test and production
    targets. `organization`: only that organisation's datasets at the source; `owner_org`: the
    data owner's organisation on data.overheid.nl (a placeholder to fill in when not given)."""
    url = _check_url(source_url, "--source-url", "command line")
    quoted = _toml_string
    return _STARTING_CONFIG.format(
        file=file_name,
        source_name=_source_name(url),
        source_url=quoted(url),
        organization_line=(f"organization = {quoted(organization)}  # published under the targets' owner_org"
                           if organization else
                           '# organization = "name"         # the source\'s own organisation: the one published'),
        test_url=quoted(DONL_TEST_URL),
        production_url=quoted(DONL_PRODUCTION_URL),
        owner_org=quoted(owner_org or "FILL-IN-your-organisation-on-data.overheid.nl"),
    )


def write_starting_config(path: Path, source_url: str = DEFAULT_SOURCE_URL, organization: str | None = None,
                          owner_org: str | None = None) -> Path:
    """Write `starting_config` to `path`; an existing file is never overwritten."""
    text = starting_config(source_url, organization, owner_org, path.name)
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; not overwritten (remove it, or write elsewhere with -o)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the configuration: {exc}") from None
    return path


def _source_name(url: str) -> str:
    """A table name for a source at `url`: its host's first label (`onderwijsdata` for
    onderwijsdata.duo.nl), in the characters a bare TOML key allows."""
    host = urlparse(url).hostname or "source"
    label = host.split(".")[0] if not host.replace(".", "").isdigit() else "source"
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in label.lower()).strip("-")
    return cleaned or "source"


def _toml_string(value: str) -> str:
    """`value` as a TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
