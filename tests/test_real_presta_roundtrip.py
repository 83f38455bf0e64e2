"""Exact round trips against the real PrestaShop 8.1.2 (issue 17.3): a customer whose name and
note hold ``\\r``, ``\\r\\n`` and ``]]>`` keeps those bytes in the database after our group
write; a customer holding a control character is reported and left untouched. The bytes are
read straight from the database (PHP against the shop), never through the adapter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import GroupWrite, PrestaShopAdapter
from tests.realshop.presta import RealPresta, run_presta_php

pytestmark = pytest.mark.real_presta

GROUP = "JB: roundtrip"

SET_PHP = """
$db = Db::getInstance(); $p = _DB_PREFIX_;
$id = (int) $argv[1];
$values = json_decode($argv[2], true);
$sets = [];
foreach ($values as $column => $value) { $sets[] = "`$column` = '" . pSQL($value, true) . "'"; }
$db->execute("UPDATE {$p}customer SET " . implode(', ', $sets) . " WHERE id_customer = $id");
echo 'ok';
"""

READ_PHP = """
$db = Db::getInstance(); $p = _DB_PREFIX_;
$out = [];
foreach (explode(',', $argv[1]) as $id) {
    $row = $db->getRow("SELECT firstname, lastname, note, date_upd FROM {$p}customer
                        WHERE id_customer = " . (int) $id);
    $groups = array_map('intval', array_column($db->executeS(
        "SELECT id_group FROM {$p}customer_group WHERE id_customer = " . (int) $id
        . " ORDER BY id_group"), 'id_group'));
    $out[$id] = ['hex' => array_map('bin2hex', [$row['firstname'], $row['lastname'],
                 $row['note']]), 'date_upd' => $row['date_upd'], 'groups' => $groups];
}
echo json_encode($out);
"""


def _read(shop: RealPresta, *ids: int) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_presta_php(shop, READ_PHP,
                                                       ",".join(map(str, ids))))
    return result


def _hex(*values: str) -> list[str]:
    return [v.encode("utf-8").hex() for v in values]


def test_carriage_returns_and_cdata_ends_survive_a_group_write(
        real_presta_writable: RealPresta, real_presta_expected: dict[str, Any]) -> None:
    shop_ = real_presta_writable
    accounts = [c["id"] for c in real_presta_expected["customers"]
                if not c["is_guest"] and c["id"] > 1]
    good, bad = accounts[0], accounts[1]
    names = {"firstname": "Jo\r\nhn", "lastname": "D\rOE", "note": "line1\r\nline2\rx]]>y"}
    run_presta_php(shop_, SET_PHP, str(good), json.dumps(names))
    run_presta_php(shop_, SET_PHP, str(bad), json.dumps({"lastname": "Bro\x01wn"}))
    before = _read(shop_, good, bad)
    assert before[str(good)]["hex"] == _hex(names["firstname"], names["lastname"],
                                            names["note"])
    with PrestaShopAdapter(shop_.url, shop_.key, timezone_name="Europe/Amsterdam",
                           retry=RetryPolicy(attempts=3, base_wait=0.1, max_wait=0.5)) as shop:
        writes = [GroupWrite(person_key=f"customer:{cid}", customer_id=str(cid), group=GROUP,
                             groups=(), date_upd=None) for cid in (good, bad)]
        report = shop.write_groups(writes, journey_groups=[GROUP])
    after = _read(shop_, good, bad)
    assert report.customers_written == 1, report.failed
    assert after[str(good)]["hex"] == before[str(good)]["hex"]  # every byte kept
    assert len(after[str(good)]["groups"]) == len(before[str(good)]["groups"]) + 1
    assert after[str(bad)] == before[str(bad)]  # left untouched: names, groups, date_upd
    assert report.failed == [f"customer {bad}: not written: <lastname> holds U+0001, a "
                             "character an XML document cannot carry: left untouched"]
