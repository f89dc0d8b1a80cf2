"""One CKAN resource being mapped to a dcat:Distribution: `Resource` and `resource_of`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdflib import URIRef

from harvester.dcat.fields import text_of, uri_part
from harvester.dcat.package import PackageMapping
from harvester.dcat.text import single_line

__all__ = ["Resource", "resource_of"]


@dataclass
class Resource:
    """One resource being mapped: its fields, position, id and distribution URI."""

    res: dict
    where: str  # how issues name its fields: "resources[<position>]"
    rid: str
    uri: str
    node: URIRef
    name: str

    @property
    def label(self) -> str:
        """How a message names the resource: its name, else its id, else its position."""
        return self.name or self.rid or self.where

    def read(self, keys: tuple[str, ...]) -> Any:
        """The first truthy value of the resource fields `keys` (else the last one's value)."""
        value = None
        for key in keys:
            value = value or self.res.get(key)
        return value


def resource_of(m: PackageMapping, res: dict, index: int) -> Resource:
    """The resource at `index` of the package, with its distribution URI
    (`<portal>/dataset/<package id>/resource/<resource id>`, else one by position: a warning)."""
    where = f"resources[{index}]"
    rid = text_of(res.get("id"))
    if rid:
        uri = f"{m.portal}/dataset/{uri_part(m.pkg_id or m.name)}/resource/{uri_part(rid)}"
    else:
        m.issues.warning(f"{where}.id", None, "the resource has no id; its distribution URI is "
                                              "built from its position")
        uri = f"{m.local}/resource/{index}"
    return Resource(res, where, rid, uri, URIRef(uri), single_line(text_of(res.get("name"))))
