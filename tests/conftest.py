"""Shared fixtures: the hand-made tiny city and a built warehouse of it."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from etl import warehouse
from etl.build import build
from etl.profile import Profile, load_profile

REPO = Path(__file__).resolve().parents[1]
TINY_PROFILE = REPO / "tests" / "fixtures" / "tiny" / "profile.yaml"
SHARED_DATA = Path(os.environ.get("IMON_SHARED_DATA", REPO.parent / "shared" / "data"))


def tiny_profile(curated_dir: Path, **changes) -> Profile:
    """The tiny city's profile with its warehouse in ``curated_dir``."""
    return load_profile(TINY_PROFILE).model_copy(update={"curated_dir": curated_dir, **changes})


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory) -> Path:
    """Path of the (internal) warehouse file built from the tiny city."""
    curated = tmp_path_factory.mktemp("tiny") / "curated"
    result = build(tiny_profile(curated))
    return result.snapshot / warehouse.DATABASE


@pytest.fixture
def tiny_con(tiny_warehouse):
    with duckdb.connect(str(tiny_warehouse), read_only=True) as con:
        yield con


@pytest.fixture(scope="session")
def demo_curated_dir(tmp_path_factory) -> Path:
    """The demo city, generated (default size) and built once per test session."""
    from etl.demo import write_demo

    root = tmp_path_factory.mktemp("demo")
    profile = load_profile().model_copy(
        update={
            "raw_dir": root / "raw" / "musterstadt",
            "curated_dir": root / "curated" / "musterstadt",
        }
    )
    write_demo(profile.raw_dir)
    build(profile)
    return profile.curated_dir


@pytest.fixture
def demo_con(demo_curated_dir):
    with duckdb.connect(
        str(demo_curated_dir / warehouse.CURRENT / warehouse.DATABASE), read_only=True
    ) as con:
        yield con


# --- the real instances (profiles/berlin.yaml, profiles/rlp-kreise.yaml) -------------


def real_profile(name: str, curated_dir: Path) -> Profile:
    """A real instance's profile with its warehouse in ``curated_dir``. Its raw data in
    SHARED_DATA must exist when CI=true; elsewhere a missing copy skips the test."""
    profile = load_profile(REPO / "profiles" / name)
    if not profile.raw_dir.is_dir():
        message = f"shared data not available: {profile.raw_dir}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)
    return profile.model_copy(update={"curated_dir": curated_dir})


@pytest.fixture(scope="session")
def berlin_build(tmp_path_factory):
    """BuildResult of profiles/berlin.yaml, built once per session into a tmp folder."""
    return build(real_profile("berlin.yaml", tmp_path_factory.mktemp("berlin") / "curated"))


@pytest.fixture(scope="session")
def rlp_build(tmp_path_factory):
    """BuildResult of profiles/rlp-kreise.yaml, built once per session into a tmp folder."""
    return build(real_profile("rlp-kreise.yaml", tmp_path_factory.mktemp("rlp") / "curated"))


@pytest.fixture
def berlin_con(berlin_build):
    with duckdb.connect(str(berlin_build.snapshot / warehouse.DATABASE), read_only=True) as con:
        yield con


@pytest.fixture
def rlp_con(rlp_build):
    with duckdb.connect(str(rlp_build.snapshot / warehouse.DATABASE), read_only=True) as con:
        yield con


@pytest.fixture
def opened_databases(monkeypatch) -> list[str]:
    """Every database file a ``duckdb.connect`` opens during the test, in order."""
    opened: list[str] = []
    connect = duckdb.connect

    def spy(database=":memory:", *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", spy)
    return opened
