"""Shared test fixtures.

`shared_dir` gives ../shared (the reference material beside the checkout). Where it is absent the
test skips with the reason; under CI=true a missing ../shared is a failure, not a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.ckan_stack.plugin"]

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HARVESTER_SHARED_DIR", REPO.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip the calling test with `reason` unless `condition`; under CI=true fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared reference folder (skip, or fail under CI, when it is absent)."""
    require((SHARED / "reference").is_dir(), f"../shared/reference not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO
