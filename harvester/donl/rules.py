"""What data.overheid.nl's validators would answer to a package, without asking it.

data.overheid.nl's CKAN (ckanext-dataoverheid 2.2.2, the DCAT-AP-DONL 1.1 schema) checks a
package_create / package_update body field by field, then across fields. Its validators, and
what they answer, are described in ../shared/reference/donl/validator-behaviour.md; this module
follows that behaviour, as data:

* a `Field` per package and resource field (DATASET_FIELDS, RESOURCE_FIELDS): mandatory or not,
  single value or list, string / URI / date / integer / boolean / name, the value list its
  values must be in, the default the target fills in;
* the cross-field rules (DATASET_RULES, RESOURCE_RULES): contact point, period, legal
  foundation, spatial, open licence, checksum;
* CKAN core's rules for `name` and `tags`.

    problems = check_package(body)          # [] when data.overheid.nl would accept it
    problems_from_errors(error_dict)        # the target's own answer, in the same form

Messages are data.overheid.nl's own text. Value lists come from harvester.donl.valuelists.

This check answers "will data.overheid.nl accept it?"; the SHACL shapes answer "is it DCAT-AP-NL
3.0?" (harvester/shapes/README.md). Rules of data.overheid.nl that DCAT-AP-NL does not have, such
as a contact point's name and "website, email or phone is required", live here only.

Not modelled: the `source_catalog` and `distribution_type` value lists (DONL:Catalogs,
DONL:DistributionType; we never send either), `owner_org` existence and name uniqueness (only
the target knows), `date_planned` (ckanext-dataoverheid 2.2.2's rule never fires), the HTTP 500
the target answers to a package with spatial fields (validator-behaviour.md cases 3a, 4y).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harvester.donl.formats import DATE_FORMAT, DAY_FORMAT, TAG, array_items, is_uri, parse_time
from harvester.donl.valuelists import ValueLists, load_value_lists

__all__ = ["AVAILABLE", "DATASET_FIELDS", "PUBLIC", "RESOURCE_FIELDS", "SPATIAL_SCHEMES", "Field",
           "FieldProblem", "check_package", "problems_from_errors"]

AVAILABLE = "http://data.overheid.nl/status/beschikbaar"
PUBLIC = "http://publications.europa.eu/resource/authority/access-right/PUBLIC"

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
#: CKAN core's package name pattern
_NAME = re.compile(r"[a-z0-9_\-]*$")


@dataclass(frozen=True)
class FieldProblem:
    """A field data.overheid.nl would refuse, with its message. Resource fields are named
    `resources[<index>].<field>`."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Field:
    """One field of data.overheid.nl's schema: how its validators treat it.

    required    `not_empty` ("Missing value") instead of `ignore_empty` (empty = absent)
    many        a JSON list (`multi_valued`) instead of one value (`single_valued`)
    kind        string, uri, date, number, boolean or name: the type check
    vocabulary  the value list every value must be in
    duplicates  whether a list may hold a value twice
    default     the value the target fills in when the field is empty (on create only when
                `create_only_default`)
    """

    name: str
    required: bool = False
    many: bool = False
    kind: str | None = None
    vocabulary: str | None = None
    duplicates: bool = False
    default: Any = None
    create_only_default: bool = False


_KINDS = ("string", "uri", "date", "number", "boolean", "name")


def _f(name: str, spec: str = "", vocabulary: str | None = None, **kw: Any) -> Field:
    """Field from a compact spec: words `required`, `many`, `dups` and a kind."""
    words = spec.split()
    kinds = [w for w in words if w in _KINDS]
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


# --- values -------------------------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _has_duplicates(values: list[Any]) -> bool:
    """Whether a list holds a value twice, values compared as JSON."""
    return len(values) != len({json.dumps(v, sort_keys=True) for v in values})


# --- one field ----------------------------------------------------------------------------------


class _Stop(Exception):
    """A validator stopped the chain of its field (CKAN's StopOnError)."""


Add = Callable[[str], None]
Errors = dict[str, list[str]]


def _check_field(rule: Field, data: dict[str, Any], errors: Errors, create: bool,
                 lists: ValueLists) -> None:
    """Run one field's validators on `data` (which they may change), adding to `errors`."""
    add = errors.setdefault(rule.name, []).append
    fills_in = rule.default is not None and (create or not rule.create_only_default)
    if fills_in and not data.get(rule.name):
        data[rule.name] = rule.default
    try:
        _check_presence(rule, data, add)
        _check_shape(rule, data, add)
        if not data[rule.name]:  # False / 0 pass not_empty, and every later check skips them
            return
        if rule.kind:
            _KIND_CHECKS[rule.kind](rule.name, data, add)
        if rule.vocabulary:
            _check_vocabulary(rule.vocabulary, data[rule.name], add, lists)
    except _Stop:
        pass


def _check_presence(rule: Field, data: dict[str, Any], add: Add) -> None:
    """`not_empty` (required: "Missing value") or `ignore_empty` (an empty field is dropped)."""
    key = rule.name
    if key not in data:
        if rule.required:
            add(MISSING)
        raise _Stop
    value = data[key]
    if value:
        return
    if not rule.required:
        del data[key]
        raise _Stop
    if value not in (False, 0):
        add(MISSING)
        raise _Stop


