"""pytest plugin: fixtures that run tests against real local CKAN 2.12 instances.

Register in tests/conftest.py with `pytest_plugins = ["tests.ckan_stack.plugin"]`. Fixtures:

- `ckan_stack` (session): the started CkanStack (PostgreSQL, Redis, Solr stand-in).
- `ckan_source`: a plain CKAN like DUO's, emptied before each test; a CkanSite with `.url`,
  `.api_key`, `.ckan` (ckanapi.RemoteCKAN as sysadmin), `.action(name, **data)`, `.reset()`,
  `.seed(dump)`, `.seed_file(path)`, `.sql(statement)`.
- `ckan_target_factory`: `factory(schema_path=TINY_SCHEMA, extra_plugins=(), extra_config=None,
  python_path=())` gives a CkanSite running `scheming_datasets` with that dataset schema (plus
  the extra plugins, ini options, and folders on the CKAN processes' PYTHONPATH); one instance
  per distinct argument set per session, emptied on every call.

When the stack's prerequisites are missing the fixtures skip, naming what is missing and how to
install it; under CI=true they fail instead. A stack that is installed but fails to start is
always an error, with the tail of the relevant log. Tests using these fixtures get the `ckan`
marker, so `-m "not ckan"` deselects them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .seeding import CkanSite
from .stack import CkanStack, StackUnavailable

CKAN_FIXTURES = {"ckan_stack", "ckan_source", "ckan_target_factory"}
TINY_SCHEMA = Path(__file__).resolve().parent / "tiny_schema.yaml"


def in_ci() -> bool:
    """Whether the run is CI's (CI=true), where a missing stack is a failure."""
    return os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that requests a CKAN fixture with `ckan`."""
    for item in items:
        if CKAN_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.ckan)


@pytest.fixture(scope="session")
def ckan_stack() -> Iterator[CkanStack]:
    """The local CKAN stack, started once per test run and stopped at its end."""
    stack = CkanStack()
    try:
        stack.start()
    except StackUnavailable as exc:
        message = f"CKAN stack unavailable: {exc}"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def _ckan_source_site(ckan_stack: CkanStack) -> CkanSite:
    """The session's single `source` instance."""
    return CkanSite(ckan_stack, ckan_stack.add_instance("source", kind="source"))


@pytest.fixture
def ckan_source(_ckan_source_site: CkanSite) -> CkanSite:
    """The plain source CKAN, emptied (datasets, organisations, groups purged) for this test."""
    _ckan_source_site.reset()
    return _ckan_source_site


@pytest.fixture(scope="session")
def _ckan_targets(ckan_stack: CkanStack) -> dict[tuple[Any, ...], CkanSite]:
    """Target instances started so far in this session, by their arguments."""
    return {}


@pytest.fixture
def ckan_target_factory(ckan_stack: CkanStack,
                        _ckan_targets: dict[tuple[Any, ...], CkanSite]) -> Callable[..., CkanSite]:
    """A factory of scheming target CKANs (see the module docstring for its arguments)."""

    def factory(schema_path: str | Path = TINY_SCHEMA, extra_plugins: Iterable[str] = (),
                extra_config: dict[str, str] | None = None,
                python_path: Iterable[str] = ()) -> CkanSite:
        """A running target instance for these arguments, emptied."""
        key = (str(Path(schema_path).resolve()), tuple(extra_plugins),
               tuple(sorted((extra_config or {}).items())),
               tuple(str(Path(p).resolve()) for p in python_path))
        if key not in _ckan_targets:
            name = f"target{len(_ckan_targets) + 1}"
            instance = ckan_stack.add_instance(name, kind="target",
                                               scheming_schema=str(schema_path),
                                               extra_plugins=extra_plugins,
                                               extra_config=extra_config,
                                               python_path=python_path)
            _ckan_targets[key] = CkanSite(ckan_stack, instance)
        site = _ckan_targets[key]
        site.reset()
        return site

    return factory
