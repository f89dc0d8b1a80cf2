"""Validation stage: check DCAT-AP-NL 3.0 graphs against this project's SHACL shapes (shapes/*.ttl).

The shapes test cardinalities, class ranges, datatypes and value-list membership. Range and
value-list checks need to know what the values *are* (that .../data-theme/EDUC is a skos:Concept
in the EU data-theme list, that a licence URI is a dct:LicenseDocument, ...). The project's
mapping tables know that: every validation adds the *background graph* built by
`background_graph()` from `load_mappings().vocabulary_graph()` to the data. A finding belongs to
the graph that *describes* its focus node (has it as a subject): findings about nodes that only
the background describes (a concept, a licence, an organisation of the tables) are not reported
for the data; `Validator.check_background()` reports them, and the tests keep it clean.

Public API (used by the CLI, the state store and the benchmark): `Finding`, `ValidationReport`,
`Validator` (`validate`, `validate_datasets`, `fingerprint`), `ShapesError`, `background_graph`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, SKOS

from harvester.config import SHAPES_DIR
from harvester.dcat.terms import shared, term
from harvester.dcat.triples import add_objects
from harvester.errors import HarvesterError

_SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
_SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}

_DCT = rdflib.Namespace("http://purl.org/dc/terms/")
_EU = "http://publications.europa.eu/resource/authority/"

# Class axioms of the vocabularies DCAT-AP reuses (DCAT 3, DCMI Terms, FOAF, vCard), as far as
# class-range checks need them: a dcat:Dataset is a dcat:Resource (the range of
# foaf:primaryTopic), a dct:MediaType is a dct:MediaTypeOrExtent (the range of dct:format), a
# foaf:Organization is a foaf:Agent, a vcard:Organization is a vcard:Kind.
_AXIOMS_TTL = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
dcat:Dataset rdfs:subClassOf dcat:Resource .
dcat:DataService rdfs:subClassOf dcat:Resource .
dcat:Catalog rdfs:subClassOf dcat:Resource .
dcat:DatasetSeries rdfs:subClassOf dcat:Resource .
dct:MediaType rdfs:subClassOf dct:MediaTypeOrExtent .
foaf:Organization rdfs:subClassOf foaf:Agent .
foaf:Person rdfs:subClassOf foaf:Agent .
foaf:Group rdfs:subClassOf foaf:Agent .
vcard:Organization rdfs:subClassOf vcard:Kind .
vcard:Individual rdfs:subClassOf vcard:Kind .
vcard:Group rdfs:subClassOf vcard:Kind .
vcard:Location rdfs:subClassOf vcard:Kind .
"""

# A concept of these EU lists is used as the value of a property whose DCMI/DCAT range is the
# class given here (dct:accessRights -> dct:RightsStatement, dct:language ->
# dct:LinguisticSystem, dct:accrualPeriodicity -> dct:Frequency, dct:format ->
# dct:MediaTypeOrExtent). The EU publishes e.g. its frequency concepts typed dct:Frequency;
# our tables hold only URIs and labels, so the background graph adds these types.
SCHEME_RANGE_TYPES: dict[str, URIRef] = {
    _EU + "access-right": _DCT.RightsStatement,
    _EU + "language": _DCT.LinguisticSystem,
    _EU + "frequency": _DCT.Frequency,
    _EU + "file-type": _DCT.MediaTypeOrExtent,
}


class ShapesError(HarvesterError):
    """A shape file is missing, does not parse, or is not well-formed SHACL."""


class VocabularyError(HarvesterError):
    """The vocabulary background graph (from the mapping tables) cannot be built."""


@dataclass(frozen=True)
class Finding:
    """One validation result: what is wrong (or missing) where, and what to do about it."""

    severity: str  # "violation" | "warning" | "info"
    focus_node: str
    path: str | None
    value: str | None
    message: str  # Dutch first: "nl-text / en-text"
    shape: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "focus_node": self.focus_node, "path": self.path,
                "value": self.value, "message": self.message, "shape": self.shape}


@dataclass
class ValidationReport:
    """The findings for one graph (or one dataset); conforms unless there is a violation."""

    conforms: bool
    findings: list[Finding] = field(default_factory=list)

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> ValidationReport:
        ordered = _sorted_unique(findings)
        return cls(conforms=not any(f.severity == "violation" for f in ordered), findings=ordered)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "info"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "violation_count": len(self.violations),
            "warning_count": len(self.warnings),
            "info_count": len(self.infos),
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_text(self) -> str:
        """A short human-readable listing (one line per finding)."""
        head = "conforms" if self.conforms else "does NOT conform"
        lines = [f"{head}: {len(self.violations)} violation(s), {len(self.warnings)} warning(s)"]
        for f in self.findings:
            where = f.focus_node + (f" {f.path}" if f.path else "")
            lines.append(f"  [{f.severity}] {where}: {f.message}")
        return "\n".join(lines)


class DatasetReports(dict):
    """`validate_datasets()` result: dataset key -> ValidationReport.

    `context` holds the findings about nodes that only the context graph (e.g. the catalogue and
    its records) contains.
    """

    context: ValidationReport

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = ValidationReport(conforms=True)


def background_graph(vocabulary: Graph | None = None) -> Graph:
    """The knowledge every validation adds to the data: class axioms + the value-list vocabulary.

    `vocabulary` is `load_mappings().vocabulary_graph()` (or a test's stand-in). The result also
    types every concept of the EU access-right, language, frequency and file-type lists with the
    class its property expects (see SCHEME_RANGE_TYPES).
    """
    g = Graph()
    g.parse(data=_AXIOMS_TTL, format="turtle")
    if vocabulary is None:
        return g
    for triple in vocabulary:
        g.add(triple)
    for scheme, cls in SCHEME_RANGE_TYPES.items():
        for concept in vocabulary.subjects(SKOS.inScheme, URIRef(scheme)):
            g.add((concept, RDF.type, cls))
    return g


_default_background: Graph | None = None
_default_background_lock = threading.Lock()


def default_background() -> Graph:
    """background_graph() over the project's mapping tables (built once per process)."""
    global _default_background
    with _default_background_lock:
        if _default_background is None:
            try:
                from harvester.dcat.tables import load_mappings
            except ImportError as exc:  # pragma: no cover - the module is part of the project
                raise VocabularyError(
                    f"cannot build the validation background graph: harvester.dcat.tables is "
                    f"not importable ({exc})"
                ) from exc
            _default_background = background_graph(load_mappings().vocabulary_graph())
        return _default_background


# ------------------------------------------------------------------------------------------------
# shapes loading (cached per fingerprint)
# ------------------------------------------------------------------------------------------------

_SHAPE_REF_PREDICATES = (SH.property, SH.node, SH.qualifiedValueShape, SH["not"])
_SHAPE_LIST_PREDICATES = (SH["or"], SH["and"], SH.xone)

_shapes_cache: dict[str, Graph] = {}
_shapes_cache_lock = threading.Lock()
_engine_lock = threading.Lock()


