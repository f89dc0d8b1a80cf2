"""Metadata quality score per dataset and for the catalogue, after data.europa.eu's MQA.

    score = score_dataset(mapped.graph, mapped.uri, conforms=report.conforms, mappings=mappings,
                          url_status=check_urls(dataset_urls(mapped.graph, mapped.uri)))
    overall = score_catalogue([score, ...])   # or CatalogueScore().add(score) per dataset

Size: over the project's ~600 lines, because the point table, a dataset's score, the
catalogue's (made from sums as the scores come, so a run report keeps no dataset's score) and
the URL checks the scores read are one method, read and changed together.

The point table is the public Metadata Quality Assessment (MQA) methodology of data.europa.eu
(405 points over five dimensions; bands Excellent 351-405, Good 221-350, Sufficient 121-220,
Bad 0-120):

==================  ==========================================================  ======  =====
dimension           metric                                                      points  on
==================  ==========================================================  ======  =====
findability         keywords (dcat:keyword)                                         30  ds
                    themes (dcat:theme)                                             30  ds
                    spatial (dct:spatial)                                           20  ds
                    temporal (dct:temporal)                                         20  ds
accessibility       access URL answers (dcat:accessURL, HTTP 2xx/3xx)               50  dist
                    download URL present (dcat:downloadURL)                         20  dist
                    download URL answers (HTTP 2xx/3xx)                             30  dist
interoperability    format (dct:format)                                             20  dist
                    media type (dcat:mediaType)                                     10  dist
                    format / media type from the vocabularies                       10  dist
                    non-proprietary format                                          20  dist
                    machine-readable format                                         20  dist
                    DCAT-AP(-NL) compliance (the SHACL validation conforms)         30  ds
reusability         licence (dct:license)                                           20  dist
                    known licence (in the licences vocabulary)                      10  dist
                    access rights (dct:accessRights)                                10  ds
                    access rights from the vocabulary                                5  ds
                    contact point (dcat:contactPoint)                               20  ds
                    publisher (dct:publisher)                                       10  ds
contextuality       rights (dct:rights)                                              5  dist
                    byte size (dcat:byteSize)                                        5  dist
                    date issued (dct:issued)                                         5  dist
                    date modified (dct:modified)                                     5  dist
==================  ==========================================================  ======  =====

Rules chosen here (each is visible in the score's `value`):

* Dataset-level metrics ("ds") score all or nothing: `value` is true or false.
* Distribution-level metrics ("dist") score the *share* of the dataset's distributions that
  meet them, times the points: 2 of 3 distributions machine-readable gives 2/3 x 20 = 13.33.
  `value` is that share (0.0-1.0) and `count`/`of` say "2 of 3". A dataset without
  distributions gets 0 for every distribution-level metric. The MQA computes these indicators
  on the distributions; scoring the share (not "any distribution" or "all distributions") keeps
  a dataset with one good and nine bad distributions from scoring as if all were good.
* "From the vocabularies" means a value the project's mapping tables (mappings/*.csv) map to:
  an EU file type or IANA media type of formats.csv, a licence of licences.csv, an access
  right of access_rights.csv. Non-proprietary and machine-readable come from the formats
  table's columns for the distribution's dct:format (else its dcat:mediaType).
* A URL "answers" when it gives HTTP 200-399 (redirects followed) to a HEAD, or to the GET
  tried when the HEAD fails (see `check_urls`).
* URLs not checked (`url_status=None`): the three URL-answer metrics have `value`
  "not checked", `checked` false and 0 points, and they are left out of the maximum: the
  dataset is scored out of 325 (405 - 50 - 30) instead of 405, never as if the URLs failed.
  `urls_checked` is false, `max` is 325, `full_max` stays 405, and the band is taken from the
  total scaled to 405 (`scaled_total` = total x 405 / max), so bands mean the same with and
  without URL checks. With `url_status` given, a URL missing from it counts as unreachable:
  pass every URL of `dataset_urls()` to `check_urls`.
* Points are kept exactly while adding up; metric and dimension points are shown rounded to two
  decimals and `total` is the exact sum rounded to a whole number.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
from rdflib import Graph, URIRef

from harvester.dcat.tables import lookup as _lookup
from harvester.dcat.terms import term
from harvester.version import __version__

log = logging.getLogger(__name__)

__all__ = [
    "BANDS",
    "DIMENSIONS",
    "FULL_MAX",
    "METRICS",
    "NOT_CHECKED",
    "band_for",
    "check_urls",
    "dataset_urls",
    "score_catalogue",
    "score_dataset",
]

_DCAT = "http://www.w3.org/ns/dcat#"
_DCT = "http://purl.org/dc/terms/"
DCAT_DISTRIBUTION = term(_DCAT + "distribution")
DCAT_KEYWORD = term(_DCAT + "keyword")
DCAT_THEME = term(_DCAT + "theme")
DCAT_ACCESS_URL = term(_DCAT + "accessURL")
DCAT_DOWNLOAD_URL = term(_DCAT + "downloadURL")
DCAT_MEDIA_TYPE = term(_DCAT + "mediaType")
DCAT_BYTE_SIZE = term(_DCAT + "byteSize")
DCAT_CONTACT_POINT = term(_DCAT + "contactPoint")
DCT_SPATIAL = term(_DCT + "spatial")
DCT_TEMPORAL = term(_DCT + "temporal")
DCT_FORMAT = term(_DCT + "format")
DCT_LICENSE = term(_DCT + "license")
DCT_ACCESS_RIGHTS = term(_DCT + "accessRights")
DCT_PUBLISHER = term(_DCT + "publisher")
DCT_RIGHTS = term(_DCT + "rights")
DCT_ISSUED = term(_DCT + "issued")
DCT_MODIFIED = term(_DCT + "modified")

#: The value of a URL-answer metric whose URLs were not checked.
NOT_CHECKED = "not checked"
FULL_MAX = 405

#: (band, lowest total) from best to worst; a total belongs to the first band it reaches.
BANDS: tuple[tuple[str, int], ...] = (("Excellent", 351), ("Good", 221), ("Sufficient", 121),
                                      ("Bad", 0))
BAND_LABELS_NL = {"Excellent": "Uitstekend", "Good": "Goed", "Sufficient": "Voldoende",
                  "Bad": "Onvoldoende"}

#: dimension -> (Dutch label, English label)
DIMENSIONS: dict[str, tuple[str, str]] = {
    "findability": ("Vindbaarheid", "Findability"),
    "accessibility": ("Toegankelijkheid", "Accessibility"),
    "interoperability": ("Interoperabiliteit", "Interoperability"),
    "reusability": ("Herbruikbaarheid", "Reusability"),
    "contextuality": ("Context", "Contextuality"),
}

#: metric -> (dimension, points, level "dataset"|"distribution", needs a URL check, nl, en)
METRICS: dict[str, tuple[str, int, str, bool, str, str]] = {
    "keywords": ("findability", 30, "dataset", False, "Trefwoorden", "Keywords"),
    "themes": ("findability", 30, "dataset", False, "Thema's", "Themes"),
    "spatial": ("findability", 20, "dataset", False, "Ruimtelijke dekking", "Spatial coverage"),
    "temporal": ("findability", 20, "dataset", False, "Tijdsdekking", "Temporal coverage"),
    "access_url_answers": ("accessibility", 50, "distribution", True, "Toegangs-URL bereikbaar",
                           "Access URL answers"),
    "download_url": ("accessibility", 20, "distribution", False, "Download-URL aanwezig",
                     "Download URL present"),
    "download_url_answers": ("accessibility", 30, "distribution", True,
                             "Download-URL bereikbaar", "Download URL answers"),
    "format": ("interoperability", 20, "distribution", False, "Bestandsformaat", "Format"),
    "media_type": ("interoperability", 10, "distribution", False, "Mediatype", "Media type"),
    "format_vocabulary": ("interoperability", 10, "distribution", False,
                          "Formaat/mediatype uit vocabulaire",
                          "Format/media type from the vocabularies"),
    "non_proprietary": ("interoperability", 20, "distribution", False, "Open formaat",
                        "Non-proprietary format"),
    "machine_readable": ("interoperability", 20, "distribution", False, "Machineleesbaar",
                         "Machine-readable format"),
    "dcat_ap_compliance": ("interoperability", 30, "dataset", False, "DCAT-AP-NL-conform",
                           "DCAT-AP compliance"),
    "licence": ("reusability", 20, "distribution", False, "Licentie", "Licence"),
    "known_licence": ("reusability", 10, "distribution", False, "Bekende licentie",
                      "Known licence"),
    "access_rights": ("reusability", 10, "dataset", False, "Toegangsrechten", "Access rights"),
    "access_rights_vocabulary": ("reusability", 5, "dataset", False,
                                 "Toegangsrechten uit vocabulaire",
                                 "Access rights from the vocabulary"),
    "contact_point": ("reusability", 20, "dataset", False, "Contactpunt", "Contact point"),
    "publisher": ("reusability", 10, "dataset", False, "Uitgever", "Publisher"),
    "rights": ("contextuality", 5, "distribution", False, "Rechten", "Rights"),
    "byte_size": ("contextuality", 5, "distribution", False, "Bestandsgrootte", "Byte size"),
    "issued": ("contextuality", 5, "distribution", False, "Uitgiftedatum", "Date issued"),
    "modified": ("contextuality", 5, "distribution", False, "Wijzigingsdatum", "Date modified"),
}

assert sum(m[1] for m in METRICS.values()) == FULL_MAX
URL_METRICS_MAX = sum(m[1] for m in METRICS.values() if m[3])


def band_for(total: float) -> str:
    """The MQA band of a total on the 405-point scale."""
    for name, lowest in BANDS:
        if total >= lowest:
            return name
    return BANDS[-1][0]


@lru_cache(maxsize=4096)  # the formats table's few URIs, compared for every distribution
def _norm_uri(value: str) -> str:
    text = value.strip().casefold()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.removeprefix("www.").rstrip("/")


def _is_vocabulary_format(mappings: Any, value: Any, attribute: str) -> bool:
    """Whether `value` is a file type / media type URI the formats table maps to."""
    if not isinstance(value, URIRef):
        return False
    fmt = _lookup(getattr(mappings, "file_format", None), str(value))
    target = getattr(fmt, attribute, None) if fmt is not None else None
    return bool(target) and _norm_uri(str(target)) == _norm_uri(str(value))


def _answers(status: int | None) -> bool:
    return status is not None and 200 <= status < 400


def dataset_urls(graph: Graph, dataset_uri: str) -> list[str]:
    """Every access and download URL of the dataset's distributions (to give `check_urls`)."""
    ds = URIRef(dataset_uri)
    urls: list[str] = []
    for dist in sorted(graph.objects(ds, DCAT_DISTRIBUTION), key=str):
        for prop in (DCAT_ACCESS_URL, DCAT_DOWNLOAD_URL):
            for value in sorted(graph.objects(dist, prop), key=str):
                if str(value) not in urls:
                    urls.append(str(value))
    return urls


