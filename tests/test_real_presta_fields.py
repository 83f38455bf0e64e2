"""Against a real PrestaShop 8.1.2 (../shared/real-presta, seeded by tests/realshop/
presta_seed.php): people get the place and phone of their address, birthday and gender; an
incremental pull sees a changed address; ``export-events`` sends registrations, newsletter
opt-ins, carts, checkouts and paid orders, none twice, and works from the stored records
without the shop's key. What the shop holds is read straight from its database.

The module writes (a birthday, an address, groups by sync); the seed is restored after it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.cli import main
from journeybridge.events.fake_graph import FakeGraphServer
from tests.adapter_support import pull_all
from tests.realshop.presta import RealPresta, run_presta_php

pytestmark = pytest.mark.real_presta

QUICK = RetryPolicy(attempts=3, base_wait=0.1, max_wait=0.5)
ZONE = "Europe/Amsterdam"
TOKEN = "EAAB-real-presta-token"
PIXEL = "111222333444"
KINDS = {"CompleteRegistration", "Subscribe", "AddToCart", "InitiateCheckout", "Purchase"}

ADDRESSES_PHP = """
echo json_encode(Db::getInstance()->executeS('SELECT a.id_address, a.id_customer, a.city,
    a.postcode, a.phone, a.phone_mobile, a.deleted, a.date_upd, c.iso_code
    FROM ' . _DB_PREFIX_ . 'address a JOIN ' . _DB_PREFIX_ . 'country c
    ON c.id_country = a.id_country WHERE a.id_customer > 0'));
"""
CUSTOMERS_PHP = """
echo json_encode(Db::getInstance()->executeS('SELECT c.id_customer, c.birthday, c.id_gender,
    g.type FROM ' . _DB_PREFIX_ . 'customer c LEFT JOIN ' . _DB_PREFIX_ . 'gender g
    ON g.id_gender = c.id_gender'));
"""
SET_PERSON_PHP = """
$db = Db::getInstance();
$db->update('customer', ['birthday' => $argv[2], 'id_gender' => (int) $argv[3]],
    'id_customer = ' . (int) $argv[1]);
$db->update('address', ['phone' => pSQL($argv[4])], 'id_customer = ' . (int) $argv[1]);
"""
MOVE_ADDRESS_PHP = """
$a = new Address((int) $argv[1]);
$a->city = $argv[2];
$a->postcode = $argv[3];
$a->id_country = (int) Country::getByIso($argv[4]);
$a->update();
echo $a->date_upd;
"""


@pytest.fixture(scope="module")
def shop(real_presta_writable: RealPresta) -> RealPresta:
    return real_presta_writable


def adapter(shop: RealPresta) -> PrestaShopAdapter:
    return PrestaShopAdapter(shop.url, shop.key, retry=QUICK, timezone_name=ZONE)


def homes(shop: RealPresta) -> dict[str, dict[str, Any]]:
    """Each customer row's latest address that is not deleted, from the database."""
    found: dict[str, dict[str, Any]] = {}
    for row in json.loads(run_presta_php(shop, ADDRESSES_PHP)):
        if row["deleted"] in ("1", 1):
            continue
        cid = str(row["id_customer"])
        best = found.get(cid)
        if best is None or (row["date_upd"], int(row["id_address"])) > (
                best["date_upd"], int(best["id_address"])):
            found[cid] = row
    return found


def test_people_get_their_address_birthday_and_gender(shop: RealPresta) -> None:
    run_presta_php(shop, SET_PERSON_PHP, "2", "1980-02-29", "2", "+33 6 12 34 56 78")
    truth = homes(shop)
    people = {str(r["id_customer"]): r for r in json.loads(run_presta_php(shop, CUSTOMERS_PHP))}
    with adapter(shop) as presta:
        pull = pull_all(presta)
    assert pull.report.skipped == []
    assert len(truth) >= 20
    for person in pull.customers:
        row = truth.get(person.customer_id or "")
        if row is None:
            assert (person.city, person.country) == ("", "")
            continue
        phone = row["phone"] or row["phone_mobile"] or ""
        assert (person.city, person.postcode, person.country, person.phone) == (
            row["city"].strip(), row["postcode"], row["iso_code"], phone.strip()), person.key
        raw = people[person.customer_id or ""]
        born = raw["birthday"]
        assert person.birthday == (None if not born or born.startswith("0000")
                                   else date.fromisoformat(born))
        # the stock genders: type 0 is male, 1 female (no genders resource to ask)
        assert person.gender == {"0": "m", "1": "f"}.get(str(raw["type"]), "")
    john = next(p for p in pull.customers if p.customer_id == "2")
    assert (john.birthday, john.gender, john.phone) == (date(1980, 2, 29), "f",
                                                        "+33 6 12 34 56 78")
    assert {p.country for p in pull.customers if p.country} >= {"NL", "DE", "BE", "FR"}
    billed = [o for o in pull.orders if o.billing_country]
    assert len(billed) == len(pull.orders)


def test_an_incremental_pull_reads_the_owner_of_a_changed_address(shop: RealPresta) -> None:
    truth = homes(shop)
    with adapter(shop) as presta:
        pull_all(presta)
        owner = next(cid for cid, row in sorted(truth.items(), key=lambda kv: int(kv[0]))
                     if row["iso_code"] == "NL")
        since = datetime.now(timezone.utc) - timedelta(seconds=2)
        run_presta_php(shop, MOVE_ADDRESS_PHP, str(truth[owner]["id_address"]), "Brussel",
                       "1000", "BE")
        second = pull_all(presta, presta.cursor_since(since))
    moved = [p for p in second.customers if p.customer_id == owner]
    assert len(moved) == 1
    assert (moved[0].city, moved[0].postcode, moved[0].country) == ("Brussel", "1000", "BE")
    assert len(second.customers) <= 3  # the owner (and rows its orders point to), no more


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer(access_token=TOKEN, pixel_ids=(PIXEL,)) as server:
        yield server


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_export_events_end_to_end(shop: RealPresta, graph: FakeGraphServer,
                                  real_presta_expected: dict[str, Any], tmp_path: Path) -> None:
    graph.reset()
    config = tmp_path / "config.toml"
    config.write_text(f'[sync]\nstate = "state.db"\n\n[shops.real]\nplatform = "prestashop"\n'
                      f'url = "{shop.url}"\ntimezone = "{ZONE}"\n\n[shops.real.events]\n'
                      f'pixel_id = "{PIXEL}"\n', encoding="utf-8")
    keyed = {"JOURNEYBRIDGE_META_ACCESS_TOKEN": TOKEN, "JOURNEYBRIDGE_REAL_KEY": shop.key}
    since = "2000-01-01"  # the whole seeded history (its dates run back from today)
    listed = run(["export-events", "--config", str(config), "--since", since, "--out", "-"],
                 keyed)
    assert listed.exit_code == 0, listed.output
    events = [json.loads(line) for line in listed.stdout.splitlines()]
    names = Counter(e["event_name"] for e in events)
    assert set(names) == KINDS, names
    assert any("country" in e["user_data"] and "ct" in e["user_data"] for e in events)
    purchases = {e["custom_data"]["order_id"] for e in events if e["event_name"] == "Purchase"}
    assert purchases and purchases <= {str(o["id"]) for o in real_presta_expected["orders"]}

    send = ["export-events", "--config", str(config), "--since", since, "--send",
            "--graph-url", graph.url]
    first = run(send, keyed)
    assert first.exit_code == 0, first.output
    sent = len(graph.received)  # the events of the last 7 days (older ones Meta refuses)
    again = run(send, keyed)
    assert again.exit_code == 0, again.output
    assert len(graph.received) == sent
    assert f"sent 0, already sent {sent}" in again.stderr

    synced = run(["sync", "--config", str(config)], keyed)
    assert synced.exit_code == 0, synced.output
    offline = run(["export-events", "--config", str(config), "--since", since, "--from-state",
                   "--out", "-"], {"JOURNEYBRIDGE_META_ACCESS_TOKEN": TOKEN})
    assert offline.exit_code == 0, offline.output
    stored = [json.loads(line) for line in offline.stdout.splitlines()]
    assert sorted(e["event_id"] for e in stored) == sorted(e["event_id"] for e in events)
