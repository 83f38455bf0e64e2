"""Who may be sent to Meta: one consent policy per shop, decided per person.

Sources of consent (``source``):

* ``all``: the shop collects consent elsewhere (a cookie banner that gates the pixel); everyone
  is sent. The default, because the shop's own pixel already sends the same people.
* ``newsletter``: people with a newsletter opt-in (WooCommerce: the customer meta named by the
  adapter's ``newsletter_key``; PrestaShop: the customer's ``newsletter`` field).
* ``meta``: people whose record carries ``meta_key`` with a yes-like value (``yes``, ``1``,
  ``true``, ``on``), on the customer or on any of their orders. PrestaShop's ``optin`` arrives
  this way once its adapter maps it into the person's meta. The WooCommerce adapter keeps only
  meta keys under its ``meta_prefix`` (``journeybridge_`` by default), so name such a key there.
* ``list``: people whose e-mail (case-insensitive) or person key (``customer:42``) is in
  ``allowed``.

People without consent are left out (``without_consent = "drop"``), or sent with
``data_processing_options = ["LDU"]`` (Meta's Limited Data Use, with country and state 0: let
Meta geolocate) when ``without_consent = "ldu"``. Decisions carry a reason for the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from journeybridge.model import Journey, normalize_email

__all__ = ["ConsentDecision", "ConsentPolicy", "decide_consent"]

_YES = frozenset({"yes", "1", "true", "on", "y", "subscribed", "granted"})


class ConsentPolicy(BaseModel):
    """How one shop's consent is known, and what happens to people without it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Literal["all", "newsletter", "meta", "list"] = "all"
    meta_key: str | None = None
    allowed: frozenset[str] = Field(default_factory=frozenset)
    without_consent: Literal["drop", "ldu"] = "drop"

    @model_validator(mode="after")
    def _complete(self) -> ConsentPolicy:
        if self.source == "meta" and not self.meta_key:
            raise ValueError("consent source 'meta' needs meta_key")
        return self


@dataclass(frozen=True)
class ConsentDecision:
    """Whether a person's events go out, how, and why not."""

    send: bool
    limited: bool = False
    reason: str = ""


def _has_meta(journey: Journey, key: str) -> bool:
    values = [journey.person.meta.get(key)] + [o.meta.get(key) for o in journey.orders]
    return any(v is not None and v.strip().lower() in _YES for v in values)


def _consented(journey: Journey, policy: ConsentPolicy) -> tuple[bool, str]:
    person = journey.person
    if policy.source == "all":
        return True, ""
    if policy.source == "newsletter":
        ok = person.newsletter is not None and person.newsletter.subscribed
        return ok, "no newsletter opt-in"
    if policy.source == "meta":
        key = policy.meta_key or ""
        return _has_meta(journey, key), f"no '{key}' consent on record"
    allowed = {normalize_email(a) or a.strip() for a in policy.allowed}
    emails = {person.email} | {o.email for o in journey.orders}
    ok = person.key in allowed or any(e in allowed for e in emails if e)
    return ok, "not in the consent list"


def decide_consent(journey: Journey, policy: ConsentPolicy) -> ConsentDecision:
    """The policy's decision for one person: send, send with Limited Data Use, or leave out
    (with the reason). Pure: no I/O."""
    ok, reason = _consented(journey, policy)
    if ok:
        return ConsentDecision(send=True)
    if policy.without_consent == "ldu":
        return ConsentDecision(send=True, limited=True, reason=reason)
    return ConsentDecision(send=False, reason=reason)
