"""The fast SHACL engine: our shapes compiled into Python checks (`CompiledShapes`).

What it buys: validation of a whole catalogue without pySHACL and its overhead per node. The
SHACL Core subset our shapes use (class and subjects-of targets, predicate paths, sh:minCount/maxCount, sh:class,
sh:datatype, sh:nodeKind, sh:pattern, sh:in, sh:hasValue, sh:node, sh:property, sh:or, qualified
value shapes) is turned into plain Python functions, evaluated on the data's subject index
directly and grouped per combination of node types, so that each property's values are looked
up once. It is the one performance mechanism this package keeps. Shapes using anything else
cannot be compiled (`UnsupportedShapes`): the validator then falls back to pySHACL, the
reference engine.

Its contract is the agreement tests with pySHACL in tests/test_speed_paths.py: on a catalogue
with every kind of error our shapes check, on single graphs and on the background, both
engines give the very same findings (severity, focus node, path, value, message, shape).
What it saves on the operator's run is measured in docs/performance.md.

Size: longer than the project's ~600 lines, because the compiler, the evaluation context and
the check functions share private types and the marks the plan reads (`count_range`,
`on_values`, `kind_only`), and change together.
"""

from __future__ import annotations

import datetime
import math
import re
import threading
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import rdflib
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

from harvester.dcat.terms import shared, term
from harvester.shacl.shapes import SEVERITIES, UnsupportedShapes, message_text, show

#: SHACL predicates the compiled engine understands (any other sh: term makes it decline)
_SUPPORTED = frozenset({
    SH.path, SH.targetClass, SH.targetSubjectsOf, SH.minCount, SH.maxCount, SH["class"], SH.datatype, SH.nodeKind,
    SH.pattern, SH.flags, SH["in"], SH.hasValue, SH.node, SH.property, SH["or"],
    SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
    SH.qualifiedValueShapesDisjoint, SH.severity, SH.message, SH.name, SH.description,
    SH.order, SH.group, SH.defaultValue,
})
_SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape)
_CLASS_TYPES = (RDFS.Class, URIRef("http://www.w3.org/2002/07/owl#Class"))
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
#: sh:flags letters and the re flags they stand for
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}

#: what `CompiledShapes.run` reports: the focus node, the shape it fails and the value at fault
#: (None: no value in particular, e.g. a missing one)
Failure = tuple[rdflib.term.Node, "_Shape", Any]


