"""Regression test of the stage rules: the 24 hand-made cases of test_stage_rules and three
generated shops (a fitted BG/NBD model, measured gates, every rule) decide exactly as
recorded in ``tests/golden/stage_regression.jsonl``.

What is compared, and how:

* exactly: stage, since, flags, segments, the rule of every reason, every reason sentence
  (with the model note's fitted numbers and the "N% chance" masked) and every fact that
  does not come from the optimiser (measured floats such as a gap percentile to 1e-9
  relative: numpy's last bits);
* with a stated tolerance, because they come out of an optimiser whose last digits depend on
  the numpy/scipy release: the BG/NBD parameters (1e-6 relative), each probability of no
  purchase (1e-4 absolute) and the probability as rounded into a reason's facts (1e-3);
* a person whose recorded probability lies within that tolerance of the at-risk or lapsed
  probability threshold may legitimately flip stage on another release: such a flip is
  reported as a warning naming the person and the threshold, not as a failure.

A failure names the case or shop, the person and the field that moved. After a deliberate
change of the rules, re-record with::

    JOURNEYBRIDGE_RECORD_GOLDEN=1 python -m pytest tests/test_stage_regression.py

and review the diff of the golden file like code.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import tests.factories as factories
from journeybridge.stages import Classification, StageSettings, classify, classify_all, measure_shop
from tests.factories import NOW, generated_shop
from tests.test_stage_rules import CASES

GOLDEN = Path(__file__).with_name("golden") / "stage_regression.jsonl"
RECORD = os.environ.get("JOURNEYBRIDGE_RECORD_GOLDEN") == "1"

PARAM_REL = 1e-6
PROBABILITY_ABS = 1e-4
ROUNDED_PROBABILITY_ABS = 1e-3 + 1e-9
OPTIMISER_FACTS = {"probability_no_order_in_horizon"}

DEFAULT = StageSettings()
PERMISSIVE = StageSettings(min_repeat_gaps=5, own_rhythm_factor=1.5, advocacy_min_orders=3,
                           min_customers_for_fit=10, min_repeat_buyers_for_fit=5,
                           min_buyers_for_learned_score=50)
# (seed, size, days before NOW, settings name)
SHOPS = [(11, 700, 0, "default"), (12, 700, 90, "default"), (13, 300, 0, "permissive")]
SETTINGS = {"default": DEFAULT, "permissive": PERMISSIVE}

_PERCENT = re.compile(r"\b\d+% chance")
_MODEL_NUMBER = re.compile(r"=[-+.\de]+")


def _masked(rule: str, text: str) -> str:
    text = _PERCENT.sub("N% chance", text)
    return _MODEL_NUMBER.sub("=?", text) if rule == "model" else text


def record_of(result: Classification) -> dict[str, Any]:
    """What the golden file keeps of one classification."""
    return {
        "person": result.person_key,
        "stage": result.stage.value,
        "since": result.since.isoformat(),
        "flags": list(result.flags),
        "segments": list(result.segments),
        "probability": result.probability_no_purchase,
        "reasons": [{"rule": r.rule, "text": _masked(r.rule, r.text), "facts": r.facts}
                    for r in result.reasons],
    }


def _case_results() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, make, *_ in CASES:
        factories._order_ids = iter(range(1000, 10_000_000))
        built = make()
        yield name, record_of(classify(built, now=NOW))


def _shop_name(seed: int, size: int, days_back: int, which: str) -> str:
    return f"shop {seed}-{size}-{days_back}-{which}"


def _shop_results(seed: int, size: int, days_back: int, which: str
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    settings = SETTINGS[which]
    now = NOW - timedelta(days=days_back)
    people = generated_shop(seed, size, now)
    rhythm = measure_shop(people, now=now, settings=settings)
    params = rhythm.model.params
    model = None if params is None else dict(zip(("r", "alpha", "a", "b"), params.as_tuple(),
                                                 strict=True))
    results = classify_all(people, now=now, settings=settings)
    return {"model": model, "settings": which}, [record_of(r) for r in results]


def current() -> dict[str, Any]:
    """Everything the golden file holds, computed now."""
    out: dict[str, Any] = {"cases": dict(_case_results())}
    for shop in SHOPS:
        header, people = _shop_results(*shop)
        out[_shop_name(*shop)] = {**header, "people": people}
    return out


def _write(data: dict[str, Any]) -> None:
    GOLDEN.parent.mkdir(exist_ok=True)
    lines = []
    for name, block in data.items():
        if name == "cases":
            lines += [json.dumps({"case": case, **rec}, sort_keys=True)
                      for case, rec in block.items()]
        else:
            lines.append(json.dumps({"shop": name, "model": block["model"],
                                     "settings": block["settings"]}, sort_keys=True))
            lines += [json.dumps({"in": name, **rec}, sort_keys=True) for rec in block["people"]]
    GOLDEN.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _read() -> dict[str, Any]:
    data: dict[str, Any] = {"cases": {}}
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "case" in row:
            data["cases"][row.pop("case")] = row
        elif "shop" in row:
            data[row["shop"]] = {"model": row["model"], "settings": row["settings"],
                                 "people": []}
        else:
            data[row.pop("in")]["people"].append(row)
    return data


# -- comparison ------------------------------------------------------------------------------

def _thresholds(settings: StageSettings) -> dict[str, float]:
    return {"at-risk": settings.at_risk_probability, "lapsed": settings.lapsed_probability}


def _on_threshold(probability: float | None, settings: StageSettings) -> str | None:
    if probability is None:
        return None
    for name, value in _thresholds(settings).items():
        if abs(probability - value) <= PROBABILITY_ABS:
            return f"{name} threshold {value} (recorded probability {probability:.6f})"
    return None


def _facts_moved(where: str, want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    problems = []
    for key in sorted(set(want) | set(got)):
        if key not in got or key not in want:
            problems.append(f"{where}: fact {key!r} is {'gone' if key in want else 'new'}")
            continue
        a, b = want[key], got[key]
        if key in OPTIMISER_FACTS:
            if a is None or b is None or abs(a - b) > ROUNDED_PROBABILITY_ABS:
                problems.append(f"{where}: fact {key!r} moved from {a} to {b} "
                                f"(tolerance {ROUNDED_PROBABILITY_ABS:g})")
        elif isinstance(a, float) and isinstance(b, float):
            # measured from the shop (percentiles, medians), not optimised: equal up to the
            # last bits of numpy's arithmetic
            if not math.isclose(a, b, rel_tol=1e-9):
                problems.append(f"{where}: fact {key!r} moved from {a!r} to {b!r}")
        elif a != b:
            problems.append(f"{where}: fact {key!r} moved from {a!r} to {b!r}")
    return problems


def compare_person(where: str, want: dict[str, Any], got: dict[str, Any],
                   settings: StageSettings) -> tuple[list[str], str | None]:
    """The fields of one person that moved (empty: none), and a note when the person's stage
    flipped only because their probability sits on a threshold."""
    problems: list[str] = []
    pw, pg = want["probability"], got["probability"]
    if (pw is None) != (pg is None):
        problems.append(f"{where}: probability moved from {pw} to {pg}")
    elif pw is not None and abs(pw - pg) > PROBABILITY_ABS:
        problems.append(f"{where}: probability moved from {pw:.6f} to {pg:.6f} "
                        f"(tolerance {PROBABILITY_ABS:g})")
    boundary = _on_threshold(pw, settings)
    if want["stage"] != got["stage"] and boundary and not problems:
        return [], (f"{where} sits on the {boundary}: stage {want['stage']} -> {got['stage']} "
                    "on this numpy/scipy is within tolerance")
    for name in ("stage", "since", "flags", "segments"):
        if want[name] != got[name]:
            problems.append(f"{where}: {name} moved from {want[name]!r} to {got[name]!r}")
    rules_w = [r["rule"] for r in want["reasons"]]
    rules_g = [r["rule"] for r in got["reasons"]]
    if rules_w != rules_g:
        problems.append(f"{where}: reasons' rules moved from {rules_w} to {rules_g}")
        return problems, None
    for rw, rg in zip(want["reasons"], got["reasons"], strict=True):
        at = f"{where}, reason {rw['rule']}"
        if rw["text"] != rg["text"]:
            problems.append(f"{at}: text moved from {rw['text']!r} to {rg['text']!r}")
        problems += _facts_moved(at, rw["facts"], rg["facts"])
    return problems, None


def compare(want: dict[str, Any], got: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Every field that moved between the recorded and the current results, and the notes of
    people on a threshold."""
    problems: list[str] = []
    notes: list[str] = []
    for name in sorted(set(want["cases"]) | set(got["cases"])):
        if name not in got["cases"] or name not in want["cases"]:
            problems.append(f"case {name!r} is {'gone' if name in want['cases'] else 'new'}")
            continue
        moved, note = compare_person(f"case {name!r}", want["cases"][name],
                                     got["cases"][name], DEFAULT)
        problems += moved
        notes += [note] if note else []
    for shop in SHOPS:
        name = _shop_name(*shop)
        w, g = want.get(name), got[name]
        if w is None:
            problems.append(f"{name} is not recorded")
            continue
        problems += _model_moved(name, w["model"], g["model"])
        settings = SETTINGS[shop[3]]
        if [p["person"] for p in w["people"]] != [p["person"] for p in g["people"]]:
            problems.append(f"{name}: the people are not the same")
            continue
        for pw, pg in zip(w["people"], g["people"], strict=True):
            moved, note = compare_person(f"{name}, {pw['person']}", pw, pg, settings)
            problems += moved
            notes += [note] if note else []
    return problems, notes


