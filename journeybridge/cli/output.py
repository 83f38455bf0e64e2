"""Everything the commands print, in one place.

On a terminal (``stderr`` is a TTY) people get a progress line while pulling and writing and
plain tables; without one (cron, a pipe) the listing commands print JSON lines, the sync one
summary JSON line at the end, and logs go to stderr as JSON lines
(:mod:`journeybridge.logs`). Every line that can carry a person's e-mail address or a secret
passes through :func:`journeybridge.redact.scrub`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

import click

from journeybridge.model import Journey
from journeybridge.redact import scrub
from journeybridge.stages import Classification, Stage, stage_label

if TYPE_CHECKING:
    from journeybridge.events import ExportResult
    from journeybridge.state import RunRecord
    from journeybridge.sync import ShopSync

__all__ = [
    "JsonProgress",
    "TerminalProgress",
    "chosen_format",
    "echo_json",
    "emit_rows",
    "explain_journey",
    "export_summary",
    "journey_record",
    "mask_key",
    "pick_examples",
    "print_moves",
    "print_runs",
    "print_table",
    "render_table",
    "shop_summary",
    "stage_table",
    "summary_line",
    "terminal",
]


def terminal() -> bool:
    """True when a person is watching (stderr is a terminal)."""
    return sys.stderr.isatty()


def echo_json(data: dict[str, Any]) -> None:
    """``data`` as one JSON line on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


def summary_line(data: dict[str, Any]) -> None:
    """The one summary JSON line a non-terminal sync prints last."""
    echo_json({"event": "summary", **data})


def mask_key(key: str) -> str:
    """A person key safe for a log or a report: a guest's e-mail address masked."""
    return scrub(key) if key.startswith("guest:") else key


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
                 right: Sequence[str] = (), footer: Sequence[Any] | None = None) -> str:
    """A plain-text table drawn with ``rich`` (no colours, no borders but a rule under the
    header): ``right`` names the columns aligned right; ``footer`` a last row under a rule."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_footer=footer is not None, pad_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if header in right else "left",
                         footer="" if footer is None else str(footer[i]), no_wrap=True,
                         overflow="ellipsis")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    buffer = io.StringIO()
    Console(file=buffer, width=1000, color_system=None, highlight=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip("\n")


def stage_table(results: Sequence[Classification], vocabulary: str = "default", *,
                guide: bool = False) -> str:
    """A table of how many people are in each stage, in route order, with percentages; with
    ``guide``, what each stage means and what to do about it."""
    from journeybridge.stages import STAGE_GUIDE

    counts = Counter(r.stage for r in results)
    total = len(results) or 1
    headers = ["stage", "people", "share"] + (["means", "what to do"] if guide else [])
    rows = []
    for stage in Stage:
        count = counts.get(stage, 0)
        row = [stage_label(stage, vocabulary), count, f"{100 * count / total:.1f}%"]
        rows.append(row + (list(STAGE_GUIDE[stage]) if guide else []))
    footer = ["total", len(results), ""] + (["", ""] if guide else [])
    return render_table(headers, rows, right=("people", "share"), footer=footer)


def explain_journey(journey: Journey, result: Classification, vocabulary: str = "default",
                    max_touchpoints: int = 12, *, verbose: bool = True) -> str:
    """One person's stage, since when, why (rule, sentence, facts) and their latest
    touchpoints, as a few readable lines. E-mail addresses are not printed. Without
    ``verbose`` the facts behind each reason and the churn model's note are left out."""
    person = journey.person
    kind = "guest" if person.is_guest else f"customer {person.customer_id}"
    name = f"{person.first_name} {person.last_name}".strip() or "(no name)"
    lines = [
        f"{name} ({kind})",
        f"  stage: {stage_label(result.stage, vocabulary)} since {result.since.date()}",
    ]
    for reason in result.reasons:
        if not verbose and reason.rule == "model":
            continue
        lines.append(f"  why [{reason.rule}]: {reason.text}" if verbose
                     else f"  why: {reason.text}")
        if reason.facts and verbose:
            facts = ", ".join(f"{k}={v}" for k, v in reason.facts.items())
            lines.append(f"      facts: {facts}")
    if result.flags:
        lines.append(f"  flags: {', '.join(f.replace('_', ' ') for f in result.flags)}")
    if result.next_order_expected is not None:
        lines.append(f"  next order expected: {result.next_order_expected.date()} "
                     "(their last order plus their usual gap between orders)")
    points = journey.touchpoints
    shown = points[-max_touchpoints:]
    lines.append(f"  timeline ({len(points)} touchpoints"
                 f"{', latest ' + str(len(shown)) if len(shown) < len(points) else ''}):")
    for point in shown:
        amount = str(point.amount) if point.amount else ""
        lines.append(f"    {point.at:%Y-%m-%d %H:%M}  {point.kind.value.replace('_', ' '):<16}"
                     f" {amount:>11}  {point.detail}")
    return "\n".join(lines)


