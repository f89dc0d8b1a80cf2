"""Value mapping tables (mappings/*.csv) and their loader harvester/mappings.py."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS

from harvester.dcat.tables import (
    TABLE_FILES,
    Concept,
    FileFormat,
    Licence,
    Mappings,
    Organisation,
    Theme,
    load_mappings,
)
from harvester.errors import MappingError

REPO = Path(__file__).resolve().parent.parent
MAPPINGS = REPO / "harvester" / "mappings"
SNAPSHOT = REPO / "examples" / "duo" / "duo-catalogue.json"
EU = "http://publications.europa.eu/resource/authority/"
OWMS = "http://standaarden.overheid.nl/owms/terms/"
IANA = "https://www.iana.org/assignments/media-types/"


@pytest.fixture(scope="module")
def m() -> Mappings:
    return load_mappings()


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def table_rows(name: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of mappings/<name>.csv, read independently."""
    rows, header = [], None
    lines = (MAPPINGS / f"{name}.csv").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = next(csv.reader([line]))
        if header is None:
            header = fields
        else:
            rows.append((number, dict(zip(header, fields))))
    return rows


def copy_tables(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


def replace_line(path: Path, predicate, new_line: str | None) -> int:
    """Replace (or with None delete) the first line matching `predicate`; return its number."""
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if predicate(line):
            if new_line is None:
                del lines[i]
            else:
                lines[i] = new_line
            path.write_text("\n".join(lines), encoding="utf-8")
            return i + 1
    raise AssertionError(f"no matching line in {path}")


def header_line(path: Path) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            return number
    raise AssertionError("no header")


# ---------------------------------------------------------------- loading, fingerprint


def test_loads_default_tables(m):
    assert isinstance(m, Mappings)
    assert re.fullmatch(r"[0-9a-f]{64}", m.fingerprint)
    assert load_mappings(MAPPINGS).fingerprint == m.fingerprint
    assert load_mappings(str(MAPPINGS)).fingerprint == m.fingerprint


def test_tables_start_with_source_comments():
    for name in TABLE_FILES:
        path = MAPPINGS / name
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# "), path.name
        comments = []
        for line in lines:
            if not line.startswith("#"):
                break
            comments.append(line)
        text = "\n".join(comments).lower()
        assert "source" in text and "column" in text, path.name


def test_fingerprint_changes_with_a_table(tmp_path, m):
    folder = copy_tables(tmp_path)
    assert load_mappings(folder).fingerprint == m.fingerprint
    with (folder / "languages.csv").open("a", encoding="utf-8") as fh:
        fh.write("nld-nl,http://publications.europa.eu/resource/authority/language/NLD,"
                 "http://publications.europa.eu/resource/authority/language/NLD,Nederlands,\n")
    changed = load_mappings(folder)
    assert changed.fingerprint != m.fingerprint
    assert changed.language("nld-NL").label == "Nederlands"


# ---------------------------------------------------------------- DUO snapshot coverage


def test_every_duo_group_maps_to_a_theme(m, snapshot):
    groups = {g["name"] for g in snapshot["groups"]}
    groups |= {g["name"] for p in snapshot["packages"] for g in p["groups"]}
    assert "voorgezet-onderwijs" in groups
    for name in groups:
        theme = m.theme(name)
        assert isinstance(theme, Theme), name
        assert theme.eu_theme.startswith(EU + "data-theme/")
        assert theme.owms_themes and all(t.startswith(OWMS) for t in theme.owms_themes)
        assert theme.label_nl


def test_every_duo_theme_extra_maps(m, snapshot):
    seen = set()
    for p in snapshot["packages"]:
        for extra in p["extras"]:
            if extra["key"] != "theme":
                continue
            value = extra["value"]
            uris = json.loads(value) if value.startswith("[") else [value]
            for uri in uris:
                theme = m.theme(uri)
                assert theme is not None, uri
                assert uri in theme.owms_themes
                seen.add(uri)
    assert f"{OWMS}Voortgezet_onderwijs_(thema)" in seen
    vo = m.theme(f"{OWMS}Voortgezet_onderwijs_(thema)")
    assert vo.eu_theme == f"{EU}data-theme/EDUC"


def test_every_duo_format_and_mimetype_maps(m, snapshot):
    for p in snapshot["packages"]:
        for r in p["resources"]:
            fmt = m.file_format(r["format"])
            assert isinstance(fmt, FileFormat), r["format"]
            if r["mimetype"]:
                assert m.file_format(r["mimetype"]) is not None, r["mimetype"]
    csv_ = m.file_format("CSV")
    assert csv_.file_type == f"{EU}file-type/CSV"
    assert csv_.media_type == f"{IANA}text/csv"
    assert csv_.machine_readable and csv_.non_proprietary
    pdf = m.file_format("PDF")
    assert pdf.file_type == f"{EU}file-type/PDF" and not pdf.machine_readable
    assert m.file_format("PNG").media_type == f"{IANA}image/png"


def test_every_duo_licence_maps(m, snapshot):
    ids = {lic["id"] for lic in snapshot["licenses"]}
    ids |= {p["license_id"] for p in snapshot["packages"]}
    urls = {lic["url"] for lic in snapshot["licenses"] if lic["url"]}
    urls |= {p["license_url"] for p in snapshot["packages"] if p["license_url"]}
    for value in ids | urls:
        assert isinstance(m.licence(value), Licence), value
    cc_by = m.licence("cc-by")
    assert cc_by.uri == f"{EU}licence/CC_BY_4_0"
    assert cc_by.donl == "http://creativecommons.org/licenses/by/4.0/deed.nl"
    assert m.licence("http://www.opendefinition.org/licenses/cc-by") == cc_by


def test_duo_organisation_maps(m, snapshot):
    for org in snapshot["organizations"]:
        assert isinstance(m.organisation(org["name"]), Organisation)
    duo = m.organisation("duo")
    assert duo.uri == f"{OWMS}Dienst_Uitvoering_Onderwijs"
    assert duo.name_nl == "Dienst Uitvoering Onderwijs" and duo.name_en
    assert m.organisation("inspectie-van-het-onderwijs").uri == f"{OWMS}Inspectie_van_het_Onderwijs"


# ---------------------------------------------------------------- lookups


def test_lookups_are_case_insensitive(m):
    assert m.file_format("csv") == m.file_format("CSV") == m.file_format("Csv")
    assert m.file_format("TEXT/CSV") == m.file_format("text/csv")
    assert m.file_format("Application/PDF") == m.file_format("application/pdf")
    assert m.file_format("application/x-smarttech-notebook") == m.file_format(
        "APPLICATION/X-SMARTTECH-NOTEBOOK"
    )
    assert m.licence("CC-BY") == m.licence("cc-by")
    assert m.licence("CC-BY-4.0") == m.licence("cc-by-4.0")
    assert m.theme("BASISONDERWIJS") == m.theme("basisonderwijs")
    assert m.theme(f"{OWMS}voortgezet_onderwijs_(thema)") == m.theme(
        f"{OWMS}Voortgezet_onderwijs_(thema)"
    )
    assert m.organisation("DUO") == m.organisation("duo")
    assert m.language("NL") == m.language("nl")
    assert m.frequency("JAARLIJKS") == m.frequency("jaarlijks")
    assert m.access_rights("Public") == m.access_rights("PUBLIC")


def test_format_lookup_ignores_parameters_dots_and_maps_uris(m):
    assert m.file_format("text/csv; charset=utf-8") == m.file_format("csv")
    assert m.file_format(".csv") == m.file_format("csv")
    assert m.file_format(f"{EU}file-type/CSV").file_type == f"{EU}file-type/CSV"
    assert m.file_format(f"{IANA}text/csv").file_type == f"{EU}file-type/CSV"
    assert m.file_format("geojson").file_type == f"{EU}file-type/GEOJSON"
    assert m.file_format("no-such-format") is None
    assert m.file_format("") is None


def test_licence_lookup_by_url_variants(m):
    by = m.licence("cc-by-4.0")
    for url in (
        "http://creativecommons.org/licenses/by/4.0/",
        "https://creativecommons.org/licenses/by/4.0",
        "https://creativecommons.org/licenses/by/4.0/legalcode",
        "http://creativecommons.org/licenses/by/4.0/deed.nl",
        f"{EU}licence/CC_BY_4_0",
    ):
        assert m.licence(url) == by, url
    assert m.licence("CC0-1.0").uri == f"{EU}licence/CC0"
    assert m.licence("odc-odbl").uri == f"{EU}licence/ODC_BL"
    assert m.licence("notspecified").donl == f"{OWMS}licentieonbekend"
    assert m.licence("other-closed").donl == f"{OWMS}geslotenlicentie"
    assert m.licence("no-such-licence") is None


def test_concepts(m):
    nl = m.language("nl-NL")
    assert isinstance(nl, Concept)
    assert nl.uri == nl.donl == f"{EU}language/NLD"
    assert m.language("nl_NL") == nl and m.language("dut") == nl and m.language("Nederlands") == nl
    assert m.language("en-GB").uri == f"{EU}language/ENG"
    assert m.frequency("annual").uri == f"{EU}frequency/ANNUAL"
    assert m.frequency("irregular").uri == f"{EU}frequency/IRREG"
    assert m.frequency(f"{EU}frequency/QUARTERLY").label == "driemaandelijks"
    assert m.access_rights("public").donl == f"{EU}access-right/PUBLIC"
    assert m.access_rights("niet publiek").uri == f"{EU}access-right/NON_PUBLIC"
    assert m.access_rights("restricted").uri == f"{EU}access-right/RESTRICTED"


def test_labels(m):
    assert m.label(f"{EU}data-theme/EDUC") == ("Onderwijs, cultuur en sport", f"{EU}data-theme")
    label, scheme = m.label(f"{OWMS}Voortgezet_onderwijs_(thema)")
    assert label == "Voortgezet onderwijs" and scheme.endswith("TaxonomieBeleidsagenda")
    assert m.label(f"{IANA}text/csv") == ("text/csv", IANA.rstrip("/"))
    assert m.label(f"{EU}file-type/CSV") == ("CSV", f"{EU}file-type")
    assert m.label(f"{OWMS}Dienst_Uitvoering_Onderwijs")[0] == "Dienst Uitvoering Onderwijs"
    assert m.label("http://example.org/unknown") is None


# ---------------------------------------------------------------- vocabulary graph


def _value_uris() -> dict[str, set[str]]:
    """Every URI in a value column, by role, read from the CSV files directly."""
    roles: dict[str, set[str]] = {k: set() for k in (
        "theme", "file_type", "media_type", "licence", "organisation", "language", "frequency",
        "access_right")}
    for _, row in table_rows("themes"):
        roles["theme"].add(row["eu_theme"])
        roles["theme"].update(row["owms_themes"].split("|"))
    for _, row in table_rows("formats"):
        roles["file_type"].add(row["file_type"])
        if row["media_type"]:
            roles["media_type"].add(row["media_type"])
    for _, row in table_rows("licences"):
        roles["licence"].update((row["uri"], row["donl"]))
    for _, row in table_rows("organisations"):
        roles["organisation"].add(row["uri"])
    for table, role in (("languages", "language"), ("frequencies", "frequency"),
                        ("access_rights", "access_right")):
        for _, row in table_rows(table):
            roles[role].update((row["uri"], row["donl"]))
    return roles


def test_vocabulary_graph_types_every_uri(m):
    g = m.vocabulary_graph()
    assert isinstance(g, rdflib.Graph)
    roles = _value_uris()
    extra_class = {
        "file_type": DCTERMS.MediaTypeOrExtent,
        "language": DCTERMS.LinguisticSystem,
        "frequency": DCTERMS.Frequency,
        "access_right": DCTERMS.RightsStatement,
    }
    total = 0
    for role, uris in roles.items():
        assert uris, role
        for uri in uris:
            total += 1
            node = rdflib.URIRef(uri)
            types = set(g.objects(node, RDF.type))
            assert types, uri
            assert m.label(uri) is not None, uri
            if role in ("theme", "file_type", "language", "frequency", "access_right"):
                assert SKOS.Concept in types, uri
                schemes = set(g.objects(node, SKOS.inScheme))
                assert len(schemes) == 1, uri
                assert (next(iter(schemes)), RDF.type, SKOS.ConceptScheme) in g
                assert any(lbl.language == "nl" for lbl in g.objects(node, SKOS.prefLabel)), uri
                if role in extra_class:
                    assert extra_class[role] in types, uri
            elif role == "media_type":
                assert DCTERMS.MediaType in types, uri
            elif role == "licence":
                assert DCTERMS.LicenseDocument in types, uri
            elif role == "organisation":
                assert FOAF.Agent in types, uri
                assert {n.language for n in g.objects(node, FOAF.name)} == {"nl", "en"}
    assert total > 200


def test_vocabulary_graph_links_licence_uri_and_donl_value(m):
    g = m.vocabulary_graph()
    lic = m.licence("cc-by")
    assert (rdflib.URIRef(lic.uri), SKOS.exactMatch, rdflib.URIRef(lic.donl)) in g
    pddl = m.licence("odc-pddl")  # its donl value is only the closest DONL licence (CC0)
    assert pddl.donl == m.licence("cc-zero").donl
    assert (rdflib.URIRef(pddl.uri), SKOS.exactMatch, rdflib.URIRef(pddl.donl)) not in g


# ---------------------------------------------------------------- malformed tables


def _expect_error(folder: Path, filename: str, line: int, *fragments: str) -> str:
    with pytest.raises(MappingError) as info:
        load_mappings(folder)
    message = str(info.value)
    assert filename in message, message
    assert f"line {line}" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_column_names_file_and_line(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "licences.csv"
    line = header_line(path)
    replace_line(path, lambda s: s.startswith("key,uri,donl,label"), "key,uri,label,note")
    _expect_error(folder, "licences.csv", line, "donl")


def test_bad_uri_names_file_and_line(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "organisations.csv"
    line = replace_line(path, lambda s: s.startswith("duo,"),
                        "duo,Dienst_Uitvoering_Onderwijs,Dienst Uitvoering Onderwijs,DUO,")
    _expect_error(folder, "organisations.csv", line, "uri", "URI")


def test_bad_uri_in_multi_valued_column(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "themes.csv"
    line = replace_line(
        path, lambda s: s.startswith("basisonderwijs,"),
        f"basisonderwijs,{EU}data-theme/EDUC,{OWMS}Basisonderwijs_(thema)|not a uri,"
        "Basisonderwijs,",
    )
    _expect_error(folder, "themes.csv", line, "owms_themes", "not a uri")


def test_duplicate_key_names_both_lines(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "formats.csv"
    first = next(n for n, row in table_rows("formats") if row["key"] == "csv")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"CSV,{EU}file-type/CSV,{IANA}text/csv,CSV,yes,yes,\n")
    last = len(path.read_text(encoding="utf-8").splitlines())
    message = _expect_error(folder, "formats.csv", last, "duplicate key")
    assert f"line {first}" in message


def test_wrong_number_of_fields(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "frequencies.csv"
    line = replace_line(path, lambda s: s.startswith("daily,"), "daily,only-two-fields")
    _expect_error(folder, "frequencies.csv", line, "expected 5 fields")


def test_bad_boolean(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "formats.csv"
    line = replace_line(
        path, lambda s: s.startswith("json,"),
        f"json,{EU}file-type/JSON,{IANA}application/json,JSON,maybe,yes,",
    )
    _expect_error(folder, "formats.csv", line, "machine_readable", "yes or no")


def test_empty_required_value(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "languages.csv"
    line = replace_line(path, lambda s: s.startswith("en,"),
                        f"en,{EU}language/ENG,{EU}language/ENG,,")
    _expect_error(folder, "languages.csv", line, "label")


def test_inconsistent_values_for_the_same_uri(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "access_rights.csv"
    line = replace_line(
        path, lambda s: s.startswith("openbaar,"),
        f"openbaar,{EU}access-right/PUBLIC,{EU}access-right/PUBLIC,Openbaar,",
    )
    _expect_error(folder, "access_rights.csv", line, "same")


def test_theme_uri_without_its_own_row(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "themes.csv"
    line = replace_line(
        path, lambda s: s.startswith("basisonderwijs,"),
        f"basisonderwijs,{EU}data-theme/EDUC,{OWMS}Niet_bestaand_thema,Basisonderwijs,",
    )
    _expect_error(folder, "themes.csv", line, "Niet_bestaand_thema", "row of its own")


def test_uri_without_a_scheme(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "organisations.csv"
    line = replace_line(path, lambda s: s.startswith("duo,"),
                        "duo,https://example.org/duo,Dienst Uitvoering Onderwijs,DUO,")
    _expect_error(folder, "organisations.csv", line, "scheme")


def test_unreadable_file(tmp_path):
    folder = copy_tables(tmp_path)
    (folder / "frequencies.csv").unlink()
    with pytest.raises(MappingError) as info:
        load_mappings(folder)
    assert "frequencies.csv" in str(info.value) and "not found" in str(info.value)


def test_invalid_utf8_names_line(tmp_path):
    folder = copy_tables(tmp_path)
    path = folder / "languages.csv"
    data = path.read_bytes().replace(b"Duits", b"Du\xffits", 1)
    path.write_bytes(data)
    line = data[: data.index(b"\xff")].count(b"\n") + 1
    _expect_error(folder, "languages.csv", line, "UTF-8")


def test_table_path_that_is_a_folder(tmp_path):
    folder = copy_tables(tmp_path)
    (folder / "schemes.csv").unlink()
    (folder / "schemes.csv").mkdir()
    with pytest.raises(MappingError) as info:
        load_mappings(folder)
    assert "schemes.csv" in str(info.value)


def test_missing_folder(tmp_path):
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


# ---------------------------------------------------------------- cross-checks with ../shared


def _edurep_mimetypes(shared_dir: Path) -> list[str]:
    seed = shared_dir / "seeds" / "001_5f326af084eaffc8.txt"
    lines = seed.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("mime type technisch"))
    mimetypes = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        mimetypes.append(line.split()[0])
    return mimetypes


def test_every_edurep_mimetype_is_covered(m, shared_dir):
    mimetypes = _edurep_mimetypes(shared_dir)
    assert len(mimetypes) > 50
    missing = [mt for mt in mimetypes if m.file_format(mt) is None]
    assert not missing


def _hierarchy_uris(shared_dir: Path) -> set[str]:
    hierarchy = json.loads(
        (shared_dir / "reference/valuelists/donl-ckan/hierarchy_theme.json").read_text("utf-8")
    )
    return set(hierarchy) | {value[0] for value in hierarchy.values()}


def test_every_owms_theme_uri_is_in_the_donl_hierarchy(shared_dir):
    valid = _hierarchy_uris(shared_dir)
    used = set()
    for line, row in table_rows("themes"):
        for uri in row["owms_themes"].split("|"):
            assert uri in valid, f"themes.csv line {line}: {uri}"
            used.add(uri)
        if row["key"].startswith(OWMS):
            assert row["key"] in valid, f"themes.csv line {line}: {row['key']}"
    assert used == valid  # the table covers the whole taxonomy


def test_eu_codes_exist_in_the_reference_nal_or_are_marked_newer(shared_dir):
    nal = shared_dir / "reference/valuelists/eu-nal-2016"

    def codes(filename: str) -> set[str]:
        g = rdflib.Graph()
        g.parse(nal / filename)
        return {str(s) for s in g.subjects(SKOS.inScheme, None)}

    file_types = codes("filetypes-skos-ap-act.rdf")
    for line, row in table_rows("formats"):
        if row["file_type"] not in file_types:
            assert "newer EU code" in row["note"], f"formats.csv line {line}: {row['file_type']}"
    themes = codes("data-theme-skos-ap-act.rdf")
    for line, row in table_rows("themes"):
        assert row["eu_theme"] in themes, f"themes.csv line {line}"
    frequencies = codes("frequencies-skos-ap-act.rdf")
    for line, row in table_rows("frequencies"):
        if row["uri"] not in frequencies:
            assert "newer EU code" in row["note"], f"frequencies.csv line {line}"


def test_organisation_uris_are_in_the_donl_list(shared_dir):
    orgs = json.loads((shared_dir / "reference/valuelists/donl-waardelijsten-2023/"
                       "donl_organization.json").read_text("utf-8"))
    for line, row in table_rows("organisations"):
        assert row["uri"] in orgs, f"organisations.csv line {line}: {row['uri']}"


def test_donl_language_and_licence_values_are_in_the_donl_lists(shared_dir):
    languages = json.loads((shared_dir / "reference/valuelists/donl-waardelijsten-2023/"
                            "donl_language.json").read_text("utf-8"))
    for line, row in table_rows("languages"):
        assert row["donl"] in languages, f"languages.csv line {line}"
    g = rdflib.Graph()
    g.parse(shared_dir / "reference/valuelists/dcat-ap-donl-2.0/taxonomy/licenses.ttl")
    licences = {str(o) for o in g.objects(None, SKOS.hasTopConcept)}
    for line, row in table_rows("licences"):
        assert row["donl"] in licences, f"licences.csv line {line}: {row['donl']}"


def test_donl_access_right_terms_follow_the_reference(m, shared_dir):
    folder = shared_dir / "reference/valuelists/dcat-ap-donl-2.0/term/access-rights"
    for path in sorted(folder.glob("*.ttl")):
        g = rdflib.Graph()
        g.parse(path)
        term = next(iter(g.subjects(RDF.type, SKOS.Concept)))
        eu = next(iter(g.objects(term, SKOS.exactMatch)), None) or next(
            iter(g.objects(term, SKOS.broader)))
        concept = m.access_rights(str(term))
        assert concept is not None, term
        assert concept.uri == str(eu), term
