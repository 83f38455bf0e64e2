"""The journey phases, and the other vocabularies shops use for the same route."""

from __future__ import annotations

from enum import Enum

__all__ = ["STAGE_GUIDE", "VOCABULARIES", "Stage", "stage_label"]


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


STAGE_GUIDE: dict[Stage, tuple[str, str]] = {
    Stage.AWARENESS: ("known to the shop, no order yet",
                      "welcome them; show what the shop is about"),
    Stage.CONSIDERATION: ("an open checkout or cart",
                          "remind them; help when a payment failed"),
    Stage.PURCHASE: ("bought once, recently",
                     "thank them; suggest a second order"),
    Stage.SERVICE: ("a delivery, refund or cancellation under way",
                    "pause promotions; make the service right"),
    Stage.LOYALTY: ("buys again within their rhythm",
                    "reward them; early access"),
    Stage.ADVOCACY: ("a fan: a good review or many orders",
                     "ask for a review or a referral"),
    Stage.AT_RISK: ("later than their usual gap between orders",
                    "a win-back offer, now"),
    Stage.LAPSED: ("no order for a long time",
                   "one last win-back, then mail less"),
}
"""For each stage: what it means and what a shop usually does about it (the demo's legend)."""


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
