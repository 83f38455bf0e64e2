"""The PrestaShop Webservice's list query engine: ``display``, ``filter``, ``sort``, ``limit``.

:func:`parse_query` reads a list request's parameters against a resource as an 8.1.2 shop does
(errors, their codes and messages, date fields only with ``date=1``); :func:`select` runs the
query on a :class:`~.presta_tables.Table`. Filters follow MySQL semantics (numbers compare as
numbers, text case-insensitively, ``%`` patterns as ``LIKE``) and run as numpy masks over a
table's columns where it has them, else record by record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .oauth1 import PhpParams
from .presta_errors import WsError, did_you_mean
from .presta_schema import Field, Record, Resource
from .presta_tables import Table
from .presta_values import parse_shop_date, php_int, php_number
from .presta_xml import Display
from .records import SHOP_TIMEZONE
from .wire import as_text

_INTERVAL = re.compile(r"^([\d.:\-\s]+),([\d.:\-\s]+)$")
_FILTER = re.compile(r"^(.*)\[(.*)\](.*)$")


@dataclass
class Query:
    """A parsed list query."""

    display: Display | None
    filters: list[tuple[Field, str]]
    sorts: list[tuple[Field, bool]]
    offset: int
    count: int | None
    schema: str


def _available(res: Resource, params: PhpParams) -> tuple[list[str], list[str]]:
    plain = [f.name for f in res.fields if f.kind != "lang"]
    i18n = [f.name for f in res.fields if f.kind == "lang"]
    if not as_text(params.get("date")) or params.get("date") in ("0", ""):
        plain = [n for n in plain if n not in ("date_add", "date_upd")]
    return plain, i18n


def parse_display(res: Resource | None, params: PhpParams, *, list_mode: bool
                  ) -> Display | None:
    """The ``display`` parameter read against ``res`` (without it: a list shows ids only, one
    record shows every field)."""
    raw = params.get("display")
    if raw is None or res is None:
        return Display(True) if not list_mode else None
    text = raw if isinstance(raw, str) else ""
    if text in ("full", "minimum"):
        return Display(True)
    names = ", ".join(res.names)
    m = re.match(r"^\[(.*)\]$", text)
    if not m:
        raise WsError(400, [(36, "The 'display' syntax is wrong. You can set 'full' or "
                                 f"'[field_1,field_2,field_3,...]'. These are available: "
                                 f"{names}")])
    fields: set[str] = set()
    assocs: dict[str, tuple[str, ...]] = {}
    for part in _split_display(m.group(1)):
        name = part.split("[", 1)[0].strip()
        if "[" in part:
            sub = part[part.index("[") + 1:-1]
            known = {a.name: a for a in res.associations}
            a = known.get(name)
            if a is None or any(s != "id" and s not in {f.name for f in a.fields}
                                for s in sub.split(",")):
                raise WsError(400, [(35, f'Unable to display this field "{name}". However, '
                                         f"these are available: {names}")])
            assocs[name] = tuple(sub.split(","))
        elif res.field(name) is None:
            raise WsError(400, [(35, f'Unable to display this field "{name}". However, '
                                     f"these are available: {names}")])
        else:
            fields.add(name)
    return Display(False, frozenset(fields), assocs)


def parse_query(res: Resource, params: PhpParams) -> Query:
    """A list request's query parameters read against ``res``; raises the shop's
    :class:`WsError` (status 400) for a malformed one."""
    plain, i18n = _available(res, params)
    schema = as_text(params.get("schema"))
    if schema is not None:
        if schema not in ("blank", "synopsis"):
            raise WsError(400, [(28, "Please select a schema of type 'synopsis' to get the "
                                     "whole schema informations (which fields are required, "
                                     "which kind of content...) or 'blank' to get an empty "
                                     "schema to fill before using POST request")])
        return Query(None, [], [], 0, None, schema)
    filters = _filters(res, params, plain, i18n)
    display = parse_display(res, params, list_mode=True)
    sorts = _sorts(res, params, plain, i18n)
    offset, count = _limit(params)
    return Query(display, filters, sorts, offset, count, "")


def _filters(res: Resource, params: PhpParams, plain: list[str], i18n: list[str]
             ) -> list[tuple[Field, str]]:
    """The ``filter[...]`` parameters, in the order given."""
    filters: list[tuple[Field, str]] = []
    raw_filters = params.get("filter")
    if isinstance(raw_filters, dict):
        for name, value in raw_filters.items():
            if name in ("sort", "limit"):
                continue
            f = res.field(name)
            if name not in plain:
                if name in i18n and value != "" and f is not None:
                    filters.append((f, str(value)))
                    continue
                if isinstance(value, (dict, list)):
                    raise WsError(400, [(31, "There is no existing linked table for this "
                                             "resource")])
                raise WsError(400, [(32, did_you_mean("This filter does not exist", name,
                                                      plain))])
            if value == "":
                raise WsError(400, [(33, f'The filter "{name}" is malformed.')])
            assert f is not None
            if f.getter:
                raise WsError(400, [(34, f'The field "{name}" is dynamic. It is not possible '
                                         "to filter GET query with this field.")])
            filters.append((f, str(value)))
    return filters


def _sorts(res: Resource, params: PhpParams, plain: list[str], i18n: list[str]
           ) -> list[tuple[Field, bool]]:
    """The ``sort`` parameter: ``(field, descending)``, the first key first."""
    sorts: list[tuple[Field, bool]] = []
    raw_sort = as_text(params.get("sort"))
    if raw_sort is not None:
        m = re.match(r"^\[(.*)\]$", raw_sort)
        for item in (m.group(1).split(",") if m else [raw_sort]):
            name, sep, direction = item.rpartition("_")
            direction = direction.upper()
            if not sep or direction not in ("ASC", "DESC"):
                raise WsError(400, [(37, 'The "sort" value has to be formed as this example: '
                                         "\"field_ASC\" or '[field_1_DESC,field_2_ASC,"
                                         "field_3_ASC,...]' (\"field\" has to be an "
                                         "available field)")])
            f = res.field(name)
            if f is None or (name not in plain and name not in i18n):
                raise WsError(400, [(38, "Unable to filter by this field. However, these are "
                                         f"available: {', '.join(plain)}, for i18n fields:"
                                         f"{', '.join(i18n)}")])
            sorts.append((f, direction == "DESC"))
    return sorts


def _limit(params: PhpParams) -> tuple[int, int | None]:
    """The ``limit`` parameter as ``(offset, count)``; a count of None: no limit."""
    offset, count = 0, None
    raw_limit = as_text(params.get("limit"))
    if raw_limit is not None:
        parts = raw_limit.split(",")
        if len(parts) > 2:
            raise WsError(400, [(39, 'The "limit" value has to be formed as this example: '
                                     '"5,25" or "10"')])
        if len(parts) == 2:
            offset, count = max(php_int(parts[0]), 0), max(php_int(parts[1]), 0)
        else:
            count = max(php_int(parts[0]), 0)
    return offset, count


def select(table: Table, query: Query) -> npt.NDArray[np.int64]:
    """The ids ``query`` selects from ``table``: filtered, sorted, then cut by ``limit``."""
    ids = table.ids()
    mask = np.ones(ids.size, dtype=bool)
    slow: list[tuple[Field, str]] = []
    for f, value in query.filters:
        col = table.column(f.name) if f.kind in ("int", "date", "flag") else None
        got = _vector_filter(f, col, value) if col is not None else None
        if got is None:
            slow.append((f, value))
        else:
            mask &= got
    chosen = ids[mask]
    records: dict[int, Record] = {}
    if slow:
        keep = []
        for rid in chosen:
            rec = table.record(int(rid))
            if rec is not None and all(_record_filter(f, rec.get(f.name), v)
                                       for f, v in slow):
                keep.append(int(rid))
                records[int(rid)] = rec
        chosen = np.array(keep, dtype=np.int64)
    if query.sorts:
        chosen = _sort(table, chosen, query.sorts, records)
    end = None if query.count is None else query.offset + query.count
    return chosen[query.offset:end]


def _sort(table: Table, chosen: npt.NDArray[np.int64], sorts: list[tuple[Field, bool]],
          records: dict[int, Record]) -> npt.NDArray[np.int64]:
    ids = table.ids()
    position = {int(v): i for i, v in enumerate(ids)} if ids.size < 2_000_000 else {}
    keys: list[npt.NDArray[Any]] = []
    for f, desc in reversed(sorts):
        col = table.column(f.name)
        if col is not None and f.kind in ("int", "date", "flag"):
            index = np.searchsorted(ids, chosen) if _is_sorted(ids) else np.array(
                [position[int(c)] for c in chosen], dtype=np.int64)
            values = col[index].astype(np.float64)
            keys.append(-values if desc else values)
            continue
        vals = []
        for rid in chosen:
            rec = records.get(int(rid)) or table.record(int(rid)) or {}
            vals.append(_sort_key(f, rec.get(f.name)))
        rank_of = {v: i for i, v in enumerate(sorted(set(vals)))}
        ranks = np.array([rank_of[v] for v in vals], dtype=np.float64)
        keys.append(-ranks if desc else ranks)
    natural = np.array([position.get(int(c), 0) for c in chosen], dtype=np.int64) \
        if position else chosen
    order = np.lexsort([natural, *keys])
    return chosen[order]


def _split_display(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
        depth += (ch == "[") - (ch == "]")
    if cur:
        parts.append(cur)
    return parts


def _is_sorted(ids: npt.NDArray[np.int64]) -> bool:
    return bool(ids.size < 2 or np.all(ids[1:] > ids[:-1]))


def _literal_seconds(text: str) -> float | None:
    parsed = parse_shop_date(text)
    if parsed is None:
        return None
    return parsed.replace(tzinfo=SHOP_TIMEZONE).timestamp()


def _vector_filter(f: Field, col: npt.NDArray[Any], value: str) -> npt.NDArray[np.bool_] | None:
    """A mask for a numeric or date column, or None when only a record scan can tell."""
    convert: Callable[[str], float | None]
    if f.kind == "date":
        convert = _literal_seconds
    else:
        def convert(text: str) -> float | None:
            return php_number(text)
    values = col.astype(np.float64)
    m = _FILTER.match(value)
    if m is None:
        lit = convert(value)
        return np.zeros(col.size, bool) if lit is None else values == lit
    pre, inner, post = m.groups()
    if pre == "%" or post == "%":
        return None
    if pre == "" and post == "":
        if inner.find("|") > 0:
            mask = np.zeros(col.size, dtype=bool)
            for part in inner.split("|"):
                lit = convert(part)
                if lit is not None:
                    mask |= values == lit
            return mask
        interval = _INTERVAL.match(inner)
        if interval:
            lo_t, hi_t = sorted(interval.groups(), key=_php_sort_key)
            lo, hi = convert(lo_t), convert(hi_t)
            if lo is None or hi is None:
                return np.zeros(col.size, bool)
            return (values >= lo) & (values <= hi)
        lit = convert(inner)
        return np.zeros(col.size, bool) if lit is None else values == lit
    if pre in (">", "<"):
        lit = convert(inner)
        if lit is None:
            return np.zeros(col.size, bool)
        return values > lit if pre == ">" else values < lit
    if pre == "!":
        mask = np.ones(col.size, dtype=bool)
        for part in inner.split("|"):
            lit = convert(part)
            if lit is not None:
                mask &= values != lit
        return mask
    return np.ones(col.size, dtype=bool)


def _php_sort_key(text: str) -> tuple[int, float, str]:
    numeric = re.fullmatch(r"\s*[+-]?\d+(\.\d+)?\s*", text) is not None
    return (0, float(text), "") if numeric else (1, 0.0, text)


def _cmp_value(f: Field, value: Any) -> Any:
    if f.kind in ("int", "flag", "money"):
        return php_number(str(value)) if value is not None else None
    if value is None:
        return None
    return str(value).rstrip(" ").casefold()


def _cmp_literal(f: Field, text: str) -> Any:
    if f.kind in ("int", "flag", "money"):
        return php_number(text)
    if f.kind == "date":
        parsed = parse_shop_date(text)
        return parsed.strftime("%Y-%m-%d %H:%M:%S") if parsed is not None else None
    return text.rstrip(" ").casefold()


def _like(pattern: str, value: Any) -> bool:
    if value is None:
        return False
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, str(value), re.IGNORECASE | re.DOTALL) is not None


def _record_filter(f: Field, raw: Any, value: str) -> bool:
    """Does a record's value pass one ``filter[field]`` expression."""
    have = _cmp_value(f, raw)
    m = _FILTER.match(value)

    def eq(text: str) -> bool:
        lit = _cmp_literal(f, text)
        return have is not None and lit is not None and have == lit

    if m is None:
        return eq(value)
    pre, inner, post = m.groups()
    if pre == "%" or post == "%":
        return _like(pre + inner + post, raw)
    if pre == "" and post == "":
        if inner.find("|") > 0:
            return any(eq(part) for part in inner.split("|"))
        interval = _INTERVAL.match(inner)
        if interval:
            lo_t, hi_t = sorted(interval.groups(), key=_php_sort_key)
            lo, hi = _cmp_literal(f, lo_t), _cmp_literal(f, hi_t)
            return have is not None and lo is not None and hi is not None and lo <= have <= hi
        return eq(inner)
    if pre in (">", "<"):
        lit = _cmp_literal(f, inner)
        if have is None or lit is None:
            return False
        return bool(have > lit) if pre == ">" else bool(have < lit)
    if pre == "!":
        return all(not eq(part) for part in inner.split("|"))
    return True


def _sort_key(f: Field, value: Any) -> Any:
    if value is None:
        return (0, 0.0, "")
    if f.kind in ("int", "flag", "money"):
        return (1, php_number(str(value)), "")
    return (1, 0.0, str(value).casefold())

