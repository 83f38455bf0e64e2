"""Meta's normalization of customer information, and its SHA-256 hashing.

Rules (Conversions API, "Customer Information Parameters"), each applied before hashing the
UTF-8 bytes with SHA-256 into lower-case hex:

* ``em`` e-mail: trimmed, lower-cased; it must look like ``local@domain.tld``.
* ``ph`` phone: digits only, with the country calling code, no ``+`` and no leading zeros. A
  national number (``06 12345678``) is made international from the billing country with
  ``phonenumbers``; ``+49 (0)30 ...`` loses its trunk zero; ``0041 ...`` is read as
  ``+41 ...``, and so is a number with more zeros in front (``000031612345678``: ``+31...``).
  A number without a country code and without a known country is dropped: it cannot match.
* ``fn`` / ``ln`` names: trimmed, Unicode NFC, lower-cased, punctuation removed, inner spaces
  kept (one space between words: ``van der berg``, ``maría josé``); letters outside a-z are
  kept (Meta's own examples hash ``valéry`` and ``정``).
* ``ct`` city: lower-cased, NFC, letters only (spaces, digits and punctuation removed).
* ``st`` state: for the US the two-letter code (state names are mapped), lower-cased; elsewhere
  lower-cased, NFC, letters and digits only.
* ``zp`` zip: lower-cased, spaces and dashes removed (``D-80331`` is read as ``80331``); US: the
  first five digits.
* ``country``: ISO 3166-1 alpha-2, lower-cased; country names (in many languages), common
  aliases (``UK``, ``Holland``, ``USA``) and common alpha-3 codes are mapped.
* ``ge`` gender: ``f`` or ``m``; ``db`` date of birth: ``YYYYMMDD`` (``0000-00-00`` is unknown).
* ``external_id``: trimmed and lower-cased, then hashed (hashing is recommended by Meta).

Beyond the rules: an empty value is left out, never hashed; a value that already is a 64-hex
SHA-256 is passed on as it is (lower-cased); a value that cannot be normalized is dropped alone,
and the problem is reported by field name and reason, never with the value itself.
``client_ip_address`` and ``client_user_agent`` are not hashed (Meta wants them in clear).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

__all__ = [
    "HASHED_FIELDS",
    "CustomerInfo",
    "FieldProblem",
    "HashedUserData",
    "hash_user_data",
    "is_sha256",
    "normalize_city",
    "normalize_country",
    "normalize_date_of_birth",
    "normalize_email",
    "normalize_external_id",
    "normalize_gender",
    "normalize_name",
    "normalize_phone",
    "normalize_state",
    "normalize_zip",
    "sha256_hex",
]

HASHED_FIELDS = ("em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id")
"""The user_data fields that are sent hashed, in the order they are emitted."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class FieldProblem(ValueError):
    """A value that cannot be normalized; the message names the reason, never the value."""


