"""Licences: the dataset's own (dct:license on the dcat:Dataset) and each distribution's.

The package's licence comes from, in turn: a `licence_overrides` entry for its id or name, its
`license_id` (and the licence URL the source context gives that id), `license_url`, the
`license` extra; the first that is in the licences table wins, else `licence_fallback` (a
warning), else an error. A distribution has its resource's own `license` / `license_id`, else
the package's. Each value is looked up, and reported, once per package.

DCAT-AP-NL 3.0 gives dct:license to dcat:Distribution (and dcat:DataService, dcat:Catalog) only;
the package's licence is also stated on the dcat:Dataset, the dct:license that DCAT 3 defines for
every dcat:Resource, so that a dataset without distributions keeps its licence (docs/mapping.md,
"The dataset's licence", says why this and not the catalogue record or dct:rights).
"""

from __future__ import annotations

from typing import Any

from rdflib import URIRef

from harvester.dcat.fields import text_of
from harvester.dcat.package import PackageMapping
from harvester.dcat.rdf import DCT
from harvester.dcat.tables import lookup
from harvester.dcat.terms import term
from harvester.dcat.values import LICENCE, resolve

__all__ = ["add_dataset_licence", "add_distribution_licence"]

#: the key of the package's licence in PackageMapping.licences
_PACKAGE = "package"


def add_dataset_licence(m: PackageMapping) -> None:
    """dct:license of the dataset: the package's licence. Runs after the distributions: when the
    package names none and every distribution has a licence of its own, the dataset gets none
    and nothing is reported; otherwise a missing licence is reported as for a distribution."""
    if not _package_licences(m) and m.distribution_uris and _PACKAGE not in m.licences:
        return
    _add(m, m.ds, _package_licence(m))


def add_distribution_licence(m: PackageMapping, node: URIRef, res: dict) -> None:
    """dct:license of a distribution: its resource's own licence, else the package's."""
    own = text_of(res.get("license") or res.get("license_id"))
    if not own:
        _add(m, node, _package_licence(m))
        return
    key = f"resource:{own}"
    if key not in m.licences:
        m.licences[key] = _licence_lookup(m, [own], "license")
    _add(m, node, m.licences[key])


def _add(m: PackageMapping, node: URIRef, licence: Any) -> None:
    if licence is not None:
        m.add(node, DCT.license, term(licence.uri))
        m.describe(m.source.licence(licence))


def _package_licence(m: PackageMapping) -> Any:
    """The licences table's entry for the package's licence (looked up once); None when there
    is none (an issue says why)."""
    if _PACKAGE not in m.licences:
        m.licences[_PACKAGE] = _licence_lookup(m, _package_licences(m), "license_id")
    return m.licences[_PACKAGE]


def _package_licences(m: PackageMapping) -> list[str]:
    """The values naming the package's licence, in the order they are looked up."""
    pkg, overrides = m.pkg, m.o.licence_overrides
    override = overrides.get(text_of(pkg.get("id"))) or overrides.get(text_of(pkg.get("name")))
    if override:
        return [override]
    values: list[str] = []
    licence_id = text_of(pkg.get("license_id"))
    if licence_id:
        values.append(licence_id)
        known = m.context.licenses.get(licence_id) if m.context is not None else None
        if isinstance(known, dict) and text_of(known.get("url")):
            values.append(text_of(known.get("url")))
    values += [v for v in (text_of(pkg.get("license_url")), text_of(m.extras.get("license")))
               if v]
    return values


def _licence_lookup(m: PackageMapping, values: list[str], field: str) -> Any:
    for value in values:
        hit = lookup(m.m.licence, value)
        if hit is not None:
            return hit
    found = resolve(m.m, values[:1], field, m.issues, LICENCE, m.o)
    return found[0] if found else None
