"""The population served as the PrestaShop 8.1.2 Webservice under ``/api/``.

Checked against real exchanges (tests/fixtures/prestashop-real/): the order of checks (key
present, key valid, resource known, resource allowed, method allowed), error codes, messages and
statuses (a failing list query answers 500 because PHP warnings follow the error), headers,
field names and JSON types, the JSON quirks (bare ``[]``, falsy fields dropped from one record,
``display`` turning one record into a list, the JSON index crashing), paging with ``limit``,
every filter form, sorts and date filters that need ``date=1``.

Writes: ``PUT /api/customers`` (whole XML object; the body's ``<id>`` is the record updated;
groups sent replace the customer's groups) and ``POST /api/groups``. Other writes answer 501.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt

from .faults import Faults
from .population import Population
from .presta_data import (
    ALL_RESOURCE_NAMES,
    CUSTOMERS,
    EXTRA_DESCRIPTIONS,
    GROUPS,
    RESOURCES,
    ZERO_DATE,
    Field,
    PrestaShopData,
    Record,
    Resource,
    Table,
    blank_record,
    fake_password_hash,
    php_int,
    shop_date,
)
from .presta_xml import (
    Display,
    XmlEntity,
    XmlInputError,
    json_errors,
    json_list,
    json_single,
    parse_input,
    php_json,
    xml_api_root,
    xml_errors,
    xml_list,
    xml_single,
)
from .records import SHOP_TIMEZONE
from .wire import HttpRequest, HttpResponse, as_text, parse_php_query

PS_VERSION = "8.1.2"
JSON_TYPE = "application/json"
XML_TYPE = "text/xml;charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
PHP_POWERED = "PHP/8.2.36"
REALM = ('Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key '
         'as the login. No password required."')
SOURCE_FILE = "/var/www/html/classes/webservice/WebserviceRequest.php"
_ALL_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")
_RW = frozenset({"GET", "PUT", "POST", "HEAD"})
_RO = frozenset({"GET", "HEAD"})
#: Resources a key may use: the journey resources (writable with the read/write key) and a few
#: look-up resources (read-only for both keys), as the recorded shop's keys were set up.
JOURNEY_RESOURCES = ("customers", "addresses", "orders", "order_states", "order_histories",
                     "order_details", "carts", "groups", "currencies", "products")
LOOKUP_RESOURCES = ("countries", "languages", "shops", "order_carriers", "order_payments")
_INTERVAL = re.compile(r"^([\d.:\-\s]+),([\d.:\-\s]+)$")
_FILTER = re.compile(r"^(.*)\[(.*)\](.*)$")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@dataclass(frozen=True)
class PrestaCredentials:
    """The shop's two Webservice keys (32 characters): read/write and read-only."""

    key: str
    ro_key: str

    @classmethod
    def from_seed(cls, seed: int) -> PrestaCredentials:
        """Deterministic keys of the real format (32 upper-case hex digits)."""
        def make(label: str) -> str:
            digest = hashlib.sha256(f"journeybridge-sandbox/{seed}/presta/{label}".encode())
            return digest.hexdigest()[:32].upper()
        return cls(make("rw"), make("ro"))


class WsError(Exception):
    """One or more Webservice errors ending a request; ``status`` is the final status."""

    def __init__(self, status: int, errors: Sequence[tuple[int, str]]) -> None:
        super().__init__(errors[0][1] if errors else "")
        self.status = status
        self.errors = list(errors)


def closest(word: str, candidates: Sequence[str]) -> str:
    """The candidate with the smallest Levenshtein distance (ties: the later one)."""
    best, best_d = "", -1
    for cand in candidates:
        d = _levenshtein(word, cand)
        if d == 0:
            return cand
        if best_d < 0 or d <= best_d:
            best, best_d = cand, d
    return best


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def did_you_mean(label: str, value: str, available: Sequence[str]) -> str:
    """The message of a "did you mean" error."""
    text = f'{label}. Did you mean: "{closest(value, available)}"?'
    if len(available) > 1:
        text += ' The full list is: "' + '", "'.join(available) + '"'
    return text


def _warnings() -> list[tuple[int, str]]:
    """The PHP warnings an 8.1.2 shop appends when a list query's parameters were refused."""
    return [(3, "[PHP Warning #2] Trying to access array offset on value of type bool "
                f"({SOURCE_FILE}, line {line})") for line in (1333, 1334, 1335, 1336)]


def _parse_shop_date(text: str) -> datetime | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def _php_number(text: str) -> float:
    m = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text)
    return float(m.group(0)) if m else 0.0


