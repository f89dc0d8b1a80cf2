"""Package values looked up in a value table, with the source's default and fallback.

`resolve` reports what is missing or not in the table as MappingIssues; a `ValueRule` says
which table a kind of value is in and which options give its default and fallback (see
docs/mapping.md, "Defaults and fallbacks").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harvester.dcat.fields import text_of
from harvester.dcat.issues import Issues
from harvester.dcat.options import MappingOptions
from harvester.dcat.tables import lookup

__all__ = ["ACCESS_RIGHTS", "FORMAT", "FREQUENCY", "LANGUAGE", "LICENCE", "THEME", "ValueRule",
           "resolve"]


@dataclass(frozen=True)
class ValueRule:
    """How one kind of value is looked up: `what` names it in messages, `table` is its value
    table and `lookup` the Mappings method that looks it up, `fallback_key` and `default_key`
    the options giving its fallback and default. `required` False: no value and no default is
    no issue. `many`: every value that maps is kept, else the first."""

    what: str
    table: str
    lookup: str
    fallback_key: str
    default_key: str | None = None
    required: bool = True
    many: bool = False

    def fallback(self, options: MappingOptions) -> str | None:
        return getattr(options, self.fallback_key)

    def default(self, options: MappingOptions) -> str | None:
        return getattr(options, self.default_key) if self.default_key else None


THEME = ValueRule("theme", "themes", "theme", "theme_fallback", many=True)
ACCESS_RIGHTS = ValueRule("access right", "access_rights", "access_rights",
                          "access_rights_fallback", "access_rights")
LANGUAGE = ValueRule("language", "languages", "language", "language_fallback",
                     "default_language", many=True)
FREQUENCY = ValueRule("frequency", "frequencies", "frequency", "frequency_fallback",
                      "frequency", required=False)
LICENCE = ValueRule("licence", "licences", "licence", "licence_fallback")
FORMAT = ValueRule("format", "formats", "file_format", "format_fallback")


def resolve(mappings: Any, values: list[Any], field: str, issues: Issues, rule: ValueRule,
            options: MappingOptions) -> list[Any]:
    """Look `values` up in the rule's value table; report what is missing or unmapped, naming
    `field` and the value.

    When some value maps, the unmapped ones are warnings (left out). When none maps: the
    fallback is used (the issues are warnings) or, without one, they are errors. When no value
    is given: the default applies silently; else the fallback (warning); else an error, unless
    the rule is not `required`.
    """
    table = getattr(mappings, rule.lookup)
    found, unmapped = _look_up(table, values, rule.many)
    if found:
        for text in unmapped:
            issues.warning(field, text, f"{rule.what} {text!r} is not in the {rule.table} "
                                        "table; left out")
        return found
    if unmapped:
        return _unmapped(table, unmapped, field, issues, rule, options)
    return _not_given(table, field, issues, rule, options)


def _look_up(table: Any, values: list[Any], many: bool) -> tuple[list[Any], list[str]]:
    """(the table's entries for `values`, the values not in the table), each without repeats;
    without `many` the lookup stops at the first value that maps."""
    found: list[Any] = []
    unmapped: list[str] = []
    for value in values:
        text = text_of(value)
        if not text:
            continue
        hit = lookup(table, text)
        if hit is None:
            if text not in unmapped:
                unmapped.append(text)
        elif hit not in found:
            found.append(hit)
        if found and not many:
            break
    return found, unmapped


def _fallback(table: Any, field: str, issues: Issues, rule: ValueRule,
              options: MappingOptions) -> Any:
    """The fallback's entry; an error when the configured fallback is not in the table."""
    fallback = rule.fallback(options)
    if not fallback:
        return None
    hit = lookup(table, fallback)
    if hit is None:
        issues.error(field, fallback, f"the configured {rule.fallback_key} {fallback!r} is not "
                                      f"in the {rule.table} table")
    return hit


def _unmapped(table: Any, unmapped: list[str], field: str, issues: Issues, rule: ValueRule,
              options: MappingOptions) -> list[Any]:
    hit = _fallback(table, field, issues, rule, options)
    fallback = rule.fallback(options)
    for text in unmapped:
        if hit is not None:
            issues.warning(field, text, f"{rule.what} {text!r} is not in the {rule.table} table; "
                                        f"using {rule.fallback_key} {fallback!r}")
        elif not fallback:
            issues.error(field, text, f"{rule.what} {text!r} is not in the {rule.table} table "
                                      f"and no {rule.fallback_key} is configured")
    return [hit] if hit is not None else []


def _not_given(table: Any, field: str, issues: Issues, rule: ValueRule,
               options: MappingOptions) -> list[Any]:
    default = rule.default(options)
    if default:
        hit = lookup(table, default)
        if hit is None:
            issues.error(field, default, f"the configured {rule.default_key} {default!r} is not "
                                         f"in the {rule.table} table")
        return [hit] if hit is not None else []
    if not rule.required:
        return []
    hit = _fallback(table, field, issues, rule, options)
    fallback = rule.fallback(options)
    if hit is not None:
        issues.warning(field, None, f"no {rule.what} given; using {rule.fallback_key} "
                                    f"{fallback!r}")
        return [hit]
    if not fallback:
        hint = f"{rule.default_key} or {rule.fallback_key}" if rule.default_key else \
            rule.fallback_key
        issues.error(field, None, f"no {rule.what} given (set {hint} in "
                                  "[sources.NAME.mapping])")
    return []
