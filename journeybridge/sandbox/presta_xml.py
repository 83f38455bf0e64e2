"""The PrestaShop Webservice's wire formats: XML and JSON rendering, XML input parsing.

XML is laid out the way an 8.1.2 shop writes it (tab-indented fields, every value in CDATA,
``xlink:href`` on foreign keys, per-language fields wrapped in ``<language>``, association
wrappers with ``nodeType``/``api``/``virtualEntity``); JSON is what its JSON renderer makes of
the same tree (one-language fields as plain strings, a single record stripped of falsy values,
an empty list as a bare ``[]``, slashes escaped, non-ASCII left as is).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .presta_schema import LANG_ID, Association, Field, Record, Resource

XML_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n')
XML_FOOT = "</prestashop>\n"


def php_json(data: Any) -> bytes:
    """Encode like PHP ``json_encode(..., JSON_UNESCAPED_UNICODE)``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("/", "\\/").encode("utf-8")


def php_falsy(value: Any) -> bool:
    """PHP's notion of an empty value for what records hold (``""``, ``"0"``, 0, false, null,
    [])."""
    return value is None or value is False or value == "" or value == "0" or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0) or (
        isinstance(value, (list, dict)) and not value)


def _text(value: Any) -> str:
    """A value as PHP prints it (null and false print nothing, true prints 1)."""
    if value is None or value is False:
        return ""
    return "1" if value is True else str(value)


def _cdata(value: Any) -> str:
    return f"<![CDATA[{_text(value)}]]>"


# --------------------------------------------------------------------------------------------
# Record selection (display=...)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Display:
    """Which fields to show: ``full``, or ``fields`` (and association parts) in resource order."""

    full: bool
    fields: frozenset[str] = frozenset()
    associations: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def keep(self, resource: Resource, rec: Record) -> Record:
        """The record cut down to the displayed fields (resource order kept)."""
        if self.full:
            return rec
        out: Record = {f.name: rec[f.name] for f in resource.fields
                       if f.name in self.fields and f.name in rec}
        assoc = rec.get("associations")
        if self.associations and isinstance(assoc, dict):
            kept: dict[str, list[Record]] = {}
            for name, parts in self.associations.items():
                rows = assoc.get(name, [])
                kept[name] = [{k: v for k, v in row.items() if k in parts or not parts}
                              for row in rows]
            out["associations"] = kept
        return out


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def json_value_tree(rec: Record) -> Record:
    """A record as the JSON renderer emits it: empty association lists and an empty
    ``associations`` left out."""
    out = {k: v for k, v in rec.items() if k != "associations"}
    assoc = rec.get("associations")
    if isinstance(assoc, dict):
        kept = {k: v for k, v in assoc.items() if v}
        if kept:
            out["associations"] = kept
    return out


def json_list(resource: Resource, records: Sequence[Record]) -> bytes:
    """A list answer; ``[]`` when empty."""
    if not records:
        return b"[]"
    return php_json({resource.name: [json_value_tree(r) for r in records]})


def json_single(resource: Resource, rec: Record) -> bytes:
    """One record (``/api/customers/2``): falsy values dropped."""
    tree = json_value_tree(rec)
    return php_json({resource.node: {k: v for k, v in tree.items() if not php_falsy(v)}})


def json_errors(errors: Sequence[tuple[int, str]]) -> bytes:
    """``{"errors":[{"code":..,"message":..}]}``."""
    return php_json({"errors": [{"code": c, "message": m} for c, m in errors]})


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------


def _field_xml(f: Field, value: Any, api: str, *, schema: str = "", association: bool = False,
               indent: str = "\t") -> str:
    name = f.name
    attrs = ""
    if f.kind == "lang":
        if schema == "blank":
            inner = f'<language id="{LANG_ID}"><![CDATA[]]></language>'
        elif schema == "synopsis":
            inner = (f'<language id="{LANG_ID}" xlink:href="{api}languages/{LANG_ID}" '
                     f'format="isUnsignedId" ><![CDATA[]]></language>')
        else:
            inner = (f'<language id="{LANG_ID}" xlink:href="{api}languages/{LANG_ID}">'
                     f"{_cdata(value)}</language>")
        if schema == "synopsis" and f.synopsis:
            attrs = " " + f.synopsis.replace("{api}", api)
        return f"{indent}<{name}{attrs}>{inner}</{name}>\n"
    if schema == "synopsis":
        if f.synopsis:
            attrs = " " + f.synopsis.replace("{api}", api)
        return f"{indent}<{name}{attrs}><![CDATA[]]></{name}>\n"
    if schema == "blank":
        return f"{indent}<{name}><![CDATA[]]></{name}>\n"
    if f.xlink and (association or not php_falsy(value)):
        attrs = f' xlink:href="{api}{f.xlink}/{_text(value)}"'
    if f.getter:
        attrs += ' notFilterable="true"'
    return f"{indent}<{name}{attrs}>{_cdata(value)}</{name}>\n"


def _associations_xml(resource: Resource, assoc: dict[str, list[Record]], api: str,
                      schema: str = "") -> str:
    parts = ["<associations>\n"]
    for a in resource.associations:
        if a.name not in assoc:
            continue
        rows = assoc[a.name]
        head = _assoc_head(a, schema)
        if not rows:
            parts.append(f"<{a.name}{head}/>\n")
            continue
        parts.append(f"<{a.name}{head}>\n")
        for row in rows:
            link = ""
            if not a.virtual and not schema:
                link = f' xlink:href="{api}{a.api or a.name}/{_text(row.get("id"))}"'
            parts.append(f"\t<{a.node}{link}>\n")
            for f in a.fields:
                if f.name in row:
                    parts.append(_field_xml(f, row[f.name], api, schema=schema,
                                            association=True))
            parts.append(f"\t</{a.node}>\n")
        parts.append(f"</{a.name}>\n")
    parts.append("</associations>\n")
    return "".join(parts)


