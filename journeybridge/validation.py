"""Turning raw dictionaries into journey models, with errors that name the field and record."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from journeybridge.errors import InvalidRecord

__all__ = ["build"]

M = TypeVar("M", bound=BaseModel)


def _describe(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error.get("loc", ())) or "(record)"
    message = str(error.get("msg", "invalid"))
    value = error.get("input")
    shown = ""
    if isinstance(value, str) and "@" in value:
        shown = " (got an e-mail address)"  # personal data stays out of error messages
    elif isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
        shown = f" (got {text[:40]}{'...' if len(text) > 40 else ''})"
    return f"field '{field}': {message}{shown}"


def build(model: type[M], data: dict[str, Any], record: str) -> M:
    """Validate ``data`` as ``model``; on failure raise :class:`InvalidRecord` naming ``record``
    (for example ``"woocommerce order 1234"``) and every failing field with its value."""
    try:
        return model.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        problems = [_describe(dict(e)) for e in exc.errors(include_url=False)]
        raise InvalidRecord(record, problems) from None
