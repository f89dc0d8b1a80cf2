"""`harvester validate FILE...`: DCAT-AP-NL documents validated as they are, offline, without a
configuration file or the state store.

Our own export of the bundled catalogue (Turtle, JSON-LD, RDF/XML, N-Triples) conforms; a broken
copy of it names the focus node and path of what is wrong, in text and in JSON; a fragment (the
datasets without their catalogue) is judged on what it is. Each official example in
../shared/reference gives its findings, or (those that do not parse) an error naming the file,
line and column. A file that is not there or does not parse leaves with exit code 2; a JSON-LD
document with a remote @context is refused without touching the network.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from harvester.cli import main
from harvester.errors import ExitCode
from harvester.jobs.documents import format_of
from tests.conftest import REPO, SHARED
from tests.test_cli_commands import Ran

VCARD_KIND = URIRef("http://www.w3.org/2006/vcard/ns#Organization")
VCARD_FN = "http://www.w3.org/2006/vcard/ns#fn"
TITLE = str(DCTERMS.title)


def run(*args: str) -> Ran:
    """`harvester ARGS` in this process; an exception it let out fails the test with its traceback."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_json(*args: str) -> tuple[Ran, dict]:
    ran = run("validate", "--format", "json", *args)
    return ran, json.loads(ran.stdout)


@pytest.fixture(autouse=True)
def no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in an empty folder without any configuration: `validate FILE` needs none."""
    monkeypatch.delenv("HARVESTER_CONFIG", raising=False)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


# --- our own export ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`harvester export` of the bundled catalogue, in each format, by file extension."""
    folder = tmp_path_factory.mktemp("export") / "examples"
    shutil.copytree(REPO / "examples", folder, ignore=shutil.ignore_patterns("state"))
    config = str(folder / "duo-offline.toml")
    assert run("--config", config, "-q", "harvest").code == 0
    files = {}
    for fmt, extension in (("turtle", "ttl"), ("json-ld", "jsonld"), ("xml", "rdf")):
        files[extension] = folder / f"catalogue.{extension}"
        ran = run("--config", config, "export", "--format", fmt, "-o", str(files[extension]))
        assert ran.code == 0, ran.output
    files["nt"] = folder / "catalogue.nt"
    Graph().parse(files["ttl"]).serialize(files["nt"], format="nt")
    return files


@pytest.fixture(scope="module")
def export_graph(exported: dict[str, Path]) -> Graph:
    return Graph().parse(exported["ttl"])


def test_our_export_conforms_in_every_format(exported: dict[str, Path], no_configuration: Path) -> None:
    paths = [str(exported[ext]) for ext in ("ttl", "jsonld", "rdf", "nt")]
    ran = run("validate", *paths)
    assert ran.code == ExitCode.OK, ran.output
    for path, name in zip(paths, ("Turtle", "JSON-LD", "RDF/XML", "N-Triples"), strict=True):
        assert re.search(rf"(?m)^{re.escape(path)}  \({re.escape(name)}, \d+ triples, \d+ node\(s\) judged\): "
                         r"voldoet / conforms; "
                         r"0 violation\(s\)", ran.stdout), ran.stdout
    assert ran.stdout.splitlines()[-1] == "4 bestanden, 4 voldoen, 0 voldoen niet / 4 files, 4 conform, 0 do not"
    assert list(no_configuration.iterdir()) == []  # no state store, no configuration made

    ran, result = run_json(*paths)
    assert ran.code == ExitCode.OK and result["conforms"] is True
    assert (result["files"], result["conform"], result["not_conform"], result["unreadable"]) == (4, 4, 0, 0)
    triples = {doc["counts"]["triples"] for doc in result["documents"]}
    assert len(triples) == 1 and triples.pop() > 1000  # the same catalogue in each format
    for doc in result["documents"]:
        assert doc["conforms"] is True and doc["error"] is None and doc["counts"]["violations"] == 0
        assert all(f["severity"] != "violation" for f in doc["findings"])


