"""Validation stage: check DCAT-AP-NL 3.0 graphs against this project's SHACL shapes (shapes/*.ttl).

The shapes test cardinalities, class ranges, datatypes and value-list membership; every
validation adds the background graph (harvester.shacl.background) to the data. A finding belongs
to the graph that *describes* its focus node (has it as a subject): findings about nodes that only
the background describes (a concept, a licence, an organisation of the tables) are not reported
for the data; `Validator.check_background()` reports them, and the tests keep it clean.

Two engines evaluate the shapes: the compiled one (harvester.shacl.compiled), and pySHACL, the
reference, used when the shapes do not compile (or when asked for).

Public API (used by the pipeline, the jobs and the benchmark): `Finding`, `ValidationReport`,
`DatasetReports`, `Validator` (`load`, `validate`, `validate_datasets`, `check_background`,
`fingerprint`, `engine`), `ShapesError`, `ENGINES`, `SHAPES_DIR`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from harvester.config import DEFAULT_PROFILE, SHAPES_DIR
from harvester.dcat.triples import add_objects
from harvester.dcat.terms import shared
from harvester.dcat.vocabulary import Vocabulary
from harvester.shacl.background import (
    BackgroundBySubject,
    BackgroundIndex,
    background_graph,
    default_background,
)
from harvester.shacl.compiled import CompiledShapes, Failure, compiled_shapes
from harvester.shacl.shapes import (
    SEVERITIES,
    ShapesError,
    UnsupportedShapes,
    existing_files,
    fingerprint,
    load_shapes,
    message_text,
    profile_files,
)

_SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}
#: predicates of shapes that can look backwards (inverse paths, subject/object/node targets,
#: SPARQL): such shapes may depend on background triples the data cannot reach
_LOOKING_BACK = (SH.inversePath, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode,
                 SH.sparql, SH.select, SH.ask)
#: pySHACL adds its system triples to the (shared) shapes graph on every call
_engine_lock = threading.Lock()


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


ENGINES = ("auto", "compiled", "pyshacl")


class Validator:
    """Validates DCAT-AP-NL 3.0 graphs against the shapes in `shapes_dir` (default: shapes/) of
    `profile`, the DCAT-AP-NL version (harvester.config.PROFILES; default the adopted "3.0"): the
    folder's shared files and its profiles/<profile>/ files (`profile_files`), so the
    `fingerprint` changes with the profile.

    `ontology` is the vocabulary: a graph (default: `load_mappings().vocabulary_graph()`) or the
    mapping tables' `Vocabulary` (`Mappings.vocabulary()`, looked up by subject: the compiled
    engine then never builds the whole graph), or a function that makes either when the shapes
    are loaded; the validator always adds the class axioms and range types of
    `background_graph()` to it.

    With `lazy=True` the shapes are read and compiled when first needed (`load`), not at once:
    the fingerprint is known without them.

    `engine` chooses what evaluates the shapes:

    * `"compiled"`: the shapes compiled into Python checks (harvester.shacl.compiled), evaluated
      on the data's triples directly; the same findings as pySHACL. Shapes using anything the
      compiled engine lacks: `ShapesError`.
    * `"pyshacl"`: pySHACL, the reference.
    * `"auto"` (default): compiled when the shapes compile, else pySHACL (`engine` then says
      which, and `fallback_reason` why).
    """

    def __init__(self, shapes_dir: Path | None = None, ontology: Graph | Callable[[], Graph] | None = None,
                 engine: str = "auto", *, lazy: bool = False, profile: str = DEFAULT_PROFILE):
        self.shapes_dir = Path(shapes_dir) if shapes_dir is not None else SHAPES_DIR
        self.profile = profile
        self._setup(profile_files(self.shapes_dir, profile), ontology, check=True, engine=engine)
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
        files = existing_files([Path(f) for f in files])
        self = cls.__new__(cls)
        self.shapes_dir, self.profile = files[0].parent, None
        self._setup(files, ontology, check=check, engine=engine)
        return self.load()

    def _setup(self, files: list[Path], ontology: Graph | Callable[[], Graph] | None, check: bool,
               engine: str = "auto") -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown validation engine {engine!r}; expected one of {ENGINES}")
        self.shape_files = files
        self.fingerprint = fingerprint(files)
        self._settings = (ontology, check, engine)
        self._loaded = False

    #: what `load` sets (read before it ran, each of them runs it first)
    _LOADED_ATTRIBUTES = frozenset(("_shapes", "_ontology", "_graph", "_index", "_by_subject", "_whole_background",
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
        self._shapes = load_shapes(self.shape_files, self.fingerprint, check=check)
        if callable(ontology):  # made only now: a run whose results all still stand never needs it
            ontology = ontology()
        self._ontology = ontology
        self._graph: Graph | None = None  # the background graph, made when first needed
        self._index: BackgroundIndex | None = None
        self._by_subject = BackgroundBySubject(ontology) if isinstance(ontology, Vocabulary) else None
        self._whole_background = any((None, p, None) in self._shapes for p in _LOOKING_BACK)
        self._choose_engine(engine, f"{self.fingerprint}:{int(check)}")
        self._loaded = True
        return self

    def _choose_engine(self, engine: str, key: str) -> None:
        """Set `engine`, `_compiled` and `fallback_reason` for the engine asked for."""
        self._compiled: CompiledShapes | None = None
        self.fallback_reason: str | None = None
        self.engine = "pyshacl"
        if engine == "pyshacl":
            return
        try:
            self._compiled = compiled_shapes(self._shapes, key)
            self.engine = "compiled"
        except UnsupportedShapes as exc:
            if engine == "compiled":
                raise ShapesError(f"the shapes cannot be compiled: {exc}") from None
            self.fallback_reason = str(exc)

    @property
    def shapes_graph(self) -> Graph:
        """The merged shapes (shared between validators with the same fingerprint; do not modify)."""
        return self._shapes

    @property
    def background(self) -> Graph:
        """The whole background graph (made when first asked for: pySHACL, `check_background`)."""
        if self._graph is None:
            ontology = self._ontology
            if isinstance(ontology, Vocabulary):
                ontology = ontology.graph()
            self._graph = background_graph(ontology) if ontology is not None else default_background()
        return self._graph

    def _background_by_subject(self) -> Any:
        """The background indexed by subject, as the compiled engine reads it (`get`)."""
        if self._by_subject is not None:
            return self._by_subject
        return _background_spo(self.background)

    # -- single graph -----------------------------------------------------------------------
    def validate(self, graph: Graph) -> ValidationReport:
        """Validate one graph. Only findings about nodes `graph` describes (has as subject).

        `graph` may be an rdflib Graph or any iterable of (s, p, o) rdflib terms (e.g. a
        harvester.dcat.triples.TripleView).
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
        harvester.dcat.triples.TripleView is read without copying it).
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
        """The findings of one batch by dataset key, and those about the context's own nodes."""
        context = context_graph if context_graph is not None else ()
        if self._compiled is not None:
            spo: dict = {}
            owned: set = set()
            owners_of = _subject_owners(batch, lambda g: _merge_into(spo, g, owned))
            context_nodes = set(_merge_into(spo, context, owned))
            results = self._run_compiled(spo, list(spo), owned)
        else:
            merged = Graph()
            owners_of = _subject_owners(batch, lambda g: _add_to_graph(merged, g))
            context_nodes = _add_to_graph(merged, context)
            results = self._run(merged)
        return _attribute(results, [key for key, _ in batch], owners_of, context_nodes)

    # -- the background itself --------------------------------------------------------------
    def check_background(self) -> ValidationReport:
        """Validate the background graph on its own (a defect in the mapping tables shows here)."""
        if self._compiled is not None:
            background = _background_spo(self.background)
            return ValidationReport.from_findings(
                f for _, f in _as_findings(self._compiled.run({}, background, list(background))))
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
        background = self._background_by_subject()
        owned = owned if owned is not None else set()
        for s in list(spo):
            po = background.get(s)
            if po is not None:
                add_objects(_own(spo, s, owned), po)
        return _as_findings(self._compiled.run(spo, background, focus))

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
        if self._index is None:
            self._index = BackgroundIndex(self.background)
        for t in (self.background if whole else self._index.reachable_from(data)):
            data.add(t)
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
        return list(_pyshacl_findings(report_graph))


