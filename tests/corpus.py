"""The conformance corpus: DCAT-AP(-NL) documents from official examples, and cases broken (or
varied) one rule at a time, generated from rule tables read from shapes graphs.

No test functions here; tests/test_conformance_corpus.py validates the cases with our shapes and
with the official ones and compares the verdicts.

Documents (`documents`), keyed "<source>/<name>", read from ../shared/reference:

  semic/        SEMIC DCAT-AP 3.0.0 examples (two do not parse: `unparsable` says which)
  hvd/          SEMIC DCAT-AP HVD 3.0.0 examples (one does not parse)
  shacl-tests/  SEMIC dcat-ap_shacl test data (DCAT-AP 2016-17; their expected results are read
                by `expected_results`)
  donl/         DCAT-AP-DONL 2.0 examples: snippets without prefix declarations (added here) whose
                IRIs use U+2215 DIVISION SLASH for "/" (put back here)
  ckanext-dcat/ ckanext-dcat's DCAT examples (Turtle and RDF/XML; dataset.ttl uses the prefix
                healthdcatap: without declaring it, declared here)
  ours/         our export of the bundled DUO catalogue (tests/fixtures/golden/duo-export.ttl,
                which tests/test_golden.py keeps byte-identical to `harvester export`)

Rules (`rules`): (class, property, kind) read from a shapes graph, for the kinds

  min       a violation-level sh:minCount >= 1           -> case "removed"
  max       a violation-level sh:maxCount 1              -> case "two-values"
  datatype  sh:datatype, or an sh:or of sh:datatype's    -> case "wrong-datatype"
  list      membership of a value list (sh:node / sh:qualifiedValueShape naming a scheme with
            sh:hasValue on skos:inScheme, the IANA URI pattern, or sh:in)
                                                         -> cases "outside-list", "other-list",
                                                            and where sh:in allows only some
                                                            terms of a list "not-allowed-term"

Cases (`cases`): each rule is broken in the first document of each source family that has an
instance of its class (the first instance by IRI); case names say what, e.g.
`semic/example-bee-population::Dataset/dct:title::removed`. Every document is also a case as
published (`::as-published`), and `ours/duo-export` gives valid variants that must pass
(`::valid-...`: each allowed date datatype, another term the list rule allows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, SKOS, XSD

REPO = Path(__file__).resolve().parent.parent
OUR_EXPORT = REPO / "tests" / "fixtures" / "golden" / "duo-export.ttl"

DCAT = "http://www.w3.org/ns/dcat#"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
DCT_MEDIA_TYPE = URIRef("http://purl.org/dc/terms/MediaType")
FOAF_PRIMARY_TOPIC = URIRef("http://xmlns.com/foaf/0.1/primaryTopic")

#: prefixes for case names (and for the DCAT-AP-DONL snippets, which declare none)
PREFIXES: dict[str, str] = {
    "adms": "http://www.w3.org/ns/adms#",
    "dcat": DCAT,
    "dcatap": "http://data.europa.eu/r5r/",
    "dct": "http://purl.org/dc/terms/",
    "dqv": "http://www.w3.org/ns/dqv#",
    "eli": "http://data.europa.eu/eli/ontology#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "locn": "http://www.w3.org/ns/locn#",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "schema": "http://schema.org/",
    "skos": str(SKOS),
    "spdx": "http://spdx.org/rdf/terms#",
    "time": "http://www.w3.org/2006/time#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": str(XSD),
}
#: prefixes the DCAT-AP-DONL 2.0 snippets use beyond PREFIXES
DONL_PREFIXES = {
    "donl": "https://data.overheid.nl/dcat-ap-donl#",
    "ex": "http://example.org/",
    "op": "http://publications.europa.eu/resource/authority/",
    "Bestuur": "http://standaarden.overheid.nl/owms/terms/",
}
DONL_BASE = "https://data.overheid.nl/voorbeeld/"
#: ckanext-dcat's dataset.ttl uses this prefix without declaring it (HealthDCAT-AP's namespace)
HEALTHDCATAP = "http://healthdataportal.eu/ns/health#"


# ------------------------------------------------------------------------------------------------
# documents
# ------------------------------------------------------------------------------------------------


@dataclass
class Documents:
    graphs: dict[str, Graph]
    unparsable: dict[str, str]  # key -> the parser's complaint (first line)


def _turtle_prefixes(prefixes: dict[str, str]) -> str:
    return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(prefixes.items()))


def _parse(docs: Documents, key: str, text: str | None = None, path: Path | None = None,
           fmt: str = "turtle", base: str | None = None) -> None:
    g = Graph()
    try:
        if text is not None:
            g.parse(data=text, format=fmt, publicID=base)
        else:
            g.parse(path, format=fmt)
    except Exception as exc:  # noqa: BLE001 - rdflib raises BadSyntax, SAXParseException, ...
        docs.unparsable[key] = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else repr(exc)
        return
    docs.graphs[key] = g


def documents(reference: Path) -> Documents:
    """Every official example (and our export) as a graph, keyed "<source>/<name>"."""
    docs = Documents({}, {})
    peers = reference / "peers"
    for source, folder in (("semic", "semic-dcat-ap-3.0.0-examples"),
                           ("hvd", "semic-dcat-ap-hvd-3.0.0-examples")):
        for path in sorted((peers / folder).glob("*.ttl")):
            _parse(docs, f"{source}/{path.stem}", path=path)
    for path in sorted((peers / "semic-dcat-ap_shacl-tests").glob("*.ttl")):
        if not path.name.endswith(".test.ttl"):
            _parse(docs, f"shacl-tests/{path.stem}", path=path)
    head = _turtle_prefixes({**PREFIXES, **DONL_PREFIXES})
    for path in sorted((peers / "dcat-ap-donl-2.0-examples").glob("*.ttl")):
        body = path.read_text(encoding="utf-8").replace("\u2215", "/")
        _parse(docs, f"donl/{path.stem}", text=head + body, base=DONL_BASE)
    for path in sorted((peers / "ckanext-dcat" / "examples" / "dcat").iterdir()):
        if path.suffix == ".ttl":
            text = path.read_text(encoding="utf-8")
            if "healthdcatap:" in text and "@prefix healthdcatap:" not in text:
                text = f"@prefix healthdcatap: <{HEALTHDCATAP}> .\n" + text
            _parse(docs, f"ckanext-dcat/{path.name}", text=text)
        elif path.suffix == ".rdf":
            _parse(docs, f"ckanext-dcat/{path.name}", path=path, fmt="xml")
    _parse(docs, "ours/duo-export", path=OUR_EXPORT)
    return docs


def expected_results(reference: Path) -> dict[str, set[tuple[str, str | None]]]:
    """The SEMIC shape test cases' expected violations: "shacl-tests/<name>" -> {(focus, path)}."""
    out: dict[str, set[tuple[str, str | None]]] = {}
    for path in sorted((reference / "peers" / "semic-dcat-ap_shacl-tests").glob("*.test.ttl")):
        g = Graph().parse(path, format="turtle")
        pairs = set()
        for result in g.subjects(RDF.type, SH.ValidationResult):
            if g.value(result, SH.resultSeverity) not in (None, SH.Violation):
                continue
            rpath = g.value(result, SH.resultPath)
            pairs.add((str(g.value(result, SH.focusNode)), None if rpath is None else str(rpath)))
        out[f"shacl-tests/{path.name.removesuffix('.test.ttl')}"] = pairs
    return out


