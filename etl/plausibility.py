"""Plausibility report of a staged snapshot against the published one (``imon refresh``).

Both warehouses are attached read-only to one in-memory DuckDB (``new`` = staged, ``old``
= published; an empty schema when nothing is published yet) and compared in SQL:

* the build's contract checks (:mod:`etl.checks`), run again on the staged warehouse;
* totals equal the sum of their parts: every count indicator of an area equals the sum
  over its child areas, and the partitions of ``plausibility.yaml`` (e.g. total =
  foreigners + Germans) hold at every finest area;
* delivered files (``loads``): new, changed (a revision), removed;
* reference dates: new and removed ones; published values of a date that changed;
* every *reviewed* date — a new one, or one whose raw file changed; the latest one when
  nothing is published yet — against the date one year earlier (else the previous date):
  areas that appear or vanish, residents changing by more than
  ``plausibility.population_change_percent`` and shares by more than
  ``plausibility.share_change_points`` (profile; defaults 15 % and 5 points);
* jumps inside the series (#18): in the whole city and the areas of the first level below
  it, every step from one date to the next of a count of persons beyond the percent
  threshold or of a share beyond the points threshold or, relative to its value, the
  percent threshold, on every date (not only the reviewed ones), except across a change
  of definition (a series break);
* lineage of the values on today's boundaries (#18): per pair of boundary vintages and
  level, how the crosswalk placed the older units (correspondence list with its sha256,
  area overlap, inferred from residents), how many links and how many of them estimated —
  read from the staged snapshot's publication (``area_crosswalk``, ``meta``
  ``crosswalk_lists``).

Everything listed is for a person to look at before ``imon publish``; the report blocks
nothing. :func:`to_html` renders it with every value escaped.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import yaml

from etl import crosswalk, warehouse
from etl.build import WARNINGS, schema_sql
from etl.checks import CHECKS
from etl.goals import intake as goals_intake
from etl.profile import Profile

PARTITIONS_FILE = Path(__file__).with_name("plausibility.yaml")
AREA_FUNCTIONS = "('count', 'share', 'ratio', 'observed', 'location_quotient')"
VALID = "v.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31')"
MAX_HTML_ROWS = 2000


@dataclass
class Section:
    """One table of the report; ``attention``: its rows need a person's look."""

    key: str
    title: str
    columns: list[str]
    rows: list[tuple]
    note: str = ""
    attention: bool = True


@dataclass
class Report:
    staged: str
    published: str | None
    facts: list[tuple[str, str]]
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def findings(self) -> list[Section]:
        """Sections with rows a person should look at."""
        return [s for s in self.sections if s.attention and s.rows]


SETUP_SQL = f"""
CREATE TEMP TABLE dates_new AS SELECT DISTINCT ref_date FROM new.indicator_values;
CREATE TEMP TABLE dates_old AS SELECT DISTINCT ref_date FROM old.indicator_values;
CREATE TEMP TABLE names AS
    SELECT area_id, arg_max(name, valid_from) AS name FROM new.areas GROUP BY area_id;
CREATE TEMP TABLE present AS
    SELECT DISTINCT v.ref_date, v.area_id, v.level
    FROM new.indicator_values AS v INNER JOIN new.indicators AS i USING (indicator_id)
    WHERE i.function IN {AREA_FUNCTIONS};
CREATE TEMP TABLE pairs AS
WITH changed AS (   -- reference dates of raw files the published build did not read
    SELECT DISTINCT n.reference_date AS ref_date FROM new.loads AS n
    WHERE NOT EXISTS (SELECT 1 FROM old.loads AS o
                      WHERE o.file = n.file AND o.sha256 = n.sha256)
),
reviewed AS (
    (SELECT ref_date FROM dates_new EXCEPT SELECT ref_date FROM dates_old)
    UNION SELECT ref_date FROM changed WHERE ref_date IN (SELECT ref_date FROM dates_new)
    UNION SELECT max(ref_date) FROM dates_new WHERE NOT EXISTS (SELECT 1 FROM dates_old)
),
final AS (
    SELECT r.ref_date, coalesce(
        (SELECT d.ref_date FROM dates_new AS d
         WHERE d.ref_date = CAST(r.ref_date - INTERVAL 1 YEAR AS DATE)),
        (SELECT max(d.ref_date) FROM dates_new AS d WHERE d.ref_date < r.ref_date)) AS previous
    FROM reviewed AS r WHERE r.ref_date IS NOT NULL
)
SELECT * FROM final;
"""

