"""Fixtures for the dashboard tests: a tiny synthetic city warehouse.

"Teststadt" (city ``00``) has two boroughs (``1`` Nord, ``2`` Süd) and four districts
(``11``, ``12`` in Nord; ``21``, ``22`` in Süd) laid out as a 2 × 2 grid of squares, and
three reference dates. The warehouse is built by executing ``etl/schema.sql`` verbatim
and inserting hand-made rows, so it conforms exactly to the ETL contract. Shares are
stored as percent values 0–100, like the ETL does.

Layout on disk (a real symlink, as published by the build)::

    <tmp>/curated/current -> snapshots/s1
    <tmp>/curated/snapshots/s1/<etl.warehouse.PUBLICATION>

Browser tests use the ``curated_dir`` fixture only, so another conftest may override it
with a real built city.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from etl.warehouse import PUBLICATION

SCHEMA = Path(__file__).resolve().parents[2] / "etl" / "schema.sql"

DATES = ["2022-12-31", "2023-12-31", "2024-12-31"]
CITY = "00"
BOROUGHS = {"1": "Nord", "2": "Süd"}
# district id -> (name, borough, column, row) in the 2 x 2 grid
DISTRICTS = {
    "11": ("Altstadt", "1", 0, 1),
    "12": ("Nordstadt", "1", 1, 1),
    "21": ("Südviertel", "2", 0, 0),
    "22": ("Weststadt", "2", 1, 0),
}
# per district and date: residents, foreigners, migration background
COUNTS = {
    "11": {"pop": [1000, 1010, 1020], "for": [100, 110, 120], "mig": [250, 260, 280]},
    "12": {"pop": [2000, 2020, 2040], "for": [300, 310, 330], "mig": [600, 620, 650]},
    "21": {"pop": [1500, 1490, 1480], "for": [450, 460, 470], "mig": [700, 710, 720]},
    "22": {"pop": [500, 505, 510], "for": [50, 52, 30], "mig": [100, 104, 90]},
}
# The foreigner share of district 22 on the last date is suppressed (disclosure control);
# numerator/denominator stay in the warehouse and must never be shown.
SUPPRESSED = ("foreigner_share", "2024-12-31", "22")
# segregation index (migration background) per level and date: (value, n_units)
SEGREGATION = {
    "borough": [(0.10, 2), (0.11, 2), (0.12, 2)],
    "district": [(0.20, 4), (0.21, 4), (0.23, 4)],
}
SOURCE = "Einwohnermelderegister Teststadt"

INDICATORS = [
    # id, function, topic, title_de, unit, unit_de, decimals, num_de, den_de, sort
    (
        "population",
        "count",
        "bevoelkerung",
        "Einwohnerinnen und Einwohner",
        "persons",
        "Personen",
        0,
        None,
        None,
        1,
    ),
    (
        "foreigner_share",
        "share",
        "bevoelkerung",
        "Ausländeranteil",
        "percent",
        "%",
        1,
        "Ausländerinnen und Ausländer",
        "Einwohner insgesamt",
        2,
    ),
    (
        "migration_background_share",
        "share",
        "bevoelkerung",
        "Anteil mit Migrationshintergrund",
        "percent",
        "%",
        1,
        "Personen mit Migrationshintergrund",
        "Einwohner insgesamt",
        3,
    ),
    (
        "segregation_is_migration_background",
        "segregation_is",
        "segregation",
        "Segregationsindex Migrationshintergrund",
        "index",
        "Index (0–1)",
        2,
        None,
        None,
        4,
    ),
    # segregation page: IS of foreigners (from COUNTS; every district has 300+ residents)
    # and their location quotients
    (
        "segregation_is_foreigners_min300",
        "segregation_is",
        "segregation",
        "Segregationsindex Ausländer (Gebiete ab 300 Einw.)",
        "index",
        "Index (0–1)",
        3,
        None,
        None,
        5,
    ),
    (
        "location_quotient_foreigners",
        "location_quotient",
        "segregation",
        "Lokalisationsquotient Ausländer",
        "quotient",
        "Quotient (1 = Stadtdurchschnitt)",
        2,
        None,
        None,
        6,
    ),
]


def square(col: int, row: int, size: float = 0.01) -> dict:
    """A clockwise square polygon (plotly geo needs clockwise exterior rings)."""
    x0, y0 = 7.58 + col * size, 50.34 + row * size
    x1, y1 = x0 + size, y0 + size
    ring = [[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def rectangle(cols: int, rows: int, col: int = 0, row: int = 0, size: float = 0.01) -> dict:
    """A clockwise rectangle covering ``cols`` × ``rows`` grid cells from (col, row)."""
    x0, y0 = 7.58 + col * size, 50.34 + row * size
    x1, y1 = x0 + cols * size, y0 + rows * size
    ring = [[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _area_rows() -> list[tuple]:
    rows = [(CITY, "city", "Teststadt", None)]
    rows += [(b, "borough", name, CITY) for b, name in BOROUGHS.items()]
    rows += [(d, "district", name, b) for d, (name, b, _, _) in DISTRICTS.items()]
    return [(*r, "2010", "2010-01-01", None) for r in rows]


def _geometry_rows() -> list[tuple]:
    rows = [(CITY, "city", rectangle(2, 2))]
    rows += [("1", "borough", rectangle(2, 1, row=1)), ("2", "borough", rectangle(2, 1))]
    rows += [(d, "district", square(c, r)) for d, (_, _, c, r) in DISTRICTS.items()]
    return [(a, lvl, "2010", json.dumps(g)) for a, lvl, g in rows]


def _closure_rows() -> list[tuple]:
    rows = []
    for d, (_, b, _, _) in DISTRICTS.items():
        rows += [(d, d, "district"), (d, b, "borough"), (d, CITY, "city")]
    return [(*r, "2010") for r in rows]


def _members(area_id: str) -> list[str]:
    if area_id == CITY:
        return list(DISTRICTS)
    if area_id in BOROUGHS:
        return [d for d, (_, b, _, _) in DISTRICTS.items() if b == area_id]
    return [area_id]


def _value_rows() -> list[tuple]:
    areas = [(CITY, "city")] + [(b, "borough") for b in BOROUGHS]
    areas += [(d, "district") for d in DISTRICTS]
    rows = []
    for i, date in enumerate(DATES):
        for area_id, level in areas:
            members = _members(area_id)
            pop = sum(COUNTS[m]["pop"][i] for m in members)
            for indicator, key in (
                ("foreigner_share", "for"),
                ("migration_background_share", "mig"),
            ):
                num = sum(COUNTS[m][key][i] for m in members)
                value, flag = 100.0 * num / pop, None
                if (indicator, date, area_id) == SUPPRESSED:
                    value, flag = None, "suppressed"
                rows.append((indicator, date, area_id, level, value, num, pop, flag, None))
            rows.append(
                ("population", date, area_id, level, float(pop), float(pop), None, None, None)
            )
        for level, series in SEGREGATION.items():
            value, n_units = series[i]
            rows.append(
                (
                    "segregation_is_migration_background",
                    date,
                    CITY,
                    level,
                    value,
                    None,
                    None,
                    None,
                    n_units,
                )
            )
    return [(*r[:8], "register_migrapro", r[8]) for r in rows]


# Random-allocation draws of segregation_is_foreigners_min300 per level: one list of draws per date.
# district: expected 0,031 on 31.12.2024 (95 % range 0,029–0,033); changes 2022 -> 2024 per
# draw +0,001 −0,001 +0,002 −0,002 -> 95 % quantile of |change| 0,002, so the observed
# +0,004 (0,244 -> 0,248) exceeds it. borough: changes +0,05 −0,01 −0,01 −0,01 -> quantile
# 0,01 + 0,85·0,04 = 0,044, so the observed −0,027 (0,190 -> 0,163) lies within it.
RANDOM_DRAWS = {
    "district": [
        [0.028, 0.031, 0.030, 0.035],
        [0.030, 0.031, 0.032, 0.031],
        [0.029, 0.030, 0.032, 0.033],
    ],
    "borough": [[0.010, 0.020, 0.030, 0.040], [0.02, 0.02, 0.03, 0.03], [0.06, 0.01, 0.02, 0.03]],
}
# The location quotient of district 22 on the last date is suppressed like its share.
SUPPRESSED_LQ = ("location_quotient_foreigners", "2024-12-31", "22")
AREA_LEVELS = {CITY: "city", **dict.fromkeys(BOROUGHS, "borough")}
AREA_LEVELS.update(dict.fromkeys(DISTRICTS, "district"))


def _foreigner_segregation_rows() -> list[tuple]:
    """IS of foreigners per level (numerator X, denominator T, n_units) and the location
    quotients (x_i/t_i)/(X/T) of every area, computed from COUNTS like the ETL does."""
    rows = []
    for i, date in enumerate(DATES):
        big_x = sum(COUNTS[d]["for"][i] for d in DISTRICTS)
        big_t = sum(COUNTS[d]["pop"][i] for d in DISTRICTS)
        units = {
            level: [a for a, lvl in AREA_LEVELS.items() if lvl == level]
            for level in ("borough", "district")
        }
        for level, members in units.items():
            counts = [(_sum(a, "for", i), _sum(a, "pop", i)) for a in members]
            index = 0.5 * sum(abs(x / big_x - (t - x) / (big_t - big_x)) for x, t in counts)
            key = ("segregation_is_foreigners_min300", date, CITY, level)
            rows.append((*key, index, big_x, big_t, None, len(members)))
        for area_id, level in AREA_LEVELS.items():
            x, t = _sum(area_id, "for", i), _sum(area_id, "pop", i)
            value, num, flag = (x / t) / (big_x / big_t), x, None
            if ("location_quotient_foreigners", date, area_id) == SUPPRESSED_LQ:
                value, num, flag = None, None, "suppressed"
            rows.append(
                ("location_quotient_foreigners", date, area_id, level, value, num, t, flag, None)
            )
    return [(*r[:8], "register_migrapro", r[8]) for r in rows]


def _sum(area_id: str, key: str, i: int) -> int:
    return sum(COUNTS[m][key][i] for m in _members(area_id))


def _random_allocation_rows() -> list[tuple]:
    return [
        ("segregation_is_foreigners_min300", date, CITY, level, draw, value)
        for level, per_date in RANDOM_DRAWS.items()
        for date, draws in zip(DATES, per_date, strict=True)
        for draw, value in enumerate(draws, start=1)
    ]


def _indicator_rows() -> list[tuple]:
    rows = []
    for ind, fn, topic, title, unit, unit_de, dec, num, den, sort in INDICATORS:
        rows.append(
            (
                ind,
                fn,
                topic,
                title,
                f"{title} (en)",
                f"Definition {title}.",
                f"Definition {title} (en).",
                num,
                den,
                num and f"{num} (en)",
                den and f"{den} (en)",
                unit,
                unit_de,
                unit,
                dec,
                SOURCE,
                "register_migrapro",
                sort,
            )
        )
    return rows


def build_warehouse(path: Path) -> None:
    """Create the synthetic warehouse at ``path`` from ``etl/schema.sql``."""
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("instance", "teststadt"),
                ("title", "Teststadt"),
                ("attribution", "Stadt Teststadt, Statistikstelle"),
                ("built_at", "2025-03-01T12:00:00"),
            ],
        )
        con.executemany(
            "INSERT INTO levels VALUES (?, ?, ?, ?)",
            [
                ("city", 0, "Stadt", "City"),
                ("borough", 1, "Stadtbezirk", "Borough"),
                ("district", 2, "Stadtteil", "District"),
            ],
        )
        con.executemany("INSERT INTO areas VALUES (?, ?, ?, ?, ?, ?, ?)", _area_rows())
        con.executemany("INSERT INTO area_closure VALUES (?, ?, ?, ?)", _closure_rows())
        con.executemany("INSERT INTO area_geometry VALUES (?, ?, ?, ?)", _geometry_rows())
        columns = [
            "ref_date",
            "area_id",
            "sex",
            "age_group",
            "citizenship",
            "migration_status",
            "migration_background",
            "origin_region",
            "definition_id",
            "count",
        ]
        person = (
            DATES[-1],
            "w",
            "25-44",
            "deutsch",
            "keiner",
            "ohne",
            "keine",
            "register_migrapro",
        )
        rows = [(person[0], d, *person[1:], 10) for d in DISTRICTS]
        schema = {r[0] for r in con.execute("DESCRIBE population").fetchall()}
        if "key_sum" in schema:  # cell-key method: sum of the persons' record keys
            columns, rows = [*columns, "key_sum"], [(*row, 0) for row in rows]
        con.executemany(
            f"INSERT INTO population ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            rows,
        )
        con.executemany(
            "INSERT INTO indicators VALUES (" + ", ".join(["?"] * 18) + ")", _indicator_rows()
        )
        con.executemany(
            "INSERT INTO indicator_values VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _value_rows()
        )
        con.executemany(
            "INSERT INTO indicator_values VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _foreigner_segregation_rows(),
        )
        con.executemany(
            "INSERT INTO random_allocation VALUES (?, ?, ?, ?, ?, ?)", _random_allocation_rows()
        )
        con.execute(
            "INSERT INTO loads VALUES (1, 'melderegister', 'melderegister.csv', 'abc', 5000, "
            "DATE '2024-12-31', TIMESTAMP '2025-03-01 12:00:00', 'ok')"
        )
    finally:
        con.close()


@pytest.fixture(scope="session")
def synthetic_curated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<tmp>/curated`` with ``current -> snapshots/s1`` holding ``etl.warehouse.PUBLICATION``."""
    curated = tmp_path_factory.mktemp("imon") / "curated"
    snapshot = curated / "snapshots" / "s1"
    snapshot.mkdir(parents=True)
    build_warehouse(snapshot / PUBLICATION)
    (curated / "current").symlink_to(Path("snapshots") / "s1", target_is_directory=True)
    return curated


