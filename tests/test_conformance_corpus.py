"""Our verdict against the official shapes' on the conformance corpus (tests/corpus.py), per profile.

For each profile the corpus is generated from the rule tables (class, property, kind) of the
official shapes of that profile and of ours, every case is validated by both sides (all cases in
one validation call per side, the nodes of each case renamed apart), and per case the violations
are compared as (focus node, result path) pairs. The official side is SEMIC DCAT-AP + Geonovum
DCAT-AP-NL of the profile (OFFICIAL), plus SEMIC's DCAT-AP HVD shapes for a document that
describes a high-value dataset (HVD_SHAPES; our HVD findings are compared as SEMIC words them,
tests/test_hvd.py `worded_as_semic`).

A pair only one side reports must be explained by an entry of DISAGREEMENTS: a disagreement
where the adopted DCAT-AP-NL 3.0 text is on our side (its `spec_file` and `heading` say where).
Each entry must occur, and shapes/README.md lists each with the same clause. Where the text is
not on our side, our shapes are fixed instead: there is no entry for a defect of ours.

An unexplained pair fails `test_no_unexplained_disagreement` with a table of them (case, side,
focus, path, shapes, message): fix a side, or add a row to DISAGREEMENTS (with the spec clause).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from harvester.config import SHAPES_DIR
from harvester.shacl.shapes import profile_files
from harvester.shacl.validator import Finding, Validator
from tests import corpus
from tests.test_hvd import high_value_nodes, worded_as_semic
from tests.test_shapes_agreement import _isolated, _unrenamed

pytestmark = pytest.mark.shared

REPO = Path(__file__).resolve().parent.parent
README = REPO / "harvester" / "shapes" / "README.md"
SPEC = "spec/dcat-ap-nl-3.0-adopted"
PROFILES = ("3.0", "3.0.1")


def our_files(profile: str) -> list[Path]:
    """Our shape files for `profile`: the shared ones and the profile's own."""
    return profile_files(SHAPES_DIR, profile)


# The official shape files per profile (relative to ../shared/reference/shapes/).
_GEONOVUM_NL = ("dcat-ap-nl-SHACL.ttl", "dcat-ap-nl-SHACL-klassebereik.ttl",
                "dcat-ap-nl-SHACL-klassebereik-codelijsten.ttl", "dcat-ap-nl-SHACL-aanbevolen.ttl")
OFFICIAL: dict[str, tuple[str, ...]] = {
    "3.0": ("semic-dcat-ap-3.0.0/dcat-ap-SHACL.ttl",
            "semic-dcat-ap-3.0.0/split/mdr-vocabularies.shape.ttl",
            *(f"geonovum-dcat-ap-nl-3.0/vastgesteldeversie-2024-12/{f}" for f in _GEONOVUM_NL)),
    "3.0.1": ("semic-dcat-ap-3.0.1/dcat-ap-SHACL.ttl",
              "semic-dcat-ap-3.0.1/split/mdr-vocabularies.shape.ttl",
              *(f"geonovum-dcat-ap-nl-3.0/main/{f}" for f in _GEONOVUM_NL)),
}
#: SEMIC 3.0.1's full file names these two property shapes in dcat:DataServiceShape without
#: defining them (pyshacl then aborts on any dcat:DataService). A shape without a definition
#: constrains nothing, so the references are dropped and the rest of the file is used as is.
UNDEFINED_IN_SEMIC_301 = tuple(
    URIRef(f"https://semiceu.github.io/DCAT-AP/releases/3.0.1#dcat:DataServiceShape/{h}")
    for h in ("dc08f4dca4377fade57f89454e3fa06a8389d314", "eb3ac4e4fdde2e2588a9502c5956060a18c5c99f"))

#: SEMIC's DCAT-AP HVD 3.0.0 shapes: the official side adds them for a document that describes a
#: high-value dataset (152-Validaties_DCAT-AP_NL.md: "Mocht je een High-Value-Dataset-beschrijving
#: willen valideren dan moet ook die set shapes extra worden meegenomen")
HVD_SHAPES = "semic-dcat-ap-hvd-3.0.0/hvd-SHACL.ttl"

UNPARSABLE = {
    # syntax errors in the published files (../shared/reference/SOURCES.md)
    "semic/example-bee-population-dataset-series-api",
    "semic/example-bee-population-dataset-series-combined",
    "hvd/example-bees_wasps_dataset",
    # DCAT-AP-DONL 2.0 snippets that are not whole Turtle: stray HTML (<br>) and a subject with
    # a blank-node object list; a property without a value; a fragment starting with a predicate
    "donl/dataservice-example2",
    "donl/distribution-example3",
    "donl/distribution-example4",
}


