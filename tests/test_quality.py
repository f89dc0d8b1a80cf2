"""The metadata quality score (harvester.report.quality) and the URL checker.

The main test maps one bundled DUO dataset (examples/duo/duo-catalogue.json) with the DUO mapping
options and compares score_dataset with the score worked out by hand from the package's content.
The URL checks run only against a local http.server on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from rdflib import Graph

from harvester.dcat.dataset import map_dataset
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import load_mappings
from harvester.report.quality import (
    FULL_MAX,
    METRICS,
    NOT_CHECKED,
    band_for,
    check_urls,
    dataset_urls,
    score_catalogue,
    score_dataset,
)
from harvester.source.context import SourceContext

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "examples" / "duo" / "duo-catalogue.json"
OFFLINE_CONFIG = REPO / "examples" / "duo-offline.toml"
MAPPER_OPTIONS = REPO / "tests" / "fixtures" / "mapper" / "duo-mapping.toml"
FIXTURES = REPO / "tests" / "fixtures" / "report"
DUO_NAME = "overzicht-erkenningen-ho"


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mappings():
    return load_mappings()


def _duo_options() -> MappingOptions:
    """The [sources.duo.mapping] table of examples/duo-offline.toml (the bundled configuration),
    else the one the mapper tests use."""
    for path in (OFFLINE_CONFIG, MAPPER_OPTIONS):
        if path.exists():
            table = tomllib.loads(path.read_text("utf-8")).get("sources", {}).get("duo", {})
            if table.get("mapping"):
                # the hand computation counts the documentation PDF as a distribution
                mapping = {**table["mapping"], "documentation_as": "distribution"}
                return MappingOptions.from_config(mapping, f"{path} [sources.duo.mapping]")
    raise AssertionError("no [sources.duo.mapping] table found")


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text("utf-8"))


@pytest.fixture(scope="module")
def duo_package(snapshot) -> dict:
    return next(p for p in snapshot["packages"] if p["name"] == DUO_NAME)


@pytest.fixture(scope="module")
def duo_mapped(snapshot, duo_package, mappings):
    context = SourceContext(base_url=snapshot["source_url"])
    context.organizations = {o["name"]: o for o in snapshot.get("organizations") or []}
    context.groups = {g["name"]: g for g in snapshot.get("groups") or []}
    context.licenses = {lic["id"]: lic for lic in snapshot.get("licenses") or []}
    return map_dataset(duo_package, context, mappings, _duo_options())


def _graph(name: str) -> Graph:
    return Graph().parse(FIXTURES / name, format="turtle")


def _metric(score: dict, name: str) -> dict:
    return score["dimensions"][METRICS[name][0]]["metrics"][name]


# --- the DUO dataset, by hand -------------------------------------------------------------------


def test_duo_package_is_what_the_hand_computation_assumes(duo_package):
    """The facts the hand computation below rests on, read from the raw CKAN package."""
    resources = duo_package["resources"]
    assert [r["format"] for r in resources] == ["CSV", "PDF", "CSV"]
    assert [r["url_type"] for r in resources] == ["upload", "upload", "datastore"]
    assert all(r["url"].startswith("https://onderwijsdata.duo.nl/") for r in resources)
    assert all(r["created"] and r["last_modified"] for r in resources)
    assert all(not r.get("size") and not r.get("rights") for r in resources)
    assert [t["name"] for t in duo_package["tags"]] == ["ho", "rio"]
    assert [g["name"] for g in duo_package["groups"]] == ["hoger-onderwijs"]
    assert duo_package["license_id"] == "cc-by"
    extras = {e["key"] for e in duo_package["extras"]}
    assert not extras & {"spatial_uri", "spatial_text", "spatial", "temporal_start",
                         "temporal_end", "access_rights"}
    assert "spatial_coverage" not in duo_package and "temporal_coverage" not in duo_package
    assert duo_package["organization"]["name"] == "duo"


def _duo_by_hand(*, conforms: bool, csv_answers: bool | None, pdf_answers: bool | None) -> dict:
    """(points, value) per metric for overzicht-erkenningen-ho, reasoned from its content.

    csv_answers / pdf_answers: whether the two CSV / the PDF resource URLs answer; None: the URLs
    were not checked. Each resource's URL is both its access and its download URL (uploads and
    a DataStore dump are files).
    """
    n = 3  # resources: HO_Erkenningen_RIO (CSV), Toelichting (PDF), controlebestand (CSV)
    hand: dict[str, tuple[float, object]] = {
        # findability
        "keywords": (30, True),           # tags "ho" and "rio"
        "themes": (30, True),             # group hoger-onderwijs -> EU EDUC + OWMS theme
        "spatial": (0, False),            # no spatial field at all
        "temporal": (0, False),           # no temporal field at all
        # accessibility: all three resources have a URL that is a file -> dcat:downloadURL
        "download_url": (20, 3 / 3),
        # interoperability
        "format": (20, 3 / 3),            # CSV, PDF, CSV are all in formats.csv
        "media_type": (10, 3 / 3),        # text/csv, application/pdf, text/csv (IANA)
        "format_vocabulary": (10, 3 / 3),  # EU file types + IANA media types of formats.csv
        "non_proprietary": (20, 3 / 3),   # CSV yes, PDF yes (ISO 32000)
        "machine_readable": (20 * 2 / 3, 2 / 3),  # CSV yes, PDF no: 2 of 3
        "dcat_ap_compliance": (30 if conforms else 0, conforms),
        # reusability
        "licence": (20, 3 / 3),           # package licence cc-by on every distribution
        "known_licence": (10, 3 / 3),     # cc-by -> EU CC_BY_4_0 in licences.csv
        "access_rights": (10, True),      # access_rights = "public" (mapping default)
        "access_rights_vocabulary": (5, True),  # -> EU access-right PUBLIC
        "contact_point": (20, True),      # contact_email of the mapping options
        "publisher": (10, True),          # organisation duo -> OWMS DUO
        # contextuality
        "rights": (0, 0.0),               # no resource has rights
        "byte_size": (0, 0.0),            # every size is null
        "issued": (5, 3 / 3),             # every resource has created
        "modified": (5, 3 / 3),           # every resource has last_modified
    }
    if csv_answers is None:
        hand["access_url_answers"] = (0, NOT_CHECKED)
        hand["download_url_answers"] = (0, NOT_CHECKED)
    else:
        answering = 2 * bool(csv_answers) + bool(pdf_answers)
        hand["access_url_answers"] = (50 * answering / n, answering / n)
        hand["download_url_answers"] = (30 * answering / n, answering / n)
    return hand


def _check_against_hand(score: dict, hand: dict) -> None:
    assert set(hand) == set(METRICS)
    for name, (points, value) in hand.items():
        got = _metric(score, name)
        assert got["points"] == pytest.approx(points, abs=0.005), name
        if isinstance(value, bool) or value == NOT_CHECKED:
            assert got["value"] == value, name
        else:
            assert got["value"] == pytest.approx(value, abs=0.0001), name
    for dimension, dim in score["dimensions"].items():
        expected = sum(hand[m][0] for m in dim["metrics"])
        assert dim["points"] == pytest.approx(expected, abs=0.01), dimension


def test_duo_dataset_score_urls_not_checked(duo_mapped, mappings):
    score = score_dataset(duo_mapped.graph, duo_mapped.uri, conforms=True, mappings=mappings)
    hand = _duo_by_hand(conforms=True, csv_answers=None, pdf_answers=None)
    _check_against_hand(score, hand)
    # 60 findability + 20 accessibility (download URLs present) + 103.33 interoperability
    # + 75 reusability + 10 contextuality = 268.33, out of 405 - 50 - 30 = 325
    assert sum(p for p, _ in hand.values()) == pytest.approx(268.333, abs=0.001)
    assert score["total"] == 268
    assert score["max"] == 325 and score["full_max"] == FULL_MAX
    assert score["urls_checked"] is False
    assert score["scaled_total"] == round(268.3333 * 405 / 325) == 334
    assert score["band"] == "Good" and score["band_nl"] == "Goed"
    assert score["distributions"] == 3
    assert score["dimensions"]["accessibility"]["max"] == 20
    for name in ("access_url_answers", "download_url_answers"):
        assert _metric(score, name)["checked"] is False


def test_a_shared_score_is_one_object_and_a_default_score_a_copy_of_its_own(duo_mapped, mappings):
    def score(**extra):
        return score_dataset(duo_mapped.graph, duo_mapped.uri, conforms=True, mappings=mappings, **extra)

    shared = score(shared=True)
    assert score(shared=True) is shared
    own = score()
    assert own == shared and own is not shared
    own["dimensions"]["findability"]["metrics"]["keywords"]["points"] = -1.0
    own["dimensions"]["reusability"]["points"] = -1.0
    assert score(shared=True) == score() != own


def test_what_the_tables_say_of_a_format_is_remembered_per_set_of_tables():
    """score_dataset remembers what the formats and licences tables say of a distribution's
    format, media type and licence; other tables (even asking in between) get their own answers."""
    from dataclasses import dataclass

    from rdflib import Literal, URIRef

    from harvester.dcat.rdf import DCAT, DCT, RDF
    from harvester.dcat.tables import FileFormat

    @dataclass
    class Tables:
        open_format: bool

        def file_format(self, value: str):
            return FileFormat(value, None, "CSV", True, True) if self.open_format else None

        def licence(self, value: str):
            return object() if self.open_format else None

        def access_rights(self, value: str):
            return None

    csv = URIRef("http://publications.europa.eu/resource/authority/file-type/CSV")
    g = Graph()
    ds, dist = URIRef("https://example.org/ds"), URIRef("https://example.org/ds/d1")
    for triple in ((ds, RDF.type, DCAT.Dataset), (ds, DCAT.distribution, dist), (dist, DCT.format, csv),
                   (dist, DCT.license, URIRef("https://example.org/licence")),
                   (dist, DCT.title, Literal("d"))):
        g.add(triple)
    known, unknown = Tables(True), Tables(False)
    for tables, expected in ((known, 1.0), (unknown, 0.0), (known, 1.0), (Tables(False), 0.0)):
        score = score_dataset(g, str(ds), conforms=True, mappings=tables)
        for name in ("format_vocabulary", "non_proprietary", "machine_readable", "known_licence"):
            assert _metric(score, name)["value"] == expected, (tables, name)


def test_duo_dataset_score_urls_checked(duo_mapped, mappings):
    urls = dataset_urls(duo_mapped.graph, duo_mapped.uri)
    assert len(urls) == 3  # access URL == download URL for each of the three resources
    pdf = next(u for u in urls if u.endswith(".pdf"))
    status = {u: 200 for u in urls}
    score = score_dataset(duo_mapped.graph, duo_mapped.uri, conforms=True, mappings=mappings,
                          url_status=status)
    _check_against_hand(score, _duo_by_hand(conforms=True, csv_answers=True, pdf_answers=True))
    assert (score["total"], score["max"], score["band"]) == (348, 405, "Good")  # 348.33

    status[pdf] = 404
    score = score_dataset(duo_mapped.graph, duo_mapped.uri, conforms=False, mappings=mappings,
                          url_status=status)
    hand = _duo_by_hand(conforms=False, csv_answers=True, pdf_answers=False)
    _check_against_hand(score, hand)
    # 348.33 - 50/3 - 30/3 (the PDF does not answer) - 30 (does not conform) = 291.67
    assert score["total"] == 292 and score["band"] == "Good"


# --- rules --------------------------------------------------------------------------------------


def test_bands():
    assert [band_for(t) for t in (0, 120, 121, 220, 221, 350, 351, 405)] == [
        "Bad", "Bad", "Sufficient", "Sufficient", "Good", "Good", "Excellent", "Excellent"]


def test_complete_dataset_is_excellent_checked_or_not(mappings):
    g = _graph("complete-dataset.ttl")
    uri = "https://data.example.org/dataset/complete"
    unchecked = score_dataset(g, uri, conforms=True, mappings=mappings)
    assert (unchecked["total"], unchecked["max"], unchecked["scaled_total"]) == (325, 325, 405)
    assert unchecked["band"] == "Excellent"
    checked = score_dataset(g, uri, conforms=True, mappings=mappings,
                            url_status={u: 200 for u in dataset_urls(g, uri)})
    assert (checked["total"], checked["max"], checked["band"]) == (405, 405, "Excellent")
    for dim in checked["dimensions"].values():
        assert dim["points"] == dim["max"]


def test_mixed_distributions_score_their_share(mappings):
    g = _graph("mixed-dataset.ttl")
    uri = "https://data.example.org/dataset/mixed"
    status = {"http://files.example.org/mixed-1.csv": 200,
              "http://files.example.org/mixed-2-page": 404,
              "http://files.example.org/mixed-3.foo": None,
              "http://files.example.org/mixed-4": 503}
    score = score_dataset(g, uri, conforms=False, mappings=mappings, url_status=status)
    expected = {  # (points, count of 4) - see the fixture's comment for the four distributions
        "access_url_answers": (12.5, 1), "download_url": (10, 2), "download_url_answers": (7.5, 1),
        "format": (15, 3), "media_type": (5, 2), "format_vocabulary": (5, 2),
        "non_proprietary": (5, 1), "machine_readable": (10, 2), "licence": (15, 3),
        "known_licence": (5, 2), "rights": (0, 0), "byte_size": (1.25, 1), "issued": (1.25, 1),
        "modified": (2.5, 2),
    }
    for name, (points, count) in expected.items():
        metric = _metric(score, name)
        assert (metric["points"], metric["count"], metric["of"]) == (points, count, 4), name
    dataset_level = {"keywords": False, "themes": True, "spatial": False, "temporal": False,
                     "dcat_ap_compliance": False, "access_rights": True,
                     "access_rights_vocabulary": False, "contact_point": False, "publisher": True}
    for name, value in dataset_level.items():
        assert _metric(score, name)["value"] is value, name
    # 30 + 30 + 40 + 40 + 5
    assert score["total"] == 145 and score["band"] == "Sufficient" and score["max"] == 405


def test_url_status_given_but_url_missing_counts_as_unreachable(mappings):
    g = _graph("complete-dataset.ttl")
    score = score_dataset(g, "https://data.example.org/dataset/complete", conforms=True,
                          mappings=mappings, url_status={})
    for name in ("access_url_answers", "download_url_answers"):
        assert _metric(score, name)["value"] == 0.0 and _metric(score, name)["checked"] is True
    assert (score["total"], score["max"]) == (325, 405)
    assert score["band"] == "Good"  # not rescaled: the URLs were checked and did not answer


def test_dataset_without_distributions(mappings):
    g = Graph().parse(data="""
        @prefix dcat: <http://www.w3.org/ns/dcat#> .
        <https://data.example.org/dataset/empty> a dcat:Dataset ;
            dcat:keyword "x" .
    """, format="turtle")
    score = score_dataset(g, "https://data.example.org/dataset/empty", conforms=False,
                          mappings=mappings)
    assert score["distributions"] == 0
    for name, (_dim, _points, level, needs_url, _nl, _en) in METRICS.items():
        if level == "distribution" and not needs_url:
            assert _metric(score, name)["points"] == 0 and _metric(score, name)["of"] == 0
    assert score["total"] == 30 and score["band"] == "Bad"


def test_catalogue_is_the_mean(mappings):
    complete = _graph("complete-dataset.ttl")
    mixed = _graph("mixed-dataset.ttl")
    a = score_dataset(complete, "https://data.example.org/dataset/complete", conforms=True,
                      mappings=mappings)                               # 325 of 325
    b = score_dataset(mixed, "https://data.example.org/dataset/mixed", conforms=False,
                      mappings=mappings)                               # 125 of 325
    assert b["total"] == 125
    cat = score_catalogue([a, b])
    assert cat["datasets"] == 2 and cat["total"] == 225 and cat["max"] == 325
    assert cat["scaled_total"] == round(225 * 405 / 325) == 280 and cat["band"] == "Good"
    # b: 125 of 325 is 156 on the 405 scale: Sufficient
    assert cat["bands"] == {"Excellent": 1, "Good": 0, "Sufficient": 1, "Bad": 0}
    assert cat["dimensions"]["findability"]["points"] == (100 + 30) / 2
    assert _metric(cat, "keywords")["value"] == 0.5
    assert _metric(cat, "format")["value"] == pytest.approx((1 + 0.75) / 2)
    assert _metric(cat, "access_url_answers")["value"] == NOT_CHECKED

    # one dataset with checked URLs: URL metrics are means over the checked datasets only
    c = score_dataset(complete, "https://data.example.org/dataset/complete", conforms=True,
                      mappings=mappings, url_status={u: 200 for u in dataset_urls(
                          complete, "https://data.example.org/dataset/complete")})
    mixed_cat = score_catalogue([b, c])
    url_metric = _metric(mixed_cat, "access_url_answers")
    assert url_metric["datasets_checked"] == 1 and url_metric["points"] == 50
    assert mixed_cat["total"] == round((125 + 405) / 2) and mixed_cat["max"] == 365

    empty = score_catalogue([])
    assert empty["datasets"] == 0 and empty["band"] is None


# --- check_urls against a local server ----------------------------------------------------------


#: how long /slow takes to answer (s): far longer than the timeout its test sets
SLOW_ANSWER = 4.0


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str]]] = []
    active: ClassVar[int] = 0
    peak: ClassVar[int] = 0
    flaky_calls: ClassVar[int] = 0
    lock: ClassVar[threading.Lock] = threading.Lock()

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _respond(self, method: str) -> None:
        cls = type(self)
        path = self.path.split("?", 1)[0]
        with cls.lock:
            cls.seen.append((method, self.path))
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        try:
            if path == "/slow":
                time.sleep(SLOW_ANSWER)
                status = 200
            elif path == "/busy":
                time.sleep(0.15)
                status = 200
            elif path == "/ok":
                status = 200
            elif path == "/missing":
                status = 404
            elif path == "/nohead":
                status = 405 if method == "HEAD" else 200
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            elif path == "/flaky":
                with cls.lock:
                    cls.flaky_calls += 1
                    status = 503 if cls.flaky_calls <= 2 else 200  # HEAD+GET fail, then OK
            else:
                status = 500
            body = b"a,b\n1,2\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if method == "GET":
                try:
                    self.wfile.write(body)
                except OSError:
                    pass
        finally:
            with cls.lock:
                cls.active -= 1

    def do_HEAD(self) -> None:
        self._respond("HEAD")

    def do_GET(self) -> None:
        self._respond("GET")


@pytest.fixture()
def server(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    _Handler.seen, _Handler.active, _Handler.peak, _Handler.flaky_calls = [], 0, 0, 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_check_urls_statuses(server):
    refused = f"http://127.0.0.1:{_closed_port()}/nothing"
    urls = [f"{server}/ok", f"{server}/missing", f"{server}/nohead", f"{server}/redirect",
            f"{server}/flaky", refused, "not a url", "ftp://127.0.0.1/file.csv", f"{server}/ok"]
    result = check_urls(urls, timeout=5, attempts=2)
    assert result == {
        f"{server}/ok": 200,
        f"{server}/missing": 404,
        f"{server}/nohead": 200,
        f"{server}/redirect": 200,
        f"{server}/flaky": 200,
        refused: None,
        "not a url": None,
        "ftp://127.0.0.1/file.csv": None,
    }
    nohead = [method for method, path in _Handler.seen if path == "/nohead"]
    assert nohead == ["HEAD", "GET"]  # HEAD answered 405, so a GET followed
    ok = [method for method, path in _Handler.seen if path == "/ok"]
    assert set(ok) == {"HEAD"}  # a HEAD that answers needs no GET (also after the redirect)
    assert _Handler.flaky_calls == 3  # HEAD 503, GET 503, then a second attempt's HEAD 200


def test_check_urls_timeout(server):
    started = time.monotonic()
    result = check_urls([f"{server}/slow"], timeout=0.3, attempts=1)
    elapsed = time.monotonic() - started
    assert result == {f"{server}/slow": None}
    # HEAD and GET each gave up after 0.3 s: had either waited for the answer, it would have
    # taken SLOW_ANSWER at least
    assert elapsed < SLOW_ANSWER - 0.5


def test_check_urls_bounded_concurrency(server):
    urls = [f"{server}/busy?n={i}" for i in range(8)]
    result = check_urls(urls, concurrency=2, timeout=5)
    assert set(result.values()) == {200}
    assert 1 <= _Handler.peak <= 2


def test_check_urls_never_raises_and_handles_nothing():
    assert check_urls([]) == {}
    assert check_urls(["http://[::1", "http:///x", "https://exa mple.org/x"], timeout=1) == {
        "http://[::1": None, "http:///x": None, "https://exa mple.org/x": None}
