"""``imon export``: a folder of print-ready charts and tables from a built warehouse."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml

from dashboards.export import render as export
from dashboards.export.report import ExportRequest, parse_formats, run_export
from dashboards.export.values import write_values
from etl.build import build
from etl.errors import ImonError
from imon.cli import main
from tests.conftest import TINY_PROFILE, tiny_profile

SHARE = "migration_background_share"
SEGREGATION = "segregation_is_migration_background"


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """The tiny city (``imon build`` of tests/fixtures/tiny), published in a tmp folder."""
    curated = tmp_path_factory.mktemp("export") / "curated"
    build(tiny_profile(curated))
    yield curated
    export.close_renderer()


@pytest.fixture(scope="module")
def profile_file(curated, tmp_path_factory):
    """A copy of the tiny profile whose paths point at the fixture data and ``curated``."""
    data = yaml.safe_load(TINY_PROFILE.read_text(encoding="utf-8"))
    base = TINY_PROFILE.parent
    data.update(
        raw_dir=str(base / data["raw_dir"]),
        curated_dir=str(curated),
        indicators=str((base / data["indicators"]).resolve()),
    )
    path = tmp_path_factory.mktemp("profile") / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))


def test_export_writes_a_report_folder(profile_file, curated, tmp_path):
    out = tmp_path / "bericht"
    code = main(
        [
            "export",
            "--profile",
            str(profile_file),
            "--indicator",
            SHARE,
            SEGREGATION,
            "--format",
            "png,csv",
            "--format",
            "xlsx",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    stems = [
        f"{SHARE}_karte_district_2024-12-31",
        f"{SHARE}_zeitreihe_0",
        f"{SEGREGATION}_zeitreihe_ebenen_zufallsverteilung",
    ]
    expected = {f"{stem}.{fmt}" for stem in stems for fmt in ("png", "csv", "xlsx")}
    assert names == sorted(expected | {"metadaten.csv"})
    for stem in stems:
        width, _, dpi = export.png_info((out / f"{stem}.png").read_bytes())
        assert width >= 1890 and dpi == pytest.approx(300, abs=0.01)
    # the map table holds the same numbers as the machine-readable `imon values`
    machine = io.StringIO()
    write_values(curated, machine, SHARE, "district", date(2024, 12, 31))
    values = {r["area_id"]: r for r in csv.DictReader(io.StringIO(machine.getvalue()))}
    table = read_csv(out / f"{SHARE}_karte_district_2024-12-31.csv")
    assert len(table) == 1 + len(values)
    for row in table[1:]:
        record = dict(zip(table[0], row, strict=True))
        expected_row = values[record["Gebietsschlüssel"]]
        value = expected_row["value"]
        assert record["Wert"] == ("" if value == "" else f"{float(value):.1f}".replace(".", ","))
        assert record["Gebiet"] == expected_row["area_name"]
    sheet = openpyxl.load_workbook(out / f"{stems[2]}.xlsx")["Daten"]
    assert sheet.max_row == 1 + 4  # 2 levels × 2 dates
    # as on the segregation page: with the random-allocation benchmark
    header = [cell.value for cell in sheet[1]]
    assert {"Erwartung bei Zufall", "Simulationen"} <= set(header), header
    metadata = [row[0] for row in read_csv(out / "metadaten.csv") if row]
    assert SHARE in metadata and SEGREGATION in metadata


def test_area_date_and_level_choose_map_and_series(curated, tmp_path):
    request = ExportRequest(
        [SHARE],
        ["svg"],
        tmp_path,
        level="borough",
        ref_date=date(2012, 12, 31),
        area="11",
        lang="en",
    )
    written = run_export(curated, request, progress=lambda _: None)
    assert [p.name for p in written] == [
        f"{SHARE}_karte_borough_2012-12-31.svg",
        f"{SHARE}_zeitreihe_0-11.svg",
    ]
    map_svg = written[0].read_text(encoding="utf-8")
    assert "As of: 31.12.2012" in map_svg and "Borough" in map_svg
    trend_svg = written[1].read_text(encoding="utf-8")
    assert "Altstadt" in trend_svg and "Kleinstadt" in trend_svg


def test_classes_draw_the_map_in_natural_breaks(profile_file, curated, tmp_path):
    out = tmp_path / "jenks"
    code = main(
        [
            "export",
            "--profile",
            str(profile_file),
            "--indicator",
            SHARE,
            "--format",
            "svg",
            "--classes",
            "Jenks",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    svg = (out / f"{SHARE}_karte_district_2024-12-31.svg").read_text(encoding="utf-8")
    # fewer distinct values than 5 classes: every published value is a class bound
    machine = io.StringIO()
    write_values(curated, machine, SHARE, "district", date(2024, 12, 31))
    shares = sorted(
        {float(r["value"]) for r in csv.DictReader(io.StringIO(machine.getvalue())) if r["value"]}
    )
    assert len(shares) == 3  # Altstadt, Hafen, Bergdorf
    bounds = [f"{v:.1f} %".replace(".", ",") for v in shares]
    assert f"(Natürliche Brüche, {len(shares) - 1} Klassen)" in svg
    for lower, upper in zip(bounds, bounds[1:], strict=False):
        assert f">{lower} – {upper}<" in svg


@pytest.mark.parametrize(
    "args, message",
    [
        (["--indicator", "nope"], "unknown indicator 'nope'"),
        (["--indicator", SHARE, "--level", "street"], "unknown level 'street'"),
        (["--indicator", SHARE, "--level", "city"], "level 'city' is the whole city"),
        (["--indicator", SHARE, "--date", "2020-12-31"], "unknown date '2020-12-31'"),
        (["--indicator", SHARE, "--area", "77"], "unknown area '77'"),
        (["--indicator", SHARE, "--format", "gif"], "unknown format 'gif'"),
        (
            ["--indicator", SHARE, "--classes", "natural"],
            "unknown classification 'natural' (known: quantile, equal, jenks)",
        ),
    ],
)
def test_bad_requests_are_clear_errors_and_write_nothing(
    profile_file, tmp_path, capsys, args, message
):
    out = tmp_path / "out"
    formats = [] if "--format" in args else ["--format", "png"]
    code = main(["export", "--profile", str(profile_file), *args, *formats, "--out", str(out)])
    assert code == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert not out.exists()


def test_parse_formats():
    assert parse_formats(["PNG, pdf", "png", "xlsx"]) == ["png", "pdf", "xlsx"]
    with pytest.raises(ImonError, match="unknown format 'eps'"):
        parse_formats(["eps"])