def _subject_owners(batch: list[tuple[str, Graph]], add: Callable[[Any], Iterable[Any]]
                    ) -> dict[Any, dict[str, None]]:
    """Each subject of the batch's graphs with the keys of the graphs that have it (in order);
    `add(graph)` adds a graph to the engine's input and returns its subjects."""
    owners_of: dict[Any, dict[str, None]] = {}
    for key, g in batch:
        for s in add(g):
            keys = owners_of.get(s)
            if keys is None:
                owners_of[s] = {key: None}
            else:
                keys[key] = None
    return owners_of


def _add_to_graph(merged: Graph, graph: Any) -> set:
    """Add `graph`'s triples to `merged`; returns the subjects it has."""
    subjects = set()
    for t in graph:
        merged.add(t)
        subjects.add(t[0])
    return subjects


def _attribute(results: Iterable[tuple[Any, Finding]], keys: list[str], owners_of: dict,
               context_nodes: set) -> tuple[dict[str, list[Finding]], list[Finding]]:
    """The findings by the keys of the graphs that describe their focus node, and those about
    nodes only the context describes; findings about background nodes are left out."""
    per_key: dict[str, list[Finding]] = {key: [] for key in keys}
    context: list[Finding] = []
    for node, finding in results:
        owners = owners_of.get(node)
        if owners:
            for key in owners:
                per_key[key].append(finding)
        elif node in context_nodes:
            context.append(finding)
    return per_key, context


