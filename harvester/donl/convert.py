"""Stage 4, the target package: one DCAT-AP-NL 3.0 dataset graph -> a data.overheid.nl package.

data.overheid.nl's CKAN (ckanext-dataoverheid 2.2.2, the DCAT-AP-DONL 1.1 schema) takes flat
package fields (`identifier`, `authority`, `contact_point_name`, `theme`, ...) and resources with
`format`, `media_type`, `download_url`, ... Its validators, and what they answer, are described in
../shared/reference/donl/validator-behaviour.md; this module follows that behaviour.

    target = to_target(mapped, mappings)            # reads mapped.graph, not the CKAN dict
    body = target.package(name, owner_org, resource_ids)
    problems = check_package(body)                  # [] when data.overheid.nl would accept it
    canonical_hash(body); diff_packages(body, package_show_result)

`to_target` converts what the graph says and never invents a value: a mandatory DONL field the
graph has no value for is left out, so `check_package` reports it ("Missing value"), exactly as
data.overheid.nl would. Conversion choices:

* theme: only OWMS TaxonomieBeleidsagenda URIs are sent (data.overheid.nl refuses EU data-theme
  URIs, case 4c). EU themes are dropped; when no OWMS theme is left, the themes table's OWMS
  themes for the EU themes are used.
* publisher <- dct:publisher; authority <- dct:rightsHolder, else dct:creator. An agent whose URI
  is not in the DONL organisation list is looked up in the organisations table (by URI, then by
  foaf:name) and in the DONL list's labels; when nothing matches its URI is sent as it is (and
  check_package reports it).
* license_id: the dataset's dct:license, else its distributions' licence (the most frequent;
  ties by URI), translated to the DONL licence value (licences table, column donl).
* language/frequency/access_rights: the table's `donl` value for the graph's URI.
* metadata_language: the catalogue record's dct:language, else the language tag that most of the
  dataset's title and description literals carry (the same for every resource); text fields and
  tags are taken in that language.
* dates: `%Y-%m-%dT%H:%M:%S` without zone or fraction. Zoned date-times are converted to UTC; a
  date becomes midnight (a period's end: 23:59:59); xsd:gYear / gYearMonth become the first (end:
  the last) second of that year or month.
* tags: dcat:keyword; characters data.overheid.nl refuses in a tag become spaces (`issues`
  notes every change); keywords shorter than 2 characters are left out, longer than 100 cut.
* spatial_scheme/spatial_value: dct:spatial URIs that are in one of data.overheid.nl's spatial
  value lists (others are left out, with a note). NOTE: ckanext-dataoverheid 2.2.2 answers HTTP
  500 to any package with both fields (validator-behaviour.md cases 3a, 4y); `to_target(...,
  spatial=False)` leaves them out.
* dataset_status: the dataset's adms:status (EU dataset-status), else "beschikbaar" when the
  dataset has a distribution, else left to the target's default.
* resources, one per dcat:Distribution in the source's resource order: url <- dcat:accessURL
  (else the first download URL), name/description <- dct:title/dct:description,
  format <- dct:format (EU file type), media_type <- dcat:mediaType (IANA URI), download_url,
  size, release_date/modification_date <- dct:issued/dct:modified, language (else the
  dataset's), license_id, linked_schemas <- dct:conformsTo (not the distribution's own #nodes),
  documentation, hash/hash_algorithm, status, rights.

`check_package` applies data.overheid.nl's rules to a package body, as data: a rule per field
(mandatory or not, single value or list, string / URI / date / integer / boolean, value list),
the cross-field rules (contact point, period, legal foundation, spatial, rights, checksum), the
CKAN core rules for `name` and `tags`. Messages are data.overheid.nl's own text. Value lists come
from mappings/donl-vocabularies.csv, which says which mapping-table column (or row set of
mappings/donl-valuelists.csv) holds each list.

Not modelled: `source_catalog` (DONL:Catalogs is unknown; we never send it) and
`distribution_type` value lists, `owner_org` existence and name uniqueness (only the target
knows), `date_planned` (ckanext-dataoverheid 2.2.2's rule never fires), the HTTP 500 on spatial.

`canonical_hash` / `diff_packages` compare packages after `normalise_package`: without
TARGET_MANAGED_FIELDS, the defaults the target fills in, empty values and key order, so that what
we send and what package_show gives back for it hash the same (tests/test_donl_standin.py checks
this against the stand-in).
"""

from __future__ import annotations

import calendar
import copy
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rdflib import Literal, URIRef

from harvester.config import MAPPINGS_DIR
from harvester.dcat.mapper import TripleView
from harvester.dcat.tables import lookup as _lookup
from harvester.dcat.terms import term
from harvester.errors import MappingError
from harvester.version import LOGIC_VERSION

__all__ = [
    "DATASET_FIELDS",
    "DATE_FORMAT",
    "RESOURCE_FIELDS",
    "TARGET_MANAGED_FIELDS",
    "FieldChange",
    "FieldProblem",
    "TargetDataset",
    "TargetResource",
    "ValueLists",
    "canonical_hash",
    "check_package",
    "diff_packages",
    "donl_date",
    "load_value_lists",
    "normalise_package",
    "package_key",
    "problems_from_errors",
    "to_target",
    "value_lists_fingerprint",
    "value_lists_for",
]

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
AVAILABLE = "http://data.overheid.nl/status/beschikbaar"
PUBLIC = "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"

# --- vocabulary terms ---------------------------------------------------------------------------

_ADMS = "http://www.w3.org/ns/adms#"
_DCAT = "http://www.w3.org/ns/dcat#"
_DCATAP = "http://data.europa.eu/r5r/"
_DCT = "http://purl.org/dc/terms/"
_FOAF = "http://xmlns.com/foaf/0.1/"
_OWL = "http://www.w3.org/2002/07/owl#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SCHEMA = "http://schema.org/"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_SPDX = "http://spdx.org/rdf/terms#"
_VCARD = "http://www.w3.org/2006/vcard/ns#"
_XSD = "http://www.w3.org/2001/XMLSchema#"


@lru_cache(maxsize=None)  # a fixed set of vocabulary terms, looked up for every dataset
def _u(base: str, name: str) -> URIRef:
    return term(base + name)


#: EU dataset-status (adms:status on a dataset) -> data.overheid.nl dataset_status
_DATASET_STATUS = {
    "http://publications.europa.eu/resource/authority/dataset-status/COMPLETED": AVAILABLE,
    "http://publications.europa.eu/resource/authority/dataset-status/DEVELOP":
        "http://data.overheid.nl/status/in_onderzoek",
    "http://publications.europa.eu/resource/authority/dataset-status/DEPRECATED":
        "http://data.overheid.nl/status/niet_beschikbaar",
    "http://publications.europa.eu/resource/authority/dataset-status/WITHDRAWN":
        "http://data.overheid.nl/status/niet_beschikbaar",
}
#: data.overheid.nl's spatial schemes: the value list each checks its values against, or a regex
#: (ckanext-dataoverheid config.json "spatial" and "regex")
SPATIAL_SCHEMES: dict[str, tuple[str, str]] = {
    "http://standaarden.overheid.nl/owms/4.0/doc/waardelijsten/overheid.gemeente":
        ("list", "Overheid:SpatialGemeente"),
    "http://standaarden.overheid.nl/owms/4.0/doc/waardelijsten/overheid.koninkrijksdeel":
        ("list", "Overheid:SpatialKoninkrijksdeel"),
    "http://standaarden.overheid.nl/owms/4.0/doc/waardelijsten/overheid.provincie":
        ("list", "Overheid:SpatialProvincie"),
    "http://standaarden.overheid.nl/owms/4.0/doc/waardelijsten/overheid.waterschap":
        ("list", "Overheid:SpatialWaterschap"),
    "http://standaarden.overheid.nl/owms/4.0/doc/syntax-codeerschemas/overheid.epsg28992":
        ("regex", r"^\d{6}(\.\d{3})? \d{6}(\.\d{3})?$"),
    "http://standaarden.overheid.nl/owms/4.0/doc/syntax-codeerschemas/overheid.postcodehuisnummer":
        ("regex", r"^[1-9]\d{3}([A-Z]{2}(\d+(\S+)?)?)?$"),
}
#: the order in which a dct:spatial URI is looked for in the spatial lists
_SPATIAL_LOOKUP = ("koninkrijksdeel", "provincie", "waterschap", "gemeente")


