"""Per-source mapping settings: the `[sources.NAME.mapping]` table of the config file.

`MappingOptions.from_config` checks the table and builds MappingOptions (with its
DataServiceOptions and UrlRewrite rules); a bad value is a ConfigError naming the key and what
is expected. docs/mapping.md tells which option decides which DCAT-AP-NL property.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from harvester.dcat.fields import EMAIL, LANG_TAG
from harvester.dcat.hvd_categories import HighValueMarking
from harvester.errors import ConfigError
from harvester.source.context import SourceContext

__all__ = ["DOCUMENTATION_AS", "DataServiceOptions", "MappingOptions", "UrlRewrite", "catalog_uri",
           "portal_url"]

#: the values of `documentation_as`: a documentation resource is a foaf:page, or a distribution
DOCUMENTATION_AS = ("page", "distribution")


@dataclass(frozen=True)
class UrlRewrite:
    """One `url_rewrites` rule: the part of a URL that `pattern` (a regex, searched) matches is
    replaced by `replacement`, in which `{resource_id}` and `{package_id}` are filled in and
    regex group references (`\\1`, `\\g<name>`) work. The first matching rule wins; a rule
    that needs an id the resource lacks does not apply. Fields are plain strings (so
    `dataclasses.asdict` of the options is JSON-ready)."""

    pattern: str
    replacement: str

    @property
    def regex(self) -> re.Pattern:
        return re.compile(self.pattern)

    def apply(self, url: str, resource_id: str, package_id: str) -> str | None:
        """`url` rewritten, or None when the rule does not apply to it."""
        match = self.regex.search(url)
        if match is None:
            return None
        if ("{resource_id}" in self.replacement and not resource_id) or (
            "{package_id}" in self.replacement and not package_id
        ):
            return None
        expanded = match.expand(self.replacement).replace("{resource_id}", resource_id) \
            .replace("{package_id}", package_id)
        return url[:match.start()] + expanded + url[match.end():]


@dataclass
class DataServiceOptions:
    """`[sources.NAME.mapping.data_service]`: the source's API as a dcat:DataService.

    Keys: `uri` (its URI), `title`, `description`, `endpoint_url` (dcat:endpointURL),
    `endpoint_description` (dcat:endpointDescription: URL of the API's public documentation),
    `licence` (licences table value), `themes` (list of group names or theme URIs, at least one
    must give an EU data theme) are required. Optional: `identifier` (default: `uri`),
    `access_rights` (default: the source's `access_rights`), `publisher` (organisations table
    name or URI; default: `catalog_publisher`), `creator` (default: the publisher), `keywords`
    (list), `language` (language code; default: `default_language`), `landing_page`,
    `documentation` (list of URLs, foaf:page), `conforms_to` (list of standard URIs).
    """

    uri: str
    title: str
    description: str
    endpoint_url: str
    endpoint_description: str
    licence: str
    themes: tuple[str, ...]
    identifier: str | None = None
    access_rights: str | None = None
    publisher: str | None = None
    creator: str | None = None
    keywords: tuple[str, ...] = ()
    language: str | None = None
    landing_page: str | None = None
    documentation: tuple[str, ...] = ()
    conforms_to: tuple[str, ...] = ()

    _REQUIRED = ("uri", "title", "description", "endpoint_url", "endpoint_description",
                 "licence", "themes")
    _OPTIONAL = ("identifier", "access_rights", "publisher", "creator", "keywords", "language",
                 "landing_page", "documentation", "conforms_to")
    _URLS = ("uri", "endpoint_url", "endpoint_description", "landing_page")
    _URL_LISTS = ("documentation", "conforms_to")
    _LISTS = ("themes", "keywords", *_URL_LISTS)

    @classmethod
    def from_config(cls, table: Any, where: str) -> DataServiceOptions:
        """Check a `[sources.NAME.mapping.data_service]` table and build the options."""
        where = f"{where} data_service"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table with keys "
                              f"{', '.join(cls._REQUIRED)} (got {table!r})")
        _check_keys(table, {*cls._REQUIRED, *cls._OPTIONAL}, where)
        for key in cls._REQUIRED:
            if key not in table or table[key] in ("", [], None):
                raise ConfigError(f"{where}: key {key!r} is required "
                                  f"({_DATA_SERVICE_HELP[key]})")
        return cls(**{key: cls._value(table[key], key, where)
                      for key in (*cls._REQUIRED, *cls._OPTIONAL) if key in table})

    @classmethod
    def _value(cls, value: Any, key: str, where: str) -> Any:
        if key not in cls._LISTS:
            text = _str_value(value, key, where)
            return _check_http(text, key, where) if key in cls._URLS else text
        items = _str_list(value, key, where)
        if key in cls._URL_LISTS:
            for item in items:
                _check_http(item, f"{key} item", where)
        return items


_DATA_SERVICE_HELP = {
    "uri": "the service's URI, an http(s) URL",
    "title": "the service's name",
    "description": "a description of the service; DCAT-AP-NL makes it mandatory",
    "endpoint_url": "the API's root URL, e.g. .../api/3/action/datastore_search",
    "endpoint_description": "the URL of the API's public documentation",
    "licence": "a value of the licences table, e.g. a CKAN licence id or licence URI",
    "themes": "a list of group names or theme URIs giving at least one EU data theme",
}


@dataclass
class MappingOptions:
    """Per-source mapping settings: the `[sources.NAME.mapping]` table of the config file.

    Nothing DUO-specific is built in: a source's portal, catalogue, contact point and defaults
    all come from this table. Treat an instance as read-only once it has been used: the mapper
    caches what it derives from it. Keys (all optional unless a rule below needs them):

    Portal and catalogue
      `portal_url`            the CKAN portal's base URL; dataset/distribution URIs and landing
                              pages are built on it (default: the source context's base_url).
      `landing_page`          template of a dataset's landing page; `{portal_url}`, `{name}`,
                              `{id}` are filled in (default "{portal_url}/dataset/{name}").
      `catalog_uri`           the dcat:Catalog's URI (default "<portal_url>/catalog").
      `catalog_title`         the catalogue's title (required for the catalogue export).
      `catalog_description`   the catalogue's description (required for the catalogue export).
      `catalog_publisher`     the catalogue's publisher: a name or URI of the organisations
                              table (required for the catalogue export).
      `catalog_creator`       the catalogue's creator (organisations table; optional,
                              DCAT-AP-NL recommends it).
      `catalog_homepage`      the catalogue's foaf:homepage (default: `portal_url`).
      `catalog_licence`       the catalogue's own licence (licences table; optional).
      `default_language`      language code of the metadata text (literal tags) and the default
                              dct:language of datasets/records (default "nl").

    Contact point (used when a package names none with an e-mail address or URL)
      `contact_name`          vcard:fn of the source's contact point.
      `contact_email`         its e-mail address (becomes a mailto: URI).
      `contact_url`           its contact web page. `contact_email` or `contact_url` is needed.
      `contact_uri`           URI of that vcard:Kind node (default "<catalog_uri>#contact").

    Defaults and fallbacks (values are looked up in the mapping tables). A *default* applies
    silently when the package has no value; a *fallback* applies, with a warning issue, when the
    package's value is missing or not in the table. Without either the dataset gets an error.
      `access_rights`         default access right (e.g. "public" or an EU access-right URI).
      `access_rights_fallback`  fallback for an access right not in the table.
      `frequency`             default dct:accrualPeriodicity (optional property: no default, no
                              property).
      `frequency_fallback`    fallback for a frequency not in the table.
      `language_fallback`     fallback for a language not in the table.
      `licence_fallback`      licence for a package whose licence is missing or not in the table.
      `licence_overrides`     table package name or id -> licence value, for packages whose own
                              licence field is known to be wrong.
      `theme_fallback`        theme (group name or theme URI) for a package with no EU theme.
      `format_fallback`       file type for a resource whose format is missing or not in the table.
      `organisation_fallback` publisher (organisations table) for a package whose organisation is
                              missing or not in the table.
      `creator_is_publisher`  true: a package without author/creator gets its publisher as
                              dct:creator (default false: that is an error).

    Resources
      `url_rewrites`          list of {pattern (regex), replacement} tables; replacement may use
                              {resource_id} and {package_id}. Applied to every resource URL.
      `documentation_types`   resource_type values that mark a resource as documentation
                              (default ["documentation"]).
      `documentation_formats` resource formats (CKAN `format`, case-insensitive) that mark a
                              resource as documentation too, e.g. ["PDF"] (default: none).
      `documentation_as`      how a documentation resource is published: "page" (default), a
                              foaf:page of the dataset titled with the resource's name, or
                              "distribution", a dcat:Distribution like any other resource.
      `description_max_length`  longer descriptions are kept whole with a warning (default 2000).
      `data_service`          the source's API as a dcat:DataService (see DataServiceOptions);
                              distributions of resources with `datastore_active` true link to it
                              with dcat:accessService.

    High-value datasets (not a key of this table: built from the source's `high_value` and
    `high_value_rules`, see harvester.dcat.hvd_categories and `from_config`)
      `high_value`            which packages are high-value datasets and their HVD categories
                              (None: none).
    """

    portal_url: str | None = None
    landing_page: str = "{portal_url}/dataset/{name}"
    catalog_uri: str | None = None
    catalog_title: str | None = None
    catalog_description: str | None = None
    catalog_publisher: str | None = None
    catalog_creator: str | None = None
    catalog_homepage: str | None = None
    catalog_licence: str | None = None
    default_language: str = "nl"
    contact_name: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None
    contact_uri: str | None = None
    access_rights: str | None = None
    access_rights_fallback: str | None = None
    frequency: str | None = None
    frequency_fallback: str | None = None
    language_fallback: str | None = None
    licence_fallback: str | None = None
    licence_overrides: dict[str, str] = field(default_factory=dict)
    theme_fallback: str | None = None
    format_fallback: str | None = None
    organisation_fallback: str | None = None
    creator_is_publisher: bool = False
    url_rewrites: tuple[UrlRewrite, ...] = ()
    documentation_types: tuple[str, ...] = ("documentation",)
    documentation_formats: tuple[str, ...] = ()
    documentation_as: str = "page"
    description_max_length: int = 2000
    data_service: DataServiceOptions | None = None
    high_value: HighValueMarking | None = None

    _STRINGS = (
        "portal_url", "landing_page", "catalog_uri", "catalog_title", "catalog_description",
        "catalog_publisher", "catalog_creator", "catalog_homepage", "catalog_licence",
        "default_language", "contact_name", "contact_email", "contact_url", "contact_uri",
        "access_rights", "access_rights_fallback", "frequency", "frequency_fallback",
        "language_fallback", "licence_fallback", "theme_fallback", "format_fallback",
        "organisation_fallback", "documentation_as",
    )
    _URLS = ("portal_url", "catalog_uri", "catalog_homepage", "contact_url", "contact_uri")

    # The mapper's per-source state for these options lives in the instance attribute
    # `_mapper_cache`, which is not a dataclass field: asdict(), ==, repr() and pickling leave
    # it out.

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_mapper_cache", None)
        return state

    @classmethod
    def known_keys(cls) -> list[str]:
        """Every key the `[sources.NAME.mapping]` table accepts."""
        return sorted(set(cls._STRINGS) | {key for key, _ in _CHECKS})

    @classmethod
    def from_config(cls, table: Mapping[str, Any] | None, where: str, *,
                    high_value: HighValueMarking | None = None) -> MappingOptions:
        """Check a `[sources.NAME.mapping]` table and build the options (with the source's
        high-value marking, checked by harvester.dcat.hvd_categories.high_value_marking).

        Raises ConfigError naming `where`, the key and what is expected, for an unknown key or a
        value of the wrong kind. Every string is checked first, then the keys of `_CHECKS` in
        their order.
        """
        table = dict(table or {})
        _check_keys(table, set(cls.known_keys()), where)
        values: dict[str, Any] = {}
        for key in cls._STRINGS:
            if key in table:
                values[key] = _str_value(table[key], key, where)
                if key in cls._URLS:
                    _check_http(values[key], key, where)
        for key, check in _CHECKS:
            if key in table:
                values[key] = check(values.get(key, table[key]), table[key], where)
        return cls(**values, high_value=high_value)


def portal_url(options: MappingOptions, context: SourceContext | None) -> str:
    """The CKAN portal's base URL: `portal_url`, else the source context's base_url."""
    portal = options.portal_url or (context.base_url if context is not None else "")
    portal = (portal or "").rstrip("/")
    if not portal:
        raise ConfigError("mapping option 'portal_url' is not set and the source context has "
                          "no base_url; set portal_url in [sources.NAME.mapping]")
    return portal


def catalog_uri(options: MappingOptions, portal: str) -> str:
    """The dcat:Catalog's URI: `catalog_uri`, else <portal>/catalog."""
    return options.catalog_uri or f"{portal}/catalog"


# --- the checks of the keys that are not plain strings ------------------------------------------
#
# Each takes (the value: the checked string for a string key, else the table's value; the
# table's value; where) and returns the option's value or raises ConfigError.


def _portal(value: str, raw: Any, where: str) -> str:
    return value.rstrip("/")


def _contact_email(value: str, raw: Any, where: str) -> str:
    email = value.removeprefix("mailto:")
    if not EMAIL.match(email):
        raise ConfigError(f"{where}: key 'contact_email' must be an e-mail address, got {raw!r}")
    return email


def _language(value: str, raw: Any, where: str) -> str:
    if not LANG_TAG.match(value):
        raise ConfigError(f"{where}: key 'default_language' must be a language code such as "
                          f"'nl' or 'en', got {value!r}")
    return value


def _landing_page(value: str, raw: Any, where: str) -> str:
    _check_template(value, "landing_page", where, ("portal_url", "name", "id"))
    return value


def _flag(key: str) -> Callable[[Any, Any, str], bool]:
    def check(value: Any, raw: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: key {key!r} must be true or false, got {value!r}")
        return value
    return check


def _documentation_as(value: str, raw: Any, where: str) -> str:
    if value not in DOCUMENTATION_AS:
        raise ConfigError(f"{where}: key 'documentation_as' must be one of "
                          f"{', '.join(map(repr, DOCUMENTATION_AS))}, got {raw!r}")
    return value


def _max_length(value: Any, raw: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where}: key 'description_max_length' must be a positive integer, "
                          f"got {value!r}")
    return value


def _lower_list(key: str) -> Callable[[Any, Any, str], tuple[str, ...]]:
    def check(value: Any, raw: Any, where: str) -> tuple[str, ...]:
        return tuple(v.lower() for v in _str_list(value, key, where))
    return check


def _licence_overrides(value: Any, raw: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ConfigError(f"{where}: key 'licence_overrides' must be a table of package name or "
                          f"id = licence value, got {value!r}")
    return dict(value)


def _data_service(value: Any, raw: Any, where: str) -> DataServiceOptions:
    return DataServiceOptions.from_config(value, where)


def _url_rewrites(value: Any, raw: Any, where: str) -> tuple[UrlRewrite, ...]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: key 'url_rewrites' must be a list of tables "
                          f"{{pattern = \"regex\", replacement = \"url\"}}, got {value!r}")
    return tuple(_url_rewrite(rule, f"{where}: url_rewrites[{i}]") for i, rule in enumerate(value))


#: (key, check) for every key that is not a plain string, in the order they are checked
_CHECKS: tuple[tuple[str, Callable[[Any, Any, str], Any]], ...] = (
    ("portal_url", _portal),
    ("contact_email", _contact_email),
    ("default_language", _language),
    ("landing_page", _landing_page),
    ("creator_is_publisher", _flag("creator_is_publisher")),
    ("documentation_as", _documentation_as),
    ("description_max_length", _max_length),
    ("documentation_types", _lower_list("documentation_types")),
    ("documentation_formats", _lower_list("documentation_formats")),
    ("licence_overrides", _licence_overrides),
    ("url_rewrites", _url_rewrites),
    ("data_service", _data_service),
)


# --- config helpers -----------------------------------------------------------------------------


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; expected one of: "
                              f"{', '.join(sorted(allowed))}")


