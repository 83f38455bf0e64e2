"""The configuration file (TOML) and the shops' API secrets.

One file describes every shop journeybridge syncs, the stage settings, the segments and where
the sync state lives. Its path is ``--config``, else ``$JOURNEYBRIDGE_CONFIG``, else
``config.toml`` in the user's configuration directory (``~/.config/journeybridge`` on Linux).

Secrets never come from the command line nor from the configuration file itself: each shop's
API key and secret come from environment variables (``JOURNEYBRIDGE_<SHOP>_KEY`` and
``JOURNEYBRIDGE_<SHOP>_SECRET``, the shop name upper-cased with ``-`` as ``_``; other names with
``key_env`` / ``secret_env``), else from a separate secrets file (``sync.secrets_file``, TOML,
one table per shop with ``key`` and ``secret``) that must not be readable by group or others.
A PrestaShop shop has a Webservice key only (``JOURNEYBRIDGE_<SHOP>_KEY``), no secret.

Every problem found is reported in one :class:`~journeybridge.errors.ConfigError`, one line per
problem, naming the file, the key path (``shops.myshop.url``) and what is expected. No message
ever contains a secret.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from journeybridge.actions import ActionKind, ActionSettings
from journeybridge.errors import ConfigError
from journeybridge.redact import excerpt, redact_url  # redact_url re-exported
from journeybridge.stages import VOCABULARIES, SegmentRuleError, Stage, StageSettings
from journeybridge.stages import parse_segments as _parse_segments

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "CONFIG_ENV",
    "Config",
    "EventsConfig",
    "Secrets",
    "ShopConfig",
    "StagesConfig",
    "SyncConfig",
    "default_config_path",
    "default_state_path",
    "example_config",
    "load_config",
    "load_secrets",
    "redact_url",
    "write_example_config",
]

CONFIG_ENV = "JOURNEYBRIDGE_CONFIG"
_SHOP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def default_config_path() -> Path:
    """``$JOURNEYBRIDGE_CONFIG`` when set, else ``config.toml`` in the user's configuration
    directory (e.g. ``~/.config/journeybridge/config.toml``)."""
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("journeybridge")) / "config.toml"


def default_state_path() -> Path:
    """The default SQLite state file in the user's data directory
    (e.g. ``~/.local/share/journeybridge/state.db``)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("journeybridge")) / "state.db"


_WOO_KEY = re.compile(r"^c[ks]_[0-9a-fA-F]{32,64}$")


def _looks_like_a_key(name: str) -> bool:
    """True for a value that is more likely an API key than a variable's name: a WooCommerce
    ``ck_``/``cs_`` key, or a long run of letters and digits without ``_`` (a PrestaShop
    Webservice key is 32 of them)."""
    if _WOO_KEY.match(name):
        return True
    return (len(name) >= 20 and "_" not in name and any(c.isdigit() for c in name)
            and any(c.isalpha() for c in name))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


GROUP_NAME_MAX = 32
"""PrestaShop's limit on a customer group's name."""
_GROUP_NAME_BAD = re.compile(r"[<>={}]")
_PRESTA_ONLY = ("stage_groups", "group_prefix", "segment_groups", "action_groups",
                "action_group_prefix")