# key -> (title, columns, SQL, attention). Parameters: $percent, $points.
SECTIONS: dict[str, tuple[str, list[str], str, bool]] = {
    "files_delivered": (
        "Neue und geänderte Rohdateien",
        ["Quelle", "Datei", "Stichtag", "Änderung", "sha256 bisher", "sha256 neu", "Zeilen"],
        """
        SELECT n.source, n.file, n.reference_date,
               CASE WHEN o.file IS NULL THEN 'neu' ELSE 'geändert (Revision)' END,
               o.sha256, n.sha256, n.rows
        FROM new.loads AS n LEFT JOIN old.loads AS o ON o.file = n.file
        WHERE n.sha256 IS DISTINCT FROM o.sha256 ORDER BY n.file""",
        False,
    ),
    "files_removed": (
        "Rohdateien, die nicht mehr gelesen werden",
        ["Quelle", "Datei", "Stichtag", "sha256"],
        """
        SELECT o.source, o.file, o.reference_date, o.sha256 FROM old.loads AS o
        WHERE o.file NOT IN (SELECT file FROM new.loads) ORDER BY o.file""",
        True,
    ),
    "dates_new": (
        "Neue Stichtage",
        ["Stichtag"],
        """
        SELECT ref_date FROM dates_new EXCEPT SELECT ref_date FROM dates_old ORDER BY 1""",
        False,
    ),
    "dates_removed": (
        "Weggefallene Stichtage (bisher veröffentlicht)",
        ["Stichtag"],
        """
        SELECT ref_date FROM dates_old EXCEPT SELECT ref_date FROM dates_new ORDER BY 1""",
        True,
    ),
    "reviewed": (
        "Geprüfte Stichtage und ihr Vergleichsstichtag",
        ["Stichtag", "verglichen mit"],
        "SELECT * FROM pairs ORDER BY 1",
        False,
    ),
    "sums_hierarchy": (
        "Summe der Teilgebiete ≠ Gesamtgebiet",
        ["Indikator", "Stichtag", "Gebiet", "Name", "Gesamt", "Summe der Teile"],
        f"""
        WITH v AS (
            SELECT v.indicator_id, v.ref_date, v.area_id, v.value
            FROM new.indicator_values AS v INNER JOIN new.indicators AS i USING (indicator_id)
            WHERE i.function = 'count' AND v.n_units IS NULL
        ),
        parts AS (
            SELECT v.indicator_id, v.ref_date, a.parent_id, sum(v.value) AS parts,
                   count(*) FILTER (WHERE v.value IS NULL) AS unknown
            FROM v INNER JOIN new.areas AS a ON a.area_id = v.area_id AND {VALID}
            WHERE a.parent_id IS NOT NULL
            GROUP BY ALL
        )
        SELECT p.indicator_id, p.ref_date, t.area_id, n.name, t.value, p.parts
        FROM parts AS p
        INNER JOIN v AS t ON t.indicator_id = p.indicator_id AND t.ref_date = p.ref_date
                         AND t.area_id = p.parent_id
        LEFT JOIN names AS n ON n.area_id = t.area_id
        WHERE p.unknown = 0 AND abs(t.value - p.parts) > 0.5
        ORDER BY 1, 2, 3""",
        True,
    ),
    "sums_partitions": (
        "Summe der Teilgruppen ≠ Gesamtzahl (plausibility.yaml)",
        ["Stichtag", "Gebiet", "Name", "Zerlegung", "Gesamt", "Summe der Teile"],
        """
        WITH spec AS (
            SELECT pid, total, part, count(*) OVER (PARTITION BY pid) AS n_parts
            FROM partitions
        ),
        parts AS (
            SELECT s.pid, c.ref_date, c.area_id, sum(c.value) AS parts, count(c.value) AS n,
                   any_value(s.n_parts) AS n_parts,
                   string_agg(s.part, ' + ' ORDER BY s.part) AS terms
            FROM spec AS s INNER JOIN new.area_counts AS c ON c.term = s.part
            GROUP BY s.pid, c.ref_date, c.area_id
        )
        SELECT p.ref_date, p.area_id, n.name, t.term || ' = ' || p.terms, t.value, p.parts
        FROM parts AS p
        INNER JOIN (SELECT DISTINCT pid, total FROM spec) AS s ON s.pid = p.pid
        INNER JOIN new.area_counts AS t
            ON t.term = s.total AND t.ref_date = p.ref_date AND t.area_id = p.area_id
        LEFT JOIN names AS n ON n.area_id = p.area_id
        WHERE p.n = p.n_parts AND abs(t.value - p.parts) > 0.5
        ORDER BY 1, 2, 4""",
        True,
    ),
    "areas_new": (
        "Neue Gebiete (am Stichtag, nicht am Vergleichsstichtag)",
        ["Stichtag", "verglichen mit", "Ebene", "Gebiet", "Name"],
        """
        SELECT p.ref_date, p.previous, x.level, x.area_id, n.name
        FROM pairs AS p INNER JOIN present AS x ON x.ref_date = p.ref_date
        LEFT JOIN names AS n ON n.area_id = x.area_id
        WHERE p.previous IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM present AS y
            WHERE y.ref_date = p.previous AND y.area_id = x.area_id AND y.level = x.level)
        ORDER BY 1, 3, 4""",
        True,
    ),
    "areas_vanished": (
        "Weggefallene Gebiete (am Vergleichsstichtag, nicht am Stichtag)",
        ["Stichtag", "verglichen mit", "Ebene", "Gebiet", "Name"],
        """
        SELECT p.ref_date, p.previous, x.level, x.area_id, n.name
        FROM pairs AS p INNER JOIN present AS x ON x.ref_date = p.previous
        LEFT JOIN names AS n ON n.area_id = x.area_id
        WHERE NOT EXISTS (
            SELECT 1 FROM present AS y
            WHERE y.ref_date = p.ref_date AND y.area_id = x.area_id AND y.level = x.level)
        ORDER BY 1, 3, 4""",
        True,
    ),
    "population_changes": (
        "Einwohnerzahl: Veränderung über der Schwelle",
        ["Stichtag", "verglichen mit", "Ebene", "Gebiet", "Name", "vorher", "jetzt", "Δ %"],
        """
        SELECT p.ref_date, p.previous, v.level, v.area_id, n.name, o.value, v.value,
               100 * (v.value / o.value - 1) AS change
        FROM pairs AS p
        INNER JOIN new.indicator_values AS v ON v.ref_date = p.ref_date
        INNER JOIN new.indicator_values AS o
            ON o.ref_date = p.previous AND o.indicator_id = v.indicator_id
           AND o.area_id = v.area_id AND o.level = v.level
        LEFT JOIN names AS n ON n.area_id = v.area_id
        WHERE v.indicator_id = 'population' AND o.value > 0
          AND abs(100 * (v.value / o.value - 1)) > $percent
        ORDER BY abs(change) DESC, v.level, v.area_id""",
        True,
    ),
    "share_changes": (
        "Anteile: Veränderung über der Schwelle",
        [
            "Indikator",
            "Stichtag",
            "verglichen mit",
            "Ebene",
            "Gebiet",
            "Name",
            "vorher %",
            "jetzt %",
            "Δ Prozentpunkte",
        ],
        """
        SELECT v.indicator_id, p.ref_date, p.previous, v.level, v.area_id, n.name,
               o.value, v.value, v.value - o.value AS change
        FROM pairs AS p
        INNER JOIN new.indicator_values AS v ON v.ref_date = p.ref_date
        INNER JOIN new.indicators AS i ON i.indicator_id = v.indicator_id
        INNER JOIN new.indicator_values AS o
            ON o.ref_date = p.previous AND o.indicator_id = v.indicator_id
           AND o.area_id = v.area_id AND o.level = v.level
        LEFT JOIN names AS n ON n.area_id = v.area_id
        WHERE i.function = 'share' AND abs(v.value - o.value) > $points
        ORDER BY abs(change) DESC, v.indicator_id, v.level, v.area_id""",
        True,
    ),
    "revised_values": (
        "Geänderte veröffentlichte Werte (Stichtage in beiden Ständen)",
        ["Indikator", "Stichtag", "geändert", "entfallen", "hinzugekommen", "größte Änderung"],
        """
        SELECT coalesce(v.indicator_id, o.indicator_id), coalesce(v.ref_date, o.ref_date),
               count(*) FILTER (WHERE v.indicator_id IS NOT NULL AND o.indicator_id IS NOT NULL),
               count(*) FILTER (WHERE v.indicator_id IS NULL),
               count(*) FILTER (WHERE o.indicator_id IS NULL),
               max(abs(v.value - o.value))
        FROM (SELECT * FROM new.indicator_values
              WHERE ref_date IN (SELECT ref_date FROM dates_old)) AS v
        FULL OUTER JOIN (SELECT * FROM old.indicator_values
                         WHERE ref_date IN (SELECT ref_date FROM dates_new)) AS o
            ON o.indicator_id = v.indicator_id AND o.ref_date = v.ref_date
           AND o.area_id = v.area_id AND o.level = v.level
        WHERE v.indicator_id IS NULL OR o.indicator_id IS NULL
           OR (v.value IS NULL) <> (o.value IS NULL)
           OR abs(v.value - o.value) > 1e-9 * greatest(1, abs(o.value))
           OR v.flag IS DISTINCT FROM o.flag
        GROUP BY ALL ORDER BY 2, 1""",
        True,
    ),
    "indicators_new": (
        "Neue Indikatoren",
        ["Indikator", "Titel"],
        """
        SELECT indicator_id, title_de FROM new.indicators
        WHERE indicator_id NOT IN (SELECT indicator_id FROM old.indicators) ORDER BY 1""",
        False,
    ),
    "indicators_removed": (
        "Entfallene Indikatoren",
        ["Indikator", "Titel"],
        """
        SELECT indicator_id, title_de FROM old.indicators
        WHERE indicator_id NOT IN (SELECT indicator_id FROM new.indicators) ORDER BY 1""",
        True,
    ),
}


