"""Value flags: their names, explanations and map colours.

Two kinds of flags reach the dashboard in ``indicator_values.flag``:

* flags of the indicator engine (``suppressed``, ``undefined``, ``incomplete``) and the
  dashboard's own ``missing`` (an area without a row): texts in ``strings.yaml``
  (``flag.<id>`` and ``flag.<id>.explain``);
* symbols of official statistics passed on from the statistics offices' tables (``nil``,
  ``secret``, ``not_applicable``, ``unreliable``, ``pending``): labels from the ETL's code
  list ``etl/sources/value_flags.csv`` (:func:`etl.sources.value_flags.code_list`).

Map colours per flag are data in ``flags.yaml``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from dashboards.i18n import UnknownStringError, check_lang, t
from etl.sources.value_flags import code_list

STYLES_FILE = Path(__file__).with_name("flags.yaml")
MISSING = "missing"


def source_flags() -> dict[str, dict[str, str]]:
    """The code list of source symbol flags: ``{flag: {symbol, label_de, label_en}}``."""
    return code_list()


@lru_cache(maxsize=1)
def _styles() -> dict:
    return yaml.safe_load(STYLES_FILE.read_text(encoding="utf-8"))


def is_flag(flag: object) -> bool:
    """True for a flag id (not None, NaN or empty)."""
    return isinstance(flag, str) and flag != ""


def label(flag: str | None, lang: str) -> str:
    """Short text for a flag, e.g. ``"geheim gehalten"``; unknown flags verbatim."""
    if not is_flag(flag):
        return ""
    try:
        return t(f"flag.{flag}", lang)
    except UnknownStringError:
        pass
    source = source_flags().get(flag)
    return source[f"label_{check_lang(lang)}"] if source else str(flag)


def explanation(flag: str, lang: str) -> str:
    """Why a value carries the flag; for source flags the symbol in the source table."""
    try:
        return t(f"flag.{flag}.explain", lang)
    except UnknownStringError:
        pass
    source = source_flags().get(flag)
    return t("flag.source.explain", lang, symbol=source["symbol"]) if source else ""


def color(flag: str | None) -> str:
    """Fill colour of an area without a value on a map, by its flag."""
    colors = _styles()["colors"]
    return colors.get(flag if is_flag(flag) else MISSING, colors["default"])


def order(flag: str) -> tuple[int, str]:
    """Sort key: flags in the order of ``flags.yaml``, unknown ones last."""
    known = list(_styles()["colors"])
    return (known.index(flag) if flag in known else len(known), flag)