# ------------------------------------------------------------------------------------------------
# the disagreement table
# ------------------------------------------------------------------------------------------------

Matcher = Callable[[Finding, Graph, "corpus.Case"], bool]


@dataclass(frozen=True)
class Disagreement:
    """(focus, path) violations one side reports and the other does not, for a known reason."""

    id: str
    flagged_by: str  # "ours" | "official"
    spec_file: str  # the adopted spec's file (under SPEC) whose text decides it ...
    heading: str  # ... and the heading (or property) there
    why: str
    matches: Matcher = field(compare=False)
    profiles: tuple[str, ...] = PROFILES


def shape_has(prop: URIRef, value) -> Matcher:
    return lambda f, shapes, _case: f.shape is not None and (URIRef(f.shape), prop, value) in shapes


def shape_is(*names: str) -> Matcher:
    """The finding's shape is one of `names` (ours: local names in our namespace; official:
    whole IRIs)."""
    full = {n if ":" in n else "urn:dcat-ap-nl-harvester:shape:" + n for n in names}
    return lambda f, _shapes, _case: f.shape in full


def path_in(*qnames: str) -> Matcher:
    paths = {_expand(q) for q in qnames}
    return lambda f, _shapes, _case: f.path in paths


def message_has(text: str) -> Matcher:
    return lambda f, _shapes, _case: text in f.message


def literal_value(f: Finding, _shapes: Graph, case: corpus.Case) -> bool:
    """The finding's value is a literal of the case."""
    return f.value is not None and any(isinstance(o, Literal) and str(o) == f.value
                                       for o in case.graph.objects(None, URIRef(f.path or "")))


def rule_class_is(qname: str) -> Matcher:
    cls = _expand(qname)
    return lambda _f, _shapes, case: case.rule is not None and str(case.rule.cls) == cls


def every(*matchers: Matcher) -> Matcher:
    return lambda f, shapes, case: all(m(f, shapes, case) for m in matchers)


def _expand(q: str) -> str:
    prefix, local = q.split(":", 1)
    return corpus.PREFIXES[prefix] + local


KLASSEN = "doc/gen/klassen.md"
ONDERSTEUNEND = "doc/gen/ondersteunendeKlassen.md"
GEONOVUM = "http://modellen.geostandaarden.nl/dcat-ap-nl/id/shape/"
SEMIC_HVD = "https://semiceu.github.io/DCAT-AP/releases/3.0.0-hvd#"