def sha256_hex(value: str) -> str:
    """The SHA-256 of ``value``'s UTF-8 bytes as 64 lower-case hex digits."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_sha256(value: str) -> bool:
    """True when ``value`` (trimmed, any case) already is a 64-hex SHA-256 digest."""
    return bool(_SHA256.match(value.strip().lower()))


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip()).lower()


def _only(value: str, keep: str) -> str:
    """The characters of ``value`` whose Unicode category starts with one of ``keep``."""
    return "".join(ch for ch in value if unicodedata.category(ch)[0] in keep)


def normalize_email(value: str) -> str | None:
    """The e-mail trimmed and lower-cased; None when empty. Raises FieldProblem when it does
    not look like an e-mail address."""
    email = unicodedata.normalize("NFC", value.strip()).lower()
    if not email:
        return None
    if not _EMAIL.match(email):
        raise FieldProblem("not an e-mail address")
    return email


def normalize_phone(value: str, country: str | None = None) -> str | None:
    """Digits with the country calling code and no leading ``+`` or zeros (``31612345678``);
    None when empty. A national number needs ``country`` (ISO alpha-2, the billing country).
    Raises FieldProblem when the number has no country code and none is known, or is not a
    possible phone number."""
    text = value.strip()
    if not any(ch.isdigit() for ch in text):
        if text:
            raise FieldProblem("not a phone number")
        return None
    compact = re.sub(r"[\s().\-/]", "", text)
    if compact.startswith("00"):
        # an international prefix, sometimes typed with extra zeros: Meta's documentation
        # asks for the country code without any zeros in front of it
        text = "+" + compact.lstrip("0")
    region = normalize_country(country) if country else None
    if not text.startswith("+") and region is None:
        raise FieldProblem("a national number and no country to read it in")
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        raise FieldProblem("not a phone number") from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise FieldProblem("not a possible phone number (too short or too long)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def normalize_name(value: str) -> str | None:
    """A first or last name lower-cased, NFC, without punctuation, its words kept apart by
    one space (``Van der Berg`` -> ``van der berg``); None when nothing is left."""
    # Meta's Customer Information Parameters (fn, ln): "Lowercase only with no punctuation"
    # (https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/
    # customer-information-parameters); neither that page nor Meta's Business SDK
    # (normalize.py) removes the spaces between the words of a name, so they stay.
    words = (_only(word, "LMN") for word in _nfc(value).split())
    name = " ".join(word for word in words if word)
    return name or None


def normalize_city(value: str) -> str | None:
    """A city lower-cased, NFC, letters only; None when nothing is left."""
    city = _only(_nfc(value), "LM")
    return city or None


_US_STATES = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca",
    "colorado": "co", "connecticut": "ct", "delaware": "de", "districtofcolumbia": "dc",
    "florida": "fl", "georgia": "ga", "hawaii": "hi", "idaho": "id", "illinois": "il",
    "indiana": "in", "iowa": "ia", "kansas": "ks", "kentucky": "ky", "louisiana": "la",
    "maine": "me", "maryland": "md", "massachusetts": "ma", "michigan": "mi",
    "minnesota": "mn", "mississippi": "ms", "missouri": "mo", "montana": "mt",
    "nebraska": "ne", "nevada": "nv", "newhampshire": "nh", "newjersey": "nj",
    "newmexico": "nm", "newyork": "ny", "northcarolina": "nc", "northdakota": "nd",
    "ohio": "oh", "oklahoma": "ok", "oregon": "or", "pennsylvania": "pa", "rhodeisland": "ri",
    "southcarolina": "sc", "southdakota": "sd", "tennessee": "tn", "texas": "tx", "utah": "ut",
    "vermont": "vt", "virginia": "va", "washington": "wa", "westvirginia": "wv",
    "wisconsin": "wi", "wyoming": "wy", "puertorico": "pr", "guam": "gu",
    "americansamoa": "as", "virginislands": "vi", "northernmarianaislands": "mp",
}
_US_CODES = frozenset(_US_STATES.values()) | {"aa", "ae", "ap"}


def normalize_state(value: str, country: str | None = None) -> str | None:
    """A state or province: for the US (``country`` ``us``) the two-letter code, lower-cased
    (names are mapped); elsewhere lower-cased, NFC, letters and digits only. None when empty.
    Raises FieldProblem for a US value that is neither a state code nor a state name."""
    state = _only(_nfc(value), "LMN")
    if not state:
        return None
    if (normalize_country(country) if country else None) == "us":
        if state in _US_CODES:
            return state
        code = _US_STATES.get(state)
        if code is None:
            raise FieldProblem("not a US state")
        return code
    return state


_PREFIXED_ZIP = re.compile(r"^[a-z]{1,3}-(\d+)$")


def normalize_zip(value: str, country: str | None = None) -> str | None:
    """A postcode lower-cased without spaces or dashes (a country prefix such as ``D-`` before
    an all-digit code is dropped); for the US the first five digits. None when empty. Raises
    FieldProblem for a US zip without five leading digits."""
    text = unicodedata.normalize("NFC", value.strip()).lower()
    text = re.sub(r"\s", "", text)
    prefixed = _PREFIXED_ZIP.match(text)
    if prefixed:
        text = prefixed.group(1)
    text = text.replace("-", "")
    if not text:
        return None
    if (normalize_country(country) if country else None) == "us":
        if not re.match(r"^\d{5}", text):
            raise FieldProblem("not a US zip code")
        return text[:5]
    return text


_ALIASES = {
    "uk": "gb", "greatbritain": "gb", "britain": "gb", "england": "gb", "scotland": "gb",
    "wales": "gb", "northernireland": "gb", "holland": "nl", "thenetherlands": "nl",
    "usa": "us", "america": "us", "unitedstatesofamerica": "us",
    # common alpha-3 codes (shop APIs send alpha-2; these come from imports and hand edits)
    "nld": "nl", "deu": "de", "bel": "be", "fra": "fr", "gbr": "gb", "aut": "at",
    "che": "ch", "esp": "es", "ita": "it", "prt": "pt", "pol": "pl", "dnk": "dk", "swe": "se",
    "nor": "no", "fin": "fi", "irl": "ie", "lux": "lu", "cze": "cz", "can": "ca", "aus": "au",
}


def _fold(value: str) -> str:
    """Lower-case letters only, accents removed: the key country names are matched on."""
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch)[0] == "L")


def _locale_data() -> dict[str, dict[str, str]]:
    """phonenumbers' country names per language: a large table, loaded on first use only
    (importing it costs about half a second, which every CLI start would otherwise pay)."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    return LOCALE_DATA


def _display_name(code: str, lang: str) -> str | None:
    names = _locale_data()[code]
    name = names.get(lang)
    for _ in range(4):  # '*xx' points at another language's entry
        if name is None or not name.startswith("*"):
            break
        name = names.get(name[1:])
    return None if name is None or name.startswith("*") else name


@lru_cache(maxsize=1)
def _country_index() -> tuple[frozenset[str], dict[str, str]]:
    data = _locale_data()
    codes = frozenset(code.lower() for code in data if code != "AN")
    names: dict[str, str] = {}
    for code, languages in data.items():
        if code == "AN":
            continue
        for lang in languages:
            name = _display_name(code, lang)
            if name:
                names.setdefault(_fold(name), code.lower())
    names.update(_ALIASES)
    return codes, names


