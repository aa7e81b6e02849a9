"""German number, date and change formatting for everything the dashboard shows as text.

Conventions (DIN 5008 / Duden): thousands separator ``.``, decimal separator ``,``,
a space before ``%`` (``30,0 %``), dates ``31.12.2024``, a typographic minus ``−``.

Shares are stored in the warehouse as percent values **0–100** (``30.0`` means 30 %),
so ``format_value(30.0, "percent", 1)`` gives ``"30,0 %"``; nothing here multiplies by 100.
Plotly figures use ``layout.separators = ",."`` for the same convention on axes.
"""

from __future__ import annotations

import math
from datetime import date, datetime

MISSING = "–"
MINUS = "−"
SEPARATORS = ",."  # plotly: decimal separator, then thousands separator


def is_missing(value: float | None) -> bool:
    """True for None and NaN (how NULLs arrive from DuckDB via pandas)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_number(value: float | None, decimals: int = 0) -> str:
    """``1234.5`` → ``"1.234,5"`` (rounded half away from zero is not promised: Python rounding)."""
    if is_missing(value):
        return MISSING
    text = f"{abs(float(value)):,.{decimals}f}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    negative = float(value) < 0 and any(ch not in "0,." for ch in text)
    return f"{MINUS}{text}" if negative else text


def format_value(value: float | None, unit: str, decimals: int) -> str:
    """A value with its unit where the unit is a symbol: ``"30,0 %"``; else the bare number."""
    text = format_number(value, decimals)
    if unit == "percent" and text != MISSING:
        return f"{text} %"
    return text


def format_count(value: float | None) -> str:
    """A count of persons: ``12345`` → ``"12.345"``."""
    return format_number(value, 0)


def format_signed(value: float | None, decimals: int) -> str:
    """A change with explicit sign: ``"+1,2"``, ``"−0,3"``, ``"±0,0"``."""
    if is_missing(value):
        return MISSING
    text = format_number(abs(value), decimals)
    if text.strip("0,.") == "":
        return f"±{text}"
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def change_kind(function: str, unit: str) -> str:
    """How a change between two dates is expressed.

    ``relative`` (in %) for counts of persons, ``points`` (percentage points) for percent
    values (shares and observed rates), ``absolute`` (in the unit) for indices, ratios and
    balances such as net migration (``moves``: can be negative or zero, so a relative
    change says nothing).
    """
    if function == "count" and unit != "moves":
        return "relative"
    if unit == "percent":
        return "points"
    return "absolute"


def change(current: float | None, previous: float | None, kind: str) -> float | None:
    """The change from ``previous`` to ``current`` in the sense of :func:`change_kind`."""
    if is_missing(current) or is_missing(previous):
        return None
    if kind == "relative":
        return None if previous == 0 else 100.0 * (current - previous) / previous
    return current - previous


def format_date(value: str | date | datetime | None) -> str:
    """``"2024-12-31"`` (ISO) or a date → ``"31.12.2024"``."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d.%m.%Y")
