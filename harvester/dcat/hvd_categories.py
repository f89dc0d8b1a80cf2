"""High-value datasets: the EU HVD category list and which datasets a source marks high-value.

`HvdCategories` is mappings/hvd_categories.csv (written from the EU list by
tools/hvd_categories.py): lookups by code or URI, the closest category to a wrong value,
and the list's triples for the vocabulary graph. `HighValueMarking` is what the configuration's
`[sources.NAME.high_value]` (dataset name or CKAN id -> categories) and
`[[sources.NAME.high_value_rules]]` (a tag, group or field value -> categories) say, with every
category checked against the list and resolved to its URI (`high_value_marking`); its
`categories_for(package)` gives a package's categories. harvester.dcat.hvd is the mapping step.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from harvester.config import MAPPINGS_DIR
from harvester.dcat.fields import as_list, first_given, text_of
from harvester.dcat.table_files import TableSpec, check_row, fail, read_table
from harvester.dcat.terms import term
from harvester.errors import ConfigError

__all__ = ["HVD_LEGISLATION", "HVD_SCHEME", "HighValueMarking", "HighValueRule", "HvdCategories",
           "HvdCategory", "high_value_marking", "legislation_triples", "load_hvd_categories"]

#: the EU list of HVD categories (a skos:ConceptScheme)
HVD_SCHEME = "http://data.europa.eu/bna/asd487ae75"
#: Commission Implementing Regulation (EU) 2023/138, the HVD regulation: the
#: dcatap:applicableLegislation of every high-value dataset
HVD_LEGISLATION = "http://data.europa.eu/eli/reg_impl/2023/138/oj"
HVD_SCHEME_LABELS = (("Categorieën van hoogwaardige datasets", "nl"),
                     ("High-value dataset categories", "en"))
_LEGAL_RESOURCE = "http://data.europa.eu/eli/ontology#LegalResource"
_LEGISLATION_TITLES = (
    ("Uitvoeringsverordening (EU) 2023/138 van de Commissie (hoogwaardige datasets)", "nl"),
    ("Commission Implementing Regulation (EU) 2023/138 (high-value datasets)", "en"),
)


def legislation_triples() -> tuple:
    """The HVD regulation as an eli:LegalResource with its title (in a high-value dataset's
    graph and in the vocabulary graph)."""
    law = term(HVD_LEGISLATION)
    return ((law, term(str(RDF.type)), term(_LEGAL_RESOURCE)),
            *((law, term(str(DCTERMS.title)), Literal(title, lang=lang))
              for title, lang in _LEGISLATION_TITLES))

SPEC = TableSpec("hvd_categories", ("uri", "code", "label_nl", "label_en"),
                 optional=("parent",), uri_columns=(("uri", "single"),))


@dataclass(frozen=True)
class HvdCategory:
    uri: str
    code: str
    label_nl: str
    label_en: str
    parent: str  # the code of the broader category; "" for a top category

    def __str__(self) -> str:
        return f"{self.code} ({self.label_nl} / {self.label_en})"


def _key(value: str) -> str:
    """A category's lookup key: its code, from a code or a URI (http or https, with or without a
    trailing slash), case-insensitive."""
    text = value.strip().rstrip("/").casefold()
    for prefix in ("http://data.europa.eu/bna/", "https://data.europa.eu/bna/"):
        text = text.removeprefix(prefix)
    return text


class HvdCategories:
    """The HVD category list (hvd_categories.csv), checked; `digest` is the file's SHA-256."""

    def __init__(self, path: Path) -> None:
        self.path = path
        raw, rows = read_table(path, SPEC)
        self.digest = hashlib.sha256(raw).digest()
        self._by_key: dict[str, HvdCategory] = {}
        for row in rows:
            check_row(path, SPEC, row)
            category = HvdCategory(*(row[c] for c in SPEC.columns))
            if _key(category.uri) != _key(category.code):
                raise fail(path, row.line, f"uri {category.uri} does not end in its code "
                           f"{category.code!r}; expected http://data.europa.eu/bna/<code>")
            if _key(category.code) in self._by_key:
                raise fail(path, row.line, f"duplicate code {category.code!r}; expected each "
                           "category once")
            self._by_key[_key(category.code)] = category
        for row in rows:
            if row["parent"] and _key(row["parent"]) not in self._by_key:
                raise fail(path, row.line, f"parent {row['parent']!r} is not a code of this "
                           "list")

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[HvdCategory]:
        return iter(self._by_key.values())

    def get(self, value: str) -> HvdCategory | None:
        """The category with this code or URI, None when the list has none."""
        return self._by_key.get(_key(value)) if value else None

    def closest(self, value: str) -> HvdCategory | None:
        """The category whose code or label is most like `value` (for a suggestion)."""
        names: dict[str, HvdCategory] = {}
        for category in self:
            for name in (category.code, category.label_nl, category.label_en):
                names.setdefault(name.casefold(), category)
        found = difflib.get_close_matches(_key(value), list(names), n=1, cutoff=0.5)
        return names[found[0]] if found else None

    def triples(self) -> Iterator[tuple]:
        """The list as background knowledge: a skos:ConceptScheme, each category a
        skos:Concept in it with its Dutch and English skos:prefLabel, and the HVD regulation."""
        yield from legislation_triples()
        scheme = URIRef(HVD_SCHEME)
        yield scheme, RDF.type, SKOS.ConceptScheme
        for label, lang in HVD_SCHEME_LABELS:
            yield scheme, SKOS.prefLabel, Literal(label, lang=lang)
            yield scheme, DCTERMS.title, Literal(label, lang=lang)
        for category in self:
            node = URIRef(category.uri)
            yield node, RDF.type, SKOS.Concept
            yield node, SKOS.inScheme, scheme
            yield node, SKOS.prefLabel, Literal(category.label_nl, lang="nl")
            yield node, SKOS.prefLabel, Literal(category.label_en, lang="en")


