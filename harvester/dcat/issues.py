"""What the mapper could not map as-is: MappingIssue, and the list one package's mapping fills."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Issues", "MappingIssue", "issue_value"]


@dataclass(frozen=True)
class MappingIssue:
    """Something the mapper could not map as-is. `severity` "error" marks the dataset invalid."""

    dataset: str
    field: str
    value: str | None
    message: str
    severity: str  # "error" | "warning"

    def __str__(self) -> str:
        value = "" if self.value is None else f" {self.value!r}"
        return f"{self.severity}: {self.dataset}: {self.field}{value}: {self.message}"


class Issues:
    """The issues of one package, in the order they were met."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self.items: list[MappingIssue] = []

    def error(self, field: str, value: Any, message: str) -> None:
        self.items.append(MappingIssue(self.dataset, field, issue_value(value), message, "error"))

    def warning(self, field: str, value: Any, message: str) -> None:
        self.items.append(MappingIssue(self.dataset, field, issue_value(value), message,
                                       "warning"))


def issue_value(value: Any) -> str | None:
    """A value as an issue shows it: strings as they are, anything else as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)
