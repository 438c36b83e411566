"""Reading the JSON documents people write (credit policies here, contracts in ``rvuedge.benchmarks.terms``) with
pydantic models, every error told in the project's words: one message, naming the field at fault by its path
(``tiers[1].rate``, ``rvu_release.releases[0].weight``). Pure Python: pydantic and the standard library only.

* :class:`Document` is the base model: unknown keys are refused (``extra="forbid"``) and pydantic's structural
  errors (an unknown key, a missing key, a value that is not an object) are reworded by the model's class
  attributes (:attr:`Document.missing_key`, :attr:`Document.shape`, ...).
* Field validators raise ``ValueError(message)``: the message is shown as written. A check across fields or items
  raises :func:`error_at` to name the path below the value it checks (``releases[1].release``).
* :func:`read_json` parses text; :func:`validate` runs a model and raises the caller's own error type with
  ``(field, message)`` (``PolicyError``, ``ContractError``), an unknown key first, else the first error in the
  model's field order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, NoReturn, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, ValidationError, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

__all__ = ["Document", "Loc", "as_json", "error_at", "path_of", "read_json", "true_or_false", "validate"]

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
#: error types of the messages written here: an unknown key (reported before any other error), anything else
UNKNOWN_KEY = "unknown_key"
OURS = "rvuedge"
_NOT_AN_OBJECT = frozenset({"model_type", "model_attributes_type", "dict_type"})


def error_at(loc: Loc, message: str, value: Any = None, kind: str = OURS) -> ValidationError:
    """An error in our words at ``loc``, a path below the value being validated (``()``: the value itself).

    A part of ``loc`` may itself be a dotted path (``"rvu_release.releases[1].release"``)."""
    detail = InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)
    return ValidationError.from_exception_data("rvuedge", [detail])


def path_of(loc: tuple[str | int, ...]) -> str:
    """('tiers', 1, 'rate') -> 'tiers[1].rate'; () -> '(root)'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out if loc else "(root)"


def _message(error: ErrorDetails) -> str:
    """Our words for one error: a validator's ValueError as written, pydantic's own message otherwise."""
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return error["msg"]


class Document(BaseModel):
    """A JSON object of a known shape. Subclasses set the words of the structural errors:"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: a key this model does not know
    unknown_key: ClassVar[str] = "unknown key"
    #: a required key left out
    missing_key: ClassVar[str] = "required"
    #: the value is not an object (None: "expected an object, got list")
    not_an_object: ClassVar[str | None] = None
    #: for small items (``{"release": ..., "weight": ...}``): any of the three above is reported once, for the item
    #: as a whole, in these words
    shape: ClassVar[str | None] = None

    @classmethod
    def unknown_key_message(cls) -> str:
        return cls.unknown_key

    @model_validator(mode="wrap")
    @classmethod
    def _in_our_words(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            cls._reword(exc, data)

    @classmethod
    def _reword(cls, exc: ValidationError, data: Any) -> NoReturn:
        """Raise ``exc`` again with every error in our words (the levels above see only ours)."""
        details: list[InitErrorDetails] = []
        for error in exc.errors():
            loc, kind = error["loc"], error["type"]
            own = (kind in ("extra_forbidden", "missing") and len(loc) == 1) or (kind in _NOT_AN_OBJECT and not loc)
            if own and cls.shape:
                raise error_at((), cls.shape, data) from None
            if own and kind == "extra_forbidden":
                detail = (UNKNOWN_KEY, cls.unknown_key_message())
            elif own and kind == "missing":
                detail = (OURS, cls.missing_key)
            elif own:
                detail = (OURS, cls.not_an_object or f"expected an object, got {type(data).__name__}")
            else:
                detail = (error["type"] if error["type"] == UNKNOWN_KEY else OURS, _message(error))
            details.append(InitErrorDetails(type=PydanticCustomError(*detail), loc=loc, input=error["input"]))
        raise ValidationError.from_exception_data(cls.__name__, details) from None


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(path, message) of the error to show: an unknown key first (a typo is the likeliest fault; the first in
    alphabetical order), else the first error pydantic met, in the model's field order."""
    errors = exc.errors()
    unknown = sorted((path_of(e["loc"]), _message(e)) for e in errors if e["type"] == UNKNOWN_KEY)
    if unknown:
        return unknown[0]
    return path_of(errors[0]["loc"]), _message(errors[0])


def validate(model: type[M], data: Any, error: Callable[[str, str], Exception]) -> M:
    """``model`` validated from ``data``; a fault raises ``error(path, message)``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(*first_error(exc)) from None


def read_json(text: str | bytes, error: Callable[[str, str], Exception]) -> Any:
    """Parse JSON text, numbers with a fraction as ``Decimal``; a fault raises ``error("(json)", message)``."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise error("(json)", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except UnicodeDecodeError as exc:
        raise error("(json)", f"not valid JSON: not UTF-8 text (byte {exc.start + 1})") from None


def as_json(value: Any) -> str:
    """A value as it looks in JSON, for a message (a number read as a Decimal as its digits)."""
    return str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)


def true_or_false(value: Any) -> bool:
    """A JSON boolean, nothing else (1, "yes" and null are refused, in their JSON spelling)."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {as_json(value)}")
    return value