DISAGREEMENTS: tuple[Disagreement, ...] = (
    # -- the adopted specification is on our side ---------------------------------------------
    Disagreement(
        "semic-3.0.0-class-rdfs-resource", "official", KLASSEN,
        "Distribution / access URL (Bereik rdfs:Resource)",
        "SEMIC 3.0.0 gives URL properties sh:class rdfs:Resource; without RDFS entailment every "
        "URL not typed rdfs:Resource fails. Any IRI is an rdfs:Resource. (Profile 3.0.1 meets it "
        "in SEMIC's HVD 3.0.0 shapes, which are of the same generator.)",
        shape_has(SH["class"], RDFS.Resource)),
    Disagreement(
        "theme-from-eu-data-theme", "ours", "doc/klassen/dcatDataset/prop/theme.md", "theme",
        "'is in ieder geval één URI van een concept uit Dataset Theme Vocabulary' (also "
        "doc/klassen/dcatDataService/prop/theme.md): ours require one EU data theme; SEMIC only "
        "warns, Geonovum only counts themes.",
        shape_is("Dataset-dcat_theme-eu", "DataService-dcat_theme-eu")),
    Disagreement(
        "dates-typed", "ours", "doc/klassen/dcatDataset/prop/release_date.md", "release date",
        "'Gebruik altijd een datum en tijd conform de ISO8601 notatie' (likewise modification "
        "date): ours require xsd:date / dateTime / gYear / gYearMonth everywhere, as Geonovum's "
        "TemporalLiteralShape does; the official shapes check it only for a data service.",
        lambda f, _s, _c: (f.shape or "").startswith("urn:dcat-ap-nl-harvester:shape:")
        and (f.shape or "").endswith("-date")),
    Disagreement(
        "distribution-access-rights-not-in-profile", "official", KLASSEN,
        "Distribution - dcat:Distribution (no access rights)",
        "DCAT-AP-NL 3.0 defines no dct:accessRights for a distribution; SEMIC's vocabulary "
        "shapes (from DCAT-AP 2) still check one.",
        every(path_in("dct:accessRights"), message_has("AccessRightRestriction"),
              rule_class_is("dcat:Distribution")), profiles=("3.0",)),
    Disagreement(
        "licence-type-no-list", "official", ONDERSTEUNEND, "LicenseDocument - dct:LicenseDocument / type",
        "DCAT-AP-NL 3.0 gives a licence's dct:type the range skos:Concept and names no list; "
        "SEMIC's vocabulary shapes require the ADMS licence-type list.",
        every(path_in("dct:type"), message_has("LicenceTypeRestriction"))),
    Disagreement(
        "dataset-status-from-eu-list", "ours", "doc/klassen/dcatDataset/prop/status.md", "status",
        "'Gebruik hiervoor een waarde uit EU Vocabularies Dataset Status' (151-Waardelijsten: "
        "adms:status of a Dataset MUST use it): ours check membership; the official shapes check "
        "it for a distribution's status only.",
        shape_is("Dataset-adms_status-list")),
    Disagreement(
        "access-rights-three-terms", "ours", "doc/klassen/dcatDataset/prop/access_rights.md",
        "access rights",
        "'Gebruik één van de volgende waarden: public; restricted; non-public' (likewise "
        "doc/klassen/dcatDataService/prop/access_rights.md and 151-Waardelijsten): ours refuse "
        "the other terms of the EU access-right list; SEMIC accepts the whole list.",
        shape_is("Dataset-dct_accessRights-list", "DataService-dct_accessRights-list")),
    Disagreement(
        "hvd-rules-for-high-value-resources-only", "official", "152-Validaties_DCAT-AP_NL.md",
        "Validaties DCAT-AP NL",
        "'Mocht je een High-Value-Dataset-beschrijving willen valideren dan moet ook die set "
        "shapes extra worden meegenomen': the HVD shapes are for the description of a high-value "
        "dataset. SEMIC's state their rules for every dataset, distribution and data service of "
        "the file; ours for what has an HVD category or names the HVD regulation (and its "
        "distributions), so a dataset that is neither in the same catalogue is not held to them.",
        lambda f, _s, case: (f.shape or "").startswith(SEMIC_HVD)
        and URIRef(f.focus_node) not in high_value_nodes(case.graph)),
)


# ------------------------------------------------------------------------------------------------
# set-up (module scope)
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(shared_dir: Path) -> Path:
    return shared_dir / "reference"


@pytest.fixture(scope="module")
def vocabulary() -> Graph:
    from harvester.dcat.tables import load_mappings

    return load_mappings().vocabulary_graph()


@pytest.fixture(scope="module")
def docs(reference: Path) -> corpus.Documents:
    return corpus.documents(reference)


def official_files(profile: str, reference: Path, scratch: Path) -> list[Path]:
    files = [reference / "shapes" / rel for rel in OFFICIAL[profile]]
    missing = [str(f) for f in files if not f.is_file()]
    assert not missing, f"official shape files missing: {missing}"
    if profile == "3.0.1":
        full = Graph().parse(files[0], format="turtle")
        for ref in UNDEFINED_IN_SEMIC_301:
            assert (None, SH.property, ref) in full and (ref, None, None) not in full
            full.remove((None, SH.property, ref))
        files[0] = scratch / "semic-dcat-ap-3.0.1-dcat-ap-SHACL.ttl"
        full.serialize(files[0], format="turtle")
    return files


@dataclass
class Outcome:
    """One case compared: the violations of each side, and what explains each difference."""

    case: corpus.Case
    ours: list[Finding]
    official: list[Finding]
    explained: dict[tuple[str, tuple[str, str | None]], str] = field(default_factory=dict)
    unexplained: list[tuple[str, tuple[str, str | None], list[Finding]]] = field(default_factory=list)

    @property
    def ours_pairs(self) -> set[tuple[str, str | None]]:
        return {(f.focus_node, f.path) for f in self.ours}

    @property
    def official_pairs(self) -> set[tuple[str, str | None]]:
        return {(f.focus_node, f.path) for f in self.official}


@dataclass
class Results:
    profile: str
    outcomes: dict[str, Outcome]
    official_rules: set[corpus.Rule]
    table: set[corpus.Rule]  # official and ours, the cases' rule table
    seconds: dict[str, float]