def _assoc_head(a: Association, schema: str) -> str:
    if schema == "blank":
        return ""
    head = f' nodeType="{a.node}"'
    return head + (' virtualEntity="true"' if a.virtual else f' api="{a.api or a.name}"')


def record_xml(resource: Resource, rec: Record, api: str, schema: str = "") -> str:
    """One ``<customer>...</customer>`` element (fields present in ``rec``, in resource order)."""
    parts = [f"<{resource.node}>\n"]
    for f in resource.fields:
        if f.name in rec:
            parts.append(_field_xml(f, rec[f.name], api, schema=schema))
    assoc = rec.get("associations")
    if isinstance(assoc, dict) and assoc:
        parts.append(_associations_xml(resource, assoc, api, schema))
    parts.append(f"</{resource.node}>\n")
    return "".join(parts)


def xml_single(resource: Resource, rec: Record, api: str, schema: str = "") -> bytes:
    """A document holding one record (or a schema)."""
    return (XML_HEAD + record_xml(resource, rec, api, schema) + XML_FOOT).encode("utf-8")


def xml_list(resource: Resource, records: Sequence[Record], api: str, *,
             ids_only: bool) -> bytes:
    """A list document; with ``ids_only`` each entry is ``<customer id=".." xlink:href=".."/>``."""
    parts = [XML_HEAD, f"<{resource.name}>\n"]
    for rec in records:
        if ids_only:
            rid = rec["id"]
            parts.append(f'<{resource.node} id="{rid}" xlink:href="{api}{resource.name}/{rid}"/>\n')
        else:
            parts.append(record_xml(resource, rec, api))
    parts.append(f"</{resource.name}>\n")
    parts.append(XML_FOOT)
    return "".join(parts).encode("utf-8")


def xml_errors(errors: Sequence[tuple[int, str]]) -> bytes:
    """The error document."""
    parts = [XML_HEAD, "<errors>\n"]
    for code, message in errors:
        parts.append(f"<error>\n<code>{_cdata(code)}</code>\n<message>{_cdata(message)}"
                     "</message>\n</error>\n")
    parts.append("</errors>\n")
    parts.append(XML_FOOT)
    return "".join(parts).encode("utf-8")


_METHODS = ("get", "put", "post", "patch", "delete", "head")


def xml_api_root(shop_name: str, api: str,
                 resources: Sequence[tuple[str, str, frozenset[str]]]) -> bytes:
    """The ``/api/`` index: one entry per resource the key may use, with its rights."""
    parts = [XML_HEAD, f'<api shopName="{shop_name}">\n']
    for name, description, methods in resources:
        rights = " ".join(f'{m}="{"true" if m.upper() in methods else "false"}"'
                          for m in _METHODS)
        parts.append(f'<{name} xlink:href="{api}{name}" {rights}>\n')
        parts.append(f'<description xlink:href="{api}{name}" {rights}>\n{description}'
                     "</description>\n")
        parts.append(f'<schema xlink:href="{api}{name}?schema=blank" type="blank"/>\n')
        parts.append(f'<schema xlink:href="{api}{name}?schema=synopsis" type="synopsis"/>\n')
        parts.append(f"</{name}>\n")
    parts.append("</api>\n")
    parts.append(XML_FOOT)
    return "".join(parts).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


@dataclass
class XmlEntity:
    """One entity of a PUT/POST body: plain fields, per-language fields, associations."""

    tag: str
    fields: dict[str, str]
    languages: dict[str, dict[int, str]]
    associations: dict[str, list[dict[str, str]]] | None


class XmlInputError(ValueError):
    """The body is not XML; ``warnings`` are the parser notices PHP would report first."""

    def __init__(self, message: str, warnings: Sequence[str]) -> None:
        super().__init__(message)
        self.warnings = list(warnings)


def parse_input(body: str) -> list[XmlEntity]:
    """The entities under ``<prestashop>`` (any root name is accepted, as SimpleXML does)."""
    if not body.strip():
        raise XmlInputError("String could not be parsed as XML", [])
    try:
        root = ET.fromstring(body)  # noqa: S314 - test input to a local sandbox
    except ET.ParseError as exc:
        first = body.splitlines()[0] if body.splitlines() else body
        if not body.lstrip().startswith("<"):
            notes = ["Entity: line 1: parser error : Start tag expected, '<' not found",
                     first, "^"]
        else:
            notes = [f"Entity: line 1: parser error : {exc}", first, "^"]
        raise XmlInputError("String could not be parsed as XML", notes) from exc
    out = []
    for entity in root:
        fields: dict[str, str] = {}
        languages: dict[str, dict[int, str]] = {}
        associations: dict[str, list[dict[str, str]]] | None = None
        for child in entity:
            if child.tag == "associations":
                associations = {}
                for assoc in child:
                    rows = []
                    for item in assoc:
                        rows.append({f.tag: (f.text or "").strip() if f.text else ""
                                     for f in item})
                    associations[assoc.tag] = rows
                continue
            langs = [c for c in child if c.tag == "language"]
            if langs:
                languages[child.tag] = {int(c.get("id") or 0): c.text or "" for c in langs}
            fields[child.tag] = child.text or ""
        out.append(XmlEntity(entity.tag, fields, languages, associations))
    return out
