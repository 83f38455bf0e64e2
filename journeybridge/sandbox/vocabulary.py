"""The generator's fixed vocabulary: names, places, texts and the product catalogue.

Names and places are European and deliberately full of diacritics (``Zoë``, ``Łódź``), so every
consumer of the sandbox meets them; e-mail addresses and usernames use their ASCII slugs.
"""

from __future__ import annotations

import random
import unicodedata
from decimal import Decimal

from .records import Product


def catalogue() -> tuple[Product, ...]:
    """The shop's twenty products, ids 10 to 29."""
    rows = [
        ("Koffiebonen 1kg", "19.99"), ("Espressomachine", "349.00"), ("Melkopschuimer", "24.95"),
        ("Filterpapier (100)", "3.49"), ("Cadeaubon", "25.00"), ("Espresso blend 500g", "11.50"),
        ("Decaf bonen 250g", "7.95"), ("Handmolen", "54.00"), ("Moka pot 6 kops", "32.50"),
        ("Barista tamper", "18.75"), ("Latte glazen (2)", "12.00"), ("Ontkalker", "8.99"),
        ("Cold brew fles", "27.50"), ("Thee proefpakket", "14.95"), ("Chai siroop", "9.25"),
        ("Koffiekopjes (4)", "22.00"), ("Weegschaal met timer", "39.90"),
        ("Waterkoker zwanenhals", "64.95"), ("Abonnement bonen maand", "17.50"),
        ("Reinigingstabletten", "6.49"),
    ]
    out = []
    for i, (name, price) in enumerate(rows):
        out.append(Product(10 + i, name, f"JB-{i}", Decimal(price), slug(name, "-")))
    return tuple(out)


FIRST_NAMES = (
    "Zoë", "Jürgen", "Łukasz", "Anaïs", "Søren", "Renée", "Chloé", "François", "Małgorzata",
    "Björn", "Noël", "Inès", "José", "Eva", "Sanne", "Lotte", "Daan", "Bram", "Thomas", "Anna",
    "Emma", "Lucas", "Sophie", "Jan", "Peter", "Marie", "Julia", "Fleur", "Sem", "Mila", "Ahmed",
    "Fatima", "Yara", "Niels", "Kees", "Ingrid", "Wouter", "Elif", "Mehmet", "Agnieszka",
)
LAST_NAMES = (
    "Müller", "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Dubois", "Lefèvre",
    "Kowalski", "Wiśniewska", "Nowak", "Schröder", "Öztürk", "Peeters", "Janssens",
    "van den Berg", "Ó Briain", "Núñez", "Fischer", "de Jong", "Mulder", "Bos", "Vos",
    "Hendriks", "Dekker", "Brouwer", "Weiß", "Lambert", "Martin",
)
COUNTRIES = (
    # code, weight, cities, postcode pattern, national phone, international prefix
    ("NL", 60, ("Amsterdam", "Utrecht", "'s-Hertogenbosch", "Groningen", "Den Haag", "Zwolle"),
     "#### @@", "06########", "+31 6 ## ## ## ##"),
    ("BE", 14, ("Antwerpen", "Gent", "Liège", "Brugge"), "####", "04########",
     "+32 4## ## ## ##"),
    ("DE", 12, ("Köln", "Düsseldorf", "München", "Berlin"), "#####", "015#########",
     "+49 15# ########"),
    ("FR", 6, ("Paris", "Lille", "Nîmes"), "#####", "06########", "+33 6 ## ## ## ##"),
    ("PL", 5, ("Łódź", "Kraków", "Gdańsk"), "##-###", "5########", "+48 5## ### ###"),
    ("AT", 3, ("Wien", "Graz"), "####", "0664#######", "+43 664 #######"),
)
STREETS = ("Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenlaan", "Hauptstraße",
           "Rue de la Gare", "ul. Długa", "Schoolstraat")
DOMAINS = ("example.com", "example.nl", "example.org", "example.net")
REVIEW_TEXTS_HIGH = ("Prima product, snel geleverd.", "Heerlijke koffie, bestel ik weer!",
                     "Sehr gut, gerne wieder.", "Très bon produit.", "Top kwaliteit.")
REVIEW_TEXTS_LOW = ("Viel tegen, smaak is flauw.", "Kwam beschadigd aan.",
                    "Leider zu spät geliefert.", "Niet wat ik verwachtte.")
REFUND_REASONS = ("beschadigd", "te laat geleverd", "verkeerd artikel", "")
USER_AGENTS = ("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
               "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36")

_TRANSLIT = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae",
                            "đ": "d", "ı": "i"})


def slug(text: str, sep: str = "") -> str:
    """``text`` in lower-case ASCII, words joined by ``sep`` (``"Ó Briain"`` -> ``"obriain"``)."""
    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    ascii_text = plain.encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
    return sep.join(words)


def fill(pattern: str, rng: random.Random) -> str:
    """``pattern`` with each ``#`` replaced by a random digit and each ``@`` by a letter."""
    out = []
    for c in pattern:
        if c == "#":
            out.append(str(rng.randrange(10)))
        elif c == "@":
            out.append(chr(ord("A") + rng.randrange(26)))
        else:
            out.append(c)
    return "".join(out)


FIRST_SLUGS = tuple(slug(n) for n in FIRST_NAMES)
LAST_SLUGS = tuple(slug(n) for n in LAST_NAMES)
