"""Our SHACL shapes: reading a shapes folder (shapes/*.ttl), its profiles, its fingerprint, and the
checks that the shapes are whole and well-formed before any data is judged by them.

A shapes folder holds the rules every profile shares in its own *.ttl files, and the rules of
one profile (the DCAT-AP-NL version judged against: harvester.config.PROFILES) in
profiles/<profile>/*.ttl; `profile_files` gives a profile's files. Every shapes folder has a
folder per profile (it may hold no rules), so a package or a copy that lost one fails loudly
instead of judging by the shared rules alone.

A shapes folder is read into one graph. With `check` (the default), every shape a file refers
to must be defined in some file, and the shapes must be well-formed SHACL: pySHACL parses a
constraint only when it first evaluates it, so a malformed shape (`sh:minCount "veel"`, a broken
sh:pattern) would otherwise surface in the middle of a harvest. The probe that finds those
(`probe`, which needs pySHACL) runs when shapes are loaded, except for the shipped shapes as
they are shipped (`SHIPPED_FINGERPRINTS`): their probe is a test (tests/test_validate.py).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import rdflib
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from harvester.config import DEFAULT_PROFILE, PROFILES
from harvester.errors import HarvesterError

#: profile -> the `fingerprint` of its files as shipped in harvester/shapes/: shapes with one of
#: these fingerprints are not probed when loaded. tests/test_validate.py probes the shipped shapes
#: of every profile and checks these values (when a shape file changes, the test names the new one).
SHIPPED_FINGERPRINTS = {
    "3.0": "793754b4a1ca49d96c0508cf84902e45fca418348eaa051197c2b71d194f6bb2",
    "3.0.1": "bd40007c8685f00a5fd7f630866484b8dc05ed53f110aaaa20ba026028e56e80",
}
#: the folder of a shapes folder that holds one folder of rules per profile
PROFILES_FOLDER = "profiles"

#: sh:severity -> the severity a Finding names
SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}

_SHAPE_REF_PREDICATES = (SH.property, SH.node, SH.qualifiedValueShape, SH["not"])
_SHAPE_LIST_PREDICATES = (SH["or"], SH["and"], SH.xone)
_PROBE = "urn:dcat-ap-nl-harvester:probe:"


class ShapesError(HarvesterError):
    """A shape file is missing, does not parse, or is not well-formed SHACL."""


class UnsupportedShapes(Exception):
    """The shapes use a SHACL feature the compiled engine does not implement."""


def shape_files(shapes_dir: Path) -> list[Path]:
    """The *.ttl files of a shapes folder, in name order."""
    if not shapes_dir.is_dir():
        raise ShapesError(f"shapes folder {shapes_dir} does not exist")
    files = sorted(p for p in shapes_dir.glob("*.ttl") if p.is_file())
    if not files:
        raise ShapesError(f"shapes folder {shapes_dir} holds no *.ttl shape files")
    return files


def profile_files(shapes_dir: Path, profile: str = DEFAULT_PROFILE) -> list[Path]:
    """The shape files of `profile`: the folder's own *.ttl files (the rules every profile
    shares), then those of profiles/<profile>/ (which must exist, and may hold none), each
    group in name order."""
    if profile not in PROFILES:
        raise ShapesError(f"unknown DCAT-AP-NL profile {profile!r}; expected one of: {', '.join(PROFILES)}")
    shared = shape_files(shapes_dir)
    folder = shapes_dir / PROFILES_FOLDER / profile
    if not folder.is_dir():
        raise ShapesError(f"shapes folder {shapes_dir} has no folder {PROFILES_FOLDER}/{profile}/ for the "
                          f"rules of profile {profile!r} (make it, empty, when the profile adds none)")
    return shared + sorted(p for p in folder.glob("*.ttl") if p.is_file())


def existing_files(files: list[Path]) -> list[Path]:
    """`files`, when there is at least one and each of them exists."""
    if not files:
        raise ShapesError("no shape files given")
    for f in files:
        if not f.is_file():
            raise ShapesError(f"shape file {f} does not exist")
    return files


def fingerprint(files: list[Path]) -> str:
    """A digest of the shape files' names and contents (changes whenever a shape does)."""
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode("utf-8") + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


_loaded: dict[str, Graph] = {}
_loaded_lock = threading.Lock()


def load_shapes(files: list[Path], digest: str, check: bool = True) -> Graph:
    """The shape files (whose `fingerprint` is `digest`) parsed into one graph, checked with
    `check` (the shipped shapes are not probed, see `SHIPPED_FINGERPRINTS`); read once per
    process and shared by every validator of these shapes."""
    key = f"{digest}:{int(check)}"
    with _loaded_lock:
        found = _loaded.get(key)
        if found is None:
            found = _loaded[key] = _parse_shapes(files, check=check,
                                                 probe_them=check and digest not in SHIPPED_FINGERPRINTS.values())
        return found