# ------------------------------------------------------------------------------------------------
# rules read from shapes
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Rule:
    """One rule of a shapes graph: `kind` of `path` on instances of `cls`."""

    cls: URIRef
    path: URIRef
    kind: str  # "min" | "max" | "datatype" | "list"
    #: datatype: the allowed datatypes; list: the allowed schemes (IRIs, "iana" or "enumeration")
    allowed: tuple[str, ...] = ()
    #: list rules given by sh:in: the members
    members: tuple[str, ...] = ()


def _property_shapes(shapes: Graph) -> Iterator[tuple[URIRef, URIRef, object]]:
    """(target class, property shape, severity) of every targeted property shape: a property
    shape with its own sh:targetClass (ours) or one of a node shape's sh:property (official)."""
    for node_shape, cls in shapes.subject_objects(SH.targetClass):
        if not isinstance(cls, URIRef):
            continue
        if (node_shape, SH.path, None) in shapes:
            members = [node_shape]
        else:
            members = list(shapes.objects(node_shape, SH.property))
        for ps in members:
            severity = shapes.value(ps, SH.severity) or shapes.value(node_shape, SH.severity)
            yield cls, ps, severity or SH.Violation


def _list_members(shapes: Graph, head) -> list:
    return list(Collection(shapes, head)) if head is not None else []