def pick_examples(journeys: Sequence[Journey], results: Sequence[Classification],
                  count: int = 3) -> list[tuple[Journey, Classification]]:
    """Up to ``count`` interesting people, each from a different stage, richest journeys
    first (a loyal or advocate customer, someone at risk, someone considering...)."""
    preferred = [Stage.ADVOCACY, Stage.AT_RISK, Stage.CONSIDERATION, Stage.LOYALTY,
                 Stage.SERVICE, Stage.LAPSED, Stage.PURCHASE, Stage.AWARENESS]
    picked: list[tuple[Journey, Classification]] = []
    for stage in preferred:
        if len(picked) >= count:
            break
        candidates = [(j, c) for j, c in zip(journeys, results) if c.stage is stage]
        if candidates:
            picked.append(max(candidates, key=lambda jc: (len(jc[0].touchpoints) <= 14,
                                                         len(jc[0].touchpoints), jc[0].key)))
    return picked


def journey_record(shop: str, label: str, journey: Journey, result: Classification,
                   source: str) -> dict[str, Any]:
    """One person's line of ``journeybridge journeys``."""
    person = journey.person
    return {
        "shop": shop, "person": person.key,
        "name": f"{person.first_name} {person.last_name}".strip(),
        "customer_id": person.customer_id, "guest": person.is_guest,
        "stage": result.stage.value, "label": label,
        "since": result.since.isoformat(), "segments": list(result.segments),
        "flags": list(result.flags),
        "next_order_expected": None if result.next_order_expected is None
        else result.next_order_expected.date().isoformat(),
        "reasons": [{"rule": r.rule, "text": r.text} for r in result.reasons],
        "orders": len(journey.orders), "reviews": len(journey.reviews),
        "touchpoints": len(journey.touchpoints), "source": source,
    }


class TerminalProgress:
    """The engine's progress (:class:`journeybridge.sync.Progress`) drawn on a terminal with
    ``rich``: one bar per phase with done/total, percentage, elapsed time and ETA when the
    total is known, a live count (records, requests sent) otherwise. Each finished phase
    stays on its own line."""

    def __init__(self, stream: TextIO | None = None, *, shop: str = "") -> None:
        from rich.console import Console

        self._console = Console(file=stream or sys.stderr, stderr=stream is None)
        self._prefix = f"{shop}: " if shop else ""
        self._progress: Any = None
        self._task: Any = None

    def start(self, label: str, total: int | None = None,
              poll: Callable[[], int] | None = None) -> None:
        """Begin a phase: a new bar (a phase that cannot count its steps gets a bar that
        fills when it ends, and its elapsed time)."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.finish()
        columns: list[Any] = [TextColumn("{task.description:<44}"), BarColumn()]
        counted = total is not None or poll is not None
        if counted:
            columns += [MofNCompleteColumn(), TaskProgressColumn()]
        if poll is not None:
            columns.append(_PollColumn(poll))
        columns.append(TimeElapsedColumn())
        if counted:
            columns += [TextColumn("ETA"), TimeRemainingColumn()]
        self._progress = Progress(*columns, console=self._console, refresh_per_second=4)
        self._progress.start()
        self._task = self._progress.add_task(self._prefix + label, total=total)
        self._counted = counted

    def advance(self, steps: int) -> None:
        """``steps`` more done."""
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def finish(self) -> None:
        """End the phase, leaving its final state on screen."""
        if self._progress is None:
            return
        task = self._progress.tasks[0]
        if task.total is None:  # an unknown total is complete when the phase ends
            done = task.completed if self._counted else 1
            self._progress.update(self._task, total=max(done, 1), completed=max(done, 1))
        self._progress.stop()
        self._progress = None


def _poll_column(poll: Callable[[], int]) -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class PollColumn(ProgressColumn):
        """Requests sent so far (read at each redraw)."""

        def render(self, task: Any) -> Text:
            return Text(f"{poll():>6} requests")

    return PollColumn()


_PollColumn = _poll_column


class JsonProgress:
    """The engine's progress for cron: a JSON log line (``event: progress``) when a phase
    starts, every ``interval`` seconds while it runs (done, total, percent, requests sent,
    elapsed and ETA seconds) and when it ends, through the ``journeybridge.progress``
    logger."""

    def __init__(self, shop: str, interval: float = 10.0) -> None:
        import logging

        self._log = logging.getLogger("journeybridge.progress")
        self._shop = shop
        self._interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._label = ""
        self._total: int | None = None
        self._done = 0
        self._poll: Callable[[], int] | None = None
        self._started = 0.0

    def start(self, label: str, total: int | None = None,
              poll: Callable[[], int] | None = None) -> None:
        """Begin a phase: log it and tick every ``interval`` seconds."""
        self.finish()
        with self._lock:
            self._label, self._total, self._done, self._poll = label, total, 0, poll
            self._started = time.monotonic()
        self._emit("started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._tick, daemon=True,
                                        name="journeybridge-progress")
        self._thread.start()

    def advance(self, steps: int) -> None:
        """Count ``steps`` more done."""
        with self._lock:
            self._done += steps

    def finish(self) -> None:
        """End the phase with a last line."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._emit("finished")

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            self._emit("running")

    def _emit(self, state: str) -> None:
        with self._lock:
            elapsed = time.monotonic() - self._started
            done, total = self._done, self._total
            fields: dict[str, Any] = {"event": "progress", "shop": self._shop,
                                      "phase": self._label, "state": state, "done": done,
                                      "total": total, "seconds": round(elapsed, 1)}
            if total:
                fields["percent"] = round(100 * min(done, total) / total, 1)
                if 0 < done < total and state == "running":
                    fields["eta_seconds"] = round(elapsed * (total - done) / done, 1)
            if self._poll is not None:
                fields["requests"] = self._poll()
        self._log.info("%s: %s %s/%s", self._label, state, done,
                       total if total is not None else "?", extra=fields)


