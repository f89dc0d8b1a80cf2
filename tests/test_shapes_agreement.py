"""Our DCAT-AP-NL 3.0 shapes (shapes/) agree with the official ones, in each profile.

The same graphs are validated twice, with the same background knowledge (the vocabulary graph
of our mapping tables: EU value lists typed skos:Concept / dct:RightsStatement / ..., licences
typed dct:LicenseDocument, IANA media types dct:MediaType, organisations foaf:Agent), once per
profile (every test runs for both):

  * ours:     the profile's shapes (shapes/*.ttl + shapes/profiles/<profile>/*.ttl)
  * official: profile "3.0": SEMIC DCAT-AP 3.0.0 + its controlled-vocabulary shapes + Geonovum
              DCAT-AP-NL 3.0 as adopted (vastgestelde versie 2024-12); profile "3.0.1": SEMIC
              DCAT-AP 3.0.1 (see UNDEFINED_IN_3_0_1) + its vocabulary shapes + Geonovum main.
              See OFFICIAL_SHAPES (and shapes/README.md for why these files).

For every graph the two sides must give the same verdict and the same set of
(focus node, result path) violations. Where they differ on purpose (a defect in the official
files, or a rule of DCAT-AP-NL / data.overheid.nl that the official files do not check) the
difference must be explained by an entry of DISAGREEMENTS, and every entry must actually occur.
Nothing is filtered silently: an unexplained difference fails the test, with a table of it.

Graphs:
  (a) every package of the bundled DUO snapshot (examples/duo/duo-catalogue.json) mapped by
      harvester.dcat, plus its catalogue graph: zero violations on both sides;
      the hand-written DUO-like graphs in tests/fixtures/graphs/ likewise;
  (b) the SEMIC DCAT-AP 3.0.0 examples (../shared/reference/peers/semic-dcat-ap-3.0.0-examples;
      two of them do not parse, see UNPARSABLE_EXAMPLES);
  (c) broken variants made here: each mandatory property (a sh:minCount of either side) removed
      one at a time, and each value-list property given wrong values;
  (d) the rules on which the profiles differ (tests/profile_cases.py): a violation on both
      sides in "3.0", on neither in "3.0.1"; and variants DCAT-AP-NL accepts that
      data.overheid.nl does not (a contact point without a name or a way to reach it);
  (e) the export of the bundled catalogue (`harvester export`): no violation on either side.

Speed: shapes are parsed once per module, and each group of graphs is validated in one pyshacl
call per side (Validator.validate_datasets), with the nodes of each graph renamed so that
graphs cannot interfere.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SH

from harvester.config import PROFILES
from harvester.shacl.validator import Finding, Validator
from tests.profile_cases import PROFILE_DIFFERENCES, case_id, widened

pytestmark = pytest.mark.shared

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "graphs"

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
NLSH = "urn:dcat-ap-nl-harvester:shape:"
FOAF_PRIMARY_TOPIC = URIRef("http://xmlns.com/foaf/0.1/primaryTopic")
EU = "http://publications.europa.eu/resource/authority/"

SEMIC_3_0_1 = "https://semiceu.github.io/DCAT-AP/releases/3.0.1#dcat:DataServiceShape/"
#: the two property shapes SEMIC DCAT-AP 3.0.1's dcat:DataServiceShape lists but never defines;
#: pyshacl aborts on any graph with a dcat:DataService because of them. Having no definition,
#: they constrain nothing: the test leaves these two sh:property triples out of its copy.
UNDEFINED_IN_3_0_1 = (URIRef(SEMIC_3_0_1 + "dc08f4dca4377fade57f89454e3fa06a8389d314"),
                      URIRef(SEMIC_3_0_1 + "eb3ac4e4fdde2e2588a9502c5956060a18c5c99f"))
_NL_ADOPTED = "geonovum-dcat-ap-nl-3.0/vastgesteldeversie-2024-12/"
_NL_MAIN = "geonovum-dcat-ap-nl-3.0/main/"

# Per profile: the official shape files (relative to ../shared/reference/shapes/) and why each one.
OFFICIAL_SHAPES: dict[str, tuple[tuple[str, str], ...]] = {
    "3.0": (
        ("semic-dcat-ap-3.0.0/dcat-ap-SHACL.ttl",
         ("SEMIC DCAT-AP 3.0.0, the generated full shapes (cardinalities, node kinds, class ranges): "
          "the DCAT-AP the adopted DCAT-AP-NL 3.0 builds on (152-Validaties). The adopted "
          "version's own copy of it has the same rules.")),
        ("semic-dcat-ap-3.0.0/split/mdr-vocabularies.shape.ttl",
         ("SEMIC's controlled-vocabulary shapes (EU file-type, language, frequency, access-right, "
          "data-theme; IANA by URL pattern), the only official value-list checks.")),
        (_NL_ADOPTED + "dcat-ap-nl-SHACL.ttl",
         "DCAT-AP-NL 3.0 core rules as adopted (2024-12: contact point at most one)."),
        (_NL_ADOPTED + "dcat-ap-nl-SHACL-klassebereik.ttl", "DCAT-AP-NL 3.0 class ranges."),
        (_NL_ADOPTED + "dcat-ap-nl-SHACL-klassebereik-codelijsten.ttl",
         "DCAT-AP-NL 3.0 class ranges of code-list properties."),
        (_NL_ADOPTED + "dcat-ap-nl-SHACL-aanbevolen.ttl",
         "DCAT-AP-NL 3.0 recommended properties (warnings only; loaded for completeness)."),
    ),
    "3.0.1": (
        ("semic-dcat-ap-3.0.1/dcat-ap-SHACL.ttl",
         ("SEMIC DCAT-AP 3.0.1, the generated full shapes (Geonovum main/dcat-ap-SHACL.ttl is the "
          "same file), without the two sh:property references to shapes it never defines "
          "(UNDEFINED_IN_3_0_1). That is exactly SEMIC 3.0.0 plus the 3.0.1 differences; the "
          "split shapes.ttl + range.ttl are an older hand-written rule set with other rules "
          "(e.g. byteSize as xsd:decimal).")),
        ("semic-dcat-ap-3.0.1/split/mdr-vocabularies.shape.ttl",
         "SEMIC 3.0.1's controlled-vocabulary shapes."),
        (_NL_MAIN + "dcat-ap-nl-SHACL.ttl",
         ("DCAT-AP-NL 3.0.1 working version core rules (branch main, 2026-03: contact point "
          "maxCount removed).")),
        (_NL_MAIN + "dcat-ap-nl-SHACL-klassebereik.ttl", "DCAT-AP-NL class ranges (main)."),
        (_NL_MAIN + "dcat-ap-nl-SHACL-klassebereik-codelijsten.ttl",
         "DCAT-AP-NL class ranges of code-list properties (main)."),
        (_NL_MAIN + "dcat-ap-nl-SHACL-aanbevolen.ttl",
         "DCAT-AP-NL recommended properties (main; warnings only)."),
    ),
}

EXAMPLES = "peers/semic-dcat-ap-3.0.0-examples"
# Syntax errors in the published examples (see ../shared/reference/SOURCES.md): not validated.
UNPARSABLE_EXAMPLES = {
    "example-bee-population-dataset-series-api.ttl",
    "example-bee-population-dataset-series-combined.ttl",
}


# ------------------------------------------------------------------------------------------------
# documented disagreements
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """A violation one side reports and the other deliberately does not."""

    id: str
    flagged_by: str  # "official" or "ours"
    reason: str
    matches: Callable[[Finding, Graph], bool] = field(compare=False)
    profiles: tuple[str, ...] = PROFILES  # the profiles whose official shapes it concerns


def _shape_has(shapes: Graph, f: Finding, prop: URIRef, value) -> bool:
    return f.shape is not None and (URIRef(f.shape), prop, value) in shapes


def _ours(*local_names: str) -> Callable[[Finding, Graph], bool]:
    return lambda f, _shapes: f.shape in {NLSH + n for n in local_names}


DISAGREEMENTS: tuple[Disagreement, ...] = (
    Disagreement(
        "semic-3.0.0-class-rdfs-resource", "official",
        "SEMIC DCAT-AP 3.0.0 gives dcat:accessURL, dcat:downloadURL, dcat:endpointURL, "
        "dcat:endpointDescription, dct:relation and dct:isReferencedBy the constraint "
        "sh:class rdfs:Resource. SHACL does no RDFS entailment, so every URL that is not "
        "explicitly typed rdfs:Resource fails. DCAT-AP 3.0.1 dropped these constraints; ours "
        "require an IRI (sh:nodeKind sh:IRI) instead. (harvester.dcat types its URLs "
        "rdfs:Resource, so mapped DUO graphs do not meet this.)",
        lambda f, shapes: _shape_has(shapes, f, SH["class"], RDFS.Resource),
        profiles=("3.0",),
    ),
    Disagreement(
        "nl-theme-from-eu-data-theme", "ours",
        "DCAT-AP-NL 3.0 (Waardelijsten): dcat:theme MUST use the EU data-theme list, other "
        "lists MAY be added. Ours require at least one EU data theme; SEMIC's vocabulary shape "
        "only warns and Geonovum's shapes only count themes. So a dataset whose only theme is "
        "e.g. an OWMS theme (or a language concept) is a violation for us only.",
        _ours("Dataset-dcat_theme-eu", "DataService-dcat_theme-eu"),
    ),
    Disagreement(
        "dcat-ap-temporal-literal", "ours",
        "DCAT-AP 3.0 says dates (dct:issued, dct:modified, dcat:startDate, dcat:endDate) are "
        "literals typed xsd:date, xsd:dateTime, xsd:gYear or xsd:gYearMonth. The generated "
        "SEMIC 3.0.0 shapes check only that they are literals; Geonovum checks the datatype "
        "only for a data service's dct:modified. Ours check the datatype everywhere.",
        lambda f, _shapes: (f.shape or "").startswith(NLSH) and (f.shape or "").endswith("-date")
        and f.shape != NLSH + "DataService-dct_modified-date",
    ),
)
BY_ID = {d.id: d for d in DISAGREEMENTS}


def disagreements_of(profile: str) -> tuple[Disagreement, ...]:
    return tuple(d for d in DISAGREEMENTS if profile in d.profiles)


# ------------------------------------------------------------------------------------------------
# set-up (module scope: shapes and vocabulary are loaded once)
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=PROFILES)
def profile(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def official_files(shared_dir: Path, profile: str, tmp_path_factory) -> list[Path]:
    base = shared_dir / "reference" / "shapes"
    files = [base / rel for rel, _ in OFFICIAL_SHAPES[profile]]
    missing = [str(f) for f in files if not f.is_file()]
    assert not missing, f"official shape files missing: {missing}"
    return [_without_undefined_shapes(f, tmp_path_factory) for f in files]


def _without_undefined_shapes(path: Path, tmp_path_factory) -> Path:
    """`path`, or for SEMIC 3.0.1's full shapes a copy without the sh:property triples naming
    the shapes it never defines (UNDEFINED_IN_3_0_1; nothing else is changed)."""
    g = Graph().parse(path, format="turtle")
    dangling = [(s, p, o) for s, p, o in g.triples((None, SH.property, None)) if o in UNDEFINED_IN_3_0_1]
    if not dangling:
        return path
    assert {o for _, _, o in dangling} == set(UNDEFINED_IN_3_0_1)
    assert all((o, None, None) not in g for o in UNDEFINED_IN_3_0_1), "defined after all"
    for t in dangling:
        g.remove(t)
    copy = tmp_path_factory.mktemp("official") / path.name
    g.serialize(copy, format="turtle")
    return copy


@pytest.fixture(scope="module")
def vocabulary() -> Graph:
    from harvester.dcat.tables import load_mappings

    return load_mappings().vocabulary_graph()


@pytest.fixture(scope="module")
def ours(vocabulary: Graph, profile: str) -> Validator:
    return Validator(ontology=vocabulary, profile=profile)


@pytest.fixture(scope="module")
def official(official_files: list[Path], vocabulary: Graph) -> Validator:
    # check=False: the official files are used as published (with their defects).
    return Validator.from_files(official_files, ontology=vocabulary, check=False)


# ------------------------------------------------------------------------------------------------
# comparison machinery
# ------------------------------------------------------------------------------------------------

Pair = tuple[str, str | None]


@dataclass
class Outcome:
    """The comparison for one graph."""

    key: str
    ours: list[Finding]
    official: list[Finding]
    explained: dict[Pair, str] = field(default_factory=dict)  # pair -> disagreement id
    unexplained: list[tuple[str, Pair, list[Finding]]] = field(default_factory=list)

    @property
    def ours_pairs(self) -> set[Pair]:
        return {(f.focus_node, f.path) for f in self.ours}

    @property
    def official_pairs(self) -> set[Pair]:
        return {(f.focus_node, f.path) for f in self.official}

    @property
    def used(self) -> set[str]:
        return set(self.explained.values())

    def table(self) -> str:
        lines = [f"{self.key}:"]
        for side, pair, findings in self.unexplained:
            lines.append(f"  only {side}: {pair[0]} {pair[1]}")
            for f in findings:
                lines.append(f"      shape {f.shape}: {f.message[:160]}")
        return "\n".join(lines)


def _renamer(tag: str, g: Graph, keep: Graph) -> Callable:
    """Rename the nodes `g` describes (its subjects, except terms the background `keep`
    describes: value-list concepts, licences, organisations) and its blank nodes."""
    subjects = {s for s in g.subjects() if isinstance(s, URIRef)}
    subjects = {s for s in subjects if (s, None, None) not in keep}
    bnodes: dict[BNode, BNode] = {}

    def rename(node):
        if isinstance(node, BNode):
            return bnodes.setdefault(node, BNode())
        if node in subjects:
            return URIRef(f"urn:x-graph:{tag}:{node}")
        return node

    return rename


def _isolated(tag: str, g: Graph, keep: Graph) -> Graph:
    rename = _renamer(tag, g, keep)
    h = Graph()
    for s, p, o in g:
        h.add((rename(s), p, rename(o)))
    return h


def _original(node: str) -> str:
    if node.startswith("urn:x-graph:"):
        return node.split(":", 3)[3]
    return node


def _unrenamed(findings: Iterable[Finding]) -> list[Finding]:
    out = []
    for f in findings:
        out.append(Finding(f.severity, _original(f.focus_node), f.path,
                           None if f.value is None else _original(f.value), f.message, f.shape))
    return out


def compare_many(
    ours: Validator,
    official: Validator,
    graphs: dict[str, Graph],
    context: Graph | None = None,
    isolate: bool = True,
) -> dict[str, Outcome]:
    """Validate all `graphs` in one call per side and compare them graph by graph."""
    items = [(k, _isolated(f"{i}", g, ours.background) if isolate else g)
             for i, (k, g) in enumerate(graphs.items())]
    ours_reports = ours.validate_datasets(items, context_graph=context)
    official_reports = official.validate_datasets(items, context_graph=context)
    outcomes = {}
    for key, _ in items:
        outcome = Outcome(key, _unrenamed(ours_reports[key].violations),
                          _unrenamed(official_reports[key].violations))
        _explain(outcome, ours.shapes_graph, official.shapes_graph, ours.profile)
        outcomes[key] = outcome
    if context is not None:
        ctx = Outcome("(context)", ours_reports.context.violations,
                      official_reports.context.violations)
        _explain(ctx, ours.shapes_graph, official.shapes_graph, ours.profile)
        outcomes["(context)"] = ctx
    return outcomes


def _explain(outcome: Outcome, our_shapes: Graph, official_shapes: Graph, profile: str) -> None:
    for side, mine, theirs, shapes in (
        ("official", outcome.official, outcome.ours_pairs, official_shapes),
        ("ours", outcome.ours, outcome.official_pairs, our_shapes),
    ):
        by_pair: dict[Pair, list[Finding]] = defaultdict(list)
        for f in mine:
            by_pair[(f.focus_node, f.path)].append(f)
        for pair, findings in sorted(by_pair.items(), key=str):
            if pair in theirs:
                continue
            reason = next((d.id for d in disagreements_of(profile) if d.flagged_by == side
                           and any(d.matches(f, shapes) for f in findings)), None)
            if reason is None:
                outcome.unexplained.append((side, pair, findings))
            else:
                outcome.explained[pair] = reason


def assert_agreement(outcomes: dict[str, Outcome]) -> None:
    bad = [o for o in outcomes.values() if o.unexplained]
    assert not bad, "unexplained disagreements:\n" + "\n".join(o.table() for o in bad)
    for o in outcomes.values():
        # same verdict, unless the only differences are documented ones
        if bool(o.ours) != bool(o.official):
            assert o.explained, f"{o.key}: verdicts differ without a documented reason"


# ------------------------------------------------------------------------------------------------
# graphs
# ------------------------------------------------------------------------------------------------


def load(*names: str) -> Graph:
    g = Graph()
    for name in names:
        g.parse(FIXTURES / name, format="turtle")
    return g


def duo_mapped():
    """(datasets {uri: graph}, catalogue graph) of the bundled DUO snapshot, via harvester.dcat.

    The mapping options are the bundled configuration's [sources.duo.mapping] table
    (examples/duo-offline.toml); while that has none, the DUO table the mapper's own tests use
    (tests/fixtures/mapper/duo-mapping.toml, with the DataStore API as a dcat:DataService).
    """
    import tomllib

    from harvester.config import load_config
    from harvester.dcat.catalog import catalog_graph
    from harvester.dcat.dataset import map_dataset
    from harvester.dcat.options import MappingOptions
    from harvester.dcat.tables import load_mappings
    from harvester.source.dump import DumpSource
    from harvester.source.listing import Listing, organization_keys

    config = load_config(REPO / "examples" / "duo-offline.toml")
    source = config.source("duo")
    table = source.mapping
    if not table:
        fixture = REPO / "tests" / "fixtures" / "mapper" / "duo-mapping.toml"
        table = tomllib.loads(fixture.read_text("utf-8"))["sources"]["duo"]["mapping"]
    options = MappingOptions.from_config(table, "test [sources.duo.mapping]")
    dump = DumpSource(source.path, source.url)
    listing = Listing()
    packages = list(dump.packages(listing))
    context = dump.context(set().union(*(organization_keys(p) for p in packages)), listing)
    mappings = load_mappings()
    mapped = [map_dataset(p, context, mappings, options) for p in packages]
    invalid = [f"{m.uri}: {[str(i) for i in m.errors]}" for m in mapped if m.invalid]
    assert not invalid, "the mapper rejects DUO packages:\n" + "\n".join(invalid)
    return {m.uri: m.graph for m in mapped}, catalog_graph(mapped, context, mappings, options)


# -- (c) variants --------------------------------------------------------------------------------

# value-list properties and wrong values for them: (property, [(label, wrong value), ...])
WRONG_VALUES: dict[URIRef, list[tuple[str, object]]] = {
    DCAT.theme: [("unknown URI", URIRef("http://example.org/thema/x")),
                 ("OWMS theme only", URIRef("http://standaarden.overheid.nl/owms/terms/Onderwijs_en_wetenschap")),
                 ("a language", URIRef(EU + "language/NLD"))],
    DCT.accessRights: [("unknown URI", URIRef("http://example.org/toegang/open")),
                       ("a frequency", URIRef(EU + "frequency/ANNUAL")),
                       ("text", Literal("openbaar"))],
    DCT.language: [("unknown URI", URIRef("http://example.org/taal/nl")),
                   ("a file type", URIRef(EU + "file-type/CSV")),
                   ("text", Literal("nl"))],
    DCT.accrualPeriodicity: [("unknown URI", URIRef(EU + "frequency/EVERY_FULL_MOON")),
                             ("an access right", URIRef(EU + "access-right/PUBLIC"))],
    DCT["format"]: [("unknown URI", URIRef("http://example.org/formaat/csv")),
                    ("an IANA type", URIRef("https://www.iana.org/assignments/media-types/text/csv")),
                    ("text", Literal("CSV"))],
    DCAT.mediaType: [("unknown URI", URIRef("http://example.org/media/csv")),
                     ("an EU file type", URIRef(EU + "file-type/CSV"))],
    DCT.license: [("unknown URI", URIRef("http://example.org/licentie/eigen")),
                  ("a theme", URIRef(EU + "data-theme/EDUC"))],
}

CLASSES_WITH_VALUE_LISTS = {DCAT.Dataset, DCAT.Distribution, DCAT.DataService, DCAT.Catalog,
                            DCAT.CatalogRecord, DCAT.DatasetSeries}
#: (property, class) the mapper writes where DCAT-AP-NL defines no such property, so that neither
#: shapes graph checks its value: the package's licence on the dataset (DCAT 3's dct:license of
#: every dcat:Resource; docs/mapping.md, "The dataset's licence")
OUTSIDE_THE_PROFILE = {(DCT.license, DCAT.Dataset)}


def _copy(g: Graph) -> Graph:
    h = Graph()
    for t in g:
        h.add(t)
    return h


def _min_count_rules(shapes: Graph) -> set[tuple[URIRef, URIRef]]:
    """(target class, path) of every violation-level sh:minCount >= 1 of a shapes graph."""
    rules = set()
    for node_shape, cls in shapes.subject_objects(SH.targetClass):
        # a targeted property shape (ours) or the property shapes of a node shape (official)
        members = [node_shape] if (node_shape, SH.path, None) in shapes else list(
            shapes.objects(node_shape, SH.property))
        for ps in members:
            path = shapes.value(ps, SH.path)
            count = shapes.value(ps, SH.minCount)
            severity = shapes.value(ps, SH.severity) or shapes.value(node_shape, SH.severity)
            if (isinstance(path, URIRef) and count is not None and int(count) >= 1
                    and severity in (None, SH.Violation)):
                rules.add((cls, path))
    return rules


def variants(base: dict[str, Graph], rules: set[tuple[URIRef, URIRef]], background: Graph
             ) -> dict[str, tuple[Graph, tuple[str, str]]]:
    """Broken copies of the base graphs: key -> (graph, (focus node, path) that was broken).

    For each (class, mandatory path) and each value-list property, the first node of a base
    graph that has the class (or property) is broken; the other nodes of the same kind are
    built the same way and would only repeat the test.
    """
    out: dict[str, tuple[Graph, tuple[str, str]]] = {}
    for base_name, g in base.items():
        for cls, path in sorted(rules):
            # nodes the background describes too (organisations, concepts) are shared by every
            # graph of a batch and checked by test_background_vocabulary_agrees instead
            instances = {n for c in {cls, *background.subjects(RDFS.subClassOf, cls)}
                         for n in g.subjects(RDF.type, c)}
            nodes = sorted((n for n in instances
                            if (n, path, None) in g and (n, None, None) not in background), key=str)
            if not nodes:
                continue
            node = nodes[0]
            h = _copy(g)
            h.remove((node, path, None))
            out[f"{base_name}: remove {path} of {node}"] = (h, (str(node), str(path)))
        for path, wrongs in WRONG_VALUES.items():
            for cls in sorted({c for s, _ in g.subject_objects(path) for c in g.objects(s, RDF.type)
                               if c in CLASSES_WITH_VALUE_LISTS
                               and (path, c) not in OUTSIDE_THE_PROFILE}, key=str):
                node = min((s for s, _ in g.subject_objects(path) if (s, RDF.type, cls) in g), key=str)
                for label, value in wrongs:
                    h = _copy(g)
                    h.remove((node, path, None))
                    h.add((node, path, value))
                    out[f"{base_name}: {path} of {node} = {label}"] = (h, (str(node), str(path)))
    return out


def _catalogue_of_one(catalogue: Graph, dataset: URIRef, dataset_graph: Graph) -> Graph:
    """The mapped catalogue (with its data service) cut down to one dataset and its record."""
    others = {d for d in catalogue.objects(None, DCAT.dataset) if d != dataset}
    records = {r for r, d in catalogue.subject_objects(FOAF_PRIMARY_TOPIC) if d in others}
    h = _copy(dataset_graph)
    for s, p, o in catalogue:
        if s in records or o in records or o in others:
            continue
        h.add((s, p, o))
    return h


def _special_variants(base: Graph) -> dict[str, tuple[Graph, tuple[str, str | None]]]:
    """Variants for rules only one side has (each documented in DISAGREEMENTS)."""
    ds = URIRef("https://onderwijsdata.duo.nl/dataset/p01hoinges")
    h = _copy(base)
    h.remove((ds, DCT.modified, None))
    h.add((ds, DCT.modified, Literal("10 juli 2026")))
    return {"special: dataset modified as plain text": (h, (str(ds), str(DCT.modified)))}


def _dcat_ap_nl_valid_variants(base: Graph) -> dict[str, Graph]:
    """Variants DCAT-AP-NL accepts and data.overheid.nl does not (its own rules, checked by the
    pre-send check only): a contact point without a name, or without any way to reach it, and
    its web address given as text (as the DCAT-AP-NL 3.0 examples give it)."""
    contact = URIRef("https://onderwijsdata.duo.nl/#contactpunt")
    out = {}
    for label, removed in (("without a name", VCARD.fn), ("without e-mail, URL or phone", VCARD.hasURL)):
        h = _copy(base)
        h.remove((contact, removed, None))
        out[f"valid: contact point {label}"] = h
    h = _copy(base)
    h.remove((contact, VCARD.hasURL, None))
    h.add((contact, VCARD.hasURL, Literal("https://www.duo.nl/open_onderwijsdata/")))
    out["valid: contact point web address as text"] = h
    return out


# ------------------------------------------------------------------------------------------------
# the comparisons (computed once for the module)
# ------------------------------------------------------------------------------------------------


@dataclass
class Results:
    profile: str
    fixtures: dict[str, Outcome]
    duo: dict[str, Outcome] | None
    duo_skipped: str | None
    examples: dict[str, Outcome]
    unparsable: set[str]
    variants: dict[str, Outcome]
    broken: dict[str, tuple[str, str | None]]
    #: the rules on which the profiles differ: case id -> (outcome, (focus node, path))
    widened: dict[str, tuple[Outcome, Pair]]
    valid_variants: dict[str, Outcome]
    background_ours: set[Pair]
    background_official: set[Pair]


@pytest.fixture(scope="module")
def results(ours: Validator, official: Validator, shared_dir: Path, profile: str) -> Results:
    fixture_graphs = {
        "p01hoinges": load("duo-p01hoinges.ttl"),
        "adressen_ho": load("duo-adressen-ho.ttl"),
        "dataservice": load("duo-dataservice.ttl"),
    }
    fixtures = compare_many(ours, official, fixture_graphs, context=load("duo-catalog.ttl"),
                            isolate=False)

    duo = None
    duo_skipped = None
    try:
        import harvester.dcat.dataset  # noqa: F401
    except ImportError as exc:  # the mapper is part of the project; only absent mid-development
        duo_skipped = f"harvester.dcat.dataset not importable: {exc}"
    else:
        datasets, catalogue = duo_mapped()
        duo = compare_many(ours, official, datasets, context=catalogue, isolate=False)

    examples_dir = shared_dir / "reference" / EXAMPLES
    example_graphs: dict[str, Graph] = {}
    unparsable = set()
    for path in sorted(examples_dir.glob("*.ttl")):
        try:
            example_graphs[path.name] = Graph().parse(path, format="turtle")
        except Exception:  # noqa: BLE001 - rdflib raises BadSyntax (and others)
            unparsable.add(path.name)
    examples = compare_many(ours, official, example_graphs)

    background = ours.background
    rules = _min_count_rules(ours.shapes_graph) | _min_count_rules(official.shapes_graph)
    base = {
        "p01hoinges": load("duo-p01hoinges.ttl"),
        "dataservice": load("duo-dataservice.ttl"),
        "catalogue": load("duo-catalog.ttl", "duo-p01hoinges.ttl", "duo-adressen-ho.ttl"),
    }
    if duo is not None:
        first = min(datasets)
        base["duo-mapped"] = datasets[first]
        base["duo-catalogue"] = _catalogue_of_one(catalogue, URIRef(first), datasets[first])
    broken_graphs = variants(base, rules, background)
    broken_graphs.update(_special_variants(base["p01hoinges"]))
    variant_outcomes = compare_many(ours, official, {k: g for k, (g, _) in broken_graphs.items()})

    cases = {case_id(case): case for case in PROFILE_DIFFERENCES}
    widened_outcomes = compare_many(ours, official, {key: widened(names, node, add)
                                                     for key, (names, node, add, _) in cases.items()})
    widened_results = {key: (widened_outcomes[key], (str(node), str(path)))
                       for key, (_, node, _, path) in cases.items()}
    valid_outcomes = compare_many(ours, official, _dcat_ap_nl_valid_variants(base["p01hoinges"]))

    background_ours = {(f.focus_node, f.path) for f in ours.check_background().violations}
    background_official = {(f.focus_node, f.path) for f in official.check_background().violations}

    return Results(profile, fixtures, duo, duo_skipped, examples, unparsable, variant_outcomes,
                   {k: b for k, (_, b) in broken_graphs.items()}, widened_results, valid_outcomes,
                   background_ours, background_official)


@pytest.fixture(scope="module")
def exported_catalogue(tmp_path_factory) -> Graph:
    """`harvester export` of the bundled DUO catalogue (examples/duo-offline.toml), as a graph."""
    from click.testing import CliRunner

    from harvester.cli import main

    folder = tmp_path_factory.mktemp("export")
    config = ["--config", str(REPO / "examples" / "duo-offline.toml"), "--state", str(folder / "state.sqlite")]
    runner = CliRunner()
    harvested = runner.invoke(main, [*config, "harvest"])
    assert harvested.exit_code == 0, harvested.output
    exported = runner.invoke(main, [*config, "export", "-o", str(folder / "catalogue.ttl")])
    assert exported.exit_code == 0, exported.output
    return Graph().parse(folder / "catalogue.ttl", format="turtle")


# ------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------


def test_official_files_are_the_documented_ones(profile) -> None:
    readme = (REPO / "harvester" / "shapes" / "README.md").read_text(encoding="utf-8")
    for rel, _ in OFFICIAL_SHAPES[profile]:
        assert rel in readme, f"shapes/README.md does not record the official file {rel}"


def test_the_official_files_are_those_of_the_profile(official: Validator, profile: str) -> None:
    """The adopted Geonovum shapes hold "contact point at most one", main does not; SEMIC 3.0.1
    has none of 3.0.0's rdfs:Resource ranges."""
    shapes = official.shapes_graph
    geonovum = "http://modellen.geostandaarden.nl/dcat-ap-nl/id/shape/"
    adopted_only = {URIRef(geonovum + name) for name in (
        "DatasetShape_contactPoint_maxCount", "DataServiceShape_contactPoint_maxCount",
        "DistributionShape_language_maxCount")}
    held = {shape for shape in adopted_only if (shape, SH.maxCount, Literal(1)) in shapes}
    resource_ranges = set(shapes.subjects(SH["class"], RDFS.Resource))
    if profile == "3.0":
        assert held == adopted_only and resource_ranges
    else:
        assert not held and not resource_ranges


