"""The fast paths: the compiled SHACL engine gives pySHACL's findings, results are reused without
mapping or validating again, the pipeline streams in bounded memory, the mapper's lazy graph and
triple view agree, and a first publication makes exactly one create call per dataset.

Timing is never asserted here (benchmarks/job.py measures the job).
"""

from __future__ import annotations

import json
import random
import threading
import zlib
from collections import Counter
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH

from benchmarks import catalogue
from harvester import pipeline
from harvester.apply import Applier
from harvester.config import SourceConfig
from harvester.dcat.catalog import catalog_graph
from harvester.dcat.dataset import map_dataset
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.dcat.triples import TripleView
from harvester.donl.convert import to_target
from harvester.donl.memory import MemoryTarget
from harvester.pipeline import Stages, context_of, prepare
from harvester.plan import PlanSettings, make_plan
from harvester.shacl.compiled import CompiledShapes
from harvester.shacl.shapes import UnsupportedShapes
from harvester.shacl.validator import SHAPES_DIR, ShapesError, Validator
from harvester.source.context import SourceContext
from harvester.source.harvest import harvest
from harvester.store.encoding import content_hash
from harvester.store.state import StateStore
from tests.streaming import peak_while_preparing

XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SNAPSHOT = Path(__file__).resolve().parent.parent / "examples" / "duo" / "duo-catalogue.json"
VCARD = "http://www.w3.org/2006/vcard/ns#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
EU = "http://publications.europa.eu/resource/authority/"


@pytest.fixture(scope="module")
def mappings():
    return load_mappings()


@pytest.fixture(scope="module")
def compiled(mappings) -> Validator:
    validator = Validator(ontology=mappings.vocabulary_graph())
    assert validator.engine == "compiled", validator.fallback_reason
    return validator


@pytest.fixture(scope="module")
def reference(mappings) -> Validator:
    validator = Validator(ontology=mappings.vocabulary_graph(), engine="pyshacl")
    assert validator.engine == "pyshacl"
    return validator


def _context() -> SourceContext:
    lists = catalogue.context_lists()
    return SourceContext.from_dict({
        "base_url": catalogue.SOURCE_URL,
        "organizations": {o["name"]: o for o in lists["organizations"]},
        "groups": {g["name"]: g for g in lists["groups"]},
        "licenses": {lic["id"]: lic for lic in lists["licenses"]},
    })


def _options() -> MappingOptions:
    return MappingOptions.from_config(catalogue.mapping_table(), "test mapping")


# ------------------------------------------------------------------------------------------------
# the catalogue with injected errors
# ------------------------------------------------------------------------------------------------

#: wrong values of every kind: ill-typed and mistyped literals, wrong node kinds, values outside
#: the value lists, e-mail addresses that are no mailto: URI, media types outside IANA, ...
WRONG_VALUES = [
    Literal("abc", datatype=XSD.nonNegativeInteger), Literal("-3", datatype=XSD.nonNegativeInteger),
    Literal("12", datatype=XSD.nonNegativeInteger), Literal("12", datatype=XSD.integer),
    Literal("2020-13-45", datatype=XSD.date), Literal("2020-01-05", datatype=XSD.date),
    Literal("2020-01-05T10:00:00", datatype=XSD.dateTime), Literal("2020", datatype=XSD.gYear),
    Literal("2020-01"), Literal("zz", datatype=XSD.hexBinary), Literal("P1D", datatype=XSD.duration),
    Literal("1.5", datatype=XSD.decimal), Literal("info@duo.nl"), Literal("tekst", lang="nl"),
    URIRef("mailto:info@duo.nl"), URIRef("mailto:bad"),
    URIRef("https://www.iana.org/assignments/media-types/text/csv"),
    URIRef("https://www.iana.org/assignments/media-types/Text/csv"),
    URIRef(EU + "access-right/RESTRICTED"), URIRef(EU + "data-theme/EDUC"),
    URIRef(EU + "language/ENG"), URIRef(EU + "file-type/CSV"), URIRef(EU + "frequency/ANNUAL"),
    URIRef("http://standaarden.overheid.nl/owms/terms/Onderwijs_en_wetenschap"),
    BNode("b1"),
]