def _check_shape(rule: Field, data: dict[str, Any], add: Add) -> None:
    """`multi_valued` (a list, as JSON or as a PostgreSQL array; no duplicates unless allowed)
    or `single_valued` (no list)."""
    key = rule.name
    if not rule.many:
        if isinstance(data[key], list):
            add(MESSAGES["single"])
            raise _Stop
        return
    items = array_items(data[key])
    if items is not None:
        data[key] = items
    if not isinstance(data[key], list):
        add(MESSAGES["list"])
        raise _Stop
    if not rule.duplicates and _has_duplicates(data[key]):
        add(MESSAGES["duplicates"])
        raise _Stop


def _check_vocabulary(vocabulary: str, value: Any, add: Add, lists: ValueLists) -> None:
    for item in _items(value):
        if not lists.contains(vocabulary, item):
            add(MESSAGES["vocabulary"].format(list=vocabulary))


def _check_all(test: Callable[[Any], bool], message: str
               ) -> Callable[[str, dict[str, Any], Add], None]:
    """A type check that every value passes `test`; else `message`, and the chain stops."""
    def check(key: str, data: dict[str, Any], add: Add) -> None:
        if not all(test(v) for v in _items(data[key])):
            add(MESSAGES[message])
            raise _Stop
    return check


def _check_date(key: str, data: dict[str, Any], add: Add) -> None:
    value = data[key]
    if isinstance(value, list):
        for item in value:  # one message per bad date, and no stop
            if parse_time(item, DATE_FORMAT) is None:
                add(MESSAGES["date"])
        return
    if parse_time(value, DATE_FORMAT) is not None:
        return
    if parse_time(value, DAY_FORMAT) is not None:
        data[key] = value + "T00:00:00"  # what data.overheid.nl stores for a bare date
    else:
        add(MESSAGES["date"])


def _check_number(key: str, data: dict[str, Any], add: Add) -> None:
    for item in _items(data[key]):
        try:
            number = int(item)
        except (TypeError, ValueError):
            add(MESSAGES["number"])
            raise _Stop from None
        if number < 1:
            add(MESSAGES["number_min"])
            raise _Stop


#: CKAN core's name_validator: (refused when, message), the first that holds is said
_NAME_RULES: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda name: name in ("new", "edit", "search"), "That name cannot be used"),
    (lambda name: len(name) < 2, "Must be at least 2 characters long"),
    (lambda name: len(name) > 100, "Name must be a maximum of 100 characters long"),
    (lambda name: not _NAME.match(name),
     "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"),
)


def _check_name(key: str, data: dict[str, Any], add: Add) -> None:
    """CKAN core's name_validator and package_name_validator's length rules (whether the name
    is taken only the target knows: "That URL is already in use.")."""
    value = data[key]
    if not isinstance(value, str):
        add("Names must be strings")
        return
    message = next((message for refused, message in _NAME_RULES if refused(value)), None)
    if message:
        add(message)
    if len(value) < 2:
        add(f'Name "{value}" length is less than minimum 2')
    elif len(value) > 100:
        add(f'Name "{value}" length is more than maximum 100')


_KIND_CHECKS: dict[str, Callable[[str, dict[str, Any], Add], None]] = {
    "string": _check_all(lambda v: isinstance(v, str), "string"),
    "uri": _check_all(is_uri, "uri"),
    "boolean": _check_all(lambda v: v in _BOOLEANS, "boolean"),
    "date": _check_date,
    "number": _check_number,
    "name": _check_name,
}


# --- cross-field rules (ckanext-dataoverheid's __after validators) -----------------------------


def _blame(errors: Errors, fields: Any, message: str) -> None:
    for name in fields:
        errors.setdefault(name, []).append(message)


@dataclass(frozen=True)
class AtLeastOne:
    """At least one of `fields` is present; else `message` on each of them."""

    fields: tuple[str, ...]
    message: str

    def check(self, data: dict[str, Any], errors: Errors, lists: ValueLists) -> None:
        if not any(f in data for f in self.fields):
            _blame(errors, self.fields, self.message)


@dataclass(frozen=True)
class AllOrNone:
    """When one of `fields` is present (and none has an error) all must be: `message` (with
    {field}) on the absent ones, or on all of them when `blame_all`."""

    fields: tuple[str, ...]
    message: str
    blame_all: bool = False

    def check(self, data: dict[str, Any], errors: Errors, lists: ValueLists) -> None:
        absent = [f for f in self.fields if f not in data]
        if not absent or len(absent) == len(self.fields):
            return
        if not self.blame_all and any(errors.get(f) for f in self.fields):
            return
        for name in self.fields if self.blame_all else absent:
            errors.setdefault(name, []).append(self.message.format(field=name))