def assert_valid_on_both_sides(outcomes: dict[str, Outcome]) -> None:
    """No violation of ours; none official but the documented SEMIC 3.0.0 rdfs:Resource defect
    (plain URLs)."""
    for key, o in outcomes.items():
        assert o.ours == [], f"{key}: ours: {[(f.focus_node, f.path) for f in o.ours]}"
        assert set(o.explained.values()) <= {"semic-3.0.0-class-rdfs-resource"}, o.explained
        assert o.official_pairs == set(o.explained), o.table()
    assert_agreement(outcomes)


def test_hand_written_duo_graphs_have_no_violations_on_either_side(results: Results) -> None:
    assert_valid_on_both_sides(results.fixtures)


def test_mapped_duo_datasets_have_zero_violations_on_both_sides(results: Results) -> None:
    if results.duo is None:
        pytest.skip(results.duo_skipped)
    datasets = {k: o for k, o in results.duo.items() if k != "(context)"}
    assert len(datasets) == 57
    problems = {k: (sorted(o.ours_pairs, key=str), sorted(o.official_pairs, key=str))
                for k, o in results.duo.items() if o.ours or o.official}
    assert not problems, json.dumps(problems, indent=1, default=str)[:6000]
    assert_agreement(results.duo)


def test_the_export_has_zero_violations_on_both_sides(exported_catalogue: Graph, ours: Validator,
                                                      official: Validator) -> None:
    """`harvester export` of the bundled catalogue: no violation against the official shapes of
    the profile, nor against ours."""
    assert len(set(exported_catalogue.subjects(RDF.type, DCAT.Dataset))) == 57
    for side in (official, ours):
        report = side.validate(exported_catalogue)
        assert report.violations == [], report.to_text()[:4000]


