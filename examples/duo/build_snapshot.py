"""Build the bundled offline DUO catalogue snapshot (a "CKAN dump") from the reference facts.

Reads ../shared/reference/duo/** (real facts about onderwijsdata.duo.nl, copied from
cedanl/rio-onderwijsdata) and writes examples/duo/duo-catalogue.json. What is real and what is
synthesised is documented field by field in examples/duo/README.md.

Deterministic: the same input gives the same bytes. Every synthesised value is derived from a
SHA-256 of a fixed label (never from the clock or a random generator).

Usage:
    python examples/duo/build_snapshot.py                 # write the snapshot
    python examples/duo/build_snapshot.py --check         # exit 1 when the committed file differs
    python examples/duo/build_snapshot.py --shared DIR --output FILE

Only the standard library is used, so it runs with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_OUTPUT = HERE / "duo-catalogue.json"

SOURCE_URL = "https://onderwijsdata.duo.nl"
FORMAT = "ckan-dump/1"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"

# --------------------------------------------------------------------------------------------
# Facts from DUO's API guide (../shared/seeds/000_*.txt, "Technische toelichting voor het
# gebruik van de API met DUO onderwijsdata", organization_show / group_show / license_list
# examples). They are typed in here because the guide is a PDF-to-text extraction with line
# breaks inside words; the values are re-joined, not changed.
# --------------------------------------------------------------------------------------------

GUIDE_ORGANIZATION = {
    "id": "e35a733c-a135-4831-930a-b3b472caab97",
    "name": "duo",
    "title": "DUO",
    "display_name": "DUO",
    "description": (
        "DUO is de uitvoeringsorganisatie van de Rijksoverheid voor het onderwijs. DUO "
        "financiert en informeert onderwijsdeelnemers en onderwijsinstellingen en organiseert "
        "examens. Zo maakt DUO goed onderwijs mogelijk."
    ),
    "image_url": "2018-07-24-145443.6626392018-04-26-181226.272567logoduo.png",
    "image_display_url": (
        "https://onderwijsdata.duo.nl/uploads/group/"
        "2018-07-24-145443.6626392018-04-26-181226.272567logoduo.png"
    ),
    "created": "2018-04-26T18:12:26.287056",
    "is_organization": True,
    "approval_status": "approved",
    "state": "active",
    "type": "organization",
}

# The sysadmin account that created DUO's packages (guide: organization_show users[0].id).
GUIDE_CREATOR_USER_ID = "c7d3f5bd-732b-44bd-a30e-d061e612a517"

# group_show?id=basisonderwijs in the guide. Only this group is shown there.
GUIDE_GROUPS = {
    "basisonderwijs": {
        "id": "78832ec8-0d55-488f-953d-4a0d2aef7ebc",
        "title": "Basisonderwijs",
        "created": "2018-07-25T14:59:50.975083",
    },
}

# license_list in the guide (3 entries, verbatim, including the odc-odbl entry whose title the
# guide gives as the PDDL title), followed by cc-by (synthesised in the same shape; DUO's
# packages report license_id "cc-by").
GUIDE_LICENSES = [
    {
        "status": "active",
        "maintainer": "",
        "od_conformance": "not reviewed",
        "family": "",
        "osd_conformance": "not reviewed",
        "domain_data": "False",
        "title": "Licentie is niet gespecificeerd",
        "url": "",
        "is_generic": "True",
        "is_okd_compliant": False,
        "is_osi_compliant": False,
        "domain_content": "False",
        "domain_software": "False",
        "id": "notspecified",
    },
    {
        "status": "active",
        "maintainer": "",
        "od_conformance": "approved",
        "family": "",
        "osd_conformance": "not reviewed",
        "domain_data": "True",
        "title": "Open Data Commons Public Domain Dedication and Licence (PDDL)",
        "url": "http://www.opendefinition.org/licenses/odc-pddl",
        "is_generic": "False",
        "is_okd_compliant": True,
        "is_osi_compliant": False,
        "domain_content": "False",
        "domain_software": "False",
        "id": "odc-pddl",
    },
    {
        "status": "active",
        "maintainer": "",
        "od_conformance": "approved",
        "family": "",
        "osd_conformance": "not reviewed",
        "domain_data": "True",
        "title": "Open Data Commons Public Domain Dedication and Licence (PDDL)",
        "url": "http://www.opendefinition.org/licenses/odc-odbl",
        "is_generic": "False",
        "is_okd_compliant": True,
        "is_osi_compliant": False,
        "domain_content": "False",
        "domain_software": "False",
        "id": "odc-odbl",
    },
]
CC_BY_LICENSE = {
    "status": "active",
    "maintainer": "",
    "od_conformance": "approved",
    "family": "",
    "osd_conformance": "not reviewed",
    "domain_data": "False",
    "title": "Creative Commons Attribution",
    "url": "http://www.opendefinition.org/licenses/cc-by",
    "is_generic": "False",
    "is_okd_compliant": True,
    "is_osi_compliant": False,
    "domain_content": "True",
    "domain_software": "False",
    "id": "cc-by",
}

# --------------------------------------------------------------------------------------------
# DUO's CKAN groups. Names are real (cedanl src/riodata/duo.py _GROUP_TO_ONDERWIJSTYPE, which
# maps the CKAN group names to the "onderwijstype" codes stored in duo_resources.json).
# Titles other than Basisonderwijs are synthesised.
# --------------------------------------------------------------------------------------------

GROUPS = [
    # (name, onderwijstype code in duo_resources.json, title, OWMS theme used in the "theme" extra)
    ("arbeidsovereenkomst-en-cao", "Arbeidsmarkt", "Arbeidsovereenkomst en cao",
     "http://standaarden.overheid.nl/owms/terms/Arbeidsvoorwaarden"),
    ("basisonderwijs", "PO", "Basisonderwijs",
     "http://standaarden.overheid.nl/owms/terms/Basisonderwijs_(thema)"),
    ("hoger-onderwijs", "HO", "Hoger onderwijs",
     "http://standaarden.overheid.nl/owms/terms/Hoger_onderwijs_(thema)"),
    ("inburgering", "Inburgering", "Inburgering",
     "http://standaarden.overheid.nl/owms/terms/Integratie_(thema)"),
    ("middelbaarberoepsonderwijs", "MBO", "Middelbaar beroepsonderwijs",
     "http://standaarden.overheid.nl/owms/terms/Beroepsonderwijs_(thema)"),
    ("speciaal-onderwijs-en-leerproblemen", "SO", "Speciaal onderwijs en leerproblemen",
     "http://standaarden.overheid.nl/owms/terms/Overige_vormen_van_onderwijs"),
    # sic: DUO's group name is misspelt ("voorgezet"); its theme URI is real (excerpt).
    ("voorgezet-onderwijs", "VO", "Voortgezet onderwijs",
     "http://standaarden.overheid.nl/owms/terms/Voortgezet_onderwijs_(thema)"),
]
GROUP_BY_CODE = {code: name for name, code, _title, _theme in GROUPS}
THEME_BY_GROUP = {name: theme for name, _code, _title, theme in GROUPS}
NO_GROUP_CODE = "Allen"  # cedanl's value for a package without any CKAN group

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PKG_IN_URL = re.compile(rf"/dataset/({UUID_RE})/resource/({UUID_RE})/download/")
DATASTORE_DUMP = re.compile(rf"/datastore/dump/({UUID_RE})$")

MIMETYPE_BY_EXTENSION = {
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
MIMETYPE_BY_FORMAT = {"CSV": "text/csv", "PDF": "application/pdf", "PNG": "image/png"}

# Datastore column types -> Frictionless Table Schema types (the resource `schema` form that the
# guide's resource_show shows).
TABLE_SCHEMA_TYPE = {
    "numeric": "number",
    "int": "integer",
    "int4": "integer",
    "int8": "integer",
    "float8": "number",
    "text": "string",
    "timestamp": "datetime",
    "date": "date",
    "bool": "boolean",
}


class BuildError(Exception):
    """The reference material does not have the shape this script expects."""


# --------------------------------------------------------------------------------------------
# deterministic synthesis
# --------------------------------------------------------------------------------------------


def _digest(label: str) -> int:
    return int.from_bytes(hashlib.sha256(label.encode("utf-8")).digest()[:8], "big")


def synth_uuid(label: str) -> str:
    """A stable UUID (version 5) for something that has no real id in the reference."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SOURCE_URL}/#synthesised/{label}"))