def compare(staged_db: Path, published_db: Path | None, profile: Profile) -> Report:
    """The report on the staged warehouse ``staged_db`` against ``published_db``."""
    limits = profile.plausibility
    # the build's resources and spill folder; outside a build, spill files inside the
    # snapshot being reviewed (removed with it), not in the cwd
    con = warehouse.connect(spill=staged_db.parent / "report.tmp")
    try:
        _attach(con, staged_db, published_db)
        con.execute(SETUP_SQL)
        _load_partitions(con)
        sections = [_checks(con, profile.level_ids()[-1]), _build_warnings(staged_db)]
        for key, (title, columns, sql, attention) in SECTIONS.items():
            params = {
                name: value
                for name, value in (
                    ("percent", limits.population_change_percent),
                    ("points", limits.share_change_points),
                )
                if f"${name}" in sql
            }
            sections.append(
                Section(
                    key, title, columns, con.execute(sql, params).fetchall(), attention=attention
                )
            )
        sections.append(_project_jumps(con))
        sections.append(_series_jumps(con, limits))
        sections.append(_lineage(con, staged_db.parents[1] / warehouse.PUBLICATION))
        meta = dict(con.execute("SELECT key, value FROM new.meta").fetchall())
    finally:
        con.close()
    staged = staged_db.parent.name.removeprefix(warehouse.BUILDING_PREFIX)
    published = published_db.parent.name if published_db else None
    facts = [
        ("Instanz", f"{meta.get('title', '')} ({meta.get('instance', '')})"),
        ("Vorgemerkter Stand (neu)", staged),
        ("Veröffentlichter Stand (bisher)", published or "– (noch nichts veröffentlicht)"),
        ("Stichtage im neuen Stand", f"{meta.get('first_ref_date')} – {meta.get('last_ref_date')}"),
        ("Schwelle Einwohnerzahl", f"± {limits.population_change_percent:g} %"),
        ("Schwelle Anteile", f"± {limits.share_change_points:g} Prozentpunkte"),
        ("Bericht erstellt", datetime.now(UTC).isoformat(timespec="seconds")),
    ]
    notes = {
        "population_changes": f"Schwelle ± {limits.population_change_percent:g} %",
        "share_changes": f"Schwelle ± {limits.share_change_points:g} Prozentpunkte",
    }
    for section in sections:
        section.note = notes.get(section.key, section.note)
    return Report(staged, published, facts, sections)