@pytest.fixture(scope="module", params=PROFILES)
def results(request, reference: Path, docs: corpus.Documents, vocabulary: Graph,
            tmp_path_factory) -> Results:
    profile = request.param
    seconds = {}
    t = time.perf_counter()
    mine = Validator.from_files(our_files(profile), ontology=vocabulary)
    theirs = Validator.from_files(official_files(profile, reference, tmp_path_factory.mktemp("shapes")),
                                  ontology=vocabulary, check=False)
    official_rules = corpus.rules(theirs.shapes_graph)
    our_rules = corpus.rules(mine.shapes_graph)
    table = corpus.merged_lists(official_rules | our_rules)
    cases = corpus.cases(docs, table, mine.background)
    hvd = Validator.from_files([reference / "shapes" / HVD_SHAPES], ontology=vocabulary, check=False)
    official_shapes = theirs.shapes_graph + hvd.shapes_graph
    seconds["build"] = time.perf_counter() - t
    items = [(name, _isolated(str(i), case.graph, mine.background))
             for i, (name, case) in enumerate(cases.items())]
    t = time.perf_counter()
    our_reports = mine.validate_datasets(items)
    seconds["ours"] = time.perf_counter() - t
    t = time.perf_counter()
    official_reports = theirs.validate_datasets(items)
    hvd_documents = {key for key, g in docs.graphs.items() if high_value_nodes(g)}
    hvd_reports = hvd.validate_datasets([(name, g) for name, g in items
                                         if cases[name].document in hvd_documents])
    seconds["official"] = time.perf_counter() - t
    outcomes = {}
    for name, case in cases.items():
        ours = [w for f in _unrenamed(our_reports[name].violations)
                for w in worded_as_semic(f, case.graph)]
        official = _unrenamed(official_reports[name].violations)
        if name in hvd_reports:
            official += _unrenamed(hvd_reports[name].violations)
        o = Outcome(case, ours, official)
        _explain(o, profile, {"ours": mine.shapes_graph, "official": official_shapes})
        outcomes[name] = o
    return Results(profile, outcomes, official_rules, table, seconds)


def _explain(o: Outcome, profile: str, shapes: dict[str, Graph]) -> None:
    for side, mine, theirs in (("ours", o.ours, o.official_pairs),
                               ("official", o.official, o.ours_pairs)):
        by_pair: dict[tuple[str, str | None], list[Finding]] = defaultdict(list)
        for f in mine:
            by_pair[(f.focus_node, f.path)].append(f)
        for pair, findings in sorted(by_pair.items(), key=str):
            if pair in theirs:
                continue
            reason = next((d.id for d in DISAGREEMENTS
                           if d.flagged_by == side and profile in d.profiles
                           and any(d.matches(f, shapes[side], o.case) for f in findings)), None)
            if reason is None:
                o.unexplained.append((side, pair, findings))
            else:
                o.explained[(side, pair)] = reason


