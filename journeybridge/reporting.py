"""Plain-text reports for people: stage counts, one person's timeline with the reasons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from journeybridge.model import Journey
from journeybridge.stages import Classification, Stage, stage_label

__all__ = ["explain_journey", "stage_table"]


def stage_table(results: Sequence[Classification], vocabulary: str = "default") -> str:
    """A table of how many people are in each stage, in route order, with percentages."""
    counts = Counter(r.stage for r in results)
    total = len(results) or 1
    width = max(len(stage_label(s, vocabulary)) for s in Stage)
    lines = [f"{'stage':<{width}}  {'people':>7}  {'share':>6}"]
    lines.append("-" * len(lines[0]))
    for stage in Stage:
        count = counts.get(stage, 0)
        lines.append(f"{stage_label(stage, vocabulary):<{width}}  {count:>7}  "
                     f"{100 * count / total:>5.1f}%")
    lines.append("-" * len(lines[0]))
    lines.append(f"{'total':<{width}}  {len(results):>7}")
    return "\n".join(lines)


def explain_journey(journey: Journey, result: Classification, vocabulary: str = "default",
                    max_touchpoints: int = 12) -> str:
    """One person's stage, since when, why (rule, sentence, facts) and their latest
    touchpoints, as a few readable lines. E-mail addresses are not printed."""
    person = journey.person
    kind = "guest" if person.is_guest else f"customer {person.customer_id}"
    name = f"{person.first_name} {person.last_name}".strip() or "(no name)"
    lines = [
        f"{name} ({kind})",
        f"  stage: {stage_label(result.stage, vocabulary)} since {result.since.date()}",
    ]
    for reason in result.reasons:
        lines.append(f"  why [{reason.rule}]: {reason.text}")
        if reason.facts:
            facts = ", ".join(f"{k}={v}" for k, v in reason.facts.items())
            lines.append(f"      facts: {facts}")
    if result.flags:
        lines.append(f"  flags: {', '.join(result.flags)}")
    points = journey.touchpoints
    shown = points[-max_touchpoints:]
    lines.append(f"  timeline ({len(points)} touchpoints"
                 f"{', latest ' + str(len(shown)) if len(shown) < len(points) else ''}):")
    for point in shown:
        amount = f" {point.amount}" if point.amount else ""
        lines.append(f"    {point.at:%Y-%m-%d %H:%M} {point.kind.value:<16}{amount}  "
                     f"{point.detail}")
    return "\n".join(lines)