def load_hvd_categories(folder: Path) -> HvdCategories:
    """hvd_categories.csv of the mapping folder `folder`, else the one shipped in the package
    (a folder of one's own tables made before the list existed need not copy the EU list)."""
    path = Path(folder) / SPEC.filename
    return HvdCategories(path if path.exists() else MAPPINGS_DIR / SPEC.filename)


# --- marking datasets high-value ----------------------------------------------------------------

#: the keys of a rule that say which packages it marks (exactly one per rule; `field` goes
#: with `value`)
RULE_SELECTORS = ("tag", "group", "field")


@dataclass(frozen=True)
class HighValueRule:
    """One `[[sources.NAME.high_value_rules]]` entry: packages with the tag / group `value`, or
    whose field or extra `field` holds `value` (case-insensitive), get `categories` (URIs)."""

    selector: str
    value: str
    categories: tuple[str, ...]
    field: str = ""

    def matches(self, package: Mapping[str, Any], extras: Mapping[str, Any]) -> bool:
        wanted = self.value.casefold()
        return any(found.casefold() == wanted for found in self._values(package, extras))

    def _values(self, package: Mapping[str, Any], extras: Mapping[str, Any]) -> list[str]:
        if self.selector == "field":
            return [text_of(v) for v in as_list(first_given(package, extras, self.field))]
        items = as_list(package.get("tags" if self.selector == "tag" else "groups"))
        keys = ("name", "display_name") if self.selector == "tag" else ("name", "id")
        return [text_of(item.get(k)) if isinstance(item, dict) else text_of(item)
                for item in items for k in (keys if isinstance(item, dict) else keys[:1])]


@dataclass(frozen=True)
class HighValueMarking:
    """Which packages are high-value datasets, and their HVD categories (URIs)."""

    #: (dataset name or CKAN id, its categories), sorted
    datasets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    rules: tuple[HighValueRule, ...] = ()

    def categories_for(self, package: Mapping[str, Any],
                       extras: Mapping[str, Any]) -> tuple[str, ...]:
        """The package's categories: those of its name or id, then of each rule it matches,
        each once; empty for a package that is not high-value."""
        names = {text_of(package.get("name")), text_of(package.get("id"))} - {""}
        found = [uri for key, uris in self.datasets if key in names for uri in uris]
        found += [uri for rule in self.rules if rule.matches(package, extras)
                  for uri in rule.categories]
        return tuple(dict.fromkeys(found))


def high_value_marking(datasets: Mapping[str, tuple[str, ...]], rules: list[dict[str, Any]],
                       categories: HvdCategories, file: str,
                       source: str) -> HighValueMarking | None:
    """The marking the configuration's `high_value` table and `high_value_rules` give (both
    checked in shape by harvester.config), each category resolved to its URI; None when they
    mark nothing. An unknown category is a ConfigError naming the file, the table, the key and
    the value, with the closest category of the list."""
    if not datasets and not rules:
        return None
    table = f"{file} [sources.{source}.high_value]"
    marked = tuple(sorted(
        (name, _resolve(values, categories, f"{table}: key {name!r}"))
        for name, values in datasets.items()))
    made = []
    for i, rule in enumerate(rules, 1):
        selector = next(key for key in RULE_SELECTORS if key in rule)
        made.append(HighValueRule(
            selector=selector, value=rule["value" if selector == "field" else selector],
            field=rule.get("field", ""),
            categories=_resolve(rule["category"], categories,
                                f"{file} [[sources.{source}.high_value_rules]] rule {i}: "
                                "key 'category'")))
    return HighValueMarking(datasets=marked, rules=tuple(made))


def _resolve(values: tuple[str, ...], categories: HvdCategories, where: str) -> tuple[str, ...]:
    uris = []
    for value in values:
        found = categories.get(value)
        if found is None:
            near = categories.closest(value)
            hint = f"; did you mean {near.code!r}, {near.label_nl} / {near.label_en}?" \
                if near else ""
            raise ConfigError(f"{where}: {value!r} is not a category of the EU list of "
                              f"high-value dataset categories ({HVD_SCHEME}, "
                              f"{categories.path.name}); expected a code such as "
                              f"'c_e1da4e07' or its URI{hint}")
        uris.append(found.uri)
    return tuple(dict.fromkeys(uris))
