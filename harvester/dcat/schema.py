"""A distribution's dct:conformsTo from its resource's `schema`, and the columns it names.

The `schema` (a resource field or extra, as CKAN's DataStore and ckanext-scheming give it) is a
URL, or a Frictionless table schema (a dict or JSON text with `fields`). A URL is linked as a
dct:Standard; a table schema becomes a dct:Standard of the distribution's own
(`<distribution>#schema`), titled, with its columns as dct:description, dct:conformsTo the Table
Schema spec and rdfs:seeAlso the resource's API URL.
"""

from __future__ import annotations

import json
from typing import Any

from harvester.dcat.fields import EMPTY, is_http, text_of, uri_part
from harvester.dcat.issues import issue_value
from harvester.dcat.package import PackageMapping
from harvester.dcat.rdf import DCT, RDFS, TABLE_SCHEMA_SPEC
from harvester.dcat.resource import Resource
from harvester.dcat.text import single_line

__all__ = ["add_schema", "column_names", "read_schema"]

#: DataStore's own row id column, which no table schema describes
_ROW_ID = "_id"


def read_schema(m: PackageMapping, r: Resource) -> dict | str | None:
    """The resource's `schema`: a URL, a table schema object, or None (a warning when it is
    given but neither)."""
    schema = r.res.get("schema")
    if schema in EMPTY:
        return None
    if isinstance(schema, str):
        text = schema.strip()
        if is_http(text):
            return text
        try:
            schema = json.loads(text)
        except ValueError:
            m.issues.warning(f"{r.where}.schema", text[:200], "neither a URL nor a JSON table "
                                                              "schema; left out")
            return None
    if not isinstance(schema, dict):
        m.issues.warning(f"{r.where}.schema", issue_value(schema)[:200], "not a table schema "
                                                                         "object; left out")
        return None
    return schema


def column_names(schema: dict | str | None) -> list[str]:
    """The names of a table schema's columns, in order (a URL or no schema: none)."""
    columns = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(columns, list):
        return []
    return [name for name in map(_column_name, columns) if name]


def _column_name(column: Any) -> str:
    """A column's `name` (a DataStore field's `id`); "" for DataStore's own row id column."""
    if not isinstance(column, dict):
        return ""
    name = text_of(column.get("name") or column.get("id"))
    return "" if name == _ROW_ID else name


def add_schema(m: PackageMapping, r: Resource, schema: dict | str | None) -> None:
    """dct:conformsTo: the schema's URL, or the table schema as a dct:Standard of its own."""
    if isinstance(schema, str):
        m.link(r.node, DCT.conformsTo, schema, DCT.Standard)
    elif isinstance(schema, dict):
        _table_schema(m, r, schema)


def _table_schema(m: PackageMapping, r: Resource, schema: dict) -> None:
    std = m.link(r.node, DCT.conformsTo, f"{r.uri}#schema", DCT.Standard)
    title = single_line(text_of(schema.get("title"))) or _schema_title(m, r.name)
    if title:
        m.add(std, DCT.title, m.source.text(title))
    columns = schema.get("fields")
    if isinstance(columns, list) and columns:
        m.link(std, DCT.conformsTo, TABLE_SCHEMA_SPEC, DCT.Standard)
        lines = [line for line in map(_column_line, columns) if line]
        if lines:
            m.add(std, DCT.description, m.source.text("\n".join(lines)))
    if r.rid:
        api = f"{m.portal}/api/3/action/resource_show?id={uri_part(r.rid)}"
        m.link(std, RDFS.seeAlso, api, RDFS.Resource)


def _schema_title(m: PackageMapping, name: str) -> str:
    if not name:
        return ""
    return f"{name} (kolomschema)" if m.source.lang == "nl" else f"{name} (table schema)"


def _column_line(column: Any) -> str:
    """A column of a table schema as "name (type): description" ("" when it has no name)."""
    line = _column_name(column)
    if not line:
        return ""
    if text_of(column.get("type")):
        line += f" ({text_of(column.get('type'))})"
    description = single_line(text_of(column.get("description")) or text_of(column.get("title")))
    return f"{line}: {description}" if description else line
