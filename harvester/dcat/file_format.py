"""A distribution's file type (dct:format) and media type (dcat:mediaType).

The file type is the one the resource declares (its `format`, else its `mimetype`, in the
formats table) unless the file shows another: its URL's extension, else its mimetype, names a
file type that contradicts the declared one (a `.jpg` labelled PNG). Then the file's type is
used and a warning names the resource, the declared format and the one used. A type the file
shows does not contradict the declared one when it may hold it: an archive, a byte stream or
plain text (`_CONTAINERS`), or the generic form of a structured syntax (JSON for GeoJSON's
application/geo+json, XML for GML's application/gml+xml). Nor can a format without an IANA media
type (a service such as WMS, an API) be contradicted. A resource that declares nothing gets the
type of its URL's extension (a warning), else the `format_fallback`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from rdflib import URIRef

from harvester.dcat.fields import is_http, text_of
from harvester.dcat.package import PackageMapping
from harvester.dcat.rdf import DCAT, DCT, IANA_MEDIA_TYPES
from harvester.dcat.resource import Resource
from harvester.dcat.tables import lookup
from harvester.dcat.terms import term
from harvester.dcat.values import FORMAT, resolve

__all__ = ["add_media_type", "file_type_of", "resource_format"]

_EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
#: file types that may hold a file of any other type: archives, a byte stream, plain text
_CONTAINERS = frozenset(_EU_FILE_TYPE + code for code in
                        ("ZIP", "GZIP", "TAR", "RAR", "7Z", "OCTET", "BIN", "TXT"))
_MIMETYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
#: the extension that names the file type when none is declared (inside a compression suffix)
_URL_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})(?:\.(?:gz|zip|bz2))?$")
#: the extension of the file itself
_LAST_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")


def resource_format(m: PackageMapping, r: Resource, url: str) -> Any:
    """The resource's file type (a formats table entry; None with an issue when there is none)
    for the URL `url` it is published at (see the module docstring)."""
    fmt = text_of(r.res.get("format"))
    mimetype = text_of(r.res.get("mimetype"))
    for value in (fmt, mimetype):
        declared = lookup(m.m.file_format, value)
        if declared is not None:
            return _as_the_file_shows(m, r, url, value, declared)
    if not fmt and not mimetype:
        hit = _format_of_extension(m, r, url)
        if hit is not None:
            return hit
    values = [v for v in (fmt, mimetype) if v]
    found = resolve(m.m, values[:1], f"{r.where}.format", m.issues, FORMAT, m.o)
    return found[0] if found else None


def file_type_of(m: PackageMapping, fmt: Any) -> Any:
    """The formats table's entry of a file type URI (whose label names the type itself)."""
    return lookup(m.m.file_format, fmt.file_type) or fmt


def _as_the_file_shows(m: PackageMapping, r: Resource, url: str, value: str,
                       declared: Any) -> Any:
    """`declared`, unless the URL's extension (else the mimetype) shows a contradicting type."""
    match = _LAST_EXTENSION.search(urlparse(url).path) if url else None
    evidence = [(f"URL's extension .{match.group(1)}", match.group(1))] if match else []
    mimetype = text_of(r.res.get("mimetype"))
    if mimetype and mimetype != value:
        evidence.append((f"mimetype {mimetype}", mimetype))
    for what, key in evidence:
        shown = lookup(m.m.file_format, key)
        if shown is None:
            continue
        if not _contradicts(declared, shown):
            return declared
        used = file_type_of(m, shown).label
        m.issues.warning(f"{r.where}.format", value,
                         f"resource {r.label!r} is labelled {value!r}, but its {what} shows "
                         f"{used}; the file type {used} is used")
        return shown
    return declared


def _contradicts(declared: Any, shown: Any) -> bool:
    if declared.file_type == shown.file_type or shown.file_type in _CONTAINERS:
        return False
    declared_subtype, shown_subtype = _subtype(declared), _subtype(shown)
    if not declared_subtype or not shown_subtype:
        return False
    return not declared_subtype.endswith(f"+{shown_subtype}")


def _subtype(fmt: Any) -> str:
    """The subtype of a file type's IANA media type ("geo+json"); "" when it has none."""
    media = text_of(getattr(fmt, "media_type", None))
    return media.rsplit("/", 1)[-1].lower() if media else ""


def _format_of_extension(m: PackageMapping, r: Resource, url: str) -> Any:
    match = _URL_EXTENSION.search(urlparse(url).path) if url else None
    hit = lookup(m.m.file_format, match.group(1)) if match else None
    if hit is not None:
        m.issues.warning(f"{r.where}.format", match.group(1), "no format or mimetype given; "
                                                              "file type taken from the URL's "
                                                              "extension")
    return hit


def add_media_type(m: PackageMapping, r: Resource, fmt: Any) -> None:
    """dcat:mediaType of a download: the file type's IANA media type, else the mimetype's."""
    media = _media_type_uri(getattr(fmt, "media_type", None)) or \
        _media_type_uri(text_of(r.res.get("mimetype")))
    if media is None:
        m.issues.warning(f"{r.where}.mimetype", text_of(r.res.get("mimetype")) or None,
                         "no IANA media type for this download")
        return
    m.add(r.node, DCAT.mediaType, media)
    m.describe(m.source.concept(str(media), DCT.MediaType, skos_concept=False))


def _media_type_uri(value: str | None) -> URIRef | None:
    value = text_of(value)
    if not value:
        return None
    if is_http(value):
        return term(value)  # described as a concept, whose term this is
    value = value.split(";", 1)[0].strip().lower()
    return term(IANA_MEDIA_TYPES + value) if _MIMETYPE.match(value) else None
