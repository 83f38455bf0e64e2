"""The report of one shop's people as :mod:`journeybridge.sources` gives them: the stage
names and segments of its configuration, its transition log, and a segment filter checked
against what the configuration and the RFM groups define."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timezone, tzinfo
from zoneinfo import ZoneInfo

from journeybridge.actions import shop_actions
from journeybridge.config import Config
from journeybridge.errors import ConfigError
from journeybridge.report.figures import Figures, TransitionLike, compute_figures
from journeybridge.sources import ShopJourneys
from journeybridge.stages import RFM_GROUPS, Stage, stage_label

__all__ = ["shop_figures", "stage_labels"]


def stage_labels(config: Config) -> dict[str, str]:
    """Each stage's name in the report: the configuration's override, else its vocabulary's
    label (the default vocabulary when none is configured)."""
    stages = config.stages
    return {s.value: stage_label(s, stages.vocabulary or "default", stages.names) for s in Stage}


def shop_figures(found: ShopJourneys, config: Config, *,
                 transitions: Sequence[TransitionLike] = (), segment: str | None = None,
                 next_actions: Mapping[str, int] | None = None) -> Figures:
    """The report's figures of ``found`` as of its ``now``, with the open next actions by kind
    (``next_actions``; default: decided here as the sync writes them back, in the shop's time
    zone). ``segment`` must name a
    configured segment or an RFM group (ConfigError otherwise, listing them)."""
    if segment is not None and segment not in config.segments and segment not in RFM_GROUPS:
        known = [*sorted(config.segments), *RFM_GROUPS]
        raise ConfigError(f"--segment {segment!r}: not a configured segment or an RFM group "
                          f"(known: {', '.join(known)})")
    kinds: list[str | None] | None = None
    if next_actions is None:
        configured = config.shops.get(found.shop)
        zone: tzinfo = ZoneInfo(configured.timezone) if configured is not None \
            else timezone.utc
        open_kinds = {journey.key: action.kind.value for journey, _, action in shop_actions(
            found.journeys, found.results, found.now, zone, config.actions)}
        kinds = [open_kinds.get(j.key) for j in found.journeys]
    return compute_figures(found.journeys, found.results, found.now, shop=found.shop,
                           settings=found.settings, transitions=transitions,
                           next_actions=next_actions, action_kinds=kinds, segment=segment,
                           labels=stage_labels(config))