class _Shape:
    """One compiled shape: its path, severity, message, checks and sh:property shapes."""

    __slots__ = ("checks", "checks_without_values", "children", "kind_only", "lenient", "message",
                 "messages", "name", "node", "path", "path_text", "reports", "severity")

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

    def finish(self) -> None:
        """Work out what follows from the shape's checks and children, once they are all in."""
        self.lenient = self.severity in _LENIENT
        self.checks_without_values = tuple(c for c in self.checks if not getattr(c, "on_values", False))
        self.kind_only = self.path is None and not self.children and \
            all(getattr(c, "kind_only", False) for c in self.checks)


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
    """Shapes compiled into Python checks that give pySHACL's findings (see the module docstring).

    `CompiledShapes(shapes_graph)` raises UnsupportedShapes when the shapes use anything beyond
    the supported subset, or when a result pySHACL would report has no sh:message of its own
    (pySHACL then writes a generic message this engine does not reproduce).
    """

    def __init__(self, shapes: Graph) -> None:
        _check_supported(shapes)
        self._g = shapes
        self._shapes: dict[rdflib.term.Node, _Shape] = {}
        by_class: dict[rdflib.term.Node, list[_Shape]] = {}
        for node, cls in sorted(shapes.subject_objects(SH.targetClass), key=lambda t: (str(t[0]), str(t[1]))):
            if any((node, RDF.type, c) in shapes for c in _CLASS_TYPES):
                raise UnsupportedShapes(f"{show(node)} is a class (implicit class target)")
            shape = self._compile(node, ())
            _mark_reporting(shape)
            by_class.setdefault(shared(cls), []).append(shape)
        self.by_class = {cls: tuple(dict.fromkeys(found)) for cls, found in by_class.items()}
        #: predicate -> the shapes targeting the subjects of its triples (sh:targetSubjectsOf)
        self.by_subject_of = _subjects_of_targets(shapes, self._compile)
        self._for_type: dict = {}

    # -- compiling ---------------------------------------------------------------------------
    def _one(self, node: Any, pred: Any) -> Any:
        values = list(self._g.objects(node, pred))
        if len(values) > 1:
            raise UnsupportedShapes(f"{show(node)} has {len(values)} values for {show(pred)}")
        return values[0] if values else None

    def _sorted(self, node: Any, pred: Any) -> list:
        return sorted(self._g.objects(node, pred), key=str)

    def _count(self, node: Any, pred: Any) -> int | None:
        value = self._one(node, pred)
        if value is None:
            return None
        if not isinstance(value, Literal) or not isinstance(value.value, int) or \
                isinstance(value.value, bool):
            raise UnsupportedShapes(f"{show(node)}: {show(pred)} {value!r} is not an integer")
        return int(value.value)

    def _compile(self, node: Any, stack: tuple) -> _Shape:
        """The shape `node` compiled (once); `stack` holds the shapes that refer to it."""
        found = self._shapes.get(node)
        if found is not None:
            return found
        if node in stack:
            raise UnsupportedShapes(f"{show(node)} refers to itself (recursive shapes)")
        stack = stack + (node,)
        shape = _Shape(node)
        self._read_path(shape)
        self._read_severity(shape)
        shape.messages = list(self._g.objects(node, SH.message))
        for constraint in self._CONSTRAINTS:
            shape.checks.extend(constraint(self, node, stack))
        shape.children = [self._property(child, node, stack)
                          for child in self._sorted(node, SH.property)]
        shape.finish()
        self._shapes[node] = shape
        return shape

    def _read_path(self, shape: _Shape) -> None:
        path = self._one(shape.node, SH.path)
        if path is not None:
            if not isinstance(path, URIRef):
                raise UnsupportedShapes(f"{show(shape.node)}: only predicate paths are supported")
            shape.path, shape.path_text = shared(path), str(path)

    def _read_severity(self, shape: _Shape) -> None:
        severity = self._one(shape.node, SH.severity)
        if severity is not None:
            if severity not in SEVERITIES:
                raise UnsupportedShapes(f"{show(shape.node)}: severity {show(severity)}")
            shape.severity = SEVERITIES[severity]

    def _property(self, child: Any, node: Any, stack: tuple) -> _Shape:
        compiled = self._compile(child, stack)
        if compiled.path is None:
            raise UnsupportedShapes(f"{show(child)} (sh:property of {show(node)}) has no sh:path")
        return compiled

    # One reader per kind of constraint: the checks it makes of shape `node`, in this order.
    def _counts(self, node: Any, stack: tuple) -> list:
        minimum, maximum = self._count(node, SH.minCount), self._count(node, SH.maxCount)
        return ([] if minimum is None else [_min_count(minimum)]) + \
            ([] if maximum is None else [_max_count(maximum)])

    def _classes(self, node: Any, stack: tuple) -> list:
        return [_class(shared(cls)) for cls in self._sorted(node, SH["class"])]

    def _datatypes(self, node: Any, stack: tuple) -> list:
        datatype = self._one(node, SH.datatype)
        return [] if datatype is None else [_datatype(shared(datatype))]

    def _node_kinds(self, node: Any, stack: tuple) -> list:
        kind = self._one(node, SH.nodeKind)
        if kind is None:
            return []
        if kind not in _NODE_KINDS:
            raise UnsupportedShapes(f"{show(node)}: node kind {show(kind)}")
        return [_node_kind(_NODE_KINDS[kind])]

    def _patterns(self, node: Any, stack: tuple) -> list:
        patterns = self._sorted(node, SH.pattern)
        flags = next(iter(self._g.objects(node, SH.flags)), None) if patterns else None
        return [_pattern(pattern, flags) for pattern in patterns]

    def _members(self, node: Any, stack: tuple) -> list:
        members = self._one(node, SH["in"])
        if members is None:
            return []
        return [_in(frozenset(shared(m) for m in Collection(self._g, members)))]

    def _values(self, node: Any, stack: tuple) -> list:
        return [_has_value(shared(value)) for value in self._sorted(node, SH.hasValue)]

    def _nodes(self, node: Any, stack: tuple) -> list:
        return [_node(self._compile(other, stack)) for other in self._sorted(node, SH.node)]

    def _alternatives(self, node: Any, stack: tuple) -> list:
        return [_or(tuple(self._compile(member, stack) for member in Collection(self._g, head)))
                for head in self._sorted(node, SH["or"])]

    def _qualified(self, node: Any, stack: tuple) -> list:
        qualified = self._one(node, SH.qualifiedValueShape)
        if qualified is None:
            if any((node, c, None) in self._g for c in (SH.qualifiedMinCount, SH.qualifiedMaxCount)):
                raise UnsupportedShapes(f"{show(node)}: a qualified count without value shape")
            return []
        disjoint = self._one(node, SH.qualifiedValueShapesDisjoint)
        if disjoint is not None and not (isinstance(disjoint, Literal) and disjoint.value is False):
            raise UnsupportedShapes(f"{show(node)}: sh:qualifiedValueShapesDisjoint")
        low = self._count(node, SH.qualifiedMinCount)
        high = self._count(node, SH.qualifiedMaxCount)
        if low is None and high is None:
            raise UnsupportedShapes(f"{show(node)}: a qualified value shape without count")
        return [_qualified(self._compile(qualified, stack), low, high)]

    _CONSTRAINTS = (_counts, _classes, _datatypes, _node_kinds, _patterns, _members, _values,
                    _nodes, _alternatives, _qualified)

    # -- running -----------------------------------------------------------------------------
    def run(self, spo: dict, bg: dict, focus: Iterable[Any]) -> list[Failure]:
        """The failures of the `focus` nodes (subjects of `spo`, whose dicts already hold
        the background's triples about them): (node, shape, value at fault)."""
        ctx = _Context(spo, bg)
        out: list[Failure] = []
        for node in focus:
            po = spo.get(node)
            if po is None:
                po = bg.get(node)
                if po is None:
                    continue
            types = po.get(_TYPE) or ()
            subject_of = tuple(p for p in self.by_subject_of if p in po) if self.by_subject_of else ()
            if types or subject_of:
                self._run_on(ctx, node, po, (tuple(types), subject_of), out)
        return out

    def _run_on(self, ctx: _Context, node: Any, po: dict, targets: tuple, out: list) -> None:
        """Add the failures of `node` (whose predicate -> objects dict is `po`; `targets`: its
        types and the sh:targetSubjectsOf predicates it has) to `out`."""
        by_path, when_absent, on_node = self._plan_for(ctx, targets)
        for path, values in po.items():
            entry = by_path.get(path)
            if entry is not None:
                _run_entry(ctx, node, values, entry, out)
        for entry in when_absent:
            if entry[0] not in po:
                _run_entry(ctx, node, (), entry, out)
        for entry in on_node:
            _run_entry(ctx, node, (node,), entry, out)

    def _plan_for(self, ctx: _Context, key: tuple) -> tuple:
        """What to check on a node of these (types, subjects-of predicates) (see `_plan`),
        worked out once per combination (when the background alone decides the superclasses)."""
        found = self._for_type.get(key)
        if found is None:
            found = self._plan(ctx, *key)
            # the class hierarchy can differ between evaluations only when the data itself
            # holds rdfs:subClassOf triples; remember only what the background alone decides
            if all(not ctx.spo.get(c, {}).get(_SUB_CLASS_OF) for t in key[0] for c in ctx.supers(t)):
                self._for_type[key] = found
        return found

    def _plan(self, ctx: _Context, types: tuple, subject_of: tuple = ()) -> tuple:
        """The checks of every shape targeting one of the types (or a superclass) and of their
        sh:property shapes, grouped by path so that each path's values are looked up once, as
        entries (path, low, high, counts, pairs, pairs without values), each of the last three
        ((check, shape), ...). `counts` are the sh:minCount/maxCount checks, which all pass when
        the number of values is within low..high; of the others, only those that can fail on no
        values run when there are none. Returns (entry by path, entries that can fail when
        their path has no values, entries about the node itself)."""
        by_path: dict[Any, dict[tuple, None]] = {}
        shapes = self._targeting(ctx, types)
        for predicate in subject_of:  # a shape targeting a node twice checks it once
            shapes.update(dict.fromkeys(self.by_subject_of[predicate]))
        for shape in shapes:
            _add_checks_by_path(shape, by_path)
        return _grouped([_path_plan(path, tuple(pairs))
                         for path, pairs in by_path.items() if pairs])

    def _targeting(self, ctx: _Context, types: tuple) -> dict[_Shape, None]:
        """The shapes whose target class is one of `types` or a superclass, in a fixed order."""
        shapes: dict[_Shape, None] = {}
        for t in types:
            for cls in sorted(ctx.supers(t), key=str):
                for shape in self.by_class.get(cls, ()):
                    shapes[shape] = None
        return shapes