def synth_time(label: str, start: datetime, end: datetime) -> datetime:
    """A stable timestamp in [start, end) with microseconds, derived from `label`."""
    span = int((end - start).total_seconds() * 1_000_000)
    if span <= 0:
        raise BuildError(f"empty time range for {label}: {start} .. {end}")
    return start + timedelta(microseconds=_digest(label) % span)


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def fmt_ts(value: datetime) -> str:
    return value.strftime(TS_FORMAT)


# --------------------------------------------------------------------------------------------
# reading the reference
# --------------------------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildError(f"{path}: cannot read JSON: {exc}") from exc


def load_reference(shared: Path) -> dict[str, Any]:
    duo = shared / "reference" / "duo"
    catalogue = _load_json(duo / "cedanl-catalog" / "duo_resources.json")
    if not isinstance(catalogue, list):
        raise BuildError("duo_resources.json: expected a list of dataset records")
    excerpt = _load_json(duo / "cedanl-excerpts" / "duo_resource_schemas.EXCERPT.json")
    fixtures = {}
    for path in sorted((duo / "cedanl-fixtures").glob("*.json")):
        data = _load_json(path)
        fixtures[data["name"]] = data
    return {"catalogue": catalogue, "excerpt": excerpt.get("datasets", {}), "fixtures": fixtures}