def score_dataset(
    graph: Graph,
    dataset_uri: str,
    *,
    conforms: bool,
    mappings: Any,
    url_status: Mapping[str, int | None] | None = None,
    shared: bool = False,
) -> dict[str, Any]:
    """The MQA score of one dataset of a DCAT-AP-NL graph (see the module docstring's rules).

    `conforms` is the SHACL validation's verdict on the dataset; `mappings` the loaded mapping
    tables; `url_status` the status per URL from `check_urls` (None: URLs not checked).
    `graph` may be an rdflib Graph or a harvester.dcat.triples.TripleView (read through its index).
    With `shared`, the score is the one object every dataset with the same outcomes gets: to be
    read (or serialised) only, never changed.
    """
    ds = URIRef(dataset_uri)
    spo = getattr(graph, "spo", None)
    if spo is not None:
        empty: dict = {}

        def values(subject: Any) -> Any:
            return spo.get(subject) or empty
    else:
        def values(subject: Any) -> Any:
            out: dict[Any, dict[Any, None]] = {}
            for p, o in graph.predicate_objects(subject):
                out.setdefault(p, {})[o] = None
            return out

    own = values(ds)
    dists = sorted(own.get(DCAT_DISTRIBUTION, ()), key=str)
    checked = url_status is not None
    status = url_status or {}
    file_format = getattr(mappings, "file_format", None)
    licence_of = getattr(mappings, "licence", None)

    def url_ok(props: Any, prop: URIRef) -> bool:
        return any(_answers(status.get(str(v))) for v in props.get(prop, ()))

    def vocab_format(props: Any) -> bool:
        formats = list(props.get(DCT_FORMAT, ()))
        media = list(props.get(DCAT_MEDIA_TYPE, ()))
        if not formats and not media:
            return False
        return all(_is_vocabulary_format(mappings, f, "file_type") for f in formats) and all(
            _is_vocabulary_format(mappings, m, "media_type") for m in media)

    def format_of(props: Any) -> Any:
        """The formats table's entry for a distribution: by its dct:format, else its media type."""
        for prop in (DCT_FORMAT, DCAT_MEDIA_TYPE):
            for value in sorted(props.get(prop, ()), key=str):
                fmt = _lookup(file_format, str(value))
                if fmt is not None:
                    return fmt
        return None

    def known_licence(props: Any) -> bool:
        return any(_lookup(licence_of, str(v)) is not None
                   for v in props.get(DCT_LICENSE, ()) if isinstance(v, URIRef))

    # what the formats and licences tables say of a distribution's formats, media types and
    # licences: the same few combinations recur in every dataset, so worked out once each
    table_facts = _table_facts(mappings)

    def facts_of(props: Any) -> tuple[bool, bool, bool, bool]:
        key = (tuple(props.get(DCT_FORMAT, ())), tuple(props.get(DCAT_MEDIA_TYPE, ())),
               tuple(props.get(DCT_LICENSE, ())))
        facts = table_facts.get(key)
        if facts is None:
            fmt = format_of(props)
            facts = (vocab_format(props),
                     bool(getattr(fmt, "non_proprietary", False)) if fmt is not None else False,
                     bool(getattr(fmt, "machine_readable", False)) if fmt is not None else False,
                     known_licence(props))
            if len(table_facts) < 4096:
                table_facts[key] = facts
        return facts

    # what every distribution-level metric needs, worked out once per distribution
    passed = dict.fromkeys(_DISTRIBUTION_METRICS, 0)
    for dist in dists:
        props = values(dist)
        vocabulary_format, non_proprietary, machine_readable, known = facts_of(props)
        for metric, ok in (
            ("access_url_answers", checked and url_ok(props, DCAT_ACCESS_URL)),
            ("download_url", bool(props.get(DCAT_DOWNLOAD_URL))),
            ("download_url_answers", checked and url_ok(props, DCAT_DOWNLOAD_URL)),
            ("format", bool(props.get(DCT_FORMAT))),
            ("media_type", bool(props.get(DCAT_MEDIA_TYPE))),
            ("format_vocabulary", vocabulary_format),
            ("non_proprietary", non_proprietary),
            ("machine_readable", machine_readable),
            ("licence", bool(props.get(DCT_LICENSE))),
            ("known_licence", known),
            ("rights", bool(props.get(DCT_RIGHTS))),
            ("byte_size", bool(props.get(DCAT_BYTE_SIZE))),
            ("issued", bool(props.get(DCT_ISSUED))),
            ("modified", bool(props.get(DCT_MODIFIED))),
        ):
            if ok:
                passed[metric] += 1

    rights_values = list(own.get(DCT_ACCESS_RIGHTS, ()))
    dataset_tests: dict[str, bool] = {
        "keywords": bool(own.get(DCAT_KEYWORD)),
        "themes": bool(own.get(DCAT_THEME)),
        "spatial": bool(own.get(DCT_SPATIAL)),
        "temporal": bool(own.get(DCT_TEMPORAL)),
        "dcat_ap_compliance": bool(conforms),
        "access_rights": bool(rights_values),
        "access_rights_vocabulary": bool(rights_values) and all(
            isinstance(v, URIRef)
            and _lookup(getattr(mappings, "access_rights", None), str(v)) is not None
            for v in rights_values),
        "contact_point": bool(own.get(DCAT_CONTACT_POINT)),
        "publisher": bool(own.get(DCT_PUBLISHER)),
    }

    # the score follows from these outcomes alone, and few combinations of them occur
    score = _score(checked, len(dists), tuple(passed.values()), tuple(dataset_tests.items()))
    return score if shared else _copy_score(score)