@pytest.fixture(scope="session", params=["synthetic", "demo"])
def curated_dir(request: pytest.FixtureRequest, synthetic_curated_dir: Path) -> Path:
    """The curated directories the browser tests serve: the synthetic warehouse (edge
    cases: suppressed values, several vintages of labels) and the real demo city built by
    ``imon build`` (fixture ``demo_curated_dir`` in tests/conftest.py).

    ``IMON_TEST_CURATED_DIR`` replaces the demo city by another built city.
    """
    if request.param == "synthetic":
        return synthetic_curated_dir
    built = os.environ.get("IMON_TEST_CURATED_DIR")
    return Path(built) if built else request.getfixturevalue("demo_curated_dir")


@pytest.fixture(scope="session")
def warehouse_builder():
    """The function that writes the synthetic warehouse (for tests that need a second one)."""
    return build_warehouse


# --- the real instances, built from their profiles --------------------------------------


@pytest.fixture(scope="session")
def berlin_curated_dir(berlin_build) -> Path:
    """Berlin LOR (profiles/berlin.yaml): 5 levels, half-yearly 2015–2024, planning areas
    mapped until 2020 only. The session's build from tests/conftest.py."""
    return berlin_build.snapshot.parents[1]


@pytest.fixture(scope="session")
def rlp_curated_dir(rlp_build) -> Path:
    """Rhineland-Palatinate counties (profiles/rlp-kreise.yaml): GENESIS tables with
    different reference dates per indicator, observed rates and source flags."""
    return rlp_build.snapshot.parents[1]


@pytest.fixture
def fresh_logins(monkeypatch):
    """Login tests: no delay after a failed login, the failure count starts anew, and the
    session key is a random one (no IMON_SECRET_KEY from the environment)."""
    from dashboards import access

    monkeypatch.setattr(access, "FAILURE_DELAY_S", 0.0)
    monkeypatch.setattr(access, "_failures", access._Failures())
    monkeypatch.delenv(access.SECRET_ENV, raising=False)
