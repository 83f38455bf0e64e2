"""The population served as the PrestaShop 8.1.2 Webservice under ``/api/``.

Checked against real exchanges (tests/fixtures/prestashop-real/): the order of checks (key
present, key valid, resource known, resource allowed, method allowed), error codes, messages and
statuses (a failing list query answers 500 because PHP warnings follow the error), headers,
field names and JSON types, the JSON quirks (bare ``[]``, falsy fields dropped from one record,
``display`` turning one record into a list, the JSON index crashing), paging with ``limit``,
every filter form, sorts and date filters that need ``date=1``.

This module is the HTTP side: keys and their rights, dispatch, reads and the answer's headers.
The query engine is :mod:`.presta_query`, writes are :mod:`.presta_writes`, the rows
:mod:`.presta_tables` and the wire formats :mod:`.presta_xml`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .faults import Faults
from .population import Population
from .presta_data import PrestaShopData
from .presta_errors import WsError, did_you_mean, list_warnings
from .presta_query import parse_display, parse_query, select
from .presta_schema import (
    ALL_RESOURCE_NAMES,
    CUSTOMERS,
    EXTRA_DESCRIPTIONS,
    RESOURCES,
    Record,
    Resource,
    blank_record,
)
from .presta_tables import Table
from .presta_values import php_int
from .presta_writes import write
from .presta_xml import (
    Display,
    json_errors,
    json_list,
    json_single,
    php_json,
    xml_api_root,
    xml_errors,
    xml_list,
    xml_single,
)
from .wire import HttpRequest, HttpResponse, as_text, parse_php_query

PS_VERSION = "8.1.2"
JSON_TYPE = "application/json"
XML_TYPE = "text/xml;charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
PHP_POWERED = "PHP/8.2.36"
REALM = ('Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key '
         'as the login. No password required."')
_ALL_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")
_RW = frozenset({"GET", "PUT", "POST", "HEAD"})
_RO = frozenset({"GET", "HEAD"})
#: Resources a key may use: the journey resources (writable with the read/write key) and a few
#: look-up resources (read-only for both keys), as the recorded shop's keys were set up.
JOURNEY_RESOURCES = ("customers", "addresses", "orders", "order_states", "order_histories",
                     "order_details", "carts", "groups", "currencies", "products")
LOOKUP_RESOURCES = ("countries", "languages", "shops", "order_carriers", "order_payments",
                    "configurations")


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
                res, rec, status = write(self.api.data, self.request.body, resource, method)
                return self._written(res, rec, status)
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
        display = None if res is None else parse_display(res, self.params, list_mode=False)
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
            query = parse_query(res, self.params)
        except WsError as err:
            raise WsError(500, [*err.errors, *list_warnings()]) from err
        if query.schema:
            return self._schema(res, query.schema)
        ids = select(table, query)
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

    # ------------------------------------------------------------------ writing
    def _written(self, res: Resource, rec: Record, status: int) -> HttpResponse:
        if self.json:
            return self.ok(json_single(res, rec), status)
        return self.ok(xml_single(res, rec, self.ws), status)