def _datatypes(shapes: Graph, shape, depth: int = 0) -> set[str]:
    """The datatypes `shape` allows: its sh:datatype, or those of an sh:or / sh:xone (also via
    sh:node)."""
    found = {str(d) for d in shapes.objects(shape, SH.datatype)}
    heads = [*shapes.objects(shape, SH["or"]), *shapes.objects(shape, SH.xone)]
    for head in heads:
        for member in _list_members(shapes, head):
            found |= {str(d) for d in shapes.objects(member, SH.datatype)}
    if depth < 2:
        for target in shapes.objects(shape, SH.node):
            found |= _datatypes(shapes, target, depth + 1)
    return found


def _schemes(shapes: Graph, shape, depth: int = 0) -> set[str]:
    """The value lists `shape` asks membership of (via sh:node, sh:qualifiedValueShape, sh:or,
    the skos:inScheme sh:hasValue of a restriction, or the IANA URI pattern)."""
    found: set[str] = set()
    for pattern in shapes.objects(shape, SH.pattern):
        if "iana.org/assignments/media-types" in str(pattern):
            found.add("iana")
    for ps in shapes.objects(shape, SH.property):
        if shapes.value(ps, SH.path) == SKOS.inScheme:
            found |= {str(v) for v in shapes.objects(ps, SH.hasValue)}
    if shapes.value(shape, SH.path) == SKOS.inScheme:
        found |= {str(v) for v in shapes.objects(shape, SH.hasValue)}
    if depth < 3:
        targets = [*shapes.objects(shape, SH.node), *shapes.objects(shape, SH.qualifiedValueShape)]
        for head in shapes.objects(shape, SH["or"]):
            targets += _list_members(shapes, head)
        for target in targets:
            found |= _schemes(shapes, target, depth + 1)
    return found


def rules(shapes: Graph) -> set[Rule]:
    """The min / max / datatype / list rules of a shapes graph (see the module docstring)."""
    out: set[Rule] = set()
    for cls, ps, severity in _property_shapes(shapes):
        path = shapes.value(ps, SH.path)
        if not isinstance(path, URIRef):
            continue
        violation = severity == SH.Violation
        count = shapes.value(ps, SH.minCount)
        if violation and count is not None and int(count) >= 1:
            out.add(Rule(cls, path, "min"))
        count = shapes.value(ps, SH.maxCount)
        if violation and count is not None and int(count) == 1:
            out.add(Rule(cls, path, "max"))
        datatypes = _datatypes(shapes, ps)
        if datatypes:
            out.add(Rule(cls, path, "datatype", tuple(sorted(datatypes))))
        schemes = _schemes(shapes, ps)
        if schemes:
            out.add(Rule(cls, path, "list", tuple(sorted(schemes))))
        for head in shapes.objects(ps, SH["in"]):
            members = tuple(sorted(str(m) for m in _list_members(shapes, head)))
            out.add(Rule(cls, path, "list", ("enumeration",), members))
    return merged_lists(out)


def merged_lists(found: set[Rule]) -> set[Rule]:
    """One list rule per (class, path): the allowed schemes (and members) of all its shapes
    together (also for the union of two tables)."""
    lists: dict[tuple, list[Rule]] = {}
    out = set()
    for r in found:
        if r.kind == "list":
            lists.setdefault((r.cls, r.path), []).append(r)
        else:
            out.add(r)
    for (cls, path), rs in lists.items():
        allowed = tuple(sorted({a for r in rs for a in r.allowed}))
        members = tuple(sorted({m for r in rs for m in r.members}))
        out.add(Rule(cls, path, "list", allowed, members))
    return out


# ------------------------------------------------------------------------------------------------
# cases
# ------------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One graph of the corpus: `document` changed as `kind` says at `broken` (focus, path)."""

    name: str
    document: str
    kind: str  # as-published | removed | two-values | wrong-datatype | outside-list | other-list | valid-...
    graph: Graph
    broken: tuple[str, str] | None = None
    rule: Rule | None = None


def qname(term) -> str:
    text = str(term)
    for prefix, ns in PREFIXES.items():
        if text.startswith(ns) and len(text) > len(ns):
            return f"{prefix}:{text[len(ns):]}"
    return text


