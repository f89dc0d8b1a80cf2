"""A package's resources as dcat:Distributions (documentation, by default, as foaf:pages).

One distribution per resource that is not deleted, at
`<portal_url>/dataset/<package id>/resource/<resource id>`. Its URLs are rewritten by the
`url_rewrites` rules; its file type, media type, licence and languages come from the mapping
tables. docs/mapping.md lists each property, the resource fields it comes from and the rules.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlparse

from rdflib import Literal, URIRef

from harvester.dcat.fields import as_list, is_http, non_negative_int, text_of, truthy
from harvester.dcat.file_format import add_media_type, file_type_of, resource_format
from harvester.dcat.licence import add_distribution_licence
from harvester.dcat.package import Field, PackageMapping, add_fields
from harvester.dcat.rdf import DCAT, DCT, FOAF, RDFS, SPDX, TYPE, XSD
from harvester.dcat.resource import Resource, resource_of
from harvester.dcat.schema import add_schema, column_names, read_schema
from harvester.dcat.tables import lookup
from harvester.dcat.terms import term
from harvester.dcat.text import plain_text

__all__ = ["add_distributions"]

#: the straight resource field -> distribution property rows (the first truthy key wins)
_NAMING = (Field(("name",), DCT.title, "title"),)
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
#: a file name at the end of a URL's path: a name with an extension
_FILE_NAME = re.compile(r"^[^/]+\.[A-Za-z0-9]{1,8}$")
#: how a resource without a description is described, by metadata language (else English):
#: (one column, more columns, a file of a type)
_SUMMARY_WORDS = {"nl": ("kolom", "kolommen", "{}-bestand"),
                  "en": ("column", "columns", "{} file")}
#: the most columns a summary names
SUMMARY_COLUMNS = 10
#: URLs whose path holds one of these serve the file itself
_DOWNLOAD_PATHS = ("/download/", "/datastore/dump/")
_SERVICE_TYPES = ("api", "service", "webservice")
_WEB_PAGES = ("text/html", "application/xhtml+xml")


def add_distributions(m: PackageMapping) -> None:
    """Map the package's resources; fills `m.distribution_uris` and `m.uses_service`."""
    resources = m.pkg.get("resources")
    if resources is not None and not isinstance(resources, list):
        m.issues.warning("resources", None, "resources is not a list; ignored")
        resources = []
    for index, res in enumerate(resources or []):
        if not isinstance(res, dict) or res.get("state") == "deleted":
            continue
        uri = _distribution(m, resource_of(m, res, index))
        if uri:
            m.distribution_uris[text_of(res.get("id")) or f"#{index}"] = uri
    if not m.distribution_uris:
        m.issues.warning("resources", None, "the dataset has no distribution (the package has "
                                            "no resource, or only documentation)")


def _distribution(m: PackageMapping, r: Resource) -> str | None:
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
    fmt = _urls_and_format(m, r, url, access, download, datastore)
    schema = read_schema(m, r)
    _description(m, r, fmt, schema)
    add_distribution_licence(m, r.node, r.res)
    _byte_size(m, r)
    _checksum(m, r)
    add_fields(m, r.node, _DATES, r.read, where=f"{r.where}.")
    _languages(m, r)
    add_schema(m, r, schema)
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


def _urls_and_format(m: PackageMapping, r: Resource, url: str, access: str, download: str,
                     datastore: bool) -> Any:
    """dcat:accessURL, dcat:downloadURL, dct:format and dcat:mediaType; the file type."""
    access = access if is_http(access) else ""
    download = download if is_http(download) else ""
    fmt = resource_format(m, r, download or url)
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
        add_media_type(m, r, fmt)
    return fmt


def _portal_page(m: PackageMapping, r: Resource) -> str:
    """The access URL of a resource without a URL: its page on the portal (which is its
    distribution URI); "" and an error when it has no id either."""
    if not r.rid:
        m.issues.error(f"{r.where}.url", None, "the resource has no URL (dcat:accessURL is "
                                               "mandatory)")
        return ""
    m.issues.warning(f"{r.where}.url", None, "the resource has no URL; its access URL is its "
                                             "page on the portal")
    return r.uri


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


# --- description --------------------------------------------------------------------------------


def _description(m: PackageMapping, r: Resource, fmt: Any, schema: dict | str | None) -> None:
    """dct:description: the resource's own `description`, else what `_summary` says."""
    text = plain_text(text_of(r.res.get("description"))) or _summary(m, r, fmt, schema)
    if text:
        m.add(r.node, DCT.description, m.source.text(text))


def _summary(m: PackageMapping, r: Resource, fmt: Any,
             schema: dict | str | None) -> str:
    """What a resource without a description holds, in the metadata's language: its file type
    and its columns when its table schema names them ("CSV, 12 kolommen: PEILJAAR, ..."), else
    its file type and file name ("CSV-bestand adressen_so.csv"); "" when it shows neither."""
    one, many, file_of = _SUMMARY_WORDS.get(m.source.lang, _SUMMARY_WORDS["en"])
    label = file_type_of(m, fmt).label if fmt is not None else ""
    columns = column_names(schema)
    if columns:
        named = ", ".join(columns[:SUMMARY_COLUMNS]) + \
            (", ..." if len(columns) > SUMMARY_COLUMNS else "")
        held = f"{len(columns)} {one if len(columns) == 1 else many}: {named}"
        return f"{label}, {held}" if label else held
    kind = file_of.format(label) if label and getattr(fmt, "media_type", None) else label
    return " ".join(part for part in (kind, _file_name(r)) if part)


def _file_name(r: Resource) -> str:
    """The name of the resource's file: the end of its (source) URL's path, when that has an
    extension."""
    for key in ("url", "download_url"):
        name = unquote(urlparse(text_of(r.res.get(key))).path.rsplit("/", 1)[-1])
        if _FILE_NAME.match(name):
            return name
    return ""


# --- size, checksum, languages, rights ----------------------------------------------------------


def _byte_size(m: PackageMapping, r: Resource) -> None:
    """dcat:byteSize from `size` (when given, else `byte_size`)."""
    size = r.res.get("size")
    size = non_negative_int(size if size not in (None, "") else r.res.get("byte_size"))
    if size is not None:
        m.add(r.node, DCAT.byteSize, Literal(str(size), datatype=XSD.nonNegativeInteger))


def _checksum(m: PackageMapping, r: Resource) -> None:
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


def _languages(m: PackageMapping, r: Resource) -> None:
    """dct:language: the resource's own languages in the table, else the dataset's language when
    the dataset has exactly one. The adopted DCAT-AP-NL 3.0 allows a distribution one language
    (doc/klassen/dcatDistribution/prop/language.md); a dataset in several languages does not say
    which of them a file is in, so its distributions are given none rather than all."""
    languages = [lang for lang in (lookup(m.m.language, v) for v in
                                   as_list(r.res.get("language"), split_commas=True))
                 if lang is not None]
    for lang in languages:
        m.add(r.node, DCT.language, term(lang.uri))
        m.describe(m.source.concept(lang.uri, DCT.LinguisticSystem, label=lang.label))
    if not languages and len(m.languages) == 1:
        m.add(r.node, DCT.language, m.languages[0])


def _rights(m: PackageMapping, r: Resource) -> None:
    rights = plain_text(text_of(r.res.get("rights")))
    if rights:
        node = m.link(r.node, DCT.rights, f"{r.uri}#rights", DCT.RightsStatement)
        m.add(node, RDFS.label, m.source.text(rights))