# --- data classes -------------------------------------------------------------------------------


@dataclass
class TargetResource:
    """One dcat:Distribution as a data.overheid.nl resource."""

    distribution_uri: str
    fields: dict[str, Any]


@dataclass
class TargetDataset:
    """One dataset as a data.overheid.nl package, without the target's name and organisation."""

    identifier: str
    source_name: str
    fields: dict[str, Any]
    resources: list[TargetResource]
    #: what the conversion changed or left out, for a person to read (never errors)
    issues: list[str] = field(default_factory=list)

    def package(self, name: str, owner_org: str,
                resource_ids: dict[str, str] | None = None) -> dict[str, Any]:
        """The package_create / package_update body. `resource_ids` (distribution URI -> target
        resource id) keeps the target's resource ids across updates."""
        resource_ids = resource_ids or {}
        body: dict[str, Any] = {"name": name, "owner_org": owner_org}
        body.update(_copy_json(self.fields))
        resources = []
        for res in self.resources:
            item: dict[str, Any] = {}
            rid = resource_ids.get(res.distribution_uri)
            if rid:
                item["id"] = rid
            item.update(_copy_json(res.fields))
            resources.append(item)
        body["resources"] = resources
        return body


@dataclass(frozen=True)
class FieldProblem:
    """A field data.overheid.nl would refuse, with its message. Resource fields are named
    `resources[<index>].<field>`."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class FieldChange:
    """A field-level difference: `old` is the target's value, `new` ours (None: absent)."""

    field: str
    old: Any
    new: Any


# --- value lists --------------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a mapping table (comment lines starting with `#` and blank lines skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read value-list table: {exc}") from exc
    lines = [line for line in text.splitlines(keepends=True)
             if line.strip() and not line.lstrip().startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(io.StringIO("".join(lines)))]


