"""The configuration file: defaults, relative paths, and errors that name file, key and expectation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harvester.config import (
    adhoc_source,
    api_key_from_env,
    load_config,
    starting_config,
    write_starting_config,
)
from harvester.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "harvester.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'state = "st/h.sqlite"\n[sources.d]\ntype = "dump"\npath = "data/d.json"\n')
    cfg = load_config(path)
    assert cfg.state == tmp_path / "st" / "h.sqlite"
    assert cfg.source("d").path == tmp_path / "data" / "d.json"
    assert cfg.reports == tmp_path / "st" / "reports"


def test_defaults_without_sources_give_the_duo_ckan(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))
    src = cfg.source(None)
    assert src.type == "ckan" and src.url == "https://onderwijsdata.duo.nl" and src.page_size == 1000


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[sources.x]\nurl = "http://example.org/ckan/"\n', "other.toml")
    monkeypatch.setenv("HARVESTER_CONFIG", str(path))
    cfg = load_config()
    assert cfg.path == path and cfg.source("x").url == "http://example.org/ckan"


def test_no_configuration_anywhere_is_an_error_saying_where_it_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARVESTER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config()
    message = str(info.value)
    assert "no configuration file found" in message and str(tmp_path / "harvester.toml") in message
    assert "--config" in message and "$HARVESTER_CONFIG" in message and "`harvester init`" in message
    assert info.value.exit_code == 4


def test_the_builtin_defaults_only_when_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARVESTER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    cfg = load_config(allow_defaults=True)
    assert cfg.path is None and cfg.state == tmp_path / "harvester-state.sqlite"


def test_explicit_missing_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"nope.toml: configuration file not found \(named by --config\)"):
        load_config(tmp_path / "nope.toml", allow_defaults=True)
    monkeypatch.setenv("HARVESTER_CONFIG", str(tmp_path / "env.toml"))
    with pytest.raises(ConfigError, match=r"env.toml: configuration file not found \(named by \$HARVESTER_CONFIG\)"):
        load_config()


def test_the_starting_configuration_loads_and_is_never_written_over(tmp_path: Path) -> None:
    path = write_starting_config(tmp_path / "h.toml", "http://127.0.0.1:5000/ckan/", 'a "quoted" org', "de-eigenaar")
    cfg = load_config(path)
    assert cfg.source("source").url == "http://127.0.0.1:5000/ckan" and cfg.source("source").organization == 'a "quoted" org'
    assert cfg.state == tmp_path / "state" / "harvester.sqlite"
    assert {t.name: (t.url, t.owner_org, t.production) for t in cfg.targets.values()} == {
        "test": ("https://test.data.overheid.nl/data", "de-eigenaar", False),
        "production": ("https://data.overheid.nl/data", "de-eigenaar", True)}
    default = starting_config()
    assert "[sources.onderwijsdata]" in default and 'url = "https://onderwijsdata.duo.nl"' in default
    assert "FILL-IN" in default  # no owner organisation given: a placeholder to fill in
    with pytest.raises(ConfigError, match="already exists; not overwritten"):
        write_starting_config(path)
    with pytest.raises(ConfigError, match="--source-url"):
        starting_config("ftp://example.org")


@pytest.mark.parametrize(
    "text, message",
    [
        ("state = [", "not valid TOML"),
        ("colour = 'red'", "unknown key 'colour'; expected one of"),
        ("[sources.d]\nurll = 'x'", r"\[sources.d\]: unknown key 'urll'"),
        ("[sources.d]\npage_size = 5000", r"\[sources.d\]: key 'page_size' must be between 1 and 1000, got 5000"),
        ("[sources.d]\npage_size = 'ten'", "key 'page_size' must be a int, got 'ten'"),
        ("[sources.d]\nurl = 'ftp://x'", "key 'url' must be an http\\(s\\) URL"),
        ("[sources.d]\ntype = 'dump'", "a dump source needs key 'path'"),
        ("[sources.d]\ntype = 'oai'", "key 'type' must be 'ckan' or 'dump'"),
        ("[sources.d]\ntimeout = 0", "key 'timeout' must be > 0"),
        ("[targets.t]\nurl = 'http://x'", "key 'owner_org' is required"),
        ("[targets.t]\nowner_org = 'o'\nwithdraw_threshold = 2", "fraction between 0 and 1"),
        ("[targets.t]\nowner_org = 'o'\napi_key = 'secret'", "unknown key 'api_key'"),
    ],
)
def test_errors_name_file_key_and_expectation(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_unknown_source_and_target_names(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[sources.a]\n[targets.production]\nowner_org = 'o'\n"))
    with pytest.raises(ConfigError, match="no source named 'b' \\(configured: a\\)"):
        cfg.source("b")
    with pytest.raises(ConfigError, match="production target is only used when named explicitly"):
        cfg.target(None)
    assert cfg.target("production").production is True


def test_api_key_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "s3cret")
    assert api_key_from_env("MY_KEY", "target t", required=True) == "s3cret"
    monkeypatch.delenv("MY_KEY")
    with pytest.raises(ConfigError, match=r"environment variable \$MY_KEY, which is not set") as info:
        api_key_from_env("MY_KEY", "target t", required=True)
    assert "s3cret" not in str(info.value)


def test_adhoc_source_is_named_after_the_host() -> None:
    src = adhoc_source("https://data.example.org/")
    assert src.name == "data.example.org" and src.url == "https://data.example.org"
    with pytest.raises(ConfigError, match="--source-url"):
        adhoc_source("not a url")


@pytest.mark.parametrize("value", ["'auto'", "2", "'many'"])
def test_the_workers_key_is_ignored_with_one_warning(tmp_path: Path, caplog, value: str) -> None:
    """Configuration files written for the worker processes still load, whatever they say."""
    with caplog.at_level(logging.WARNING, logger="harvester.config"):
        cfg = load_config(write(tmp_path, f"[sources.d]\nworkers = {value}\n"))
    assert cfg.source("d").name == "d" and not hasattr(cfg.source("d"), "workers")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "[sources.d]: workers: ignored; " in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="harvester.config"):
        load_config(write(tmp_path, "[sources.d]\npage_size = 10\n"))
    assert not caplog.records


# --- the DCAT-AP-NL profile ------------------------------------------------------------------


def test_the_profile_is_the_adopted_3_0_unless_the_file_chooses_another(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).profile == "3.0"
    assert load_config(write(tmp_path, 'profile = "3.0.1"\n')).profile == "3.0.1"
    assert load_config(write(tmp_path, 'profile = "3.0"\n')).profile == "3.0"


@pytest.mark.parametrize("value, message", [
    ('"3.1"', r"key 'profile': unknown DCAT-AP-NL profile '3\.1'; expected one of: '3\.0', '3\.0\.1'"),
    ("3.0", "key 'profile' must be a str, got 3.0"),  # a TOML float, not the string "3.0"
])
def test_an_unknown_profile_is_an_error_naming_file_and_key(tmp_path: Path, value: str, message: str) -> None:
    path = write(tmp_path, f"profile = {value}\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_the_starting_configuration_names_the_profile_in_a_comment(tmp_path: Path) -> None:
    text = starting_config()
    assert '# profile = "3.0.1"' in text
    path = write(tmp_path, text.replace('# profile = "3.0.1"', 'profile = "3.0.1"'))
    assert load_config(path).profile == "3.0.1"