def _project_jumps(con: duckdb.DuckDBPyConnection) -> Section:
    """Project indicators (#15) more than tripled since their previous value."""
    return Section(
        "project_jumps",
        f"Projektindikatoren: mehr als das {goals_intake.JUMP_FACTOR}-Fache des Vorwerts",
        ["Indikator", "Stichtag", "Wert", "Vorheriger Stichtag", "Vorheriger Wert", "Faktor"],
        goals_intake.jumps(con),
    )


# consecutive dates of one series (indicator, area) in the city and the first level below
# it; a count of persons (relative change) or a share (points, or relative change: Berlin's
# share of the 65+ among residents with migration background rose 11.9 -> 14.7 %, +24 %,
# from 31.12.2017 to 30.06.2018) beyond the thresholds
SERIES_JUMPS_SQL = f"""
WITH top AS (  -- the city and its children, on each date they are valid
    SELECT a.area_id, a.valid_from, a.valid_to FROM new.areas AS a
    WHERE a.parent_id IS NULL OR a.parent_id IN (
        SELECT area_id FROM new.areas WHERE parent_id IS NULL)
),
steps AS (
    SELECT v.indicator_id, i.function, v.level, v.area_id, v.ref_date, v.value,
           v.definition_id,
           lag(v.ref_date) OVER w AS prev_date, lag(v.value) OVER w AS prev_value,
           lag(v.definition_id) OVER w AS prev_definition
    FROM new.indicator_values AS v
    INNER JOIN new.indicators AS i USING (indicator_id)
    INNER JOIN top AS a ON a.area_id = v.area_id AND {VALID}
    WHERE v.n_units IS NULL AND v.value IS NOT NULL
      AND (i.function = 'share' OR (i.function = 'count' AND i.unit <> 'moves'))
    WINDOW w AS (PARTITION BY v.indicator_id, v.level, v.area_id ORDER BY v.ref_date)
)
SELECT s.indicator_id, s.level, s.area_id, n.name, s.prev_date, s.ref_date, s.prev_value,
       s.value,
       CASE WHEN s.function = 'count' THEN 100 * (s.value / s.prev_value - 1)
            ELSE s.value - s.prev_value END AS change,
       CASE WHEN s.function = 'count' THEN '%' ELSE 'Prozentpunkte' END
FROM steps AS s LEFT JOIN names AS n ON n.area_id = s.area_id
WHERE s.prev_date IS NOT NULL AND s.definition_id IS NOT DISTINCT FROM s.prev_definition
  AND ((s.function = 'count' AND s.prev_value > 0
        AND abs(100 * (s.value / s.prev_value - 1)) > $percent)
    OR (s.function = 'share' AND (abs(s.value - s.prev_value) > $points
        OR (s.prev_value > 0 AND abs(100 * (s.value / s.prev_value - 1)) > $percent))))
ORDER BY s.indicator_id, s.level, s.area_id, s.ref_date
"""