class EventsConfig(_Strict):
    """How ``export-events`` turns this shop's journeys into Conversions API events: the
    pixel (dataset) id, where consent is recorded (``all``, ``newsletter``, ``meta`` with
    ``consent_key``, ``list`` with ``consent_list``, a file relative to the configuration),
    what happens without consent (``drop`` or ``ldu``), the action source of events whose
    browser is unknown, the newsletter event, the environment variable holding the access
    token, and a test event code (Events Manager > Test events). Command-line options win."""

    pixel_id: str | None = None
    consent: Literal["all", "newsletter", "meta", "list"] = "all"
    consent_key: str | None = None
    consent_list: str | None = None
    without_consent: Literal["drop", "ldu"] = "drop"
    action_source: Literal["other", "system_generated"] = "other"
    newsletter_event: Literal["Subscribe", "Lead"] = "Subscribe"
    token_env: str | None = None
    test_event_code: str | None = None

    @field_validator("pixel_id")
    @classmethod
    def _pixel(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{5,20}", value.strip()):
            raise ValueError("expected the pixel (dataset) id: digits only")
        return value.strip() if value is not None else None

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str | None) -> str | None:
        if value is not None and (not _ENV_NAME.match(value) or _looks_like_a_key(value)):
            raise ValueError("expected the name of an environment variable holding the access "
                             "token, not the token itself")
        return value

    @model_validator(mode="after")
    def _consent_parts(self) -> EventsConfig:
        if self.consent == "meta" and not self.consent_key:
            raise ValueError("consent = \"meta\" needs consent_key (the meta key)")
        if self.consent == "list" and not self.consent_list:
            raise ValueError("consent = \"list\" needs consent_list (a file of e-mails)")
        return self

    def consent_path(self, config_path: Path | None) -> Path | None:
        """``consent_list`` as a path (relative to the configuration file), or None."""
        if not self.consent_list:
            return None
        path = Path(self.consent_list).expanduser()
        if not path.is_absolute() and config_path is not None:
            path = config_path.parent / path
        return path