def _model_moved(shop: str, want: dict[str, float] | None, got: dict[str, float] | None
                 ) -> list[str]:
    if (want is None) != (got is None):
        return [f"{shop}: the churn model {'is gone' if got is None else 'appeared'}"]
    if want is None or got is None:
        return []
    return [f"{shop}: BG/NBD {name} moved from {want[name]!r} to {got[name]!r} "
            f"(tolerance {PARAM_REL:g} relative)"
            for name in ("r", "alpha", "a", "b")
            if not math.isclose(want[name], got[name], rel_tol=PARAM_REL)]


# -- the tests -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def now_results() -> dict[str, Any]:
    return current()


def test_stages_decide_as_recorded(now_results: dict[str, Any]) -> None:
    if RECORD:
        _write(now_results)
    problems, notes = compare(_read(), now_results)
    for note in notes:
        warnings.warn(note, stacklevel=1)
    assert not problems, f"{len(problems)} recorded values moved:\n" + "\n".join(problems[:40])


def test_the_recorded_shops_use_every_rule_and_a_fitted_model(now_results: dict[str, Any]
                                                              ) -> None:
    from journeybridge.stages.rules import Rule

    rules: set[str] = set()
    for shop in SHOPS:
        block = now_results[_shop_name(*shop)]
        assert block["model"] is not None, shop
        assert any(p["probability"] is not None for p in block["people"])
        rules |= {p["reasons"][0]["rule"] for p in block["people"]}
    assert rules == {rule.code for rule in Rule}


