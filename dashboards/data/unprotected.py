"""The second read path: unprotected values for the statistics office's quality assurance.

Everything public reads the publication (:mod:`dashboards.data.snapshot`). This module alone
opens a snapshot's internal warehouse (``internal/warehouse.duckdb``: the values before
disclosure control), and only

* in a server started as **internal** (``imon serve --internal``; the app's
  :data:`INTERNAL_KEY`): there every instance needs a login, whatever its profile says, so
  no anonymous request is ever answered by a process that may open the file. The public
  server never does (tests/test_publication.py), and can be run as an operating-system
  user that cannot read the internal folder (mode 0700);
* for the ``office`` role: the internal page's callbacks call
  :func:`dashboards.access.require` (``office``) before anything here, and
  :func:`check_enabled` refuses every call in a server that is not internal.

Every value leaves marked :data:`MARK` (on screen, in each row and the file name of every
export), and each export is written to the access log.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import flask
import pandas as pd
from werkzeug.exceptions import Forbidden

from etl import warehouse

INTERNAL_KEY = "IMON_INTERNAL"  # True: an internal server (every instance needs a login)
MARK = {"de": "intern – nicht zur Veröffentlichung", "en": "internal – not for publication"}
# the columns of :func:`values`, in the order the page and the exports show them
COLUMNS = (
    "area_id", "name", "value", "numerator", "denominator", "flag", "published_value",
    "published_flag",
)  # fmt: skip

VALUES_SQL = """
SELECT i.area_id, a.name, i.value, i.numerator, i.denominator, i.flag,
       p.value AS published_value, p.flag AS published_flag
FROM intern.indicator_values AS i
LEFT JOIN pub.indicator_values AS p
    ON p.indicator_id = i.indicator_id AND p.ref_date = i.ref_date
   AND p.area_id = i.area_id AND p.level = i.level
LEFT JOIN (
    SELECT DISTINCT ON (area_id) area_id, name FROM pub.areas
    WHERE CAST($date AS DATE) BETWEEN valid_from AND coalesce(valid_to, DATE '9999-12-31')
    ORDER BY area_id, valid_from DESC
) AS a ON a.area_id = i.area_id
WHERE i.indicator_id = $indicator AND i.ref_date = CAST($date AS DATE) AND i.level = $level
ORDER BY i.area_id
"""


def enabled() -> bool:
    """Whether this server is internal (may open the internal warehouse at all)."""
    return bool(flask.current_app.config.get(INTERNAL_KEY))


def check_enabled() -> None:
    if not enabled():
        raise Forbidden("unprotected values are served only by an internal server")


def values(
    curated_dir: Path, which: str, indicator_id: str, ref_date: str, level: str
) -> pd.DataFrame:
    """The unprotected values of one indicator, date and level of the staged or published
    snapshot beside the values published from it: area_id, name, value, numerator,
    denominator, flag, published_value, published_flag (empty if there is no such
    snapshot)."""
    check_enabled()
    find = warehouse.staged if which == "staged" else warehouse.published
    folder = find(Path(curated_dir))
    if folder is None:
        return pd.DataFrame(columns=list(COLUMNS))
    with duckdb.connect() as con:
        for alias, path in (("intern", warehouse.DATABASE), ("pub", warehouse.PUBLICATION)):
            quoted = str(folder / path).replace("'", "''")
            con.execute(f"ATTACH '{quoted}' AS {alias} (READ_ONLY)")
        params = {"indicator": indicator_id, "date": ref_date, "level": level}
        return con.execute(VALUES_SQL, params).df()
