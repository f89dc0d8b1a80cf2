"""data.overheid.nl's value lists (themes, organisations, languages, licences, ...), read from the
mapping tables.

`donl-vocabularies.csv` in the mapping tables folder names, per list, the table and column that
hold its values (`vocabulary,table,column`). A table is one of the mapping tables, whose column
holds the list's values (`owms_themes` holds several, `|`-separated), or `donl-valuelists`, whose
rows with `list` equal to the column name hold them. The DONL:Organization list also keeps each
organisation's label, so that an agent the graph names but does not identify by a DONL URI can be
found by its name.

    lists = value_lists_for(mappings)       # the lists beside the loaded mapping tables
    lists.contains("DONL:Language", uri)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from harvester.config import MAPPINGS_DIR
from harvester.errors import MappingError

__all__ = ["ValueLists", "load_value_lists", "value_lists_fingerprint", "value_lists_for"]

SPEC_FILE = "donl-vocabularies.csv"
#: the table whose rows each name the list (column `list`) their value belongs to
VALUE_LIST_TABLE = "donl-valuelists"
#: the list whose labels are kept (ValueLists.organisation_labels)
ORGANISATIONS = "DONL:Organization"


@dataclass(frozen=True)
class ValueLists:
    """data.overheid.nl's value lists, by the name its messages use."""

    lists: Mapping[str, frozenset[str]]
    #: DONL:Organization label (lower-cased) -> URI, for agents the graph names but not by URI
    organisation_labels: Mapping[str, str]
    #: a digest of the files the lists were read from
    fingerprint: str

    def contains(self, name: str, value: Any) -> bool:
        return str(value) in self.values(name)

    def values(self, name: str) -> frozenset[str]:
        return self.lists.get(name, frozenset())

    @cached_property
    def content_digest(self) -> str:
        """A digest of what the lists hold (unlike `fingerprint`, the same for tables that
        changed in what no list takes from them)."""
        text = json.dumps([sorted((name, sorted(values)) for name, values in self.lists.items()),
                           sorted(self.organisation_labels.items())], ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class _ListSource:
    """One row of donl-vocabularies.csv: list `name` takes its values from `column` of `table`."""

    row: int
    name: str
    table: str
    column: str


def load_value_lists(path: str | Path | None = None) -> ValueLists:
    """The value lists named in `<path>/donl-vocabularies.csv` (default: the project's mapping
    tables folder)."""
    return _load_value_lists(_resolved(path or MAPPINGS_DIR))


def value_lists_for(mappings: Any) -> ValueLists:
    """The value lists beside a Mappings' tables (its folder when that has
    donl-vocabularies.csv, else the project's mapping tables folder)."""
    return _load_value_lists(_lists_folder(mappings))


def value_lists_fingerprint(mappings: Any) -> str:
    """`value_lists_for(mappings).fingerprint`, from the files alone (the lists unread: a sync
    that reuses every stored result needs no value list)."""
    return _fingerprint(Path(_lists_folder(mappings)))


def _resolved(folder: str | Path) -> str:
    return str(Path(folder).resolve())


def _lists_folder(mappings: Any) -> str:
    folder = getattr(mappings, "path", None)
    if folder is not None and (Path(folder) / SPEC_FILE).exists():
        return _resolved(folder)
    return _resolved(MAPPINGS_DIR)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a mapping table (comment lines starting with `#` and blank lines skipped)."""
    lines = [line for line in _read_table(path).splitlines(keepends=True)
             if line.strip() and not line.lstrip().startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(io.StringIO("".join(lines)))]


def _read_table(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read value-list table: {exc}") from exc


def _list_sources(folder: Path) -> list[_ListSource]:
    """The rows of a folder's donl-vocabularies.csv."""
    spec_path = folder / SPEC_FILE
    sources = []
    for number, row in enumerate(_csv_rows(spec_path), 1):
        name, table, column = row.get("vocabulary"), row.get("table"), row.get("column")
        if not (name and table and column):
            raise MappingError(f"{spec_path}: row {number} needs vocabulary, table and column")
        sources.append(_ListSource(number, name, table, column))
    return sources


def _fingerprint(folder: Path) -> str:
    """A digest of donl-vocabularies.csv and, in the order it names them, the tables it names."""
    tables = dict.fromkeys(source.table for source in _list_sources(folder))
    digest = hashlib.sha256((folder / SPEC_FILE).read_bytes())
    for table in tables:
        table_path = folder / f"{table}.csv"
        try:
            digest.update(table.encode() + b"\0" + table_path.read_bytes())
        except OSError as exc:
            raise MappingError(f"{table_path}: cannot read value-list table: {exc}") from exc
    return digest.hexdigest()


@lru_cache(maxsize=8)  # check_package without lists asks for the default lists per package
def _load_value_lists(folder_name: str) -> ValueLists:
    folder = Path(folder_name)
    tables: dict[str, list[dict[str, str]]] = {}
    lists: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for source in _list_sources(folder):
        if source.table not in tables:
            tables[source.table] = _csv_rows(folder / f"{source.table}.csv")
        values = lists.setdefault(source.name, set())
        for value, label in _values_of(source, tables[source.table], folder / SPEC_FILE):
            values.add(value)
            if source.name == ORGANISATIONS and label:
                labels.setdefault(label.lower(), value)
    return ValueLists({k: frozenset(v) for k, v in lists.items()}, labels, _fingerprint(folder))


def _values_of(source: _ListSource, rows: list[dict[str, str]],
               spec_path: Path) -> Iterator[tuple[str, str]]:
    """(value, label) of each value a list takes from its table's rows."""
    for row in rows:
        if source.table == VALUE_LIST_TABLE:
            if row.get("list") != source.column:
                continue
            found, label = [row.get("value", "")], row.get("label_nl", "")
        else:
            if source.column not in row:
                raise MappingError(f"{spec_path}: row {source.row}: table {source.table} has no "
                                   f"column {source.column!r}")
            cell = row[source.column]
            found = cell.split("|") if source.column == "owms_themes" else [cell]
            label = row.get("name_nl") or row.get("label_nl") or row.get("label") or ""
        for value in found:
            if value.strip():
                yield value.strip(), label
