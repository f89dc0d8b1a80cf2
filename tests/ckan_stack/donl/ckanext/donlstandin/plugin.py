"""data.overheid.nl stand-in: the validators of its CKAN (ckanext-dataoverheid 2.2.2) for scheming.

Runs inside the CKAN 2.12 test stack (tests/ckan_stack), next to `scheming_datasets` with the
schema `../../donl_schema.yaml`. It answers a package the way data.overheid.nl does: same error
dict shapes, same messages (../shared/reference/donl/validator-behaviour.md), value lists loaded
from the project's mapping tables (mappings/donl-vocabularies.csv says where each list is), not
from code. It is an independent implementation of the rules that harvester/target.py's
check_package applies: tests/test_donl_standin.py checks that the two agree.

Loading: put the folder `tests/ckan_stack/donl` on the CKAN process's PYTHONPATH (it holds the
`ckanext.donlstandin` package and the dist-info that registers the `donl_standin` plugin entry
point) and add `donl_standin` to ckan.plugins. Ini option `donl_standin.mappings_dir` names the
mappings folder (default: the checkout's `mappings/`).

Where this differs from data.overheid.nl on purpose: a package with both spatial_scheme and
spatial_value is validated as the extension intends, not answered with HTTP 500 (a defect of
2.2.2), and `communities` is not derived.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ckan import plugins
from ckan.lib.navl.dictization_functions import missing
from ckan.plugins import toolkit

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
AVAILABLE = "http://data.overheid.nl/status/beschikbaar"
PUBLIC = "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
DEFAULT_MAPPINGS = Path(__file__).resolve().parents[5] / "harvester" / "mappings"
SPATIAL = {  # ckanext-dataoverheid config.json "spatial" / "regex"
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
DROPPED = ("author", "author_email", "maintainer", "maintainer_email")

_lists: dict[str, frozenset[str]] = {}
_mappings_dir = DEFAULT_MAPPINGS


# --- value lists --------------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
             if line.strip() and not line.lstrip().startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(io.StringIO("".join(lines)))]


def load_lists(folder: Path) -> dict[str, frozenset[str]]:
    """Every value list named in donl-vocabularies.csv, from the tables it points to."""
    lists: dict[str, set[str]] = {}
    tables: dict[str, list[dict[str, str]]] = {}
    for spec in _rows(folder / "donl-vocabularies.csv"):
        name, table, column = spec["vocabulary"], spec["table"], spec["column"]
        if table not in tables:
            tables[table] = _rows(folder / f"{table}.csv")
        values = lists.setdefault(name, set())
        for row in tables[table]:
            if table == "donl-valuelists":
                if row["list"] == column and row["value"]:
                    values.add(row["value"])
            else:
                values.update(v.strip() for v in row[column].split("|") if v.strip())
    return {name: frozenset(values) for name, values in lists.items()}


def in_list(name: str, value: Any) -> bool:
    global _lists
    if not _lists:
        _lists = load_lists(_mappings_dir)
    if name not in _lists:
        raise RuntimeError(f"value list {name!r} is not in {_mappings_dir}/donl-vocabularies.csv")
    return str(value) in _lists[name]


# --- field validators (data.overheid.nl's messages) ---------------------------------------------


def _errors(errors: dict, key: tuple) -> list:
    if not errors.get(key):
        errors[key] = []
    return errors[key]


def _empty(value: Any) -> bool:
    return value is missing or value is None or value == "" or value == []


def donl_default(default: Any):
    """Fill in `default` when the field is empty."""
    def validator(key, data, errors, context):
        if _empty(data.get(key, missing)):
            data[key] = default
    return validator


def donl_force(value: Any):
    """Set the field to `value` whatever the caller sent (changetype)."""
    def validator(key, data, errors, context):
        data[key] = value
    return validator


def donl_single_value(key, data, errors, context):
    if isinstance(data.get(key), list):
        _errors(errors, key).append("expected a single value, got a list of values")
        raise toolkit.StopOnError


def _multi_value(allow_duplicates: bool):
    def validator(key, data, errors, context):
        value = data.get(key)
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            value = data[key] = value.replace('"', "")[1:-1].split(",")
        if not value:
            return
        if isinstance(value, str):
            data[key] = [value]  # as 2.2.2 does, and then it still refuses the value
        if isinstance(value, list):
            if not allow_duplicates and len(value) != len({json.dumps(v, sort_keys=True)
                                                           for v in value}):
                _errors(errors, key).append("duplicates are not allowed")
                raise toolkit.StopOnError
        else:
            _errors(errors, key).append("value must be a list")
            raise toolkit.StopOnError
    return validator


donl_multi_value = _multi_value(False)
donl_multi_value_dups = _multi_value(True)


def _items(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def donl_string(key, data, errors, context):
    value = data.get(key)
    if value and not all(isinstance(v, str) for v in _items(value)):
        _errors(errors, key).append("expected one or more string values")
        raise toolkit.StopOnError


def _uri(value: Any) -> bool:
    from urllib.parse import urlparse

    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return bool(parsed.scheme and parsed.netloc)


def donl_uri(key, data, errors, context):
    value = data.get(key)
    if value and not all(_uri(v) for v in _items(value)):
        _errors(errors, key).append("expected an URI, or a list of URIs")
        raise toolkit.StopOnError


def _parse(value: Any, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(value, fmt) if isinstance(value, str) else None
    except ValueError:
        return None


def donl_date(key, data, errors, context):
    value = data.get(key)
    if not value:
        return
    message = f"expected a date, or a list of dates in format {DATE_FORMAT}"
    if isinstance(value, list):
        for item in value:
            if _parse(item, DATE_FORMAT) is None:
                _errors(errors, key).append(message)
        return
    if _parse(value, DATE_FORMAT) is not None:
        return
    if _parse(value, "%Y-%m-%d") is not None:
        data[key] = value + "T00:00:00"
    else:
        _errors(errors, key).append(message)


def donl_number(key, data, errors, context):
    value = data.get(key)
    if not value:
        return
    for item in _items(value):
        try:
            number = int(item)
        except (TypeError, ValueError):
            _errors(errors, key).append("expected a integer, or a a list of integers")
            raise toolkit.StopOnError
        if number < 1:
            _errors(errors, key).append("integer values may not be less than 1")
            raise toolkit.StopOnError


def donl_boolean(key, data, errors, context):
    value = data.get(key)
    if not value:
        return
    if not all(v in (True, "True", "true", False, "False", "false") for v in _items(value)):
        _errors(errors, key).append("expected a boolean or a list of booleans")
        raise toolkit.StopOnError


def donl_in_list(name: str):
    """Every value must be in value list `name`: one message per value that is not."""
    def validator(key, data, errors, context):
        value = data.get(key)
        if not value:
            return
        for item in _items(value):
            if not in_list(name, item):
                _errors(errors, key).append(f"value is part of the list {name}")
    return validator


def donl_json_dump(key, data, errors, context):
    """Store a list (a package extra holds text) as JSON; booleans as "true"/"false"."""
    value = data.get(key)
    if isinstance(value, list):
        data[key] = json.dumps(value)
    elif isinstance(value, bool):
        data[key] = "true" if value else "false"


def donl_json_load(value: Any) -> Any:
    """Output: a JSON list stored by donl_json_dump as the list again."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --- before / after validators ------------------------------------------------------------------


