"""Value symbols of German official statistics (GENESIS "Zeichenerklärung").

A cell holding one of these symbols has no number; the symbol is kept as a flag and never
turned into 0. The code list is ``value_flags.csv`` (symbol, flag id, German and English
label); the flag ids also appear in ``indicator_values.flag``.
"""

from __future__ import annotations

import csv
from pathlib import Path

with (Path(__file__).with_suffix(".csv")).open(encoding="utf-8", newline="") as _handle:
    _ROWS = list(csv.DictReader(_handle, delimiter=";"))

FLAGS: dict[str, str] = {row["symbol"]: row["flag"] for row in _ROWS}
LABELS: dict[str, dict[str, str]] = {
    row["flag"]: {"de": row["label_de"], "en": row["label_en"]} for row in _ROWS}