def sandbox_table(endpoint: Any) -> str:
    """What ``journeybridge sandbox`` prints for one API it serves
    (:class:`journeybridge.sandbox.server.Endpoint`): its address, a ``[shops.<name>]``
    table ready to paste and the ``export`` lines of its keys (read/write, and the read-only
    ones for trying ``check``)."""
    from journeybridge.config import ShopConfig

    name, url = endpoint.name, endpoint.url
    shop = ShopConfig(name=name, platform=endpoint.platform, url=url)
    keys = tuple(k for k in (endpoint.key, endpoint.secret) if k)
    read_only = " ".join(k for k in (endpoint.ro_key, endpoint.ro_secret) if k)
    lines = [endpoint.title, "", f"[shops.{name}]", f'platform = "{endpoint.platform}"',
             f'url = "{url}"', "# timezone: read from the shop (set it to override)", ""]
    lines += [f"export {env}={value}" for env, value in zip(shop.required_env, keys)]
    lines.append(f"# read-only key{' and secret' if len(keys) > 1 else ''} (check then "
                 f"reports the missing write permission): {read_only}")
    return "\n".join(lines)


def chosen_format(requested: str) -> str:
    """``--format``'s value, ``auto`` resolved: a table on a terminal, JSON lines otherwise."""
    if requested != "auto":
        return requested
    return "table" if terminal() else "json"


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "" if value is None else str(value)


def emit_rows(rows: Iterable[dict[str, Any]], fmt: str, columns: Sequence[str],
              table_columns: Sequence[str] | None = None) -> None:
    """Print ``rows`` on stdout as JSON lines (every key), CSV (``columns``; lists joined
    with "; ") or an aligned table (``table_columns``, default ``columns``)."""
    if fmt == "json":
        for row in rows:
            echo_json(row)
        return
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        click.echo(buffer.getvalue(), nl=False)
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_cell(row.get(c)) for c in columns])
            click.echo(buffer.getvalue(), nl=False)
        return
    shown = list(table_columns or columns)
    click.echo(render_table(shown, ([_cell(row.get(c))[:80] for c in shown] for row in rows)))


JOURNEY_COLUMNS = ("shop", "person", "name", "stage", "stage_name", "label", "since", "segments",
                   "flags", "orders", "reviews", "touchpoints", "reason", "source")
"""The CSV columns of ``journeybridge journeys`` (``reason``: the first reason's sentence)."""
JOURNEY_TABLE = ("person", "name", "stage_name", "since", "orders", "reason")
RUN_COLUMNS = ("shop", "started_at", "finished_at", "status", "mode", "customers", "orders",
               "reviews", "people", "changed", "planned", "written", "failed", "requests",
               "errors")
"""The CSV and table columns of ``journeybridge status``."""


