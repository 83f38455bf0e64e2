"""Segments as PrestaShop customer groups (opt-in): against the sandbox's Webservice, people
join the groups of their segments beside their stage's group, leave the segment groups they no
longer belong to, and a rerun writes nothing; the configuration names the groups with the stage
groups' prefix and refuses names PrestaShop would refuse."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.prestashop import PrestaShopAdapter
from journeybridge.config import load_config
from journeybridge.errors import ConfigError
from journeybridge.sandbox import Population, SandboxServer
from tests.adapter_support import assembled, desired, plan_items, pull_all

QUICK = RetryPolicy(attempts=3, base_wait=0.05, max_wait=0.2)
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
STAGE_GROUPS = {"loyalty": "Journey: loyalty", "lapsed": "Journey: lapsed"}
SEGMENT_GROUPS = {"repeat_buyers": "Journey: repeat_buyers",
                  "big_spenders": "Journey: big_spenders"}


def journey_groups(shop: PrestaShopAdapter, groups: tuple[str, ...]) -> list[str]:
    names = shop.groups()
    return sorted(names[g] for g in groups if names.get(g, "").startswith("Journey: "))


def test_segments_are_written_as_groups_only_on_change() -> None:
    population = Population(150, seed=31, now=NOW)
    with SandboxServer(population, platforms=("prestashop",)) as server, \
            PrestaShopAdapter(server.url, server.presta_credentials.key, retry=QUICK,
                              stage_groups=STAGE_GROUPS, segment_groups=SEGMENT_GROUPS) as shop:
        assembly = assembled(shop, pull_all(shop))
        people = [j for j in assembly.journeys if not j.person.is_guest][:6]
        segments = [("repeat_buyers",), ("repeat_buyers", "big_spenders"), (), ("unknown",),
                    ("big_spenders",), ("repeat_buyers",)]
        wanted = {j.key: desired(j, "loyalty", segments=s) for j, s in zip(people, segments)}
        writes, _ = shop.plan(plan_items(shop, assembly, wanted))
        assert len(writes) == len(people)
        report = shop.apply(writes)
        assert report.failed == [] and report.written == len(people)
        after = assembled(shop, pull_all(shop))
        rows = {j.key: j.person for j in after.journeys}
        for journey, segs in zip(people, segments):
            expected = sorted({"Journey: loyalty", *(SEGMENT_GROUPS[s] for s in segs
                                                     if s in SEGMENT_GROUPS)})
            assert journey_groups(shop, rows[journey.key].groups) == expected
        assert shop.plan(plan_items(shop, after, wanted))[0] == []  # a rerun writes nothing
        # leave one segment, join another: one write, both changes
        first = people[1]
        moved = {first.key: desired(first, "loyalty", segments=("big_spenders",))}
        again, _ = shop.plan(plan_items(shop, after, moved))
        assert len(again) == 1
        shop.apply(again)
        person = next(j.person for j in assembled(shop, pull_all(shop)).journeys
                      if j.key == first.key)
        assert journey_groups(shop, person.groups) == ["Journey: big_spenders",
                                                       "Journey: loyalty"]


def test_without_segment_groups_segments_are_not_written() -> None:
    population = Population(80, seed=32, now=NOW)
    with SandboxServer(population, platforms=("prestashop",)) as server, \
            PrestaShopAdapter(server.url, server.presta_credentials.key, retry=QUICK,
                              stage_groups=STAGE_GROUPS) as shop:
        assembly = assembled(shop, pull_all(shop))
        person = next(j for j in assembly.journeys if not j.person.is_guest)
        wanted = {person.key: desired(person, "lapsed", segments=("repeat_buyers",))}
        shop.apply(shop.plan(plan_items(shop, assembly, wanted))[0])
        row = next(j.person for j in assembled(shop, pull_all(shop)).journeys
                   if j.key == person.key)
        assert journey_groups(shop, row.groups) == ["Journey: lapsed"]


def write(tmp_path: Path, shop: str, segments: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[segments]\n{segments}\n\n[shops.ps]\n{shop}\n", encoding="utf-8")
    return path


PRESTA = 'platform = "prestashop"\nurl = "https://ps.example"\n'


def test_the_configuration_names_segment_groups_with_the_stage_prefix(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, PRESTA + 'segment_groups = true\ngroup_prefix = "JB "',
                               'vip = "orders >= 5"'))
    options = config.adapter_options(config.shops["ps"])
    assert options["segment_groups"] == {"vip": "JB vip"}
    off = load_config(write(tmp_path, PRESTA, 'vip = "orders >= 5"'))
    assert off.adapter_options(off.shops["ps"])["segment_groups"] == {}


@pytest.mark.parametrize(("shop", "segments", "problem"), [
    (PRESTA + "segment_groups = true",
     'a_segment_name_much_longer_than_allowed = "orders >= 2"', "longer than"),
    (PRESTA + 'segment_groups = true\nstage_groups = { loyalty = "Journey: vip" }',
     'vip = "orders >= 2"', "also a stage's group"),
    ('url = "https://woo.example"\nsegment_groups = true', 'vip = "orders >= 2"',
     "only for platform"),
])
def test_segment_group_names_are_checked(tmp_path: Path, shop: str, segments: str,
                                         problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_config(write(tmp_path, shop, segments))