def normalize_country(value: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code, lower-cased, of a code or a country name; None when
    empty. Raises FieldProblem when it is neither a known code nor a known name."""
    if value is None or not value.strip():
        return None
    codes, names = _country_index()
    text = value.strip().lower()
    if len(text) == 2 and text in codes:
        return text
    folded = _fold(text)
    if len(folded) == 2 and folded in codes:
        return folded
    code = names.get(folded)
    if code is None:
        raise FieldProblem("not a country code or a known country name")
    return code


_GENDERS = {
    "f": "f", "female": "f", "woman": "f", "w": "f", "vrouw": "f", "frau": "f", "femme": "f",
    "mrs": "f", "ms": "f", "miss": "f", "mevrouw": "f", "mme": "f",
    "m": "m", "male": "m", "man": "m", "mann": "m", "homme": "m", "mr": "m", "meneer": "m",
    "herr": "m",
}


def normalize_gender(value: str) -> str | None:
    """``f`` or ``m`` from a gender word or title in a few languages; None when empty. Raises
    FieldProblem for anything else."""
    text = _fold(value)
    if not text:
        return None
    gender = _GENDERS.get(text)
    if gender is None:
        raise FieldProblem("not a gender Meta accepts (f or m)")
    return gender


def normalize_date_of_birth(value: str) -> str | None:
    """``YYYYMMDD`` from ``YYYY-MM-DD``, ``YYYYMMDD`` or ``YYYY/MM/DD``; None when empty or a
    zero date (``0000-00-00``). Raises FieldProblem for other shapes or impossible dates."""
    digits = re.sub(r"[\s\-/.]", "", value.strip())
    if not digits or set(digits) == {"0"}:
        return None
    if not re.fullmatch(r"\d{8}", digits):
        raise FieldProblem("not a date as YYYY-MM-DD")
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        raise FieldProblem("not a possible date of birth")
    return digits


def normalize_external_id(value: str) -> str | None:
    """An external id trimmed and lower-cased; None when empty."""
    text = value.strip().lower()
    return text or None


@dataclass(frozen=True)
class CustomerInfo:
    """What the shop knows about the person behind an event, in clear. Never serialized:
    only :func:`hash_user_data`'s result leaves the process."""

    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    gender: str = ""
    date_of_birth: str = ""
    external_id: str = ""
    client_ip_address: str = ""
    client_user_agent: str = ""

    def __post_init__(self) -> None:
        # shops and callers hand over numbers too (an int zip, an int customer id): every
        # field is read as text, None as empty
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, str):
                object.__setattr__(self, name, "" if value is None else str(value))

    def __repr__(self) -> str:
        return "CustomerInfo(<personal data hidden>)"


@dataclass
class HashedUserData:
    """Meta's ``user_data``: hashed fields plus the unhashed client ip and user agent, and the
    fields that were dropped (name and reason only)."""

    data: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, str]:
        """The ``user_data`` object to send."""
        return dict(self.data)


def _ip(value: str) -> str:
    return str(ipaddress.ip_address(value.strip()))


def hash_user_data(info: CustomerInfo) -> HashedUserData:
    """Normalize and hash every field of ``info`` by Meta's rules.

    Promises: each value in the result is a 64-hex SHA-256 except ``client_ip_address`` (a
    valid IPv4/IPv6 address) and ``client_user_agent``; empty fields are left out; a field that
    cannot be normalized is left out alone and named in ``problems`` with its reason, never
    with its value; a value that already is a SHA-256 digest is kept as it is."""
    country_raw = info.country
    country: str | None = None
    try:
        country = normalize_country(country_raw)
    except FieldProblem:
        country = None
    steps: Mapping[str, tuple[str, Callable[[str], str | None]]] = {
        "em": (info.email, normalize_email),
        "ph": (info.phone, lambda v: normalize_phone(v, country)),
        "fn": (info.first_name, normalize_name),
        "ln": (info.last_name, normalize_name),
        "ge": (info.gender, normalize_gender),
        "db": (info.date_of_birth, normalize_date_of_birth),
        "ct": (info.city, normalize_city),
        "st": (info.state, lambda v: normalize_state(v, country)),
        "zp": (info.zip, lambda v: normalize_zip(v, country)),
        "country": (country_raw, normalize_country),
        "external_id": (info.external_id, normalize_external_id),
    }
    result = HashedUserData()
    for name in HASHED_FIELDS:
        raw, normalize = steps[name]
        if not raw.strip():
            continue
        if is_sha256(raw):
            result.data[name] = raw.strip().lower()
            continue
        try:
            normalized = normalize(raw)
        except FieldProblem as exc:
            result.problems.append(f"{name}: {exc}")
            continue
        if normalized:
            result.data[name] = sha256_hex(normalized)
    if info.client_ip_address.strip():
        try:
            result.data["client_ip_address"] = _ip(info.client_ip_address)
        except ValueError:
            result.problems.append("client_ip_address: not an IP address")
    if info.client_user_agent.strip():
        result.data["client_user_agent"] = info.client_user_agent.strip()
    return result