#: (the mapping tables, facts_of's memo of what they say) for the tables seen last
_TABLE_FACTS: list[Any] = [None, {}]


def _table_facts(mappings: Any) -> dict[tuple, tuple[bool, bool, bool, bool]]:
    """score_dataset's memo for these mapping tables (a new one for other tables)."""
    if _TABLE_FACTS[0] is not mappings:
        _TABLE_FACTS[:] = [mappings, {}]
    return _TABLE_FACTS[1]


@lru_cache(maxsize=1024)
def _score(checked: bool, count: int, passed_counts: tuple[int, ...],
           dataset_tests: tuple[tuple[str, bool], ...]) -> dict[str, Any]:
    """The score of a dataset with `count` distributions of which `passed_counts` (in the order
    of _DISTRIBUTION_METRICS) meet each distribution-level metric, and with these dataset-level
    outcomes. Shared between calls: hand out a `_copy_score` of it."""
    passed = dict(zip(_DISTRIBUTION_METRICS, passed_counts))
    tests = dict(dataset_tests)
    dimensions: dict[str, dict[str, Any]] = {
        name: {"points": 0.0, "max": 0, "metrics": {}} for name in DIMENSIONS
    }
    exact_total = 0.0
    maximum = 0
    for metric, dimension, points, per_dataset, needs_url in _METRIC_ROWS:
        entry: dict[str, Any]
        dim = dimensions[dimension]
        if needs_url and not checked:
            dim["metrics"][metric] = {"points": 0.0, "max": points, "value": NOT_CHECKED,
                                      "checked": False}
            continue
        if per_dataset:
            ok = tests[metric]
            earned = float(points) if ok else 0.0
            entry = {"points": earned, "max": points, "value": ok, "checked": True}
        else:
            done = passed[metric]
            fraction = done / count if count else 0.0
            earned = points * fraction
            entry = {"points": round(earned, 2), "max": points, "value": round(fraction, 4),
                     "checked": True, "count": done, "of": count}
        exact_total += earned
        maximum += points
        dim["points"] += earned
        dim["max"] += points
        dim["metrics"][metric] = entry
    for dim in dimensions.values():
        dim["points"] = round(dim["points"], 2)
    total = round(exact_total)
    scaled = round(exact_total * FULL_MAX / maximum) if maximum else 0
    band = band_for(scaled)
    return {
        "total": total,
        "max": maximum,
        "full_max": FULL_MAX,
        "scaled_total": scaled,
        "band": band,
        "band_nl": BAND_LABELS_NL[band],
        "urls_checked": checked,
        "distributions": count,
        "dimensions": dimensions,
    }