def test_percentages_in_reasons_are_the_probability() -> None:
    """The masked "N% chance" is the person's own probability, rounded."""
    seed, size, days_back, which = SHOPS[0]
    now = NOW - timedelta(days=days_back)
    results = classify_all(generated_shop(seed, size, now), now=now, settings=SETTINGS[which])
    seen = 0
    for result in results:
        for reason in result.reasons:
            match = _PERCENT.search(reason.text)
            if match:
                seen += 1
                assert result.probability_no_purchase is not None
                assert match.group().startswith(f"{result.probability_no_purchase:.0%}")
    assert seen > 10


# -- the comparison itself must catch what it is for ------------------------------------------

def _sample() -> dict[str, Any]:
    return {"person": "customer:1", "stage": "at_risk", "since": "2026-01-01T00:00:00+00:00",
            "flags": [], "segments": [], "probability": 0.50002,
            "reasons": [{"rule": "at_risk", "text": "t", "facts": {
                "probability_no_order_in_horizon": 0.5, "days_since_last_order": 200}}]}


def test_comparison_tolerates_optimiser_noise_only() -> None:
    want = _sample()
    noisy = {**want, "probability": want["probability"] + 5e-5}
    assert compare_person("p", want, noisy, DEFAULT) == ([], None)
    moved = {**want, "probability": want["probability"] + 5e-3}
    problems, _ = compare_person("p", want, moved, DEFAULT)
    assert problems and "probability moved" in problems[0] and "p:" in problems[0]
    later = {**want, "since": "2026-01-02T00:00:00+00:00"}
    assert compare_person("p", want, later, DEFAULT)[0] == [
        "p: since moved from '2026-01-01T00:00:00+00:00' to '2026-01-02T00:00:00+00:00'"]
    fact = {**want, "reasons": [{"rule": "at_risk", "text": "t", "facts": {
        "probability_no_order_in_horizon": 0.5, "days_since_last_order": 201}}]}
    assert "days_since_last_order" in compare_person("p", want, fact, DEFAULT)[0][0]


def test_a_flip_on_a_threshold_is_named_not_failed() -> None:
    want = _sample()
    flipped = {**want, "stage": "loyalty", "probability": 0.49999}
    problems, note = compare_person("shop x, customer:1", want, flipped, DEFAULT)
    assert problems == []
    assert note is not None and "customer:1" in note and "at-risk threshold 0.5" in note
    far = {**_sample(), "probability": 0.7}
    problems, note = compare_person("p", far, {**far, "stage": "loyalty"}, DEFAULT)
    assert note is None and problems == ["p: stage moved from 'at_risk' to 'loyalty'"]


def test_model_parameters_compare_relatively() -> None:
    want = {"r": 0.25, "alpha": 20.0, "a": 7.0, "b": 60.0}
    assert _model_moved("s", want, {**want, "a": 7.0 * (1 + 5e-7)}) == []
    moved = _model_moved("s", want, {**want, "b": 60.01})
    assert len(moved) == 1 and "BG/NBD b moved" in moved[0]
