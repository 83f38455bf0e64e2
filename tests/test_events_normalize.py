"""Meta's normalization and hashing of customer information, rule by rule.

Where the vectors come from:
- META: the examples on Meta's "Customer Information Parameters" page
  (developers.facebook.com/docs/marketing-api/conversions-api/parameters/
  customer-information-parameters): em ``John_Smith@gmail.com``, ph ``(650)555-1212`` (US),
  fn ``Mary``, ``Valéry`` and ``정``, db ``2/16/1997`` -> ``19970216``, country ``United States``
  -> ``us``, ct examples ``newyork``, zp examples ``94035`` (US, first 5 digits) and ``m11ae``
  (UK). The digests are the page's; several independent public CAPI test suites quote the same
  ones.
- SNAP: Snap's Conversions API page uses Meta's convention and gives ``Person@Example.com`` ->
  542d2401... and ``+44 844 412 4653`` -> ``448444124653`` -> dc008fda...
- RULE: no published digest; the expected normalized text follows the documented rule, and the
  digest is plain SHA-256 of it (checked by ``sha256_hex``, itself pinned by the META vectors).
"""

from __future__ import annotations

import hashlib

import pytest

from journeybridge.events.normalize import (
    CustomerInfo,
    FieldProblem,
    hash_user_data,
    is_sha256,
    normalize_city,
    normalize_country,
    normalize_date_of_birth,
    normalize_email,
    normalize_external_id,
    normalize_gender,
    normalize_name,
    normalize_phone,
    normalize_state,
    normalize_zip,
    sha256_hex,
)

JOHN_SMITH = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"  # META em
US_PHONE = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"  # META ph
MARY = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"  # META fn
VALERY = "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"  # META fn
JEONG = "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"  # META fn
BIRTH = "01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c"  # META db
US = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"  # META country
PERSON = "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"  # SNAP em
UK_PHONE = "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383"  # SNAP ph


def test_sha256_hex_matches_hashlib_and_metas_digest() -> None:
    assert sha256_hex("john_smith@gmail.com") == JOHN_SMITH
    assert sha256_hex("ü") == hashlib.sha256("ü".encode()).hexdigest()


@pytest.mark.parametrize(("field", "info", "digest"), [
    ("em", CustomerInfo(email="John_Smith@gmail.com"), JOHN_SMITH),  # META
    ("em", CustomerInfo(email="  John_Smith@Gmail.COM "), JOHN_SMITH),  # META, trimmed
    ("em", CustomerInfo(email="Person@Example.com"), PERSON),  # SNAP
    ("ph", CustomerInfo(phone="(650)555-1212", country="US"), US_PHONE),  # META
    ("ph", CustomerInfo(phone="+1 (650) 555-1212"), US_PHONE),  # META, with country code
    ("ph", CustomerInfo(phone="+44 844 412 4653"), UK_PHONE),  # SNAP
    ("fn", CustomerInfo(first_name="Mary"), MARY),  # META
    ("fn", CustomerInfo(first_name="Valéry"), VALERY),  # META
    ("fn", CustomerInfo(first_name="정"), JEONG),  # META
    ("db", CustomerInfo(date_of_birth="1997-02-16"), BIRTH),  # META (YYYYMMDD)
    ("country", CustomerInfo(country="United States"), US),  # META
    ("country", CustomerInfo(country="US"), US),  # META
])
def test_metas_published_vectors(field: str, info: CustomerInfo, digest: str) -> None:
    assert hash_user_data(info).data[field] == digest


def test_names_are_nfc_so_a_combining_accent_hashes_like_the_single_character() -> None:
    # META vector for Valéry; "e" + U+0301 must give the same digest (NFC)
    assert hash_user_data(CustomerInfo(first_name="Vale\u0301ry")).data["fn"] == VALERY