def case_name(document: str, rule: Rule, kind: str) -> str:
    local = qname(rule.cls).split(":", 1)[-1]
    return f"{document}::{local}/{qname(rule.path)}::{kind}"


def copy(g: Graph) -> Graph:
    h = Graph()
    for t in g:
        h.add(t)
    return h


def trimmed(g: Graph, keep_datasets: int = 1) -> Graph:
    """`g` with only its first `keep_datasets` datasets (and their records): a whole catalogue
    broken once per rule would repeat the same nodes in every case."""
    datasets = sorted((s for s in g.subjects(RDF.type, URIRef(DCAT + "Dataset"))
                       if isinstance(s, URIRef)), key=str)
    others = set(datasets[keep_datasets:])
    if not others:
        return g
    others |= {r for r, d in g.subject_objects(FOAF_PRIMARY_TOPIC) if d in others}
    objects = set(g.objects())
    todo = [s for s in set(g.subjects()) if s not in objects and s not in others]
    todo += datasets[:keep_datasets]
    kept: set = set()
    while todo:
        node = todo.pop()
        if node in kept or node in others:
            continue
        kept.add(node)
        todo.extend(o for o in g.objects(node) if isinstance(o, URIRef | BNode))
    h = Graph()
    for s, p, o in g:
        if s in kept and o not in others:
            h.add((s, p, o))
    return h


def _instances(g: Graph, cls: URIRef, background: Graph) -> list:
    """Instances of `cls` (or a subclass the background knows) that `g` describes and the
    background does not, first by IRI."""
    classes = {cls, *background.subjects(RDFS.subClassOf, cls)}
    nodes = {n for c in classes for n in g.subjects(RDF.type, c)}
    return sorted((n for n in nodes if (n, None, None) not in background),
                  key=lambda n: (isinstance(n, BNode), str(n)))


#: a literal of the wrong datatype for a rule allowing `allowed`
def wrong_literal(allowed: Iterable[str]) -> Literal:
    if {str(XSD.string), str(RDF.langString)} & set(allowed):
        return Literal("42", datatype=XSD.integer)
    return Literal("geen geldige waarde")


#: one term of each value list (valid in its own list), for "a term of another list"
SAMPLE_TERMS: dict[str, URIRef] = {
    EU + "language": URIRef(EU + "language/NLD"),
    EU + "file-type": URIRef(EU + "file-type/CSV"),
    EU + "frequency": URIRef(EU + "frequency/ANNUAL"),
    EU + "access-right": URIRef(EU + "access-right/PUBLIC"),
    EU + "data-theme": URIRef(EU + "data-theme/EDUC"),
    "iana": URIRef(IANA + "text/csv"),
}


def outside_term(rule: Rule) -> URIRef:
    """A term that looks like one of the rule's list but is not in it."""
    scheme = rule.allowed[0]
    if scheme == "iana":
        return URIRef(IANA + "text/no-such-type")
    if scheme == "enumeration":
        base = rule.members[0].rsplit("/", 1)[0] if rule.members else "http://example.org/list"
        return URIRef(base + "/NO_SUCH_TERM")
    return URIRef(scheme.rstrip("/#") + "/NO_SUCH_TERM")


def other_list_term(rule: Rule) -> URIRef:
    """A term of another list than the rule's (the EU language list, else the file-type list)."""
    allowed = set(rule.allowed) | {m.rsplit("/", 1)[0] for m in rule.members}
    for scheme in (EU + "language", EU + "file-type", EU + "frequency"):
        if scheme not in allowed:
            return SAMPLE_TERMS[scheme]
    raise AssertionError(f"no other list for {rule}")  # pragma: no cover


_SECOND_LITERALS = {
    str(XSD.date): "1999-12-31", str(XSD.dateTime): "1999-12-31T12:00:00",
    str(XSD.gYear): "1999", str(XSD.gYearMonth): "1999-12", str(XSD.decimal): "7.5",
    str(XSD.integer): "7", str(XSD.nonNegativeInteger): "7", str(XSD.duration): "P2D",
    str(XSD.hexBinary): "abcdef0123", str(XSD.boolean): "false",
}


