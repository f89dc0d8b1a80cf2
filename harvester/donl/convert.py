"""Stage 4, the target package: one DCAT-AP-NL 3.0 dataset graph -> a data.overheid.nl package.

data.overheid.nl's CKAN (ckanext-dataoverheid 2.2.2, the DCAT-AP-DONL 1.1 schema) takes flat
package fields (`identifier`, `authority`, `contact_point_name`, `theme`, ...) and resources with
`format`, `media_type`, `download_url`, ... (harvester.donl.rules says which, and what its
validators answer).

    target = to_target(mapped, mappings)            # reads mapped's graph, not the CKAN dict
    body = target.package(name, owner_org, resource_ids)

`to_target` converts what the graph says and never invents a value: a mandatory DONL field the
graph has no value for is left out, so `check_package` reports it ("Missing value"), exactly as
data.overheid.nl would. Conversion choices:

* theme: only OWMS TaxonomieBeleidsagenda URIs are sent (data.overheid.nl refuses EU data-theme
  URIs, case 4c). EU themes are dropped; when no OWMS theme is left, the themes table's OWMS
  themes for the EU themes are used.
* publisher <- dct:publisher; authority <- dct:rightsHolder, else dct:creator. An agent whose URI
  is not in the DONL organisation list is looked up in the organisations table (by URI, then by
  foaf:name) and in the DONL list's labels; when nothing matches its URI is sent as it is (and
  check_package reports it).
* license_id: the dataset's dct:license (the mapper puts the package's licence there, so a
  dataset without distributions has one), else its distributions' licence (the most frequent;
  ties by URI), translated to the DONL licence value (licences table, column donl).
* language/frequency/access_rights: the table's `donl` value for the graph's URI.
* metadata_language: the catalogue record's dct:language, else the language tag that most of the
  dataset's title and description literals carry (the same for every resource); text fields and
  tags are taken in that language.
* dates: `%Y-%m-%dT%H:%M:%S` without zone or fraction. Zoned date-times are converted to UTC; a
  date becomes midnight (a period's end: 23:59:59); xsd:gYear / gYearMonth become the first (end:
  the last) second of that year or month.
* tags: dcat:keyword; characters data.overheid.nl refuses in a tag become spaces (`issues`
  notes every change); keywords shorter than 2 characters are left out, longer than 100 cut.
* spatial_scheme/spatial_value: dct:spatial URIs that are in one of data.overheid.nl's spatial
  value lists (others are left out, with a note). NOTE: ckanext-dataoverheid 2.2.2 answers HTTP
  500 to any package with both fields (validator-behaviour.md cases 3a, 4y); `to_target(...,
  spatial=False)` leaves them out.
* dataset_status: the dataset's adms:status (EU dataset-status), else "beschikbaar" when the
  dataset has a distribution, else left to the target's default.
* resources, one per dcat:Distribution in the source's resource order: url <- dcat:accessURL
  (else the first download URL), name/description <- dct:title/dct:description (the mapper
  describes a resource that has no description of its own, so export and target say the same;
  data.overheid.nl requires one),
  format <- dct:format (EU file type), media_type <- dcat:mediaType (IANA URI), download_url,
  size, release_date/modification_date <- dct:issued/dct:modified, language (else the
  dataset's), license_id, linked_schemas <- dct:conformsTo (not the distribution's own #nodes),
  documentation, hash/hash_algorithm, status, rights.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef

from harvester.dcat.rdf import ADMS, DCAT, DCATAP, DCT, FOAF, OWL, RDFS, SKOS, SPDX, VCARD, Vocab
from harvester.dcat.tables import lookup as _lookup
from harvester.donl.formats import donl_date, is_uri, media_type_uri, tag_of
from harvester.donl.rules import AVAILABLE, SPATIAL_SCHEMES
from harvester.donl.valuelists import ORGANISATIONS, ValueLists, value_lists_for

__all__ = ["TargetDataset", "TargetResource", "to_target"]

EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
TAXONOMY = "Overheid:Taxonomiebeleidsagenda"

#: schema.org, which only the conversion reads (the mapper's namespaces are harvester.dcat.rdf's:
#: their terms are the very instances the mapped triples hold, so lookups are identity hits)
SCHEMA = Vocab("http://schema.org/")

#: EU dataset-status (adms:status on a dataset) -> data.overheid.nl dataset_status
_DATASET_STATUS = {
    "http://publications.europa.eu/resource/authority/dataset-status/COMPLETED": AVAILABLE,
    "http://publications.europa.eu/resource/authority/dataset-status/DEVELOP":
        "http://data.overheid.nl/status/in_onderzoek",
    "http://publications.europa.eu/resource/authority/dataset-status/DEPRECATED":
        "http://data.overheid.nl/status/niet_beschikbaar",
    "http://publications.europa.eu/resource/authority/dataset-status/WITHDRAWN":
        "http://data.overheid.nl/status/niet_beschikbaar",
}
#: data.overheid.nl's spatial value list -> the scheme it belongs to
_SPATIAL_SCHEME_OF = {name: scheme for scheme, (how, name) in SPATIAL_SCHEMES.items()
                      if how == "list"}
#: the order in which a dct:spatial URI is looked for in the spatial lists
_SPATIAL_LOOKUP = ("Overheid:SpatialKoninkrijksdeel", "Overheid:SpatialProvincie",
                   "Overheid:SpatialWaterschap", "Overheid:SpatialGemeente")
#: dataset fields that are links: the predicates read, the first that has any
_DATASET_LINKS: tuple[tuple[str, tuple[URIRef, ...]], ...] = (
    ("documentation", (FOAF.page,)),
    ("conforms_to", (DCT.conformsTo,)),
    ("related_resource", (DCT.relation,)),
    ("source", (DCT.source,)),
    ("has_version", (DCAT.hasVersion, DCT.hasVersion)),
    ("is_version_of", (DCAT.isVersionOf, DCT.isVersionOf)),
    ("sample", (ADMS.sample,)),
    ("provenance", (DCT.provenance,)),
)
#: what counts as no value: a field with it is left out
_BLANK = (None, "", [])


# --- data classes -------------------------------------------------------------------------------


@dataclass
class TargetResource:
    """One dcat:Distribution as a data.overheid.nl resource."""

    distribution_uri: str
    fields: dict[str, Any]


@dataclass
class TargetDataset:
    """One dataset as a data.overheid.nl package, without the target's name and organisation."""

    identifier: str
    source_name: str
    fields: dict[str, Any]
    resources: list[TargetResource]
    #: what the conversion changed or left out, for a person to read (never errors)
    issues: list[str] = field(default_factory=list)

    def package(self, name: str, owner_org: str,
                resource_ids: dict[str, str] | None = None) -> dict[str, Any]:
        """The package_create / package_update body. `resource_ids` (distribution URI -> target
        resource id) keeps the target's resource ids across updates."""
        resource_ids = resource_ids or {}
        body: dict[str, Any] = {"name": name, "owner_org": owner_org, **copy.deepcopy(self.fields)}
        body["resources"] = [self._resource(res, resource_ids.get(res.distribution_uri))
                             for res in self.resources]
        return body

    @staticmethod
    def _resource(resource: TargetResource, resource_id: str | None) -> dict[str, Any]:
        item: dict[str, Any] = {"id": resource_id} if resource_id else {}
        item.update(copy.deepcopy(resource.fields))
        return item


