"""Segment rules: parsed safely, evaluated correctly, bad rules named precisely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from journeybridge.model import OrderStatus
from journeybridge.stages import FEATURES, SegmentRuleError, classify_all, parse_segments
from journeybridge.stages.features import FeatureValue
from journeybridge.stages.segments import segments_for
from tests.factories import NOW, customer, journey, order

BASE: dict[str, FeatureValue] = {
    "orders": 3, "total_spent": 250.0, "average_order_value": 83.33,
    "days_since_last_order": 12, "country": "NL", "newsletter": True, "guest": False,
    "registered": True, "skus": frozenset({"JB-1", "JB-2"}), "products": frozenset({"11"}),
    "average_rating": None, "stage": "loyalty", "coupons_used": 0,
}


@pytest.mark.parametrize(("rule", "expected"), [
    ("orders >= 3 and total_spent > 200", True),
    ("orders >= 3 and total_spent > 300", False),
    ("orders > 5 or newsletter", True),
    ("not newsletter", False),
    ("not (orders < 2 or guest)", True),
    ("country in ['NL', 'BE']", True),
    ("country in ['DE']", False),
    ("'JB-1' in skus", True),
    ("'JB-9' in skus", False),
    ("stage == 'loyalty' and average_order_value >= 50", True),
    ("stage != \"loyalty\"", False),
    ("average_rating >= 4", False),          # None never compares true
    ("average_rating == none", True),
    ("coupons_used", False),
    ("registered and not guest and days_since_last_order <= 30", True),
    ("orders == 3.0", True),
])
def test_rules_evaluate(rule: str, expected: bool) -> None:
    (segment,) = parse_segments({"s": rule})
    assert segment.matches(BASE) is expected


@pytest.mark.parametrize(("rule", "message"), [
    ("", "empty"),
    ("orderz > 3", "unknown feature 'orderz'"),
    ("orders > 'many'", "needs a number"),
    ("orders >", "expected a number"),
    ("orders > 3 and", "unexpected end"),
    ("(orders > 3", "expected ')'"),
    ("skus == 'JB-1'", "is a set"),
    ("country > 3", "is text"),
    ("orders > 3 total_spent", "expected 'and', 'or' or the end"),
    ("__import__('os')", "unknown feature '__import__'"),
    ("orders; 1", "unexpected"),
    ("'x' in orders", "needs a set feature"),
])
def test_bad_rules_are_named(rule: str, message: str) -> None:
    with pytest.raises(SegmentRuleError, match=re.escape(message)) as caught:
        parse_segments({"vip": rule})
    assert "segment 'vip'" in str(caught.value)


def test_segment_names_must_be_writable() -> None:
    with pytest.raises(SegmentRuleError, match="no commas"):
        parse_segments({"a,b": "orders > 1"})


def test_a_person_can_be_in_several_segments() -> None:
    segments = parse_segments({"repeat": "orders >= 2", "dutch": "country == 'NL'",
                               "big": "total_spent > 1000"})
    assert segments_for(segments, BASE) == ("dutch", "repeat")


def test_classify_all_fills_segments_from_real_features() -> None:
    loyal = journey(customer(1), orders=[order(70), order(40), order(10)])
    prospect = journey(customer(2), orders=[order(2, OrderStatus.PENDING_PAYMENT, customer_id=2)])
    results = classify_all([loyal, prospect], now=NOW,
                           segments={"repeat": "orders >= 2 and total_spent >= 150",
                                     "at the door": "stage == 'consideration'"})
    assert results[0].segments == ("repeat",)
    assert results[1].segments == ("at the door",)


def test_every_documented_feature_is_computed() -> None:
    from journeybridge.stages.facts import facts_of
    from journeybridge.stages.features import features_of
    j = journey(customer(1), orders=[order(70), order(10)])
    assert set(features_of(j, facts_of(j, NOW), "loyalty")) == set(FEATURES)


# -- hostile rules: a configuration error with a short message, never a crash --------------

@pytest.mark.parametrize(("rule", "message"), [
    ("(" * 4000 + "orders >= 1" + ")" * 4000, "nested more than 50 deep"),
    ("not " * 2000 + "newsletter", "nested more than 50 deep"),
    ("(" * 10_000 + "orders >= 1" + ")" * 10_000, "the rule has 20011 characters"),
    ("orders >= " + "9" * 5000, "a number of 5000 characters"),
    ("total_spent > 0." + "5" * 100, "a number of 102 characters"),
    ("orders >= 1 and " * 600 + "nosuchfeature", "unknown feature 'nosuchfeature'"),
    ("orders >= 1 and " * 70_000 + "x", "characters (at most 10000)"),
])
def test_hostile_rules_are_refused_briefly(rule: str, message: str) -> None:
    with pytest.raises(SegmentRuleError) as caught:
        parse_segments({"s": rule})
    text = str(caught.value)
    assert message in text
    assert len(text) < 600  # an excerpt of the rule, never the rule itself


def test_rules_up_to_the_limits_still_parse() -> None:
    from journeybridge.stages.segments import MAX_DEPTH

    deep = "(" * MAX_DEPTH + "orders >= 3" + ")" * MAX_DEPTH
    (segment,) = parse_segments({"deep": deep})
    assert segment.matches(BASE)
    (big,) = parse_segments({"big": "total_spent < 123456789012345678901234567890"})
    assert big.matches(BASE)


def test_a_hostile_rule_in_the_configuration_exits_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from journeybridge.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[segments]\nnested = "' + "(" * 10_000 + "orders >= 1" + ")" * 10_000
                      + '"\nhuge = "orders >= ' + "9" * 5000 + '"\n\n[shops.s]\n'
                      'url = "https://shop.example"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "configuration error" in result.stderr and len(result.stderr) < 1000