def _series_jumps(con: duckdb.DuckDBPyConnection, limits) -> Section:
    """Jumps beyond the thresholds inside the series of the city and its first level."""
    rows = con.execute(
        SERIES_JUMPS_SQL,
        {"percent": limits.population_change_percent, "points": limits.share_change_points},
    ).fetchall()
    return Section(
        "series_jumps",
        "Sprünge innerhalb der Reihen (Stadt und erste Gliederungsebene)",
        ["Indikator", "Ebene", "Gebiet", "Name", "von", "bis", "vorher", "nachher", "Δ", "Einheit"],
        rows,
        note=(
            f"Jeder Schritt von einem Stichtag zum nächsten, Anzahlen von Personen über "
            f"± {limits.population_change_percent:g} %, Anteile über "
            f"± {limits.share_change_points:g} Prozentpunkte oder "
            f"± {limits.population_change_percent:g} % ihres Werts; nicht über einen Wechsel "
            "der Definition (Reihenbruch) hinweg."
        ),
    )


def _lineage(con: duckdb.DuckDBPyConnection, publication: Path) -> Section:
    """Which correspondence lists and overlap estimates placed the older units on today's
    boundaries, per pair of vintages and level (staged publication; none without one)."""
    rows, lists = [], []
    if publication.is_file():
        con.execute(f"ATTACH {_literal(publication)} AS pub (READ_ONLY)")
        try:
            tables = {r[0] for r in con.execute("SHOW TABLES FROM pub").fetchall()}
            if "area_crosswalk" in tables:
                rows = con.execute(crosswalk.LINEAGE_SQL.format(table="pub.area_crosswalk"))
                rows = rows.fetchall()
            meta = con.execute("SELECT value FROM pub.meta WHERE key = 'crosswalk_lists'")
            found = meta.fetchall()
            lists = json.loads(found[0][0]) if found else []
        finally:
            con.execute("DETACH pub")
    return Section(
        "boundary_lineage",
        "Werte auf heutigem Gebietsstand: Zuordnung der älteren Gebiete",
        list(crosswalk.LINEAGE_COLUMNS),
        crosswalk.lineage_rows(rows, lists),
        note="Eine Verknüpfung ist geschätzt, wenn ein älteres Gebiet geteilt oder nur "
        "abgeleitet zugeordnet wurde; Werte dieser Gebiete heißen auf den Seiten „geschätzt“.",
        attention=False,
    )


