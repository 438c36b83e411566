"""What apps above the log add to its answers, without the log importing them.

The benchmarks app values the wRVUs an employer's report missed at the user's contract; the reconciliation's
JSON twin shows that figure. benchmarks registers its function in ``AppConfig.ready()``; without the app
installed the figure is simply absent (None).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

ValueOfMissed = Callable[[Any, list[tuple[dt.date, Decimal]]], "dict[str, Any] | None"]
_value_of_missed: ValueOfMissed | None = None


def provide_value_of_missed(fn: ValueOfMissed) -> None:
    global _value_of_missed
    _value_of_missed = fn


def value_of_missed(user, missed: list[tuple[dt.date, Decimal]]) -> dict[str, Any] | None:
    """What the missed wRVUs are worth at the user's contract, or None (no contract, or no app to say)."""
    return _value_of_missed(user, missed) if _value_of_missed is not None else None