def shop_summary(outcome: ShopSync, seconds: float, exit_code: int) -> dict[str, Any]:
    """One shop's row of the sync summary (the JSON line's ``shops`` and the table)."""
    run = outcome.run
    return {
        "shop": outcome.shop, "status": outcome.status, "mode": run.mode,
        "dry_run": outcome.dry_run, "exit_code": exit_code,
        "customers": run.customers, "orders": run.orders, "reviews": run.reviews,
        "trashed": run.trashed, "skipped": run.skipped, "people": run.people,
        "changed": run.changed, "moves": len(outcome.moves), "planned": run.planned,
        "written": run.written, "failed": run.failed, "unwritable": run.unwritable,
        "requests": run.requests, "seconds": round(seconds, 3), "stages": outcome.stage_counts,
        "error": scrub(str(outcome.error)) if outcome.error else None,
    }


def print_moves(outcome: ShopSync, on_terminal: bool, limit: int = 200) -> None:
    """A dry run's stage moves: JSON lines, or (terminal) the first ``limit`` as a list.
    Guests' e-mail addresses are masked either way."""
    if not on_terminal:
        for move in outcome.moves:
            echo_json({"event": "move", "shop": outcome.shop,
                       "person": mask_key(move.person_key), "from": move.from_stage,
                       "to": move.to_stage, "since": move.since, "reason": scrub(move.reason)})
        return
    click.echo(f"{outcome.shop}: {len(outcome.moves)} people would change stage "
               f"({outcome.run.planned} meta writes):")
    for move in outcome.moves[:limit]:
        click.echo(f"  {mask_key(move.person_key):<32} {move.from_stage or '(new)':>13} -> "
                   f"{move.to_stage:<13} since {move.since}: {scrub(move.reason)}")
    if len(outcome.moves) > limit:
        click.echo(f"  ... and {len(outcome.moves) - limit} more")


def print_table(rows: list[dict[str, Any]]) -> None:
    """The sync summary table for a terminal, with each shop's stage counts and error."""
    headers = ("shop", "status", "mode", "people", "changed", "planned", "written", "failed",
               "seconds")
    click.echo(render_table(headers, ([row.get(h, "") for h in headers] for row in rows),
                            right=headers[3:]))
    for row in rows:
        if row["stages"]:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(row["stages"].items()))
            click.echo(f"{row['shop']} stages: {counts}")
        if row["error"]:
            click.echo(f"{row['shop']}: {row['error']}")


def print_runs(shop: str, runs: Iterable[RunRecord], on_terminal: bool) -> None:
    """``journeybridge status`` for one shop: JSON lines, or (terminal) one line per run."""
    runs = list(runs)
    if not on_terminal:
        for run in runs:
            echo_json(run.as_dict())
        return
    click.echo(f"{shop}: {len(runs)} recent run(s)")
    for run in runs:
        took = (datetime.fromisoformat(run.finished_at)
                - datetime.fromisoformat(run.started_at)).total_seconds() \
            if run.finished_at else 0.0
        click.echo(f"  {run.started_at[:19]}Z {run.status:<8} {run.mode:<11} "
                   f"{took:6.1f}s  pulled {run.customers}c/{run.orders}o/"
                   f"{run.reviews}r  changed {run.changed}  written {run.written}/"
                   f"{run.planned}  failed {run.failed}")
        for error in run.errors[:3]:
            click.echo(f"      {error}")


def export_summary(result: ExportResult, out: TextIO) -> None:
    """What an export did, a few lines on ``out``: events by name, people left out and why,
    what the Graph API received and refused."""
    mapped = result.mapped
    names = ", ".join(f"{name} {count}" for name, count in sorted(mapped.by_name().items()))
    click.echo(f"{mapped.people} people, {len(mapped.events)} events"
               + (f" ({names})" if names else ""), file=out)
    if mapped.people_left_out:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in mapped.people_left_out.items())
        click.echo(f"  left out for lack of consent: {sum(mapped.people_left_out.values())} "
                   f"people ({reasons})", file=out)
    if mapped.people_limited:
        click.echo(f"  sent with Limited Data Use (no consent): {mapped.people_limited} people",
                   file=out)
    for reason, count in sorted(mapped.not_sent.items()):
        click.echo(f"  not mapped: {count} ({reason})", file=out)
    for problem, count in sorted(mapped.dropped_fields.items()):
        click.echo(f"  customer field dropped: {problem} ({count} events)", file=out)
    if result.report is not None:
        r = result.report
        click.echo(f"  Graph API: sent {r.sent}, already sent {r.already_sent}, older than 7 "
                   f"days {r.too_old}, in the future {r.in_future}, refused {r.failed}, not "
                   f"attempted {r.not_attempted}, in {len(r.batches)} batches", file=out)
        for batch in r.batches:
            if not batch.ok:
                click.echo(f"  batch {batch.number} ({batch.events} events): "
                           f"{len(batch.failed_event_ids)} refused: {batch.error}", file=out)
        if r.stopped:
            click.echo(f"  stopped: {r.stopped}", file=out)