def _attach(con: duckdb.DuckDBPyConnection, staged_db: Path, published_db: Path | None) -> None:
    con.execute(f"ATTACH {_literal(staged_db)} AS new (READ_ONLY)")
    if published_db is not None:
        con.execute(f"ATTACH {_literal(published_db)} AS old (READ_ONLY)")
        return
    con.execute("ATTACH ':memory:' AS old")
    con.execute("USE old")
    con.execute(schema_sql())
    con.execute("USE memory")


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _load_partitions(con: duckdb.DuckDBPyConnection) -> None:
    spec = yaml.safe_load(PARTITIONS_FILE.read_text(encoding="utf-8"))["partitions"]
    con.execute("CREATE TEMP TABLE partitions (pid INTEGER, total VARCHAR, part VARCHAR)")
    rows = [(pid, p["total"], part) for pid, p in enumerate(spec) for part in p["parts"]]
    con.executemany("INSERT INTO partitions VALUES (?, ?, ?)", rows)


def _build_warnings(staged_db: Path) -> Section:
    """The build's warnings (etl/build.py: WARNINGS), e.g. consistency findings a profile
    tolerates with ``warn`` (etl/transform/consistency.py)."""
    path = staged_db.parent.parent / WARNINGS
    found = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    return Section(
        "build_warnings",
        "Hinweise des Builds (u. a. Konsistenzprüfungen mit 'warn')",
        ["Hinweis"],
        [(message,) for message in found],
    )


