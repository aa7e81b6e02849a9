"""Migration status of simulated persons (rules of ``docs/DATA_MODEL.md``), vectorised.

The generator uses it to steer the simulation towards its calibration targets; the
warehouse derives the status independently from the written register files.
"""

from __future__ import annotations

import numpy as np

from etl.demo.table import DE, EP, HV, K, Table, ages, household_index

AUSLAENDER, SPAETAUSSIEDLER, EINGEBUERGERT, DOPPELT, ZUGEWANDERT, ABGELEITET, KEINER = range(1, 8)
STATUS_NAMES = (
    "auslaender",
    "spaetaussiedler",
    "eingebuergert",
    "doppelte_staatsangehoerigkeit",
    "zugewandert",
    "abgeleitet",
    "keiner",
)


def own_status(t: Table) -> np.ndarray:
    """Statuses 1-5 from a person's own characteristics, else ``KEINER`` (7)."""
    german = (t["cit1"] == DE) | (t["cit2"] == DE)
    other = np.where(t["cit1"] == DE, t["cit2"], t["cit1"])
    born_abroad = (t["bcountry"] >= 0) & (t["bcountry"] != DE) & (t["arrival"] > 0)
    return np.select(
        [~german, t["repat"], t["natur"], other >= 0, born_abroad],
        [AUSLAENDER, SPAETAUSSIEDLER, EINGEBUERGERT, DOPPELT, ZUGEWANDERT],
        KEINER,
    ).astype(np.int8)


def migration_status(t: Table, year: int) -> np.ndarray:
    """Status 1-7 per person at the end of ``year`` (table sorted by household)."""
    status = own_status(t)
    hh, starts = household_index(t)
    parent_mb = ((t["pos"] == HV) | (t["pos"] == EP)) & (status < ABGELEITET)
    household_mb = np.bincount(hh, weights=parent_mb, minlength=len(starts)) > 0
    derived = (status == KEINER) & (t["pos"] == K) & (ages(t, year) < 18) & household_mb[hh]
    status[derived] = ABGELEITET
    return status