def donl_drop_properties(key, data, errors, context):
    """data.overheid.nl drops author and maintainer fields."""
    for name in DROPPED:
        data.pop((name,), None)


def _present(data: dict, name: str) -> bool:
    return (name,) in data and data[(name,)] is not missing


def donl_contact_point(key, data, errors, context):
    fields = ("contact_point_website", "contact_point_email", "contact_point_phone")
    if not any(_present(data, f) for f in fields):
        for f in fields:
            _errors(errors, (f,)).append(
                "website, email or phone is required for a valid contact_point")


def donl_temporal(key, data, errors, context):
    fields = ("temporal_start", "temporal_end")
    if not all(_present(data, f) for f in fields) or any(errors.get((f,)) for f in fields):
        return
    start, end = (_parse(data[(f,)], DATE_FORMAT) for f in fields)
    if start and end and start >= end:
        for f in fields:
            _errors(errors, (f,)).append(
                "temporal_start cannot be greater or equal to temporal_end")


def donl_legal_foundation(key, data, errors, context):
    fields = ("legal_foundation_ref", "legal_foundation_uri", "legal_foundation_label")
    if not any(_present(data, f) for f in fields) or any(errors.get((f,)) for f in fields):
        return
    for f in fields:
        if not _present(data, f):
            _errors(errors, (f,)).append(f"{f} is required when providing a legal_foundation")