def _mutate(triples: list[tuple], rng: random.Random) -> list[tuple]:
    """One to three random breakages of a dataset's triples (deterministic for a seed)."""
    t = list(dict.fromkeys(triples))
    for _ in range(rng.randrange(1, 4)):
        if not t:
            break
        i = rng.randrange(len(t))
        s, p, o = t[i]
        how = rng.choice(["drop", "drop", "twice", "literal", "uri", "wrong", "untype", "contact",
                          "blank"])
        if how == "drop":
            t.pop(i)
        elif how == "twice":
            t.append((s, p, Literal(str(o) + " bis", lang=o.language, datatype=o.datatype)
                      if isinstance(o, Literal) else URIRef(str(o) + "-bis")))
        elif how == "literal":
            t[i] = (s, p, Literal(str(o)))
        elif how == "uri":
            t[i] = (s, p, URIRef(f"https://example.org/{zlib.crc32(str(o).encode()) % 1000}"))
        elif how == "wrong":
            t[i] = (s, p, rng.choice(WRONG_VALUES))
        elif how == "untype":
            t = [x for x in t if not (x[0] == o and x[1] == RDF.type)]
        elif how == "contact":
            t = [x for x in t if str(x[1]) not in (VCARD + "hasEmail", VCARD + "hasURL",
                                                   VCARD + "hasTelephone")]
        else:
            node = BNode(f"blank{i}")
            t[i] = (s, p, node)
            t.append((node, RDF.type, URIRef(VCARD + "Kind")))
    return t


#: one deliberate error of each kind of constraint our shapes use, on top of the random ones
def _targeted(mapped) -> dict[str, list[tuple]]:
    ds = URIRef(mapped.uri)
    view = mapped.triple_view()
    dists = sorted(view.objects(ds, URIRef(DCAT + "distribution")), key=str)
    contact = next(view.objects(ds, URIRef(DCAT + "contactPoint")))
    base = list(view)

    def replaced(s, p, value):
        return [t for t in base if not (t[0] == s and t[1] == p)] + [(s, p, value)]

    return {
        "min-count": [t for t in base if not (t[0] == ds and t[1] == URIRef(DCT + "title"))],
        "max-count": base + [(ds, URIRef(DCT + "accessRights"), URIRef(EU + "access-right/NON_PUBLIC"))],
        "class": replaced(dists[0], URIRef(DCT + "license"), URIRef("https://example.org/licentie")),
        "datatype": replaced(dists[0], URIRef(DCAT + "byteSize"), Literal("-3", datatype=XSD.nonNegativeInteger)),
        "node-kind": replaced(ds, URIRef(DCT + "title"), URIRef("https://example.org/titel")),
        "pattern": replaced(contact, URIRef(VCARD + "hasEmail"), URIRef("https://example.org/mail")),
        "in": replaced(ds, URIRef(DCT + "accessRights"), URIRef("https://example.org/open")),
        "node": replaced(ds, URIRef(DCT + "language"), URIRef("https://example.org/taal")),
        "node-temporal": replaced(ds, URIRef(DCT + "issued"), Literal("gisteren")),
        "or": [t for t in base if not (t[0] == contact and str(t[1]).startswith(VCARD + "has"))],
        "qualified": replaced(ds, URIRef(DCAT + "theme"),
                              URIRef("http://standaarden.overheid.nl/owms/terms/Onderwijs_en_wetenschap")),
    }


@pytest.fixture(scope="module")
def broken_catalogue(mappings) -> tuple[list[tuple[str, TripleView]], Graph]:
    """Generated DUO-like datasets and the real DUO snapshot, mapped, half of them broken at
    random, plus one of each targeted breakage; and the catalogue graph around them."""
    options, context = _options(), _context()
    mapped = [map_dataset(p, context, mappings, options) for p in catalogue.packages(80, seed=3)]
    snapshot = json.loads(SNAPSHOT.read_text())
    duo_context = SourceContext.from_dict({
        "base_url": snapshot["source_url"],
        "organizations": {o["name"]: o for o in snapshot["organizations"]},
        "groups": {g["name"]: g for g in snapshot["groups"]},
        "licenses": {lic["id"]: lic for lic in snapshot["licenses"]},
    })
    mapped += [map_dataset(p, duo_context, mappings, options) for p in snapshot["packages"][:30]]
    rng = random.Random(20260101)
    items: list[tuple[str, TripleView]] = []
    for index, m in enumerate(mapped):
        triples = list(m.triple_view())
        if index % 2:
            triples = _mutate(triples, rng)
        items.append((f"{index}:{m.source_id}", TripleView(triples)))
    for kind, triples in _targeted(mapped[0]).items():
        items.append((f"targeted:{kind}", TripleView(triples)))
    context_graph = catalog_graph(mapped[:20], context, mappings, options)
    broken_context = Graph()
    for t in _mutate(list(context_graph), random.Random(5)):
        broken_context.add(t)
    return items, broken_context


