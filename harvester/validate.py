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

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, SKOS

from harvester.errors import HarvesterError

SHAPES_DIR = Path(__file__).resolve().parent.parent / "shapes"

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
        return asdict(self)


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
                from harvester.mappings import load_mappings
            except ImportError as exc:  # pragma: no cover - the module is part of the project
                raise VocabularyError(
                    f"cannot build the validation background graph: harvester.mappings is "
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
            _check_well_formed(per_file, union)
        for prefix, ns in per_file[0][1].namespace_manager.namespaces():
            union.bind(prefix, ns, override=False)
        _shapes_cache[key] = union
        return union


def _check_well_formed(per_file: list[tuple[Path, Graph]], union: Graph) -> None:
    """Make pyshacl load every targeted shape's constraints once (errors name the shape file).

    pyshacl parses a constraint only when it first evaluates it, so a malformed shape (e.g.
    `sh:minCount "veel"`, a broken sh:pattern) would otherwise surface in the middle of a
    harvest. A probe graph with one instance per target class makes it evaluate them all
    (a few ms; the full SHACL-SHACL check is a test, tests/test_validate.py).
    """
    error = _probe(union)
    if error is None:
        return
    for path, g in per_file:
        own = _probe(g)
        if own is not None:
            raise ShapesError(f"shape file {path} is not well-formed SHACL: {own}")
    names = ", ".join(str(p) for p, _ in per_file)
    raise ShapesError(f"the shape files {names} are not well-formed SHACL together: {error}")


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


class Validator:
    """Validates DCAT-AP-NL 3.0 graphs against the shapes in `shapes_dir` (default: shapes/).

    `ontology` is the vocabulary graph (default: `load_mappings().vocabulary_graph()`); the
    validator always adds the class axioms and range types of `background_graph()` to it.
    """

    def __init__(self, shapes_dir: Path | None = None, ontology: Graph | None = None):
        self.shapes_dir = Path(shapes_dir) if shapes_dir is not None else SHAPES_DIR
        self._setup(_shape_files(self.shapes_dir), ontology, check=True)

    @classmethod
    def from_files(
        cls, files: Iterable[Path], ontology: Graph | None = None, *, check: bool = True
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
        self._setup(files, ontology, check=check)
        return self

    def _setup(self, files: list[Path], ontology: Graph | None, check: bool) -> None:
        self.shape_files = files
        self.fingerprint = _fingerprint(files)
        self._shapes = _load_shapes(files, self.fingerprint, check=check)
        self._background = background_graph(ontology) if ontology is not None else default_background()
        self._index = _BackgroundIndex(self._background)
        # Shapes that can look backwards (inverse paths, subject/object/node targets, SPARQL)
        # may depend on background triples the data cannot reach: give them all of it.
        self._whole_background = any(
            (None, p, None) in self._shapes
            for p in (SH.inversePath, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode,
                      SH.sparql, SH.select, SH.ask)
        )

    @property
    def shapes_graph(self) -> Graph:
        """The merged shapes (shared between validators with the same fingerprint; do not modify)."""
        return self._shapes

    @property
    def background(self) -> Graph:
        return self._background

    # -- single graph -----------------------------------------------------------------------
    def validate(self, graph: Graph) -> ValidationReport:
        """Validate one graph. Only findings about nodes `graph` describes (has as subject)."""
        merged = Graph()
        for t in graph:
            merged.add(t)
        nodes = set(graph.subjects())
        results = self._run(merged)
        return ValidationReport.from_findings(f for node, f in results if node in nodes)

    # -- many datasets in one engine call ---------------------------------------------------
    def validate_datasets(
        self,
        items: Iterable[tuple[str, Graph]],
        context_graph: Graph | None = None,
        batch_size: int = 500,
    ) -> DatasetReports:
        """Validate many dataset graphs, `batch_size` at a time in one pyshacl call each.

        Each finding goes to every dataset whose graph describes its focus node (has it as a
        subject; a node several graphs describe, such as a shared contact point, counts for each
        of them). Findings about nodes only `context_graph` describes go to the result's
        `.context` report; findings about nodes only the background describes are left out, as
        in `validate()`. Every key of `items` gets a report, also when it has no findings.
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

    # -- the background itself --------------------------------------------------------------
    def check_background(self) -> ValidationReport:
        """Validate the background graph on its own (a defect in the mapping tables shows here)."""
        return ValidationReport.from_findings(f for _, f in self._run(Graph(), whole=True))

    # -- engine -----------------------------------------------------------------------------
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
    "SCHEME_RANGE_TYPES",
    "SHAPES_DIR",
    "DatasetReports",
    "Finding",
    "ShapesError",
    "ValidationReport",
    "Validator",
    "VocabularyError",
    "background_graph",
    "default_background",
]