def _parse_shapes(files: list[Path], *, check: bool, probe_them: bool) -> Graph:
    """The shape files parsed into one graph (checked for dangling references with `check`,
    and for well-formedness with `probe_them`)."""
    per_file = [(path, _parse_file(path)) for path in files]
    union = Graph()
    for _, g in per_file:
        for t in g:
            union.add(t)
    if check:
        _check_references(per_file, union)
    if probe_them:
        _check_well_formed(per_file, union)
    for prefix, ns in per_file[0][1].namespace_manager.namespaces():
        union.bind(prefix, ns, override=False)
    return union


def _parse_file(path: Path) -> Graph:
    g = Graph()
    try:
        g.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises several unrelated exception types
        raise ShapesError(f"shape file {path} does not parse as Turtle: {exc}") from exc
    return g


def _check_references(per_file: list[tuple[Path, Graph]], union: Graph) -> None:
    """Every shape a file refers to (sh:property, sh:node, sh:or, ...) must be defined somewhere."""

    def defined(node: rdflib.term.Node) -> bool:
        return next(union.predicate_objects(node), None) is not None

    for path, g in per_file:
        for pred in _SHAPE_REF_PREDICATES:
            for s, o in g.subject_objects(pred):
                if not defined(o):
                    raise ShapesError(f"shape file {path}: {show(s)} refers with {show(pred)} to "
                                      f"{show(o)}, which no shape file defines")
        for pred in _SHAPE_LIST_PREDICATES:
            for s, head in g.subject_objects(pred):
                for member in Collection(union, head):
                    if not defined(member):
                        raise ShapesError(f"shape file {path}: {show(s)} lists {show(member)} in "
                                          f"{show(pred)}, which no shape file defines")


def _check_well_formed(per_file: list[tuple[Path, Graph]], union: Graph) -> None:
    """Raise ShapesError naming the shape file(s) when `probe` finds the shapes malformed."""
    error = probe(union)
    if error is None:
        return
    for path, g in per_file:
        own = probe(g)
        if own is not None:
            raise ShapesError(f"shape file {path} is not well-formed SHACL: {own}")
    names = ", ".join(str(p) for p, _ in per_file)
    raise ShapesError(f"the shape files {names} are not well-formed SHACL together: {error}")


def probe(shapes: Graph) -> str | None:
    """Make pySHACL load every targeted shape's constraints once: what is wrong with them, or None.

    The probe graph has one instance per target class (and a subject and an object per
    sh:targetSubjectsOf / sh:targetObjectsOf property), so every targeted shape is evaluated.
    The full SHACL-SHACL check of the shipped shapes is a test (tests/test_validate.py).
    """
    import pyshacl

    data = Graph()
    for i, cls in enumerate(_sorted_objects(shapes, SH.targetClass)):
        data.add((URIRef(f"{_PROBE}{i}"), RDF.type, cls))
    for i, prop in enumerate(_sorted_objects(shapes, SH.targetSubjectsOf)):
        data.add((URIRef(f"{_PROBE}s{i}"), prop, Literal("probe")))
    for i, prop in enumerate(_sorted_objects(shapes, SH.targetObjectsOf)):
        data.add((URIRef(f"{_PROBE}o{i}a"), prop, URIRef(f"{_PROBE}o{i}b")))
    scratch = Graph()
    for t in shapes:
        scratch.add(t)
    try:
        pyshacl.validate(data, shacl_graph=scratch, inference="none", inplace=True,
                         allow_warnings=True, allow_infos=True)
    except Exception as exc:  # noqa: BLE001 - pyshacl raises its own errors, re.error, ...
        return f"{type(exc).__name__}: {exc}"
    return None


def _sorted_objects(g: Graph, pred: rdflib.term.Node) -> list[rdflib.term.Node]:
    return sorted(set(g.objects(None, pred)), key=str)


def message_text(by_lang: dict[str | None, str]) -> str:
    """One finding's message from a shape's messages by language: "nl-text / en-text" when it
    has both, else the Dutch, English, untagged or any other one."""
    nl, en = by_lang.get("nl"), by_lang.get("en")
    if nl and en:
        return f"{nl} / {en}"
    return nl or en or by_lang.get(None) or next(iter(by_lang.values()), "")


def show(node: rdflib.term.Node) -> str:
    """A shape node as an error message names it."""
    return node.n3() if isinstance(node, URIRef) else str(node)


__all__ = [
    "PROFILES_FOLDER",
    "SEVERITIES",
    "SHIPPED_FINGERPRINTS",
    "ShapesError",
    "UnsupportedShapes",
    "existing_files",
    "fingerprint",
    "load_shapes",
    "message_text",
    "probe",
    "profile_files",
    "shape_files",
]
