"""The journey report: figures computed from journeys, classifications and the transition log
(:mod:`.figures`), rendered into one self-contained HTML file with inline SVG charts
(:mod:`.render`), or written as JSON."""

from __future__ import annotations

from journeybridge.report.figures import (
           FUNNEL_STEPS,
           RECOVERY_DEFINITIONS,
           Figures,
           compute_figures,
)
from journeybridge.report.render import render_html, render_json

__all__ = ["FUNNEL_STEPS", "RECOVERY_DEFINITIONS", "Figures", "compute_figures", "render_html",
           "render_json"]
