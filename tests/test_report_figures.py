"""The journey report's figures against values worked out by hand on a small fixed shop.

The shop (as of NOW = 2026-06-01 12:00 UTC; "d" = days ago; every order paid 5 minutes after
it was placed, as tests/factories.py builds them):

* P1 registered 400 d; a failed payment 103 d, delivered orders 100 d (50) and 40 d (30), a
  5-star review 35 d.
* P2 registered 200 d; an unpaid checkout 60 d, a delivered order 57 d (50).
* P3 registered 50 d; a failed payment 20 d, nothing since.
* P4 registered 10 d; nothing else.
* P5 registered 31 d; a cart 10 d without an order.
* P6 registered 100 d; a delivered order 30 d (50) refunded 25 d (50); a cancellation 5 d.
* P7 registered 20 d, no e-mail address; an unpaid checkout 15 d.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from journeybridge.model import Journey, OrderStatus, Person, Platform
from journeybridge.report import Figures, compute_figures, render_json
from journeybridge.stages import classify_all
from journeybridge.state.store import Transition
from tests.factories import NOW, cart, customer, days_ago, journey, order, review

FIVE_MINUTES = 5 / (24 * 60)


def _shop() -> list[Journey]:
    p1 = journey(customer(1, registered_days_ago=400),
                 [order(103, OrderStatus.FAILED, customer_id=1),
                  order(100, total="50.00", customer_id=1),
                  order(40, total="30.00", customer_id=1)],
                 reviews=[review(35, 5, customer_id=1)])
    p2 = journey(customer(2, registered_days_ago=200),
                 [order(60, OrderStatus.PENDING_PAYMENT, customer_id=2),
                  order(57, customer_id=2)])
    p3 = journey(customer(3, registered_days_ago=50), [order(20, OrderStatus.FAILED,
                                                             customer_id=3)])
    p4 = journey(customer(4, registered_days_ago=10))
    p5 = journey(customer(5, registered_days_ago=31), carts=[cart(10, customer_id=5)])
    p6 = journey(customer(6, registered_days_ago=100),
                 [order(30, customer_id=6, refunds=[("50", 25)]),
                  order(5, OrderStatus.CANCELLED, customer_id=6)])
    nobody = Person(shop="test", platform=Platform.WOOCOMMERCE, key="customer:7",
                    customer_id="7", registered_at=days_ago(20))
    p7 = journey(nobody, [order(15, OrderStatus.PENDING_PAYMENT, customer_id=7)])
    return [p1, p2, p3, p4, p5, p6, p7]


def _figures(**kwargs: object) -> Figures:
    journeys = _shop()
    results = classify_all(journeys, now=NOW)
    return compute_figures(journeys, results, NOW, shop="test", **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def figures() -> Figures:
    return _figures()


def test_funnel_overall(figures: Figures) -> None:
    steps = {s.step: s for s in figures.funnel.overall.steps}
    assert [steps[n].people for n in ("known", "cart or checkout", "first purchase",
                                      "second purchase", "advocate")] == [7, 6, 3, 1, 1]
    assert steps["cart or checkout"].conversion == pytest.approx(6 / 7)
    assert steps["first purchase"].conversion == pytest.approx(3 / 6)
    assert steps["second purchase"].conversion == pytest.approx(1 / 3)
    assert steps["advocate"].conversion == pytest.approx(1.0)
    # known -> first cart/order: 297, 140, 30, 21, 70, 5 days: median (30 + 70) / 2
    assert steps["cart or checkout"].median_days == 50.0
    # cart -> paid: P1 3 d - 5 min, P2 3 d - 5 min, P6 5 min
    assert steps["first purchase"].median_days == round(3 - FIVE_MINUTES, 1)
    assert steps["second purchase"].median_days == 60.0
    # second purchase 40 d ago (+5 min) -> the 5-star review 35 d ago
    assert steps["advocate"].median_days == round(5 - FIVE_MINUTES, 1)


def test_funnel_cohorts(figures: Figures) -> None:
    cohorts = {c.cohort: c for c in figures.funnel.cohorts}
    assert len(figures.funnel.cohorts) == 12
    assert figures.funnel.cohorts[0].cohort == "2026-06"
    may = [s.people for s in cohorts["2026-05"].steps]  # P4, P5, P7
    assert may == [3, 2, 0, 0, 0]
    assert [s.people for s in cohorts["2026-04"].steps] == [1, 1, 0, 0, 0]  # P3
    assert [s.people for s in cohorts["2026-02"].steps] == [1, 1, 1, 0, 0]  # P6
    assert [s.people for s in cohorts["2025-11"].steps] == [1, 1, 1, 0, 0]  # P2
    assert "2025-04" not in cohorts  # P1 is older than 12 months: only in "all"


def test_recovery_windows(figures: Figures) -> None:
    r = figures.recovery
    assert (r.abandoned_carts, r.abandoned_checkouts) == (1, 4)
    assert (r.with_email, r.without_email, r.abandoners) == (4, 1, 5)
    by_days = {w.days: w for w in r.windows}
    assert {d: w.tool for d, w in by_days.items()} == {1: "Metorik", 5: "Klaviyo",
                                                      7: "Omnisend", 30: "Mailchimp"}
    # P1 and P2 paid 3 days after; P3 and P5 never; P7 has no e-mail
    assert (by_days[1].eligible, by_days[1].recovered) == (4, 0)
    assert (by_days[5].eligible, by_days[5].recovered) == (4, 2)
    assert (by_days[7].eligible, by_days[7].recovered) == (4, 2)
    # only P1's (103 d) and P2's (60 d) abandonments are 30 days old
    assert (by_days[30].eligible, by_days[30].recovered) == (2, 2)
    assert by_days[7].rate == pytest.approx(0.5)
    assert r.cited_rate == pytest.approx(0.10)


def test_retention_cohorts(figures: Figures) -> None:
    cohorts = {c.cohort: c for c in figures.retention.cohorts}
    feb = cohorts["2026-02"]  # P1: first purchase Feb, again in April
    assert feb.buyers == 1
    assert feb.shares[:4] == [0.0, 1.0, 0.0, 0.0]
    assert all(v is None for v in feb.shares[4:])
    assert cohorts["2026-04"].buyers == 1  # P2
    assert cohorts["2026-04"].shares[:2] == [0.0, 0.0]
    assert cohorts["2026-04"].shares[2] is None
    assert cohorts["2026-05"].buyers == 1  # P6
    assert cohorts["2026-05"].shares[0] == 0.0
    assert cohorts["2026-06"].buyers == 0
    assert sum(c.buyers for c in figures.retention.cohorts) == 3


def test_pain_points(figures: Figures) -> None:
    recent, ever = figures.pain.recent, figures.pain.ever
    assert (recent.failed_payments, recent.paid_within_7_days, recent.not_paid_since) == (1, 0, 1)
    assert (ever.failed_payments, ever.failed_people, ever.paid_within_7_days, ever.paid_later,
            ever.not_paid_since) == (2, 2, 1, 0, 1)
    assert (ever.refunds, ever.refunded_orders, ever.refunded_amount) == (1, 1, "50.00 EUR")
    assert recent.refunds == 1
    assert (ever.cancellations, ever.cancelled_after_payment) == (1, 0)


def test_rfm_rows(figures: Figures) -> None:
    # recency 30, 40, 57 days; purchases 1, 2, 1; spent 0, 80, 50 (see the module docstring
    # of journeybridge.stages.rfm): P1 = R3 F5 M5 Loyal, P2 = R1 F1 M3 Lost, P6 = R5 F1 M1 New
    rows = {g.group: g.people for g in figures.rfm.groups}
    assert figures.rfm.buyers == 3
    assert {g: n for g, n in rows.items() if n} == {"Loyal": 1, "Lost": 1, "New": 1}
    assert figures.rfm.purchase_cuts == [1.0, 1.0, 1.2, 1.6]
    assert figures.rfm.spent_cuts == [20.0, 40.0, 56.0, 68.0]


def test_stages_recomputed_without_a_log(figures: Figures) -> None:
    s = figures.stages
    assert len(s.weeks) == 26
    assert (s.recomputed_weeks, s.logged_weeks) == (26, 0)
    assert s.weeks[-1].week_end == NOW.date()
    assert sum(c.people for c in s.now) == 7
    # people known by the end of each week: 2 weeks ago everyone but P4; 25 weeks ago P1, P2
    assert sum(s.weeks[-3].counts.values()) == 6
    assert sum(s.weeks[0].counts.values()) == 2
    # 175 days ago P1 and P2 had only registered: no cart, checkout or opt-in, so awareness
    assert {k: v for k, v in s.weeks[0].counts.items() if v} == {"awareness": 2}


def test_movement_recomputed_without_a_log(figures: Figures) -> None:
    m = figures.movement
    assert m.source == "recomputed"
    new_row = m.matrix[m.rows.index("(new)")]
    assert sum(new_row) == 2  # P4 and P7 were not known 30 days ago
    assert m.moved + m.stayed == 7
    assert sum(sum(row) for row in m.matrix) == m.moved
    assert sum(s.people_now for s in m.stays) == 7


def _log(first_days: float) -> list[Transition]:
    journeys = _shop()
    then = NOW - timedelta(days=first_days)
    first = [Transition(j.key, None, "consideration" if j.key == "customer:3" else "awareness",
                        then.date().isoformat(), then.isoformat(), "") for j in journeys]
    move_at = NOW - timedelta(days=10)
    return [*first, Transition("customer:3", "consideration", "service",
                               move_at.date().isoformat(), move_at.isoformat(), "")]


def test_stages_from_the_log_after_the_first_run() -> None:
    f = _figures(transitions=_log(20))
    s = f.stages
    assert (s.recomputed_weeks, s.logged_weeks) == (23, 3)
    assert [w.source for w in s.weeks[-3:]] == ["log", "log", "log"]
    # 14 days ago the log had everyone's first stage: P3 in consideration, the rest awareness
    assert {k: v for k, v in s.weeks[-3].counts.items() if v} == {"awareness": 6,
                                                                   "consideration": 1}
    # 7 days ago P3 had moved to service
    assert {k: v for k, v in s.weeks[-2].counts.items() if v} == {"awareness": 6, "service": 1}
    assert f.movement.source == "recomputed"  # the log does not cover 30 days yet


def test_movement_and_stays_from_the_log() -> None:
    f = _figures(transitions=_log(40))
    m = f.movement
    assert m.source == "log"
    assert m.moved == 1
    assert m.matrix[m.rows.index("consideration")][m.columns.index("service")] == 1
    assert m.stayed == 6
    stays = {s.stage: s for s in m.stays}
    assert stays["consideration"].finished_stays == 1
    assert stays["consideration"].median_days_finished == 30.0


def test_segment_filter_and_actions() -> None:
    f = _figures(segment="Loyal", next_actions={"cart_reminder": 2, "welcome": 1})
    assert f.people == 1
    assert f.funnel.overall.steps[0].people == 1
    assert f.rfm.buyers == 1
    assert f.actions.computed
    assert f.actions.by_kind == {"cart_reminder": 2, "welcome": 1}
    assert not _figures().actions.computed


def test_json_has_every_section(figures: Figures) -> None:
    import json

    data = json.loads(render_json(figures))
    assert set(data) >= {"stages", "movement", "funnel", "recovery", "retention", "pain", "rfm",
                         "actions"}
    assert data["recovery"]["windows"][0]["days"] == 1


def test_naive_now_is_refused() -> None:
    journeys = _shop()
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_figures(journeys, classify_all(journeys, now=NOW), NOW.replace(tzinfo=None))


def test_stages_at_equals_classify_all() -> None:
    from journeybridge.stages import stages_at
    from tests.factories import generated_shop

    journeys = generated_shop(5, 400, NOW)
    for moment in (NOW, NOW - timedelta(days=70)):
        assert stages_at(journeys, moment) == [r.stage for r in classify_all(journeys,
                                                                             now=moment)]


def test_what_to_do_next_names_the_people_to_reach(figures: Figures) -> None:
    from journeybridge.report.render import highlights

    lines = highlights(figures)
    # 4 abandonments by people with an e-mail, 2 of them paid within 7 days
    assert lines[0].startswith("4 carts and checkouts were left unpaid")
    assert "50% were paid within 7 days" in lines[0]
    # P3's failed payment (20 d) is the only one in 90 days, not paid since
    assert lines[1].startswith("1 of the 1 failed payments of the last 90 days")
