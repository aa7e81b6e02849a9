"""``imon values`` prints machine-readable CSV from the published warehouse."""

from __future__ import annotations

import csv
import io

import pytest

from dashboards.export.values import HEADER, write_values
from etl.build import build
from etl.errors import ImonError
from tests.conftest import tiny_profile


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    curated = tmp_path_factory.mktemp("cli") / "curated"
    build(tiny_profile(curated))
    return curated


def rows(curated, **query):
    out = io.StringIO()
    write_values(curated, out, **query)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_segregation_one_row_per_reference_date(curated):
    table = rows(curated, indicator="segregation_is_migration_background", level="district")
    assert table[0] == HEADER
    assert [r[1] for r in table[1:]] == ["2012-12-31", "2024-12-31"]
    assert [r[3] for r in table[1:]] == ["0", "0"]  # the city
    # 29/156 = 0.18590 (tests/etl/test_known_answers.py), published rounded to 3 decimals
    # under cell suppression (etl/publication.py: INDEX_DECIMALS)
    assert float(table[2][5]) == round(29 / 156, 3) == 0.186
    assert [r[9] for r in table[1:]] == ["3", "3"]  # n_units: three districts


def test_filters_by_date_and_area(curated):
    from datetime import date

    table = rows(
        curated, indicator="migration_background_share", ref_date=date(2024, 12, 31), area="11"
    )
    assert table[1:] == [
        [
            "migration_background_share",
            "2024-12-31",
            "district",
            "11",
            "Altstadt",
            "37.5",
            "3",
            "8",
            "",
            "",
            "",
            "",
            "",
        ]
    ]


@pytest.mark.parametrize(
    "query, message",
    [
        ({"indicator": "nope"}, "unknown indicator 'nope'"),
        ({"indicator": "population", "level": "street"}, "unknown level 'street'"),
        ({"indicator": "population", "area": "77"}, "unknown area '77'"),
    ],
)
def test_unknown_arguments_are_clear_errors(curated, query, message):
    with pytest.raises(ImonError, match=message):
        rows(curated, **query)
