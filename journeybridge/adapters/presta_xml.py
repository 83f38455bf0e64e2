"""XML read-modify-write for the PrestaShop Webservice, which takes XML input only.

A customer PUT must carry the whole object as GET returned it (the password hash included:
a minimal body is refused with code 41, and fields left out are reset), and the groups it sends
replace the customer's groups. So a write parses the XML a GET just returned, replaces the
``associations/groups`` list and nothing else, and sends the document back.

**Exact text.** PrestaShop 8.1.2 writes every value raw inside ``<![CDATA[...]]>`` (checked
on the real shop: ``WebserviceOutputXML::renderField`` concatenates, nothing is escaped), and
reads a PUT with SimpleXML. Three consequences, each handled here:

* ``\r`` and ``\r\n`` come back as raw bytes inside CDATA, and every XML parser turns them
  into ``\n`` (line-end normalisation applies inside CDATA too); sent back raw, the shop
  stored ``\n`` (real shop: ``Jo\r\nhn`` became ``Jo\nhn``). So CDATA sections are read as
  they are, before the parser sees them, and every ``\r`` is written as ``&#13;``, which
  SimpleXML reads as ``\r`` (real shop: bytes kept).
* A value holding ``]]>`` ends PrestaShop's CDATA early and makes the document ill-formed for
  a strict parser. A value's CDATA is taken to end at the ``]]>`` directly followed by ``</``
  (PrestaShop closes the element right after it), so ``]]>`` inside values round-trips; a
  value holding ``]]></`` is ambiguous: the document is refused (every field must appear
  once).
* A character XML 1.0 cannot carry (most control characters) cannot be sent back at all: the
  row is refused as :class:`UnwritableValue`, naming the field, and left untouched.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "CustomerXml",
    "UnwritableValue",
    "XmlShapeError",
    "changed_fields",
    "group_ids_in",
    "language_ids",
    "new_group_xml",
    "parse_customer",
    "with_groups",
    "written_id",
]

XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("xlink", XLINK)
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


class XmlShapeError(ValueError):
    """The XML is not the Webservice document expected (or not XML at all)."""


class UnwritableValue(XmlShapeError):
    """A value that an XML document cannot carry back to the shop unchanged (a control
    character XML 1.0 forbids): the record must be left as it is."""


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>(?=</)", re.S)
_TEXT_WITH_CR = re.compile(r">([^<]*\r[^<]*)<")
_OPEN_TAG = re.compile(r"<([A-Za-z_][\w.-]*)(?:\s[^<>]*)?>")


def _escape_text(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _field_at(text: str, position: int) -> str:
    """The element whose content holds ``position`` (the last tag opened before it)."""
    tags = _OPEN_TAG.findall(text[max(0, position - 4000):position])
    return tags[-1] if tags else "(unknown)"


def _prepare(text: str) -> str:
    """The Webservice's XML with every CDATA section turned into escaped text and every
    ``\r`` in text written ``&#13;``, so a parser keeps the bytes. Raises UnwritableValue for
    a character XML 1.0 cannot carry."""
    bad = _NOT_XML.search(text)
    if bad:
        raise UnwritableValue(
            f"<{_field_at(text, bad.start())}> holds U+{ord(bad.group()):04X}, a character "
            "an XML document cannot carry: left untouched")
    text = _CDATA.sub(lambda m: _escape_text(m.group(1)), text)
    return _TEXT_WITH_CR.sub(
        lambda m: ">" + (m.group(1).replace("\r", "&#13;") if m.group(1).strip() else
                         m.group(1)) + "<", text)


def _parse(text: str) -> ET.Element:
    try:
        # the shop's own answer; ElementTree resolves no external entities
        return ET.fromstring(_prepare(text).encode("utf-8"))  # noqa: S314
    except ET.ParseError as exc:
        raise XmlShapeError(f"not XML: {exc}") from None


def _serialise(root: ET.Element) -> str:
    """The document as text, ``\r`` written as ``&#13;`` (ElementTree writes it raw, and the
    shop's parser would read it as ``\n``)."""
    return _HEAD + ET.tostring(root, encoding="unicode").replace("\r", "&#13;")


@dataclass(frozen=True)
class CustomerXml:
    """A customer as GET returned it in XML: the document, and the fields a write checks."""

    root: ET.Element
    id: str
    date_upd: str
    is_guest: bool
    groups: tuple[str, ...]


def _customer(root: ET.Element) -> ET.Element:
    node = root.find("customer")
    if node is None:
        raise XmlShapeError("no <customer> in the document")
    return node


def _unique_fields(node: ET.Element) -> None:
    seen: set[str] = set()
    for child in node:
        if child.tag in seen:
            raise XmlShapeError(f"<{child.tag}> appears twice: a value holding ']]></' makes "
                                "the document ambiguous; left untouched")
        seen.add(child.tag)


def group_ids_in(customer: ET.Element) -> tuple[str, ...]:
    """The group ids under ``associations/groups`` of a ``<customer>`` element."""
    return tuple((g.findtext("id") or "").strip()
                 for g in customer.findall("./associations/groups/group")
                 if (g.findtext("id") or "").strip())