def _checks(con: duckdb.DuckDBPyConnection, finest: str) -> Section:
    """The build's contract checks, run again on the staged warehouse."""
    rows = []
    con.execute("USE new")
    try:
        for name, sql in CHECKS.items():
            params = {"finest": finest} if "$finest" in sql else {}
            found = con.execute(f"SELECT * FROM ({sql}) LIMIT 3", params).fetchall()
            rows.append((name, "FEHLER" if found else "bestanden", "; ".join(map(str, found))))
    finally:
        con.execute("USE memory")
    failed = any(r[1] == "FEHLER" for r in rows)
    return Section(
        "checks",
        "Prüfungen des Builds (etl/checks.py), erneut ausgeführt",
        ["Prüfung", "Ergebnis", "Beispiele"],
        rows,
        attention=failed,
    )


# --- output ------------------------------------------------------------------------------


def summary(report: Report, examples: int = 5) -> list[str]:
    """Terminal lines: one per section with rows, the first ``examples`` rows of findings."""
    checks = report.section("checks")
    passed = sum(r[1] == "bestanden" for r in checks.rows)
    lines = [f"Prüfungen: {passed} von {len(checks.rows)} bestanden"]
    for section in report.sections[1:]:
        if not section.rows:
            continue
        mark = "!" if section.attention else " "
        note = f" ({section.note})" if section.note else ""
        lines.append(f"{mark} {section.title}{note}: {len(section.rows)}")
        if section.attention:
            lines += [
                "    " + " | ".join(_cell(v, c) for v, c in zip(row, section.columns, strict=True))
                for row in section.rows[:examples]
            ]
            if len(section.rows) > examples:
                lines.append(f"    … {len(section.rows) - examples} weitere im Bericht")
    if not report.findings():
        lines.append("Keine Auffälligkeiten.")
    return lines


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page; every value is escaped."""
    esc = html.escape
    facts = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in report.facts)
    findings = report.findings()
    verdict = (
        f"{len(findings)} Abschnitte mit Auffälligkeiten – bitte ansehen."
        if findings
        else "Keine Auffälligkeiten."
    )
    body = "".join(_html_section(s) for s in report.sections)
    return PAGE.format(
        title=esc(f"Prüfbericht {report.staged}"), facts=facts, verdict=esc(verdict), body=body
    )


def _html_section(section: Section) -> str:
    esc = html.escape
    css = "attention" if section.attention and section.rows else "ok"
    head = "".join(f"<th>{esc(c)}</th>" for c in section.columns)
    shown = section.rows[:MAX_HTML_ROWS]
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{esc(_cell(v, c))}</td>" for v, c in zip(row, section.columns, strict=True))
        + "</tr>"
        for row in shown
    )
    more = (
        f"<p>… {len(section.rows) - len(shown)} weitere Zeilen nicht gezeigt.</p>"
        if len(section.rows) > len(shown)
        else ""
    )
    note = f"<p class='note'>{esc(section.note)}</p>" if section.note else ""
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}"
        if section.rows
        else "<p>keine</p>"
    )
    return (
        f"<section class='{css}' id='{esc(section.key)}'><h2>{esc(section.title)} "
        f"({len(section.rows)})</h2>{note}{table}</section>"
    )


def _cell(value: object, column: str) -> str:
    """German number format; changes (columns with Δ) carry their sign."""
    if value is None:
        return "–"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    sign = "+" if "Δ" in column else ""
    text = (
        f"{value:{sign},.0f}"
        if float(value).is_integer() and "Δ" not in column
        else f"{value:{sign},.1f}"
    )
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def write_html(report: Report, path: Path) -> Path:
    """Write the report to ``path`` (complete or not at all) and return it."""
    warehouse.write_durably(path, to_html(report))
    return path


PAGE = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .9rem; }}
th, td {{ border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }}
td {{ font-variant-numeric: tabular-nums; }}
section.attention h2 {{ color: #a40000; }}
section.ok h2 {{ color: #245a2b; }}
.note {{ color: #555; }}
</style>
</head>
<body>
<h1>{title}</h1>
<table>{facts}</table>
<p><strong>{verdict}</strong> Veröffentlichen mit <code>imon publish</code>.</p>
{body}
</body>
</html>
"""