@pytest.mark.parametrize(("raw", "expected"), [  # RULE: lower-case, no punctuation, words kept
    ("O'Brien", "obrien"),
    ("  Anne-Marie ", "annemarie"),
    ("de Vries", "de vries"),
    ("van der berg", "van der berg"),
    ("  Van  der\tBerg ", "van der berg"),
    ("maría josé", "maría josé"),
    ("María José.", "maría josé"),
    ("J. R. R.", "j r r"),
    ("- -", None),
    ("JOSÉ", "josé"),
    ("Müller", "müller"),
    ("...", None),
    ("", None),
])
def test_name_rule(raw: str, expected: str | None) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [  # META examples "newyork", "paris"; RULE
    ("New York", "newyork"),
    ("Paris", "paris"),
    ("Den Haag", "denhaag"),
    ("St. Gallen", "stgallen"),
    ("München", "münchen"),
    ("1012 Amsterdam", "amsterdam"),
])
def test_city_rule(raw: str, expected: str) -> None:
    assert normalize_city(raw) == expected


@pytest.mark.parametrize(("raw", "country", "expected"), [  # META: 2-letter ANSI code, US
    ("CA", "US", "ca"),
    ("California", "US", "ca"),
    ("new york", "us", "ny"),
    ("Noord-Holland", "NL", "noordholland"),  # RULE: others lower-case, no punctuation
    ("NH", "NL", "nh"),
])
def test_state_rule(raw: str, country: str, expected: str) -> None:
    assert normalize_state(raw, country) == expected


def test_a_us_state_that_is_no_state_is_a_problem() -> None:
    with pytest.raises(FieldProblem):
        normalize_state("Atlantis", "US")


@pytest.mark.parametrize(("raw", "country", "expected"), [
    ("94035", "US", "94035"),  # META
    ("94035-1234", "US", "94035"),  # META: US first five digits
    ("M1 1AE", "GB", "m11ae"),  # META: UK example
    ("1012 AB", "NL", "1012ab"),  # RULE: no spaces, lower-case
    ("1234-567", "PT", "1234567"),  # RULE: dashes removed (not cut)
    ("D-80331", "DE", "80331"),  # RULE: a country prefix before digits dropped
    ("75018", "FR", "75018"),  # META: France example
])
def test_zip_rule(raw: str, country: str, expected: str) -> None:
    assert normalize_zip(raw, country) == expected


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("(650)555-1212", "US", "16505551212"),  # META
    ("06 12345678", "NL", "31612345678"),  # RULE: national number made international
    ("+49 (0)30 12345678", None, "493012345678"),  # RULE: trunk zero dropped
    ("0041 79 123 45 67", None, "41791234567"),  # RULE: 00 = international prefix
    ("+31 6 1234 5678", "DE", "31612345678"),  # RULE: a country code wins over the region
    ("0664 1234567", "Austria", "436641234567"),  # RULE: country name as region
])
def test_phone_rule(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["06 12345678", "call me", "+1 2"])
def test_phones_that_cannot_match_are_problems(raw: str) -> None:
    with pytest.raises(FieldProblem):
        normalize_phone(raw, None)


@pytest.mark.parametrize(("raw", "expected"), [
    ("NL", "nl"), ("nl ", "nl"), ("Netherlands", "nl"), ("Nederland", "nl"),
    ("Holland", "nl"), ("NLD", "nl"), ("UK", "gb"), ("United Kingdom", "gb"),
    ("Deutschland", "de"), ("Österreich", "at"), ("États-Unis", "us"), ("Belgique", "be"),
])
def test_country_rule(raw: str, expected: str) -> None:  # META: ISO alpha-2, lower-case
    assert normalize_country(raw) == expected


def test_an_unknown_country_is_a_problem() -> None:
    with pytest.raises(FieldProblem):
        normalize_country("Narnia")


@pytest.mark.parametrize(("raw", "expected"), [
    ("2/16/1997", None), ("1997-02-16", "19970216"), ("19970216", "19970216"),
    ("0000-00-00", None), ("", None),
])
def test_date_of_birth_rule(raw: str, expected: str | None) -> None:
    if raw == "2/16/1997":  # ambiguous order: refused rather than guessed
        with pytest.raises(FieldProblem):
            normalize_date_of_birth(raw)
        return
    assert normalize_date_of_birth(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("F", "f"), ("female", "f"), ("Male", "m"),
                                               ("Mevrouw", "f"), ("", None)])
