"""XML read-modify-write for the PrestaShop Webservice, which takes XML input only.

A customer PUT must carry the whole object as GET returned it (the password hash included:
a minimal body is refused with code 41, and fields left out are reset), and the groups it sends
replace the customer's groups. So a write parses the XML a GET just returned, replaces the
``associations/groups`` list and nothing else, and sends the document back. Values keep their
text exactly; only the CDATA wrapping becomes ordinary XML escaping, which the Webservice reads
the same way.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "CustomerXml",
    "XmlShapeError",
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


def _parse(text: str) -> ET.Element:
    try:
        # the shop's own answer; ElementTree resolves no external entities
        return ET.fromstring(text.encode("utf-8"))  # noqa: S314
    except ET.ParseError as exc:
        raise XmlShapeError(f"not XML: {exc}") from None


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


def group_ids_in(customer: ET.Element) -> tuple[str, ...]:
    """The group ids under ``associations/groups`` of a ``<customer>`` element."""
    return tuple((g.findtext("id") or "").strip()
                 for g in customer.findall("./associations/groups/group")
                 if (g.findtext("id") or "").strip())


def parse_customer(text: str) -> CustomerXml:
    """Parse a ``GET customers/{id}`` XML answer. Raises XmlShapeError."""
    root = _parse(text)
    node = _customer(root)
    return CustomerXml(root=root, id=(node.findtext("id") or "").strip(),
                       date_upd=(node.findtext("date_upd") or "").strip(),
                       is_guest=(node.findtext("is_guest") or "").strip() == "1",
                       groups=group_ids_in(node))


def with_groups(customer: CustomerXml, group_ids: Sequence[str]) -> str:
    """The customer document with its groups association replaced by ``group_ids`` (in this
    order) and every other element untouched: the body of the PUT."""
    root = ET.fromstring(ET.tostring(customer.root))  # noqa: S314 - a copy of our own tree
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
    return _HEAD + ET.tostring(root, encoding="unicode")


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
    names = "".join(f"<language id={quoteattr(lang)}>{escape(name)}</language>"
                    for lang in languages)
    return (f'{_HEAD}<prestashop xmlns:xlink="{XLINK}">\n<group>\n'
            f"<reduction>0</reduction>\n"
            f"<price_display_method>{escape(price_display_method)}</price_display_method>\n"
            f"<show_prices>{escape(show_prices)}</show_prices>\n"
            f"<name>{names}</name>\n</group>\n</prestashop>\n")
