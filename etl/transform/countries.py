"""Code list: citizenship / country-of-birth codes -> world regions.

``countries.csv`` (next to this module) maps every ISO 3166-1 alpha-2 code plus
``XK`` (Kosovo), the historical codes ``SU``, ``YU``, ``CS``, ``DD`` and ``XX``
(unbekannt) to a region following the Destatis continent grouping.

``region`` is the region outside EU membership; rows with ``eu_from`` (and
possibly ``eu_to``, inclusive) are classified ``eu`` for reference dates inside
that interval.  ``DE`` and ``DD`` have region ``inland``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

DEFAULT_PATH = Path(__file__).with_name("countries.csv")

COLUMNS = ("code", "name_de", "name_en", "region", "eu_from", "eu_to")

#: Values allowed in the ``region`` column (``eu`` is only ever derived).
REGIONS = frozenset(
    {"europa_sonstige", "asien", "afrika", "amerika", "ozeanien", "unbekannt", "inland"}
)

#: Everything :func:`region_at` can return.
RESULT_REGIONS = REGIONS | {"eu"}

DateLike = str | dt.date | dt.datetime | pd.Timestamp


def load_countries(path: str | Path | None = None) -> pd.DataFrame:
    """Read the code list.

    Returns one row per code with string columns ``code``, ``name_de``,
    ``name_en``, ``region`` and datetime columns ``eu_from``/``eu_to``
    (``NaT`` when empty).  The index is a plain RangeIndex.
    """
    df = pd.read_csv(
        path or DEFAULT_PATH,
        sep=";",
        dtype=str,
        encoding="utf-8",
        # "NA" is Namibia, not a missing value.
        keep_default_na=False,
        na_values=[],
    )
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"countries file lacks columns: {missing}")
    df = df[list(COLUMNS)].copy()
    for col in ("eu_from", "eu_to"):
        df[col] = pd.to_datetime(df[col].replace("", None), format="%Y-%m-%d")
    return df


def _as_timestamp(date: DateLike) -> pd.Timestamp:
    return pd.Timestamp(date).normalize()


def _eu_mask(df: pd.DataFrame, date: DateLike) -> pd.Series:
    ts = _as_timestamp(date)
    return (df["eu_from"].notna() & (df["eu_from"] <= ts)) & (
        df["eu_to"].isna() | (ts <= df["eu_to"])
    )


def region_at(df: pd.DataFrame, code: str, date: DateLike) -> str:
    """Region of ``code`` at reference ``date``.

    Returns ``"eu"`` when ``date`` lies in ``[eu_from, eu_to]`` (both inclusive,
    open end if ``eu_to`` is empty), otherwise the row's ``region``.
    Raises ``KeyError`` for codes not in the list.
    """
    key = code.strip().upper()
    rows = df[df["code"] == key]
    if rows.empty:
        raise KeyError(code)
    if bool(_eu_mask(rows, date).iloc[0]):
        return "eu"
    return str(rows["region"].iloc[0])


def eu_codes_at(df: pd.DataFrame, date: DateLike) -> list[str]:
    """Sorted codes classified ``eu`` at ``date`` (includes EU overseas departments)."""
    return sorted(df.loc[_eu_mask(df, date), "code"])
