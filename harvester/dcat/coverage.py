"""When and where a dataset's data is about: dct:temporal and dct:spatial.

Periods come from the `temporal_coverage` list and the temporal_start/temporal_end fields;
places from the `spatial_coverage` list and the spatial_* fields (docs/mapping.md). A period
or place without a usable value is left out.
"""

from __future__ import annotations

import json
from typing import Any

from rdflib import Literal

from harvester.dcat.fields import as_list, is_http, text_of
from harvester.dcat.package import PackageMapping
from harvester.dcat.rdf import DCAT, DCT, GSP, SKOS
from harvester.dcat.text import single_line

__all__ = ["add_spatial", "add_temporal"]

_START_KEYS = ("temporal_start", "temporal_coverage_from", "temporal_coverage-from")
_END_KEYS = ("temporal_end", "temporal_coverage_to", "temporal_coverage-to")
#: (place key, property) of a place's GeoJSON geometries
_GEOMETRIES = (("bbox", DCAT.bbox), ("centroid", DCAT.centroid))


def add_temporal(m: PackageMapping) -> None:
    """Each period with a valid start or end date as a dct:PeriodOfTime."""
    n = 0
    for start, end in _periods(m):
        dates = [(DCAT.startDate, m.date(start, "temporal_start")),
                 (DCAT.endDate, m.date(end, "temporal_end"))]
        dates = [(p, lit) for p, lit in dates if lit is not None]
        if not dates:
            continue
        n += 1
        node = m.link(m.ds, DCT.temporal, f"{m.local}#temporal-{n}", DCT.PeriodOfTime)
        for predicate, lit in dates:
            m.add(node, predicate, lit)


def _periods(m: PackageMapping) -> list[tuple[Any, Any]]:
    """(start, end) of the `temporal_coverage` items, then of the temporal_* fields."""
    periods = [(item.get("start"), item.get("end"))
               for item in as_list(m.pkg.get("temporal_coverage")) if isinstance(item, dict)]
    start, end = m.get(*_START_KEYS), m.get(*_END_KEYS)
    if start or end:
        starts, ends = as_list(start), as_list(end)
        periods.append((starts[0] if starts else None, ends[0] if ends else None))
    return periods


def add_spatial(m: PackageMapping) -> None:
    """Each place with a URI, a name or a geometry as a dct:Location."""
    for n, place in enumerate(_places(m), 1):
        uri = text_of(place.get("uri"))
        properties = _place_properties(m, place)
        if not properties and not is_http(uri):
            continue
        node = m.link(m.ds, DCT.spatial, uri if is_http(uri) else f"{m.local}#spatial-{n}",
                      DCT.Location)
        for predicate, value in properties:
            m.add(node, predicate, value)


def _places(m: PackageMapping) -> list[dict[str, Any]]:
    """The `spatial_coverage` items, then a place of the spatial_* fields."""
    places = [item for item in as_list(m.pkg.get("spatial_coverage")) if isinstance(item, dict)]
    fields = {"uri": text_of(m.get("spatial_uri")), "text": text_of(m.get("spatial_text")),
              "bbox": m.get("spatial_bbox"), "centroid": m.get("spatial_centroid")}
    if any(fields.values()):
        places.append(fields)
    return places


def _place_properties(m: PackageMapping, place: dict[str, Any]) -> list[tuple]:
    properties = []
    label = single_line(text_of(place.get("text")))
    if label:
        properties.append((SKOS.prefLabel, m.source.text(label)))
    for key, predicate in _GEOMETRIES:
        value = place.get(key)
        if isinstance(value, dict):
            value = json.dumps(value, sort_keys=True, separators=(",", ":"))
        if text_of(value):
            properties.append((predicate, Literal(text_of(value), datatype=GSP.geoJSONLiteral)))
    return properties