# --------------------------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------------------------

CREATED_START = datetime(2018, 11, 1)
CREATED_END = datetime(2022, 12, 31)
MODIFIED_START = datetime(2023, 6, 1)
MODIFIED_END = datetime(2026, 4, 19)  # cedanl's catalogue was last changed 2026-04-20


def _package_uuid(name: str, resources: list[dict[str, Any]]) -> str:
    found = set()
    for res in resources:
        match = PKG_IN_URL.search(res["url"])
        if match:
            found.add(match.group(1))
            if match.group(2) != res["id"]:
                raise BuildError(f"{name}: resource id {res['id']} differs from its URL")
    if len(found) != 1:
        raise BuildError(f"{name}: expected one package uuid in the resource URLs, got {found}")
    return found.pop()


def _groups_for(record: dict[str, Any]) -> list[str]:
    names = []
    for code in record["onderwijstype"]:
        if code == NO_GROUP_CODE:
            continue
        if code not in GROUP_BY_CODE:
            raise BuildError(f"{record['_ckan_id']}: unknown onderwijstype {code!r}")
        names.append(GROUP_BY_CODE[code])
    return sorted(set(names))


def _theme_extra(groups: list[str]) -> str | None:
    themes = [THEME_BY_GROUP[g] for g in groups]
    if not themes:
        return None
    if len(themes) == 1:
        return themes[0]
    return json.dumps(themes)


def _tags(record: dict[str, Any]) -> list[str]:
    # cedanl's duo.py stores the package's own tags (lower-cased) followed by "duo",
    # "open-data" and the lower-cased onderwijstype codes; keep what comes before "duo".
    tags = record.get("tags") or []
    if "duo" in tags:
        tags = tags[: tags.index("duo")]
    return sorted(dict.fromkeys(tags))


def _table_schema(columns: list[dict[str, Any]]) -> dict[str, Any]:
    fields = []
    for col in columns:
        ds_type = col["type"]
        fields.append(
            {
                "name": col["naam"],
                "title": col["naam"].lower(),
                "type": TABLE_SCHEMA_TYPE.get(ds_type, "string"),
                "format": "default",
            }
        )
    return {"fields": fields}


