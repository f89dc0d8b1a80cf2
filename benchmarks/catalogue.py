"""A deterministic, DUO-like CKAN catalogue of any size, for benchmarks and scale tests.

    data = generate(1000, seed=20260101)       # {"packages": [...], "organizations": ..., ...}
    for package in packages(1000): ...         # the same packages, one at a time (streaming)

Each package looks like one of onderwijsdata.duo.nl's (examples/duo/duo-catalogue.json): the
organisation `duo`, one or two of DUO's groups, an OWMS `theme` extra, Dutch title, description
and tags, and three resources: a DataStore CSV with a column schema, a JSON or XLSX download and
a PDF documentation file. Some vary the way real catalogues do (a maintainer e-mail, a version, a
temporal coverage, a size and checksum, a licence other than cc-by). About `invalid_share` of the
packages are broken in one of the ways the mapper or the shapes catch (no description, no title,
a format or licence not in the tables, a group that is no theme, a resource without URL), so the
invalid path is timed too. The same `seed` and `n` give the same catalogue, byte for byte.
"""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SOURCE_URL = "https://onderwijsdata.duo.nl"
SEED = 20260101

GROUPS = [
    ("basisonderwijs", "Basisonderwijs", "Basisonderwijs_(thema)"),
    ("voorgezet-onderwijs", "Voortgezet onderwijs", "Voortgezet_onderwijs_(thema)"),
    ("middelbaarberoepsonderwijs", "Middelbaar beroepsonderwijs", "Beroepsonderwijs_(thema)"),
    ("hoger-onderwijs", "Hoger onderwijs", "Hoger_onderwijs_(thema)"),
    ("speciaal-onderwijs-en-leerproblemen", "Speciaal onderwijs en leerproblemen",
     "Overige_vormen_van_onderwijs"),
    ("inburgering", "Inburgering", "Integratie_(thema)"),
    ("arbeidsovereenkomst-en-cao", "Arbeidsovereenkomst en cao", "Arbeidsvoorwaarden"),
]
LICENCES = [("cc-by", "Creative Commons Attribution",
             "http://www.opendefinition.org/licenses/cc-by"),
            ("cc-zero", "Creative Commons CCZero", "http://www.opendefinition.org/licenses/cc-zero"),
            ("odc-odbl", "Open Data Commons Open Database License (ODbL)",
             "http://www.opendefinition.org/licenses/odc-odbl"),
            ("notspecified", "License not specified", "")]
SUBJECTS = ["leerlingen", "studenten", "examenkandidaten", "diploma's", "vestigingen", "besturen",
            "opleidingen", "inschrijvingen", "leraren", "schooladviezen", "uitstromers",
            "gediplomeerden", "onderwijsinstellingen", "inburgeraars", "leerwerkplekken"]
SECTORS = ["primair onderwijs", "voortgezet onderwijs", "mbo", "hbo", "wo", "vavo",
           "speciaal onderwijs", "volwassenenonderwijs"]
CUTS = ["per gemeente", "per vestiging", "naar leeftijd", "naar geslacht", "per bestuur",
        "naar onderwijstype", "per provincie", "naar sector", "per opleiding", "per jaar"]
WORDS = ["aantal", "gegevens", "overzicht", "bestand", "open", "data", "onderwijs", "per",
         "peildatum", "oktober", "telling", "bekostigd", "instelling", "brin", "register",
         "informatie", "publicatie", "jaarlijks", "bijgewerkt", "landelijk"]
COLUMNS = [("SCHOOLJAAR", "number"), ("BRIN NUMMER", "string"), ("VESTIGINGSNUMMER", "number"),
           ("INSTELLINGSNAAM", "string"), ("GEMEENTENAAM", "string"), ("PROVINCIE", "string"),
           ("ONDERWIJSTYPE", "string"), ("AANTAL", "number"), ("GESLACHT", "string"),
           ("LEEFTIJD", "number"), ("POSTCODE", "string"), ("DENOMINATIE", "string")]
#: how a package is broken (the share of each among the invalid ones is equal)
BREAKS = ("no-notes", "no-title", "unknown-format", "unknown-licence", "no-theme-group",
          "resource-without-url")


def organization() -> dict[str, Any]:
    return {"id": "e35a733c-a135-4831-930a-b3b472caab97", "name": "duo", "title": "DUO",
            "type": "organization", "is_organization": True, "state": "active",
            "approval_status": "approved", "created": "2018-04-26T18:12:26.287056",
            "description": "DUO is de uitvoeringsorganisatie van de Rijksoverheid voor het "
                           "onderwijs.", "image_url": ""}


def context_lists() -> dict[str, Any]:
    """The organisations, groups and licences of the catalogue (a dump file's context)."""
    groups = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "name": name, "title": title,
               "display_name": title, "description": "", "image_display_url": ""}
              for name, title, _ in GROUPS]
    licenses = [{"id": lid, "title": title, "url": url} for lid, title, url in LICENCES]
    return {"organizations": [organization()], "groups": groups, "licenses": licenses}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _moment(rng: random.Random, start: datetime, days: int) -> str:
    return (start + timedelta(seconds=rng.randrange(days * 86400),
                              microseconds=rng.randrange(1_000_000))).isoformat()


