"""Value symbols of German official statistics (GENESIS "Zeichenerklärung").

A cell holding one of these symbols has no number; the symbol is kept as a flag and never
turned into 0. The code list is ``value_flags.csv`` (symbol, flag id, German and English
label), read on first use; the flag ids also appear in ``indicator_values.flag``.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

CODE_LIST = Path(__file__).with_suffix(".csv")


@cache
def code_list() -> dict[str, dict[str, str]]:
    """``{flag: {symbol, flag, label_de, label_en}}`` in the order of the code list."""
    with CODE_LIST.open(encoding="utf-8", newline="") as handle:
        return {row["flag"]: row for row in csv.DictReader(handle, delimiter=";")}


@cache
def symbols() -> dict[str, str]:
    """``{symbol: flag}``, e.g. ``{".": "secret", "-": "nil", ...}``."""
    return {row["symbol"]: flag for flag, row in code_list().items()}
