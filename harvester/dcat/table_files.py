"""The CSV files of the value mapping tables: their layout (SPECS), reading and row checks.

Each file starts with ``# `` comment lines, then a CSV header row and the rows; comment and
blank lines may appear anywhere and are skipped. A malformed file raises MappingError naming the
file, the (physical) line and what was expected. harvester.dcat.tables builds the lookups.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harvester.errors import MappingError

__all__ = ["BOOLS", "SPECS", "TABLE_FILES", "Row", "TableSpec", "check_row", "fail", "is_uri",
           "read_table",
           "uri_safe"]


@dataclass(frozen=True)
class TableSpec:
    """The layout of one table file: its required and optional columns, which hold URIs and
    which yes/no values."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ("note",)
    # URI columns: column name -> "single" | "multi" ("|"-separated) | "optional" (may be empty)
    uri_columns: tuple[tuple[str, str], ...] = ()
    bool_columns: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


_CONCEPT_SPEC = {
    "required": ("key", "uri", "donl", "label"),
    "uri_columns": (("uri", "single"), ("donl", "single")),
}

SPECS: dict[str, TableSpec] = {
    "themes": TableSpec(
        "themes", ("key", "eu_theme", "owms_themes", "label_nl"),
        uri_columns=(("eu_theme", "single"), ("owms_themes", "multi")),
    ),
    "licences": TableSpec("licences", **_CONCEPT_SPEC),
    "formats": TableSpec(
        "formats",
        ("key", "file_type", "media_type", "label", "machine_readable", "non_proprietary"),
        uri_columns=(("file_type", "single"), ("media_type", "optional")),
        bool_columns=("machine_readable", "non_proprietary"),
    ),
    "organisations": TableSpec(
        "organisations", ("key", "uri", "name_nl", "name_en"), uri_columns=(("uri", "single"),)
    ),
    "languages": TableSpec("languages", **_CONCEPT_SPEC),
    "frequencies": TableSpec("frequencies", **_CONCEPT_SPEC),
    "access_rights": TableSpec("access_rights", **_CONCEPT_SPEC),
    "schemes": TableSpec(
        "schemes", ("table", "column", "prefix", "scheme", "label_nl"), optional=(),
        uri_columns=(("scheme", "single"),),
    ),
}
TABLE_FILES: tuple[str, ...] = tuple(sorted(spec.filename for spec in SPECS.values()))

BOOLS = {"yes": True, "no": False}
_BAD_URI_CHARS = re.compile(r"[\s<>\"{}|\\^`]")


def uri_safe(text: str) -> bool:
    """Whether `text` holds no character a URI may not hold (whitespace, <, >, ", {, }, |, ...)."""
    return bool(text) and not _BAD_URI_CHARS.search(text)


def is_uri(value: str) -> bool:
    """An absolute http(s) URI without characters a URI may not hold."""
    if not uri_safe(value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass
class Row:
    """One row of a table file: its line number and its values by column ("" if absent)."""

    line: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, "")


def fail(path: Path, line: int | None, message: str) -> MappingError:
    """The MappingError for a problem in `path` at `line`."""
    where = f"{path}, line {line}" if line is not None else f"{path}"
    return MappingError(f"{where}: {message}")


def read_table(path: Path, spec: TableSpec) -> tuple[bytes, list[Row]]:
    """The file's bytes and its rows (header checked, every row as wide as the header)."""
    raw = _read_bytes(path, spec)
    lines = _decode(path, raw).splitlines()
    header: list[str] | None = None
    rows: list[Row] = []
    for number, fields in _csv_lines(path, lines):
        if header is None:
            _check_header(path, number, fields, spec)
            header = fields
        elif len(fields) != len(header):
            raise fail(path, number, f"expected {len(header)} fields ({', '.join(header)}), "
                       f"got {len(fields)}")
        else:
            rows.append(Row(number, dict(zip(header, fields))))
    if header is None:
        raise fail(path, len(lines) + 1, f"no header row; expected a CSV header with the "
                   f"columns {', '.join(spec.required)}")
    return raw, rows


def _read_bytes(path: Path, spec: TableSpec) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise fail(path, None, f"mapping table not found; expected a CSV file with columns "
                   f"{', '.join(spec.columns)}") from None
    except OSError as exc:
        raise fail(path, None, f"cannot read mapping table ({exc.strerror or exc}); expected a "
                   f"readable CSV file") from None


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise fail(path, line, f"not valid UTF-8 ({exc.reason}); expected a UTF-8 CSV "
                   f"file") from None


def _csv_lines(path: Path, lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, trimmed fields) of each line that is not blank or a comment; each line is
    a record of its own (a quoted field may not go on to the next line)."""
    numbers: list[int] = []  # the line numbers the reader took, in order

    def content() -> Iterator[str]:
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                numbers.append(number)
                yield line

    reader = csv.reader(content(), strict=True)
    while True:
        first = reader.line_num  # the index in `numbers` of the record's line
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _not_csv(path, numbers[first], str(exc)) from None
        if reader.line_num != first + 1:  # a quoted field ran on into the next line
            raise _not_csv(path, numbers[first], "unexpected end of data")
        yield numbers[first], [f.strip() for f in fields]


def _not_csv(path: Path, number: int, reason: str) -> MappingError:
    return fail(path, number, f"not a valid CSV line ({reason}); expected comma-separated "
                f"fields, quoted with \" where needed")


def _check_header(path: Path, number: int, fields: list[str], spec: TableSpec) -> None:
    problems = [f"{what} column(s) {', '.join(columns)}" for what, columns in (
        ("missing", [c for c in spec.required if c not in fields]),
        ("unknown", [c for c in fields if c not in spec.columns]),
        ("repeated", sorted({c for c in fields if fields.count(c) > 1})),
    ) if columns]
    if problems:
        raise fail(path, number, f"bad header row ({'; '.join(problems)}); expected the "
                   f"columns {', '.join(spec.required)}"
                   + (f" and optionally {', '.join(spec.optional)}" if spec.optional else ""))


def check_row(path: Path, spec: TableSpec, row: Row) -> None:
    uri_kinds = dict(spec.uri_columns)
    for column in spec.required:
        value = row[column]
        kind = uri_kinds.get(column)
        if not value:
            if kind == "optional":
                continue
            raise fail(path, row.line, f"column '{column}' is empty; expected "
                        + ("an absolute http(s) URI" if kind else "a value"))
        if kind == "multi":
            parts = value.split("|")
            for part in parts:
                if not is_uri(part.strip()):
                    raise fail(path, row.line, f"column '{column}' value {part.strip()!r} is "
                                f"not an absolute http(s) URI; expected one or more URIs "
                                f"separated by '|'")
        elif kind and not is_uri(value):
            raise fail(path, row.line, f"column '{column}' value {value!r} is not an absolute "
                        f"http(s) URI")
        if column in spec.bool_columns and value.casefold() not in BOOLS:
            raise fail(path, row.line, f"column '{column}' value {value!r}; expected yes or no")
