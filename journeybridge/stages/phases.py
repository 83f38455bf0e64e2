"""The journey phases, and the other vocabularies shops use for the same route."""

from __future__ import annotations

from enum import Enum

__all__ = ["VOCABULARIES", "Stage", "stage_label"]


class Stage(str, Enum):
    """A customer-journey phase (the default model), plus the two win-back states."""

    AWARENESS = "awareness"
    CONSIDERATION = "consideration"
    PURCHASE = "purchase"
    SERVICE = "service"
    LOYALTY = "loyalty"
    ADVOCACY = "advocacy"
    AT_RISK = "at_risk"
    LAPSED = "lapsed"

    @property
    def order(self) -> int:
        """Position along the route, for funnel reports (at-risk and lapsed come last)."""
        return list(Stage).index(self)


VOCABULARIES: dict[str, dict[Stage, str]] = {
    "default": {
        Stage.AWARENESS: "Awareness",
        Stage.CONSIDERATION: "Consideration",
        Stage.PURCHASE: "Purchase",
        Stage.SERVICE: "Service / delivery",
        Stage.LOYALTY: "Loyalty",
        Stage.ADVOCACY: "Advocacy",
        Stage.AT_RISK: "At risk",
        Stage.LAPSED: "Lapsed",
    },
    "see-think-do-care": {
        Stage.AWARENESS: "See",
        Stage.CONSIDERATION: "Think",
        Stage.PURCHASE: "Do",
        Stage.SERVICE: "Do",
        Stage.LOYALTY: "Care",
        Stage.ADVOCACY: "Care",
        Stage.AT_RISK: "Care (at risk)",
        Stage.LAPSED: "See (lapsed)",
    },
    "five-phases": {
        Stage.AWARENESS: "Aandacht",
        Stage.CONSIDERATION: "Afweging",
        Stage.PURCHASE: "Aankoop",
        Stage.SERVICE: "Service / bezorging",
        Stage.LOYALTY: "Advocaat",
        Stage.ADVOCACY: "Advocaat",
        Stage.AT_RISK: "Service / bezorging (risico)",
        Stage.LAPSED: "Aandacht (verloren)",
    },
}


def stage_label(stage: Stage, vocabulary: str = "default",
                overrides: dict[Stage, str] | None = None) -> str:
    """The name a shop sees for ``stage``: an override if configured, else the vocabulary's."""
    if overrides and stage in overrides:
        return overrides[stage]
    try:
        return VOCABULARIES[vocabulary][stage]
    except KeyError:
        raise ValueError(f"unknown vocabulary {vocabulary!r}; known: "
                         f"{', '.join(sorted(VOCABULARIES))}") from None