def donl_spatial(key, data, errors, context):
    fields = ("spatial_scheme", "spatial_value")
    if not any(_present(data, f) for f in fields) or any(errors.get((f,)) for f in fields):
        return
    absent = [f for f in fields if not _present(data, f)]
    for f in absent:
        _errors(errors, (f,)).append(f"{f} is required for spatial")
    if absent:
        return
    schemes, values = (donl_json_load(data[(f,)]) for f in fields)
    if len(schemes) != len(values):
        for f in fields:
            _errors(errors, (f,)).append(
                "the list of schemes must be of the same size as the list of values")
        return
    for scheme, value in zip(schemes, values):
        how, arg = SPATIAL.get(scheme, ("list", ""))
        valid = bool(re.match(arg, str(value))) if how == "regex" else in_list(arg, value)
        if not valid:
            _errors(errors, ("spatial_value",)).append(
                f"spatial_value {value} is not valid according to scheme {scheme}")


def donl_rights(key, data, errors, context):
    status = data.get(("dataset_status",))
    rights = data.get(("access_rights",))
    licence = data.get(("license_id",))
    if status == AVAILABLE and rights == PUBLIC and in_list("non_open_licenses", licence):
        errors[("license_id",)] = [(
            f"When dataset_status is set to {AVAILABLE} and access_rights is set to "
            f"[ {PUBLIC} ], an open license must be provided; got {licence}")]


def donl_checksum(key, data, errors, context):
    """hash and hash_algorithm of a resource come together (ckanext-dataoverheid runs this per
    resource; scheming has no resource-level after-validators, so it runs here for each)."""
    indexes = sorted({k[1] for k in data if len(k) == 3 and k[0] == "resources"})
    for index in indexes:
        fields = [("resources", index, "hash"), ("resources", index, "hash_algorithm")]
        if data.get(fields[0]) == "":
            data.pop(fields[0], None)
        present = [f in data and data[f] is not missing for f in fields]
        if any(present) and not all(present):
            for f in fields:
                _errors(errors, f).append(f"{f[2]} is required when providing a valid checksum")


class DonlStandinPlugin(plugins.SingletonPlugin):
    """Registers the validators the DCAT-AP-DONL scheming schema names."""

    plugins.implements(plugins.IConfigurable)
    plugins.implements(plugins.IValidators)

    def configure(self, config: Any) -> None:
        global _mappings_dir, _lists
        _mappings_dir = Path(config.get("donl_standin.mappings_dir") or DEFAULT_MAPPINGS)
        _lists = load_lists(_mappings_dir)

    def get_validators(self) -> dict[str, Any]:
        return {
            "donl_default": donl_default,
            "donl_force": donl_force,
            "donl_single_value": donl_single_value,
            "donl_multi_value": donl_multi_value,
            "donl_multi_value_dups": donl_multi_value_dups,
            "donl_string": donl_string,
            "donl_uri": donl_uri,
            "donl_date": donl_date,
            "donl_number": donl_number,
            "donl_boolean": donl_boolean,
            "donl_in_list": donl_in_list,
            "donl_json_dump": donl_json_dump,
            "donl_json_load": donl_json_load,
            "donl_drop_properties": donl_drop_properties,
            "donl_contact_point": donl_contact_point,
            "donl_temporal": donl_temporal,
            "donl_legal_foundation": donl_legal_foundation,
            "donl_spatial": donl_spatial,
            "donl_rights": donl_rights,
            "donl_checksum": donl_checksum,
        }
