"""Bad input: one clear error naming file, line and column; nothing published changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl import warehouse
from etl.build import build
from etl.errors import ImonError, InputError
from imon.cli import main
from tests.conftest import TINY_PROFILE, tiny_profile

TINY_RAW = TINY_PROFILE.parent / "raw"
EXTRACT = "melderegister/2024-12-31/melderegister_2024-12-31.csv"


@pytest.fixture
def raw(tmp_path) -> Path:
    """A private copy of the tiny city's raw files to break."""
    target = tmp_path / "raw"
    shutil.copytree(TINY_RAW, target)
    return target


def break_extract(raw: Path, edit) -> Path:
    path = raw / EXTRACT
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return path


def replace_cell(line: str, column: int, value: str) -> str:
    cells = line.split(";")
    cells[column] = value
    return ";".join(cells)


CASES = {
    "missing column": (
        lambda ls: [";".join(c for c in line.split(";")[:-1]) for line in ls],
        1,
        "stellung_im_haushalt",
        "missing column",
    ),
    "renamed column": (
        lambda ls: [ls[0].replace("geburtsjahr", "geb_jahr"), *ls[1:]],
        1,
        "geburtsjahr",
        "missing column",
    ),
    "bad birth year": (
        lambda ls: [*ls[:3], replace_cell(ls[3], 2, "19x0"), *ls[4:]],
        4,
        "geburtsjahr",
        "expected a whole number",
    ),
    "unknown area": (
        lambda ls: [*ls[:5], replace_cell(ls[5], 1, "99"), *ls[6:]],
        6,
        "stadtteil",
        "finest level",
    ),
    "unknown country": (
        lambda ls: [*ls[:2], replace_cell(ls[2], 4, "QQ"), *ls[3:]],
        3,
        "staatsangehoerigkeit_1",
        "ISO 3166-1",
    ),
    "bad flag": (
        lambda ls: [*ls[:7], replace_cell(ls[7], 8, "ja"), *ls[8:]],
        8,
        "eingebuergert",
        "0 or 1",
    ),
    "duplicate person": (
        lambda ls: [*ls, ls[1].replace("H01", "H99")],
        27,
        "personen_id",
        "not used in an earlier row",
    ),
    "arrival before birth": (
        lambda ls: [*ls[:1], replace_cell(ls[1], 7, "1970"), *ls[2:]],
        2,
        "zuzugsjahr",
        "between the year of birth",
    ),
    "empty required cell": (
        lambda ls: [*ls[:10], replace_cell(ls[10], 10, ""), *ls[11:]],
        11,
        "haushalt_id",
        "required",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_extract_names_file_line_and_column(tmp_path, raw, case):
    edit, line, column, words = CASES[case]
    path = break_extract(raw, edit)
    with pytest.raises(InputError) as info:
        build(tiny_profile(tmp_path / "curated", raw_dir=raw))
    err = info.value
    assert (Path(err.file), err.line, err.column) == (path, line, column)
    assert words in str(err)


def test_truncated_row(tmp_path, raw):
    path = break_extract(raw, lambda ls: [*ls[:-1], ls[-1][:12]])
    with pytest.raises(InputError, match="cannot be read") as info:
        build(tiny_profile(tmp_path / "curated", raw_dir=raw))
    assert Path(info.value.file) == path


def test_empty_file(tmp_path, raw):
    (raw / EXTRACT).write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        build(tiny_profile(tmp_path / "curated", raw_dir=raw))


def test_wrong_encoding(tmp_path, raw):
    path = raw / EXTRACT
    path.write_bytes(path.read_bytes().replace(b"personen_id", "persönen_id".encode("latin-1")))
    with pytest.raises(InputError, match="not valid utf-8"):
        build(tiny_profile(tmp_path / "curated", raw_dir=raw))


def test_failed_build_leaves_published_snapshot_untouched(tmp_path, raw):
    curated = tmp_path / "curated"
    good = build(tiny_profile(curated, raw_dir=raw)).snapshot
    before = {p: p.read_bytes() for p in good.rglob("*") if p.is_file()}
    link_before = (curated / "current").readlink()
    break_extract(raw, CASES["missing column"][0])
    with pytest.raises(InputError):
        build(tiny_profile(curated, raw_dir=raw))
    assert (curated / "current").readlink() == link_before
    assert {p: p.read_bytes() for p in good.rglob("*") if p.is_file()} == before
    leftovers = list((curated / "snapshots").glob(warehouse.BUILDING_PREFIX + "*"))
    assert leftovers == []


def test_cli_reports_error_and_exits_non_zero(tmp_path, raw, capsys):
    break_extract(raw, CASES["missing column"][0])
    profile = tmp_path / "profile.yaml"
    text = TINY_PROFILE.read_text(encoding="utf-8")
    text = text.replace("raw_dir: raw", f"raw_dir: {raw}")
    text = text.replace(
        "curated_dir: ../../../data/curated/tiny-unused", f"curated_dir: {tmp_path / 'curated'}"
    )
    text = text.replace(
        "indicators: ../../../indicators.yaml",
        f"indicators: {TINY_PROFILE.parents[3] / 'indicators.yaml'}",
    )
    profile.write_text(text, encoding="utf-8")
    assert main(["build", "--profile", str(profile)]) == 2
    err = capsys.readouterr().err
    assert "melderegister_2024-12-31.csv" in err and "stellung_im_haushalt" in err
    assert not (tmp_path / "curated" / "current").exists()


def test_sidecar_checksum_mismatch(tmp_path, raw):
    sidecar = raw / (EXTRACT + ".meta.yml")
    sidecar.write_text("sha256: " + "0" * 64 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="changed after delivery"):
        build(tiny_profile(tmp_path / "curated", raw_dir=raw))


def test_unknown_level_in_area_list(tmp_path, raw):
    path = raw / "gebiete/2010-01-01/gebiete.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("2;Stadtbezirk", "2;Bezirk"), encoding="utf-8"
    )
    with pytest.raises(InputError) as info:
        build(tiny_profile(tmp_path / "curated", raw_dir=raw))
    assert (info.value.line, info.value.column) == (4, "ebene")


def test_no_published_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(ImonError, match="no published warehouse"):
        warehouse.current_database(tmp_path)