def _subjects_of_targets(shapes: Graph, compile_shape: Any) -> dict:
    """predicate -> the compiled shapes whose sh:targetSubjectsOf it is, in a fixed order."""
    found: dict = {}
    for node, predicate in sorted(shapes.subject_objects(SH.targetSubjectsOf),
                                  key=lambda t: (str(t[0]), str(t[1]))):
        if not isinstance(predicate, URIRef):
            raise UnsupportedShapes(f"{show(node)}: sh:targetSubjectsOf {show(predicate)}")
        shape = compile_shape(node, ())
        _mark_reporting(shape)
        found.setdefault(shared(predicate), []).append(shape)
    return {predicate: tuple(dict.fromkeys(shapes_)) for predicate, shapes_ in found.items()}


def _check_supported(shapes: Graph) -> None:
    """Raise UnsupportedShapes when the shapes use an sh: term the compiled engine lacks."""
    for s, p, o in shapes:
        if p.startswith(str(SH)) and p not in _SUPPORTED:
            raise UnsupportedShapes(f"{show(p)} (on {show(s)}) is not supported")
        if p == RDF.type and isinstance(o, URIRef) and o.startswith(str(SH)) and \
                o not in _SHAPE_TYPES:
            raise UnsupportedShapes(f"{show(s)} is a {show(o)}, which is not supported")