def second_value(g: Graph, value, background: Graph):
    """A second value like `value` (another valid literal, a copy of a described node, another
    term of the same list), with the triples that describe it."""
    if isinstance(value, Literal):
        if value.datatype is not None and str(value.datatype) in _SECOND_LITERALS:
            return Literal(_SECOND_LITERALS[str(value.datatype)], datatype=value.datatype), []
        return Literal(f"{value} (tweede waarde)", lang=value.language, datatype=value.datatype), []
    scheme = background.value(value, SKOS.inScheme)
    if scheme is not None:
        for term in sorted(background.subjects(SKOS.inScheme, scheme), key=str):
            if term != value:
                return term, []
    if str(value).startswith(IANA):
        known = sorted(t for t in background.subjects(RDF.type, DCT_MEDIA_TYPE)
                       if str(t).startswith(IANA) and t != value)
        return (known[0] if known else URIRef(IANA + "text/plain")), []
    if (value, None, None) in g:
        other = BNode() if isinstance(value, BNode) else URIRef(f"{value}-tweede")
        return other, [(other, p, o) for p, o in g.predicate_objects(value)]
    return URIRef(f"{value}-tweede"), []


def other_allowed_term(g: Graph, value, rule: Rule, background: Graph):
    """Another term `rule` allows than `value`: of its members when it names them (sh:in), else
    another term of the same list."""
    members = [URIRef(m) for m in rule.members if m != str(value)]
    if members:
        return members[0]
    return second_value(g, value, background)[0]


def not_allowed_term(rule: Rule, background: Graph) -> URIRef | None:
    """A term of the rule's own list that is not among the members it allows (None: the rule
    allows the whole list)."""
    if not rule.members:
        return None
    schemes = {URIRef(s) for s in rule.allowed if s not in ("enumeration", "iana")}
    schemes |= {URIRef(m.rsplit("/", 1)[0]) for m in rule.members}  # the EU lists' URIs
    terms = sorted(t for s in schemes for t in background.subjects(SKOS.inScheme, s)
                   if str(t) not in rule.members)
    return terms[0] if terms else None


#: a value of a property (with the triples that describe it): what a "two-values" case adds to a
#: node that has none of its own
Sample = tuple[object, list[tuple]]


def sample_values(docs: Documents) -> dict[URIRef, Sample]:
    """The first value of each property in the corpus's documents, with the triples describing
    it when the document describes it: a node that lacks an at-most-one property gets two values
    like those (see `_two_values`)."""
    out: dict[URIRef, Sample] = {}
    for _, g in sorted(docs.graphs.items()):
        for s, p, o in sorted(g, key=str):
            if p not in out and p != RDF.type:
                out[p] = (o, list(g.triples((o, None, None))) if not isinstance(o, Literal) else [])
    return out


def made_up_value(rule: Rule, table: Iterable[Rule]) -> Sample:
    """A value for `rule`'s property that no document has: of the datatype or list another rule
    of the same property names, else an IRI."""
    for other in table:
        if other.path != rule.path:
            continue
        if other.kind == "datatype" and other.allowed:
            datatype = other.allowed[0]
            return Literal(_SECOND_LITERALS.get(datatype, "waarde"), datatype=URIRef(datatype)), []
        if other.kind == "list":
            if other.members:
                return URIRef(other.members[0]), []
            if other.allowed[0] in SAMPLE_TERMS:
                return SAMPLE_TERMS[other.allowed[0]], []
    return URIRef("https://example.org/corpus/value"), []


def _two_values(g: Graph, node, rule: Rule, values: list, background: Graph,
                sample: Sample | None) -> list[tuple] | None:
    """The triples that give `node` two values of `rule`'s property: a second one beside its only
    value, or two like `sample` when it has none (None: it has several already)."""
    if len(values) > 1 or (not values and sample is None):
        return None
    if values:
        first, added = values[0], []
    else:
        first, added = sample[0], [(node, rule.path, sample[0]), *sample[1]]
    other, described = second_value(g, first, background)
    return [*added, (node, rule.path, other), *described]


def _broken(document: str, g: Graph, node, rule: Rule, kind: str, background: Graph,
            sample: Sample | None = None) -> Case | None:
    """The case `kind` of `rule` on `node` of document graph `g` (None: not applicable)."""
    values = sorted(g.objects(node, rule.path), key=str)
    h = copy(g)
    if kind == "removed":
        if not values:
            return None
        h.remove((node, rule.path, None))
    elif kind == "two-values":
        triples = _two_values(g, node, rule, values, background, sample)
        if triples is None:
            return None
        for t in triples:
            h.add(t)
    else:
        new = {"wrong-datatype": lambda: wrong_literal(rule.allowed),
               "outside-list": lambda: outside_term(rule),
               "other-list": lambda: other_list_term(rule),
               "not-allowed-term": lambda: not_allowed_term(rule, background)}[kind]()
        if new is None:
            return None
        h.remove((node, rule.path, None))
        h.add((node, rule.path, new))
    return Case(case_name(document, rule, kind), document, kind, h, (str(node), str(rule.path)), rule)


