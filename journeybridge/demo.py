"""The demo: a generated shop served by the sandbox on 127.0.0.1, pulled through the real
WooCommerce adapter over HTTP, classified, and summarised. No network, no credentials."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from journeybridge.adapters.woocommerce import PullReport, WooCommerceAdapter
from journeybridge.model import Journey
from journeybridge.sandbox import Population, SandboxServer
from journeybridge.stages import Classification, Stage, classify_all

__all__ = ["DemoResult", "pick_examples", "run_demo", "sandbox_journeys"]


@dataclass
class DemoResult:
    """What the demo pulled and decided, and how long it took."""

    journeys: list[Journey]
    results: list[Classification]
    report: PullReport
    seconds: float
    requests: int


def run_demo(size: int = 2000, seed: int = 1, now: datetime | None = None,
             concurrency: int = 4) -> DemoResult:
    """Start the sandbox with ``size`` generated customers, pull it through the WooCommerce
    adapter, and classify everyone as of the population's ``now``."""
    started = time.perf_counter()
    population = Population(size, seed=seed, now=now)
    with SandboxServer(population) as server:
        creds = server.woo_credentials
        with WooCommerceAdapter(server.url, creds.key, creds.secret, shop="sandbox",
                                concurrency=concurrency) as shop:
            pull = shop.pull()
            assembly = shop.assemble(pull)
    results = classify_all(assembly.journeys, now=population.now)
    return DemoResult(journeys=assembly.journeys, results=results, report=pull.report,
                      seconds=time.perf_counter() - started, requests=pull.report.requests)


def sandbox_journeys(size: int = 2000, seed: int = 1) -> tuple[list[Journey], datetime]:
    """The journeys of a generated sandbox shop, pulled over HTTP, and the shop's ``now``."""
    population = Population(size, seed=seed)
    with SandboxServer(population) as server:
        creds = server.woo_credentials
        with WooCommerceAdapter(server.url, creds.key, creds.secret, shop="sandbox") as shop:
            journeys = shop.assemble(shop.pull()).journeys
    return journeys, population.now


def pick_examples(result: DemoResult, count: int = 3) -> list[tuple[Journey, Classification]]:
    """Up to ``count`` interesting people, each from a different stage, richest journeys
    first (a loyal or advocate customer, someone at risk, someone considering...)."""
    preferred = [Stage.ADVOCACY, Stage.AT_RISK, Stage.CONSIDERATION, Stage.LOYALTY,
                 Stage.SERVICE, Stage.LAPSED, Stage.PURCHASE, Stage.AWARENESS]
    picked: list[tuple[Journey, Classification]] = []
    for stage in preferred:
        candidates = [(j, c) for j, c in zip(result.journeys, result.results)
                      if c.stage is stage]
        if candidates:
            picked.append(max(candidates, key=lambda jc: (len(jc[0].touchpoints) <= 14,
                                                         len(jc[0].touchpoints), jc[0].key)))
        if len(picked) == count:
            break
    return picked