@dataclass(frozen=True)
class Before:
    """`start` < `end` when both are present and valid; else `message` on both."""

    start: str
    end: str
    message: str

    def check(self, data: dict[str, Any], errors: Errors, lists: ValueLists) -> None:
        fields = (self.start, self.end)
        if any(f not in data or errors.get(f) for f in fields):
            return
        start, end = (parse_time(data[f], DATE_FORMAT) for f in fields)
        if start is not None and end is not None and start >= end:
            _blame(errors, fields, self.message)


@dataclass(frozen=True)
class Spatial:
    """spatial_scheme and spatial_value come together, pairwise, each value valid in its scheme."""

    scheme: str = "spatial_scheme"
    value: str = "spatial_value"

    def check(self, data: dict[str, Any], errors: Errors, lists: ValueLists) -> None:
        fields = (self.scheme, self.value)
        if not any(f in data for f in fields) or any(errors.get(f) for f in fields):
            return
        absent = [f for f in fields if f not in data]
        for name in absent:
            errors.setdefault(name, []).append(f"{name} is required for spatial")
        if absent:
            return
        schemes, values = data[self.scheme], data[self.value]
        if len(schemes) != len(values):
            _blame(errors, fields,
                   "the list of schemes must be of the same size as the list of values")
            return
        for scheme, value in zip(schemes, values):
            if not _spatial_valid(scheme, value, lists):
                errors.setdefault(self.value, []).append(
                    f"spatial_value {value} is not valid according to scheme {scheme}")


def _spatial_valid(scheme: str, value: Any, lists: ValueLists) -> bool:
    how, arg = SPATIAL_SCHEMES.get(scheme, ("list", ""))
    if how == "regex":
        return bool(re.match(arg, str(value)))
    return lists.contains(arg, value)


@dataclass(frozen=True)
class OpenLicence:
    """An available (beschikbaar), PUBLIC dataset needs an open licence: replaces license_id's
    errors with the message."""

    def check(self, data: dict[str, Any], errors: Errors, lists: ValueLists) -> None:
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


# --- the package --------------------------------------------------------------------------------


def _subschema_list(data: dict[str, Any], key: str, errors: Errors) -> list[Any]:
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


def _tag_problems(name: Any) -> list[str]:
    """CKAN core's rules for one tag name."""
    if not name:
        return [MISSING]
    if not isinstance(name, str):
        return []
    found = []
    if len(name) < 2:
        found.append(f'Tag "{name}" length is less than minimum 2')
    if len(name) > 100:
        found.append(f'Tag "{name}" length is more than maximum 100')
    if not TAG.match(name):
        found.append(f'Tag "{name}" can only contain alphanumeric characters, spaces '
                     '(" "), hyphens ("-"), underscores ("_") or dots (".")')
    return found


def _check_tags(tags: list[Any], errors: Errors) -> None:
    """CKAN core's tag rules; errors come back as one flat list of strings, one per tag."""
    for tag in tags:
        if isinstance(tag, dict) and tag:
            found = _tag_problems(tag.get("name"))
            if found:
                errors.setdefault("tags", []).append(", ".join(found))


def _check_fields(rules: tuple[Field, ...], data: dict[str, Any], create: bool,
                  lists: ValueLists) -> Errors:
    """Each field's validators, in the schema's order; errors by field (empty lists included)."""
    errors: Errors = {}
    for rule in rules:
        _check_field(rule, data, errors, create, lists)
    return errors


def _check_resource(resource: Any, create: bool, lists: ValueLists) -> Errors:
    if not (isinstance(resource, dict) and resource):  # CKAN ignores an empty resource dict
        return {}
    errors = _check_fields(RESOURCE_FIELDS, resource, create, lists)
    for rule in RESOURCE_RULES:
        rule.check(resource, errors, lists)
    return errors


def _problems(errors: Errors, prefix: str = "") -> list[FieldProblem]:
    return [FieldProblem(prefix + key, message) for key, messages in errors.items()
            for message in messages]


def check_package(package: dict[str, Any], lists: ValueLists | None = None) -> list[FieldProblem]:
    """What data.overheid.nl would answer to this package_create (no `id`) or package_update
    (with `id`) body, as FieldProblems with its own messages; [] when it would accept it."""
    lists = lists or load_value_lists()
    data = copy.deepcopy(package)  # the validators change what they check
    create = not data.get("id")
    errors = _check_fields(DATASET_FIELDS, data, create, lists)
    _check_tags(_subschema_list(data, "tags", errors), errors)
    resource_errors = [_check_resource(res, create, lists)
                       for res in _subschema_list(data, "resources", errors)]
    for rule in DATASET_RULES:
        rule.check(data, errors, lists)
    problems = _problems(errors)
    for index, found in enumerate(resource_errors):
        problems += _problems(found, f"resources[{index}].")
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
        problems += _messages(value, prefix + key)
    return problems


def _messages(value: Any, name: str) -> list[FieldProblem]:
    """One field's messages (a nested error dict is named `<field>.<key>`)."""
    problems: list[FieldProblem] = []
    for message in _items(value):
        if isinstance(message, dict):
            problems += problems_from_errors(message, f"{name}.")
        elif message:
            problems.append(FieldProblem(name, str(message)))
    return problems
