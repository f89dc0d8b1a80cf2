"""The report's files: written atomically, the JSON as a stream, dataset by dataset.

    with atomic_file(path) as handle:
        writer = JsonReportWriter(handle)
        writer.begin(header)                 # the run's facts, one key a line
        for entry in entries:
            writer.dataset(entry)            # one dataset a line
        writer.end(trailer)                  # what is known once every dataset was seen

The JSON report is one JSON object whose top-level keys each take one line, and whose
`datasets` list has one dataset a line, so that a reader can go through it line by line
(`copy_with_packages` does) as well as load it whole.

`copy_with_packages(path, out, packages_from_store(store, source))` writes a stored report again
with every dataset's full package added: what `harvester report RUN --format json --full` prints.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TextIO

import orjson

__all__ = [
    "JsonReportWriter",
    "atomic_file",
    "copy_with_packages",
    "json_line",
    "packages_from_store",
]

#: The line that opens the list of datasets, and how the line that closes it starts.
_DATASETS_OPEN = '"datasets": [\n'
_DATASETS_CLOSE = "]"


def json_line(value: Any) -> str:
    """A value as compact JSON on one line (non-ASCII characters as they are): by orjson,
    else (a lone surrogate, an integer beyond 64 bits, a key that is not a string) by json."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A text file written under a temporary name beside `path` and renamed over it once
    complete (removed when writing fails), with the mode open() would give it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temp, 0o666 & ~_umask())  # as open() would create it (mkstemp makes it 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


class JsonReportWriter:
    """Writes a report as JSON: its header's keys, its datasets one by one, its trailer's keys."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.count = 0

    def _keys(self, data: Mapping[str, Any]) -> None:
        for key, value in data.items():
            self.handle.write(f"{json.dumps(key)}: {json_line(value)},\n")

    def begin(self, header: Mapping[str, Any]) -> None:
        self.handle.write("{\n")
        self._keys(header)
        self.handle.write(_DATASETS_OPEN)

    def dataset(self, entry: Mapping[str, Any]) -> None:
        self.handle.write((",\n" if self.count else "") + json_line(entry))
        self.count += 1

    def end(self, trailer: Mapping[str, Any]) -> None:
        self.handle.write(("\n" if self.count else "") + _DATASETS_CLOSE + ",\n")
        items = list(trailer.items())
        for i, (key, value) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            self.handle.write(f"{json.dumps(key)}: {json_line(value)}{comma}\n")
        self.handle.write("}\n")


# --- a stored report with its packages ------------------------------------------------------------

#: What gives a dataset entry's full package (None when there is none).
PackageOf = Callable[[Mapping[str, Any]], Any]


def _with_package(entry: dict[str, Any], package_of: PackageOf) -> dict[str, Any]:
    package = package_of(entry)
    if package is not None:
        entry["package"] = package
    return entry


def _dataset_line(line: str, package_of: PackageOf) -> str:
    """One line of the datasets list with the dataset's package added (its comma kept)."""
    text = line.rstrip("\n")
    comma = text.endswith(",")
    entry = json.loads(text[:-1] if comma else text)
    return json_line(_with_package(entry, package_of)) + ("," if comma else "") + "\n"


def copy_with_packages(path: Path, out: TextIO, package_of: PackageOf) -> None:
    """Write the JSON report at `path` to `out` with each dataset's full package added (as
    `package`), line by line; a report in another layout is read whole."""
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
        lines = iter(handle)
        rest = [first]
        for line in lines:
            rest.append(line)
            if line == _DATASETS_OPEN:
                break
        else:  # not written by JsonReportWriter: the whole of it
            report = json.loads("".join(rest))
            report["datasets"] = [_with_package(d, package_of) for d in report.get("datasets", [])]
            out.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
            return
        out.writelines(rest)
        for line in lines:
            out.write(line if line.startswith(_DATASETS_CLOSE) else
                      _dataset_line(line, package_of))
            if line.startswith(_DATASETS_CLOSE):
                break
        out.writelines(lines)


class _ResultStore(Protocol):
    """The state store as `packages_from_store` reads it (harvester.store.StateStore is one)."""

    def results_for(self, source: str, source_ids: list[str]) -> Mapping[str, Any]: ...


def packages_from_store(store: _ResultStore, source: str) -> PackageOf:
    """What gives a dataset entry's package: the data.overheid.nl package fields and resources
    of its source record's stored result (what the harvester made of it last), or None."""

    def package_of(entry: Mapping[str, Any]) -> Any:
        source_id = entry.get("source_id")
        if not source_id:
            return None
        result = store.results_for(source, [str(source_id)]).get(str(source_id))
        stored = getattr(result, "target_package", None) if result is not None else None
        return stored.get("target") if isinstance(stored, Mapping) else None

    return package_of