KINDS = {"min": ("removed",), "max": ("two-values",), "datatype": ("wrong-datatype",),
         "list": ("outside-list", "other-list", "not-allowed-term")}


def applies(rule: Rule, kind: str) -> bool:
    """Whether a case `kind` can break `rule`: "not-allowed-term" only where the rule allows some
    terms of a list (sh:in), not the whole list."""
    return kind != "not-allowed-term" or bool(rule.members)


def broken_cases(document: str, g: Graph, table: Iterable[Rule], background: Graph,
                 samples: dict[URIRef, Sample] | None = None, full_table: Iterable[Rule] = ()
                 ) -> list[Case]:
    """Each rule of `table` broken in each of its kinds, on the first instance of its class the
    kind applies to (an at-most-one property gets a second value, or two values like `samples`'
    where the node has none)."""
    out = []
    for rule in sorted(table):
        nodes = _instances(g, rule.cls, background)
        for kind in KINDS[rule.kind]:
            sample = None
            if kind == "two-values" and samples is not None:
                sample = samples.get(rule.path) or made_up_value(rule, full_table)
            for node in nodes:
                case = _broken(document, g, node, rule, kind, background, sample)
                if case is not None:
                    out.append(case)
                    break
    return out


#: the date datatypes DCAT-AP 3.0 allows, with a value of each
DATE_VALUES = {"gYear": Literal("2024", datatype=XSD.gYear),
               "gYearMonth": Literal("2024-05", datatype=XSD.gYearMonth),
               "date": Literal("2024-05-01", datatype=XSD.date),
               "dateTime": Literal("2024-05-01T09:30:00", datatype=XSD.dateTime)}


def valid_variants(document: str, g: Graph, table: Iterable[Rule], background: Graph) -> list[Case]:
    """Variants of a valid document that must stay valid: each date datatype allowed for each
    date property it has; another term of the same list for each list property it has."""
    out = []
    for rule in sorted(table):
        nodes = _instances(g, rule.cls, background)
        if not nodes or (nodes[0], rule.path, None) not in g:
            continue
        node = nodes[0]
        variants: dict[str, object] = {}
        replaced = None  # the date variants replace every value; a list variant only one
        if rule.kind == "datatype" and str(XSD.date) in rule.allowed:
            variants = {f"valid-{k}": v for k, v in DATE_VALUES.items() if str(v.datatype) in rule.allowed}
        elif rule.kind == "list":
            replaced = min(g.objects(node, rule.path), key=str)
            other = other_allowed_term(g, replaced, rule, background)
            if (other, None, None) in background or rule.allowed == ("iana",):
                variants = {"valid-other-term": other}
        for kind, value in variants.items():
            h = copy(g)
            h.remove((node, rule.path, replaced))
            h.add((node, rule.path, value))
            out.append(Case(case_name(document, rule, kind), document, kind, h,
                            (str(node), str(rule.path)), rule))
    return out


def family(document: str) -> str:
    return document.split("/", 1)[0]


def cases(docs: Documents, table: set[Rule], background: Graph) -> dict[str, Case]:
    """The whole corpus for one rule table: each document as published; each rule broken in the
    first document of each source family that has an instance of its class (further documents
    of the same family would repeat the same check); the valid variants of our export."""
    out: dict[str, Case] = {}
    seen: set[tuple[str, Rule, str]] = set()
    samples = sample_values(docs)
    for document, g in sorted(docs.graphs.items()):
        out[f"{document}::as-published"] = Case(f"{document}::as-published", document,
                                                 "as-published", g)
        base = trimmed(g)
        todo = [r for r in table if any((family(document), r, k) not in seen
                                        for k in KINDS[r.kind] if applies(r, k))]
        for case in broken_cases(document, base, todo, background, samples, table):
            key = (family(document), case.rule, case.kind)
            if key not in seen:
                seen.add(key)
                out[case.name] = case
        if family(document) == "ours":
            for case in valid_variants(document, base, table, background):
                out[case.name] = case
    return out