class ShopConfig(_Strict):
    """One shop: where it is, how to talk to it, and what to write back.

    WooCommerce shops get journey values as customer meta (``meta_prefix``); PrestaShop shops
    get one customer group per stage: ``stage_groups`` names a stage's group, else the group is
    ``group_prefix`` + the stage's label (``"Journey: "`` + ``"loyalty"``). For PrestaShop,
    ``query_string_auth`` sends the key as ``?ws_key=`` and ``write_guest_orders`` puts guest
    checkout rows into their group too. ``segment_groups`` (opt-in) writes segments as
    groups too, each called ``group_prefix`` + the segment's name."""

    name: str = ""
    platform: Literal["woocommerce", "prestashop"] = "woocommerce"
    url: str
    timezone: str = "UTC"
    concurrency: int = Field(4, ge=1, le=16)
    timeout: float = Field(30.0, gt=0, le=600)
    meta_prefix: str = Field("journeybridge_", min_length=1, max_length=64)
    newsletter_key: str = "newsletter_optin"
    newsletter_date_key: str = "newsletter_optin_date"
    write_guest_orders: bool = True
    verify_ssl: bool = True
    query_string_auth: bool = False
    key_env: str | None = None
    secret_env: str | None = None
    stage_groups: dict[Stage, str] = Field(default_factory=dict)
    group_prefix: str = Field("Journey: ", max_length=GROUP_NAME_MAX - 1)
    segment_groups: bool = False
    action_groups: dict[ActionKind, str] = Field(default_factory=dict)
    action_group_prefix: str = Field("Journey next: ", max_length=GROUP_NAME_MAX - 1)
    full_customers_hours: float = Field(24.0, gt=0, le=24 * 365)
    events: EventsConfig = Field(default_factory=EventsConfig)

    @model_validator(mode="after")
    def _platform_keys(self) -> ShopConfig:
        if self.platform == "woocommerce":
            given = [k for k in _PRESTA_ONLY if k in self.model_fields_set]
            if given:
                raise ValueError(f"{', '.join(given)}: only for platform = \"prestashop\" "
                                 "(WooCommerce shops get meta_prefix keys)")
        elif "full_customers_hours" in self.model_fields_set:
            raise ValueError("full_customers_hours: only for platform = \"woocommerce\" "
                             "(PrestaShop customers are read incrementally)")
        return self

    @field_validator("stage_groups")
    @classmethod
    def _group_names(cls, value: dict[Stage, str]) -> dict[Stage, str]:
        for stage, name in value.items():
            _check_group_name(name, f"stage_groups.{stage.value}")
        return value

    @field_validator("action_groups")
    @classmethod
    def _action_group_names(cls, value: dict[ActionKind, str]) -> dict[ActionKind, str]:
        for kind, name in value.items():
            _check_group_name(name, f"action_groups.{kind.value}")
        return value

    def action_group_name(self, kind: ActionKind) -> str:
        """The PrestaShop customer group of next-action ``kind``: ``action_groups`` names it,
        else ``action_group_prefix`` + the kind's label (``"Journey next: Cart reminder"``)."""
        return self.action_groups.get(kind) or f"{self.action_group_prefix}{kind.label}"

    def group_name(self, stage: Stage, label: str) -> str:
        """The PrestaShop customer group of ``stage`` whose configured label is ``label``."""
        return self.stage_groups.get(stage) or f"{self.group_prefix}{label}"

    def segment_group_name(self, segment: str) -> str:
        """The PrestaShop customer group of the segment called ``segment``."""
        return f"{self.group_prefix}{segment}"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"expected the shop's address starting with http:// or https://, "
                             f"got {excerpt(repr(redact_url(value)), 80)}")
        if parts.password is not None or parts.username is not None:
            raise ValueError("expected an address without user:password (keys belong in the "
                             "environment or the secrets file)")
        return value.strip().rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone such as 'Europe/Amsterdam', "
                             f"got {value!r}") from None
        return value

    @field_validator("key_env", "secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and (not _ENV_NAME.match(value) or _looks_like_a_key(value)):
            # never echoed: what is pasted here by mistake is often the key itself
            raise ValueError("expected the name of an environment variable (letters, digits "
                             "and _, not starting with a digit), not the key itself: put the "
                             "key in that variable")
        return value

    @property
    def env_names(self) -> tuple[str, str]:
        """The environment variables holding this shop's key and secret."""
        stem = "JOURNEYBRIDGE_" + re.sub(r"[^A-Za-z0-9]", "_", self.name).upper()
        return (self.key_env or f"{stem}_KEY", self.secret_env or f"{stem}_SECRET")

    @property
    def required_env(self) -> tuple[str, ...]:
        """The environment variables that must hold this shop's secrets: key and secret
        (WooCommerce), or the Webservice key alone (PrestaShop)."""
        key_name, secret_name = self.env_names
        return (key_name,) if self.platform == "prestashop" else (key_name, secret_name)


def _check_group_name(name: str, where: str) -> None:
    if not name.strip():
        raise ValueError(f"{where}: a group name may not be empty")
    if len(name) > GROUP_NAME_MAX:
        raise ValueError(f"{where}: {name!r} is longer than PrestaShop's {GROUP_NAME_MAX} "
                         "characters")
    if _GROUP_NAME_BAD.search(name):
        raise ValueError(f"{where}: {name!r} holds one of < > = {{ }}, which PrestaShop refuses")


class StagesConfig(_Strict):
    """Stage thresholds, the vocabulary written to shops, and per-stage name overrides."""

    settings: StageSettings = Field(default_factory=StageSettings)
    vocabulary: str | None = None
    names: dict[Stage, str] = Field(default_factory=dict)

    @field_validator("vocabulary")
    @classmethod
    def _vocabulary(cls, value: str | None) -> str | None:
        if value is not None and value not in VOCABULARIES:
            raise ValueError(f"expected one of {', '.join(sorted(VOCABULARIES))}, "
                             f"got {value!r}")
        return value

    def label(self, stage: Stage) -> str:
        """The name written to the shop for ``stage``: an override from ``names``, else the
        vocabulary's label, else the stage's own name (``at_risk``)."""
        if stage in self.names:
            return self.names[stage]
        if self.vocabulary is not None:
            return VOCABULARIES[self.vocabulary][stage]
        return stage.value

    def display(self, stage: Stage) -> str:
        """The name a person reads for ``stage`` (PrestaShop's group names): an override from
        ``names``, else the vocabulary's label, else the default vocabulary's ("At risk")."""
        if stage in self.names or self.vocabulary is not None:
            return self.label(stage)
        return VOCABULARIES["default"][stage]


class SyncConfig(_Strict):
    """Where the sync state lives and how runs behave."""

    state: str | None = None
    lock_timeout: float = Field(0.0, ge=0, le=3600)
    full_pull_days: float = Field(7.0, ge=0)
    secrets_file: str | None = None


class Config(_Strict):
    """The whole configuration; ``path`` is the file it came from."""

    path: Path | None = None
    sync: SyncConfig = Field(default_factory=SyncConfig)
    stages: StagesConfig = Field(default_factory=StagesConfig)
    actions: ActionSettings = Field(default_factory=ActionSettings)
    segments: dict[str, str] = Field(default_factory=dict)
    shops: dict[str, ShopConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _presta_group_names(self) -> Config:
        for shop in self.shops.values():
            if shop.platform != "prestashop":
                continue
            stage_names = set()
            for stage, name in self.group_names(shop).items():
                _check_group_name(name, f"shops.{shop.name}: the group of stage {stage.value}")
                stage_names.add(name)
            for kind in ActionKind:
                name = shop.action_group_name(kind)
                _check_group_name(name, f"shops.{shop.name}: the group of action {kind.value}")
                if name in stage_names:
                    raise ValueError(f"shops.{shop.name}: the group of action {kind.value} "
                                     f"({name!r}) is also a stage's group")
            if not shop.segment_groups:
                continue
            for segment in self.segments:
                name = shop.segment_group_name(segment)
                where = f"shops.{shop.name}: the group of segment {segment}"
                _check_group_name(name, where)
                if name in stage_names:
                    raise ValueError(f"{where}: {name!r} is also a stage's group")
        return self

    def group_names(self, shop: ShopConfig) -> dict[Stage, str]:
        """The PrestaShop customer group of every stage of ``shop``: its ``stage_groups``
        entry, else ``group_prefix`` + the stage's display name ("Journey: At risk"). Where
        a vocabulary gives two stages one name (see-think-do-care: Purchase and Service are
        both "Do") each such group gets the stage's default name in brackets ("Journey: Do
        (Purchase)"), so no two stages share a group."""
        names = {stage: shop.group_name(stage, self.stages.display(stage)) for stage in Stage}
        taken = Counter(names.values())
        for stage, name in names.items():
            if taken[name] > 1 and stage not in shop.stage_groups:
                names[stage] = f"{name} ({VOCABULARIES['default'][stage]})"
        return names

    def adapter_options(self, shop: ShopConfig) -> dict[str, Any]:
        """The options ``shop``'s adapter is opened with
        (:func:`journeybridge.adapters.open_adapter`), from its table and, for PrestaShop, the
        group name of every stage."""
        common: dict[str, Any] = {
            "shop": shop.name, "concurrency": shop.concurrency, "timeout": shop.timeout,
            "verify_ssl": shop.verify_ssl,
            # no timezone configured: the adapter asks the shop (UTC when it cannot tell)
            "timezone_name": shop.timezone if "timezone" in shop.model_fields_set else None,
            "write_guests": shop.write_guest_orders}
        if shop.platform == "prestashop":
            segments = ({name: shop.segment_group_name(name) for name in self.segments}
                        if shop.segment_groups else {})
            return {**common, "key_in_query": shop.query_string_auth,
                    "stage_groups": {stage.value: name
                                     for stage, name in self.group_names(shop).items()},
                    "segment_groups": segments,
                    "action_groups": {kind.value: shop.action_group_name(kind)
                                      for kind in ActionKind}}
        return {**common, "query_string_auth": shop.query_string_auth,
                "newsletter_key": shop.newsletter_key,
                "newsletter_date_key": shop.newsletter_date_key,
                "meta_prefix": shop.meta_prefix,
                "full_customers_hours": shop.full_customers_hours}

    def select(self, name: str | None) -> list[ShopConfig]:
        """The shop called ``name``, or every shop (in file order) when ``name`` is None.
        Raises ConfigError for an unknown name or a configuration without shops."""
        where = self.path or "configuration"
        if not self.shops:
            raise ConfigError(f"{where}: no shops configured: add a [shops.<name>] table "
                              "(journeybridge init writes an example)")
        if name is None:
            return list(self.shops.values())
        if name not in self.shops:
            raise ConfigError(f"{where}: no shop named {name!r}; configured: "
                              f"{', '.join(self.shops)}")
        return [self.shops[name]]

    def state_url(self) -> str:
        """The state store as a URL: ``postgresql://...`` or ``sqlite:///<absolute path>``.
        A relative path in the file is taken relative to the file's directory."""
        raw = self.sync.state
        if raw is None:
            return f"sqlite:///{default_state_path()}"
        if raw.startswith(("postgresql://", "postgres://", "sqlite:///")):
            return raw
        path = Path(raw).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return f"sqlite:///{path.resolve()}"


@dataclass(frozen=True)
class Secrets:
    """One shop's API key and secret. ``repr`` never shows them."""

    key: str
    secret: str

    def __repr__(self) -> str:
        return "Secrets(key=***, secret=***)"


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _problem(err: Mapping[str, Any], prefix: str = "") -> str:
    loc = _loc(tuple(err.get("loc", ())))
    key = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
    kind = err.get("type", "")
    message = str(err.get("msg", "invalid"))
    if kind == "extra_forbidden":
        return f"{key}: unknown key (check its spelling and the table it is in)"
    if kind == "missing":
        return f"{key}: required, but missing"
    message = message.removeprefix("Value error, ")
    given = err.get("input")
    if kind not in ("value_error", "assertion_error") and isinstance(given, (str, int, float,
                                                                            bool)):
        message = f"{message} (got {excerpt(repr(given), 80)})"
    return f"{key}: {message}"


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = " (journeybridge init writes an example)" if what == "configuration" else ""
        raise ConfigError(f"{path}: {what} file not found{hint}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the {what} file is not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the configuration at ``path`` (default: :func:`default_config_path`).

    Promises: a fully validated :class:`Config` (every shop named, segment rules parsed), or a
    ConfigError listing every problem, one line each, as ``<file>: <key path>: <expected>``.
    """
    file = Path(path).expanduser() if path is not None else default_config_path()
    data = _read_toml(file, "configuration")
    problems: list[str] = []
    if "path" in data:
        problems.append("path: unknown key (check its spelling and the table it is in)")
        del data["path"]
    shops = data.get("shops")
    if isinstance(shops, dict):
        for name, table in shops.items():
            if not _SHOP_NAME.match(name):
                problems.append(f"shops.{name}: a shop name may hold letters, digits, '-' and "
                                "'_' only (it names environment variables)")
            if isinstance(table, dict):
                if "name" in table:
                    problems.append(f"shops.{name}.name: unknown key (the table's name is the "
                                    "shop's name)")
                table = {k: v for k, v in table.items() if k != "name"}
                shops[name] = {**table, "name": name}
    try:
        config = Config.model_validate({**data, "path": file})
    except ValidationError as exc:
        problems.extend(_problem(err) for err in exc.errors())
        config = None
    if config is not None:
        try:
            _parse_segments(config.segments)
        except SegmentRuleError as exc:
            problems.append(f"segments: {exc}")
    if problems:
        raise ConfigError("\n".join(f"{file}: {p}" for p in problems))
    assert config is not None
    return config


def _check_private(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{path}: secrets file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path}: the secrets file is readable by others (mode {stat.S_IMODE(mode):03o}); "
            f"refusing to use it. Fix: chmod 600 {path}")


def load_secrets(config: Config, shop: ShopConfig,
                 environ: Mapping[str, str] | None = None) -> Secrets:
    """The API key and secret of ``shop``: from its environment variables, else from the
    secrets file. Raises ConfigError naming where it looked (never the values). A secrets
    file readable by group or others is refused."""
    env = os.environ if environ is None else environ
    key_name, secret_name = shop.env_names
    key, secret = env.get(key_name), env.get(secret_name)
    if key and secret:
        return Secrets(key, secret)
    where = config.path or "configuration"
    if shop.platform == "prestashop":
        return _presta_key(config, shop, key)
    if config.sync.secrets_file:
        file = Path(config.sync.secrets_file).expanduser()
        if not file.is_absolute() and config.path is not None:
            file = config.path.parent / file
        _check_private(file)
        data = _read_toml(file, "secrets")
        table = data.get(shop.name)
        if isinstance(table, dict):
            file_key, file_secret = table.get("key"), table.get("secret")
            key = key or (file_key if isinstance(file_key, str) else None)
            secret = secret or (file_secret if isinstance(file_secret, str) else None)
        if key and secret:
            return Secrets(key, secret)
        raise ConfigError(
            f"{where}: shops.{shop.name}: no API key and secret: set {key_name} and "
            f"{secret_name} in the environment, or put key and secret in the [{shop.name}] "
            f"table of {file}")
    raise ConfigError(
        f"{where}: shops.{shop.name}: no API key and secret: set {key_name} and {secret_name} "
        "in the environment, or name a secrets file in [sync] secrets_file")


def _presta_key(config: Config, shop: ShopConfig, key: str | None) -> Secrets:
    """A PrestaShop shop's Webservice key (no secret): environment, else the secrets file."""
    key_name = shop.env_names[0]
    where = config.path or "configuration"
    if key:
        return Secrets(key, "")
    if config.sync.secrets_file:
        file = Path(config.sync.secrets_file).expanduser()
        if not file.is_absolute() and config.path is not None:
            file = config.path.parent / file
        _check_private(file)
        table = _read_toml(file, "secrets").get(shop.name)
        file_key = table.get("key") if isinstance(table, dict) else None
        if isinstance(file_key, str) and file_key:
            return Secrets(file_key, "")
        raise ConfigError(f"{where}: shops.{shop.name}: no Webservice key: set {key_name} in "
                          f"the environment, or put key in the [{shop.name}] table of {file}")
    raise ConfigError(f"{where}: shops.{shop.name}: no Webservice key: set {key_name} in the "
                      "environment, or name a secrets file in [sync] secrets_file")


def write_example_config(path: Path | None = None, *, force: bool = False) -> Path:
    """Write :func:`example_config` to ``path`` (default: :func:`default_config_path`),
    creating its directory; returns the path written. Raises ConfigError when the file
    exists (unless ``force``) or cannot be written."""
    target = path or default_config_path()
    if target.exists() and not force:
        raise ConfigError(f"{target}: already exists; use --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example_config(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write: {exc.strerror}") from None
    return target


def example_config() -> str:
    """A commented example configuration, valid as it stands (``journeybridge init``)."""
    return _EXAMPLE


_EXAMPLE = '''\
# journeybridge configuration (TOML).
# Keys and secrets are never written here: see "Secrets" at the end.

[sync]
# Where the sync state lives (pulled records, cursors, stages, run history):
#   a file path (relative to this file), "sqlite:////absolute/path.db", or
#   "postgresql://user@host:5432/dbname" (password from PGPASSWORD or ~/.pgpass).
# Default: state.db in the user's data directory (~/.local/share/journeybridge/).
# state = "journeybridge-state.db"
# Seconds to wait for a shop that another run is syncing; 0 gives up at once (exit 75).
lock_timeout = 0
# A full pull every this many days catches orders deleted outright (0: never).
full_pull_days = 7
# A TOML file with one [<shop>] table holding key = "ck_..." and secret = "cs_...".
# It must be readable by its owner only (chmod 600).
# secrets_file = "secrets.toml"

[stages]
# What is written as the stage: the stage's own name (at_risk) unless a vocabulary
# ("default", "see-think-do-care", "five-phases") or names below say otherwise.
# vocabulary = "see-think-do-care"

[stages.names]
# at_risk = "Win-back"
# lapsed = "Sleeping"

[stages.settings]
# Thresholds of the stage rules; the defaults suit a typical small shop.
abandoned_after_hours = 4
consideration_window_days = 30
service_window_days = 14
advocacy_min_rating = 4
advocacy_min_orders = 5
horizon_days = 90
default_at_risk_days = 120
default_lapsed_days = 365

[actions]
# Next actions per person (see "Next actions" in the README). At most one open action each;
# written back on sync (WooCommerce: <prefix>next_action, <prefix>next_action_due,
# <prefix>next_action_id; PrestaShop: one group per kind).
# enabled = ["payment_help", "cart_reminder", "track_and_trace", "review_request",
#            "win_back", "reactivation", "thank_you", "welcome"]
# write_back = true
abandon_hours = 4                  # a cart or started checkout untouched this long
review_delay_days = 7              # ask for a review this long after delivery

[segments]
# name = "rule" (see the rule language in the documentation)
repeat_buyers = "orders >= 2"
big_spenders = "total_spent > 500"

[shops.myshop]
platform = "woocommerce"
url = "https://shop.example.com"
timezone = "Europe/Amsterdam"      # the store's time zone (default: the site's own)
concurrency = 4                    # pages read at once
timeout = 30                       # seconds per request
meta_prefix = "journeybridge_"     # writes <prefix>stage, <prefix>stage_since, <prefix>segments
newsletter_key = "newsletter_optin"
newsletter_date_key = "newsletter_optin_date"
write_guest_orders = true          # guests' values go on their latest order's meta
# Secrets: JOURNEYBRIDGE_MYSHOP_KEY and JOURNEYBRIDGE_MYSHOP_SECRET in the environment,
# or other variable names:
# key_env = "MYSHOP_WC_KEY"
# secret_env = "MYSHOP_WC_SECRET"

# [shops.myshop.events]               # export-events: Conversions API settings
# pixel_id = "1234567890"             # the pixel (dataset) id
# consent = "newsletter"              # all, newsletter, meta (consent_key), list (consent_list)
# consent_key = "meta_consent"        # with consent = "meta"
# consent_list = "consent.txt"        # with consent = "list": e-mails, one a line
# without_consent = "drop"            # or "ldu": sent with Limited Data Use
# action_source = "other"             # events without a known browser; or "system_generated"
# newsletter_event = "Subscribe"      # or "Lead"
# token_env = "JOURNEYBRIDGE_META_ACCESS_TOKEN"  # the variable holding the access token
# test_event_code = "TEST12345"       # Events Manager > Test events

# A PrestaShop shop (1.7 / 8.x Webservice): each stage becomes a customer group, created when
# missing; people join their stage's group and leave the other journey groups, nothing else.
# [shops.mypresta]
# platform = "prestashop"
# url = "https://presta.example.com"   # the Webservice answers under /api/
# timezone = "Europe/Paris"            # default: the shop's PS_TIMEZONE (dates have no offset)
# group_prefix = "Journey: "           # groups "Journey: Loyalty", ... (32 characters max)
# stage_groups = { at_risk = "Win-back", loyalty = "VIP" }  # or name groups per stage
# action_group_prefix = "Journey next: "  # groups "Journey next: Cart reminder", ...
# action_groups = { cart_reminder = "Cart reminder" }     # or name groups per action kind
# write_guest_orders = true            # guest checkout rows join their group too
# segment_groups = false               # true: each segment is a group too ("Journey: " + name)
# query_string_auth = false            # true: send the key as ?ws_key= (PHP as CGI)
# Secret: the Webservice key in JOURNEYBRIDGE_MYPRESTA_KEY (no secret needed).
'''
