"""The journey report as one self-contained HTML file (Jinja2 template, inline CSS, charts as
inline SVG, nothing fetched: the page's Content-Security-Policy forbids any load) or as JSON
(the same figures as data)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from journeybridge.report.charts import CHARTS, render_charts
from journeybridge.report.figures import RECOVERY_DEFINITIONS, Figures
from journeybridge.stages.phases import VOCABULARIES, Stage

__all__ = ["describe", "highlights", "render_html", "render_json"]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    names = {s.value: VOCABULARIES["default"][s] for s in Stage}
    names.update(labels or {})
    names["(new)"] = "(new: not known then)"
    return names


def describe(f: Figures, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """One sentence per chart (same names as the charts) saying what it shows, with the
    figures' own numbers."""
    names = _labels(labels)
    biggest = max(f.stages.now, key=lambda s: s.people) if f.stages.now else None
    funnel = f.funnel.overall.steps
    first = next((s for s in funnel if s.step == "first purchase"), None)
    second = next((s for s in funnel if s.step == "second purchase"), None)
    windows = {w.days: w for w in f.recovery.windows}
    week = windows.get(7)
    latest_full = next((c for c in f.retention.cohorts if c.buyers and c.shares
                        and c.shares[0] is not None), None)
    top_rfm = max(f.rfm.groups, key=lambda g: g.people) if f.rfm.groups else None
    movement_source = ("from the transition log" if f.movement.source == "log"
                       else "recomputed from today's records")
    return {
        "stages_weekly": (
            f"How many people were in each stage at the end of each of the last "
            f"{len(f.stages.weeks)} weeks ({f.stages.recomputed_weeks} weeks recomputed from "
            f"today's records, {f.stages.logged_weeks} from the transition log); today the "
            f"largest stage is {names[biggest.stage] if biggest else 'none'} with "
            f"{biggest.people if biggest else 0} people."),
        "movement": (
            f"Who moved from which stage (rows, {f.movement.days} days ago) to which "
            f"(columns, now), {movement_source}: {f.movement.moved} people moved and "
            f"{f.movement.stayed} stayed where they were."),
        "stays": (
            "How long people have been in the stage they are in now (median days since they "
            "entered it) and, where the transition log has them, how long finished stays "
            "lasted."),
        "funnel": (
            f"How far people got: of {funnel[0].people if funnel else 0} people known, "
            f"{first.people if first else 0} bought once "
            f"({_pct(first.conversion if first else None)} of those with a cart or checkout) "
            f"and {second.people if second else 0} bought again "
            f"({_pct(second.conversion if second else None)} of first-time buyers)."),
        "recovery": (
            f"Of {f.recovery.with_email} carts and checkouts abandoned in the last "
            f"{f.recovery.period_days} days by people with an e-mail address, the share "
            f"followed by a paid order within 1, 5, 7 and 30 days (7 days: "
            f"{_pct(week.rate if week else None)}), beside the ~10% the source material cites."),
        "retention": (
            "For buyers grouped by the month of their first purchase, the share who bought "
            "again in each later month"
            + (f" (the {latest_full.cohort} cohort: {_pct(latest_full.shares[0])} in the next "
               "month)." if latest_full else ".")),
        "pain": (
            f"Failed payments and what followed, refunds and cancellations: "
            f"{f.pain.recent.failed_payments} failed payments in the last "
            f"{f.pain.recent_days} days, {f.pain.recent.not_paid_since} of them not followed "
            f"by any paid order yet."),
        "rfm": (
            f"Buyers by RFM group (recency, frequency and money scored 1-5 against this shop's "
            f"own quintiles); the largest group is {top_rfm.group if top_rfm else 'none'} "
            f"with {top_rfm.people if top_rfm else 0} of {f.rfm.buyers} buyers."),
        "actions": (
            "Open next actions by kind, one per person at most."
            if f.actions.computed else "No next actions were computed for this report."),
    }


def highlights(f: Figures, labels: Mapping[str, str] | None = None) -> list[str]:
    """A few plain sentences of what to do next, from the figures: the people a cart reminder,
    payment help, a win-back or a thank-you would reach."""
    names = _labels(labels)
    now = {s.stage: s.people for s in f.stages.now}
    out: list[str] = []
    recovery = f.recovery
    if recovery.with_email:
        week = next((w for w in recovery.windows if w.days == 7), None)
        rate = _pct(week.rate if week else None)
        out.append(f"{recovery.with_email} carts and checkouts were left unpaid in the last "
                   f"{recovery.period_days} days by people you can e-mail; {rate} were paid "
                   f"within 7 days (reminded or not). A reminder within hours is the usual "
                   f"first step; the source material expects about 10% to come back.")
    if f.pain.recent.not_paid_since:
        out.append(f"{f.pain.recent.not_paid_since} of the {f.pain.recent.failed_payments} "
                   f"failed payments of the last {f.pain.recent_days} days were not followed "
                   f"by any paid order: offer payment help (another method, a new link).")
    at_risk, lapsed = now.get("at_risk", 0), now.get("lapsed", 0)
    if at_risk or lapsed:
        out.append(f"{at_risk} people are {names['at_risk']} and {lapsed} "
                   f"{names['lapsed']}: a win-back message reaches them before they are lost.")
    groups = {g.group: g.people for g in f.rfm.groups}
    valuable = groups.get("Can't lose them", 0) + groups.get("At risk", 0)
    if valuable:
        out.append(f"{valuable} once-frequent buyers have not bought for a while (RFM groups "
                   f"\"Can't lose them\" and \"At risk\"): worth a personal message first.")
    fans = now.get("advocacy", 0) + groups.get("Champions", 0)
    if fans:
        out.append(f"{now.get('advocacy', 0)} people are in {names['advocacy']} and "
                   f"{groups.get('Champions', 0)} buyers are RFM Champions: ask them for a "
                   f"review or a referral.")
    if not out:
        out.append("Nothing stands out yet: the shop has too few people or orders.")
    return out


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("journeybridge.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["pct"] = _pct
    return env


def render_html(figures: Figures, labels: Mapping[str, str] | None = None) -> str:
    """The report as one self-contained HTML page (UTF-8 text); ``labels`` name the stages."""
    names = _labels(labels)
    charts = {name: Markup(svg) for name, svg in render_charts(figures, names).items()}  # noqa: S704
    template = _environment().get_template("report.html.j2")
    return template.render(f=figures, labels=names, charts=charts, chart_names=CHARTS,
                           sentences=describe(figures, names),
                           highlights=highlights(figures, names),
                           definitions=RECOVERY_DEFINITIONS)


def render_json(figures: Figures, indent: int = 2) -> str:
    """The same figures as JSON text."""
    return json.dumps(figures.model_dump(mode="json"), indent=indent, ensure_ascii=False) + "\n"
