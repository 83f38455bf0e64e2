"""Exact round trips of PrestaShop customer XML (issue 17.3): our read-modify-write PUT leaves
every stored value byte-identical, or reports the row as unwritable and sends nothing.

The GET documents are rendered the way PrestaShop 8.1.2's ``WebserviceOutputXML::renderField``
does (each value concatenated raw into ``<![CDATA[...]]>``, checked on the real shop), and the
PUT is read back with ElementTree, which like the shop's SimpleXML (libxml2) follows XML 1.0:
line ends normalised, ``&#13;`` read as a carriage return."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.presta_xml import (
    UnwritableValue,
    XmlShapeError,
    changed_fields,
    new_group_xml,
    parse_customer,
    with_groups,
)
from journeybridge.adapters.prestashop import GroupWrite, PrestaShopAdapter

SHOP = "http://presta.test"
API = f"{SHOP}/api"
KEY = "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6"
TEXT_FIELDS = ("lastname", "firstname", "note", "company", "website")
_XML_CHAR = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")


def ps_customer_xml(values: dict[str, str], groups: tuple[str, ...] = ("3",)) -> str:
    """A ``GET customers/2`` answer as PrestaShop 8.1.2 renders it: values raw in CDATA."""
    fields = {"id": "2", "id_default_group": "3", "passwd": "$2y$10$abc/def", "lastname": "DOE",
              "firstname": "John", "email": "pub@prestashop.com", "note": "", "company": "",
              "website": "", "is_guest": "0", "date_upd": "2026-12-02 11:16:19", **values}
    body = "".join(f"\t<{k}><![CDATA[{v}]]></{k}>\n" for k, v in fields.items())
    group_xml = "".join(f'\t\t<group xlink:href="{API}/groups/{g}">\n\t\t<id><![CDATA[{g}]]>'
                        "</id></group>\n" for g in groups)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n<customer>\n'
            f"{body}<associations>\n<groups nodeType=\"group\" api=\"groups\">\n{group_xml}"
            "</groups>\n</associations>\n</customer>\n</prestashop>\n")


def shop_reads(put_body: str) -> dict[str, str]:
    """What the shop stores from a PUT body: the text of each customer field."""
    node = ET.fromstring(put_body.encode("utf-8")).find("customer")
    assert node is not None
    return {child.tag: child.text or "" for child in node if child.tag != "associations"}


@pytest.mark.parametrize("value", ["Jo\r\nhn", "D\rOE", "line1\r\nline2\rx", "x]]>y",
                                   "]]>", "a]]]]>b", "<b>&amp;</b>", "tab\there", " pad ",
                                   "\r", "\n\r\n", "Ünïcødé 😀", "]]]"])
def test_hard_values_keep_their_bytes(value: str) -> None:
    for name in ("firstname", "lastname", "note"):
        customer = parse_customer(ps_customer_xml({name: value}))
        body = with_groups(customer, ["3", "9"])
        assert shop_reads(body)[name] == value
        assert "\r" not in body  # every carriage return travels as &#13;


@pytest.mark.parametrize(("value", "char"), [("Jo\x01hn", "U+0001"), ("\x0b", "U+000B"),
                                             ("a\x1fb", "U+001F"), ("\ufffe", "U+FFFE")])
def test_a_character_xml_cannot_carry_makes_the_row_unwritable(value: str, char: str) -> None:
    with pytest.raises(UnwritableValue, match=re.escape(f"<firstname> holds {char}")):
        parse_customer(ps_customer_xml({"firstname": value}))


def test_a_value_that_closes_its_own_element_is_refused_not_misread() -> None:
    injected = "x]]></note><note><![CDATA[y"
    with pytest.raises(XmlShapeError, match="appears twice"):
        parse_customer(ps_customer_xml({"note": injected}))
    with pytest.raises(XmlShapeError):
        parse_customer(ps_customer_xml({"note": "a]]></b>c"}))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(TEXT_FIELDS),
                       st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
                       | st.sampled_from(["\r\n", "]]>", "]]></", "\r", "\x00", "x\r\ny]]>"]),
                       min_size=1))
def test_read_modify_write_of_any_stored_text_is_byte_identical_or_refused(
        values: dict[str, str]) -> None:
    document = ps_customer_xml(values)
    try:
        customer = parse_customer(document)
    except XmlShapeError:
        # refused only when a value truly cannot travel: a character XML forbids, or a
        # ']]></' that makes PrestaShop's own document ambiguous
        assert any(not _XML_CHAR.match(v) or "]]></" in v for v in values.values())
        return
    assert all(_XML_CHAR.match(v) for v in values.values())
    stored = shop_reads(with_groups(customer, ["3", "7"]))
    for name, value in values.items():
        assert stored[name] == value, name
    assert stored["passwd"] == "$2y$10$abc/def"


def test_changed_fields_names_what_the_shop_did_not_keep() -> None:
    sent = parse_customer(ps_customer_xml({"firstname": "Jo\r\nhn"}))
    same = parse_customer(ps_customer_xml({"firstname": "Jo\r\nhn",
                                           "date_upd": "2026-12-02 12:00:00"}))
    normalised = parse_customer(ps_customer_xml({"firstname": "Jo\nhn"}))
    assert changed_fields(sent, same) == []
    assert changed_fields(sent, normalised) == ["firstname"]


def test_group_names_keep_carriage_returns_too() -> None:
    body = new_group_xml("JB:\r\nx & <y>", ["1", "2"])
    names = [lang.text for lang in ET.fromstring(body.encode()).iter("language")]
    assert names == ["JB:\r\nx & <y>"] * 2


# -- through the adapter -------------------------------------------------------------------------

@responses.activate
def test_write_groups_sends_carriage_returns_and_leaves_an_unwritable_row_alone() -> None:
    adapter = PrestaShopAdapter(SHOP, KEY, concurrency=1,
                                retry=RetryPolicy(attempts=2, sleep=lambda _: None))
    responses.add(responses.GET, re.compile(rf"{re.escape(API)}/groups\?"),
                  json={"groups": [{"id": 3, "name": "Customer"},
                                   {"id": 9, "name": "Journey: loyalty"}]})
    good = ps_customer_xml({"firstname": "Jo\r\nhn", "note": "a\rb]]>c"})
    bad = ps_customer_xml({"id": "4", "lastname": "D\x01OE"})
    responses.add(responses.GET, f"{API}/customers/2", body=good, content_type="text/xml")
    responses.add(responses.GET, f"{API}/customers/4", body=bad, content_type="text/xml")
    sent: list[str] = []

    def put(request: object) -> tuple[int, dict[str, str], str]:
        body = request.body.decode() if isinstance(request.body, bytes) else ""  # type: ignore[attr-defined]
        sent.append(body)
        fields = shop_reads(body)  # the shop stores what it read, and renders it raw again
        return 200, {}, ps_customer_xml(dict(fields, date_upd="2026-12-02 12:00:00"),
                                        ("3", "9"))

    responses.add_callback(responses.PUT, f"{API}/customers/2", callback=put,
                           content_type="text/xml")
    writes = [GroupWrite(person_key=f"customer:{i}", customer_id=i, group="Journey: loyalty",
                         groups=("3",), date_upd=None) for i in ("2", "4")]
    report = adapter.write_groups(writes)
    assert report.customers_written == 1
    assert len(sent) == 1 and "Jo&#13;\nhn" in sent[0]
    assert shop_reads(sent[0])["note"] == "a\rb]]>c"
    assert report.failed == ["customer 4: not written: <lastname> holds U+0001, a character "
                             "an XML document cannot carry: left untouched"]