def _mark_reporting(shape: _Shape) -> None:
    """A shape whose results pySHACL reports at the top level needs its own message."""
    if shape.reports:
        return
    shape.reports = True
    shape.message = _reported_message(shape)
    for child in shape.children:
        _mark_reporting(child)


def _reported_message(shape: _Shape) -> str:
    """The message pySHACL reports for the results of `shape` (UnsupportedShapes when pySHACL
    would write one of its own)."""
    if not shape.messages:
        raise UnsupportedShapes(f"{show(shape.node)} has no sh:message (pySHACL would "
                                "write a generic one)")
    by_lang: dict[str | None, str] = {}
    for m in shape.messages:
        if not isinstance(m, Literal) or m.language in by_lang or "{" in str(m):
            raise UnsupportedShapes(f"{show(shape.node)}: messages must be literals without "
                                    "placeholders, at most one per language")
        by_lang[m.language] = str(m)
    if not (by_lang.get("nl") or by_lang.get("en") or by_lang.get(None)) and len(by_lang) > 1:
        raise UnsupportedShapes(f"{show(shape.node)}: messages in several other languages")
    return message_text(by_lang)


def _add_checks_by_path(shape: _Shape, by_path: dict) -> None:
    """Add the (check, shape) pairs of `shape` and its sh:property shapes under their paths."""
    pairs = by_path.setdefault(shape.path, {})
    for check in shape.checks:
        pairs[(check, shape)] = None
    for child in shape.children:
        _add_checks_by_path(child, by_path)


def _grouped(entries: list[tuple]) -> tuple:
    """`CompiledShapes._plan`'s entries as (entry by path, entries that can fail when their
    path has no values, entries about the node itself)."""
    on_paths = [entry for entry in entries if entry[0] is not None]
    return ({entry[0]: entry for entry in on_paths},
            tuple(entry for entry in on_paths if not entry[1] <= 0 <= entry[2] or entry[5]),
            tuple(entry for entry in entries if entry[0] is None))


def _run_entry(ctx: _Context, node: Any, values: Any, entry: tuple, out: list) -> None:
    """Run the checks of one entry of `CompiledShapes._plan` on `node`'s `values`."""
    _path, low, high, counts, pairs, pairs_without_values = entry
    if not low <= len(values) <= high:
        for check, shape in counts:
            failed = check(ctx, node, values)
            if failed:
                _add_failures(out, node, shape, failed)
    for check, shape in pairs if values else pairs_without_values:
        failed = check(ctx, node, values)
        if failed:
            _add_failures(out, node, shape, failed)


def _path_plan(path: Any, pairs: tuple) -> tuple:
    """One path's entry of `CompiledShapes._plan`."""
    counts = tuple(pair for pair in pairs if hasattr(pair[0], "count_range"))
    low = max((check.count_range[0] for check, _ in counts), default=0)
    high = min((check.count_range[1] for check, _ in counts), default=math.inf)
    others = tuple(pair for pair in pairs if not hasattr(pair[0], "count_range"))
    return (path, low, high, counts, others,
            tuple(pair for pair in others if not getattr(pair[0], "on_values", False)))


def _add_failures(out: list, node: Any, shape: _Shape, failed: Any) -> None:
    """Add a failure of `shape` on `node` for each failed value (None: none in particular)."""
    out.extend((node, shape, value) for value in failed)


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
    return {
        _XSD + "string": (str, bytes), str(RDF) + "langString": (str, bytes),
        _XSD + "integer": (int,), _XSD + "float": (float,), _XSD + "decimal": (Decimal,),
        _XSD + "boolean": (bool,), _XSD + "date": (datetime.date,), _XSD + "time": (datetime.time,),
        _XSD + "dateTime": (datetime.datetime,),
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
    options = 0
    if flags is not None:
        text = str(flags.value if isinstance(flags, Literal) else flags).lower()
        for letter, flag in _REGEX_FLAGS.items():
            options |= flag if letter in text else 0
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


_compiled: dict[str, CompiledShapes] = {}
_compiled_lock = threading.Lock()


def compiled_shapes(shapes: Graph, key: str) -> CompiledShapes:
    """`CompiledShapes(shapes)`, compiled once per process for the shapes `key` names (their
    fingerprint); raises UnsupportedShapes."""
    with _compiled_lock:
        found = _compiled.get(key)
        if found is None:
            found = _compiled[key] = CompiledShapes(shapes)
        return found


__all__ = ["CompiledShapes", "Failure", "UnsupportedShapes", "compiled_shapes"]
