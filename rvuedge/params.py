"""Request parameters read once, at the edge, and bounded: a bad one is a clear 400 naming it, never a 500.

Every number a page or the API takes from a URL (``page``, ``offset``, ``limit``, ``ytd`` …) goes through
:func:`parse_int` / :func:`parse_decimal` (pages and their JSON twins, via :func:`query_int` and
:func:`query_decimal`) or through the bounded pydantic types below (the JSON API), so no value can overflow a
database integer or a ``Decimal`` context further in. API bodies are JSON objects (:class:`BodyIn`) whose free
text is checked with the log's own rules (:func:`rvuedge.text.clean_text`: NUL bytes and lone
surrogates are refused); dates stay within MIN_DATE..MAX_DATE.

:class:`RequestGuardMiddleware` refuses a NUL character in a request's path or query string (PostgreSQL
cannot hold one in any text, so it would otherwise surface as a database error), ignores cookies carrying
one, and answers a :class:`ParamError` raised by any page with its status (400 unless the raiser says
otherwise); the API (:mod:`rvuedge.api`) answers it in its ErrorOut shape.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import AfterValidator, ConfigDict, Field, model_validator

from rvuedge.errors import ErrorOut, ParamError, error_response
from rvuedge.text import TextError, clean_text

__all__ = [
    "MAX_ID",
    "MAX_OFFSET",
    "MAX_PAGE",
    "MAX_DATE",
    "MIN_DATE",
    "Date",
    "BodyIn",
    "ErrorOut",
    "Id",
    "JsonObject",
    "Offset",
    "Page",
    "ParamError",
    "RequestGuardMiddleware",
    "Text",
    "check_json",
    "limit_type",
    "parse_date",
    "parse_decimal",
    "parse_int",
    "query_decimal",
    "query_int",
]

MAX_PAGE = 10_000
MAX_OFFSET = 1_000_000_000
MAX_ID = 2**63 - 1  # the largest database id (a signed 64-bit integer)
#: Dates the API and pages accept: far enough either way for any log, and far from the calendar's ends (a
#: dashboard of year-long buckets must be able to step past the last date).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
_INT = re.compile(r"[+-]?[0-9]{1,19}")
_MAX_NUMBER_CHARS = 40


def _range(lo: int | Decimal, hi: int | Decimal) -> str:
    return f"from {lo:,} to {hi:,}"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:30] + "…")


def parse_int(value: str | None, field: str, *, default: int, lo: int, hi: int, label: str = "") -> int:
    """A whole number from ``lo`` to ``hi`` (``default`` when empty or absent); anything else is a ParamError
    (its message starts with ``label``, default the parameter's name)."""
    text = "" if value is None else str(value).strip()
    if not text:
        return default
    if not _INT.fullmatch(text) or not lo <= int(text) <= hi:
        raise ParamError(field, f"{label or field} must be a whole number {_range(lo, hi)}, not {_shown(text)}")
    return int(text)


def parse_decimal(value: str | None, field: str, *, lo: Decimal | int, hi: Decimal | int,
                  label: str = "") -> Decimal | None:
    """A number from ``lo`` to ``hi`` (commas group digits: ``7,500``); None when empty or absent.

    Text longer than 40 characters, exponents beyond the range (``1e999999``), NaN and infinities are refused
    before any arithmetic could overflow.
    """
    text = "" if value is None else str(value).strip().replace(",", "")
    if not text:
        return None
    problem = f"{label or field} must be a number {_range(lo, hi)}"
    if len(text) > _MAX_NUMBER_CHARS:
        raise ParamError(field, f"{problem} (at most {_MAX_NUMBER_CHARS} characters)")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ParamError(field, f"{problem}, not {_shown(text)}") from None
    if not number.is_finite() or not Decimal(lo) <= number <= Decimal(hi):
        raise ParamError(field, f"{problem}, not {_shown(text)}")
    return number


def parse_date(value: str | None, field: str, *, label: str = "") -> dt.date | None:
    """An ISO date (2025-03-04) from MIN_DATE to MAX_DATE; None when empty or absent."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not MIN_DATE <= day <= MAX_DATE:
        raise ParamError(field, f"{label or field} must be a date (YYYY-MM-DD) from {MIN_DATE} to {MAX_DATE}, "
                                f"not {_shown(text)}")
    return day


def query_int(request, name: str, *, default: int, lo: int, hi: int, label: str = "") -> int:
    return parse_int(request.GET.get(name), name, default=default, lo=lo, hi=hi, label=label)


def query_decimal(request, name: str, *, lo: Decimal | int, hi: Decimal | int, label: str = "") -> Decimal | None:
    return parse_decimal(request.GET.get(name), name, lo=lo, hi=hi, label=label)


# --------------------------------------------------------------------------- pydantic types for the JSON API


def _text(value: str) -> str:
    try:
        clean_text(value, multiline=True)
    except TextError as exc:
        raise ValueError(exc.reason) from None
    return value


def check_json(value: Any, path: str = "") -> Any:
    """Every string (keys too) in a JSON value passes :func:`_text`; a ValueError names where one did not."""
    if isinstance(value, str):
        try:
            _text(value)
        except ValueError as exc:
            raise ValueError(f"{path or 'value'} {exc}") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            check_json(k, f"{path}.{k!r}" if path else f"key {k!r}")
            check_json(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_json(v, f"{path}[{i}]")
    return value


class BodyIn(Schema):
    """A request body: a JSON object with known keys only. (ninja's Schema would read fields off any value, so
    ``[]`` or ``5`` sent as a PATCH body would otherwise validate as "nothing to change"; and an unknown key —
    ``"modifers"`` for ``"modifiers"`` — would be dropped in silence and change a price.)"""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _a_json_object(cls, value: Any) -> Any:
        sent = value._obj if isinstance(value, DjangoGetter) else value  # ninja wraps what was sent
        if not isinstance(sent, dict):
            kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(sent), "a number")
            raise ValueError(f"must be a JSON object, not {kind}")
        accepted = {f.alias or name for name, f in cls.model_fields.items()}
        unknown = sorted(k for k in sent if k not in accepted)
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (accepted: {', '.join(sorted(accepted))})")
        return value


#: A string from a JSON body: NUL bytes and lone surrogates are refused (422 naming the field).
Text = Annotated[str, AfterValidator(_text)]
#: A JSON object whose strings (keys and values, at any depth) are checked like :data:`Text`.
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description=f"rows to skip (0 to {MAX_OFFSET:,})")]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE, description=f"page number (1 to {MAX_PAGE:,})")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _date_in_range(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be a date from {MIN_DATE} to {MAX_DATE}")
    return value


#: An ISO date from MIN_DATE to MAX_DATE.
Date = Annotated[dt.date, AfterValidator(_date_in_range)]


def limit_type(hi: int) -> Any:
    return Annotated[int, Field(ge=1, le=hi, description=f"rows per page (1 to {hi})")]


# --------------------------------------------------------------------------- middleware


class RequestGuardMiddleware:
    """Refuse NUL characters in the path and query string (400), drop cookies holding one, and answer a
    :class:`ParamError` from any view with a 400 naming the parameter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return error_response(request, "path", "the address contains a NUL character (%00)")
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            for key, values in request.GET.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    name = key.replace("\x00", "")[:40] or "query"
                    return error_response(request, name, f"{name} contains a NUL character (%00)")
        cookies = request.COOKIES
        if any("\x00" in k or "\x00" in v for k, v in cookies.items()):
            request.COOKIES = {k: v for k, v in cookies.items() if "\x00" not in k and "\x00" not in v}
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ParamError):
            return error_response(request, exception.field, exception.message, exception.status)
        return None