def _kind_of(shapes: Graph, shape: str | None) -> set[str]:
    """The constraint kinds a (named) shape uses."""
    if shape is None:
        return {"anonymous"}
    names = {SH.minCount: "min-count", SH.maxCount: "max-count", SH["class"]: "class",
             SH.datatype: "datatype", SH.nodeKind: "node-kind", SH.pattern: "pattern",
             SH["in"]: "in", SH.node: "node", SH["or"]: "or", SH.qualifiedValueShape: "qualified"}
    return {names[p] for p in shapes.predicates(URIRef(shape)) if p in names}


def test_compiled_engine_gives_pyshacls_findings_on_a_catalogue_with_every_kind_of_error(
        compiled: Validator, reference: Validator, broken_catalogue) -> None:
    items, context_graph = broken_catalogue
    ours = compiled.validate_datasets(items, context_graph=context_graph, batch_size=40)
    theirs = reference.validate_datasets(items, context_graph=context_graph, batch_size=40)
    assert set(ours) == set(theirs) == {key for key, _ in items}
    for key in theirs:
        # the whole finding: severity, focus node, path, value, message and source shape
        assert ours[key].findings == theirs[key].findings, key
        assert ours[key].conforms == theirs[key].conforms, key
    assert ours.context.findings == theirs.context.findings
    violations = [f for r in theirs.values() for f in r.findings if f.severity == "violation"]
    assert len(violations) > 100
    # every kind of constraint our shapes use was broken somewhere, and found by both engines
    kinds = Counter(k for f in violations for k in _kind_of(compiled.shapes_graph, f.shape))
    used = set().union(*(_kind_of(compiled.shapes_graph, str(s))
                         for s in set(compiled.shapes_graph.subjects(SH.targetClass, None))))
    assert used <= set(kinds), used - set(kinds)
    for key in (k for k, _ in items if k.startswith("targeted:")):
        assert not theirs[key].conforms, key
    # and the warnings (recommended properties) as well
    assert any(f.severity == "warning" for r in theirs.values() for f in r.findings)


def test_compiled_engine_agrees_on_single_graphs_and_on_the_background(
        compiled: Validator, reference: Validator, broken_catalogue) -> None:
    items, _ = broken_catalogue
    for key, view in items[:12] + items[-11:]:
        graph = view.graph()
        assert compiled.validate(graph).findings == reference.validate(graph).findings, key
        assert compiled.validate(view).findings == reference.validate(graph).findings, key
    assert compiled.check_background().findings == reference.check_background().findings


