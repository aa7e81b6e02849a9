"""Balances (net migration = arrivals − departures) recomputed from their published components.

A balance is no count of persons and no unknown of the attacker's model: it may be negative,
and alone it hides nothing. It is safe to publish when it is the difference of two published
counts, which the LP already treats as cells: then it tells no more than they do. So the audit
checks, from the publication alone, that every published balance (a count, or a ratio's
numerator) equals its published ``plus`` minus its published ``minus`` count of the same
area, level and date, that a ratio of a balance has the published denominator and value
``scale · balance / denominator``; anything else fails the build ("nicht nachrechenbar").
The components are named by the catalogue (``measures: …: balance: [plus, minus]``).
"""

from __future__ import annotations

import math

import pandas as pd

from etl.indicators.spec import Catalogue

KEY = ["ref_date", "area_id", "level"]


def balance_rows(values: pd.DataFrame, catalogue: Catalogue) -> pd.Series:
    """Rows of the published linear values whose numerator is a balance."""
    return values.num_term.isin(set(catalogue.balances()))


def check_balances(values: pd.DataFrame, catalogue: Catalogue) -> tuple[int, list[str]]:
    """(published balances checked, failures). ``values``: the publication's linear values
    with ``function``, ``num_term``, ``den_term``, ``scale`` (read_publication)."""
    parts = catalogue.balances()
    balance = balance_rows(values, catalogue)
    plain = values[~balance]
    counts = _published(plain[plain.function == "count"], "num_term", "numerator")
    totals = {
        **_published(plain[plain.den_term.notna()], "den_term", "denominator"),
        **_published(plain, "num_term", "numerator"),
    }
    failures, checked = [], 0
    for row in values[balance].itertuples(index=False):
        key = (row.ref_date, row.area_id, row.level)
        where = f"{row.ref_date.date()} {row.indicator_id} {row.area_id} ({row.level})"
        shown = isinstance(row.den_term, str) and not math.isnan(row.denominator)
        if shown and totals.get((*key, row.den_term)) != row.denominator:
            failures.append(f"{where}: Nenner {row.denominator:g} sonst nicht veröffentlicht")
            continue
        if math.isnan(row.numerator):
            continue
        checked += 1
        plus, minus = parts[row.num_term]
        given = counts.get((*key, plus), math.nan), counts.get((*key, minus), math.nan)
        if any(math.isnan(v) for v in given):
            failures.append(f"{where}: Saldo {row.numerator:g} ohne veröffentlichte Komponenten")
        elif abs(row.numerator - (given[0] - given[1])) > 1e-6:
            failures.append(
                f"{where}: Saldo {row.numerator:g} ≠ {plus} {given[0]:g} − {minus} {given[1]:g}"
            )
        elif isinstance(row.den_term, str) and not _rate_holds(row):
            failures.append(f"{where}: Quote {row.value:g} ≠ Saldo / Nenner")
    return checked, failures


def _published(values: pd.DataFrame, term: str, column: str) -> dict[tuple, float]:
    """{(ref_date, area_id, level, term): published count} (NaN where withheld)."""
    keys = zip(*(values[c] for c in [*KEY, term]), strict=True)
    return dict(zip(keys, values[column].astype(float), strict=True))


def _rate_holds(row: object) -> bool:
    """The published value is scale · balance / denominator (or withheld)."""
    value, scale = row.value, row.scale  # type: ignore[attr-defined]
    if math.isnan(value):
        return True
    expected = scale * row.numerator / row.denominator  # type: ignore[attr-defined]
    return abs(value - expected) <= 1e-9 * max(1.0, abs(value))
