"""Helpers for adapter tests: a whole pull in memory, and plan items for chosen desired
states, through the adapter protocol (no platform branches)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from journeybridge.adapters.protocol import (
    Collected,
    DesiredState,
    PlanItem,
    ShopAdapter,
    collect,
)
from journeybridge.identity import Assembly
from journeybridge.model import Journey

SINCE = date(2026, 1, 1)


def pull_all(shop: ShopAdapter, cursor: Mapping[str, str] | None = None) -> Collected:
    """One whole pull (everything, or since ``cursor``) read into memory."""
    return collect(shop.pull(cursor))


def assembled(shop: ShopAdapter, pulled: Collected) -> Assembly:
    """The journeys of a pull."""
    return pulled.assemble(shop.shop, shop.platform)


def desired(journey: Journey, stage: str = "loyalty", label: str | None = None,
            since: date = SINCE, segments: Sequence[str] = ()) -> DesiredState:
    """A desired state for ``journey``."""
    return DesiredState(person_key=journey.key, stage=stage, label=label or stage, since=since,
                        segments=tuple(segments), is_guest=journey.person.is_guest)


def plan_items(shop: ShopAdapter, assembly: Assembly,
               wanted: Mapping[str, DesiredState]) -> list[PlanItem]:
    """Plan items for the people in ``wanted``, with their targets and held values as the
    pull saw them."""
    items = []
    for journey in assembly.journeys:
        state = wanted.get(journey.key)
        if state is None:
            continue
        target, held = shop.write_target(journey, assembly.rows.get(journey.key, []))
        items.append(PlanItem(state, target, held))
    return items