def difference_table(outcomes: list[Outcome], examples: int = 2) -> str:
    """The unexplained differences grouped by (side, shape, path): how many cases, a few
    example cases with their focus node, and the shape's message."""
    groups: dict[tuple[str, str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for o in outcomes:
        for side, (focus, path), findings in o.unexplained:
            for shape in sorted({f.shape or "-" for f in findings}):
                message = next(f.message for f in findings if (f.shape or "-") == shape)
                groups[(side, corpus.qname(shape), corpus.qname(path or "-"))].append(
                    (o.case.name, corpus.qname(focus), message))
    lines = []
    for (side, shape, path), hits in sorted(groups.items()):
        lines.append(f"only {side:8} | {path:32} | {len(hits):4} cases | {shape}")
        lines.append(f"    message: {hits[0][2][:150]}")
        for case, focus, _ in hits[:examples]:
            lines.append(f"    e.g. {case}  (focus {focus[-60:]})")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------


def test_every_example_is_read(docs: corpus.Documents) -> None:
    assert set(docs.unparsable) == UNPARSABLE, docs.unparsable
    counts = defaultdict(int)
    for key in docs.graphs:
        counts[corpus.family(key)] += 1
    assert dict(counts) == {"semic": 13, "hvd": 14, "shacl-tests": 5, "donl": 9,
                            "ckanext-dcat": 7, "ours": 1}
    # the DCAT-AP-DONL IRIs are read with "/" for U+2215
    assert not any("\u2215" in str(t) for g in docs.graphs.values() for triple in g for t in triple)


def test_rule_tables_are_read_from_the_shapes(results: Results) -> None:
    kinds = {r.kind for r in results.official_rules}
    assert kinds == {"min", "max", "datatype", "list"}, kinds
    dcat = corpus.DCAT
    for must in (corpus.Rule(URIRef(dcat + "Dataset"), URIRef(corpus.PREFIXES["dct"] + "title"), "min"),
                 corpus.Rule(URIRef(dcat + "Distribution"), URIRef(dcat + "accessURL"), "min")):
        assert must in results.official_rules


def test_every_rule_of_the_main_classes_has_a_case(results: Results) -> None:
    """Each rule on a catalogue, dataset, distribution or data service is broken at least once,
    in each of its kinds: a mandatory property removed, an at-most-one property given two values
    (added to a node that has none), a wrong datatype, terms outside the list and of another."""
    covered = {(o.case.rule, o.case.kind) for o in results.outcomes.values() if o.case.rule}
    main = {URIRef(corpus.DCAT + c) for c in ("Catalog", "Dataset", "Distribution", "DataService")}
    missing = [f"{corpus.qname(r.cls)} {corpus.qname(r.path)} {k}"
               for r in sorted(results.table) if r.cls in main
               for k in corpus.KINDS[r.kind]
               if (r, k) not in covered and corpus.applies(r, k)]
    assert not missing, missing


def test_no_unexplained_disagreement(results: Results) -> None:
    bad = [o for o in results.outcomes.values() if o.unexplained]
    assert not bad, (f"profile {results.profile}: {sum(len(o.unexplained) for o in bad)} unexplained "
                     f"differences in {len(bad)} of {len(results.outcomes)} cases:\n"
                     + difference_table(bad))


def test_every_listed_disagreement_occurs(results: Results) -> None:
    used = {reason for o in results.outcomes.values() for reason in o.explained.values()}
    expected = {d.id for d in DISAGREEMENTS if results.profile in d.profiles}
    assert expected <= used, f"profile {results.profile}: never needed: {sorted(expected - used)}"


def test_valid_variants_and_our_export_pass_both_sides(results: Results) -> None:
    valid = [o for o in results.outcomes.values()
             if o.case.kind.startswith("valid-") or o.case.name == "ours/duo-export::as-published"]
    assert len(valid) >= 20
    failing = {o.case.name: (sorted(o.ours_pairs, key=str), sorted(o.official_pairs, key=str))
               for o in valid if o.ours or set(o.explained) != {("official", p) for p in o.official_pairs}}
    assert not failing, failing


def test_every_broken_case_is_caught_by_a_side(results: Results) -> None:
    """A removed mandatory property is a violation of the shapes whose rule it was."""
    missed = [name for name, o in results.outcomes.items()
              if o.case.kind == "removed" and not caught(o, o.ours_pairs | o.official_pairs)]
    assert not missed, missed


def caught(o: Outcome, pairs: set[tuple[str, str | None]]) -> bool:
    """The case's broken spot is among `pairs` (a blank node's label does not survive the
    renaming: there the path must be reported for some blank node)."""
    assert o.case.broken is not None
    focus, path = o.case.broken
    if focus.startswith(("http", "urn:")):
        return (focus, path) in pairs
    return any(p == path and not f.startswith(("http", "urn:")) for f, p in pairs)


def test_semic_shape_test_expectations_that_still_apply_hold(results: Results, reference: Path) -> None:
    """A violation SEMIC's 2016-17 test cases expect that the current official shapes still
    report (the rule still applies) is reported by ours too, unless a listed disagreement."""
    expected = corpus.expected_results(reference)
    assert len(expected) == 5 and all(expected.values()), expected
    problems = []
    for document, pairs in expected.items():
        o = results.outcomes[f"{document}::as-published"]
        for pair in pairs & o.official_pairs:
            if pair not in o.ours_pairs and ("official", pair) not in o.explained:
                problems.append((document, pair))
    assert not problems, problems


def test_readme_lists_the_official_files_and_every_disagreement() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Agreement with the official shapes", 1)[1]
    for profile, files in OFFICIAL.items():
        for rel in files:
            assert rel in section, f"shapes/README.md does not name {rel} ({profile})"
    for d in DISAGREEMENTS:
        row = next((line for line in section.splitlines() if line.startswith(f"| `{d.id}`")), None)
        assert row is not None, f"shapes/README.md does not list {d.id}"
        assert d.flagged_by in row and d.spec_file in row and d.heading in row, row


def test_runtime(results: Results) -> None:
    print(f"profile {results.profile}: {len(results.outcomes)} cases,",
          {k: round(v, 1) for k, v in results.seconds.items()})
    assert results.outcomes

