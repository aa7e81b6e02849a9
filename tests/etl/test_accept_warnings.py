"""``imon publish --accept-warnings`` (#20): a staged snapshot whose build tolerated
findings (``consistency: … warn``) is published only when they are accepted, and the
acceptance is recorded. The instance: tests/fixtures/consistency with ``missing_rows:
warn``; the delivery is its 2024 'alter' table without the row of 02100102, so the build
warns that the area is in 'einwohner' but not in 'alter' (tests/etl/test_consistency.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboards import access_log
from dashboards.users import users_path
from etl import deliveries, warehouse
from etl.build import build
from etl.profile import load_profile
from imon.cli import main
from tests.etl import test_area_table as area_table_tests
from tests.etl.test_consistency import ALTER_2024, FIXTURE

WARNING = "area '02100102' on 2024-12-31 is in table 'einwohner' but not in table 'alter'"


@pytest.fixture
def city(tmp_path):
    """(profile path, profile, the delivery): 2023 and 2024 published, no warning."""
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE / "raw", raw)

    def warn(data: dict) -> None:
        data["consistency"] = {"missing_rows": "warn"}

    path = area_table_tests.write_profile(tmp_path, raw, warn, FIXTURE)
    profile = load_profile(path)
    build(profile)
    lines = (raw / ALTER_2024).read_text(encoding="utf-8").splitlines(keepends=True)
    delivery = tmp_path / "inbox" / Path(ALTER_2024).name
    delivery.parent.mkdir()
    delivery.write_text("".join(lines[:4] + lines[5:]), encoding="utf-8")  # 02100102 dropped
    return path, profile, delivery


def _flat(capsys) -> str:
    return " ".join(capsys.readouterr().err.split())


def test_refresh_publish_refuses_a_build_with_warnings(city, capsys):
    path, profile, delivery = city
    published = warehouse.published(profile.curated_dir)
    assert main(["refresh", "--profile", str(path), "--publish", str(delivery)]) == 2
    out = _flat(capsys)
    staged = warehouse.staged(profile.curated_dir)
    assert staged is not None and staged != published
    assert (
        f"Fehler: not published: the staged snapshot {staged.name} has 1 build warning(s) the "
        "profile tolerates with 'warn':" in out
    )
    assert WARNING in out
    assert "publish with --accept-warnings (imon publish --accept-warnings)" in out
    assert f"(vorgemerkt: {staged.name})" in out
    assert warehouse.published(profile.curated_dir) == published
    assert deliveries.accepted(profile.curated_dir) == []


def test_publish_needs_accept_warnings_and_records_it(city, capsys, monkeypatch):
    path, profile, delivery = city
    published = warehouse.published(profile.curated_dir)
    assert main(["refresh", "--profile", str(path), str(delivery)]) == 0
    staged = warehouse.staged(profile.curated_dir)
    capsys.readouterr()
    assert main(["publish", "--profile", str(path)]) == 2
    out = _flat(capsys)
    assert "Fehler: not published" in out and WARNING in out and "--accept-warnings" in out
    assert warehouse.published(profile.curated_dir) == published
    monkeypatch.setattr(access_log, "os_user", lambda: "amt")
    monkeypatch.setattr(deliveries, "_os_user", lambda: "amt")
    assert main(["publish", "--profile", str(path), "--accept-warnings"]) == 0
    assert warehouse.published(profile.curated_dir) == staged
    [accepted] = deliveries.accepted(profile.curated_dir)
    assert accepted["snapshot"] == staged.name and accepted["user"] == "amt"
    assert len(accepted["warnings"]) == 1 and WARNING in accepted["warnings"][0]
    [logged] = [e for e in access_log.read(users_path(profile)) if e["action"] == "publish"][-1:]
    assert (logged["snapshot"], logged["accepted_warnings"], logged["user"]) == (
        staged.name,
        "1",
        "amt",
    )


def test_refresh_publish_with_accept_warnings(city, capsys):
    path, profile, delivery = city
    args = ["refresh", "--profile", str(path), "--publish", "--accept-warnings", str(delivery)]
    assert main(args) == 0
    assert "Veröffentlicht:" in _flat(capsys)
    current = warehouse.published(profile.curated_dir)
    assert warehouse.staged(profile.curated_dir) is None
    [accepted] = deliveries.accepted(profile.curated_dir)
    assert accepted["snapshot"] == current.name


def test_a_build_without_warnings_publishes_as_before(city, capsys):
    """A revision without findings (01100310: 31 under 18 and 49 aged 18-64 instead of 30
    and 50; the totals agree) needs no flag and records no acceptance."""
    path, profile, delivery = city
    text = (profile.raw_dir / ALTER_2024).read_text(encoding="utf-8")
    delivery.write_text(
        text.replace("01100310,100,30,50,", "01100310,100,31,49,"), encoding="utf-8"
    )
    assert main(["refresh", "--profile", str(path), "--publish", str(delivery)]) == 0
    assert warehouse.staged(profile.curated_dir) is None
    assert deliveries.accepted(profile.curated_dir) == []


def test_imon_build_stages_a_build_with_warnings_until_they_are_accepted(city, capsys):
    """``imon build`` publishes as ``imon publish`` does: the same refusal, the snapshot
    staged; with ``--accept-warnings`` it goes live and the acceptance is recorded."""
    path, profile, delivery = city
    published = warehouse.published(profile.curated_dir)
    shutil.copyfile(delivery, profile.raw_dir / ALTER_2024)  # the row of 02100102 dropped
    assert main(["build", "--profile", str(path)]) == 2
    out = _flat(capsys)
    staged = warehouse.staged(profile.curated_dir)
    assert staged is not None and staged != published
    assert f"not published: the staged snapshot {staged.name} has 1 build warning(s)" in out
    assert WARNING in out and "--accept-warnings" in out
    assert warehouse.published(profile.curated_dir) == published
    assert main(["build", "--profile", str(path), "--accept-warnings"]) == 0
    current = warehouse.published(profile.curated_dir)
    assert current not in (published, None) and warehouse.staged(profile.curated_dir) is None
    [accepted] = deliveries.accepted(profile.curated_dir)
    assert accepted["snapshot"] == current.name and WARNING in accepted["warnings"][0]