# --- helpers ------------------------------------------------------------------------------------


def _unique(values: Iterable[str]) -> list[str]:
    """The values that are not empty, each once, in their order."""
    return list(dict.fromkeys(value for value in values if value))


def _without_blanks(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v not in _BLANK}


def _donl_value(function: Any, uri: str) -> str:
    """The table's data.overheid.nl value for a URI (its `donl` column), else the URI itself."""
    return getattr(_lookup(function, uri), "donl", None) or uri


def _local_name(predicate: URIRef) -> str:
    return str(predicate).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _positive_int(terms: list[Any]) -> int | None:
    """The first term as a positive integer; None when it is no such number."""
    try:
        number = int(str(terms[0])) if terms else 0
    except ValueError:
        return None
    return number if number > 0 else None


# --- reading the graph --------------------------------------------------------------------------


def _sort_key(term: Any) -> tuple[int, str, str]:
    """URIs first, then literals (by language tag), then blank nodes; each by its text."""
    if isinstance(term, Literal):
        return (1, term.language or "", str(term))
    return (0 if isinstance(term, URIRef) else 2, "", str(term))


class _Reader:
    """Graph reads in a fixed order (sorted), preferring the metadata language `lang` for text.

    `graph` is an rdflib Graph or a harvester.dcat.triples.TripleView."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.lang: str | None = None

    def objects(self, subject: Any, predicate: URIRef) -> list[Any]:
        return sorted(self.graph.objects(subject, predicate), key=_sort_key)

    def uris(self, subject: Any, predicate: URIRef) -> list[str]:
        return [str(o) for o in self.objects(subject, predicate) if isinstance(o, URIRef)]

    def uri(self, subject: Any, predicate: URIRef) -> str | None:
        return next(iter(self.uris(subject, predicate)), None)

    def texts(self, subject: Any, predicate: URIRef) -> list[Literal]:
        """Literals of a property, those in the metadata language (or without one) if any."""
        found = [o for o in self.objects(subject, predicate) if isinstance(o, Literal)]
        return [o for o in found if o.language in (None, self.lang)] or found

    def text(self, subject: Any, predicate: URIRef) -> str | None:
        found = self.texts(subject, predicate)
        return (str(found[0]).strip() if found else "") or None


# --- graph -> package ---------------------------------------------------------------------------


class _Converter:
    """Reads one dataset's graph into package and resource fields, noting what it changed."""

    def __init__(self, mapped: Any, mappings: Any, lists: ValueLists, spatial: bool) -> None:
        self.mapped = mapped
        self.m = mappings
        self.lists = lists
        self.spatial = spatial
        self.issues: list[str] = []
        graph = mapped.triple_view() if hasattr(mapped, "triple_view") else mapped.graph
        self.ds = URIRef(mapped.uri)
        self.r = _Reader(graph)
        self.r.lang = self._text_language()
        self.distributions = self._distributions()

    def _text_language(self) -> str | None:
        """The tag most of the title and description literals carry (translations add other
        tags); a tie goes to "nl", then to the first tag."""
        tags = Counter(t.language for predicate in (DCT.title, DCT.description)
                       for t in self.r.objects(self.ds, predicate)
                       if isinstance(t, Literal) and t.language)
        ranked = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0] != "nl", kv[0]))
        return ranked[0][0] if ranked else None

    def _distributions(self) -> list[URIRef]:
        """The dataset's distributions: in the source's resource order, then the others by URI."""
        found = {str(d): d for d in self.r.objects(self.ds, DCAT.distribution)
                 if isinstance(d, URIRef)}
        ordered = [found.pop(u) for u in (getattr(self.mapped, "distribution_uris", {}) or {})
                   .values() if u in found]
        return ordered + [found[k] for k in sorted(found)]

    def note(self, message: str) -> None:
        if message not in self.issues:
            self.issues.append(message)

    # -- reading helpers ----------------------------------------------------------------------

    def translated(self, table: str, uri: str | None) -> str | None:
        """A URI as the mapping table `table` says data.overheid.nl names it."""
        return _donl_value(getattr(self.m, table, None), uri) if uri else None

    def languages(self, subject: Any) -> list[str]:
        return _unique(self.translated("language", u) for u in self.r.uris(subject, DCT.language))

    def links(self, subject: Any, *predicates: URIRef) -> list[str]:
        """URIs of the first of `predicates` that has any, without the dataset's or `subject`'s
        own hash nodes."""
        for predicate in predicates:
            found = [u for u in self.r.uris(subject, predicate)
                     if not u.startswith(f"{subject}#") and not u.startswith(f"{self.ds}#")
                     and is_uri(u)]
            if found:
                return found
        return []

    def date(self, subject: Any, predicate: URIRef, end: bool = False) -> str | None:
        found = self.r.objects(subject, predicate)
        if not found:
            return None
        value = donl_date(found[0], end=end)
        if value is None:
            self.note(f"{_local_name(predicate)}: {found[0]!s} is not a date; left out")
        return value

    # -- dataset ------------------------------------------------------------------------------

    def dataset(self) -> dict[str, Any]:
        r, ds = self.r, self.ds
        fields = {
            "identifier": self.mapped.identifier or r.text(ds, DCT.identifier),
            "title": r.text(ds, DCT.title),
            "notes": r.text(ds, DCT.description),
            "theme": self.themes(),
            "publisher": self.organisation(r.uri(ds, DCT.publisher), "publisher"),
            "authority": self.organisation(r.uri(ds, DCT.rightsHolder) or r.uri(ds, DCT.creator),
                                           "authority"),
            **self.contact(),
            "metadata_language": self.metadata_language(),
            "language": self.languages(ds),
            "license_id": self.licence(),
            "access_rights": self.translated("access_rights", r.uri(ds, DCT.accessRights)),
            "modified": self.date(ds, DCT.modified),
            "issued": self.date(ds, DCT.issued),
            "frequency": self.translated("frequency", r.uri(ds, DCT.accrualPeriodicity)),
            "url": r.uri(ds, DCAT.landingPage),
            "tags": self.tags(),
            **self.temporal(),
            **(self.places() if self.spatial else {}),
            "dataset_status": self.status(),
            "alternate_identifier": _unique(
                str(n) for node in r.objects(ds, ADMS.identifier)
                for n in r.objects(node, SKOS.notation) if is_uri(str(n))),
            **{key: self.links(ds, *predicates) for key, predicates in _DATASET_LINKS},
            "version": r.text(ds, DCAT.version) or r.text(ds, OWL.versionInfo),
            "version_notes": _unique(str(t) for t in r.texts(ds, ADMS.versionNotes)),
            "high_value": True if r.objects(ds, DCATAP.hvdCategory) else None,
        }
        return _without_blanks(fields)

    def in_taxonomy(self, uri: str) -> bool:
        return self.lists.contains(TAXONOMY, uri)

    def owms_themes(self, uri: str) -> list[str]:
        """The themes table's OWMS themes for a theme URI (those in the taxonomy list)."""
        found = _lookup(getattr(self.m, "theme", None), uri)
        return [t for t in getattr(found, "owms_themes", ()) or () if self.in_taxonomy(t)]

    def themes(self) -> list[str]:
        found = self.r.uris(self.ds, DCAT.theme)
        eu = [t for t in found if t.startswith(EU_THEME)]
        keep: list[str] = []
        for uri in found:
            if uri in eu:
                continue
            # a URI neither in the list nor in the table is not ours to drop: check_package
            # names the list it is not in
            keep.extend([uri] if self.in_taxonomy(uri) else self.owms_themes(uri) or [uri])
        if not any(self.in_taxonomy(t) for t in keep):
            for uri in eu:
                keep.extend(self.owms_themes(uri))
            if keep:
                self.note("theme: no OWMS theme in the graph; the OWMS themes of its EU themes "
                          "are sent")
        if eu:
            self.note("theme: EU data themes are not sent (data.overheid.nl accepts only OWMS "
                      "TaxonomieBeleidsagenda themes)")
        return sorted(set(keep))

    def organisation(self, uri: str | None, what: str) -> str | None:
        if not uri or self.lists.contains(ORGANISATIONS, uri):
            return uri or None
        for candidate in self.organisation_candidates(uri):
            if self.lists.contains(ORGANISATIONS, candidate):
                self.note(f"{what}: {uri} is sent as {candidate} (data.overheid.nl's URI for "
                          "this organisation)")
                return candidate
        return uri

    def organisation_candidates(self, uri: str) -> Iterator[str]:
        """DONL URIs an agent may have: the organisations table's for its URI, then per
        foaf:name the table's and the DONL list's."""
        table = getattr(self.m, "organisation", None)
        labels = self.lists.organisation_labels
        yield from self._table_uri(table, uri)
        for name in (str(n) for n in self.r.texts(URIRef(uri), FOAF.name)):
            yield from self._table_uri(table, name)
            if name.lower() in labels:
                yield labels[name.lower()]

    @staticmethod
    def _table_uri(table: Any, key: str) -> list[str]:
        found = _lookup(table, key)
        return [found.uri] if found is not None and getattr(found, "uri", None) else []

    def contact(self) -> dict[str, Any]:
        r = self.r
        points = r.objects(self.ds, DCAT.contactPoint)
        if not points:
            return {}
        node = points[0]
        emails = [str(e).removeprefix("mailto:") for e in r.objects(node, VCARD.hasEmail)]
        return {
            "contact_point_name": (r.text(node, VCARD.fn)
                                   or r.text(node, VCARD["organization-name"])),
            "contact_point_email": next(iter(emails), None),
            # DCAT-AP-NL allows the web address as text too; the pre-send check judges its form
            "contact_point_website": r.uri(node, VCARD.hasURL) or r.text(node, VCARD.hasURL),
            "contact_point_phone": next(self.phones(node), None),
            "contact_point_title": r.text(node, VCARD.title),
            "contact_point_address": self.address(node),
        }

    def phones(self, node: Any) -> Iterator[str]:
        for phone in self.r.objects(node, VCARD.hasTelephone):
            values = ([phone] if isinstance(phone, Literal)
                      else self.r.objects(phone, VCARD.hasValue) or [phone])
            for value in values:
                yield str(value).removeprefix("tel:")

    def address(self, node: Any) -> str | None:
        """The first vCard address that has any part, its parts joined."""
        for address in self.r.objects(node, VCARD.hasAddress):
            parts = [self.r.text(address, VCARD[p]) for p in
                     ("street-address", "postal-code", "locality", "country-name")]
            if any(parts):
                return ", ".join(p for p in parts if p)
        return None

    def metadata_language(self) -> str | None:
        for triple in getattr(self.mapped, "record", ()) or ():
            if len(triple) == 3 and str(triple[1]) == str(DCT.language):
                return _donl_value(getattr(self.m, "language", None), str(triple[2]))
        lang = self.r.lang
        if not lang:
            return None
        found = _lookup(getattr(self.m, "language", None), lang)
        if found is None:
            self.note(f"metadata_language: language tag {lang!r} is not in the languages table")
            return None
        return getattr(found, "donl", None) or found.uri

    def licence(self) -> str | None:
        own = self.r.uri(self.ds, DCT.license)
        counts = Counter(u for d in self.distributions for u in self.r.uris(d, DCT.license)[:1])
        if own:
            uri = own
        elif counts:
            uri = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            if len(counts) > 1:
                self.note(f"license_id: the distributions have {len(counts)} licences; the "
                          f"dataset gets the most frequent, {uri}")
        else:
            return None
        return self.translated("licence", uri)

    def tags(self) -> list[dict[str, str]]:
        tags: list[str] = []
        for word in (str(w) for w in self.r.texts(self.ds, DCAT.keyword)):
            tag = tag_of(word)
            if tag != word.strip():
                self.note(f"tags: keyword {word!r} sent as {tag!r}")
            if len(tag) < 2:
                self.note(f"tags: keyword {word!r} left out (shorter than 2 characters)")
            elif tag not in tags:
                tags.append(tag)
        return [{"name": t} for t in sorted(tags)]

    def period(self, node: Any) -> tuple[str, str, str | None] | None:
        """A dct:temporal node's (start, end, label); None when it has none of them."""
        start = self.date(node, DCAT.startDate) or self.date(node, SCHEMA.startDate)
        end = self.date(node, DCAT.endDate, end=True) or self.date(node, SCHEMA.endDate, end=True)
        label = self.r.text(node, RDFS.label) or self.r.text(node, SKOS.prefLabel)
        return (start or "", end or "", label) if start or end or label else None

    def temporal(self) -> dict[str, Any]:
        periods = [p for p in map(self.period, self.r.objects(self.ds, DCT.temporal)) if p]
        if not periods:
            return {}
        if len(periods) > 1:
            self.note(f"temporal: the dataset has {len(periods)} periods; the first is sent")
        start, end, label = min(periods, key=lambda p: (p[0], p[1], p[2] or ""))
        return {"temporal_start": start or None, "temporal_end": end or None,
                "temporal_label": label}

    def places(self) -> dict[str, Any]:
        schemes, values = [], []
        for uri in self.r.uris(self.ds, DCT.spatial):
            found = next((name for name in _SPATIAL_LOOKUP if self.lists.contains(name, uri)), None)
            if found is None:
                self.note(f"spatial: {uri} is in none of data.overheid.nl's spatial lists; "
                          "left out")
            else:
                schemes.append(_SPATIAL_SCHEME_OF[found])
                values.append(uri)
        return {"spatial_scheme": schemes, "spatial_value": values} if values else {}

    def status(self) -> str | None:
        for uri in self.r.uris(self.ds, ADMS.status):
            if uri in _DATASET_STATUS:
                return _DATASET_STATUS[uri]
            if self.lists.contains("Overheid:DatasetStatus", uri):
                return uri
        return AVAILABLE if self.distributions else None

    # -- distributions ------------------------------------------------------------------------

    def resource(self, dist: URIRef, dataset: dict[str, Any]) -> dict[str, Any]:
        r = self.r
        downloads = [u for u in r.uris(dist, DCAT.downloadURL) if is_uri(u)]
        licence = r.uri(dist, DCT.license)
        status = r.uri(dist, ADMS.status)
        fields = {
            "url": r.uri(dist, DCAT.accessURL) or next(iter(downloads), None),
            "name": r.text(dist, DCT.title),
            "description": r.text(dist, DCT.description),
            "metadata_language": dataset.get("metadata_language"),
            "language": self.languages(dist) or list(dataset.get("language") or []),
            "license_id": (self.translated("licence", licence) if licence
                           else dataset.get("license_id")),
            "format": self.file_type(r.uri(dist, DCT["format"])),
            "media_type": media_type_uri(r.objects(dist, DCAT.mediaType)),
            "download_url": downloads,
            "size": _positive_int(r.objects(dist, DCAT.byteSize)),
            "release_date": self.date(dist, DCT.issued),
            "modification_date": self.date(dist, DCT.modified),
            "linked_schemas": self.links(dist, DCT.conformsTo),
            "documentation": self.links(dist, FOAF.page),
            **self.checksum(dist),
            "status": status if status and self.lists.contains("ADMS:DistributieStatus", status)
            else None,
            "rights": self.rights(dist),
        }
        return _without_blanks(fields)

    def file_type(self, uri: str | None) -> str | None:
        if not uri or uri.startswith(EU_FILE_TYPE):
            return uri
        found = _lookup(getattr(self.m, "file_format", None), uri)
        return getattr(found, "file_type", None) or uri

    def checksum(self, dist: URIRef) -> dict[str, str]:
        """hash and hash_algorithm of the first spdx:checksum that has both."""
        for node in self.r.objects(dist, SPDX.checksum):
            value = self.r.text(node, SPDX.checksumValue)
            algorithm = self.r.uri(node, SPDX.algorithm)
            if value and algorithm:
                return {"hash": value,
                        "hash_algorithm": algorithm.rsplit("checksumAlgorithm_", 1)[-1].upper()}
        return {}

    def rights(self, dist: URIRef) -> str | None:
        """The first dct:rights statement with a text (a literal, or a node's rdfs:label)."""
        for rights in self.r.objects(dist, DCT.rights):
            text = str(rights) if isinstance(rights, Literal) else self.r.text(rights, RDFS.label)
            if text:
                return text
        return None


def to_target(mapped: Any, mappings: Any, *, spatial: bool = True,
              lists: ValueLists | None = None) -> TargetDataset:
    """Convert a mapped dataset's graph to a data.overheid.nl package (see the module docstring).

    `mapped` is a harvester.dcat.dataset.MappedDataset (uri, identifier, graph, distribution_uris,
    record, name); `mappings` the loaded mapping tables (their `donl` values are what is sent).
    """
    converter = _Converter(mapped, mappings, lists or value_lists_for(mappings), spatial)
    fields = converter.dataset()
    resources = [TargetResource(str(dist), converter.resource(dist, fields))
                 for dist in converter.distributions]
    return TargetDataset(identifier=str(mapped.identifier or mapped.uri),
                         source_name=str(getattr(mapped, "name", "") or ""),
                         fields=fields, resources=resources, issues=converter.issues)