def test_gender_rule(raw: str, expected: str | None) -> None:
    assert normalize_gender(raw) == expected


def test_email_rule_and_refusal() -> None:
    assert normalize_email(" A.B@Example.COM ") == "a.b@example.com"
    assert normalize_email("  ") is None
    for bad in ("a", "a@b", "@b.c", "a b@c.d"):
        with pytest.raises(FieldProblem):
            normalize_email(bad)


def test_external_id_is_trimmed_lower_cased_and_hashed() -> None:
    assert normalize_external_id(" User-42 ") == "user-42"
    assert hash_user_data(CustomerInfo(external_id="42")).data["external_id"] == sha256_hex("42")


def test_already_hashed_values_pass_as_they_are() -> None:
    data = hash_user_data(CustomerInfo(email=JOHN_SMITH.upper(), phone=US_PHONE)).data
    assert data == {"em": JOHN_SMITH, "ph": US_PHONE}
    assert is_sha256(f" {MARY} ")
    assert not is_sha256("abc")


def test_empty_fields_are_left_out_never_hashed() -> None:
    result = hash_user_data(CustomerInfo(email="", phone="  ", first_name="", country=""))
    assert result.data == {}
    assert result.problems == []
    assert sha256_hex("") not in hash_user_data(CustomerInfo(first_name="!!")).data.values()


def test_a_bad_field_is_dropped_alone_and_named_without_its_value() -> None:
    info = CustomerInfo(email="not-an-email", phone="12", first_name="Mary",
                        country="Narnia", client_ip_address="not-an-ip",
                        client_user_agent="Mozilla/5.0")
    result = hash_user_data(info)
    assert result.data == {"fn": MARY, "client_user_agent": "Mozilla/5.0"}
    assert sorted(p.split(":")[0] for p in result.problems) == [
        "client_ip_address", "country", "em", "ph"]
    assert not any(raw in problem for problem in result.problems
                   for raw in ("not-an-email", "Narnia", "not-an-ip"))


def test_ip_and_user_agent_are_sent_in_clear() -> None:
    data = hash_user_data(CustomerInfo(client_ip_address=" 2001:DB8::1 ",
                                       client_user_agent="Mozilla/5.0 (X11)")).data
    assert data == {"client_ip_address": "2001:db8::1", "client_user_agent": "Mozilla/5.0 (X11)"}


def test_customer_info_repr_hides_personal_data() -> None:
    assert "anna" not in repr(CustomerInfo(email="anna@example.com", first_name="Anna"))


def test_inner_spaces_of_names_are_hashed_as_one_space() -> None:
    # Meta's SDK keeps the spaces between the words of a name; so does the exporter
    data = hash_user_data(CustomerInfo(first_name="maría josé", last_name="Van der Berg")).data
    assert data["fn"] == sha256_hex("maría josé")
    assert data["ln"] == sha256_hex("van der berg")


@pytest.mark.parametrize(("raw", "expected"), [
    ("000031612345678", "31612345678"),  # extra zeros before the country code, no country
    ("0031612345678", "31612345678"),
    ("00 0031 6 1234 5678", "31612345678"),
])
def test_phone_with_extra_leading_zeros_and_no_country(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    assert hash_user_data(CustomerInfo(phone=raw)).data["ph"] == sha256_hex(expected)


def test_numbers_given_for_text_fields_are_read_as_text() -> None:
    info = CustomerInfo(zip=80331, external_id=42, country="de", phone=None)  # type: ignore[arg-type]
    result = hash_user_data(info)
    assert result.data["zp"] == sha256_hex("80331")
    assert result.data["external_id"] == sha256_hex("42")
    assert "ph" not in result.data and result.problems == []
