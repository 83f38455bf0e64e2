"""PrestaShop people with their place, phone, birthday and gender, against the sandbox's
Webservice: addresses and countries read in bulk, orders billed at their invoice address, an
incremental pull that sees a changed address, and the Conversions API fields they give."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import ID_CHUNK, PrestaShopAdapter
from journeybridge.events import EventSettings, map_journeys
from journeybridge.events.normalize import sha256_hex
from journeybridge.sandbox import Population, SandboxServer
from tests.adapter_support import assembled, pull_all

QUICK = RetryPolicy(attempts=3, base_wait=0.05, max_wait=0.2)
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
ZONE = "Europe/Amsterdam"


@pytest.fixture(scope="module")
def population() -> Population:
    return Population(300, seed=19, now=NOW)


@pytest.fixture(scope="module")
def server(population: Population) -> Iterator[SandboxServer]:
    with SandboxServer(population, platforms=("prestashop",)) as running:
        yield running


def adapter_for(server: SandboxServer) -> PrestaShopAdapter:
    return PrestaShopAdapter(server.url, server.presta_credentials.key, retry=QUICK,
                             timezone_name=ZONE)


def counted(shop: PrestaShopAdapter) -> Counter[str]:
    """Requests per resource this adapter sends from now on."""
    seen: Counter[str] = Counter()
    original = shop.client.get

    def get(resource: str, params: Any = None, **kw: Any) -> Any:
        seen[resource.split("/")[0]] += 1
        return original(resource, params, **kw)

    shop.client.get = get  # type: ignore[method-assign]
    return seen


def table(server: SandboxServer, name: str) -> Any:
    assert server.presta is not None
    return server.presta.data.tables[name]


def test_every_person_gets_the_place_and_phone_of_their_address(
        server: SandboxServer, population: Population) -> None:
    iso = {str(r["id"]): r["iso_code"] for r in
           (table(server, "countries").record(int(i)) for i in table(server, "countries").ids())}
    addresses = table(server, "addresses")
    home = {}
    for aid in addresses.ids():
        row = addresses.record(int(aid))
        if row["id_customer"]:
            home[str(row["id_customer"])] = row
    with adapter_for(server) as shop:
        requests = counted(shop)
        pull = pull_all(shop)
    assert pull.report.skipped == []
    with_address = [p for p in pull.customers if p.customer_id in home]
    assert len(with_address) >= population.size  # every account, guests' first rows
    for person in with_address:
        row = home[person.customer_id or ""]
        assert (person.city, person.postcode, person.country, person.phone) == (
            row["city"], row["postcode"], iso[str(row["id_country"])], row["phone"])
    assert {p.country for p in with_address} >= {"NL", "BE", "DE"}
    # bulk: one addresses request per page of customer rows, one countries request
    pages = -(-len(pull.customers) // shop.page_size)
    assert requests["countries"] == 1
    assert requests["addresses"] <= pages + -(-len(pull.orders) // ID_CHUNK)
    assert requests["addresses"] < len(pull.customers) / 20
    by_id = {str(a): addresses.record(int(a)) for a in addresses.ids()}
    for order in pull.orders:
        raw = table(server, "orders").record(int(order.id))
        billed = by_id[str(raw["id_address_invoice"])]
        assert order.billing_country == iso[str(billed["id_country"])]
        assert order.billing_city == billed["city"]


def test_birthday_and_gender_come_from_the_customer_row(server: SandboxServer) -> None:
    customers = table(server, "customers")
    with adapter_for(server) as shop:
        pull = pull_all(shop)
    genders = {1: "m", 2: "f"}
    for person in pull.customers:
        raw = customers.record(int(person.customer_id or 0))
        born = raw["birthday"]
        assert person.birthday == (None if born == "0000-00-00" else date.fromisoformat(born))
        assert person.gender == genders.get(raw["id_gender"], "")
    assert any(p.birthday for p in pull.customers)
    assert {p.gender for p in pull.customers} == {"m", "f", ""}


def test_events_from_prestashop_people_carry_place_phone_birthday_and_gender(
        server: SandboxServer) -> None:
    with adapter_for(server) as shop:
        assembly = assembled(shop, pull_all(shop))
    mapped = map_journeys(assembly.journeys, EventSettings(shop_url=server.url, shop_id="ps"),
                          since=NOW - timedelta(days=3650), until=NOW + timedelta(days=1))
    by_key = {j.key: j for j in assembly.journeys}
    registrations = [e for e in mapped.events if e.event_name == "CompleteRegistration"]
    assert registrations
    fields: Counter[str] = Counter()
    for event in registrations:
        person = by_key[event.person_key].person
        data = event.user_data
        fields.update(list(data))
        if person.country:
            assert data["country"] == sha256_hex(person.country.lower())
        if person.birthday:
            assert data["db"] == sha256_hex(person.birthday.strftime("%Y%m%d"))
        if person.gender:
            assert data["ge"] == sha256_hex(person.gender)
    for name in ("ct", "zp", "country", "ph", "db", "ge"):
        assert fields[name] > 0, name
    purchases = [e for e in mapped.events if e.event_name == "Purchase"]
    assert purchases and all("country" in e.user_data and "ct" in e.user_data
                             for e in purchases)


def test_an_incremental_pull_reads_the_owner_of_a_changed_address() -> None:
    population = Population(120, seed=7, now=NOW)
    with SandboxServer(population, platforms=("prestashop",)) as server, \
            adapter_for(server) as shop:
        first = pull_all(shop)
        later = population.clock() + timedelta(minutes=30)
        owner = next(p for p in first.customers if not p.is_guest and p.country == "NL")
        aid = next(int(a) for a in table(server, "addresses").ids()
                   if table(server, "addresses").record(int(a))["id_customer"]
                   == int(owner.customer_id or 0))
        assert server.presta is not None
        server.presta.data.move_address(aid, later, city="Brussel", postcode="1000",
                                        id_country=3)
        second = pull_all(shop, shop.cursor_since(later - timedelta(minutes=1)))
    moved = [p for p in second.customers if p.customer_id == owner.customer_id]
    assert len(moved) == 1
    assert (moved[0].city, moved[0].postcode, moved[0].country) == ("Brussel", "1000", "BE")
    assert moved[0].modified_at == owner.modified_at  # the row itself did not change
    assert len(second.customers) < 5  # only what changed


def _row(**values: Any) -> dict[str, Any]:
    return {"id": 7, "email": "a@example.com", "firstname": "A", "lastname": "B",
            "date_add": "2026-01-02 10:00:00", "date_upd": "2026-01-02 10:00:00", **values}


@pytest.mark.parametrize(("birthday", "expected"), [
    ("0000-00-00", None), ("", None), (None, None), ("1980-02-29", date(1980, 2, 29)),
    ("1981-02-29", None), ("1899-12-31", None), ("garbage", None),
])
def test_a_birthday_is_a_date_or_none_and_never_rejects_the_row(birthday: Any,
                                                                expected: date | None) -> None:
    from journeybridge.adapters.presta_mapping import PrestaMapping

    person = PrestaMapping(shop="s").customer(_row(birthday=birthday))
    assert person.birthday == expected


@pytest.mark.parametrize(("gender", "expected"), [(1, "m"), ("2", "f"), (0, ""), ("9", ""),
                                                  (None, "")])
def test_gender_is_read_from_the_stock_gender_ids(gender: Any, expected: str) -> None:
    from journeybridge.adapters.presta_mapping import PrestaMapping

    assert PrestaMapping(shop="s").customer(_row(id_gender=gender)).gender == expected


def test_an_address_row_and_its_country() -> None:
    from journeybridge.adapters.presta_mapping import PrestaMapping

    mapping = PrestaMapping(shop="s", countries={"13": "NL"})
    found = mapping.address({"id": 4, "id_customer": "7", "id_country": 13, "city": " Utrecht ",
                             "postcode": "3511 AB", "phone": "", "phone_mobile": "0612345678",
                             "deleted": "0", "date_upd": "2026-01-02 10:00:00"})
    assert found is not None
    assert found.fields() == {"city": "Utrecht", "postcode": "3511 AB", "country": "NL",
                              "phone": "0612345678"}
    assert mapping.address({"id": "x"}) is None
    unknown = mapping.address({"id": 5, "id_country": 999})
    assert unknown is not None and unknown.country == ""