def _copy_score(score: dict[str, Any]) -> dict[str, Any]:
    """A copy of a score whose dicts (dimensions, metrics) are its own."""
    return {**score, "dimensions": {
        name: {**dimension, "metrics": {metric: dict(entry)
                                        for metric, entry in dimension["metrics"].items()}}
        for name, dimension in score["dimensions"].items()}}


_DISTRIBUTION_METRICS = tuple(m for m, spec in METRICS.items() if spec[2] == "distribution")
#: (metric, dimension, points, dataset-level, needs a URL check) in METRICS order
_METRIC_ROWS = tuple((metric, dimension, points, level == "dataset", needs_url)
                     for metric, (dimension, points, level, needs_url, _nl, _en) in METRICS.items())


def score_catalogue(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """The catalogue's score: the mean over its datasets' scores.

    The total, maximum and each dimension are means over every dataset; a metric's points and
    value are means over the datasets where it was checked (`datasets_checked`), so URL metrics
    of datasets whose URLs were not checked neither lower nor raise the mean. The band is that
    of the mean total scaled to 405 points. (CatalogueScore makes it one dataset at a time.)
    """
    catalogue = CatalogueScore()
    for score in scores:
        catalogue.add(score)
    return catalogue.result()


class CatalogueScore:
    """`score_catalogue` made as the datasets' scores come, keeping sums, not the scores."""

    def __init__(self) -> None:
        self.count = 0
        self.exact: float = 0
        self.maximum: float = 0
        self.urls_checked = True
        self.bands: dict[str, int] = {name: 0 for name, _ in BANDS}
        self.dimensions = {dimension: [0, 0] for dimension in DIMENSIONS}  # points, max
        #: (dimension, metric) -> [datasets where checked, points, value]
        self.metrics = {(dimension, metric): [0, 0, 0] for metric, dimension, *_ in _METRIC_ROWS}

    def add(self, score: dict[str, Any] | None) -> None:
        """Count one dataset's score in (an empty one is not counted)."""
        if not score:
            return
        self.count += 1
        dimensions = score["dimensions"]
        self.exact += sum(float(d["points"]) for d in dimensions.values())
        self.maximum += float(score["max"])
        self.urls_checked = self.urls_checked and bool(score.get("urls_checked"))
        if score.get("band") in self.bands:
            self.bands[score["band"]] += 1
        for dimension, sums in self.dimensions.items():
            sums[0] += float(dimensions[dimension]["points"])
            sums[1] += float(dimensions[dimension]["max"])
        for dimension, dim in dimensions.items():
            for metric, entry in (dim.get("metrics") or {}).items():
                sums = self.metrics.get((dimension, metric))
                if sums is not None and entry.get("checked", True):
                    sums[0] += 1
                    sums[1] += float(entry["points"])
                    sums[2] += _numeric(entry.get("value"))

    def result(self) -> dict[str, Any]:
        """The catalogue's score (score_catalogue's form)."""
        n = self.count
        exact, maximum = (self.exact / n, self.maximum / n) if n else (0.0, float(FULL_MAX))
        scaled = round(exact * FULL_MAX / maximum) if maximum else 0
        band = band_for(scaled) if n else None
        return {
            "datasets": n,
            "total": round(exact),
            "max": _whole(maximum),
            "full_max": FULL_MAX,
            "scaled_total": scaled,
            "band": band,
            "band_nl": BAND_LABELS_NL[band] if band else None,
            "urls_checked": bool(n) and self.urls_checked,
            "bands": dict(self.bands),
            "dimensions": {dimension: self._dimension(dimension) for dimension in DIMENSIONS},
        }

    def _dimension(self, dimension: str) -> dict[str, Any]:
        """One dimension of the catalogue's score: its mean points and maximum, and its metrics."""
        n = self.count
        points, maximum = self.dimensions[dimension]
        return {
            "points": round(points / n, 2) if n else 0.0,
            "max": _whole(maximum / n) if n else 0,
            "metrics": {metric: self._metric(dimension, metric, most)
                        for metric, dim, most, _per_dataset, _needs_url in _METRIC_ROWS
                        if dim == dimension},
        }

    def _metric(self, dimension: str, metric: str, most: int) -> dict[str, Any]:
        """One metric of the catalogue's score: its mean points and value over the datasets
        where it was checked."""
        done, points, values = self.metrics[(dimension, metric)]
        if not done:
            return {"points": 0.0, "max": most, "value": NOT_CHECKED, "checked": False,
                    "datasets_checked": 0}
        return {
            "points": round(points / done, 2),
            "max": most,
            "value": round(values / done, 4),
            "checked": True,
            "datasets_checked": done,
        }


def _whole(value: float) -> float | int:
    """A mean as an int when it is whole, else rounded to two decimals."""
    value = round(value, 2)
    return int(value) if value == int(value) else value


def _numeric(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    return 0.0


# --- URL checks ---------------------------------------------------------------------------------

_USER_AGENT = f"dcat-ap-nl-harvester/{__version__} (link check)"
_RETRY_PAUSE = 0.5


def check_urls(
    urls: Iterable[str],
    *,
    timeout: float = 10,
    concurrency: int = 8,
    attempts: int = 2,
) -> dict[str, int | None]:
    """The HTTP status of every URL (after redirects), or None when it cannot be reached.

    Each URL gets a HEAD; when the HEAD fails (405, 501 or any other status of 400 and up, or
    no answer at all) a GET follows, whose body is never read. An unreachable URL or a 5xx
    answer is tried again up to `attempts` times in all. At most `concurrency` URLs are checked
    at once, each request waits at most `timeout` seconds for the server. Never raises for a
    bad URL: a URL that is not http(s) or does not parse is None. Sends no credentials.
    """
    unique = list(dict.fromkeys(u for u in urls if isinstance(u, str) and u))
    if not unique:
        return {}
    attempts = max(1, int(attempts))
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()

    def session() -> requests.Session:
        current = getattr(local, "session", None)
        if current is None:
            current = requests.Session()
            current.headers.update({"User-Agent": _USER_AGENT, "Accept": "*/*"})
            local.session = current
            with lock:
                sessions.append(current)
        return current

    def check(url: str) -> int | None:
        try:
            return _check_one(session(), url, timeout, attempts)
        except Exception as exc:  # noqa: BLE001 - a URL check must never fail the run
            log.debug("link check %s: %s", url, exc)
            return None

    workers = max(1, min(int(concurrency), len(unique)))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="linkcheck") as pool:
            results = dict(zip(unique, pool.map(check, unique)))
    finally:
        for item in sessions:
            item.close()
    return results


def _check_one(session: requests.Session, url: str, timeout: float, attempts: int) -> int | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return None
    status: int | None = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(_RETRY_PAUSE * attempt)
        status = _probe(session, url, timeout)
        if status is not None and status < 500:
            return status
    return status


def _probe(session: requests.Session, url: str, timeout: float) -> int | None:
    try:
        response = session.head(url, timeout=timeout, allow_redirects=True)
        response.close()
        if response.status_code < 400:
            return response.status_code
    except requests.RequestException as exc:
        log.debug("HEAD %s: %s", url, exc)
    try:
        response = session.get(url, timeout=timeout, allow_redirects=True, stream=True)
        status = response.status_code
        response.close()
        return status
    except requests.RequestException as exc:
        log.debug("GET %s: %s", url, exc)
        return None
