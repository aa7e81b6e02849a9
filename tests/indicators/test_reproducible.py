"""Reproducible builds (#20 item 7): the same raw files give byte-identical ``imon values``
output. The index sums are DOUBLE sums in an order DuckDB's parallel aggregates do not
fix, so every index value is rounded to 12 significant digits
(etl/indicators/segregation.py: SIGNIFICANT_DIGITS)."""

from __future__ import annotations

import duckdb
import pytest

from etl.indicators.segregation import SIGNIFICANT_DIGITS, rounded
from imon.cli import main
from tests.conftest import TINY_PROFILE, tiny_profile

D1, D2, D3 = "0.1::DOUBLE", "0.2::DOUBLE", "0.3::DOUBLE"


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        # 0.1 + 0.2 = 0.30000000000000004, one bit away from 0.3
        ("0.1::DOUBLE + 0.2::DOUBLE", "0.3::DOUBLE", 0.3),
        # the same three terms summed in two orders differ in the last bit
        (f"({D1} + {D2}) + {D3}", f"{D1} + ({D2} + {D3})", 0.6),
        # 580 / 1971 = 0.2942668696093353…: 12 significant digits
        ("580 / 1971", "580 / 1971 + 1e-16", 0.294266869609),
        ("2e-7 / 3", "2e-7 / 3 * (1 + 1e-15)", 6.66666666667e-08),
        ("0", "0", 0.0),
    ],
)
def test_last_bit_differences_round_alike(one, other, expected):
    with duckdb.connect() as con:
        assert con.execute(f"SELECT {one} <> {other}").fetchall() == [(expected != 0,)]
        got = con.execute(f"SELECT {rounded(one)}, {rounded(other)}").fetchall()[0]
    assert SIGNIFICANT_DIGITS == 12
    assert got == (expected, expected)


def test_null_and_infinite_pass_unchanged():
    with duckdb.connect() as con:
        got = con.execute(
            f"SELECT {rounded('NULL')}, {rounded(chr(39) + 'inf' + chr(39))}"
        ).fetchall()
    assert got == [(None, float("inf"))]


def _values(profile_yaml, capsys) -> bytes:
    """``imon values`` of every indicator of the published snapshot, concatenated."""
    out = []
    for indicator in INDICATORS:
        capsys.readouterr()
        assert main(["values", "--profile", str(profile_yaml), "--indicator", indicator]) == 0
        out.append(capsys.readouterr().out.encode())
    return b"".join(out)


INDICATORS = [
    "population",
    "foreigner_share",
    "migration_background_share",
    "segregation_is_foreigners",
    "segregation_is_migration_background",
]


def test_two_builds_give_identical_values(tmp_path, capsys):
    outputs = []
    for run in ("a", "b"):
        curated = tmp_path / run / "curated"
        profile = tiny_profile(curated)
        text = TINY_PROFILE.read_text(encoding="utf-8")
        for key, path in (
            ("raw_dir: raw", profile.raw_dir),
            ("curated_dir: ../../../data/curated/tiny-unused", curated),
            ("indicators: ../../../indicators.yaml", profile.indicators),
        ):
            text = text.replace(key, f"{key.split(':')[0]}: {path}")
        path = tmp_path / run / "profile.yaml"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        assert main(["build", "--profile", str(path)]) == 0
        outputs.append(_values(path, capsys))
    assert outputs[0].count(b"\n") > 20
    assert b"segregation_is_foreigners,2024-12-31" in outputs[0]
    assert outputs[0] == outputs[1]


def test_stored_indices_carry_12_significant_digits(tiny_con):
    """Every index value and random-allocation draw in the warehouse is rounded (without
    the rounding, two demo builds differed in 210 of 14,760 internal values)."""
    values = [
        v
        for (v,) in tiny_con.execute(
            "SELECT value FROM indicator_values AS v INNER JOIN indicators USING "
            "(indicator_id) WHERE function NOT IN ('count', 'share', 'ratio', 'observed', "
            "'location_quotient') AND value IS NOT NULL "
            "UNION ALL SELECT value FROM random_allocation WHERE value IS NOT NULL"
        ).fetchall()
    ]
    assert len(values) > 100
    assert [v for v in values if float(f"{v:.12g}") != v] == []
    # e.g. 29/156 = 0.185897435897435…: stored as 0.185897435897
    assert any(v == 0.185897435897 for v in values)