def test_engine_choice_and_fallback(tmp_path: Path, mappings) -> None:
    assert Validator(ontology=mappings.vocabulary_graph()).engine == "compiled"
    with pytest.raises(ValueError):
        Validator(ontology=mappings.vocabulary_graph(), engine="turbo")
    extra = tmp_path / "extra.ttl"
    extra.write_text("""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix dct: <http://purl.org/dc/terms/> .
        @prefix dcat: <http://www.w3.org/ns/dcat#> .
        <urn:x:title-length> a sh:PropertyShape ; sh:targetClass dcat:Dataset ;
            sh:path dct:title ; sh:minLength 3 ; sh:message "Te kort."@nl, "Too short."@en .
    """)
    files = sorted(SHAPES_DIR.glob("*.ttl")) + [extra]
    auto = Validator.from_files(files, mappings.vocabulary_graph())
    assert auto.engine == "pyshacl" and "minLength" in (auto.fallback_reason or "")
    with pytest.raises(ShapesError, match="cannot be compiled"):
        Validator.from_files(files, mappings.vocabulary_graph(), engine="compiled")
    no_message = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:x:s> a sh:PropertyShape ; sh:targetClass <urn:x:C> ; sh:path <urn:x:p> ; sh:minCount 1 .
    """, format="turtle")
    with pytest.raises(UnsupportedShapes, match="no sh:message"):
        CompiledShapes(no_message)


# ------------------------------------------------------------------------------------------------
# the pipeline: reuse, counters, streaming
# ------------------------------------------------------------------------------------------------


def _harvested(tmp_path: Path, n: int) -> tuple[StateStore, SourceConfig, int]:
    dump = tmp_path / "catalogue.json"
    dump.write_text(json.dumps(catalogue.generate(n)))
    source = SourceConfig(name="bench", type="dump", path=dump, url=catalogue.SOURCE_URL,
                          mapping=catalogue.mapping_table())
    store = StateStore.open(tmp_path / "state.sqlite")
    summary = harvest(source, store, "full")
    assert summary.outcome == "success" and summary.seen == n
    return store, source, summary.run_id


def _stages(store: StateStore, source: SourceConfig, mappings) -> Stages:
    return Stages(mappings=mappings, options=_options(),
                  validator=Validator(ontology=mappings.vocabulary_graph()),
                  context=context_of(store, source.name, source.url))


SETTINGS = PlanSettings(owner_org="dienst-uitvoering-onderwijs")


def _published(store: StateStore, source: SourceConfig, run_id: int, target: MemoryTarget, mappings) -> int:
    """Plan and apply the first publication of the harvested datasets; how many were created."""
    prepared = list(prepare(store, source.name, _stages(store, source, mappings), run_id))
    plan = make_plan(source.name, prepared, [], store.publications(target.url), target, SETTINGS)
    Applier(plan, store, target, run_id, source.name).run()
    return plan.counts()["create"]


def _summary(item) -> tuple:
    return (item.source_id, item.identifier, item.valid, item.title,
            json.dumps(item.findings, sort_keys=True), json.dumps(item.unmapped, sort_keys=True),
            json.dumps(item.target.package("x", "org") if item.target else None, sort_keys=True),
            json.dumps(item.quality, sort_keys=True))


def test_unchanged_records_are_not_mapped_or_validated_again(tmp_path: Path, mappings) -> None:
    store, source, run_id = _harvested(tmp_path, 120)
    first = _stages(store, source, mappings)
    fresh = list(prepare(store, source.name, first, run_id))
    assert first.counters == {"mapped": 120, "validated": 120, "reused": 0}
    assert 0 < sum(not p.valid for p in fresh) < 20
    again = _stages(store, source, mappings)
    reused = list(prepare(store, source.name, again, run_id))
    assert again.counters == {"mapped": 0, "validated": 0, "reused": 120}
    assert [_summary(p) for p in reused] == [_summary(p) for p in fresh]
    # a change at the source is mapped again, the rest stays reused
    record = next(store.records(source.name))
    changed = dict(record.raw, title="Een nieuwe titel")
    with store.transaction() as db:
        db.execute("UPDATE records SET content_hash = ? WHERE source = ? AND source_id = ?",
                   (content_hash(changed), source.name, record.source_id))
        db.execute("UPDATE record_raws SET raw = ? WHERE source = ? AND source_id = ?",
                   (json.dumps(changed), source.name, record.source_id))
    third = _stages(store, source, mappings)
    after = {p.source_id: p for p in prepare(store, source.name, third, run_id)}
    assert third.counters == {"mapped": 1, "validated": 1, "reused": 119}
    assert after[record.source_id].title == "Een nieuwe titel"
    # results dropped (as the benchmark does): every record is mapped again, nothing is left over
    store.drop_results(source.name)
    assert store.db.execute("SELECT COUNT(*) FROM result_json").fetchone()[0] == 0
    fourth = _stages(store, source, mappings)
    assert [_summary(p) for p in prepare(store, source.name, fourth, run_id)] == [
        _summary(after[p.source_id]) for p in fresh]
    assert fourth.counters == {"mapped": 120, "validated": 120, "reused": 0}
    store.close()


def test_the_pipeline_streams_many_datasets_in_bounded_memory(tmp_path: Path, mappings,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BATCH", 100)
    store = StateStore.open(tmp_path / "state.sqlite")
    stages = Stages(mappings=mappings, options=_options(),
                    validator=Validator(ontology=mappings.vocabulary_graph()), context=_context())
    peak_while_preparing(store, stages, 100, 0)  # caches (value lists, compiled plans, text) warmed up
    small = peak_while_preparing(store, stages, 300, 1000)
    large = peak_while_preparing(store, stages, 1200, 5000)
    assert stages.counters["mapped"] == 1600
    # four times the datasets, about the same peak: a batch at a time is held, not the catalogue
    assert large < small * 1.5, (small, large)
    store.close()


# ------------------------------------------------------------------------------------------------
# the mapper's lazy graph and triple view; the target stage reads the view
# ------------------------------------------------------------------------------------------------


def test_the_graph_is_built_on_first_read_and_matches_the_view(mappings) -> None:
    package = catalogue.package(1)
    mapped = map_dataset(package, _context(), mappings, _options())
    assert mapped.__dict__.get("_graph") is None  # not built yet
    view = mapped.triple_view()
    assert view is mapped.view
    graph = mapped.graph
    assert set(graph) == set(view) and len(graph) == len(view)
    assert mapped.graph is graph
    # once the graph was handed out it may change: the view follows the graph from then on
    ds = URIRef(mapped.uri)
    graph.remove((ds, URIRef(DCT + "title"), None))
    assert (ds, URIRef(DCT + "title"), None) not in mapped.triple_view()
    assert mapped.triple_view().value(ds, URIRef(DCT + "identifier")) is not None


def test_to_target_reads_the_view_as_it_would_read_the_graph(mappings) -> None:
    options, context = _options(), _context()
    for index in range(40):
        lazy = map_dataset(catalogue.package(index, seed=9), context, mappings, options)
        eager = map_dataset(catalogue.package(index, seed=9), context, mappings, options)
        eager.graph  # noqa: B018 - read it: to_target then goes through the rdflib graph
        assert to_target(lazy, mappings) == to_target(eager, mappings)


# ------------------------------------------------------------------------------------------------
# first publication: one create call per dataset, bounded parallel writers
# ------------------------------------------------------------------------------------------------


class _CountingTarget(MemoryTarget):
    def __init__(self) -> None:
        super().__init__()
        self.active = 0
        self.most_active = 0
        self._gate = threading.Lock()

    def create(self, package):
        with self._gate:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            threading.Event().wait(0.002)  # let the writers overlap
            return super().create(package)
        finally:
            with self._gate:
                self.active -= 1


@pytest.mark.parametrize("writers", [1, 3])
def test_a_first_publication_makes_exactly_one_create_call_per_dataset(tmp_path: Path, mappings,
                                                                       writers: int) -> None:
    store, source, run_id = _harvested(tmp_path, 60)
    stages = _stages(store, source, mappings)
    prepared = list(prepare(store, source.name, stages, run_id))
    target = _CountingTarget()
    settings = PlanSettings(owner_org="dienst-uitvoering-onderwijs")
    plan = make_plan(source.name, prepared, [], store.publications(target.url), target, settings)
    counts = plan.counts()
    creates = counts["create"]
    # every dataset is created, unless invalid (SHACL, mapping, or data.overheid.nl's rules)
    assert creates + counts["invalid"] == 60 and creates > 40
    done = Applier(plan, store, target, run_id, source.name).run(writers)
    assert done == {"done": creates, "failed": 0}
    assert target.creates == creates == len(target.packages)
    assert 1 <= target.most_active <= writers
    # and the next plan over the same datasets writes nothing
    again = make_plan(source.name, list(prepare(store, source.name, _stages(store, source, mappings), run_id)),
                      [], store.publications(target.url), target, settings)
    assert again.writes() == [] and again.counts()["unchanged"] == creates
    store.close()


def test_a_no_change_plan_is_decided_from_the_stored_results(tmp_path: Path, mappings) -> None:
    """Unchanged datasets are planned from their result keys (no package built), invalid ones
    from the counts stored beside their findings; what the report reads of them is what the
    first run made."""
    from harvester.plan import Planner

    store, source, run_id = _harvested(tmp_path, 40)
    prepared = list(prepare(store, source.name, _stages(store, source, mappings), run_id))
    target = MemoryTarget()
    settings = PlanSettings(owner_org="dienst-uitvoering-onderwijs")
    plan = make_plan(source.name, prepared, [], store.publications(target.url), target, settings)
    Applier(plan, store, target, run_id, source.name).run()
    published = plan.counts()["create"]
    assert published > 25

    stages = _stages(store, source, mappings)
    records = list(store.records(source.name))
    again = list(prepare(store, source.name, stages, run_id, records=records))
    assert stages.counters == {"mapped": 0, "validated": 0, "reused": 40}
    planner = Planner(source.name, store.publications(target.url), target, settings)
    actions = planner.plan_batch(again)
    unchanged = [(a, p) for a, p in zip(actions, again) if a.action == "unchanged"]
    assert len(unchanged) == published
    for action, _ in unchanged:
        assert action.package is None
        assert action.reason == "unchanged at the source since our last write, and not edited on the target"
    # why an invalid dataset is not published comes from the counts stored beside its findings
    invalid = [(a, p) for a, p in zip(actions, again) if a.action == "invalid" and not a.problems]
    assert invalid
    first_reasons = {a.source_id: a.reason for a in plan.actions}
    for action, item in invalid:
        assert action.reason == first_reasons[item.source_id]
        assert "SHACL violation(s)" in action.reason or "without a mapping" in action.reason
        assert item.violations == sum(f["severity"] == "violation" for f in item.findings)
        assert item.mapping_errors == sum(u["severity"] == "error" for u in item.unmapped)
    # the same as what the first run made
    first = {p.source_id: p for p in prepared}
    for action, item in unchanged[:5]:
        assert action.quality == first[item.source_id].quality
        assert action.title == first[item.source_id].title
        assert _summary(item) == _summary(first[item.source_id])
    store.close()


def test_an_unchanged_package_from_a_new_result_records_that_result(tmp_path: Path, mappings,
                                                                    monkeypatch) -> None:
    """After a change of the mapping tables, shapes or code that leaves the packages as they were,
    the plan finds them unchanged by their hash, without the pre-send check (nothing is sent),
    and apply records the new result key, so the run after that takes the fast path again."""
    import harvester.plan.rules as plan_module

    store, source, run_id = _harvested(tmp_path, 20)
    target = MemoryTarget()
    settings = SETTINGS
    _published(store, source, run_id, target, mappings)
    with store.transaction() as db:  # as if the fingerprint had changed: every result key moves
        db.execute("UPDATE published SET result_key = 'an-older-result'")
    checked: list[str] = []
    real_check = plan_module.check_package
    monkeypatch.setattr(plan_module, "check_package", lambda package, *a: checked.append(package["name"])
                        or real_check(package, *a))
    again = list(prepare(store, source.name, _stages(store, source, mappings), run_id))
    plan = make_plan(source.name, again, [], store.publications(target.url), target, settings)
    unchanged = [a for a in plan.actions if a.action == "unchanged"]
    assert unchanged and all(a.reason == "what we would send is what we last sent" for a in unchanged)
    assert not set(checked) & {a.name for a in unchanged}
    # a dataset edited at the source is sent, so it is checked
    first = next(p for p in again if p.identifier == unchanged[0].identifier)
    with store.transaction() as db:
        db.execute("UPDATE published SET sent_hash = 'something-else' WHERE identifier = ?", (first.identifier,))
    assert first.target is not None
    first.target.fields["title"] = f"{first.target.fields.get('title')} (bewerkt)"
    replanned = make_plan(source.name, [first], [], store.publications(target.url), target, settings)
    assert replanned.actions[0].action == "update" and checked[-1] == replanned.actions[0].name
    Applier(plan, store, target, run_id, source.name).run()
    keys = {pub.identifier: pub.result_key for pub in store.publications(target.url).values()}
    assert all(keys[a.identifier] == a.result_key for a in unchanged)
    third = make_plan(source.name, list(prepare(store, source.name, _stages(store, source, mappings), run_id)),
                      [], store.publications(target.url), target, settings)
    assert {a.reason for a in third.actions if a.action == "unchanged"} == {
        "unchanged at the source since our last write, and not edited on the target"}
    assert target.writes == len(unchanged)  # the first publication only
    store.close()


def test_a_mapping_change_that_leaves_the_packages_keeps_their_result_keys(tmp_path: Path, mappings) -> None:
    """A result's key is its target package's (package_key): after a change of the mapping
    tables every record is mapped again, and the datasets whose package came out as it was
    are planned unchanged from their keys alone (no package built); a dataset whose package
    changed gets a new key."""
    from harvester.plan import Planner

    store, source, run_id = _harvested(tmp_path, 30)
    target = MemoryTarget()
    created = _published(store, source, run_id, target, mappings)
    keys = {pub.identifier: pub.result_key for pub in store.publications(target.url).values()}
    assert len(keys) == created > 20

    updated = load_mappings(catalogue.updated_mappings(tmp_path / "mappings"))
    stages = _stages(store, source, updated)
    assert stages.fingerprint() != _stages(store, source, mappings).fingerprint()
    again = list(prepare(store, source.name, stages, run_id))
    assert stages.counters["mapped"] == 30
    assert {p.identifier: p.result_key for p in again if p.identifier in keys} == keys
    planner = Planner(source.name, store.publications(target.url), target, SETTINGS)
    actions = planner.plan_batch(again)
    unchanged = [(a, p) for a, p in zip(actions, again) if a.action == "unchanged"]
    assert len(unchanged) == created
    assert {a.reason for a, _ in unchanged} == {
        "unchanged at the source since our last write, and not edited on the target"}
    assert all(a.package is None for a, _ in unchanged)

    # a package that changes (here: its title at the source) has a key of its own
    record = store.record(source.name, unchanged[0][1].source_id)
    assert record is not None
    raw = dict(record.raw, title=record.raw["title"] + " (herzien)")
    with store.transaction() as db:
        db.execute("UPDATE record_raws SET raw = ? WHERE source = ? AND source_id = ?",
                   (json.dumps(raw), source.name, record.source_id))
        db.execute("UPDATE records SET content_hash = ? WHERE source = ? AND source_id = ?",
                   (content_hash(raw), source.name, record.source_id))
    changed = next(p for p in prepare(store, source.name, _stages(store, source, updated), run_id)
                   if p.source_id == record.source_id)
    assert changed.result_key != keys[changed.identifier]
    action = Planner(source.name, store.publications(target.url), target, SETTINGS).plan_batch([changed])[0]
    assert action.action == "update"
    assert [c for c in action.changes if c["field"] == "title"]
    store.close()
    # what checks a package before it is sent is part of its key: the value lists too
    from harvester.donl.compare import package_key
    from harvester.donl.valuelists import ValueLists

    one = ValueLists({"Overheid:Taal": frozenset({"nl", "en"})}, {}, "lists-1")
    other = ValueLists({"Overheid:Taal": frozenset({"nl"})}, {}, "lists-1")
    assert package_key(b"{}", one) == package_key(b"{}", ValueLists(
        {"Overheid:Taal": frozenset({"en", "nl"})}, {}, "the same lists from other files"))
    assert package_key(b"{}", one) != package_key(b"{}", other)
    assert package_key(b"{}", one) != package_key(b'{"x":1}', one)


def test_vocabulary_terms_are_one_instance_across_the_stages(mappings) -> None:
    """The mapper's predicates, classes and value-table IRIs are the instances validation looks
    them up with (so the lookups are identity hits, not rdflib's Python-level __eq__)."""
    from harvester.dcat.terms import term

    package = catalogue.package(3, seed=11)
    mapped = map_dataset(package, _context(), mappings, _options())
    predicates = {p for _, p, _ in mapped.triple_view()}
    assert predicates and all(p is term(str(p)) for p in predicates)
    classes = {o for _, p, o in mapped.triple_view() if str(p).endswith("#type")}
    assert classes and all(c is term(str(c)) for c in classes)
    validator = Validator(ontology=mappings.vocabulary_graph())
    compiled = validator._compiled
    assert compiled is not None
    assert all(cls is term(str(cls)) for cls in compiled.by_class)
    assert any(cls in compiled.by_class for cls in classes)


@pytest.mark.parametrize(("first", "second", "same"), [
    ("2026-01-02T03:04:05.123456", "2026-01-02T03:04:05.123Z", True),
    ("2026-01-02T03:04:05.120456", "2026-01-02T03:04:05.12Z", True),
    ("2026-01-02T03:04:05", "2026-01-02T03:04:05Z", True),
    ("2026-01-02T03:04:05.000999", "2026-01-02T03:04:05Z", True),
    ("2026-01-02T03:04:05.124001", "2026-01-02T03:04:05.123Z", False),
    ("2026-01-02T03:04:06.123456", "2026-01-02T03:04:05.123Z", False),
    ("2026-01-02T03:04:05.123456", None, False),
    ("", "", False),
])
def test_same_moment_compares_ckan_and_search_index_timestamps_to_the_millisecond(
        first, second, same) -> None:
    from harvester.store.encoding import same_moment

    assert same_moment(first, second) is same
    assert same_moment(second, first) is same


class _WholeReadsTarget(MemoryTarget):
    """Counts the packages read whole through the inventory."""

    def __init__(self) -> None:
        super().__init__()
        self.read_whole: list[str] = []

    def packages_by_id(self, ids):
        self.read_whole.extend(ids)
        return super().packages_by_id(ids)


def test_the_inventory_reads_whole_only_the_packages_changed_since_our_last_write(
        tmp_path: Path, mappings) -> None:
    """The plan's inventory of the target lists a few fields per package; a package we wrote
    that the target has not modified since is taken as we recorded it, one edited by hand (or
    not ours) is read whole, and the edit is still found (a conflict, left alone)."""
    from harvester.plan import Planner

    store, source, run_id = _harvested(tmp_path, 30)
    target = _WholeReadsTarget()
    settings = SETTINGS
    published = _published(store, source, run_id, target, mappings)
    assert published > 15
    target.read_whole.clear()

    again = make_plan(source.name, list(prepare(store, source.name, _stages(store, source, mappings), run_id)),
                      [], store.publications(target.url), target, settings)
    assert again.counts()["unchanged"] == published and target.read_whole == []

    edited = next(iter(target.packages.values()))
    edited["title"] = "Met de hand veranderd"
    target.update(edited)
    foreign = dict(next(iter(target.packages.values())), id=None, name="van-iemand-anders",
                   identifier="https://example.org/id/not-ours")
    foreign = target.create({k: v for k, v in foreign.items() if k != "id"})
    planner = Planner(source.name, store.publications(target.url), target, settings)
    assert sorted(target.read_whole) == sorted([edited["id"], foreign["id"]])
    assert planner.inventory["https://example.org/id/not-ours"].id == foreign["id"]
    third = make_plan(source.name, list(prepare(store, source.name, _stages(store, source, mappings), run_id)),
                      [], store.publications(target.url), target, settings)
    conflicts = [a for a in third.actions if a.action == "conflict"]
    assert [a.identifier for a in conflicts] == [edited["identifier"]]
    assert third.counts()["unchanged"] == published - 1
    store.close()


def test_a_refusal_by_the_pre_send_check_is_remembered_until_what_it_read_changes(
        tmp_path: Path, mappings, monkeypatch) -> None:
    """Datasets data.overheid.nl would refuse are checked once: apply records the problems under
    a key over what the check read, and the next plan takes them from the store (the same
    reason and problems, the package still there when asked for); another name or owner
    organisation is another key, and is checked again."""
    import harvester.plan.rules as plan_module
    from harvester.plan import Planner

    store, source, run_id = _harvested(tmp_path, 80)
    target = MemoryTarget()
    settings = SETTINGS
    first = make_plan(source.name, list(prepare(store, source.name, _stages(store, source, mappings), run_id)),
                      [], store.publications(target.url), target, settings)
    refused = {a.identifier: a for a in first.actions if a.action == "invalid" and a.problems}
    assert refused and all(a.refusal_key for a in refused.values())
    Applier(first, store, target, run_id, source.name).run()
    assert set(store.refusals(target.url)) == set(refused)

    checked: list[str] = []
    real_check = plan_module.check_package

    def counting_check(package, *args):
        checked.append(package["name"])
        return real_check(package, *args)

    monkeypatch.setattr(plan_module, "check_package", counting_check)
    again = list(prepare(store, source.name, _stages(store, source, mappings), run_id))
    planner = Planner(source.name, store.publications(target.url), target, settings,
                      refusals=store.refusals(target.url))
    actions = {a.identifier: a for a in planner.plan_batch(again)}
    assert checked == []
    for identifier, before in refused.items():
        now = actions[identifier]
        assert (now.action, now.reason, now.problems, now.name) == ("invalid", before.reason, before.problems, before.name)
        assert now.package == before.package and now.refusal_key is None

    other = PlanSettings(owner_org="een-andere-organisatie")
    Planner(source.name, store.publications(target.url), target, other,
            refusals=store.refusals(target.url)).plan_batch(
        [p for p in prepare(store, source.name, _stages(store, source, mappings), run_id) if p.identifier in refused])
    assert sorted(checked) == sorted(a.name for a in refused.values())
    store.close()
