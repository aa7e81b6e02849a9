"""Cells safe to open in a spreadsheet: the one place where exported text is neutralised.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel and LibreOffice as a formula (CSV injection: ``=HYPERLINK(…)`` in an area name
from a boundary file would become a live link in every export). As the OWASP "CSV
Injection" cheat sheet recommends, such text gets a leading single quote ``'``, so the
spreadsheet shows it as text. Numbers are never touched (``-3.5`` stays a number); every
CSV and XLSX writer (:mod:`dashboards.export.tables`) passes each typed cell through
:func:`neutralise` before it formats or stores it.
"""

from __future__ import annotations

from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"

Cell = TypeVar("Cell")


def neutralise(value: Cell) -> Cell:
    """``value`` with ``'`` in front if it is text a spreadsheet would take for a formula
    (it begins with one of :data:`FORMULA_STARTS`); anything else (numbers, dates, None,
    harmless text) unchanged.

    >>> neutralise("=1+1"), neutralise("-Nord"), neutralise(-3.5), neutralise("Nord")
    ("'=1+1", "'-Nord", -3.5, 'Nord')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return ESCAPE + value
    return value
