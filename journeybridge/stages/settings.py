"""Thresholds for the stage rules, with defaults that work for a typical small shop."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["StageSettings"]


class StageSettings(BaseModel):
    """Every number the stage rules use. All windows are in days unless named in hours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    abandoned_after_hours: float = Field(4.0, gt=0, description=(
        "an unpaid checkout or a cart older than this is flagged abandoned"))
    consideration_window_days: float = Field(30.0, gt=0, description=(
        "carts, unpaid checkouts, sign-ups and opt-ins within this window mean consideration"))
    service_window_days: float = Field(14.0, ge=0, description=(
        "a refund or cancellation after payment within this window keeps a person in service"))
    advocacy_min_rating: int = Field(4, ge=1, le=5)
    advocacy_review_window_days: float = Field(365.0, gt=0)
    advocacy_min_orders: int = Field(5, ge=2, description=(
        "a repeat buyer with at least this many purchases is an advocate even without a review"))
    horizon_days: float = Field(90.0, gt=0, description=(
        "the BG/NBD question: probability of no order within this many days"))
    at_risk_probability: float = Field(0.5, ge=0, le=1)
    lapsed_probability: float = Field(0.8, ge=0, le=1)
    at_risk_percentile: float = Field(75.0, gt=0, lt=100)
    lapsed_percentile: float = Field(90.0, gt=0, lt=100)
    own_rhythm_factor: float = Field(2.0, ge=1, description=(
        "a repeat buyer with their own rhythm is not at risk before this many of their usual "
        "gaps have passed"))
    own_rhythm_lapsed_factor: float = Field(3.0, ge=1, description=(
        "... and not lapsed before this many of their usual gaps have passed"))
    default_at_risk_days: float = Field(120.0, gt=0, description=(
        "at-risk gap gate when the shop has too few repeat purchases to measure its own"))
    default_lapsed_days: float = Field(365.0, gt=0)
    min_repeat_gaps: int = Field(20, ge=1, description=(
        "repeat-purchase gaps needed before the shop's own percentiles are used"))
    default_fulfilment_days: float = Field(14.0, gt=0, description=(
        "an order paid and not shipped counts as in preparation this long when the shop's "
        "own fulfilment time (90th percentile, paid to shipped/completed) is unmeasurable"))
    min_fulfilled_orders: int = Field(20, ge=1, description=(
        "shipped or completed orders needed before the shop's own fulfilment time is used"))
    min_customers_for_fit: int = Field(200, ge=10)
    min_repeat_buyers_for_fit: int = Field(30, ge=5)
    learned_score: bool = Field(True, description=(
        "learn the at-risk probability from the shop's own past (else BG/NBD alone)"))
    min_buyers_for_learned_score: int = Field(1000, ge=20, description=(
        "buyers needed at the earliest training cutoff before the learned score is used"))

    @model_validator(mode="after")
    def _consistent(self) -> StageSettings:
        if self.lapsed_probability < self.at_risk_probability:
            raise ValueError("lapsed_probability must be >= at_risk_probability")
        if self.lapsed_percentile < self.at_risk_percentile:
            raise ValueError("lapsed_percentile must be >= at_risk_percentile")
        if self.own_rhythm_lapsed_factor < self.own_rhythm_factor:
            raise ValueError("own_rhythm_lapsed_factor must be >= own_rhythm_factor")
        if self.default_lapsed_days < self.default_at_risk_days:
            raise ValueError("default_lapsed_days must be >= default_at_risk_days")
        return self