def _mimetype(url: str, fmt: str) -> str | None:
    tail = url.rsplit("/", 1)[-1].lower()
    ext = os.path.splitext(tail)[1]
    if ext in MIMETYPE_BY_EXTENSION:
        return MIMETYPE_BY_EXTENSION[ext]
    return MIMETYPE_BY_FORMAT.get(fmt.upper())


def build_package(
    record: dict[str, Any],
    fixture: dict[str, Any] | None,
    excerpt: dict[str, Any] | None,
    groups_by_name: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    name = record["_ckan_id"]
    raw_resources = record["_resources"]
    if not raw_resources:
        raise BuildError(f"{name}: no resources")
    pkg_id = _package_uuid(name, raw_resources)

    title = record["bron"]
    notes = record["beschrijving"]
    modified: datetime | None = None
    if excerpt:
        title = excerpt.get("titel") or title
        modified = parse_ts(excerpt["metadata_modified"])
    if fixture:
        title = fixture["title"]
        notes = fixture["notes"]
        modified = parse_ts(fixture["metadata_modified"])
    created = synth_time(f"{name}/metadata_created", CREATED_START, CREATED_END)
    if modified is None:
        modified = synth_time(f"{name}/metadata_modified", MODIFIED_START, MODIFIED_END)

    groups = _groups_for(record)
    if excerpt and sorted(excerpt.get("ckan_groepen", [])) != groups:
        raise BuildError(f"{name}: groups {groups} differ from the excerpt's CKAN groups")

    excerpt_resources = {r["resource_id"]: r for r in (excerpt or {}).get("resources", [])}
    resources = []
    for position, raw in enumerate(raw_resources):
        fmt = raw["format"]
        url = raw["url"]
        is_datastore_dump = bool(DATASTORE_DUMP.search(url))
        datastore_active = fmt.upper() == "CSV"
        known = excerpt_resources.get(raw["id"])
        res_created = created + timedelta(
            seconds=1 + position, microseconds=_digest(f"{raw['id']}/created") % 1_000_000
        )
        if known:
            last_modified = parse_ts(known["last_modified"])
        else:
            last_modified = synth_time(f"{raw['id']}/last_modified", res_created, modified)
        resource: dict[str, Any] = {
            "id": raw["id"],
            "package_id": pkg_id,
            "name": raw["naam"],
            "description": known["beschrijving"] if known else "",
            "format": fmt,
            "mimetype": known["mimetype"] if known else _mimetype(url, fmt),
            "mimetype_inner": None,
            "url": url,
            "url_type": "datastore" if is_datastore_dump else "upload",
            "datastore_active": datastore_active,
            "position": position,
            "created": fmt_ts(res_created),
            "last_modified": fmt_ts(last_modified),
            "metadata_modified": fmt_ts(last_modified),
            "size": known["grootte"] if known else None,
            "hash": None if datastore_active else "",
            "state": "active",
            "cache_url": None,
            "cache_last_updated": None,
            "resource_type": None,
        }
        if known and known.get("kolommen"):
            resource["schema"] = _table_schema(known["kolommen"])
        resources.append(resource)

    tag_names = _tags(record)
    tags = [
        {
            "id": synth_uuid(f"tag/{tag}"),
            "name": tag,
            "display_name": tag,
            "state": "active",
            "vocabulary_id": None,
        }
        for tag in tag_names
    ]
    extras = []
    theme = _theme_extra(groups)
    if theme is not None:
        extras.append({"key": "theme", "value": theme})

    org = GUIDE_ORGANIZATION
    return {
        "id": pkg_id,
        "name": name,
        "title": title,
        "notes": notes,
        "url": "",
        "version": "",
        "author": "",
        "author_email": "",
        "maintainer": "",
        "maintainer_email": "",
        "license_id": CC_BY_LICENSE["id"],
        "license_title": CC_BY_LICENSE["title"],
        "license_url": CC_BY_LICENSE["url"],
        "isopen": True,
        "metadata_created": fmt_ts(created),
        "metadata_modified": fmt_ts(modified),
        "creator_user_id": GUIDE_CREATOR_USER_ID,
        "state": "active",
        "type": "dataset",
        "private": False,
        "owner_org": org["id"],
        "organization": {
            key: org[key]
            for key in (
                "id", "name", "title", "type", "description", "image_url", "created",
                "is_organization", "approval_status", "state",
            )
        },
        "groups": [
            {
                key: groups_by_name[g][key]
                for key in ("id", "name", "title", "display_name", "description",
                            "image_display_url")
            }
            for g in groups
        ],
        "tags": tags,
        "num_tags": len(tags),
        "extras": extras,
        "resources": resources,
        "num_resources": len(resources),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def build_groups() -> dict[str, dict[str, Any]]:
    groups = {}
    for name, _code, title, _theme in GROUPS:
        real = GUIDE_GROUPS.get(name, {})
        groups[name] = {
            "id": real.get("id") or synth_uuid(f"group/{name}"),
            "name": name,
            "title": real.get("title") or title,
            "display_name": real.get("title") or title,
            "description": "",
            "image_url": "",
            "image_display_url": "",
            "created": real.get("created")
            or fmt_ts(synth_time(f"group/{name}/created", datetime(2018, 7, 25),
                                 datetime(2019, 12, 31))),
            "is_organization": False,
            "approval_status": "approved",
            "state": "active",
            "type": "group",
            "extras": [],
            "groups": [],
            "tags": [],
            "num_followers": 0,
            "package_count": 0,
        }
    return groups


def build(shared: Path) -> dict[str, Any]:
    """The snapshot as a dict, built from ../shared (`shared` is the folder holding reference/)."""
    ref = load_reference(shared)
    groups = build_groups()
    names = [rec["_ckan_id"] for rec in ref["catalogue"]]
    if len(set(names)) != len(names):
        raise BuildError("duo_resources.json: duplicate _ckan_id")
    for fixture_name in ref["fixtures"]:
        if fixture_name not in names:
            raise BuildError(f"fixture {fixture_name} is not in the catalogue")

    packages = []
    for record in sorted(ref["catalogue"], key=lambda r: r["_ckan_id"]):
        name = record["_ckan_id"]
        pkg = build_package(record, ref["fixtures"].get(name), ref["excerpt"].get(name), groups)
        packages.append(pkg)
        for g in pkg["groups"]:
            groups[g["name"]]["package_count"] += 1

    organization = {key: value for key, value in GUIDE_ORGANIZATION.items()}
    organization.update(
        {"extras": [], "groups": [], "tags": [], "num_followers": 0,
         "package_count": len(packages)}
    )
    return {
        "format": FORMAT,
        "source_url": SOURCE_URL,
        "organizations": [organization],
        "groups": [groups[name] for name in sorted(groups)],
        "licenses": [dict(lic) for lic in GUIDE_LICENSES] + [dict(CC_BY_LICENSE)],
        "packages": packages,
    }


def render(snapshot: dict[str, Any]) -> bytes:
    """The snapshot's bytes as committed: sorted keys, 1-space indent, UTF-8, final newline."""
    text = json.dumps(snapshot, ensure_ascii=False, indent=1, sort_keys=True)
    return (text + "\n").encode("utf-8")


def default_shared() -> Path:
    return Path(os.environ.get("HARVESTER_SHARED_DIR", REPO.parent / "shared"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=default_shared(),
                        help="the shared folder that holds reference/ (default: ../shared)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when --output differs from a fresh build")
    args = parser.parse_args(argv)
    try:
        data = render(build(args.shared))
    except BuildError as exc:
        print(f"build_snapshot: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        if current != data:
            print(f"{args.output} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(data)} bytes)")
        return 0
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