def test_the_format_comes_from_the_content_when_the_name_does_not_say(exported: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    copies = []
    for ext in ("ttl", "jsonld", "rdf", "nt"):
        copies.append(tmp_path / f"catalogue-{ext}.data")
        shutil.copy(exported[ext], copies[-1])
    ran, result = run_json(*map(str, copies))
    assert ran.code == ExitCode.OK, ran.output
    assert [doc["format"] for doc in result["documents"]] == ["turtle", "json-ld", "xml", "turtle"]
    # --input-format overrides the extension: Turtle read as RDF/XML does not parse
    ran = run("validate", "--input-format", "xml", str(exported["ttl"]))
    assert ran.code == ExitCode.USAGE and "not valid RDF/XML" in ran.stderr


@pytest.mark.parametrize(("start", "expected"), [
    (b'\xef\xbb\xbf  {"@id": "x"}', "json-ld"), (b"[{}]", "json-ld"),
    (b'<?xml version="1.0"?><rdf:RDF/>', "xml"), (b"<rdf:RDF xmlns:rdf='x'/>", "xml"),
    (b"<!-- a comment -->\n<rdf:RDF/>", "xml"),
    (b"<http://example.org/a> <http://example.org/b> <http://example.org/c> .", "turtle"),
    (b"@prefix dcat: <http://www.w3.org/ns/dcat#> .", "turtle"),
])
def test_sniffing_a_format(start: bytes, expected: str) -> None:
    assert format_of(Path("document.data"), start) == expected
    assert format_of(Path("document.TTL"), start) == "turtle"  # the extension wins


def _first_dataset(graph: Graph) -> URIRef:
    return min(s for s in graph.subjects(RDF.type, DCAT.Dataset) if isinstance(s, URIRef))


def test_a_dataset_without_title_is_named_with_its_path(export_graph: Graph, tmp_path: Path) -> None:
    broken = Graph()
    for triple in export_graph:
        broken.add(triple)
    dataset = _first_dataset(broken)
    broken.remove((dataset, DCTERMS.title, None))
    path = tmp_path / "broken.ttl"
    broken.serialize(path, format="turtle")

    ran = run("validate", str(path))
    assert ran.code == ExitCode.DATASETS, ran.output
    assert "voldoet NIET / does NOT conform; 1 violation(s)" in ran.stdout
    lines = ran.stdout.splitlines()
    node_line = lines.index(f"  <{dataset}>  (dcat:Dataset)")
    assert lines[node_line + 1].startswith("    [violation] dct:title: ")
    assert "/" in lines[node_line + 1].split(": ", 1)[1]  # the Dutch message, then the English one
    assert lines[-1] == "1 bestand, 0 voldoen, 1 voldoet niet / 1 file, 0 conform, 1 does not"

    ran, result = run_json(str(path))
    assert ran.code == ExitCode.DATASETS and result["conforms"] is False
    [doc] = result["documents"]
    [violation] = [f for f in doc["findings"] if f["severity"] == "violation"]
    assert (violation["focus_node"], violation["path"], violation["value"]) == (str(dataset), TITLE, None)
    assert violation["message"] and violation["shape"]
    assert doc["nodes"][str(dataset)] == {"types": [str(DCAT.Dataset)], "label": f"<{dataset}>"}
    assert doc["counts"]["violations"] == 1 and doc["conforms"] is False


def test_a_blank_node_is_shown_by_what_it_hangs_from(export_graph: Graph, tmp_path: Path) -> None:
    graph = Graph()
    for triple in export_graph:
        graph.add(triple)
    dataset = _first_dataset(graph)
    contact = BNode()
    graph.add((dataset, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD_KIND))
    # a name given as a URI, not as text, breaks a DCAT-AP-NL rule of the node itself
    graph.add((contact, URIRef(VCARD_FN), URIRef("https://www.duo.nl/")))
    path = tmp_path / "contact.ttl"
    graph.serialize(path, format="turtle")

    ran = run("validate", str(path))
    assert ran.code == ExitCode.DATASETS, ran.output
    label = f"  [] dcat:contactPoint of <{dataset}>  (vcard:Organization)"
    assert label in ran.stdout.splitlines()
    ran, result = run_json(str(path))
    [doc] = result["documents"]
    paths = {f["path"] for f in doc["findings"] if f["severity"] == "violation"}
    assert VCARD_FN in paths
    [focus] = {f["focus_node"] for f in doc["findings"] if f["path"] == VCARD_FN}
    assert doc["nodes"][focus] == {"types": [str(VCARD_KIND)], "label": label.strip().split("  ")[0]}


def test_a_fragment_without_its_catalogue_is_judged_on_what_it_is(export_graph: Graph, tmp_path: Path) -> None:
    """The datasets and distributions alone: no catalogue, no catalogue records."""
    fragment = Graph()
    left_out = set(export_graph.subjects(RDF.type, DCAT.Catalog)) | set(
        export_graph.subjects(RDF.type, DCAT.CatalogRecord))
    for triple in export_graph:
        if triple[0] not in left_out:
            fragment.add(triple)
    assert not set(fragment.subjects(RDF.type, DCAT.Catalog)) and set(fragment.subjects(RDF.type, DCAT.Dataset))
    path = tmp_path / "datasets.jsonld"
    fragment.serialize(path, format="json-ld")
    ran, result = run_json(str(path))
    assert ran.code == ExitCode.OK, ran.output
    assert result["documents"][0]["counts"]["violations"] == 0

    # a distribution alone is judged on itself: only its own findings, none for lacking a catalogue;
    # the data service it names is not described here, so that value's class cannot be confirmed
    distribution = min(export_graph.subjects(RDF.type, DCAT.Distribution))
    alone = Graph()
    for triple in export_graph.triples((distribution, None, None)):
        alone.add(triple)
    path = tmp_path / "distribution.ttl"
    alone.serialize(path, format="turtle")
    ran, result = run_json(str(path))
    [doc] = result["documents"]
    assert doc["counts"]["judged"] == 1 and {f["focus_node"] for f in doc["findings"]} == {str(distribution)}
    violations = {(f["path"], f["shape"].rsplit("-", 1)[-1]) for f in doc["findings"] if f["severity"] == "violation"}
    assert violations <= {(str(DCAT.accessService), "range")}


def test_several_files_each_on_its_own_with_a_summary(export_graph: Graph, exported: dict[str, Path],
                                                      tmp_path: Path) -> None:
    broken = Graph()
    for triple in export_graph:
        if triple[1] != DCTERMS.title or (triple[0], RDF.type, DCAT.Dataset) not in export_graph:
            broken.add(triple)
    path = tmp_path / "untitled.ttl"
    broken.serialize(path, format="turtle")
    ran = run("validate", str(exported["ttl"]), str(path), str(exported["rdf"]))
    assert ran.code == ExitCode.DATASETS, ran.output
    assert ran.stdout.splitlines()[-1] == "3 bestanden, 2 voldoen, 1 voldoet niet / 3 files, 2 conform, 1 does not"
    datasets = len(set(export_graph.subjects(RDF.type, DCAT.Dataset)))
    assert f"voldoet NIET / does NOT conform; {datasets} violation(s)" in ran.stdout

    quiet = run("validate", "-q", str(exported["ttl"]), str(path))
    assert quiet.stdout == "2 bestanden, 1 voldoet, 1 voldoet niet / 2 files, 1 conforms, 1 does not\n"


# --- files that cannot be validated --------------------------------------------------------------


def test_a_missing_file_is_a_usage_error_naming_it(exported: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.ttl"
    ran = run("validate", str(missing), str(exported["ttl"]))
    assert ran.code == ExitCode.USAGE, ran.output
    assert f"error: {missing}: bestand niet gevonden / no such file" in ran.stderr
    assert "Traceback" not in ran.output
    assert ran.stdout.splitlines()[-1].endswith("2 files, 1 conforms, 0 do not, 1 unreadable")
    ran, result = run_json(str(missing))
    assert ran.code == ExitCode.USAGE and result["unreadable"] == 1
    assert result["documents"][0]["error"]["message"].startswith(str(missing))


@pytest.mark.parametrize(("name", "text", "line", "column", "reason"), [
    ("broken.ttl", ('@prefix dct: <http://purl.org/dc/terms/> .\n\n<http://example.org/d> dct:title "x"\n'
                    '<http://example.org/e> dct:title "y" .\n'), 4, 1, "expected '.'"),
    ("unbound.ttl", '<http://example.org/d> a dcat:Dataset .\n', 1, 26, 'Prefix "dcat:" not bound'),
    ("broken.rdf", ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
                    ' <rdf:Description rdf:about="http://example.org/d">\n</rdf:RDF>\n'), 4, 3, "not valid RDF/XML"),
    ("broken.jsonld", ('{"@id": "http://example.org/d",\n  "http://purl.org/dc/terms/title": "x",,\n}'),
     2, None, "not valid JSON-LD"),
    ("broken.nt", ('<http://example.org/d> <http://purl.org/dc/terms/title> "x" .\n'
                   '<http://example.org/d> <http://purl.org/dc/terms/title> "y .\n'), 2, None, "not valid N-Triples"),
    ("plain.json", '{"dctTitle": ["Erasmuspark Plant Species"]}', None, None, "no RDF statements"),
    ("empty.ttl", "", None, None, "no RDF statements"),
    ("latin1.ttl", '<http://example.org/d> <http://purl.org/dc/terms/title> "caf\xe9" .', 1, None,
     "not valid Turtle"),
])
def test_a_file_that_does_not_parse_names_the_file_and_the_place(
        tmp_path: Path, name: str, text: str, line: int | None, column: int | None, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1" if name.startswith("latin1") else "utf-8"))
    ran = run("validate", str(path))
    assert ran.code == ExitCode.USAGE, ran.output
    assert "Traceback" not in ran.output
    [error] = [line_ for line_ in ran.stderr.splitlines() if line_.startswith("error: ")]
    place = f"{path}" + (f":{line}" if line else "") + (f":{column}" if column else "")
    assert error.startswith(f"error: {place}:"), error
    assert reason in error
    _, result = run_json(str(path))
    found = result["documents"][0]["error"]
    assert found["line"] == line and (column is None or found["column"] == column)


def test_a_remote_json_ld_context_is_refused_without_touching_the_network(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        asked.append(args)
        raise OSError("the network was asked for")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    node = {"@id": "http://example.org/d", "@type": "dcat:Dataset", "title": "x"}
    documents = {
        "remote.jsonld": {"@context": "https://example.org/context.jsonld", **node},
        "list.jsonld": {"@context": [{"dcat": "http://www.w3.org/ns/dcat#"}, "https://example.org/more.jsonld"],
                        **node},
        "import.jsonld": {"@context": {"@version": 1.1, "@import": "https://example.org/imported.jsonld"}, **node},
        "scoped.jsonld": {"@context": {"dcat": "http://www.w3.org/ns/dcat#",
                                       "distribution": {"@id": "dcat:distribution",
                                                        "@context": "https://example.org/scoped.jsonld"}},
                          **node},
        "nested.jsonld": {"@graph": [{"@context": "https://example.org/nested.jsonld", **node}]},
    }
    for name, document in documents.items():
        path = tmp_path / name
        path.write_text(json.dumps(document), encoding="utf-8")
        ran = run("validate", str(path))
        assert ran.code == ExitCode.USAGE, (name, ran.output)
        assert f"error: {path}: " in ran.stderr and "https://example.org/" in ran.stderr
        assert "not fetched (offline)" in ran.stderr
    assert asked == []


def test_an_embedded_json_ld_context_is_read(tmp_path: Path) -> None:
    path = tmp_path / "dataset.jsonld"
    path.write_text(json.dumps({
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@id": "http://example.org/d", "@type": "dcat:Dataset", "dct:description": {"@value": "x", "@language": "nl"},
    }), encoding="utf-8")
    ran, result = run_json(str(path))
    assert ran.code == ExitCode.DATASETS
    [doc] = result["documents"]
    assert doc["format"] == "json-ld" and doc["counts"]["triples"] == 2
    assert any(f["focus_node"] == "http://example.org/d" and f["path"] == TITLE for f in doc["findings"])


def test_findings_about_the_background_are_not_the_documents(tmp_path: Path) -> None:
    """A document that only points at a value-list term is not blamed for that term."""
    graph = Graph()
    dataset = URIRef("http://example.org/d")
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCAT.theme, URIRef("http://publications.europa.eu/resource/authority/data-theme/EDUC")))
    graph.add((dataset, DCTERMS.title, Literal("x", lang="nl")))
    path = tmp_path / "dataset.ttl"
    graph.serialize(path, format="turtle")
    _, result = run_json(str(path))
    assert {f["focus_node"] for f in result["documents"][0]["findings"]} == {str(dataset)}


def test_a_document_of_no_class_the_shapes_know_is_judged_on_nothing(tmp_path: Path) -> None:
    path = tmp_path / "untyped.ttl"
    path.write_text('<http://example.org/d> <http://purl.org/dc/terms/title> "x" .\n', encoding="utf-8")
    ran = run("validate", str(path))
    assert ran.code == ExitCode.OK and "(Turtle, 1 triples, 0 node(s) judged): voldoet / conforms" in ran.stdout


# --- the command line ------------------------------------------------------------------------------


def test_files_and_the_catalogue_options_do_not_mix(exported: dict[str, Path]) -> None:
    ran = run("validate", "--source", "duo", str(exported["ttl"]))
    assert ran.code == ExitCode.USAGE and "give FILE arguments or --source, not both" in ran.stderr
    ran = run("validate", "--input-format", "turtle")
    assert ran.code == ExitCode.USAGE and "--input-format goes with FILE arguments" in ran.stderr


def test_without_files_it_still_validates_the_harvested_catalogue_and_needs_a_configuration() -> None:
    ran = run("validate")
    assert ran.code == ExitCode.CONFIG and "no configuration file found" in ran.stderr


def test_the_state_store_is_never_touched(exported: dict[str, Path], tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    ran = run("--state", str(state), "validate", str(exported["ttl"]))
    assert ran.code == ExitCode.OK and not state.exists() and not Path(str(state) + ".lock").exists()


# --- the official examples ------------------------------------------------------------------------

EXAMPLE_FOLDERS = ("peers/semic-dcat-ap-3.0.0-examples", "peers/semic-dcat-ap-hvd-3.0.0-examples",
                   "peers/ckanext-dcat/examples/dcat", "peers/dcat-ap-donl-2.0-examples", "donl/aanlever-api")
#: the examples ../shared/reference/SOURCES.md says do not parse, with where they stop (line,
#: column); the DCAT-AP-DONL 2.0 snippets have no prefix declarations at all
UNPARSABLE = {
    "peers/semic-dcat-ap-3.0.0-examples/example-bee-population-dataset-series-api.ttl": (20, 31),
    "peers/semic-dcat-ap-3.0.0-examples/example-bee-population-dataset-series-combined.ttl": (32, 31),
    "peers/semic-dcat-ap-hvd-3.0.0-examples/example-bees_wasps_dataset.ttl": (2, 1),
    "peers/ckanext-dcat/examples/dcat/dataset.ttl": (149, 17),
}
#: its only node is a `dcat:Catalogue`, a class DCAT does not have: nothing to judge
JUDGED_NOTHING = {"peers/semic-dcat-ap-hvd-3.0.0-examples/example-ms_catalogue_simple.ttl"}
#: the aanlever API's examples are plain JSON (no @context): not RDF
NOT_RDF = "donl/aanlever-api/"


def _examples() -> list[str]:
    reference = SHARED / "reference"
    found = sorted(str(p.relative_to(reference)) for folder in EXAMPLE_FOLDERS
                   for p in (reference / folder).glob("*") if p.is_file())
    return found or ["(../shared absent)"]


@pytest.mark.parametrize("example", _examples())
def test_each_official_example(shared_dir: Path, example: str) -> None:
    path = shared_dir / "reference" / example
    ran = run("validate", str(path))
    assert "Traceback" not in ran.output
    if example in UNPARSABLE or example.startswith(("peers/dcat-ap-donl-2.0-examples/", NOT_RDF)):
        assert ran.code == ExitCode.USAGE, ran.output
        place = "{}:{}:{}:".format(path, *UNPARSABLE[example]) if example in UNPARSABLE else f"{path}:"
        assert f"error: {place}" in ran.stderr, ran.stderr
        reason = "no RDF statements" if example.startswith(NOT_RDF) else "not valid"
        assert reason in ran.stderr
        return
    assert ran.code in (ExitCode.OK, ExitCode.DATASETS), ran.output
    ran, result = run_json(str(path))
    [doc] = result["documents"]
    assert doc["error"] is None and ran.code == (ExitCode.OK if doc["conforms"] else ExitCode.DATASETS)
    graph = Graph().parse(path)
    named = {str(s) for s in graph.subjects() if isinstance(s, URIRef)}
    assert doc["counts"]["triples"] == len(graph)
    assert (doc["counts"]["judged"] == 0) == (example in JUDGED_NOTHING)
    for finding in doc["findings"]:  # only the document's own nodes: its IRIs, its blank nodes
        label = doc["nodes"][finding["focus_node"]]["label"]
        assert finding["focus_node"] in named if label.startswith("<") else label.startswith("[]")