def _shape_files(shapes_dir: Path) -> list[Path]:
    if not shapes_dir.is_dir():
        raise ShapesError(f"shapes folder {shapes_dir} does not exist")
    files = sorted(p for p in shapes_dir.glob("*.ttl") if p.is_file())
    if not files:
        raise ShapesError(f"shapes folder {shapes_dir} holds no *.ttl shape files")
    return files


def _fingerprint(files: list[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode("utf-8") + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _load_shapes(files: list[Path], fingerprint: str, check: bool = True) -> Graph:
    key = f"{fingerprint}:{int(check)}"
    with _shapes_cache_lock:
        cached = _shapes_cache.get(key)
        if cached is not None:
            return cached
        # shapes that passed the checks before are read from the cache folder (a third of the
        # time Turtle takes)
        union = read_parsed_shapes(fingerprint)
        if union is None:
            union = _parse_shapes(files, fingerprint, check)
            if check:
                keep_parsed_shapes(fingerprint, union)
        _shapes_cache[key] = union
        return union


def _parse_shapes(files: list[Path], fingerprint: str, check: bool) -> Graph:
    """The shape files parsed into one graph (checked for dangling references and
    well-formedness with `check`)."""
    per_file: list[tuple[Path, Graph]] = []
    union = Graph()
    for path in files:
        g = Graph()
        try:
            g.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several unrelated exception types
            raise ShapesError(f"shape file {path} does not parse as Turtle: {exc}") from exc
        per_file.append((path, g))
        for t in g:
            union.add(t)
    if check:
        _check_references(per_file, union)
        _check_well_formed(per_file, union, fingerprint)
    for prefix, ns in per_file[0][1].namespace_manager.namespaces():
        union.bind(prefix, ns, override=False)
    return union


def parsed_shapes_file(fingerprint: str) -> Path | None:
    """Where shapes with this fingerprint that passed every check are kept parsed (as JSON),
    in the cache folder (see `checked_shapes_marker`); None when there is no such folder."""
    base = _cache_folder()
    if base is None:
        return None
    return base / "parsed-shapes" / f"{fingerprint}-rdflib-{rdflib.__version__}-pyshacl-{_engine_version()}.json"


def keep_parsed_shapes(fingerprint: str, union: Graph) -> None:
    """Write the checked shapes `union` to `parsed_shapes_file` (best effort: a cache that
    cannot be written is no error, the shapes are parsed again next time)."""
    path = parsed_shapes_file(fingerprint)
    if path is None:
        return
    numbers: dict[rdflib.term.Node, int] = {}
    terms: list[list[Any]] = []

    def number(node: rdflib.term.Node) -> int:
        found = numbers.get(node)
        if found is None:
            found = numbers[node] = len(terms)
            if isinstance(node, Literal):
                terms.append(["l", str(node), str(node.datatype) if node.datatype else None, node.language])
            else:
                terms.append(["b" if isinstance(node, BNode) else "u", str(node)])
        return found

    triples = [[number(s), number(p), number(o)] for s, p, o in union]
    document = {"prefixes": [[prefix, str(ns)] for prefix, ns in union.namespace_manager.namespaces()],
                "terms": terms, "triples": triples}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        os.replace(scratch, path)
    except OSError:
        pass


def read_parsed_shapes(fingerprint: str) -> Graph | None:
    """The shapes `keep_parsed_shapes` kept for this fingerprint; None when there are none (or
    what is there cannot be read: the shapes are then parsed from their files)."""
    path = parsed_shapes_file(fingerprint)
    if path is None:
        return None
    try:
        document = json.loads(path.read_bytes())
        blank: dict[str, BNode] = {}
        nodes: list[rdflib.term.Node] = []
        for entry in document["terms"]:
            if entry[0] == "u":
                nodes.append(URIRef(entry[1]))
            elif entry[0] == "b":  # fresh blank nodes, as parsing the files gives
                nodes.append(blank.setdefault(entry[1], BNode()))
            elif entry[0] == "l":
                nodes.append(Literal(entry[1], lang=entry[3],
                                     datatype=URIRef(entry[2]) if entry[2] else None))
            else:
                return None
        union = Graph()
        add = union.store.add
        for s, p, o in document["triples"]:
            add((nodes[s], nodes[p], nodes[o]), union, False)
        for prefix, ns in document["prefixes"]:
            union.bind(prefix, ns, override=False)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return union


def _check_well_formed(per_file: list[tuple[Path, Graph]], union: Graph, fingerprint: str) -> None:
    """Make pyshacl load every targeted shape's constraints once (errors name the shape file).

    pyshacl parses a constraint only when it first evaluates it, so a malformed shape (e.g.
    `sh:minCount "veel"`, a broken sh:pattern) would otherwise surface in the middle of a
    harvest. A probe graph with one instance per target class makes it evaluate them all
    (the full SHACL-SHACL check is a test, tests/test_validate.py). Shapes that passed are
    remembered by their fingerprint (`checked_shapes_marker`): the probe, a third of a second
    with pyshacl's import, runs once per version of the shapes, not once per run.
    """
    marker = checked_shapes_marker(fingerprint)
    if marker is not None and marker.is_file():
        return
    error = _probe(union)
    if error is None:
        if marker is not None:
            try:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
            except OSError:  # a cache we cannot write is no error: the probe runs next time too
                pass
        return
    for path, g in per_file:
        own = _probe(g)
        if own is not None:
            raise ShapesError(f"shape file {path} is not well-formed SHACL: {own}")
    names = ", ".join(str(p) for p, _ in per_file)
    raise ShapesError(f"the shape files {names} are not well-formed SHACL together: {error}")


def checked_shapes_marker(fingerprint: str) -> Path | None:
    """The file that says shapes with this fingerprint passed the well-formedness probe (with
    this pyshacl): under $HARVESTER_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, in
    dcat-ap-nl-harvester/checked-shapes/; None when there is no home to put it in."""
    base = _cache_folder()
    if base is None:
        return None
    return base / "checked-shapes" / f"{fingerprint}-pyshacl-{_engine_version()}"


def _cache_folder() -> Path | None:
    """$HARVESTER_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache + dcat-ap-nl-harvester; None
    without a home directory."""
    folder = os.environ.get("HARVESTER_CACHE_DIR")
    if folder:
        return Path(folder)
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(xdg) if xdg else Path.home() / ".cache"
    except RuntimeError:  # no home directory
        return None
    return base / "dcat-ap-nl-harvester"


@functools.lru_cache(maxsize=1)
def _engine_version() -> str:
    """pyshacl's version (the checks' verdicts are its)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyshacl")
    except PackageNotFoundError:
        return "unknown"


def _probe(shapes: Graph) -> str | None:
    import pyshacl

    data = Graph()
    for i, cls in enumerate(sorted(set(shapes.objects(None, SH.targetClass)), key=str)):
        data.add((URIRef(f"urn:dcat-ap-nl-harvester:probe:{i}"), RDF.type, cls))
    for i, prop in enumerate(sorted(set(shapes.objects(None, SH.targetSubjectsOf)), key=str)):
        data.add((URIRef(f"urn:dcat-ap-nl-harvester:probe:s{i}"), prop, Literal("probe")))
    for i, prop in enumerate(sorted(set(shapes.objects(None, SH.targetObjectsOf)), key=str)):
        data.add((URIRef(f"urn:dcat-ap-nl-harvester:probe:o{i}a"), prop,
                  URIRef(f"urn:dcat-ap-nl-harvester:probe:o{i}b")))
    scratch = Graph()
    for t in shapes:
        scratch.add(t)
    try:
        pyshacl.validate(data, shacl_graph=scratch, inference="none", inplace=True,
                         allow_warnings=True, allow_infos=True)
    except Exception as exc:  # noqa: BLE001 - pyshacl raises its own errors, re.error, ...
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_references(per_file: list[tuple[Path, Graph]], union: Graph) -> None:
    """Every shape a file refers to (sh:property, sh:node, sh:or, ...) must be defined somewhere."""

    def defined(node: rdflib.term.Node) -> bool:
        return next(union.predicate_objects(node), None) is not None

    for path, g in per_file:
        for pred in _SHAPE_REF_PREDICATES:
            for s, o in g.subject_objects(pred):
                if not defined(o):
                    raise ShapesError(
                        f"shape file {path}: {_show(s)} refers with {_show(pred)} to "
                        f"{_show(o)}, which no shape file defines"
                    )
        for pred in _SHAPE_LIST_PREDICATES:
            for s, head in g.subject_objects(pred):
                for member in Collection(union, head):
                    if not defined(member):
                        raise ShapesError(
                            f"shape file {path}: {_show(s)} lists {_show(member)} in "
                            f"{_show(pred)}, which no shape file defines"
                        )


def _show(node: rdflib.term.Node) -> str:
    return node.n3() if isinstance(node, URIRef) else str(node)


# ------------------------------------------------------------------------------------------------
# the validator
# ------------------------------------------------------------------------------------------------


ENGINES = ("auto", "compiled", "pyshacl")


class Validator:
    """Validates DCAT-AP-NL 3.0 graphs against the shapes in `shapes_dir` (default: shapes/).

    `ontology` is the vocabulary graph (default: `load_mappings().vocabulary_graph()`), or a
    function that makes it when the shapes are loaded; the validator always adds the class
    axioms and range types of `background_graph()` to it.

    With `lazy=True` the shapes are read and compiled when first needed (`load`), not at once:
    the fingerprint is known without them.

    `engine` chooses what evaluates the shapes:

    * `"compiled"`: the shapes are compiled into Python checks (`CompiledShapes`, the SHACL Core
      subset our shapes use: class targets, predicate paths, sh:minCount/maxCount, sh:class,
      sh:datatype, sh:nodeKind, sh:pattern, sh:in, sh:hasValue, sh:node, sh:property, sh:or,
      qualified value shapes), evaluated on the data's triples directly. It gives the same
      findings as pySHACL (tests/test_speed_paths.py proves it on a catalogue with every kind
      of error the shapes check), about a hundred times faster. Shapes using anything else
      cannot be compiled: `ShapesError`.
    * `"pyshacl"`: pySHACL, the reference.
    * `"auto"` (default): compiled when the shapes compile, else pySHACL (`engine` then says
      which, and `fallback_reason` why).
    """

    def __init__(self, shapes_dir: Path | None = None, ontology: Graph | Callable[[], Graph] | None = None,
                 engine: str = "auto", *, lazy: bool = False):
        self.shapes_dir = Path(shapes_dir) if shapes_dir is not None else SHAPES_DIR
        self._setup(_shape_files(self.shapes_dir), ontology, check=True, engine=engine)
        if not lazy:
            self.load()

    @classmethod
    def from_files(
        cls, files: Iterable[Path], ontology: Graph | None = None, *, check: bool = True,
        engine: str = "auto",
    ) -> Validator:
        """A validator over an explicit list of shape files (e.g. extra or third-party shapes).

        `check=False` skips the dangling-reference and well-formedness checks (for shape files
        used as published, with their known defects).
        """
        files = [Path(f) for f in files]
        if not files:
            raise ShapesError("no shape files given")
        for f in files:
            if not f.is_file():
                raise ShapesError(f"shape file {f} does not exist")
        self = cls.__new__(cls)
        self.shapes_dir = files[0].parent
        self._setup(files, ontology, check=check, engine=engine)
        return self.load()

    def _setup(self, files: list[Path], ontology: Graph | Callable[[], Graph] | None, check: bool,
               engine: str = "auto") -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown validation engine {engine!r}; expected one of {ENGINES}")
        self.shape_files = files
        self.fingerprint = _fingerprint(files)
        self._settings = (ontology, check, engine)
        self._loaded = False

    #: what `load` sets (read before it ran, each of them runs it first)
    _LOADED_ATTRIBUTES = frozenset(("_shapes", "_background", "_index", "_whole_background",
                                    "_compiled", "fallback_reason", "engine"))

    def __getattr__(self, name: str) -> Any:
        if name in Validator._LOADED_ATTRIBUTES and not self.__dict__.get("_loaded", True):
            self.load()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def load(self) -> Validator:
        """Read (and compile) the shapes and the background vocabulary now; otherwise that is
        done when first needed (a run whose results all still stand never needs it)."""
        if self._loaded:
            return self
        ontology, check, engine = self._settings
        files = self.shape_files
        self._shapes = _load_shapes(files, self.fingerprint, check=check)
        if callable(ontology):  # made only now: a run whose results all still stand never needs it
            ontology = ontology()
        self._background = background_graph(ontology) if ontology is not None else default_background()
        self._index = _BackgroundIndex(self._background)
        # Shapes that can look backwards (inverse paths, subject/object/node targets, SPARQL)
        # may depend on background triples the data cannot reach: give them all of it.
        self._whole_background = any(
            (None, p, None) in self._shapes
            for p in (SH.inversePath, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode,
                      SH.sparql, SH.select, SH.ask)
        )
        self._compiled = None
        self.fallback_reason = None
        self.engine = "pyshacl"
        if engine != "pyshacl":
            try:
                self._compiled = _compiled_shapes(self._shapes, f"{self.fingerprint}:{int(check)}")
                self.engine = "compiled"
            except UnsupportedShapes as exc:
                if engine == "compiled":
                    raise ShapesError(f"the shapes cannot be compiled: {exc}") from None
                self.fallback_reason = str(exc)
        self._loaded = True
        return self

    @property
    def shapes_graph(self) -> Graph:
        """The merged shapes (shared between validators with the same fingerprint; do not modify)."""
        return self._shapes

    @property
    def background(self) -> Graph:
        return self._background

    # -- single graph -----------------------------------------------------------------------
    def validate(self, graph: Graph) -> ValidationReport:
        """Validate one graph. Only findings about nodes `graph` describes (has as subject).

        `graph` may be an rdflib Graph or any iterable of (s, p, o) rdflib terms (e.g. a
        harvester.dcat.mapper.TripleView).
        """
        if self._compiled is not None:
            spo: dict = {}
            _merge_into(spo, graph, set())
            results = self._run_compiled(spo, list(spo))
            return ValidationReport.from_findings(f for _, f in results)
        merged = Graph()
        for t in graph:
            merged.add(t)
        nodes = set(merged.subjects())
        results = self._run(merged)
        return ValidationReport.from_findings(f for node, f in results if node in nodes)

    # -- many datasets in one engine call ---------------------------------------------------
    def validate_datasets(
        self,
        items: Iterable[tuple[str, Graph]],
        context_graph: Graph | None = None,
        batch_size: int = 500,
    ) -> DatasetReports:
        """Validate many dataset graphs, `batch_size` at a time in one engine call each.

        Each finding goes to every dataset whose graph describes its focus node (has it as a
        subject; a node several graphs describe, such as a shared contact point, counts for each
        of them). Findings about nodes only `context_graph` describes go to the result's
        `.context` report; findings about nodes only the background describes are left out, as
        in `validate()`. Every key of `items` gets a report, also when it has no findings.
        A graph may be an rdflib Graph or any iterable of (s, p, o) rdflib terms (a
        harvester.dcat.mapper.TripleView is read without copying it).
        """
        reports = DatasetReports()
        context_findings: list[Finding] = []
        for batch in _batches(items, batch_size):
            per_key, ctx = self._validate_batch(batch, context_graph)
            for key, findings in per_key.items():
                if key in reports:
                    findings = list(reports[key].findings) + findings
                reports[key] = ValidationReport.from_findings(findings)
            context_findings.extend(ctx)
        reports.context = ValidationReport.from_findings(context_findings)
        return reports

    def _validate_batch(
        self, batch: list[tuple[str, Graph]], context_graph: Graph | None
    ) -> tuple[dict[str, list[Finding]], list[Finding]]:
        if self._compiled is not None:
            return self._validate_batch_compiled(batch, context_graph)
        merged = Graph()
        owners_of: dict[rdflib.term.Node, set[str]] = defaultdict(set)
        per_key: dict[str, list[Finding]] = {}
        for key, g in batch:
            per_key.setdefault(key, [])
            for t in g:
                merged.add(t)
                owners_of[t[0]].add(key)
        context_nodes: set[rdflib.term.Node] = set()
        if context_graph is not None:
            for t in context_graph:
                merged.add(t)
            context_nodes = set(context_graph.subjects())
        context: list[Finding] = []
        for node, finding in self._run(merged):
            owners = owners_of.get(node)
            if owners:
                for key in owners:
                    per_key[key].append(finding)
            elif node in context_nodes:
                context.append(finding)
            # else: a node only the background describes (e.g. a concept of a value list)
        return per_key, context

    def _validate_batch_compiled(
        self, batch: list[tuple[str, Graph]], context_graph: Graph | None
    ) -> tuple[dict[str, list[Finding]], list[Finding]]:
        spo: dict = {}
        owned: set = set()
        owners_of: dict[rdflib.term.Node, dict[str, None]] = {}
        per_key: dict[str, list[Finding]] = {}
        for key, g in batch:
            per_key.setdefault(key, [])
            for s in _merge_into(spo, g, owned):
                keys = owners_of.get(s)
                if keys is None:
                    owners_of[s] = {key: None}
                else:
                    keys[key] = None
        context_nodes: set = set()
        if context_graph is not None:
            context_nodes = set(_merge_into(spo, context_graph, owned))
        context: list[Finding] = []
        for node, finding in self._run_compiled(spo, list(spo), owned):
            owners = owners_of.get(node)
            if owners:
                for key in owners:
                    per_key[key].append(finding)
            elif node in context_nodes:
                context.append(finding)
        return per_key, context

    # -- the background itself --------------------------------------------------------------
    def check_background(self) -> ValidationReport:
        """Validate the background graph on its own (a defect in the mapping tables shows here)."""
        if self._compiled is not None:
            background = _background_spo(self._background)
            return ValidationReport.from_findings(
                f for _, f in self._compiled.run({}, background, list(background)))
        return ValidationReport.from_findings(f for _, f in self._run(Graph(), whole=True))

    # -- engines ----------------------------------------------------------------------------
    def _run_compiled(self, spo: dict, focus: list, owned: set | None = None
                      ) -> list[tuple[rdflib.term.Node, Finding]]:
        """Run the compiled shapes on `spo` (subject -> predicate -> {object: None}) + background.

        The whole background is visible (looked up by subject, nothing is copied); the subjects
        `spo` shares with the background get the background's triples merged in first, as one
        graph of data + background would have them.
        """
        assert self._compiled is not None
        background = _background_spo(self._background)
        owned = owned if owned is not None else set()
        for s in spo.keys() & background.keys():
            po = spo[s]
            if s not in owned:
                po = spo[s] = {p: dict(os_) for p, os_ in po.items()}
                owned.add(s)
            for p, os_ in background[s].items():
                mine = po.get(p)
                if mine is None:
                    po[p] = dict(os_)
                else:
                    mine.update(os_)
        return self._compiled.run(spo, background, focus)

    def _run(self, data: Graph, whole: bool = False) -> list[tuple[rdflib.term.Node, Finding]]:
        """Run pyshacl on `data` + background (`data` is extended in place).

        Only the part of the background that `data` can reach is added (plus every
        rdfs:subClassOf axiom): the value-list terms, licences and organisations the data uses,
        with what they link to. A finding about a node the data describes depends only on
        triples reachable from that node when the shapes only look forward (no inverse paths,
        subject/object targets or SPARQL; else the whole background is added), so the result
        is the same as with the whole background, and the engine need not visit the ~1000
        background nodes on every call.
        """
        import pyshacl

        whole = whole or self._whole_background
        for t in (self._background if whole else self._index.reachable_from(data)):
            data.add(t)
        # pyshacl adds its system triples to the (shared, cached) shapes graph on every call
        with _engine_lock:
            _, report_graph, _ = pyshacl.validate(
                data,
                shacl_graph=self._shapes,
                inference="none",
                inplace=True,
                allow_warnings=True,
                allow_infos=True,
                advanced=False,
            )
        return list(_findings(report_graph))


def _merge_into(spo: dict, graph: Any, owned: set) -> Iterable[rdflib.term.Node]:
    """Add `graph`'s triples to `spo`; returns the subjects it has. A TripleView's inner dicts
    are shared, not copied, until a second graph adds to the same subject (`owned` holds the
    subjects whose dicts belong to `spo`)."""
    view_spo = getattr(graph, "spo", None)
    if isinstance(view_spo, dict):
        for s, po in view_spo.items():
            mine = spo.get(s)
            if mine is None:
                spo[s] = po
                continue
            if mine is po or mine == po:  # e.g. a concept the mapper describes in each graph
                continue
            if s not in owned:
                mine = spo[s] = {p: dict(os_) for p, os_ in mine.items()}
                owned.add(s)
            add_objects(mine, po)
        return view_spo.keys()
    subjects: dict = {}
    for s, p, o in graph:
        subjects[s] = None
        mine = spo.get(s)
        if mine is None:
            spo[s] = {p: {o: None}}
            owned.add(s)
            continue
        if s not in owned:
            mine = spo[s] = {q: dict(os_) for q, os_ in mine.items()}
            owned.add(s)
        have = mine.get(p)
        if have is None:
            mine[p] = {o: None}
        else:
            have[o] = None
    return subjects.keys()


_background_cache: dict[int, tuple[Graph, dict]] = {}
_background_cache_lock = threading.Lock()


def _background_spo(background: Graph) -> dict:
    """The background graph indexed by subject (built once per background graph)."""
    entry = _background_cache.get(id(background))
    if entry is None or entry[0] is not background:
        with _background_cache_lock:
            merged: dict = {}
            _merge_into(merged, background, set())
            # the vocabulary's IRIs as the instances the mapper uses (identity hits on lookup)
            spo = {shared(s): {shared(p): {shared(o): None for o in objects} for p, objects in po.items()}
                   for s, po in merged.items()}
            if len(_background_cache) > 16:
                _background_cache.clear()
            entry = _background_cache[id(background)] = (background, spo)
    return entry[1]


# ------------------------------------------------------------------------------------------------
# the compiled engine
# ------------------------------------------------------------------------------------------------


class UnsupportedShapes(Exception):
    """The shapes use a SHACL feature the compiled engine does not implement."""


#: SHACL predicates the compiled engine understands (any other sh: term makes it decline)
_SUPPORTED = frozenset({
    SH.path, SH.targetClass, SH.minCount, SH.maxCount, SH["class"], SH.datatype, SH.nodeKind,
    SH.pattern, SH.flags, SH["in"], SH.hasValue, SH.node, SH.property, SH["or"],
    SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
    SH.qualifiedValueShapesDisjoint, SH.severity, SH.message, SH.name, SH.description,
    SH.order, SH.group, SH.defaultValue,
})
_NODE_KINDS = {
    SH.IRI: (URIRef,), SH.Literal: (Literal,), SH.BlankNode: (BNode,),
    SH.BlankNodeOrIRI: (BNode, URIRef), SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}
_LENIENT = ("warning", "info")  # pySHACL (allow_warnings/allow_infos) lets these always conform
_NO_VALUE = (None,)
_XSD = "http://www.w3.org/2001/XMLSchema#"
_TYPE = term(str(RDF) + "type")
_SUB_CLASS_OF = term(str(RDFS) + "subClassOf")
_RDFS_LITERAL = term(str(RDFS) + "Literal")
_RDFS_DATATYPE = term(str(RDFS) + "Datatype")
_LANG_STRING = term(str(RDF) + "langString")
_XSD_STRING = term(_XSD + "string")


class _Shape:
    __slots__ = (
        "checks",
        "checks_without_values",
        "children",
        "kind_only",
        "lenient",
        "message",
        "messages",
        "name",
        "node",
        "path",
        "path_text",
        "reports",
        "severity",
    )

    def __init__(self, node: rdflib.term.Node) -> None:
        self.node = node
        self.name = None if isinstance(node, BNode) else str(node)
        self.path: URIRef | None = None
        self.path_text: str | None = None
        self.severity = "violation"
        self.message = ""
        self.messages: list[Literal] = []
        self.checks: list[Any] = []
        #: the checks that can fail when the path has no values (see `_on_values`)
        self.checks_without_values: tuple = ()
        self.children: list[_Shape] = []
        self.lenient = False
        self.reports = False
        #: the shape's verdict on a literal follows from `_literal_kind` (see `_kind_only`)
        self.kind_only = False


class _Context:
    """One evaluation: the data (subject index, background merged in) + the background."""

    __slots__ = ("_instances", "_supers", "bg", "memo", "spo")

    def __init__(self, spo: dict, bg: dict) -> None:
        self.spo = spo
        self.bg = bg
        self._supers: dict = {}
        self._instances: dict = {}
        self.memo: dict = {}

    def values(self, s: Any, p: Any) -> Any:
        po = self.spo.get(s)
        if po is None:
            po = self.bg.get(s)
            if po is None:
                return ()
        return po.get(p, ())

    def supers(self, cls: Any) -> set:
        """`cls` and its superclasses (rdfs:subClassOf*)."""
        found = self._supers.get(cls)
        if found is None:
            found = {cls}
            todo = [cls]
            while todo:
                for sup in self.values(todo.pop(), _SUB_CLASS_OF):
                    if sup not in found:
                        found.add(sup)
                        todo.append(sup)
            self._supers[cls] = found
        return found

    def is_a(self, node: Any, cls: Any) -> bool:
        key = (node, cls)
        found = self._instances.get(key)
        if found is None:
            found = False
            for t in self.values(node, _TYPE):
                if cls in self.supers(t):
                    found = True
                    break
            self._instances[key] = found
        return found

    def conforms(self, shape: _Shape, node: Any) -> bool:
        """Whether `node` conforms to `shape` (as sh:node / sh:or / qualified shapes ask)."""
        if shape.lenient:
            return True
        if type(node) is Literal:
            if not shape.kind_only:  # not remembered: rdflib hashes a literal in Python,
                return self._conforms(shape, node)  # slowly, and seldom asks twice about one
            key = (shape, _literal_kind(node))
        else:
            key = (shape, node)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._conforms(shape, node)
        return found

    def _conforms(self, shape: _Shape, node: Any) -> bool:
        values = self.values(node, shape.path) if shape.path is not None else (node,)
        for check in shape.checks if values else shape.checks_without_values:
            if check(self, node, values):
                return False
        for child in shape.children:
            if not self.conforms(child, node):
                return False
        return True


class CompiledShapes:
    """Shapes compiled into Python checks that give pySHACL's findings (see `Validator`).

    `CompiledShapes(shapes_graph)` raises UnsupportedShapes when the shapes use anything beyond
    the supported subset, or when a result pySHACL would report has no sh:message of its own
    (pySHACL then writes a generic message this engine does not reproduce).
    """

    def __init__(self, shapes: Graph) -> None:
        self._g = shapes
        self._shapes: dict[rdflib.term.Node, _Shape] = {}
        for s, p, o in shapes:
            if p.startswith(str(SH)) and p not in _SUPPORTED:
                raise UnsupportedShapes(f"{_show(p)} (on {_show(s)}) is not supported")
            if p == RDF.type and isinstance(o, URIRef) and o.startswith(str(SH)) and \
                    o not in (SH.NodeShape, SH.PropertyShape):
                raise UnsupportedShapes(f"{_show(s)} is a {_show(o)}, which is not supported")
        by_class: dict[rdflib.term.Node, list[_Shape]] = {}
        for node, cls in sorted(shapes.subject_objects(SH.targetClass), key=lambda t: (str(t[0]), str(t[1]))):
            if (node, RDF.type, RDFS.Class) in shapes or \
                    (node, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")) in shapes:
                raise UnsupportedShapes(f"{_show(node)} is a class (implicit class target)")
            shape = self._compile(node, ())
            self._mark_reporting(shape)
            by_class.setdefault(shared(cls), []).append(shape)
        self.by_class = {cls: tuple(dict.fromkeys(found)) for cls, found in by_class.items()}
        self._for_type: dict = {}

    # -- compiling ---------------------------------------------------------------------------
    def _one(self, node: Any, pred: Any) -> Any:
        values = list(self._g.objects(node, pred))
        if len(values) > 1:
            raise UnsupportedShapes(f"{_show(node)} has {len(values)} values for {_show(pred)}")
        return values[0] if values else None

    def _count(self, node: Any, pred: Any) -> int | None:
        value = self._one(node, pred)
        if value is None:
            return None
        if not isinstance(value, Literal) or not isinstance(value.value, int) or \
                isinstance(value.value, bool):
            raise UnsupportedShapes(f"{_show(node)}: {_show(pred)} {value!r} is not an integer")
        return int(value.value)

    def _compile(self, node: Any, stack: tuple) -> _Shape:
        found = self._shapes.get(node)
        if found is not None:
            return found
        if node in stack:
            raise UnsupportedShapes(f"{_show(node)} refers to itself (recursive shapes)")
        stack = stack + (node,)
        g = self._g
        shape = _Shape(node)
        path = self._one(node, SH.path)
        if path is not None:
            if not isinstance(path, URIRef):
                raise UnsupportedShapes(f"{_show(node)}: only predicate paths are supported")
            shape.path, shape.path_text = shared(path), str(path)
        severity = self._one(node, SH.severity)
        if severity is not None:
            if severity not in _SEVERITIES:
                raise UnsupportedShapes(f"{_show(node)}: severity {_show(severity)}")
            shape.severity = _SEVERITIES[severity]
        shape.lenient = shape.severity in _LENIENT
        shape.messages = list(g.objects(node, SH.message))
        checks = shape.checks
        minimum = self._count(node, SH.minCount)
        if minimum is not None:
            checks.append(_min_count(minimum))
        maximum = self._count(node, SH.maxCount)
        if maximum is not None:
            checks.append(_max_count(maximum))
        for cls in sorted(g.objects(node, SH["class"]), key=str):
            checks.append(_class(shared(cls)))
        datatype = self._one(node, SH.datatype)
        if datatype is not None:
            checks.append(_datatype(shared(datatype)))
        kind = self._one(node, SH.nodeKind)
        if kind is not None:
            if kind not in _NODE_KINDS:
                raise UnsupportedShapes(f"{_show(node)}: node kind {_show(kind)}")
            checks.append(_node_kind(_NODE_KINDS[kind]))
        patterns = sorted(g.objects(node, SH.pattern), key=str)
        if patterns:
            flags = next(iter(g.objects(node, SH.flags)), None)
            for pattern in patterns:
                checks.append(_pattern(pattern, flags))
        members = self._one(node, SH["in"])
        if members is not None:
            checks.append(_in(frozenset(shared(m) for m in Collection(g, members))))
        for value in sorted(g.objects(node, SH.hasValue), key=str):
            checks.append(_has_value(shared(value)))
        for other in sorted(g.objects(node, SH.node), key=str):
            checks.append(_node(self._compile(other, stack)))
        for head in sorted(g.objects(node, SH["or"]), key=str):
            options = tuple(self._compile(member, stack) for member in Collection(g, head))
            checks.append(_or(options))
        qualified = self._one(node, SH.qualifiedValueShape)
        if qualified is not None:
            disjoint = self._one(node, SH.qualifiedValueShapesDisjoint)
            if disjoint is not None and not (isinstance(disjoint, Literal) and disjoint.value is False):
                raise UnsupportedShapes(f"{_show(node)}: sh:qualifiedValueShapesDisjoint")
            low = self._count(node, SH.qualifiedMinCount)
            high = self._count(node, SH.qualifiedMaxCount)
            if low is None and high is None:
                raise UnsupportedShapes(f"{_show(node)}: a qualified value shape without count")
            checks.append(_qualified(self._compile(qualified, stack), low, high))
        elif (node, SH.qualifiedMinCount, None) in g or (node, SH.qualifiedMaxCount, None) in g:
            raise UnsupportedShapes(f"{_show(node)}: a qualified count without value shape")
        for child in sorted(g.objects(node, SH.property), key=str):
            compiled = self._compile(child, stack)
            if compiled.path is None:
                raise UnsupportedShapes(f"{_show(child)} (sh:property of {_show(node)}) has no sh:path")
            shape.children.append(compiled)
        shape.checks_without_values = tuple(c for c in checks if not getattr(c, "on_values", False))
        shape.kind_only = shape.path is None and not shape.children and \
            all(getattr(c, "kind_only", False) for c in checks)
        self._shapes[node] = shape
        return shape

    def _mark_reporting(self, shape: _Shape) -> None:
        """A shape whose results pySHACL reports at the top level needs its own message."""
        if shape.reports:
            return
        shape.reports = True
        if not shape.messages:
            raise UnsupportedShapes(f"{_show(shape.node)} has no sh:message (pySHACL would "
                                    "write a generic one)")
        by_lang: dict[str | None, str] = {}
        for m in shape.messages:
            if not isinstance(m, Literal) or m.language in by_lang or "{" in str(m):
                raise UnsupportedShapes(f"{_show(shape.node)}: messages must be literals without "
                                        "placeholders, at most one per language")
            by_lang[m.language] = str(m)
        nl, en = by_lang.get("nl"), by_lang.get("en")
        if not (nl or en or by_lang.get(None)) and len(by_lang) > 1:
            raise UnsupportedShapes(f"{_show(shape.node)}: messages in several other languages")
        shape.message = (f"{nl} / {en}" if nl and en else
                         nl or en or by_lang.get(None) or next(iter(by_lang.values()), ""))
        for child in shape.children:
            self._mark_reporting(child)

    # -- running -----------------------------------------------------------------------------
    def _plan_for(self, ctx: _Context, types: Any) -> tuple:
        """What to check on a node of these types: the checks of every shape targeting one of
        the types (or a superclass) and of their sh:property shapes, grouped by path so that
        each path's values are looked up once, as entries (path, low, high, counts, pairs,
        pairs without values), each of the last three ((check, shape), ...). `counts` are the
        sh:minCount/maxCount checks, which all pass when the number of values is within
        low..high; of the others, only those that can fail on no values run when there are
        none. Returns (entry by path, entries that can fail when their path has no values,
        entries about the node itself)."""
        key = tuple(types)
        found = self._for_type.get(key)
        if found is None:
            shapes: dict[_Shape, None] = {}
            for t in key:
                for cls in sorted(ctx.supers(t), key=str):
                    for shape in self.by_class.get(cls, ()):
                        shapes[shape] = None
            by_path: dict[Any, dict[tuple, None]] = {}

            def add(shape: _Shape) -> None:
                pairs = by_path.setdefault(shape.path, {})
                for check in shape.checks:
                    pairs[(check, shape)] = None
                for child in shape.children:
                    add(child)

            for shape in shapes:
                add(shape)
            entries = [_path_plan(path, tuple(pairs)) for path, pairs in by_path.items()
                       if pairs]
            on_paths = [entry for entry in entries if entry[0] is not None]
            found = ({entry[0]: entry for entry in on_paths},
                     tuple(entry for entry in on_paths
                           if not entry[1] <= 0 <= entry[2] or entry[5]),
                     tuple(entry for entry in entries if entry[0] is None))
            # the class hierarchy can differ between evaluations only when the data itself
            # holds rdfs:subClassOf triples; cache only what the background alone decides
            if all(not ctx.spo.get(c, {}).get(_SUB_CLASS_OF) for t in key for c in ctx.supers(t)):
                self._for_type[key] = found
        return found

    def run(self, spo: dict, bg: dict, focus: Iterable[Any]) -> list[tuple[rdflib.term.Node, Finding]]:
        """The findings for the `focus` nodes (subjects of `spo`, whose dicts already hold
        the background's triples about them)."""
        ctx = _Context(spo, bg)
        out: list[tuple[rdflib.term.Node, Finding]] = []
        for node in focus:
            po = spo.get(node)
            if po is None:
                po = bg.get(node)
                if po is None:
                    continue
            types = po.get(_TYPE)
            if not types:
                continue
            by_path, when_absent, on_node = self._plan_for(ctx, types)
            for path, values in po.items():
                entry = by_path.get(path)
                if entry is not None:
                    _run_entry(ctx, node, values, entry, out)
            for entry in when_absent:
                if entry[0] not in po:
                    _run_entry(ctx, node, (), entry, out)
            for entry in on_node:
                _run_entry(ctx, node, (node,), entry, out)
        return out


def _run_entry(ctx: _Context, node: Any, values: Any, entry: tuple, out: list) -> None:
    """Run the checks of one entry of `CompiledShapes._plan_for` on `node`'s `values`."""
    _path, low, high, counts, pairs, pairs_without_values = entry
    if not low <= len(values) <= high:
        for check, shape in counts:
            failed = check(ctx, node, values)
            if failed:
                _add_findings(out, node, shape, failed)
    for check, shape in pairs if values else pairs_without_values:
        failed = check(ctx, node, values)
        if failed:
            _add_findings(out, node, shape, failed)


def _path_plan(path: Any, pairs: tuple) -> tuple:
    """One path's entry of `CompiledShapes._plan_for`."""
    counts = tuple(pair for pair in pairs if hasattr(pair[0], "count_range"))
    low = max((check.count_range[0] for check, _ in counts), default=0)
    high = min((check.count_range[1] for check, _ in counts), default=math.inf)
    others = tuple(pair for pair in pairs if not hasattr(pair[0], "count_range"))
    return (path, low, high, counts, others,
            tuple(pair for pair in others if not getattr(pair[0], "on_values", False)))


def _add_findings(out: list, node: Any, shape: _Shape, failed: Any) -> None:
    """Add a finding of `shape` about `node` for each failed value (None: none in particular)."""
    text = str(node)
    for value in failed:
        out.append((node, Finding(shape.severity, text, shape.path_text,
                                  None if value is None else str(value), shape.message,
                                  shape.name)))


def _literal_kind(v: Literal) -> tuple:
    """What a `_kind_only` check looks at of a literal: its datatype, language, whether it is
    ill-typed and the type of its Python value (literals differing only in their lexical form,
    e.g. two dates, get the same verdict, remembered once)."""
    return (v.datatype, v.language, getattr(v, "ill_typed", None), type(v.value))


def _kind_only(check: Any) -> Any:
    """Marks a check whose verdict on a literal follows from `_literal_kind` alone."""
    check.kind_only = True
    return check


def _on_values(check: Any) -> Any:
    """Marks a check that only finds fault with values: given none, it reports nothing."""
    check.on_values = True
    return check


#: the kind of a term of exactly one of these types (see `_kind_of`)
_KIND_OF_TYPE = {URIRef: URIRef, Literal: Literal, BNode: BNode}


def _kind_of(v: Any) -> type:
    """URIRef, Literal or BNode: the kind of term `v` is (anything else counts as an IRI).
    Exact types are looked up: isinstance() on rdflib's term classes (abc.ABCMeta) takes a
    slow path whenever it answers False."""
    kind = _KIND_OF_TYPE.get(type(v))
    if kind is None:
        kind = BNode if isinstance(v, BNode) else Literal if isinstance(v, Literal) else URIRef
    return kind


def _with(bad: Any, value: Any) -> list:
    """`bad` (the failed values so far: () or a list) with `value` added; a check's result
    stays an empty tuple, no list made, while every value passes (the common case)."""
    if not bad:
        return [value]
    bad.append(value)
    return bad


def _rejected(values: Any, ok: Any) -> Any:
    """The values `ok` rejects, in order (an empty tuple when it accepts them all)."""
    bad: Any = ()
    for v in values:
        if not ok(v):
            bad = _with(bad, v)
    return bad


def _min_count(n: int) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        return _NO_VALUE if len(values) < n else ()
    check.count_range = (n, math.inf)  # it fails exactly when the count is outside this range
    return check


def _max_count(n: int) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        return _NO_VALUE if len(values) > n else ()
    check.count_range = (0, n)
    return _on_values(check) if n >= 0 else check


def _class(cls: Any) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        bad: Any = ()
        for v in values:
            if _kind_of(v) is Literal or not ctx.is_a(v, cls):
                bad = _with(bad, v)
        return bad
    return _kind_only(_on_values(check))  # a literal is never an instance


def _python_types() -> dict[str, tuple[type, ...]]:
    import datetime as _dt
    from decimal import Decimal

    return {
        _XSD + "string": (str, bytes), str(RDF) + "langString": (str, bytes),
        _XSD + "integer": (int,), _XSD + "float": (float,), _XSD + "decimal": (Decimal,),
        _XSD + "boolean": (bool,), _XSD + "date": (_dt.date,), _XSD + "time": (_dt.time,),
        _XSD + "dateTime": (_dt.datetime,),
    }


def _datatype(datatype: Any) -> Any:
    # pySHACL's rule: the literal's datatype is `datatype` and the literal is not ill-typed
    # (and for xsd:string/integer/decimal/date/... its Python value has the matching type);
    # rdfs:Literal and rdfs:Datatype match any (typed) literal; a plain literal is an
    # xsd:string, a language-tagged one an rdf:langString.
    expected = _python_types().get(str(datatype))
    name = str(datatype)
    any_literal = datatype == _RDFS_LITERAL
    any_typed = datatype == _RDFS_DATATYPE
    is_string = datatype == _XSD_STRING
    is_lang_string = datatype == _LANG_STRING

    def ok(v: Any) -> bool:
        if _kind_of(v) is not Literal:
            return False
        dt = v.datatype
        if dt is not None and str.__eq__(dt, name):
            if getattr(v, "ill_typed", None) is True:
                return False
            return expected is None or isinstance(v.value, expected)
        if any_literal:
            return True
        if any_typed and dt:
            return True
        if is_string and dt is None and v.language is None:
            return isinstance(v.value, (str, bytes))
        if is_lang_string and v.language:
            return isinstance(v.value, (str, bytes))
        return False

    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        return _rejected(values, ok)
    return _kind_only(_on_values(check))


def _node_kind(kinds: tuple) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        bad: Any = ()
        for v in values:
            if _kind_of(v) not in kinds:
                bad = _with(bad, v)
        return bad
    return _kind_only(_on_values(check))


def _pattern(pattern: Any, flags: Any) -> Any:
    import re

    options = 0
    if flags is not None:
        text = str(flags.value if isinstance(flags, Literal) else flags).lower()
        options |= re.IGNORECASE if "i" in text else 0
        options |= re.MULTILINE if "m" in text else 0
        options |= re.DOTALL if "s" in text else 0
        options |= re.VERBOSE if "x" in text else 0
    regex = re.compile(str(pattern.value if isinstance(pattern, Literal) else pattern), options)
    plain = (None, _LANG_STRING, _XSD_STRING)

    def ok(v: Any) -> bool:
        kind = _kind_of(v)
        if kind is BNode:
            return False
        if kind is Literal and v.value is not None and v.datatype in plain:
            return regex.search(str(v.value)) is not None
        return regex.search(str(v)) is not None

    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        return _rejected(values, ok)
    return _on_values(check)


def _in(members: frozenset) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        return _rejected(values, members.__contains__)
    return _on_values(check)


def _has_value(value: Any) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        return () if value in values else _NO_VALUE
    return check


def _node(shape: _Shape) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        bad: Any = ()
        for v in values:
            if not ctx.conforms(shape, v):
                bad = _with(bad, v)
        return bad
    return _kind_only(_on_values(check)) if shape.kind_only else _on_values(check)


def _or(options: tuple[_Shape, ...]) -> Any:
    def conforms_to_one(ctx: _Context, v: Any) -> bool:
        for option in options:
            if ctx.conforms(option, v):
                return True
        return False

    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        bad: Any = ()
        for v in values:
            if not conforms_to_one(ctx, v):
                bad = _with(bad, v)
        return bad
    kind_only = all(option.kind_only for option in options)
    return _kind_only(_on_values(check)) if kind_only else _on_values(check)


def _qualified(shape: _Shape, low: int | None, high: int | None) -> Any:
    def check(ctx: _Context, focus: Any, values: Any) -> Any:
        if not values and (low is None or low < 1):
            return ()
        count = sum(1 for v in values if ctx.conforms(shape, v))
        if (high is not None and count > high) or (low is not None and count < low):
            return _NO_VALUE
        return ()
    return check


_compiled_cache: dict[str, CompiledShapes] = {}


def _compiled_shapes(shapes: Graph, key: str) -> CompiledShapes:
    with _shapes_cache_lock:
        found = _compiled_cache.get(key)
        if found is None:
            found = _compiled_cache[key] = CompiledShapes(shapes)
        return found


class _BackgroundIndex:
    """The background graph by subject, for collecting the part a data graph can reach."""

    def __init__(self, background: Graph) -> None:
        self._by_subject: dict[rdflib.term.Node, list[tuple]] = defaultdict(list)
        self._always: list[tuple] = []
        for t in background:
            if t[1] == RDFS.subClassOf:
                self._always.append(t)
            else:
                self._by_subject[t[0]].append(t)

    def reachable_from(self, data: Graph) -> Iterator[tuple]:
        yield from self._always
        by_subject = self._by_subject
        todo = [n for t in data for n in (t[0], t[2]) if not isinstance(n, Literal)]
        seen: set[rdflib.term.Node] = set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for t in by_subject.get(node, ()):
                yield t
                if not isinstance(t[2], Literal):
                    todo.append(t[2])


def _batches(items: Iterable[tuple[str, Graph]], size: int) -> Iterator[list[tuple[str, Graph]]]:
    batch: list[tuple[str, Graph]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= max(1, size):
            yield batch
            batch = []
    if batch:
        yield batch


def _findings(report: Graph) -> Iterator[tuple[rdflib.term.Node, Finding]]:
    # Only the report's top-level results: pyshacl also types the nested sh:detail results of
    # sh:node / sh:qualifiedValueShape failures as sh:ValidationResult.
    for result in report.objects(None, SH.result):
        focus = report.value(result, SH.focusNode)
        if focus is None:  # pragma: no cover - pyshacl always sets it
            continue
        severity = _SEVERITIES.get(report.value(result, SH.resultSeverity), "violation")
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        shape = report.value(result, SH.sourceShape)
        yield focus, Finding(
            severity=severity,
            focus_node=str(focus),
            path=_path_text(report, path),
            value=None if value is None else str(value),
            message=_message(report, result),
            shape=None if shape is None or isinstance(shape, BNode) else str(shape),
        )


def _path_text(g: Graph, path: rdflib.term.Node | None) -> str | None:
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    inverse = g.value(path, SH.inversePath)
    if isinstance(inverse, URIRef):
        return f"^{inverse}"
    if (path, RDF.first, None) in g:
        return "/".join(_path_text(g, p) or "?" for p in Collection(g, path))
    return "(complex path)"


def _message(g: Graph, result: rdflib.term.Node) -> str:
    by_lang: dict[str | None, str] = {}
    for m in g.objects(result, SH.resultMessage):
        if isinstance(m, Literal):
            by_lang.setdefault(m.language, str(m))
    nl, en = by_lang.get("nl"), by_lang.get("en")
    if nl and en:
        return f"{nl} / {en}"
    return nl or en or by_lang.get(None) or next(iter(by_lang.values()), "")


def _sorted_unique(findings: Iterable[Finding]) -> list[Finding]:
    unique = dict.fromkeys(findings)
    return sorted(
        unique,
        key=lambda f: (
            _SEVERITY_ORDER.get(f.severity, 9),
            f.focus_node,
            f.path or "",
            f.shape or "",
            f.value or "",
            f.message,
        ),
    )


__all__ = [
    "ENGINES",
    "SCHEME_RANGE_TYPES",
    "SHAPES_DIR",
    "CompiledShapes",
    "DatasetReports",
    "Finding",
    "ShapesError",
    "UnsupportedShapes",
    "ValidationReport",
    "Validator",
    "VocabularyError",
    "background_graph",
    "default_background",
]