def _as_findings(failures: list[Failure]) -> list[tuple[rdflib.term.Node, Finding]]:
    """The compiled engine's failures as (focus node, Finding)."""
    return [(node, Finding(shape.severity, str(node), shape.path_text,
                           None if value is None else str(value), shape.message, shape.name))
            for node, shape, value in failures]


def _merge_into(spo: dict, graph: Any, owned: set) -> Iterable[rdflib.term.Node]:
    """Add `graph`'s triples to `spo`; returns the subjects it has. A TripleView's inner dicts
    are shared, not copied, until a second graph adds to the same subject (`owned` holds the
    subjects whose dicts belong to `spo`)."""
    view_spo = getattr(graph, "spo", None)
    if isinstance(view_spo, dict):
        _merge_view(spo, view_spo, owned)
        return view_spo.keys()
    return _merge_triples(spo, graph, owned)


def _merge_view(spo: dict, view_spo: dict, owned: set) -> None:
    """Add a TripleView's subject index to `spo` (see `_merge_into`)."""
    for s, po in view_spo.items():
        mine = spo.get(s)
        if mine is None:
            spo[s] = po
        elif mine is not po and mine != po:  # equal: e.g. a concept described in each graph
            add_objects(_own(spo, s, owned), po)


def _merge_triples(spo: dict, graph: Any, owned: set) -> Iterable[rdflib.term.Node]:
    """Add the triples of `graph` to `spo` (see `_merge_into`); returns its subjects."""
    subjects: dict = {}
    for s, p, o in graph:
        subjects[s] = None
        mine = spo.get(s)
        if mine is None:
            spo[s] = {p: {o: None}}
            owned.add(s)
            continue
        if s not in owned:
            mine = _own(spo, s, owned)
        have = mine.get(p)
        if have is None:
            mine[p] = {o: None}
        else:
            have[o] = None
    return subjects.keys()


def _own(spo: dict, s: Any, owned: set) -> dict:
    """`spo[s]`, copied first unless it belongs to `spo` (see `_merge_into`)."""
    po = spo[s]
    if s not in owned:
        po = spo[s] = {p: dict(os_) for p, os_ in po.items()}
        owned.add(s)
    return po


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


def _batches(items: Iterable[tuple[str, Graph]], size: int) -> Iterator[list[tuple[str, Graph]]]:
    batch: list[tuple[str, Graph]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= max(1, size):
            yield batch
            batch = []
    if batch:
        yield batch


def _pyshacl_findings(report: Graph) -> Iterator[tuple[rdflib.term.Node, Finding]]:
    # Only the report's top-level results: pyshacl also types the nested sh:detail results of
    # sh:node / sh:qualifiedValueShape failures as sh:ValidationResult.
    for result in report.objects(None, SH.result):
        focus = report.value(result, SH.focusNode)
        if focus is None:  # pragma: no cover - pyshacl always sets it
            continue
        severity = SEVERITIES.get(report.value(result, SH.resultSeverity), "violation")
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
    return message_text(by_lang)


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
    "SHAPES_DIR",
    "DatasetReports",
    "Finding",
    "ShapesError",
    "ValidationReport",
    "Validator",
]