def parse_customer(text: str) -> CustomerXml:
    """Parse a ``GET customers/{id}`` XML answer (or a PUT's), every value's text kept
    exactly. Raises XmlShapeError; UnwritableValue when a value cannot be sent back."""
    root = _parse(text)
    node = _customer(root)
    _unique_fields(node)
    return CustomerXml(root=root, id=(node.findtext("id") or "").strip(),
                       date_upd=(node.findtext("date_upd") or "").strip(),
                       is_guest=(node.findtext("is_guest") or "").strip() == "1",
                       groups=group_ids_in(node))


def with_groups(customer: CustomerXml, group_ids: Sequence[str]) -> str:
    """The customer document with its groups association replaced by ``group_ids`` (in this
    order) and every other element untouched: the body of the PUT."""
    root = copy.deepcopy(customer.root)
    node = _customer(root)
    associations = node.find("associations")
    if associations is None:
        associations = ET.SubElement(node, "associations")
    groups = associations.find("groups")
    if groups is None:
        groups = ET.SubElement(associations, "groups")
    for child in list(groups):
        groups.remove(child)
    groups.text = "\n"
    for gid in group_ids:
        group = ET.SubElement(groups, "group")
        group.text = "\n"
        ET.SubElement(group, "id").text = gid
        group.tail = "\n"
    return _serialise(root)


def changed_fields(sent: CustomerXml, answer: CustomerXml) -> list[str]:
    """The fields whose text the shop's answer to a PUT does not hold as sent (``date_upd``,
    which the shop sets, and the associations left out): empty when the write kept every
    value."""
    before = {c.tag: c.text or "" for c in _customer(sent.root) if c.tag != "associations"}
    after = {c.tag: c.text or "" for c in _customer(answer.root) if c.tag != "associations"}
    return sorted(tag for tag in before.keys() | after.keys()
                  if tag != "date_upd" and before.get(tag) != after.get(tag))


def written_id(text: str, node: str) -> str:
    """The ``<id>`` of the record a PUT or POST answer holds (``node``: ``customer``,
    ``group``). Raises XmlShapeError."""
    element = _parse(text).find(node)
    if element is None or not (element.findtext("id") or "").strip():
        raise XmlShapeError(f"no <{node}> with an id in the answer")
    return (element.findtext("id") or "").strip()


def language_ids(schema_text: str) -> list[str]:
    """The language ids of the ``name`` field in a ``groups?schema=blank`` answer (every
    language the shop has), in order; ``["1"]`` when none are listed."""
    try:
        root = _parse(schema_text)
    except XmlShapeError:
        return ["1"]
    found = [lang.get("id", "").strip() for lang in root.findall("./group/name/language")]
    return [i for i in found if i.isdigit()] or ["1"]


def new_group_xml(name: str, languages: Sequence[str], *, price_display_method: str = "0",
                  show_prices: str = "1") -> str:
    """The body of ``POST groups`` creating a group called ``name`` in every language, without
    reduction: a journey group changes no price."""
    names = "".join(f"<language id={quoteattr(lang)}>{_escape_text(name)}</language>"
                    for lang in languages)
    return (f'{_HEAD}<prestashop xmlns:xlink="{XLINK}">\n<group>\n'
            f"<reduction>0</reduction>\n"
            f"<price_display_method>{escape(price_display_method)}</price_display_method>\n"
            f"<show_prices>{escape(show_prices)}</show_prices>\n"
            f"<name>{names}</name>\n</group>\n</prestashop>\n")


def customer_from_json(row: Mapping[str, Any]) -> CustomerXml:
    """The customer document a ``GET customers/{id}`` would return, built from the same row
    as ``display=full`` JSON gave it (every field, the password hash included, each value's
    text exactly as the shop holds it), so a write can skip reading the row again. Raises
    UnwritableValue for a value XML cannot carry, XmlShapeError for a row of another shape."""
    root = ET.Element("prestashop")
    node = ET.SubElement(root, "customer")
    groups: list[str] = []
    for name, value in row.items():
        if name == "associations":
            raw_groups = value.get("groups", []) if isinstance(value, Mapping) else []
            groups = [str(g.get("id")) for g in raw_groups
                      if isinstance(g, Mapping) and g.get("id") is not None]
            continue
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w.-]*", name):
            raise XmlShapeError(f"a field named {name!r} cannot be an XML element")
        if isinstance(value, Mapping | list):
            raise XmlShapeError(f"<{name}> holds a nested value")
        text = "" if value is None else str(value)
        bad = _NOT_XML.search(text)
        if bad:
            raise UnwritableValue(f"<{name}> holds U+{ord(bad.group()):04X}, a character an "
                                  "XML document cannot carry: left untouched")
        ET.SubElement(node, name).text = text
    associations = ET.SubElement(node, "associations")
    holder = ET.SubElement(associations, "groups")
    for gid in groups:
        ET.SubElement(ET.SubElement(holder, "group"), "id").text = gid
    return CustomerXml(root=root, id=str(row.get("id", "")).strip(),
                       date_upd=str(row.get("date_upd", "")).strip(),
                       is_guest=str(row.get("is_guest", "")).strip() == "1",
                       groups=tuple(groups))