def package_id(index: int, seed: int = SEED) -> str:
    """The CKAN id of package `index` (without making the package)."""
    return _uuid(random.Random(f"{seed}:{index}"))


def package(index: int, seed: int = SEED, invalid_share: float = 0.05,
            resources: int = 3) -> dict[str, Any]:
    """Package number `index` of the catalogue (independent of the others: any can be made alone)."""
    rng = random.Random(f"{seed}:{index}")
    pkg_id = _uuid(rng)
    subject, sector, cut = rng.choice(SUBJECTS), rng.choice(SECTORS), rng.choice(CUTS)
    year = rng.randrange(2012, 2026)
    title = f"{subject.capitalize()} {sector} {cut} {year}"
    name = f"{subject[:6]}-{sector[:4]}-{index:06d}".replace(" ", "-").replace("'", "")
    notes = (f"Dit bestand bevat het {rng.choice(['aantal', 'overzicht van'])} {subject} in het "
             f"{sector} {cut}, peildatum 1 oktober {year}. "
             + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(12, 60))) + ".")
    group_names = rng.sample(range(len(GROUPS)), rng.choice((1, 1, 1, 2)))
    groups = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, GROUPS[g][0])), "name": GROUPS[g][0],
               "title": GROUPS[g][1], "display_name": GROUPS[g][1], "description": "",
               "image_display_url": ""} for g in group_names]
    created = datetime(2018, 1, 1) + timedelta(days=rng.randrange(2000))
    metadata_created = _moment(rng, created, 1)
    metadata_modified = _moment(rng, created + timedelta(days=1), 900)
    licence = rng.choices(LICENCES, weights=(80, 10, 5, 5))[0]
    tags = sorted({subject, sector, *rng.sample(WORDS, rng.randrange(1, 5))})
    extras = [{"key": "theme",
               "value": "http://standaarden.overheid.nl/owms/terms/" + GROUPS[group_names[0]][2]}]
    pkg: dict[str, Any] = {
        "id": pkg_id, "name": name, "title": title, "notes": notes, "type": "dataset",
        "state": "active", "private": False, "isopen": licence[0] != "notspecified",
        "author": "", "author_email": "", "maintainer": "", "maintainer_email": "",
        "version": "", "url": "", "license_id": licence[0], "license_title": licence[1],
        "license_url": licence[2], "metadata_created": metadata_created,
        "metadata_modified": metadata_modified, "owner_org": organization()["id"],
        "organization": organization(), "creator_user_id": "c7d3f5bd-732b-44bd-a30e-d061e612a517",
        "groups": groups, "extras": extras,
        "tags": [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, t)), "name": t, "display_name": t,
                  "state": "active", "vocabulary_id": None} for t in tags],
        "relationships_as_object": [], "relationships_as_subject": [],
    }
    if rng.random() < 0.2:
        pkg["maintainer"] = "DUO Informatieproducten"
        pkg["maintainer_email"] = "informatieproducten@duo.nl"
    if rng.random() < 0.15:
        pkg["version"] = f"{rng.randrange(1, 5)}.{rng.randrange(0, 10)}"
    if rng.random() < 0.3:
        extras.append({"key": "temporal_start", "value": f"{year - 1}-10-01"})
        extras.append({"key": "temporal_end", "value": f"{year}-09-30"})
    base = f"{SOURCE_URL}/dataset/{pkg_id}/resource"
    items = []
    for position in range(resources):
        rid = _uuid(rng)
        modified = _moment(rng, created, 900)
        res: dict[str, Any] = {
            "id": rid, "package_id": pkg_id, "position": position, "state": "active",
            "created": _moment(rng, created, 1), "last_modified": modified,
            "metadata_modified": modified, "cache_url": None, "cache_last_updated": None,
            "mimetype_inner": None, "resource_type": None, "hash": None, "size": None,
            "url_type": "upload",
        }
        kind = position % 3
        if kind == 0:
            file = f"{name}.csv"
            res.update(format="CSV", mimetype="text/csv", datastore_active=True,
                       name=f"{title} (CSV)",
                       description=f"Dit bestand bevat {subject} {cut}.",
                       url=f"{base}/{rid}/download/{file}",
                       schema={"fields": [{"name": col, "title": col.lower(), "type": typ,
                                           "format": "default"}
                                          for col, typ in rng.sample(COLUMNS, rng.randrange(4, 10))]})
        elif kind == 1:
            fmt, mime, ext = rng.choice([("JSON", "application/json", "json"),
                                         ("XLSX", "application/vnd.openxmlformats-officedocument"
                                                  ".spreadsheetml.sheet", "xlsx")])
            res.update(format=fmt, mimetype=mime, datastore_active=False,
                       name=f"{title} ({fmt})", description="",
                       url=f"{base}/{rid}/download/{name}.{ext}")
        else:
            res.update(format="PDF", mimetype="application/pdf", datastore_active=False,
                       name=f"Toelichting {subject} {sector}",
                       description="Toelichting bij de bestanden: definities en bronnen.",
                       url=f"{base}/{rid}/download/toelichting-{name}.pdf")
        if rng.random() < 0.25:
            res["size"] = rng.randrange(10_000, 50_000_000)
        if rng.random() < 0.1:
            res["hash"] = "%032x" % rng.getrandbits(128)
        items.append(res)
    pkg["resources"] = items
    pkg["num_resources"], pkg["num_tags"] = len(items), len(tags)
    if rng.random() < invalid_share:
        _break(pkg, BREAKS[rng.randrange(len(BREAKS))], rng)
    return pkg


