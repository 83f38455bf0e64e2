"""The report's charts: matplotlib figures (Agg backend) written as inline SVG text.

The output is deterministic: the same figures give the same SVG bytes (``svg.hashsalt`` is
fixed, no creation date is written, text stays text with ``svg.fonttype = "none"``, so no
font is embedded and the page uses the reader's sans-serif font)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from journeybridge.report.figures import Figures

__all__ = ["CHARTS", "render_charts"]

_STYLE: Any = {
    "svg.hashsalt": "journeybridge-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10.0,
}

_PALETTE = ("#4e79a7", "#59a14f", "#f28e2b", "#76b7b2", "#edc948", "#b07aa1", "#e15759",
            "#9c755f", "#bab0ac", "#ff9da7", "#86bcb6")

CHARTS = ("stages_weekly", "movement", "stays", "funnel", "recovery", "retention", "pain",
          "rfm", "actions")
"""The charts of a report, in page order."""


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[Figure, Any]]:
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(width, height))
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _svg(fig: Figure, title: str) -> str:
    out = io.StringIO()
    with plt.rc_context(_STYLE):
        fig.savefig(out, format="svg", metadata={"Date": None, "Title": title},
                    bbox_inches="tight")
    text = out.getvalue()
    return text[text.index("<svg"):]


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def _stages_weekly(f: Figures, labels: dict[str, str]) -> str:
    weeks = f.stages.weeks
    with _figure(8.0, 3.4) as (fig, ax):
        x = list(range(len(weeks)))
        stages = [s.stage for s in f.stages.now]
        series = [[w.counts.get(stage, 0) for w in weeks] for stage in stages]
        ax.stackplot(x, series, labels=[labels[s] for s in stages], colors=_PALETTE,
                     alpha=0.9)
        recomputed = [i for i, w in enumerate(weeks) if w.source == "recomputed"]
        if recomputed:
            ax.axvspan(min(recomputed) - 0.5, max(recomputed) + 0.5, color="#000",
                       alpha=0.05, lw=0)
            ax.text(min(recomputed), ax.get_ylim()[1] * 0.98, "recomputed from today's records",
                    va="top", fontsize=7, color="#444")
        step = max(1, len(weeks) // 9)
        ax.set_xticks(x[::step], [w.week_end.isoformat() for w in weeks][::step],
                      rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("people")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        return _svg(fig, "People per stage, week by week")


def _heat(ax: Any, values: Sequence[Sequence[float | None]], fmt: str, cmap: str) -> None:
    import numpy as np

    grid = np.array([[np.nan if v is None else float(v) for v in row] for row in values])
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto")
    top = np.nanmax(grid) if np.isfinite(grid).any() else 0.0
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            if v is None:
                continue
            dark = top and float(v) > top * 0.6
            ax.text(c, r, format(v, fmt), ha="center", va="center", fontsize=7,
                    color="white" if dark else "#222")


def _movement(f: Figures, labels: dict[str, str]) -> str:
    m = f.movement
    with _figure(7.0, 4.0) as (fig, ax):
        if not m.moved:
            _empty(ax, f"no moves between stages in the last {m.days} days")
        else:
            _heat(ax, m.matrix, "d", "Blues")
            ax.set_xticks(range(len(m.columns)), [labels[c] for c in m.columns], rotation=30,
                          ha="right")
            ax.set_yticks(range(len(m.rows)), [labels.get(r, r) for r in m.rows])
            ax.set_xlabel("stage now")
            ax.set_ylabel(f"stage {m.days} days ago")
        return _svg(fig, "Movement between stages")


def _stays(f: Figures, labels: dict[str, str]) -> str:
    stays = f.movement.stays
    with _figure(7.0, 3.0) as (fig, ax):
        names = [labels[s.stage] for s in stays]
        now = [s.median_days_now or 0.0 for s in stays]
        done = [s.median_days_finished or 0.0 for s in stays]
        y = list(range(len(stays)))
        ax.barh([v - 0.2 for v in y], now, height=0.4, color=_PALETTE[0],
                label="current stay (median days)")
        if any(s.finished_stays for s in stays):
            ax.barh([v + 0.2 for v in y], done, height=0.4, color=_PALETTE[2],
                    label="finished stays, from the log (median days)")
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlabel("days")
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(fig, "Time spent per stage")


def _funnel(f: Figures, labels: dict[str, str]) -> str:
    steps = f.funnel.overall.steps
    with _figure(7.0, 2.8) as (fig, ax):
        y = list(range(len(steps)))
        ax.barh(y, [s.people for s in steps], color=_PALETTE[0])
        top = max([s.people for s in steps] + [1])
        for i, s in enumerate(steps):
            note = f"{s.people}"
            if s.conversion is not None:
                note += f"  ({s.conversion:.0%} of the step before"
                note += f", median {s.median_days:g} d)" if s.median_days is not None else ")"
            ax.text(s.people + top * 0.01, i, note, va="center", fontsize=7)
        ax.set_yticks(y, [s.step for s in steps])
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.6)
        ax.set_xlabel("people")
        return _svg(fig, "Funnel")


def _recovery(f: Figures, labels: dict[str, str]) -> str:
    r = f.recovery
    with _figure(7.0, 2.8) as (fig, ax):
        names = [f"{w.days} d ({w.tool})" for w in r.windows]
        rates = [(w.rate or 0.0) * 100 for w in r.windows]
        ax.bar(names, rates, color=_PALETTE[1])
        for i, w in enumerate(r.windows):
            text = f"{w.recovered}/{w.eligible}" if w.eligible else "none yet"
            ax.text(i, rates[i], text, ha="center", va="bottom", fontsize=7)
        ax.axhline(r.cited_rate * 100, color=_PALETTE[6], ls="--", lw=1)
        ax.text(len(names) - 0.5, r.cited_rate * 100, " ~10% cited", va="bottom", ha="right",
                fontsize=7, color=_PALETTE[6])
        ax.set_ylabel("% of abandonments paid after")
        ax.set_ylim(0, max([*rates, r.cited_rate * 100]) * 1.25 + 1)
        return _svg(fig, "Abandoned carts and checkouts: recovery")


def _retention(f: Figures, labels: dict[str, str]) -> str:
    cohorts = f.retention.cohorts
    with _figure(8.0, 4.0) as (fig, ax):
        if not any(c.buyers for c in cohorts):
            _empty(ax, "no first purchases in the last 12 months")
        else:
            values = [[None if v is None else round(v * 100) for v in c.shares]
                      for c in cohorts]
            _heat(ax, values, "d", "Greens")
            ax.set_xticks(range(f.retention.months - 1),
                          [f"+{m}" for m in range(1, f.retention.months)])
            ax.set_yticks(range(len(cohorts)), [f"{c.cohort} ({c.buyers})" for c in cohorts])
            ax.set_xlabel("months after the first purchase (% of the cohort buying again)")
            ax.set_ylabel("first purchase in (buyers)")
        return _svg(fig, "Repeat-purchase retention")


def _pain(f: Figures, labels: dict[str, str]) -> str:
    p = f.pain
    with _figure(7.0, 2.8) as (fig, ax):
        names = ["failed payments", "... paid within 7 d", "... paid later", "... not paid since",
                 "refunds", "cancellations"]
        recent = [p.recent.failed_payments, p.recent.paid_within_7_days, p.recent.paid_later,
                  p.recent.not_paid_since, p.recent.refunds, p.recent.cancellations]
        ever = [p.ever.failed_payments, p.ever.paid_within_7_days, p.ever.paid_later,
                p.ever.not_paid_since, p.ever.refunds, p.ever.cancellations]
        y = list(range(len(names)))
        ax.barh([v - 0.2 for v in y], ever, height=0.4, color=_PALETTE[8], label="ever")
        ax.barh([v + 0.2 for v in y], recent, height=0.4, color=_PALETTE[6],
                label=f"last {p.recent_days} days")
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(fig, "Pain points")


def _rfm(f: Figures, labels: dict[str, str]) -> str:
    rows = f.rfm.groups
    with _figure(7.0, 3.4) as (fig, ax):
        y = list(range(len(rows)))
        ax.barh(y, [r.people for r in rows], color=_PALETTE[5])
        ax.set_yticks(y, [r.group for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel("buyers")
        return _svg(fig, "RFM groups")


def _actions(f: Figures, labels: dict[str, str]) -> str:
    kinds = f.actions.by_kind
    with _figure(7.0, 2.4) as (fig, ax):
        if not f.actions.computed:
            _empty(ax, "no next actions computed")
        elif not kinds:
            _empty(ax, "no open next actions")
        else:
            names = list(kinds)
            ax.barh(range(len(names)), [kinds[k] for k in names], color=_PALETTE[3])
            ax.set_yticks(range(len(names)), [k.replace("_", " ") for k in names])
            ax.invert_yaxis()
            ax.set_xlabel("open actions")
        return _svg(fig, "Open next actions by kind")


_DRAW = {"stages_weekly": _stages_weekly, "movement": _movement, "stays": _stays,
         "funnel": _funnel, "recovery": _recovery, "retention": _retention, "pain": _pain,
         "rfm": _rfm, "actions": _actions}


def render_charts(figures: Figures, labels: dict[str, str]) -> dict[str, str]:
    """Every chart of :data:`CHARTS` as inline SVG text (``<svg ...>...</svg>``), by name;
    ``labels`` name the stages (``"(new)"`` included)."""
    return {name: _DRAW[name](figures, labels) for name in CHARTS}