def test_semic_examples_agree(results: Results) -> None:
    assert results.unparsable == UNPARSABLE_EXAMPLES
    assert len(results.examples) == 13
    assert_agreement(results.examples)
    # they are DCAT-AP examples, not DCAT-AP-NL descriptions: both sides reject each one
    for key, o in results.examples.items():
        assert o.ours and o.official, key


def test_broken_variants_agree(results: Results) -> None:
    assert len(results.variants) >= 60
    assert_agreement(results.variants)
    for key, o in results.variants.items():
        broken = results.broken[key]
        # the broken spot is reported by at least one side (by ours unless documented)
        assert broken in o.ours_pairs | o.official_pairs, f"{key}: not caught\n{o.table()}"
        if broken not in o.ours_pairs:
            assert o.explained.get(broken, "").startswith("semic-3.0.0"), key


def test_every_mandatory_removal_is_caught_by_ours(results: Results) -> None:
    missed = [k for k, o in results.variants.items()
              if ": remove " in k and results.broken[k] not in o.ours_pairs]
    assert not missed, missed


def test_the_rules_where_the_profiles_differ_agree(results: Results) -> None:
    """Each "at most one" of the adopted version is a violation on both sides in profile 3.0,
    and on neither side in 3.0.1, which widened it."""
    assert len(results.widened) == len(PROFILE_DIFFERENCES) == 6
    for key, (o, spot) in results.widened.items():
        assert_agreement({key: o})
        if results.profile == "3.0":
            assert spot in o.ours_pairs and spot in o.official_pairs, o.table()
        else:
            assert spot not in o.ours_pairs | o.official_pairs, o.table()


def test_data_overheid_rules_are_not_dcat_ap_nl_rules(results: Results) -> None:
    """A contact point without a name, or without a way to reach it, or with its web address as
    text, is DCAT-AP-NL on both sides (data.overheid.nl's pre-send check refuses the first two:
    tests/test_two_verdicts.py)."""
    assert len(results.valid_variants) == 3
    assert_valid_on_both_sides(results.valid_variants)


def test_background_vocabulary_agrees(results: Results) -> None:
    assert results.background_ours == results.background_official


def test_every_documented_disagreement_occurs(results: Results) -> None:
    used: set[str] = set()
    groups = [results.fixtures, results.examples, results.variants] + (
        [results.duo] if results.duo else [])
    for group in groups:
        for o in group.values():
            used |= o.used
    expected = {d.id for d in disagreements_of(results.profile)}
    assert used == expected, f"never needed: {expected - used}; not for this profile: {used - expected}"