@dataclass
class _Query:
    """A parsed list query."""

    display: Display | None
    filters: list[tuple[Field, str]]
    sorts: list[tuple[Field, bool]]
    offset: int
    count: int | None
    schema: str


# --------------------------------------------------------------------------------------------
# The handler
# --------------------------------------------------------------------------------------------


class PrestaApi:
    """The PrestaShop side of the sandbox (``/api/...``).

    ``faults`` contributes ``malformed_order_ids`` (``total_paid`` becomes ``"abc"``) and
    ``malformed_customer_ids`` (the record has no ``id``); transport faults are the server's.
    """

    name = "prestashop"

    def __init__(self, population: Population, credentials: PrestaCredentials, *,
                 faults: Faults | None = None, shop_name: str = "journeybridge sandbox") -> None:
        self.population = population
        self.credentials = credentials
        self.faults = faults or Faults()
        self.shop_name = shop_name
        self.data = PrestaShopData(population)
        rw = dict.fromkeys(JOURNEY_RESOURCES, _RW) | dict.fromkeys(LOOKUP_RESOURCES, _RO)
        ro = dict.fromkeys((*JOURNEY_RESOURCES, *LOOKUP_RESOURCES), _RO)
        self._keys: dict[str, dict[str, frozenset[str]]] = {credentials.key: rw,
                                                            credentials.ro_key: ro}

    # ------------------------------------------------------------------ entry point
    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a request under ``/api``, or None for other paths."""
        path = request.path
        if path != "/api" and not path.startswith("/api/"):
            return None
        started = time.monotonic()
        params = parse_php_query(request.query)
        key = self._key_of(request, params)
        if key is None:
            return HttpResponse(401, [("X-Powered-By", PHP_POWERED), ("WWW-Authenticate", REALM),
                                      ("Content-type", HTML_TYPE)], b"401 Unauthorized")
        fmt = self._format(request, params)
        ctx = _Request(self, request, params, fmt, started)
        return ctx.run(key, unquote(path[len("/api"):].lstrip("/")))

    @staticmethod
    def _key_of(request: HttpRequest, params: dict[str, Any]) -> str | None:
        header = request.header("authorization")
        m = re.match(r"Basic\s+(.*)$", header, re.IGNORECASE)
        if m:
            try:
                decoded = base64.b64decode(m.group(1)).decode("utf-8", "replace")
            except ValueError:
                decoded = ""
            return re.sub(r"<[^>]*>", "", decoded.split(":", 1)[0])
        return as_text(params.get("ws_key"))

    @staticmethod
    def _format(request: HttpRequest, params: dict[str, Any]) -> str:
        for value in (request.header("io-format", "") or None,
                      request.header("output-format", "") or None,
                      as_text(params.get("output_format")), as_text(params.get("io_format"))):
            if value is not None:
                return "JSON" if value == "JSON" else "XML"
        return "XML"

    def permissions(self, key: str) -> dict[str, frozenset[str]] | None:
        """The resource rights of a key, or None for an unknown key."""
        return self._keys.get(key)


class _Request:
    """One Webservice request being answered."""

    def __init__(self, api: PrestaApi, request: HttpRequest, params: dict[str, Any], fmt: str,
                 started: float) -> None:
        self.api = api
        self.request = request
        self.params = params
        self.json = fmt == "JSON"
        self.started = started
        self.authenticated = False
        self.ws = request.base_url + "/api/"

    # ------------------------------------------------------------------ responses
    def _headers(self, content_type: str | None, body: bytes | None) -> list[tuple[str, str]]:
        elapsed = round(time.monotonic() - self.started, 3)
        headers = [("Access-Time", str(int(time.time()))),
                   ("X-Powered-By", "PrestaShop Webservice"),
                   ("PSWS-Version", PS_VERSION if self.authenticated else "0")]
        if content_type is None:
            headers.append(("Content-Type", ""))
        elif content_type == XML_TYPE:
            headers.append(("Content-type", XML_TYPE))
        else:
            headers.append(("Content-Type", content_type))
        headers.append(("Execution-Time", f"{elapsed:g}" if elapsed else "0"))
        if body is not None:
            headers.append(("Content-Sha1", hashlib.sha1(body).hexdigest()))  # noqa: S324
        return headers

    def ok(self, body: bytes, status: int = 200) -> HttpResponse:
        """A successful answer in the asked format."""
        return HttpResponse(status, self._headers(JSON_TYPE if self.json else XML_TYPE, body),
                            body)

    def error(self, err: WsError) -> HttpResponse:
        """An error answer in the asked format."""
        body = json_errors(err.errors) if self.json else xml_errors(err.errors)
        headers = self._headers(JSON_TYPE if self.json else XML_TYPE, None)
        if err.status == 401 and not self.authenticated:
            headers.insert(0, ("WWW-Authenticate", REALM))
            headers = [(k, "0" if k == "Execution-Time" else v) for k, v in headers]
        return HttpResponse(err.status, headers, body)

    # ------------------------------------------------------------------ dispatch
    def run(self, key: str, url: str) -> HttpResponse:
        """Check the key, resource and method, then serve."""
        try:
            perms = self._authenticate(key)
            segments = url.split("/")
            resource = segments[0]
            method = self.request.method.upper()
            self._check_resource(resource, perms)
            self._check_method(resource, method, perms)
            if resource == "":
                return self._root(perms)
            rid = segments[1] if len(segments) > 1 else ""
            if method in ("GET", "HEAD"):
                return self._get(resource, rid)
            if method in ("PUT", "PATCH", "POST"):
                return self._write(resource, method)
            raise WsError(501, [(124, f"The sandbox does not implement {method} on "
                                      f"{resource}.")])
        except WsError as err:
            return self.error(err)

    def _authenticate(self, key: str) -> dict[str, frozenset[str]]:
        key = key.strip()
        if not key:
            raise WsError(401, [(17, "Authentication key is empty")])
        if len(key) != 32:
            raise WsError(401, [(18, "Invalid authentication key format")])
        perms = self.api.permissions(key)
        if perms is None:
            raise WsError(401, [(20, "Authentification key is not active"),
                                (21, "No permission for this authentication key")])
        self.authenticated = True
        return perms

    @staticmethod
    def _check_resource(resource: str, perms: dict[str, frozenset[str]]) -> None:
        if resource == "":
            return
        if resource not in ALL_RESOURCE_NAMES:
            raise WsError(400, [(27, did_you_mean(f'Resource of type "{resource}" does not '
                                                  "exists", resource, ALL_RESOURCE_NAMES))])
        if resource not in perms:
            raise WsError(401, [(26, f'Resource of type "{resource}" is not allowed with this '
                                     "authentication key")])

    @staticmethod
    def _check_method(resource: str, method: str, perms: dict[str, frozenset[str]]) -> None:
        if method not in _ALL_METHODS:
            raise WsError(405, [(23, f"Method {method} is not valid")])
        if resource and method not in perms[resource]:
            raise WsError(405, [(25, f"Method {method} is not allowed for the resource "
                                     f"{resource} with this authentication key")])

    def _root(self, perms: dict[str, frozenset[str]]) -> HttpResponse:
        if self.json:
            # 8.1.2's JSON renderer dies on the index (a PHP TypeError): 500, empty body.
            return HttpResponse(500, [("X-Powered-By", PHP_POWERED),
                                      ("Content-type", HTML_TYPE)], b"")
        listing = []
        for name in sorted(perms):
            res = RESOURCES.get(name)
            description = res.description if res is not None else EXTRA_DESCRIPTIONS.get(
                name, name)
            listing.append((name, description, perms[name]))
        return self.ok(xml_api_root(self.api.shop_name, self.ws, listing))

    # ------------------------------------------------------------------ reading
    def _table(self, resource: str) -> Table | None:
        return self.api.data.tables.get(resource)

    def _get(self, resource: str, rid_text: str) -> HttpResponse:
        table = self._table(resource)
        if rid_text:
            return self._get_one(resource, table, rid_text)
        if table is None:  # allowed look-up resources the sandbox keeps empty
            return self.ok(b"[]" if self.json else xml_list(
                Resource(resource, resource.rstrip("s"), "", ()), [], self.ws, ids_only=True))
        return self._get_list(table)

    def _get_one(self, resource: str, table: Table | None, rid_text: str) -> HttpResponse:
        res = table.resource if table is not None else None
        display = self._display(res, list_mode=False) if res is not None else None
        rec = table.record(php_int(rid_text)) if table is not None else None
        if rec is None or res is None:
            return HttpResponse(404, self._headers(None, None), b"")
        rec = self._malformed(res, rec)
        if "display" in self.params:
            shown = (display or Display(True)).keep(res, rec)
            if self.json:
                return self.ok(json_list(res, [shown]))
            return self.ok(xml_single(res, shown, self.ws))
        return self.ok(json_single(res, rec) if self.json else xml_single(res, rec, self.ws))

    def _malformed(self, res: Resource, rec: Record) -> Record:
        faults = self.api.faults
        if res is RESOURCES["orders"] and rec.get("id") in faults.malformed_order_ids:
            rec = dict(rec, total_paid="abc")
        if res is CUSTOMERS and rec.get("id") in faults.malformed_customer_ids:
            rec = {k: v for k, v in rec.items() if k != "id"}
        return rec

    def _get_list(self, table: Table) -> HttpResponse:
        res = table.resource
        try:
            query = self._query(res)
        except WsError as err:
            raise WsError(500, [*err.errors, *_warnings()]) from err
        if query.schema:
            return self._schema(res, query.schema)
        ids = self._select(table, query)
        if query.display is None:
            records: list[Record] = [{"id": int(i)} for i in ids]
            if self.json:
                return self.ok(json_list(res, records))
            return self.ok(xml_list(res, records, self.ws, ids_only=True))
        shown = []
        for i in ids:
            rec = table.record(int(i))
            if rec is not None:
                shown.append(query.display.keep(res, self._malformed(res, rec)))
        if self.json:
            return self.ok(json_list(res, shown))
        return self.ok(xml_list(res, shown, self.ws, ids_only=False))

    def _schema(self, res: Resource, kind: str) -> HttpResponse:
        rec = blank_record(res)
        if kind == "synopsis":
            rec.pop("id", None)
        if self.json:
            assoc = {a.name: [{f.name: None for f in a.fields}] for a in res.associations}
            body: Any = {"associations": assoc} if assoc else []
            return self.ok(php_json({res.node: body}))
        return self.ok(xml_single(res, rec, self.ws, schema=kind))

    # ------------------------------------------------------------------ query parsing
    def _available(self, res: Resource) -> tuple[list[str], list[str]]:
        plain = [f.name for f in res.fields if f.kind != "lang"]
        i18n = [f.name for f in res.fields if f.kind == "lang"]
        if not as_text(self.params.get("date")) or self.params.get("date") in ("0", ""):
            plain = [n for n in plain if n not in ("date_add", "date_upd")]
        return plain, i18n

    def _display(self, res: Resource | None, *, list_mode: bool) -> Display | None:
        raw = self.params.get("display")
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

    def _query(self, res: Resource) -> _Query:
        plain, i18n = self._available(res)
        schema = as_text(self.params.get("schema"))
        if schema is not None:
            if schema not in ("blank", "synopsis"):
                raise WsError(400, [(28, "Please select a schema of type 'synopsis' to get the "
                                         "whole schema informations (which fields are required, "
                                         "which kind of content...) or 'blank' to get an empty "
                                         "schema to fill before using POST request")])
            return _Query(None, [], [], 0, None, schema)
        filters: list[tuple[Field, str]] = []
        raw_filters = self.params.get("filter")
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
        display = self._display(res, list_mode=True)
        sorts: list[tuple[Field, bool]] = []
        raw_sort = as_text(self.params.get("sort"))
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
        offset, count = 0, None
        raw_limit = as_text(self.params.get("limit"))
        if raw_limit is not None:
            parts = raw_limit.split(",")
            if len(parts) > 2:
                raise WsError(400, [(39, 'The "limit" value has to be formed as this example: '
                                         '"5,25" or "10"')])
            if len(parts) == 2:
                offset, count = max(php_int(parts[0]), 0), max(php_int(parts[1]), 0)
            else:
                count = max(php_int(parts[0]), 0)
        return _Query(display, filters, sorts, offset, count, "")

    # ------------------------------------------------------------------ selection
    def _select(self, table: Table, query: _Query) -> npt.NDArray[np.int64]:
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
            chosen = self._sort(table, chosen, query.sorts, records)
        end = None if query.count is None else query.offset + query.count
        return chosen[query.offset:end]

    @staticmethod
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

    # ------------------------------------------------------------------ writing
    def _write(self, resource: str, method: str) -> HttpResponse:
        body = self.request.body.decode("utf-8", "replace")
        if body.startswith("xml="):
            body = body[4:]
        try:
            entities = parse_input(body)
        except XmlInputError as exc:
            notes = [(3, f"[PHP Warning #2] SimpleXMLElement::__construct(): {n} "
                         f"({SOURCE_FILE}, line 1544)") for n in exc.warnings]
            raise WsError(500, [*notes, (127, f"XML error : {exc}\nXML length : "
                                              f"{len(body.encode())}\nOriginal XML : {body}")]
                          ) from exc
        ids = [e.fields.get("id", "") for e in entities]
        given = [i for i in ids if i.strip() != ""]
        if method in ("PUT", "PATCH"):
            if len({php_int(i) for i in given}) != len(given):
                raise WsError(400, [(89, "id is duplicate in request")])
            if len(entities) != len(given):
                raise WsError(400, [(90, "id is required when modifying a resource")])
        elif given:
            raise WsError(400, [(91, "id is forbidden when adding a new resource")])
        if resource == "customers" and method == "PUT":
            out = [self._put_customer(e) for e in entities]
            return self._written(CUSTOMERS, out, 200)
        if resource == "groups" and method == "POST":
            out = [self._post_group(e) for e in entities]
            return self._written(GROUPS, out, 201)
        raise WsError(501, [(124, f"The sandbox does not implement {method} on {resource}.")])

    def _written(self, res: Resource, records: list[Record], status: int) -> HttpResponse:
        rec = records[-1] if records else {}
        if self.json:
            return self.ok(json_single(res, rec), status)
        return self.ok(xml_single(res, rec, self.ws), status)

    def _put_customer(self, entity: XmlEntity) -> Record:
        data = self.api.data
        table = data.tables["customers"]
        cid = php_int(entity.fields["id"])
        current = table.record(cid)
        if current is None:
            raise WsError(404, [(92, "Invalid ID")])
        row: dict[str, Any] = {}
        for f in CUSTOMERS.fields:
            if f.name in entity.fields:
                row[f.name] = entity.fields[f.name]
            elif f.required:
                raise WsError(400, [(41, f'parameter "{f.name}" required')])
            else:
                row[f.name] = None
        if row["passwd"] != current["passwd"]:
            row["passwd"] = fake_password_hash(self.api.population.seed, "passwd", cid,
                                               row["passwd"], time.time_ns())
        message = validate_customer(row)
        if message is not None:
            raise WsError(400, [(85, f'Validation error: "{html.escape(message)}"')])
        groups: list[int] | None = None
        if entity.associations is not None:
            for name in entity.associations:
                if name not in ("groups", "i18n"):
                    raise WsError(400, [(86, f'The association "{name}" does not exists')])
            if "groups" in entity.associations:
                groups = [php_int(g.get("id", "")) for g in entity.associations["groups"]]
        if row.get("newsletter") == "1" and _parse_shop_date(row.get("newsletter_date_add")
                                                             or "") is None:
            row["newsletter_date_add"] = shop_date(self.api.population.clock())
        stored = {k: (None if v == "" else v) for k, v in row.items()}
        for f in CUSTOMERS.fields:
            if f.kind in ("int", "flag") and stored.get(f.name) is None and f.name in row \
                    and row[f.name] == "":
                stored[f.name] = "0"
        data.write_customer(cid, stored, groups)
        after = table.record(cid)
        assert after is not None
        answer: Record = {f.name: (None if stored.get(f.name) is None else str(stored[f.name]))
                          for f in CUSTOMERS.fields}
        answer["id"] = str(cid)
        answer["date_upd"] = after["date_upd"]
        answer["associations"] = after.get("associations", {})
        return answer

    def _post_group(self, entity: XmlEntity) -> Record:
        data = self.api.data
        if "price_display_method" not in entity.fields:
            raise WsError(400, [(41, 'parameter "price_display_method" required')])
        names = entity.languages.get("name", {})
        name = names.get(1, "")
        if not name.strip():
            raise WsError(400, [(84, 'Validation error: "Property Group-&gt;name is empty."')])
        reduction = entity.fields.get("reduction")
        pdm = entity.fields["price_display_method"]
        show = entity.fields.get("show_prices")
        for fname, value, ok in (("reduction", reduction, _is_float),
                                 ("price_display_method", pdm, lambda v: v in ("0", "1")),
                                 ("show_prices", show, _is_bool)):
            if value not in (None, "") and not ok(value):
                raise WsError(400, [(85, f'Validation error: "Property Group-&gt;{fname} is not '
                                         'valid"')])
        gid = data.add_group(name, f"{float(reduction or 0):.2f}", php_int(pdm),
                             show if show not in (None, "") else "1")
        rec = data.tables["groups"].record(gid)
        assert rec is not None
        return {"id": str(gid), "reduction": reduction, "price_display_method": pdm,
                "show_prices": show, "date_add": rec["date_add"], "date_upd": rec["date_upd"],
                "name": name}


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


# --------------------------------------------------------------------------------------------
# Filters (MySQL semantics: numbers compare as numbers, text case-insensitively)
# --------------------------------------------------------------------------------------------


def _literal_seconds(text: str) -> float | None:
    parsed = _parse_shop_date(text)
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
            return _php_number(text)
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
        return _php_number(str(value)) if value is not None else None
    if value is None:
        return None
    return str(value).rstrip(" ").casefold()


def _cmp_literal(f: Field, text: str) -> Any:
    if f.kind in ("int", "flag", "money"):
        return _php_number(text)
    if f.kind == "date":
        parsed = _parse_shop_date(text)
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
        return (1, _php_number(str(value)), "")
    return (1, 0.0, str(value).casefold())


# --------------------------------------------------------------------------------------------
# Validation (Customer fields, as an 8.1.2 shop checks them)
# --------------------------------------------------------------------------------------------

_NAME_BAD = re.compile(r"[0-9!<>,;?=+()/\\@#\"°*`{}_^$%:¤\[\]|]")
_GENERIC_BAD = re.compile(r"[<>={}]")


def _is_bool(v: str) -> bool:
    return v in ("0", "1")


def _is_float(v: str) -> bool:
    return re.fullmatch(r"[+-]?\d+(\.\d+)?", v.strip()) is not None


def _is_date(v: str) -> bool:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})( \d{2}:\d{2}:\d{2})?", v)
    if not m:
        return False
    try:
        datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "secure_key": lambda v: re.fullmatch(r"[0-9a-fA-F]{32}", v) is not None,
    "lastname": lambda v: _NAME_BAD.search(v) is None,
    "firstname": lambda v: _NAME_BAD.search(v) is None,
    "email": lambda v: re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+", v) is not None,
    "id_gender": lambda v: v.isdigit(),
    "birthday": lambda v: v == "0000-00-00" or (_is_date(v) and v <= datetime.now().strftime(
        "%Y-%m-%d")),
    "newsletter": _is_bool, "optin": _is_bool, "show_public_prices": _is_bool,
    "active": _is_bool, "deleted": _is_bool, "is_guest": _is_bool,
    "website": lambda v: re.fullmatch(r"[^\s<>\"]+", v) is not None,
    "company": lambda v: _GENERIC_BAD.search(v) is None,
    "siret": lambda v: _GENERIC_BAD.search(v) is None,
    "ape": lambda v: re.fullmatch(r"[0-9]{3,4}[a-zA-Z]", v) is not None,
    "outstanding_allow_amount": _is_float,
    "id_risk": lambda v: v.isdigit(), "max_payment_days": lambda v: v.isdigit(),
    "id_shop": lambda v: v.isdigit(), "id_shop_group": lambda v: v.isdigit(),
    "id_lang": lambda v: v.isdigit(),
    "date_add": _is_date, "date_upd": _is_date,
    "reset_password_token": lambda v: re.fullmatch(r"[0-9a-fA-F]{40}", v) is not None,
    "reset_password_validity": lambda v: v == ZERO_DATE or _is_date(v),
}
_DEFINITION_ORDER = (
    "secure_key", "lastname", "firstname", "email", "passwd", "last_passwd_gen", "id_gender",
    "birthday", "newsletter", "newsletter_date_add", "ip_registration_newsletter", "optin",
    "website", "company", "siret", "ape", "outstanding_allow_amount", "show_public_prices",
    "id_risk", "max_payment_days", "active", "deleted", "note", "is_guest", "id_shop",
    "id_shop_group", "id_default_group", "id_lang", "date_add", "date_upd",
    "reset_password_token", "reset_password_validity")
_SIZES = {"lastname": 255, "firstname": 255, "email": 255, "passwd": 255, "note": 65000,
          "reset_password_token": 40}


def validate_customer(row: dict[str, Any]) -> str | None:
    """The first validation failure of a customer row (unescaped), or None."""
    required = {f.name for f in CUSTOMERS.fields if f.required}
    for name in _DEFINITION_ORDER:
        value = row.get(name)
        text = "" if value is None else str(value)
        if name in required and text == "":
            return f"Property Customer->{name} is empty."
        if text == "":
            continue
        check = _VALIDATORS.get(name)
        if check is not None and not check(text):
            return f"Property Customer->{name} is not valid"
        limit = _SIZES.get(name)
        if limit is not None and len(text) > limit:
            return f"Property Customer->{name} is too long ({limit} chars max)"
    return None