@dataclass(frozen=True)
class ValueLists:
    """data.overheid.nl's value lists, by the name its messages use."""

    lists: Mapping[str, frozenset[str]]
    #: DONL:Organization label (lower-cased) -> URI, for agents the graph names but not by URI
    organisation_labels: Mapping[str, str]
    fingerprint: str

    def contains(self, name: str, value: Any) -> bool:
        return str(value) in self.lists.get(name, frozenset())

    def values(self, name: str) -> frozenset[str]:
        return self.lists.get(name, frozenset())

    @cached_property
    def content_digest(self) -> str:
        """A digest of what the lists hold (unlike `fingerprint`, the same for tables that
        changed in what no list takes from them)."""
        text = json.dumps([sorted((name, sorted(values)) for name, values in self.lists.items()),
                           sorted(self.organisation_labels.items())], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def package_key(target_json: bytes, lists: ValueLists) -> str:
    """A result's key from its target dataset's stored JSON: the same key means the same target
    package, whatever else changed (the mapping tables, the shapes: a result they left as it
    was keeps its key, so the plan sees it unchanged without building its package). Part of the
    key are what makes a package of the JSON and checks it before it is sent: the logic's
    version (harvester.version.LOGIC_VERSION) and what data.overheid.nl's value lists hold."""
    parts = (LOGIC_VERSION.encode(), lists.content_digest.encode(), target_json)
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def load_value_lists(path: str | Path | None = None) -> ValueLists:
    """Load the value lists named in `<path>/donl-vocabularies.csv` (default: mappings/)."""
    return _load_value_lists(str(Path(path).resolve()) if path else _default_lists_folder())


@lru_cache(maxsize=1)
def _default_lists_folder() -> str:
    """mappings/, resolved once (check_package without lists asks for it per package)."""
    return str(Path(MAPPINGS_DIR).resolve())


def value_lists_for(mappings: Any) -> ValueLists:
    """The value lists beside a Mappings' tables (its folder when that has
    donl-vocabularies.csv, else the project's mappings/)."""
    return _load_value_lists(_lists_folder(mappings))


def value_lists_fingerprint(mappings: Any) -> str:
    """`value_lists_for(mappings).fingerprint`, from the files alone (the lists unread: a sync
    that reuses every stored result needs no value list)."""
    return _lists_fingerprint(_lists_folder(mappings))


def _lists_folder(mappings: Any) -> str:
    folder = getattr(mappings, "path", None)
    if folder is not None and (Path(folder) / "donl-vocabularies.csv").exists():
        return str(Path(folder).resolve())
    return _default_lists_folder()


@lru_cache(maxsize=8)  # read for the fingerprint and for the lists: parsed once
def _spec(folder: str) -> tuple[Path, tuple[tuple[int, str, str, str], ...]]:
    """donl-vocabularies.csv of a folder: its path and (row number, vocabulary, table, column)
    per row."""
    spec_path = Path(folder) / "donl-vocabularies.csv"
    rows = []
    for number, row in enumerate(_csv_rows(spec_path), 1):
        name, table, column = row.get("vocabulary"), row.get("table"), row.get("column")
        if not (name and table and column):
            raise MappingError(f"{spec_path}: row {number} needs vocabulary, table and column")
        rows.append((number, name, table, column))
    return spec_path, tuple(rows)


@lru_cache(maxsize=8)
def _lists_fingerprint(folder: str) -> str:
    """A digest of donl-vocabularies.csv and, in the order it names them, the tables it names."""
    spec_path, rows = _spec(folder)
    digest = hashlib.sha256(spec_path.read_bytes())
    hashed: set[str] = set()
    for _, _, table, _ in rows:
        if table not in hashed:
            hashed.add(table)
            table_path = Path(folder) / f"{table}.csv"
            try:
                digest.update(table.encode() + b"\0" + table_path.read_bytes())
            except OSError as exc:
                raise MappingError(f"{table_path}: cannot read value-list table: {exc}") from exc
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _load_value_lists(folder: str) -> ValueLists:
    base = Path(folder)
    spec_path, spec = _spec(folder)
    tables: dict[str, list[dict[str, str]]] = {}
    lists: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for number, name, table, column in spec:
        if table not in tables:
            tables[table] = _csv_rows(base / f"{table}.csv")
        values = lists.setdefault(name, set())
        for item in tables[table]:
            if table == "donl-valuelists":
                if item.get("list") != column:
                    continue
                found, label = [item.get("value", "")], item.get("label_nl", "")
            else:
                if column not in item:
                    raise MappingError(f"{spec_path}: row {number}: table {table} has no "
                                       f"column {column!r}")
                found = item[column].split("|") if column == "owms_themes" else [item[column]]
                label = item.get("name_nl") or item.get("label_nl") or item.get("label") or ""
            for value in filter(None, (v.strip() for v in found)):
                values.add(value)
                if name == "DONL:Organization" and label:
                    labels.setdefault(label.lower(), value)
    return ValueLists({k: frozenset(v) for k, v in lists.items()}, labels, _lists_fingerprint(folder))


# --- the rules ----------------------------------------------------------------------------------


MISSING = "Missing value"
MESSAGES = {
    "single": "expected a single value, got a list of values",
    "list": "value must be a list",
    "duplicates": "duplicates are not allowed",
    "string": "expected one or more string values",
    "uri": "expected an URI, or a list of URIs",
    "date": f"expected a date, or a list of dates in format {DATE_FORMAT}",
    "number": "expected a integer, or a a list of integers",
    "number_min": "integer values may not be less than 1",
    "boolean": "expected a boolean or a list of booleans",
    "vocabulary": "value is part of the list {list}",
}
_BOOLEANS = (True, "True", "true", False, "False", "false")


@dataclass(frozen=True)
class Field:
    """One field of data.overheid.nl's schema: how its validators treat it.

    required    `not_empty` ("Missing value") instead of `ignore_empty` (empty = absent)
    many        a JSON list (`multi_valued`) instead of one value (`single_valued`)
    kind        string, uri, date, number, boolean or name: the type check
    vocabulary  the value list every value must be in
    duplicates  whether a list may hold a value twice
    default     the value the target fills in when the field is empty (on create only, except
                booleans)
    """

    name: str
    required: bool = False
    many: bool = False
    kind: str | None = None
    vocabulary: str | None = None
    duplicates: bool = False
    default: Any = None
    create_only_default: bool = False


def _f(name: str, spec: str = "", vocabulary: str | None = None, **kw: Any) -> Field:
    """Field from a compact spec: words `required`, `many`, `dups` and a kind."""
    words = spec.split()
    kinds = [w for w in words if w in ("string", "uri", "date", "number", "boolean", "name")]
    return Field(name, required="required" in words, many="many" in words,
                 kind=kinds[0] if kinds else None, vocabulary=vocabulary,
                 duplicates="dups" in words, **kw)


#: data.overheid.nl's package fields (ckanext-dataoverheid 2.2.2, DCAT-AP-DONL 1.1), in its order
DATASET_FIELDS: tuple[Field, ...] = (
    _f("name", "required name"),
    _f("title", "required string"),
    _f("notes", "required string"),
    _f("url", "uri"),
    _f("theme", "required many", "Overheid:Taxonomiebeleidsagenda"),
    _f("identifier", "required uri"),
    _f("alternate_identifier", "many uri"),
    _f("source_catalog"),  # value list DONL:Catalogs not modelled; never sent by to_target
    _f("authority", "required", "DONL:Organization"),
    _f("publisher", "required", "DONL:Organization"),
    _f("contact_point_name", "required string"),
    _f("contact_point_title", "string"),
    _f("contact_point_address", "string"),
    _f("contact_point_email", "string"),
    _f("contact_point_website", "uri"),
    _f("contact_point_phone", "string"),
    _f("metadata_language", "required", "DONL:Language"),
    _f("language", "required many", "DONL:Language"),
    _f("license_id", "required", "DONL:License"),
    _f("access_rights", "", "Overheid:Openbaarheidsniveau"),
    _f("temporal_label", "string"),
    _f("temporal_start", "date"),
    _f("temporal_end", "date"),
    _f("spatial_scheme", "many dups", "Overheid:SpatialScheme"),
    _f("spatial_value", "many"),
    _f("legal_foundation_label", "string"),
    _f("legal_foundation_ref", "string"),
    _f("legal_foundation_uri", "uri"),
    _f("dataset_status", "", "Overheid:DatasetStatus", default=AVAILABLE,
       create_only_default=True),
    _f("date_planned", "date"),
    _f("issued", "date"),
    _f("modified", "required date"),
    _f("frequency", "", "Overheid:Frequency"),
    _f("documentation", "many uri"),
    _f("sample", "many uri"),
    _f("provenance", "many uri"),
    _f("version", "string"),
    _f("version_notes", "many string"),
    _f("is_version_of", "many uri"),
    _f("has_version", "many uri"),
    _f("source", "many uri"),
    _f("related_resource", "many uri"),
    _f("conforms_to", "many uri"),
    _f("high_value", "boolean", default=False),
    _f("referentie_data", "boolean", default=False),
    _f("basis_register", "boolean", default=False),
    _f("national_coverage", "boolean", default=False),
)

#: data.overheid.nl's resource fields
RESOURCE_FIELDS: tuple[Field, ...] = (
    _f("url", "required string"),
    _f("download_url", "many uri"),
    _f("documentation", "many uri"),
    _f("linked_schemas", "many uri"),
    _f("name", "required string"),
    _f("description", "required string"),
    _f("status", "", "ADMS:DistributieStatus"),
    _f("metadata_language", "required", "DONL:Language"),
    _f("language", "required many", "DONL:Language"),
    _f("license_id", "required", "DONL:License"),
    _f("rights", "string"),
    _f("format", "required", "MDR:FiletypeNAL"),
    _f("media_type", "", "IANA:Mediatypes"),
    _f("size", "number"),
    _f("hash", "string"),
    _f("hash_algorithm", "string"),
    _f("release_date", "date"),
    _f("modification_date", "date"),
    _f("distribution_type"),  # value list DONL:DistributionType not modelled; never sent
)


class _Stop(Exception):
    """A validator stopped the chain of its field (CKAN's StopOnError)."""


_ABSENT = object()
_NAME = re.compile(r"[a-z0-9_\-]*$")
_TAG = re.compile(r"[\w \-.]*$", re.UNICODE)


#: the start of an http(s) URL whose scheme and host urlsplit surely finds (the common case:
#: answered without splitting the whole URL, which is not cached for URLs seen once)
_PLAIN_HTTP = re.compile(r"https?://[A-Za-z0-9.-]+[/?#]")


def _is_uri(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if _PLAIN_HTTP.match(value) is not None:
        return True
    parsed = urlsplit(value)  # as urlparse's: urlparse only splits ;parameters off the path
    return bool(parsed.scheme and parsed.netloc)


def _check_field(rule: Field, data: dict[str, Any], errors: dict[str, list[str]],
                 create: bool, lists: ValueLists) -> None:
    """Run one field's validators on `data` (which they may change), adding to `errors`."""
    key = rule.name
    add = errors.setdefault(key, []).append
    value = data.get(key, _ABSENT)
    applies = rule.default is not None and (create or not rule.create_only_default)
    if applies and (value is _ABSENT or not value):
        value = data[key] = rule.default
    try:
        if rule.required:
            if value is _ABSENT or (not value and value not in (False, 0)):
                add(MISSING)
                raise _Stop
        elif value is _ABSENT or not value:
            data.pop(key, None)
            raise _Stop
        if rule.many:
            if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
                value = data[key] = value.replace('"', "")[1:-1].split(",")
            if not isinstance(value, list):
                add(MESSAGES["list"])
                raise _Stop
            if not rule.duplicates and _has_duplicates(value):
                add(MESSAGES["duplicates"])
                raise _Stop
        elif isinstance(value, list):
            add(MESSAGES["single"])
            raise _Stop
        if not value:  # False / 0 pass not_empty, and every later check skips them
            raise _Stop
        if rule.kind:
            _KIND_CHECKS[rule.kind](key, data, add)
        if rule.vocabulary:
            for item in (value if isinstance(value, list) else [value]):
                if not lists.contains(rule.vocabulary, item):
                    add(MESSAGES["vocabulary"].format(list=rule.vocabulary))
    except _Stop:
        pass


def _has_duplicates(values: list[Any]) -> bool:
    """Whether a list holds a value twice, compared as JSON (strings directly: their JSON is
    the same exactly when they are)."""
    if all(type(v) is str for v in values):
        return len(set(values)) != len(values)
    return len(values) != len({json.dumps(v, sort_keys=True) for v in values})


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_string(key: str, data: dict[str, Any], add: Callable[[str], None]) -> None:
    if not all(isinstance(v, str) for v in _items(data[key])):
        add(MESSAGES["string"])
        raise _Stop


def _check_uri(key: str, data: dict[str, Any], add: Callable[[str], None]) -> None:
    if not all(_is_uri(v) for v in _items(data[key])):
        add(MESSAGES["uri"])
        raise _Stop


def _check_date(key: str, data: dict[str, Any], add: Callable[[str], None]) -> None:
    value = data[key]
    if isinstance(value, list):
        for item in value:  # one message per bad date, and no stop
            if _strptime(item, DATE_FORMAT) is None:
                add(MESSAGES["date"])
        return
    if _strptime(value, DATE_FORMAT) is not None:
        return
    if _strptime(value, "%Y-%m-%d") is not None:
        data[key] = value + "T00:00:00"  # what data.overheid.nl stores for a bare date
    else:
        add(MESSAGES["date"])


def _check_number(key: str, data: dict[str, Any], add: Callable[[str], None]) -> None:
    for item in _items(data[key]):
        try:
            number = int(item)
        except (TypeError, ValueError):
            add(MESSAGES["number"])
            raise _Stop
        if number < 1:
            add(MESSAGES["number_min"])
            raise _Stop


def _check_boolean(key: str, data: dict[str, Any], add: Callable[[str], None]) -> None:
    if not all(v in _BOOLEANS for v in _items(data[key])):
        add(MESSAGES["boolean"])
        raise _Stop


def _check_name(key: str, data: dict[str, Any], add: Callable[[str], None]) -> None:
    """CKAN core's name_validator and package_name_validator's length rules (whether the name
    is taken only the target knows: "That URL is already in use.")."""
    value = data[key]
    if not isinstance(value, str):
        add("Names must be strings")
        return
    if value in ("new", "edit", "search"):
        add("That name cannot be used")
    elif len(value) < 2:
        add("Must be at least 2 characters long")
    elif len(value) > 100:
        add("Name must be a maximum of 100 characters long")
    elif not _NAME.match(value):
        add("Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_")
    if len(value) < 2:
        add(f'Name "{value}" length is less than minimum 2')
    elif len(value) > 100:
        add(f'Name "{value}" length is more than maximum 100')


_KIND_CHECKS: dict[str, Callable[[str, dict[str, Any], Callable[[str], None]], None]] = {
    "string": _check_string, "uri": _check_uri, "date": _check_date, "number": _check_number,
    "boolean": _check_boolean, "name": _check_name,
}


_CANONICAL_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")
_CANONICAL_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


#: what datetime.strptime's own patterns for these formats could ever accept (%m, %d, %H, %M
#: and %S take one or two digits, %d also " 5"; the T matches without regard to case): a value
#: outside these is refused without asking strptime
_POSSIBLE = {
    DATE_FORMAT: re.compile(r"\d\d\d\d-\d\d?-(?:\d\d?| \d)[Tt]\d\d?:\d\d?:\d\d?"),
    "%Y-%m-%d": re.compile(r"\d\d\d\d-\d\d?-(?:\d\d?| \d)"),
}


def _strptime(value: Any, fmt: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    # fast path for the zero-padded forms we write (datetime.strptime costs ~10 us); anything
    # else, e.g. "2020-1-5", goes to strptime, which decides as before
    fast = (_CANONICAL_DATE_TIME if fmt == DATE_FORMAT else
            _CANONICAL_DATE if fmt == "%Y-%m-%d" else None)
    match = fast.fullmatch(value) if fast is not None else None
    if match is not None:
        try:
            return datetime(*map(int, match.groups()))
        except ValueError:
            return None
    possible = _POSSIBLE.get(fmt)
    if possible is not None and possible.fullmatch(value) is None:
        return None
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def _copy_json(value: Any) -> Any:
    """copy.deepcopy for JSON-like values (dict, list, str, numbers, None), ten times faster."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


# --- cross-field rules (ckanext-dataoverheid's __after validators) -----------------------------


@dataclass(frozen=True)
class AtLeastOne:
    """At least one of `fields` is present; else `message` on each of them."""

    fields: tuple[str, ...]
    message: str

    def check(self, data: dict[str, Any], errors: dict[str, list[str]], lists: ValueLists) -> None:
        if not any(f in data for f in self.fields):
            for f in self.fields:
                errors.setdefault(f, []).append(self.message)


@dataclass(frozen=True)
class AllOrNone:
    """When one of `fields` is present (and none has an error) all must be: `message` (with
    {field}) on the absent ones, or on all of them when `blame_all`."""

    fields: tuple[str, ...]
    message: str
    blame_all: bool = False

    def check(self, data: dict[str, Any], errors: dict[str, list[str]], lists: ValueLists) -> None:
        present = [f in data for f in self.fields]
        if not any(present) or all(present):
            return
        if not self.blame_all and any(errors.get(f) for f in self.fields):
            return
        for f, here in zip(self.fields, present):
            if self.blame_all or not here:
                errors.setdefault(f, []).append(self.message.format(field=f))


@dataclass(frozen=True)
class Before:
    """`start` < `end` when both are present and valid; else `message` on both."""

    start: str
    end: str
    message: str

    def check(self, data: dict[str, Any], errors: dict[str, list[str]], lists: ValueLists) -> None:
        if self.start not in data or self.end not in data:
            return
        if errors.get(self.start) or errors.get(self.end):
            return
        start, end = (_strptime(data[k], DATE_FORMAT) for k in (self.start, self.end))
        if start is not None and end is not None and start >= end:
            for f in (self.start, self.end):
                errors.setdefault(f, []).append(self.message)


@dataclass(frozen=True)
class Spatial:
    """spatial_scheme and spatial_value come together, pairwise, each value valid in its scheme."""

    scheme: str = "spatial_scheme"
    value: str = "spatial_value"

    def check(self, data: dict[str, Any], errors: dict[str, list[str]], lists: ValueLists) -> None:
        fields = (self.scheme, self.value)
        if not any(f in data for f in fields) or any(errors.get(f) for f in fields):
            return
        absent = [f for f in fields if f not in data]
        for f in absent:
            errors.setdefault(f, []).append(f"{f} is required for spatial")
        if absent:
            return
        schemes, values = data[self.scheme], data[self.value]
        if len(schemes) != len(values):
            for f in fields:
                errors.setdefault(f, []).append(
                    "the list of schemes must be of the same size as the list of values")
            return
        for scheme, value in zip(schemes, values):
            how, arg = SPATIAL_SCHEMES.get(scheme, ("list", ""))
            valid = (bool(re.match(arg, str(value))) if how == "regex"
                     else lists.contains(arg, value))
            if not valid:
                errors.setdefault(self.value, []).append(
                    f"spatial_value {value} is not valid according to scheme {scheme}")


@dataclass(frozen=True)
class OpenLicence:
    """An available (beschikbaar), PUBLIC dataset needs an open licence: replaces license_id's
    errors with the message."""

    def check(self, data: dict[str, Any], errors: dict[str, list[str]], lists: ValueLists) -> None:
        licence = data.get("license_id")
        if (data.get("dataset_status") == AVAILABLE and data.get("access_rights") == PUBLIC
                and lists.contains("non_open_licenses", licence)):
            errors["license_id"] = [(
                f"When dataset_status is set to {AVAILABLE} and access_rights is set to "
                f"[ {PUBLIC} ], an open license must be provided; got {licence}")]


DATASET_RULES = (
    AtLeastOne(("contact_point_website", "contact_point_email", "contact_point_phone"),
               "website, email or phone is required for a valid contact_point"),
    Before("temporal_start", "temporal_end",
           "temporal_start cannot be greater or equal to temporal_end"),
    AllOrNone(("legal_foundation_ref", "legal_foundation_uri", "legal_foundation_label"),
              "{field} is required when providing a legal_foundation"),
    Spatial(),
    OpenLicence(),
)
RESOURCE_RULES = (
    AllOrNone(("hash", "hash_algorithm"), "{field} is required when providing a valid checksum",
              blame_all=True),
)


def _subschema_list(data: dict[str, Any], key: str, errors: dict[str, list[str]]) -> list[Any]:
    """The dicts of a CKAN sub-schema field (tags, resources). Anything but a list of dicts
    CKAN refuses before validating ("Integrity Error"); empty dicts it ignores."""
    value = data.get(key)
    if value is None or value == []:
        return []
    if not isinstance(value, list) or not isinstance(value[0], dict):
        errors.setdefault(key, []).append(
            f"Only lists of dicts can be placed against subschema ('{key}',), not "
            f"{type(value)}")
        return []
    return value


def _check_tags(tags: list[Any], errors: dict[str, list[str]]) -> None:
    """CKAN core's tag rules; errors come back as one flat list of strings."""
    for tag in tags:
        if not isinstance(tag, dict) or not tag:
            continue
        name = tag.get("name")
        found: list[str] = []
        if not name:
            found.append(MISSING)
        elif isinstance(name, str):
            if len(name) < 2:
                found.append(f'Tag "{name}" length is less than minimum 2')
            if len(name) > 100:
                found.append(f'Tag "{name}" length is more than maximum 100')
            if not _TAG.match(name):
                found.append(f'Tag "{name}" can only contain alphanumeric characters, spaces '
                             '(" "), hyphens ("-"), underscores ("_") or dots (".")')
        if found:
            errors.setdefault("tags", []).append(", ".join(found))


def _run_fields(rules: tuple[Field, ...], data: dict[str, Any], errors: dict[str, list[str]],
                create: bool, lists: ValueLists) -> None:
    """_check_field for each of `rules`, in order. A field that is absent, neither required nor
    given a default passes (its check would only drop the absent key): it is not run, but its
    (empty) entry in `errors` is made in its place, so that errors keep the fields' order."""
    for rule in rules:
        if rule.name in data or rule.required or rule.default is not None:
            _check_field(rule, data, errors, create, lists)
        else:
            errors.setdefault(rule.name, [])


def _checked_copy(package: dict[str, Any]) -> dict[str, Any]:
    """What check_package may change of a package: the validators replace or drop the keys of
    the package and of its resources' dicts, never change a value in place (so only those dicts
    are copied: a deep copy took half of the check)."""
    data = dict(package)
    resources = data.get("resources")
    if isinstance(resources, list):
        data["resources"] = [dict(r) if isinstance(r, dict) else r for r in resources]
    return data


def check_package(package: dict[str, Any], lists: ValueLists | None = None) -> list[FieldProblem]:
    """What data.overheid.nl would answer to this package_create (no `id`) or package_update
    (with `id`) body, as FieldProblems with its own messages; [] when it would accept it."""
    lists = lists or load_value_lists()
    data = _checked_copy(package)
    create = not data.get("id")
    errors: dict[str, list[str]] = {}
    _run_fields(DATASET_FIELDS, data, errors, create, lists)
    _check_tags(_subschema_list(data, "tags", errors), errors)
    resource_errors: list[dict[str, list[str]]] = []
    for res in _subschema_list(data, "resources", errors):
        res_errors: dict[str, list[str]] = {}
        if isinstance(res, dict) and res:  # CKAN ignores an empty resource dict
            _run_fields(RESOURCE_FIELDS, res, res_errors, create, lists)
            for cross in RESOURCE_RULES:
                cross.check(res, res_errors, lists)
        resource_errors.append(res_errors)
    for rule_ in DATASET_RULES:
        rule_.check(data, errors, lists)
    problems = [FieldProblem(k, m) for k, messages in errors.items() for m in messages]
    for index, res_errors in enumerate(resource_errors):
        problems += [FieldProblem(f"resources[{index}].{k}", m)
                     for k, messages in res_errors.items() for m in messages]
    return problems


def problems_from_errors(error_dict: Mapping[str, Any], prefix: str = "") -> list[FieldProblem]:
    """A CKAN ValidationError dict (package or resource) as FieldProblems, in check_package's
    naming (`resources[<index>].<field>`); `__type` and empty entries are left out."""
    problems: list[FieldProblem] = []
    for key, value in error_dict.items():
        if key.startswith("__"):
            continue
        if key == "resources" and isinstance(value, list) and any(isinstance(v, dict)
                                                                   for v in value):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    problems += problems_from_errors(item, f"{prefix}resources[{index}].")
            continue
        for message in value if isinstance(value, list) else [value]:
            if isinstance(message, dict):
                problems += problems_from_errors(message, f"{prefix}{key}.")
            elif message:
                problems.append(FieldProblem(prefix + key, str(message)))
    return problems


# --- graph -> package ---------------------------------------------------------------------------


#: what counts as no value, as module constants (a tuple written out with [] or {} in it is
#: built anew, list and dict included, each time it is evaluated)
_BLANK = (None, "", [])
_EMPTY = (None, "", [], {})
_NO_PREDICATES: dict = {}  # what _Reader reads of a subject the graph does not describe
_MANY = object()  # _Reader._one: more than one value


class _Reader:
    """Graph access in a fixed order (sorted), preferring the metadata language for text.

    `graph` is an rdflib Graph or a harvester.dcat.mapper.TripleView (read through its index)."""

    def __init__(self, graph: Any, lang: str | None) -> None:
        self.g = graph
        self.lang = lang
        self.spo = getattr(graph, "spo", None)
        # the subject read last and its predicates: reads come in runs about one subject
        self._subject: Any = None
        self._predicates: Any = None

    def objects(self, subject: Any, base: str, name: str) -> list[Any]:
        if self.spo is None:
            return sorted(self.g.objects(subject, _u(base, name)), key=_sort_key)
        if subject is not self._subject:
            self._subject, self._predicates = subject, self.spo.get(subject) or _NO_PREDICATES
        found = self._predicates.get(_u(base, name))
        if not found:
            return []
        return list(found) if len(found) == 1 else sorted(found, key=_sort_key)

    def _one(self, subject: Any, base: str, name: str) -> Any:
        """The only object of a property; None when there is none, _MANY when there are more
        (the common case, one value, read without making and sorting lists)."""
        if self.spo is None:
            return _MANY
        if subject is not self._subject:
            self._subject, self._predicates = subject, self.spo.get(subject) or _NO_PREDICATES
        found = self._predicates.get(_u(base, name))
        if not found:
            return None
        if len(found) == 1:
            for value in found:
                return value
        return _MANY

    def uris(self, subject: Any, base: str, name: str) -> list[str]:
        value = self._one(subject, base, name)
        if value is None:
            return []
        if value is not _MANY:
            return [str(value)] if isinstance(value, URIRef) else []
        return [str(o) for o in self.objects(subject, base, name) if isinstance(o, URIRef)]

    def uri(self, subject: Any, base: str, name: str) -> str | None:
        found = self.uris(subject, base, name)
        return found[0] if found else None

    def texts(self, subject: Any, base: str, name: str) -> list[Literal]:
        """Literals of a property, those in the metadata language (or without one) first."""
        value = self._one(subject, base, name)
        if value is None:
            return []
        if value is not _MANY:
            return [value] if isinstance(value, Literal) else []
        found = [o for o in self.objects(subject, base, name) if isinstance(o, Literal)]
        preferred = [o for o in found if o.language in (None, self.lang)]
        return preferred or found

    def text(self, subject: Any, base: str, name: str) -> str | None:
        found = self.texts(subject, base, name)
        text = str(found[0]).strip() if found else ""
        return text or None


def _counts(values: Iterable[Any]) -> dict[Any, int]:
    """How often each value occurs."""
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _sort_key(term: Any) -> tuple[int, str, str]:
    if isinstance(term, Literal):
        return (1, term.language or "", str(term))
    return (0 if isinstance(term, URIRef) else 2, "", str(term))




def _donl_value(function: Any, uri: str) -> str:
    """The table's data.overheid.nl value for a URI (its `donl` column), else the URI itself."""
    found = _lookup(function, uri)
    return getattr(found, "donl", None) or uri


_YEAR_TEXT = re.compile(r"\d{4}")
_YEAR_MONTH_TEXT = re.compile(r"\d{4}-\d{2}")


def donl_date(term: Any, end: bool = False) -> str | None:
    """An RDF date literal in data.overheid.nl's format (`end`: the last second it covers)."""
    if not isinstance(term, Literal):
        return None
    value = term.toPython()
    if type(value) is datetime and value.tzinfo is None and value.year >= 1000:
        # a valid xsd:dateTime (not a year or a year and month), as the mapper writes them
        return value.isoformat(timespec="seconds")
    datatype = str(term.datatype or "")
    text = str(term).strip()
    if datatype == _XSD + "gYear" or _YEAR_TEXT.fullmatch(text):
        year = int(text[:4])
        return f"{year:04d}-12-31T23:59:59" if end else f"{year:04d}-01-01T00:00:00"
    if datatype == _XSD + "gYearMonth" or _YEAR_MONTH_TEXT.fullmatch(text):
        year, month = int(text[:4]), int(text[5:7])
        if not 1 <= month <= 12:
            return None
        if end:
            return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}T23:59:59"
        return f"{year:04d}-{month:02d}-01T00:00:00"
    if not isinstance(value, (date, datetime)):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            try:
                value = date.fromisoformat(text)
            except ValueError:
                return None
    # isoformat() is DATE_FORMAT's strftime from year 1000 on (%Y pads no earlier years)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if value.year >= 1000:
            return value.isoformat(timespec="seconds")
        return value.replace(microsecond=0).strftime(DATE_FORMAT)
    day = value.isoformat() if value.year >= 1000 else value.strftime("%Y-%m-%d")
    return day + ("T23:59:59" if end else "T00:00:00")


def _tag(word: str) -> str:
    """A keyword as a tag data.overheid.nl accepts (refused characters -> spaces)."""
    if _TAG.match(word):  # every character accepted (a last "\n" as well, as one would be)
        text = word
    else:
        text = "".join(ch if _TAG.match(ch) else " " for ch in word)
    return " ".join(text.split())[:100].strip()


def _is_local(uri: str, owner: str) -> bool:
    """Whether `uri` is a hash node of `owner` (a dataset's or distribution's own node)."""
    return uri.startswith(owner + "#")


def _indexed_subject(graph: Any, node: URIRef) -> URIRef:
    """`node`, as the very object a TripleView indexes when it is the first subject there (the
    mapper adds the dataset's triples first). A dict lookup by the indexed object is settled
    by identity; by an equal copy it calls rdflib's URIRef.__eq__, which copies both strings."""
    first = next(iter(getattr(graph, "spo", None) or ()), None)
    return first if type(first) is URIRef and first == node else node


class _Converter:
    description_fallback = True

    def __init__(self, mapped: Any, mappings: Any, lists: ValueLists, spatial: bool) -> None:
        self.mapped = mapped
        self.m = mappings
        self.lists = lists
        self.spatial = spatial
        self.issues: list[str] = []
        self._distributions: list[URIRef] | None = None
        view = getattr(mapped, "triple_view", None)
        graph = view() if callable(view) else TripleView(mapped.graph)
        self.ds = _indexed_subject(graph, URIRef(mapped.uri))
        self.r = _Reader(graph, None)
        # the metadata's language: the tag most of the title and description literals carry
        # (translations add other tags); a tie goes to "nl", then to the first tag
        tags = _counts(t.language for name in ("title", "description")
                       for t in self.r.objects(self.ds, _DCT, name)
                       if isinstance(t, Literal) and t.language)
        ranked = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0] != "nl", kv[0]))
        self.lang = ranked[0][0] if ranked else None
        self.r.lang = self.lang

    def note(self, message: str) -> None:
        if message not in self.issues:
            self.issues.append(message)

    # -- dataset ----------------------------------------------------------------------------

    def dataset(self) -> dict[str, Any]:
        r, ds = self.r, self.ds
        f: dict[str, Any] = {}
        f["identifier"] = self.mapped.identifier or r.text(ds, _DCT, "identifier")
        f["title"] = r.text(ds, _DCT, "title")
        f["notes"] = r.text(ds, _DCT, "description")
        f["theme"] = self.themes()
        f["publisher"] = self.organisation(r.uri(ds, _DCT, "publisher"), "publisher")
        f["authority"] = self.organisation(
            r.uri(ds, _DCT, "rightsHolder") or r.uri(ds, _DCT, "creator"), "authority")
        f.update(self.contact())
        f["metadata_language"] = self.metadata_language()
        f["language"] = self.unique(_donl_value(getattr(self.m, "language", None), u)
                                    for u in r.uris(ds, _DCT, "language"))
        f["license_id"] = self.licence()
        access = r.uri(ds, _DCT, "accessRights")
        f["access_rights"] = (_donl_value(getattr(self.m, "access_rights", None), access)
                              if access else None)
        f["modified"] = self.date(ds, "modified")
        f["issued"] = self.date(ds, "issued")
        frequency = r.uri(ds, _DCT, "accrualPeriodicity")
        f["frequency"] = (_donl_value(getattr(self.m, "frequency", None), frequency)
                          if frequency else None)
        f["url"] = r.uri(ds, _DCAT, "landingPage")
        f["tags"] = self.tags()
        f.update(self.temporal())
        if self.spatial:
            f.update(self.places())
        f["dataset_status"] = self.status()
        f["alternate_identifier"] = self.unique(
            str(n) for node in r.objects(ds, _ADMS, "identifier")
            for n in r.objects(node, _SKOS, "notation") if _is_uri(str(n)))
        f["documentation"] = self.links(ds, _FOAF, "page")
        f["conforms_to"] = self.links(ds, _DCT, "conformsTo")
        f["related_resource"] = self.links(ds, _DCT, "relation")
        f["source"] = self.links(ds, _DCT, "source")
        f["has_version"] = self.links(ds, _DCAT, "hasVersion") or self.links(ds, _DCT,
                                                                            "hasVersion")
        f["is_version_of"] = self.links(ds, _DCAT, "isVersionOf") or self.links(
            ds, _DCT, "isVersionOf")
        f["sample"] = self.links(ds, _ADMS, "sample")
        f["provenance"] = self.links(ds, _DCT, "provenance")
        f["version"] = r.text(ds, _DCAT, "version") or r.text(ds, _OWL, "versionInfo")
        f["version_notes"] = self.unique(str(t) for t in r.texts(ds, _ADMS, "versionNotes"))
        if r.objects(ds, _DCATAP, "hvdCategory"):
            f["high_value"] = True
        return {k: v for k, v in f.items() if v not in _BLANK}

    def unique(self, values: Iterable[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            if value and value not in out:
                out.append(value)
        return out

    def links(self, subject: Any, base: str, name: str) -> list[str]:
        return [u for u in self.r.uris(subject, base, name)
                if not _is_local(u, str(subject)) and not _is_local(u, str(self.ds))
                and _is_uri(u)]

    def date(self, subject: Any, name: str, end: bool = False, base: str = _DCT) -> str | None:
        found = self.r.objects(subject, base, name)
        if not found:
            return None
        value = donl_date(found[0], end=end)
        if value is None:
            self.note(f"{name}: {found[0]!s} is not a date; left out")
        return value

    def themes(self) -> list[str]:
        taxonomy = "Overheid:Taxonomiebeleidsagenda"
        found = self.r.uris(self.ds, _DCAT, "theme")
        eu = [t for t in found if t.startswith(EU_THEME)]
        keep: list[str] = []
        for uri in found:
            if uri in eu:
                continue
            if self.lists.contains(taxonomy, uri):
                keep.append(uri)
                continue
            mapped = _lookup(getattr(self.m, "theme", None), uri)
            owms = [t for t in getattr(mapped, "owms_themes", ()) or ()
                    if self.lists.contains(taxonomy, t)]
            if owms:
                keep.extend(owms)
            else:
                keep.append(uri)  # not ours to drop: check_package names the list it is not in
        if not any(self.lists.contains(taxonomy, t) for t in keep):
            for uri in eu:
                mapped = _lookup(getattr(self.m, "theme", None), uri)
                keep.extend(t for t in getattr(mapped, "owms_themes", ()) or ()
                            if self.lists.contains(taxonomy, t))
            if keep:
                self.note("theme: no OWMS theme in the graph; the OWMS themes of its EU themes "
                          "are sent")
        if eu:
            self.note("theme: EU data themes are not sent (data.overheid.nl accepts only OWMS "
                      "TaxonomieBeleidsagenda themes)")
        return sorted(set(keep))

    def organisation(self, uri: str | None, what: str) -> str | None:
        if not uri:
            return None
        org_list = "DONL:Organization"
        if self.lists.contains(org_list, uri):
            return uri
        candidates: list[str] = []
        found = _lookup(getattr(self.m, "organisation", None), uri)
        if found is not None and getattr(found, "uri", None):
            candidates.append(found.uri)
        names = [str(n) for n in self.r.texts(URIRef(uri), _FOAF, "name")]
        for name in names:
            found = _lookup(getattr(self.m, "organisation", None), name)
            if found is not None and getattr(found, "uri", None):
                candidates.append(found.uri)
            if name.lower() in self.lists.organisation_labels:
                candidates.append(self.lists.organisation_labels[name.lower()])
        for candidate in candidates:
            if self.lists.contains(org_list, candidate):
                self.note(f"{what}: {uri} is sent as {candidate} (data.overheid.nl's URI for "
                          "this organisation)")
                return candidate
        return uri

    def contact(self) -> dict[str, Any]:
        r = self.r
        points = r.objects(self.ds, _DCAT, "contactPoint")
        if not points:
            return {}
        node = points[0]
        out: dict[str, Any] = {}
        out["contact_point_name"] = (r.text(node, _VCARD, "fn")
                                     or r.text(node, _VCARD, "organization-name"))
        emails = [str(e).removeprefix("mailto:") for e in r.objects(node, _VCARD, "hasEmail")]
        out["contact_point_email"] = emails[0] if emails else None
        urls = r.uris(node, _VCARD, "hasURL")
        out["contact_point_website"] = urls[0] if urls else None
        phones = []
        for phone in r.objects(node, _VCARD, "hasTelephone"):
            values = r.objects(phone, _VCARD, "hasValue") if not isinstance(phone, Literal) \
                else [phone]
            phones += [str(v).removeprefix("tel:") for v in (values or [phone])]
        out["contact_point_phone"] = phones[0] if phones else None
        out["contact_point_title"] = r.text(node, _VCARD, "title")
        for address in r.objects(node, _VCARD, "hasAddress"):
            parts = [r.text(address, _VCARD, p) for p in
                     ("street-address", "postal-code", "locality", "country-name")]
            if any(parts):
                out["contact_point_address"] = ", ".join(p for p in parts if p)
                break
        return out

    def metadata_language(self) -> str | None:
        for triple in getattr(self.mapped, "record", ()) or ():
            if len(triple) == 3 and str(triple[1]) == _DCT + "language":
                return _donl_value(getattr(self.m, "language", None), str(triple[2]))
        if self.lang:
            found = _lookup(getattr(self.m, "language", None), self.lang)
            if found is not None:
                return getattr(found, "donl", None) or found.uri
            self.note(f"metadata_language: language tag {self.lang!r} is not in the languages "
                      "table")
        return None

    def licence(self) -> str | None:
        r = self.r
        own = r.uris(self.ds, _DCT, "license")
        counts = _counts(u for d in self.distributions() for u in r.uris(d, _DCT, "license")[:1])
        if own:
            uri = own[0]
        elif counts:
            uri = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            if len(counts) > 1:
                self.note(f"license_id: the distributions have {len(counts)} licences; the "
                          f"dataset gets the most frequent, {uri}")
        else:
            return None
        return _donl_value(getattr(self.m, "licence", None), uri)

    def tags(self) -> list[dict[str, str]]:
        tags: list[str] = []
        for word in self.r.texts(self.ds, _DCAT, "keyword"):
            tag = _tag(str(word))
            if tag != str(word).strip():
                self.note(f"tags: keyword {str(word)!r} sent as {tag!r}")
            if len(tag) < 2:
                self.note(f"tags: keyword {str(word)!r} left out (shorter than 2 characters)")
                continue
            if tag not in tags:
                tags.append(tag)
        return [{"name": t} for t in sorted(tags)]

    def temporal(self) -> dict[str, Any]:
        r = self.r
        periods = []
        for node in r.objects(self.ds, _DCT, "temporal"):
            start = (self.date(node, "startDate", base=_DCAT)
                     or self.date(node, "startDate", base=_SCHEMA))
            end = (self.date(node, "endDate", end=True, base=_DCAT)
                   or self.date(node, "endDate", end=True, base=_SCHEMA))
            label = r.text(node, _RDFS, "label") or r.text(node, _SKOS, "prefLabel")
            if start or end or label:
                periods.append((start or "", end or "", label))
        if not periods:
            return {}
        periods.sort(key=lambda p: (p[0], p[1], p[2] or ""))
        if len(periods) > 1:
            self.note(f"temporal: the dataset has {len(periods)} periods; the first is sent")
        start, end, label = periods[0]
        return {"temporal_start": start or None, "temporal_end": end or None,
                "temporal_label": label}

    def places(self) -> dict[str, Any]:
        schemes, values = [], []
        by_list = {name: scheme for scheme, (how, name) in SPATIAL_SCHEMES.items()
                   if how == "list"}
        for uri in self.r.uris(self.ds, _DCT, "spatial"):
            for suffix in _SPATIAL_LOOKUP:
                name = f"Overheid:Spatial{suffix.capitalize()}"
                if self.lists.contains(name, uri) and uri not in values:
                    schemes.append(by_list[name])
                    values.append(uri)
                    break
            else:
                self.note(f"spatial: {uri} is in none of data.overheid.nl's spatial lists; "
                          "left out")
        return {"spatial_scheme": schemes, "spatial_value": values} if values else {}

    def status(self) -> str | None:
        for uri in self.r.uris(self.ds, _ADMS, "status"):
            if uri in _DATASET_STATUS:
                return _DATASET_STATUS[uri]
            if self.lists.contains("Overheid:DatasetStatus", uri):
                return uri
        return AVAILABLE if self.distributions() else None

    # -- distributions ----------------------------------------------------------------------

    def distributions(self) -> list[URIRef]:
        if self._distributions is None:
            found = {str(d): d for d in self.r.objects(self.ds, _DCAT, "distribution")
                     if isinstance(d, URIRef)}
            ordered = [found.pop(u) for u in (getattr(self.mapped, "distribution_uris", {}) or {})
                       .values() if u in found]
            self._distributions = ordered + [found[k] for k in sorted(found)]
        return list(self._distributions)

    def resource(self, dist: URIRef, dataset: dict[str, Any]) -> dict[str, Any]:
        r = self.r
        f: dict[str, Any] = {}
        downloads = [u for u in r.uris(dist, _DCAT, "downloadURL") if _is_uri(u)]
        f["url"] = r.uri(dist, _DCAT, "accessURL") or (downloads[0] if downloads else None)
        f["name"] = r.text(dist, _DCT, "title")
        f["description"] = r.text(dist, _DCT, "description")
        if not f["description"] and self.description_fallback and f["name"]:
            f["description"] = f["name"]
            self.note(f"resource {f['name']!r}: no description at the source; its title is sent as the "
                      "description, which data.overheid.nl requires")
        f["metadata_language"] = dataset.get("metadata_language")
        languages = self.unique(_donl_value(getattr(self.m, "language", None), u)
                                for u in r.uris(dist, _DCT, "language"))
        f["language"] = languages or list(dataset.get("language") or [])
        licence = r.uri(dist, _DCT, "license")
        f["license_id"] = (_donl_value(getattr(self.m, "licence", None), licence) if licence
                           else dataset.get("license_id"))
        f["format"] = self.file_type(r.uri(dist, _DCT, "format"))
        f["media_type"] = self.media_type(r.objects(dist, _DCAT, "mediaType"))
        f["download_url"] = downloads
        sizes = r.objects(dist, _DCAT, "byteSize")
        try:
            size = int(str(sizes[0])) if sizes else 0
        except ValueError:
            size = 0
        f["size"] = size if size > 0 else None
        f["release_date"] = self.date(dist, "issued")
        f["modification_date"] = self.date(dist, "modified")
        f["linked_schemas"] = self.links(dist, _DCT, "conformsTo")
        f["documentation"] = self.links(dist, _FOAF, "page")
        for checksum in r.objects(dist, _SPDX, "checksum"):
            value = r.text(checksum, _SPDX, "checksumValue")
            algorithm = r.uri(checksum, _SPDX, "algorithm")
            if value and algorithm:
                f["hash"] = value
                f["hash_algorithm"] = algorithm.rsplit("checksumAlgorithm_", 1)[-1].upper()
                break
        status = r.uri(dist, _ADMS, "status")
        if status and self.lists.contains("ADMS:DistributieStatus", status):
            f["status"] = status
        for rights in r.objects(dist, _DCT, "rights"):
            text = (r.text(rights, _RDFS, "label") if not isinstance(rights, Literal)
                    else str(rights))
            if text:
                f["rights"] = text
                break
        return {k: v for k, v in f.items() if v not in _BLANK}

    def file_type(self, uri: str | None) -> str | None:
        if not uri or uri.startswith(EU_FILE_TYPE):
            return uri
        found = _lookup(getattr(self.m, "file_format", None), uri)
        return getattr(found, "file_type", None) or uri

    def media_type(self, terms: list[Any]) -> str | None:
        for value in terms:
            text = str(value).strip()
            if text.startswith(IANA):
                return text
            if text.startswith("http://www.iana.org/assignments/media-types/"):
                return IANA + text.split("/media-types/", 1)[1]
            if re.fullmatch(r"[\w.+-]+/[\w.+-]+", text):
                return IANA + text.lower()
        return None


def to_target(mapped: Any, mappings: Any, *, spatial: bool = True,
              lists: ValueLists | None = None, description_fallback: bool = True) -> TargetDataset:
    """Convert a mapped dataset's graph to a data.overheid.nl package (see the module docstring).

    `mapped` is a harvester.dcat.mapper.MappedDataset (uri, identifier, graph, distribution_uris,
    record, name); `mappings` the loaded mapping tables (their `donl` values are what is sent).
    With `description_fallback`, a distribution without a description sends its title as the
    resource description (data.overheid.nl requires one), noted in `issues`.
    """
    converter = _Converter(mapped, mappings, lists or value_lists_for(mappings), spatial)
    converter.description_fallback = description_fallback
    fields = converter.dataset()
    resources = [TargetResource(str(dist), converter.resource(dist, fields))
                 for dist in converter.distributions()]
    return TargetDataset(identifier=str(mapped.identifier or mapped.uri),
                         source_name=str(getattr(mapped, "name", "") or ""),
                         fields=fields, resources=resources, issues=converter.issues)


# --- comparing packages -------------------------------------------------------------------------


#: fields the target sets or derives itself (or that we never send), ignored when comparing
TARGET_MANAGED_FIELDS: frozenset[str] = frozenset({
    # package
    "id", "changetype", "communities", "metadata_created", "metadata_modified", "revision_id",
    "revision_timestamp", "num_resources", "num_tags", "organization", "owner_org", "state",
    "creator_user_id", "isopen", "license_title", "license_url", "private", "type", "groups",
    "relationships_as_object", "relationships_as_subject", "tracking_summary", "extras",
    "author", "author_email", "maintainer", "maintainer_email",
    # resource
    "package_id", "position", "created", "last_modified", "cache_url", "cache_last_updated",
    "url_type", "mimetype", "mimetype_inner", "resource_type", "datastore_active",
})
_DATE_FIELDS = frozenset(f.name for f in DATASET_FIELDS + RESOURCE_FIELDS if f.kind == "date")
_BOOLEAN_FIELDS = frozenset(f.name for f in DATASET_FIELDS if f.kind == "boolean")
_TRUE = ("true", "1", "yes")


def _normal_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if key in _DATE_FIELDS and _strptime(value, "%Y-%m-%d") is not None:
            value += "T00:00:00"
        if len(value) > 1 and value.startswith("{") and value.endswith("}") and key in _MANY:
            value = value.replace('"', "")[1:-1].split(",")
    if key in _BOOLEAN_FIELDS:
        return "true" if str(value).strip().lower() in _TRUE else None
    if key == "size" and value not in (None, ""):
        try:
            value = int(value)
        except (TypeError, ValueError):
            return value
        return value or None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted({v.strip() for v in value if v.strip()})
    return value


_MANY = frozenset(f.name for f in DATASET_FIELDS + RESOURCE_FIELDS if f.many)


#: keys whose string values _normal_value does more with than strip them
_SPECIAL_KEYS = _DATE_FIELDS | _BOOLEAN_FIELDS | _MANY | {"size"}
_NOT_COMPARED = TARGET_MANAGED_FIELDS | {"resources", "tags"}


def _normal_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in _NOT_COMPARED:
            continue
        if type(value) is str and key not in _SPECIAL_KEYS:  # what _normal_value does with it
            value = value.strip()
            if value:
                out[key] = value
            continue
        value = _normal_value(key, value)
        if value in _EMPTY:
            continue
        out[key] = value
    return out


def normalise_package(package: Mapping[str, Any] | None) -> dict[str, Any]:
    """What of a package counts when comparing: without the target's own fields, defaults the
    target fills in (dataset_status beschikbaar, false booleans), empty values and key order;
    bare dates as the target stores them, lists of values as sorted sets, tags as sorted names."""
    package = package or {}
    out = _normal_fields(package)
    resources = [_normal_dict(r) for r in package.get("resources") or [] if isinstance(r, dict)]
    if resources:
        out["resources"] = resources
    return out


def _normal_fields(package: Mapping[str, Any]) -> dict[str, Any]:
    """normalise_package without the resources."""
    out = _normal_dict(package)
    if out.get("dataset_status") == AVAILABLE:
        del out["dataset_status"]
    tags = sorted({str((t.get("name") or "") if isinstance(t, dict) else t).strip()
                   for t in package.get("tags") or [] if t} - {""})
    if tags:
        out["tags"] = tags
    return out


def canonical_hash(package: Mapping[str, Any] | None) -> str:
    """A stable SHA-256 of what a package says (see normalise_package): the same for what we
    sent and for what the target gives back for it, whatever the key order."""
    return normal_hash(normalise_package(package))


def normal_hash(normal: Mapping[str, Any]) -> str:
    """canonical_hash of a package from its normalise_package() (when the caller has it)."""
    text = json.dumps(normal, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _match_resources(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
                     ) -> tuple[list[tuple[int, int | None]], list[int]]:
    """Pairs (our index, their index or None) matched by id, then by url; their unmatched."""
    free = set(range(len(theirs)))
    pairs: list[tuple[int, int | None]] = []
    by_id = {r.get("id"): j for j, r in enumerate(theirs) if r.get("id")}
    pending = []
    for i, res in enumerate(ours):
        j = by_id.get(res.get("id")) if res.get("id") else None
        if j is not None and j in free:
            free.discard(j)
            pairs.append((i, j))
        else:
            pending.append(i)
    for i in pending:
        url = ours[i].get("url")
        j = next((j for j in sorted(free) if url and theirs[j].get("url") == url), None)
        if j is not None:
            free.discard(j)
        pairs.append((i, j))
    pairs.sort()
    return pairs, sorted(free)


def diff_packages(ours: Mapping[str, Any] | None,
                  theirs: Mapping[str, Any] | None,
                  ours_normal: Mapping[str, Any] | None = None) -> list[FieldChange]:
    """Field-level differences between what we would send and what the target holds (`old` is
    theirs, `new` ours), ignoring TARGET_MANAGED_FIELDS and what normalise_package ignores.
    Resources are paired by id, then by url; the paths are `resources[<our index>].<field>`,
    `resources[<our index>]` (added) and `resources[removed:<id or url>]`. Sorted by path.
    `ours_normal`: normalise_package(ours), when the caller has it already."""
    ours, theirs = ours or {}, theirs or {}
    if ours_normal is not None:
        a = {k: v for k, v in ours_normal.items() if k != "resources"}
    else:
        a = _normal_fields(ours)
    b = _normal_fields(theirs)
    changes: list[FieldChange] = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            changes.append(FieldChange(key, b.get(key), a.get(key)))
    our_res = [r for r in ours.get("resources") or [] if isinstance(r, dict)]
    their_res = [r for r in theirs.get("resources") or [] if isinstance(r, dict)]
    our_normal = (list(ours_normal.get("resources") or ()) if ours_normal is not None
                  else [_normal_dict(r) for r in our_res])
    their_normal = [_normal_dict(r) for r in their_res]
    pairs, removed = _match_resources(our_res, their_res)
    for i, j in pairs:
        new = our_normal[i]
        if j is None:
            changes.append(FieldChange(f"resources[{i}]", None, new))
            continue
        old = their_normal[j]
        for key in sorted(set(new) | set(old)):
            if new.get(key) != old.get(key):
                changes.append(FieldChange(f"resources[{i}].{key}", old.get(key), new.get(key)))
    for j in removed:
        label = their_res[j].get("id") or their_res[j].get("url") or str(j)
        changes.append(FieldChange(f"resources[removed:{label}]", their_normal[j], None))
    return changes