def _str_value(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: key {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _str_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise ConfigError(f"{where}: key {key!r} must be a list of non-empty strings, "
                          f"got {value!r}")
    return tuple(v.strip() for v in value)


def _check_http(value: str, key: str, where: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value:
        raise ConfigError(f"{where}: key {key!r} must be an http(s) URL, got {value!r}")
    return value


def _check_template(value: str, key: str, where: str, names: tuple[str, ...]) -> None:
    try:
        value.format(**{n: "x" for n in names})
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{where}: key {key!r} may only use the placeholders "
                          f"{', '.join('{' + n + '}' for n in names)}; got {value!r} ({exc})"
                          ) from None


def _check_group_refs(pattern: re.Pattern, replacement: str) -> None:
    for number, name in re.findall(r"\\(\d+)|\\g<([^>]*)>", replacement):
        key = number or name
        if key.isdigit():
            if int(key) > pattern.groups:
                raise re.error(f"no group {key}")
        elif key not in pattern.groupindex:
            raise re.error(f"no group named {key!r}")


def _url_rewrite(rule: Any, here: str) -> UrlRewrite:
    if not isinstance(rule, dict):
        raise ConfigError(f"{here} must be a table {{pattern, replacement}}, got {rule!r}")
    _check_keys(rule, {"pattern", "replacement"}, here)
    for key in ("pattern", "replacement"):
        if not isinstance(rule.get(key), str) or not rule[key]:
            raise ConfigError(f"{here}: key {key!r} is required and must be a non-empty "
                              f"string, got {rule.get(key)!r}")
    try:
        pattern = re.compile(rule["pattern"])
    except re.error as exc:
        raise ConfigError(f"{here}: key 'pattern' is not a valid regular expression "
                          f"({exc}): {rule['pattern']!r}") from None
    bad = set(re.findall(r"\{([^{}]*)\}", rule["replacement"])) - {"resource_id", "package_id"}
    if bad:
        raise ConfigError(f"{here}: key 'replacement' may only use the placeholders "
                          f"{{resource_id}} and {{package_id}}, got {sorted(bad)}")
    try:  # group references must exist in the pattern
        _check_group_refs(pattern, rule["replacement"])
    except (re.error, IndexError) as exc:
        raise ConfigError(f"{here}: key 'replacement' refers to a group the pattern does "
                          f"not have ({exc}): {rule['replacement']!r}") from None
    return UrlRewrite(rule["pattern"], rule["replacement"])
