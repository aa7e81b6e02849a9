"""Load the data files that parameterise the Musterstadt demo generator.

All numbers and code lists live in the CSV/YAML files next to this module; this module
only reads them (lazily, on first use) and offers small interpolation helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).parent
STREAMS = ("gast", "aussiedler", "eu", "asyl_alt", "asyl", "sonstige", "ukraine")


@dataclass(frozen=True)
class Countries:
    """Country code list with origin weights per migration stream (index 0 is ``DE``)."""

    codes: np.ndarray
    region: np.ndarray
    weights: pd.DataFrame

    def index(self, code: str) -> int:
        """Return the position of an ISO code in :attr:`codes`."""
        hits = np.flatnonzero(self.codes == code)
        if len(hits) != 1:
            raise KeyError(f"country code {code!r} missing from laender.csv")
        return int(hits[0])


@dataclass(frozen=True)
class DemoConfig:
    """Everything the generator reads from its data files."""

    params: dict
    countries: Countries
    boroughs: pd.DataFrame
    districts: pd.DataFrame
    flows: pd.DataFrame
    targets: pd.DataFrame
    profiles: pd.DataFrame


def _csv(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(HERE / name, sep=";", encoding="utf-8", **kwargs)


@cache
def load_config() -> DemoConfig:
    """Read (once) and return the generator configuration."""
    params = yaml.safe_load((HERE / "parameter.yml").read_text(encoding="utf-8"))
    countries = _csv("laender.csv", keep_default_na=False)
    if countries["code"].iloc[0] != "DE":
        raise ValueError("laender.csv must list DE first")
    districts = _csv("stadtteile.csv", dtype={"gebiet_id": str, "stadtbezirk": str})
    return DemoConfig(
        params=params,
        countries=Countries(
            codes=countries["code"].to_numpy(dtype=object),
            region=countries["region"].to_numpy(dtype=object),
            weights=countries[[*STREAMS, "zugewandert", "vertriebene"]].astype(float),
        ),
        boroughs=_csv("stadtbezirke.csv", dtype={"gebiet_id": str}),
        districts=districts,
        flows=_csv("zuzugsstroeme.csv").set_index("jahr"),
        targets=_csv("ziele.csv").set_index("jahr"),
        profiles=_csv("haushaltsprofile.csv"),
    )


def interpolate(table: pd.DataFrame, years: np.ndarray | int) -> pd.DataFrame:
    """Linearly interpolate every column of an anchor-year table (index = year).

    Years outside the anchors take the nearest anchor's values.
    """
    years = np.atleast_1d(np.asarray(years, dtype=float))
    anchors = table.index.to_numpy(dtype=float)
    data = {col: np.interp(years, anchors, table[col].to_numpy(float)) for col in table}
    return pd.DataFrame(data, index=years.astype(int))


def target(cfg: DemoConfig, year: int, column: str) -> float:
    """Return one yearly calibration target (``ziele.csv``) for ``year``."""
    return float(interpolate(cfg.targets[[column]], year)[column].iloc[0])
