"""Write a simulated population as a person-level register extract (Melderegister CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from etl.demo.config import DemoConfig
from etl.demo.table import DE, POSITIONS, SEXES, Table, empty, size

COLUMNS = (
    "personen_id",
    "stadtteil",
    "geburtsjahr",
    "geschlecht",
    "staatsangehoerigkeit_1",
    "staatsangehoerigkeit_2",
    "geburtsland",
    "zuzugsjahr",
    "eingebuergert",
    "spaetaussiedler",
    "haushalt_id",
    "stellung_im_haushalt",
)


def pseudonym(numbers: np.ndarray, prefix: str, offset: int, p: dict) -> pa.Array:
    """Stable pseudonymous ids: ``prefix`` + 10 digits of a bijective scramble of ``numbers``."""
    scrambled = (numbers.astype(np.int64) * p["multiplikator"] + offset) % p["modulus"]
    digits = pc.utf8_lpad(pc.cast(pa.array(scrambled), pa.string()), width=10, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _lookup(labels, index: np.ndarray) -> pa.Array:
    """Labels by position; negative positions become empty cells."""
    return pa.array(np.asarray(labels, dtype=str)).take(pa.array(index, mask=index < 0))


def _citizenships(t: Table, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Citizenships in register order: every n-th dual citizen lists the foreign one first."""
    swap = (t["cit1"] == DE) & (t["cit2"] >= 0) & (t["pid"] % every == 3)
    return np.where(swap, t["cit2"], t["cit1"]), np.where(swap, DE, t["cit2"])


CHUNK_ROWS = 1_000_000  # persons per Arrow batch: ~60 MiB of CSV text, any register size


def register_table(cfg: DemoConfig, t: Table) -> pa.Table:
    """Arrow table with the register columns of ``docs/DATA_MODEL.md``."""
    p = cfg.params["pseudonym"]
    codes = cfg.countries.codes
    cit1, cit2 = _citizenships(t, p["doppelte_reihenfolge_getauscht"])
    columns = [
        pseudonym(t["pid"], "P", p["versatz_person"], p),
        _lookup(cfg.districts["gebiet_id"], t["district"]),
        pa.array(t["birth"]),
        _lookup(SEXES, t["sex"]),
        _lookup(codes, cit1),
        _lookup(codes, cit2),
        _lookup(codes, t["bcountry"]),
        pa.array(t["arrival"], mask=t["arrival"] == 0),
        pa.array(t["natur"].astype(np.int8)),
        pa.array(t["repat"].astype(np.int8)),
        pseudonym(t["hid"], "H", p["versatz_haushalt"], p),
        _lookup(POSITIONS, t["pos"]),
    ]
    return pa.table(dict(zip(COLUMNS, columns, strict=True)))


def register_chunks(cfg: DemoConfig, t: Table, rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """The register table in slices of ``rows`` persons, in register order: the text of
    one slice at a time (Arrow's string columns hold at most 2 GiB each, which a
    Germany-size register's ids alone exceed)."""
    for start in range(0, size(t), rows):
        yield register_table(cfg, {k: v[start : start + rows] for k, v in t.items()})


def write_register(
    cfg: DemoConfig, t: Table, path: Path, rows: int = CHUNK_ROWS, append: bool = False
) -> Path:
    """Write the extract as UTF-8 ``;``-separated CSV without quoting, ``rows`` persons at
    a time (the bytes do not depend on ``rows``); ``append``: add the rows to the extract
    written before, without a second header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = pa_csv.WriteOptions(
        include_header=not append, delimiter=";", quoting_style="none", quoting_header="none"
    )
    with (
        path.open("ab" if append else "wb") as sink,
        pa_csv.CSVWriter(sink, _schema(cfg), write_options=options) as writer,
    ):
        for chunk in register_chunks(cfg, t, rows):
            writer.write_table(chunk)
    return path


def _schema(cfg: DemoConfig) -> pa.Schema:
    """The columns' types, from an empty table (the header of an extract without rows)."""
    return register_table(cfg, empty(0)).schema
