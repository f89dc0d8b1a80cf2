"""The source catalogue's context that every package refers to: organisations, groups, licences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceContext:
    """What a CKAN source says about the things its packages point at, fetched once per run.

    `organizations` is keyed by organisation name (and also reachable by id through
    `organization()`), `groups` by group name, `licenses` by licence id. `base_url` is the
    portal's base URL (e.g. https://onderwijsdata.duo.nl), used to build stable URIs.
    """

    base_url: str
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    licenses: dict[str, dict[str, Any]] = field(default_factory=dict)

    def organization(self, key: str | None) -> dict[str, Any] | None:
        """The organisation dict for a name or id, or None when unknown."""
        if not key:
            return None
        if key in self.organizations:
            return self.organizations[key]
        for org in self.organizations.values():
            if org.get("id") == key:
                return org
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "organizations": self.organizations,
            "groups": self.groups,
            "licenses": self.licenses,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SourceContext":
        return cls(
            base_url=data.get("base_url", ""),
            organizations=dict(data.get("organizations") or {}),
            groups=dict(data.get("groups") or {}),
            licenses=dict(data.get("licenses") or {}),
        )
