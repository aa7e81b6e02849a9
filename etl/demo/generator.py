"""Public entry point: write Musterstadt's synthetic raw deliveries (``imon demo-data``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from etl.demo.area_writer import (
    district_features,
    river_features,
    write_area_list,
    write_geojson,
)
from etl.demo.config import load_config
from etl.demo.geography import build_geography
from etl.demo.meta import write_meta
from etl.demo.register_writer import write_register
from etl.demo.simulation import simulate
from etl.demo.table import Table, size

GEOMETRY_VINTAGE_YEAR = 2010


def _write_areas(raw_dir: Path, seed: int, persons: int, first_year: int) -> list[Path]:
    cfg = load_config()
    valid_from = f"{min(GEOMETRY_VINTAGE_YEAR, first_year)}-01-01"
    folder = raw_dir / "gebiete" / valid_from
    geo = build_geography(cfg, seed)
    files = {
        write_area_list(cfg, folder / "gebiete.csv"): "Gebietsliste: Stadt, Stadtbezirke, "
        "Stadtteile (gebiet_id;ebene;name;uebergeordnet)",
        write_geojson(district_features(cfg, geo), folder / "stadtteile.geojson"): (
            "Stadtteilgrenzen (GeoJSON, WGS84), Eigenschaften gebiet_id und name"
        ),
        write_geojson(river_features(cfg, geo), folder / "fluss.geojson"): (
            "Fluss (GeoJSON, WGS84), nur Kartendekoration; gehoert zu keinem Stadtteil"
        ),
    }
    out = []
    for path, description in files.items():
        out += [path, write_meta(path, valid_from, description, seed, persons)]
    return out


def write_demo(
    raw_dir: Path,
    persons: int = 110_000,
    first_year: int = 2010,
    last_year: int = 2024,
    seed: int = 20241231,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write Musterstadt's raw files under raw_dir (= data/raw/musterstadt) and return the
    paths written.

    Writes the area list and geometries (``gebiete/<valid-from>/``) and one person-level
    register extract per year at 31 December (``melderegister/<YYYY-12-31>/``), each with
    a ``.meta.yml`` sidecar. The output is byte-identical for equal arguments.

    Parameters
    ----------
    raw_dir : folder of the instance's raw deliveries
    persons : residents in the first year (later years follow the targets in ``ziele.csv``)
    first_year, last_year : reference years of the extracts (inclusive)
    seed : random seed of geometry and population
    progress : optional callback receiving one German status line per file group
    """
    raw_dir = Path(raw_dir)
    report = progress or (lambda _message: None)
    cfg = load_config()
    written = _write_areas(raw_dir, seed, persons, first_year)
    report(f"Gebiete geschrieben ({len(cfg.districts)} Stadtteile)")
    extracts: dict[int, Path] = {}
    residents: dict[int, int] = {}
    for block, (block_seed, block_persons) in enumerate(blocks(seed, persons)):
        for year, table in simulate(block_seed, block_persons, first_year, last_year):
            date = f"{year}-12-31"
            path = raw_dir / "melderegister" / date / f"melderegister_{date}.csv"
            write_register(cfg, _shift_ids(table, block), path, append=block > 0)
            extracts[year], residents[year] = path, residents.get(year, 0) + size(table)
            if block == 0 and persons <= BLOCK_PERSONS:
                report(f"Melderegister {date}: {_german(residents[year])} Personen")
            elif year == last_year:
                report(f"Block {block + 1} simuliert ({_german(block_persons)} Personen)")
    for year, path in extracts.items():
        date = f"{year}-12-31"
        description = f"Melderegister-Auszug (personenbezogen, pseudonymisiert), Stand {date}"
        written += [path, write_meta(path, date, description, seed, persons)]
        if persons > BLOCK_PERSONS:
            report(f"Melderegister {date}: {_german(residents[year])} Personen")
    return written


# A larger city is simulated block by block, each block a town of at most this many
# residents in the first year with a seed of its own, and its rows appended to the
# extracts: memory stays that of one block whatever the size (a Germany-size register of
# 84 M persons in 11 blocks). Up to this size the output is that of one simulation.
BLOCK_PERSONS = 8_000_000
ID_STRIDE = 10**8  # person and household numbers of block b start at b * ID_STRIDE


def blocks(seed: int, persons: int) -> list[tuple[int, int]]:
    """(seed, first-year residents) of each block; one block of ``persons`` up to
    :data:`BLOCK_PERSONS`."""
    count = -(-persons // BLOCK_PERSONS)
    sizes = [persons // count + (b < persons % count) for b in range(count)]
    return [(seed if b == 0 else seed * 1000 + b, n) for b, n in enumerate(sizes)]


def _shift_ids(table: Table, block: int) -> Table:
    """The table with the person and household numbers of ``block`` after those of the
    blocks before it (the simulation keeps its own; the pseudonyms stay unique: the
    scramble is a bijection below 10^10 = 100 blocks)."""
    if block == 0:
        return table
    if block >= 100 or max(table["pid"].max(initial=0), table["hid"].max(initial=0)) >= ID_STRIDE:
        raise ValueError(f"block {block}: more than 100 blocks or {ID_STRIDE} ids in a block")
    offset = block * ID_STRIDE
    return {**table, "pid": table["pid"] + offset, "hid": table["hid"] + offset}


def _german(number: int) -> str:
    return f"{number:,}".replace(",", ".")