def _break(pkg: dict[str, Any], how: str, rng: random.Random) -> None:
    pkg.setdefault("extras", []).append({"key": "benchmark_break", "value": how})
    if how == "no-notes":
        pkg["notes"] = ""
    elif how == "no-title":
        pkg["title"] = ""
    elif how == "unknown-format":
        pkg["resources"][rng.randrange(len(pkg["resources"]))].update(
            format="SUPERFORMAAT", mimetype="application/x-superformaat")
    elif how == "unknown-licence":
        pkg["license_id"], pkg["license_title"], pkg["license_url"] = "eigen-licentie", "", ""
    elif how == "no-theme-group":
        pkg["groups"] = [{"name": "diversen", "title": "Diversen"}]
        pkg["extras"] = [e for e in pkg["extras"] if e["key"] != "theme"]
    elif how == "resource-without-url":
        res = pkg["resources"][0]
        res.update(url="", id="")


def packages(n: int, seed: int = SEED, invalid_share: float = 0.05,
             resources: int = 3) -> Iterator[dict[str, Any]]:
    """Packages 0..n-1, one at a time (nothing else is held in memory)."""
    for index in range(n):
        yield package(index, seed, invalid_share, resources)


def generate(n: int, seed: int = SEED, invalid_share: float = 0.05,
             resources: int = 3) -> dict[str, Any]:
    """The whole catalogue as a CKAN dump object (harvester.source.dump.DumpSource reads it)."""
    return {"source_url": SOURCE_URL, **context_lists(),
            "packages": list(packages(n, seed, invalid_share, resources))}


def mapping_table() -> dict[str, Any]:
    """The `[sources.NAME.mapping]` options the benchmark maps with (as examples/duo-offline.toml)."""
    return {
        "portal_url": SOURCE_URL,
        "catalog_uri": f"{SOURCE_URL}/catalog",
        "catalog_title": "Open onderwijsdata van DUO",
        "catalog_description": "Open onderwijsdata van Dienst Uitvoering Onderwijs (DUO).",
        "catalog_publisher": "duo",
        "catalog_creator": "duo",
        "default_language": "nl",
        "contact_name": "DUO Informatieproducten",
        "contact_email": "informatieproducten@duo.nl",
        "contact_url": "https://www.duo.nl/open_onderwijsdata/footer/veelgestelde-vragen/",
        "access_rights": "public",
        "theme_fallback": "onderwijs",
        "creator_is_publisher": True,
        "documentation_formats": ["PDF", "PNG"],
        "data_service": {
            "uri": f"{SOURCE_URL}/api/3/action/datastore_search",
            "title": "DataStore API van onderwijsdata.duo.nl",
            "description": "De CKAN DataStore API van onderwijsdata.duo.nl.",
            "endpoint_url": f"{SOURCE_URL}/api/3/action/datastore_search",
            "endpoint_description": "https://docs.ckan.org/en/latest/maintaining/datastore.html",
            "licence": "cc-zero",
            "themes": ["onderwijs"],
        },
    }


#: the row `updated_mappings` adds to themes.csv: a group no generated package is in
ADDED_THEME_ROW = ("kinderopvang,http://publications.europa.eu/resource/authority/data-theme/EDUC,"
                   "http://standaarden.overheid.nl/owms/terms/Basisonderwijs_(thema),Kinderopvang,"
                   "added by the benchmark (no generated dataset is in this group)\n")


def updated_mappings(into: Path) -> Path:
    """A copy of the project's mapping tables in `into` with one row added that no generated
    package uses (as when a data owner maps a new CKAN group): everything is mapped again (the
    tables' fingerprint changed), and every package comes out as it was. Returns `into`."""
    from harvester.dcat.tables import DEFAULT_PATH

    shutil.copytree(DEFAULT_PATH, into, dirs_exist_ok=True)
    with (into / "themes.csv").open("a", encoding="utf-8") as themes:
        themes.write(ADDED_THEME_ROW)
    return into
