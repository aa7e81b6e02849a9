"""Deterministic synthetic demo city "Musterstadt" (``imon demo-data``).

:func:`write_demo` writes the area list and district geometry and one person-level
register extract (Melderegister) per year, each with a ``.meta.yml`` sidecar.

How the data come about
-----------------------
* ``geography``: irregular outline cut by a river, districts = Lloyd-relaxed Voronoi cells
  of seeded points per river bank, grouped into contiguous boroughs.
* ``simulation``: a household panel. The first year is a cross-section drawn from
  household pools (``pools``, ``households``, ``origins``); every later year applies
  deaths, births, children leaving home, households moving away, naturalisations and
  moves (``events``), then adds in-movers whose mix meets the yearly targets
  (``mix``) and places households in districts (``allocation``).
* ``register_writer``, ``area_writer``, ``meta``: output files.

Data files (all mappings and numbers live here, not in code): ``stadtbezirke.csv``,
``stadtteile.csv`` (names, population weights, migration profile), ``laender.csv``
(ISO codes, origin weights per migration stream), ``zuzugsstroeme.csv`` (stream
intensities by arrival year), ``ziele.csv`` (yearly city targets), ``haushaltsprofile.csv``
(household compositions) and ``parameter.yml`` (rates and geometry).
"""

from etl.demo.generator import write_demo

__all__ = ["write_demo"]
