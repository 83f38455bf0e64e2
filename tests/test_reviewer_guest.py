"""A reviewer known only by e-mail (WooCommerce ``user_id`` 0, an e-mail with no order and no
account) is a guest person, ``guest:<e-mail>``, whose journey holds the review: against the
sandbox over HTTP, with one approved review rewritten to come from a passer-by. (The real
WooCommerce shop's seed has such a review: tests/test_real_woo_adapter.py checks it. PrestaShop
8.1.2's Webservice has no product comments resource: see the contract test.)"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from journeybridge.adapters.http import RetryPolicy
from journeybridge.adapters.woocommerce import WooCommerceAdapter
from journeybridge.model import TouchpointKind
from journeybridge.sandbox import Population, SandboxServer
from journeybridge.stages import classify_all
from tests.adapter_support import assembled, pull_all

QUICK = RetryPolicy(attempts=3, base_wait=0.05, max_wait=0.2)
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
STRANGER = "Passer.By@Example.org"


def test_a_reviewer_known_only_by_email_becomes_a_guest(monkeypatch: pytest.MonkeyPatch) -> None:
    population = Population(200, seed=13, now=NOW)
    chosen = next(r for r in population.reviews() if r.status == "approved")
    real_review = population.review

    def review(review_id: int):  # type: ignore[no-untyped-def]
        found = real_review(review_id)
        if found is not None and review_id == chosen.id:
            return found._replace(reviewer="Pat Passer", reviewer_email=STRANGER,
                                  order_id=None, verified=False)
        return found

    monkeypatch.setattr(population, "review", review)
    assert all(STRANGER.lower() != c.email.lower() for c in population.customers())
    with SandboxServer(population) as server, WooCommerceAdapter(
            server.url, server.woo_credentials.key, server.woo_credentials.secret,
            retry=QUICK) as shop:
        pull = pull_all(shop)
        assembly = assembled(shop, pull)
    assert str(chosen.id) in {r.id for r in pull.reviews}
    assert assembly.reviews_without_person == 0
    journeys = {j.key: j for j in assembly.journeys}
    guest = journeys[f"guest:{STRANGER.lower()}"]
    assert guest.person.is_guest and guest.person.email == STRANGER.lower()
    assert (guest.person.first_name, guest.person.last_name) == ("Pat", "Passer")
    assert [r.id for r in guest.reviews] == [str(chosen.id)]
    assert [t.kind for t in guest.touchpoints] == [TouchpointKind.REVIEWED]
    assert not guest.orders
    # a journey like any other: it gets a stage
    result = classify_all([guest], now=NOW)
    assert result[0].stage is not None
