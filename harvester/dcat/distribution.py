"""A package's resources as dcat:Distributions (documentation, by default, as foaf:pages).

One distribution per resource that is not deleted, at
`<portal_url>/dataset/<package id>/resource/<resource id>`. Its URLs are rewritten by the
`url_rewrites` rules; its file type, media type, licence and languages come from the mapping
tables. docs/mapping.md lists each property, the resource fields it comes from and the rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from rdflib import Literal, URIRef

from harvester.dcat.fields import (
    EMPTY,
    as_list,
    is_http,
    non_negative_int,
    text_of,
    truthy,
    uri_part,
)
from harvester.dcat.issues import issue_value
from harvester.dcat.licence import add_distribution_licence
from harvester.dcat.package import Field, PackageMapping, add_fields
from harvester.dcat.rdf import (
    DCAT,
    DCT,
    FOAF,
    IANA_MEDIA_TYPES,
    RDFS,
    SPDX,
    TABLE_SCHEMA_SPEC,
    TYPE,
    XSD,
)
from harvester.dcat.tables import lookup
from harvester.dcat.terms import term
from harvester.dcat.text import plain_text, single_line
from harvester.dcat.values import FORMAT, resolve

__all__ = ["add_distributions"]

#: the straight resource field -> distribution property rows (the first truthy key wins)
_NAMING = (
    Field(("name",), DCT.title, "title"),
    Field(("description",), DCT.description, "text"),
)
_DATES = (
    Field(("issued", "created"), DCT.issued, "date", field="created"),
    Field(("modified", "last_modified", "metadata_modified"), DCT.modified, "date",
          field="last_modified"),
)
_PAGES = (Field(("documentation",), FOAF.page, "pages"),)

_CHECKSUM_ALGORITHMS = {
    "md5": SPDX.checksumAlgorithm_md5, "sha1": SPDX.checksumAlgorithm_sha1,
    "sha-1": SPDX.checksumAlgorithm_sha1, "sha224": SPDX.checksumAlgorithm_sha224,
    "sha256": SPDX.checksumAlgorithm_sha256, "sha-256": SPDX.checksumAlgorithm_sha256,
    "sha384": SPDX.checksumAlgorithm_sha384, "sha512": SPDX.checksumAlgorithm_sha512,
    "sha-512": SPDX.checksumAlgorithm_sha512,
}
#: a checksum's algorithm when the resource names none: by the number of hex digits
_CHECKSUM_BY_LENGTH = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384",
                       128: "sha512"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_MIMETYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
_URL_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})(?:\.(?:gz|zip|bz2))?$")
#: URLs whose path holds one of these serve the file itself
_DOWNLOAD_PATHS = ("/download/", "/datastore/dump/")
_SERVICE_TYPES = ("api", "service", "webservice")
_WEB_PAGES = ("text/html", "application/xhtml+xml")


@dataclass
class _Resource:
    """One resource being mapped: its fields, position, id and distribution URI."""

    res: dict
    where: str  # how issues name it: "resources[<position>]"
    rid: str
    uri: str
    node: URIRef
    name: str

    def read(self, keys: tuple[str, ...]) -> Any:
        """The first truthy value of the resource fields `keys` (else the last one's value)."""
        value = None
        for key in keys:
            value = value or self.res.get(key)
        return value


def add_distributions(m: PackageMapping) -> None:
    """Map the package's resources; fills `m.distribution_uris` and `m.uses_service`."""
    resources = m.pkg.get("resources")
    if resources is not None and not isinstance(resources, list):
        m.issues.warning("resources", None, "resources is not a list; ignored")
        resources = []
    for index, res in enumerate(resources or []):
        if not isinstance(res, dict) or res.get("state") == "deleted":
            continue
        uri = _distribution(m, _resource(m, res, index))
        if uri:
            m.distribution_uris[text_of(res.get("id")) or f"#{index}"] = uri
    if not m.distribution_uris:
        m.issues.warning("resources", None, "the dataset has no distribution (the package has "
                                            "no resource, or only documentation)")


def _resource(m: PackageMapping, res: dict, index: int) -> _Resource:
    where = f"resources[{index}]"
    rid = text_of(res.get("id"))
    if rid:
        uri = f"{m.portal}/dataset/{uri_part(m.pkg_id or m.name)}/resource/{uri_part(rid)}"
    else:
        m.issues.warning(f"{where}.id", None, "the resource has no id; its distribution URI is "
                                              "built from its position")
        uri = f"{m.local}/resource/{index}"
    return _Resource(res, where, rid, uri, URIRef(uri), single_line(text_of(res.get("name"))))


def _distribution(m: PackageMapping, r: _Resource) -> str | None:
    """Map one resource; its distribution URI, None when it is documentation published as a
    foaf:page (`documentation_as` "page")."""
    url, access, download = (_rewrite(m, text_of(r.res.get(key)), r.rid)
                             for key in ("url", "access_url", "download_url"))
    if url and not is_http(url):
        m.issues.warning(f"{r.where}.url", url, "not an http(s) URL; ignored")
        url = ""
    if url and m.o.documentation_as == "page" and _is_documentation(m, r.res):
        page = m.link(m.ds, FOAF.page, url)
        if r.name:
            m.add(page, DCT.title, m.source.text(r.name))
        return None
    m.add(m.ds, DCAT.distribution, r.node)
    m.add(r.node, TYPE, DCAT.Distribution)
    add_fields(m, r.node, _NAMING, r.read)
    datastore = truthy(r.res.get("datastore_active"))
    _urls_and_format(m, r, url, access, download, datastore)
    add_distribution_licence(m, r.node, r.res)
    _byte_size(m, r)
    _checksum(m, r)
    add_fields(m, r.node, _DATES, r.read, where=f"{r.where}.")
    _languages(m, r)
    _schema(m, r)
    add_fields(m, r.node, _PAGES, r.read)
    _rights(m, r)
    if datastore and m.source.service_uri is not None:
        m.add(r.node, DCAT.accessService, m.source.service_uri)
        m.uses_service = True
    return r.uri


def _rewrite(m: PackageMapping, url: str, rid: str) -> str:
    """`url` rewritten by the first `url_rewrites` rule that applies."""
    for rule in m.o.url_rewrites if url else ():
        new = rule.apply(url, rid, m.pkg_id)
        if new is not None:
            return new
    return url


def _is_documentation(m: PackageMapping, res: dict) -> bool:
    """Whether a resource is documentation (`documentation_types`, `documentation_formats`)."""
    return (text_of(res.get("resource_type")).lower() in m.o.documentation_types
            or text_of(res.get("format")).lower() in m.o.documentation_formats)


# --- URLs, file type, media type ----------------------------------------------------------------


def _urls_and_format(m: PackageMapping, r: _Resource, url: str, access: str, download: str,
                     datastore: bool) -> None:
    """dcat:accessURL, dcat:downloadURL, dct:format and dcat:mediaType."""
    access = access if is_http(access) else ""
    download = download if is_http(download) else ""
    fmt = _format(m, r, download or url)
    if not download and url and _is_download(r.res, fmt, url, datastore):
        download = url
    access = access or url or download or _portal_page(m, r)
    if access:
        m.link(r.node, DCAT.accessURL, access, RDFS.Resource)
    if download:
        m.link(r.node, DCAT.downloadURL, download, RDFS.Resource)
    if fmt is not None:
        m.add(r.node, DCT.format, term(fmt.file_type))
        m.describe(m.source.concept(fmt.file_type, DCT.MediaTypeOrExtent,
                                    label=getattr(fmt, "label", None)))
    if download:
        _media_type(m, r, fmt)


def _portal_page(m: PackageMapping, r: _Resource) -> str:
    """The access URL of a resource without a URL: its page on the portal (which is its
    distribution URI); "" and an error when it has no id either."""
    if not r.rid:
        m.issues.error(f"{r.where}.url", None, "the resource has no URL (dcat:accessURL is "
                                               "mandatory)")
        return ""
    m.issues.warning(f"{r.where}.url", None, "the resource has no URL; its access URL is its "
                                             "page on the portal")
    return r.uri


def _format(m: PackageMapping, r: _Resource, url: str) -> Any:
    """The file type: the resource's format or mimetype in the formats table, else its URL's
    extension (when it gives neither), else the format_fallback."""
    fmt = text_of(r.res.get("format"))
    mimetype = text_of(r.res.get("mimetype"))
    for value in (fmt, mimetype):
        hit = lookup(m.m.file_format, value)
        if hit is not None:
            return hit
    if not fmt and not mimetype:
        hit = _format_of_extension(m, r, url)
        if hit is not None:
            return hit
    values = [v for v in (fmt, mimetype) if v]
    found = resolve(m.m, values[:1], f"{r.where}.format", m.issues, FORMAT, m.o)
    return found[0] if found else None


def _format_of_extension(m: PackageMapping, r: _Resource, url: str) -> Any:
    match = _URL_EXTENSION.search(urlparse(url).path) if url else None
    hit = lookup(m.m.file_format, match.group(1)) if match else None
    if hit is not None:
        m.issues.warning(f"{r.where}.format", match.group(1), "no format or mimetype given; "
                                                              "file type taken from the URL's "
                                                              "extension")
    return hit


def _is_download(res: dict, fmt: Any, url: str, datastore: bool) -> bool:
    """Whether a resource's URL serves the file itself (not a web page or an API)."""
    if datastore or text_of(res.get("url_type")) == "upload" or \
            any(path in url for path in _DOWNLOAD_PATHS):
        return True
    if text_of(res.get("resource_type")).lower() in _SERVICE_TYPES:
        return False
    media = text_of(getattr(fmt, "media_type", None)) or text_of(res.get("mimetype"))
    media = media.rsplit("/media-types/", 1)[-1]
    return bool(media) and media not in _WEB_PAGES and fmt is not None


def _media_type(m: PackageMapping, r: _Resource, fmt: Any) -> None:
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


# --- size, checksum, languages, schema, rights --------------------------------------------------


def _byte_size(m: PackageMapping, r: _Resource) -> None:
    """dcat:byteSize from `size` (when given, else `byte_size`)."""
    size = r.res.get("size")
    size = non_negative_int(size if size not in (None, "") else r.res.get("byte_size"))
    if size is not None:
        m.add(r.node, DCAT.byteSize, Literal(str(size), datatype=XSD.nonNegativeInteger))


def _checksum(m: PackageMapping, r: _Resource) -> None:
    """spdx:checksum from `hash` ("<algorithm>:<hex>" or hex) and `hash_algorithm`."""
    raw = text_of(r.res.get("hash"))
    if not raw:
        return
    name, value = "", raw
    if ":" in raw and not raw.startswith("http"):
        name, value = (part.strip() for part in raw.split(":", 1))
    if not _HEX.match(value):
        m.issues.warning(f"{r.where}.hash", raw, "not a hexadecimal checksum; left out")
        return
    algorithm = _checksum_algorithm(text_of(r.res.get("hash_algorithm")), name.lower(), value)
    if algorithm is None:
        m.issues.warning(f"{r.where}.hash", raw, "checksum algorithm unknown; left out")
        return
    node = URIRef(f"{r.uri}#checksum")
    m.add(r.node, SPDX.checksum, node)
    m.add(node, TYPE, SPDX.Checksum)
    m.add(node, SPDX.algorithm, algorithm)
    m.add(algorithm, TYPE, SPDX.ChecksumAlgorithm)
    m.add(node, SPDX.checksumValue, Literal(value.lower(), datatype=XSD.hexBinary))


def _checksum_algorithm(given: str, prefix: str, value: str) -> URIRef | None:
    if given.startswith(str(SPDX)):
        return URIRef(given)
    return _CHECKSUM_ALGORITHMS.get((given or prefix).lower()) or \
        _CHECKSUM_ALGORITHMS.get(_CHECKSUM_BY_LENGTH.get(len(value), ""))


def _languages(m: PackageMapping, r: _Resource) -> None:
    """dct:language: the resource's own languages in the table, else the dataset's."""
    languages = [lang for lang in (lookup(m.m.language, v) for v in
                                   as_list(r.res.get("language"), split_commas=True))
                 if lang is not None]
    for lang in languages:
        m.add(r.node, DCT.language, term(lang.uri))
        m.describe(m.source.concept(lang.uri, DCT.LinguisticSystem, label=lang.label))
    if not languages:
        for ref in m.languages:
            m.add(r.node, DCT.language, ref)


def _schema(m: PackageMapping, r: _Resource) -> None:
    """dct:conformsTo: the resource's `schema`, a URL or a Frictionless table schema (then
    described as a dct:Standard of its own, with its columns as dct:description)."""
    schema = r.res.get("schema")
    if schema in EMPTY:
        return
    if isinstance(schema, str):
        text = schema.strip()
        if is_http(text):
            m.link(r.node, DCT.conformsTo, text, DCT.Standard)
            return
        try:
            schema = json.loads(text)
        except ValueError:
            m.issues.warning(f"{r.where}.schema", text[:200], "neither a URL nor a JSON table "
                                                              "schema; left out")
            return
    if not isinstance(schema, dict):
        m.issues.warning(f"{r.where}.schema", issue_value(schema)[:200], "not a table schema "
                                                                         "object; left out")
        return
    _table_schema(m, r, schema)


def _table_schema(m: PackageMapping, r: _Resource, schema: dict) -> None:
    std = m.link(r.node, DCT.conformsTo, f"{r.uri}#schema", DCT.Standard)
    title = single_line(text_of(schema.get("title"))) or _schema_title(m, r.name)
    if title:
        m.add(std, DCT.title, m.source.text(title))
    columns = schema.get("fields")
    if isinstance(columns, list) and columns:
        m.link(std, DCT.conformsTo, TABLE_SCHEMA_SPEC, DCT.Standard)
        lines = [line for line in map(_column_line, columns) if line]
        if lines:
            m.add(std, DCT.description, m.source.text("\n".join(lines)))
    if r.rid:
        api = f"{m.portal}/api/3/action/resource_show?id={uri_part(r.rid)}"
        m.link(std, RDFS.seeAlso, api, RDFS.Resource)


def _schema_title(m: PackageMapping, name: str) -> str:
    if not name:
        return ""
    return f"{name} (kolomschema)" if m.source.lang == "nl" else f"{name} (table schema)"


def _column_line(column: Any) -> str:
    """A column of a table schema as "name (type): description" ("" when it has no name)."""
    if not isinstance(column, dict) or not text_of(column.get("name")):
        return ""
    line = text_of(column.get("name"))
    if text_of(column.get("type")):
        line += f" ({text_of(column.get('type'))})"
    description = single_line(text_of(column.get("description")) or text_of(column.get("title")))
    return f"{line}: {description}" if description else line


def _rights(m: PackageMapping, r: _Resource) -> None:
    rights = plain_text(text_of(r.res.get("rights")))
    if rights:
        node = m.link(r.node, DCT.rights, f"{r.uri}#rights", DCT.RightsStatement)
        m.add(node, RDFS.label, m.source.text(rights))
