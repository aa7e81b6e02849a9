"""``imon init``: delivered files -> a commented draft profile + a summary.

The draft builds as written when the files are unambiguous: every table becomes a
``long_table`` entry (long or wide rows; the city's and boroughs' rows kept for
reconciliation), the levels come from the code lengths, the geography is a
``code_hierarchy`` with the given boundary files, and every variable the vocabulary maps
for sure is a count; unsure mappings are written commented out with the reason. What
could not be decided is printed as a question and written at the top of the draft.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import shapely

from etl.errors import ConfigError
from etl.onboarding import genesis
from etl.onboarding.common import below as _below
from etl.onboarding.common import flow as _y
from etl.onboarding.shape import CITY_NAME, Shape, date_in_name, find_shape
from etl.onboarding.sniff import TableText, number_format, read_table
from etl.onboarding.vocabulary import Mapping, _bounded, _vocabulary, classify
from etl.profile import REPO_ROOT
from etl.sources import geometry
from etl.sources.id_map import normalise
from etl.sources.long_table import by_date, parse_date

ROOT = "STADT"  # the id of the whole city in the draft (never an area code)
LEVEL_NAMES = {  # labels by number of levels below the city, coarse to fine
    1: [("stadtteil", "Stadtteil", "District")],
    2: [("stadtbezirk", "Stadtbezirk", "Borough"), ("stadtteil", "Stadtteil", "District")],
    3: [
        ("stadtbezirk", "Stadtbezirk", "Borough"),
        ("stadtteil", "Stadtteil", "District"),
        ("statistischer_bezirk", "Statistischer Bezirk", "Statistical district"),
    ],
}


@dataclass
class Source:
    """One table entry of the draft: files of one shape, with their mappings."""

    id: str
    files: str
    text: TableText
    shape: Shape
    ref_date: str | None = None  # regex of the date in the file name
    parts: dict[str, str] = field(default_factory=dict)  # its part -> MM-DD
    mappings: list[Mapping] = field(default_factory=list)
    id_map: str | None = None
    column_dates: list[str] = field(default_factory=list)  # variables of '<v> | <year>'
    more: list[TableText] = field(default_factory=list)  # the other files of the pattern


@dataclass
class Draft:
    text: str
    notes: list[str]
    questions: list[str]


def init(out: Path, files: list[Path], geometries: list[Path]) -> Draft:
    """Write the draft profile ``out`` (and an id map beside it where names need one)."""
    for path in [*files, *geometries]:
        if not path.is_file():
            raise ConfigError(f"{path}: file not found")
    # the folder holding tables and boundary files (the build reads both below raw_dir)
    raw_dir = Path(os.path.commonpath([p.resolve().parent for p in [*files, *geometries]]))
    if files and all(genesis.is_genesis(f) for f in files):
        lines, notes, questions = genesis.draft(
            out, files, geometries, raw_dir, REPO_ROOT / "indicators.yaml"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Draft(out.read_text(encoding="utf-8"), notes, questions)
    notes, questions = [], []
    sources = _sources(files, raw_dir, notes, questions)
    others = [_below(g, raw_dir) for g in geometries]
    for source in sources:
        source.files = _narrowed(source, others)
        if source.shape.recode:
            _write_recode(out, source, notes)
    lengths = sorted({n for s in sources for n in s.shape.code_lengths})
    boundaries = [
        _boundary(g, raw_dir, sources, lengths, out, notes, questions) for g in geometries
    ]
    codes = {c for s in sources if s.shape.code_column for c in _area_values(s)}
    for b in boundaries:
        if b and "_table" in b:
            _corrections(b, [c for c in boundaries if c and "_table" in c], codes, notes, questions)
    for b in boundaries:
        if b:
            b["_ids"] = (
                {str(p.get(b["id"])) for p, _ in b.pop("_table").rows} if "_table" in b else set()
            )
    if all(s.id_map for s in sources if not s.shape.code_column):  # answered by the id map
        questions[:] = [q for q in questions if "areas by name only" not in q]
    lengths = sorted(set(lengths) | {b["length"] for b in boundaries if b and codes_used(b)})
    if any(b and b.get("id_map_lengths") for b in boundaries):
        lengths = sorted({n for b in boundaries if b for n in b.pop("id_map_lengths", [])})
    if not lengths:
        questions.append("no area codes found: levels cannot be derived")
        lengths = [2]
    found = [b for b in boundaries if b]
    named = _level_names(lengths, found, sources, raw_dir, notes)
    listed = _correspondence([*files, *geometries], raw_dir, codes | _boundary_ids(found), notes)
    text = _profile_text(out, raw_dir, sources, lengths, found, questions, named, listed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return Draft(text, notes, questions)


def _sources(files: list[Path], raw_dir: Path, notes: list, questions: list) -> list[Source]:
    groups: dict[tuple, Source] = {}
    for path in sorted(files):
        if genesis.is_genesis(path):
            questions.append(
                f"{path.name}: a GENESIS table among tables of other shapes — not drafted; "
                "draft the GENESIS tables in a profile of their own (imon init on them alone)"
            )
            continue
        text = read_table(path)
        shape = find_shape(text)
        columns = [shape.value_column] if shape.long else shape.value_columns
        number_format(text, [text.header.index(c) for c in columns if c])
        relative = path.resolve().relative_to(raw_dir).as_posix()
        by_year = _column_variables(shape)
        dated = None if shape.date_column or by_year else date_in_name(path.name)
        pattern = relative if dated is None else str(Path(relative).parent / dated[0])
        pattern = pattern.removeprefix("./")
        key = (pattern, tuple(text.header))
        if key in groups:
            _part(groups[key], path.name)
            groups[key].more.append(text)  # its areas (a later boundary vintage's codes)
            continue
        notes += text.notes + shape.notes
        questions += text.questions + shape.questions
        source = Source(_slug(path.stem), pattern, text, shape, dated and dated[1])
        source.column_dates = by_year
        if by_year:
            notes.append(
                f"{path.name}: years in the column names (header cells merged over the "
                f"years): {', '.join(by_year)}"
            )
        elif dated:
            notes.append(f"{path.name}: reference date from the file name ({pattern})")
        elif not shape.date_column:
            questions.append(
                f"{path.name}: no date column and no date in the file name — set ref_date "
                "(e.g. ref_date: 2023-12-31)"
            )
        source.mappings = [classify(v) for v in by_year or _variables(text, shape)]
        _shares_only(source, questions)
        _part(source, path.name)
        groups[key] = source
    for source in groups.values():
        if source.parts:
            source.parts = _guess_parts(source, questions)
    ids = [s.id for s in groups.values()]
    for i, source in enumerate(groups.values()):
        if ids.count(source.id) > 1:
            source.id = f"{source.id}_{i + 1}"
    return list(groups.values())


SHARE = re.compile(r"anteil|quote|prozent|%|share|percent", re.IGNORECASE)


def _shares_only(source: Source, questions: list[str]) -> None:
    """A table of shares with no count at all: a question (the monitor computes shares
    from counts, so that it can protect them; a delivered share is published only as the
    office's own, through rate_variables and an ``observed`` indicator)."""
    names = [m.variable for m in source.mappings]
    if names and not any(m.terms for m in source.mappings) and all(SHARE.search(n) for n in names):
        questions.append(
            f"Anteile ohne Zählwerte: {source.text.path.name} has shares only "
            f"({', '.join(names[:4])}{' …' if len(names) > 4 else ''}); the monitor computes "
            "shares from counts so that it can protect them — ask the office for the counts "
            "(numerators and bases) behind the shares; or, for shares the office has "
            "published itself, list them under rate_variables and give each an 'observed' "
            "indicator in your indicators.yaml: published as delivered, value only (README: "
            "Tabellen nur mit Anteilen)"
        )


def _column_variables(shape: Shape) -> list[str]:
    """The variables of a table whose every value column is '<variable> | <year>'
    (header cells merged over the years), else []."""
    split = [by_date(c) for c in shape.value_columns]
    if shape.long or not split or not all(when and parse_date(when) for _, when in split):
        return []
    return list(dict.fromkeys(variable for variable, _ in split))


def _narrowed(source: Source, others: list[str]) -> str:
    """The file pattern, its ``*`` narrowed to the digits of the date (``bezirke_*.csv`` ->
    ``bezirke_[0-9][0-9][0-9][0-9].csv``) where it would also take another delivered file
    (the boundaries ``bezirke_wkt.csv``)."""
    pattern = source.files
    if "*" not in pattern or not any(fnmatch.fnmatchcase(o, pattern) for o in others):
        return pattern
    relative = source.text.path.name
    head, tail = Path(pattern).name.split("*", 1)
    middle = relative[len(head) : len(relative) - len(tail)]
    return pattern.replace("*", re.sub(r"\d", "[0-9]", middle), 1)


def _part(source: Source, name: str) -> None:
    """Collect the ``part`` (the NN of 2023-NN) of a file name."""
    match = source.ref_date and "(?P<part>" in source.ref_date and re.search(source.ref_date, name)
    if match:
        source.parts[match["part"]] = ""


PART_GUESSES = {  # the parts found -> what they most likely mean
    frozenset({"01", "02"}): ("half-years", {"01": "06-30", "02": "12-31"}),
    frozenset({"01", "02", "03", "04"}): (
        "quarters",
        {"01": "03-31", "02": "06-30", "03": "09-30", "04": "12-31"},
    ),
}


def _guess_parts(source: Source, questions: list[str]) -> dict[str, str]:
    found = frozenset(source.parts)
    kind, parts = next(
        ((k, {p: d for p, d in v.items() if p in found}) for f, (k, v) in PART_GUESSES.items()
         if found <= f),
        ("months", {p: f"{p}-{_month_end(p)}" for p in found}),
    )  # fmt: skip
    questions.append(
        f"{source.files}: the year is followed by {', '.join(sorted(found))} — read as "
        f"{kind} ({', '.join(f'{p} = {d}' for p, d in sorted(parts.items()))}); check "
        "ref_date.parts"
    )
    return parts


def _month_end(month: str) -> str:
    ends = {"02": "28", "04": "30", "06": "30", "09": "30", "11": "30"}
    return ends.get(month, "31") if month.isdigit() and 1 <= int(month) <= 12 else "31"


def _write_recode(out: Path, source: Source, notes: list[str]) -> None:
    """The id map of codes rewritten from a parent column, beside the draft."""
    path = out.with_name(f"{out.stem}-{source.id}-codes.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(source.shape.recode.items(), key=lambda item: item[1])
    path.write_text("name;code\n" + "".join(f"{a};{b}\n" for a, b in rows), encoding="utf-8")
    source.id_map = path.name
    notes.append(f"{source.text.path.name}: id map {path.name} (codes from the parent column)")


def _variables(text: TableText, shape: Shape) -> list[str]:
    if not shape.long:
        return shape.value_columns
    at = [text.header.index(c) for c in shape.variable_columns]
    joined = (" | ".join(r[i] for i in at) for r in text.rows if len(r) == len(text.header))
    return list(dict.fromkeys(v for v in joined if v.strip(" |")))


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", normalise(text).replace(" ", "_")).strip("_")
    slug = re.sub(r"_?\d{4}(?:_\d{2}){0,2}$", "", slug) or "tabelle"
    return slug if slug[0].isalpha() else f"t_{slug}"


# --- boundaries ---------------------------------------------------------------------------


def _boundary(
    path: Path,
    raw_dir: Path,
    sources: list[Source],
    lengths: list[int],
    out: Path,
    notes: list,
    questions: list,
) -> dict | None:
    table = geometry.read_table(path, None)  # the same reader as the build
    props = [p for p, _ in table.rows]
    if len(props) == 1:  # Berlin's berlin-lor-city.geojson: the outline of the whole
        notes.append(
            f"{path.name}: one feature only ({', '.join(map(str, props[0].values()))[:60]}) — "
            "the outline of the whole city, not a level; left out (maps draw its areas)"
        )
        return None
    relative = _below(path, raw_dir)
    reading = _reading(path, table, notes) | _years(path)
    codes = {c for s in sources for c in _area_values(s) if s.shape.code_column}
    prefixes = {c[:n] for c in codes for n in range(1, len(c) + 1)}  # coarser codes too
    best = _best_field(table.fields, props, lambda v: v in prefixes)
    name_field = _name_field(table.fields, props, best)
    if best and codes:
        found = Counter(len(str(p[best])) for p in props)
        length = found.most_common(1)[0][0]
        extra = "" if length in lengths else " — a level of its own"
        notes.append(f"{path.name}: boundaries by code '{best}' ({length} characters){extra}")
        entry = {"file": relative, "id": best, "length": length, **reading, "_table": table}
        return entry | ({"name": name_field} if name_field else {})
    names = {normalise(v): v for s in sources if not s.shape.code_column for v in _area_values(s)}
    name_field = _best_field(table.fields, props, lambda v: normalise(v) in names)
    id_field = _code_field(table.fields, props, name_field)
    if not (names and name_field and id_field):
        questions.append(f"{path.name}: no property matches the areas of the tables")
        return None
    entry = _name_join(
        path, relative, props, names, name_field, id_field, sources, out, notes, questions
    )
    return entry | reading


UTM32 = (200_000, 5_000_000, 1_000_000, 6_200_000)  # metres of ETRS89 / UTM 32N in Germany


def _reading(path: Path, table, notes: list[str]) -> dict:
    """``crs`` for metres without a declared CRS (UTM 32N, as most German offices use)
    and ``swap_xy`` for latitude written before longitude."""
    if table.crs is not None:
        return {}
    x0, y0, x1, y1 = shapely.total_bounds([g for _, g in table.rows if g is not None])
    lon0, lat0, lon1, lat1 = geometry.GERMANY
    if UTM32[0] <= x0 and x1 <= UTM32[2] and UTM32[1] <= y0 and y1 <= UTM32[3]:
        notes.append(
            f"{path.name}: coordinates in metres without a declared CRS; read as "
            "EPSG:25832 (ETRS89 / UTM 32N) — check crs"
        )
        return {"crs": "EPSG:25832"}
    if lat0 <= x0 and x1 <= lat1 and lon0 <= y0 and y1 <= lon1:
        notes.append(f"{path.name}: latitude before longitude; swap_xy: true")
        return {"swap_xy": True}
    return {}


def _corrections(
    entry: dict, others: list[dict], codes: set[str], notes: list, questions: list
) -> None:
    """An id given to two features of a boundary file (Berlin's planning areas until 2020
    give 06010102 to a Steglitz and a Charlottenburg feature): the feature lying in a
    coarser area (a boundary file of the same years with shorter codes) whose code is not
    the id's prefix is proposed as a correction to the one code of the tables under that
    coarser area that no feature has; else a question."""
    table, field = entry["_table"], entry["id"]
    ids = [str(props.get(field)) for props, _ in table.rows]
    seen = Counter(ids)
    twice = sorted(i for i, n in seen.items() if n > 1)
    if not twice:
        return
    parents = [
        o
        for o in others
        if o["length"] < entry["length"]
        and o.get("until", 9999) >= entry.get("until", 9999) >= o.get("since", 0)
    ]
    parent = max(parents, key=lambda o: o["length"], default=None)
    fixes = []
    for code in twice:
        numbers = [n for n, i in enumerate(ids, start=1) if i == code]
        fix = parent and _misplaced(table, numbers, code, parent, set(ids), codes)
        if fix:
            fixes.append(fix)
            notes.append(
                f"{Path(entry['file']).name}: features {' and '.join(map(str, numbers))} both "
                f"have the id {code}; feature {fix['feature']} lies in {fix['parent']}, where "
                f"the tables have {fix['id']} and no feature does — corrected (check it)"
            )
        else:
            questions.append(
                f"{Path(entry['file']).name}: features {' and '.join(map(str, numbers))} both "
                f"have the id {code} — add a correction (README: corrections)"
            )
    if fixes:
        entry["corrections"] = [
            {
                "feature": f["feature"],
                "found": f["found"],
                "id": f["id"],
                "reason": f"imon init: two features have the id {f['found']}; this one lies in "
                f"{f['parent']}, where the tables list {f['id']}",
            }
            for f in fixes
        ]


def _misplaced(table, numbers: list[int], code: str, parent: dict, ids: set, codes: set):
    """The correction for one of ``numbers`` (features with the id ``code``), or None."""
    ptable, pfield = parent["_table"], parent["id"]
    areas = [(str(props.get(pfield)), geom) for props, geom in ptable.rows if geom is not None]
    found = []
    for number in numbers:
        geom = table.rows[number - 1][1]
        if geom is None:
            continue
        point = shapely.point_on_surface(geom)
        inside = [c for c, g in areas if g.contains(point)]
        if len(inside) == 1 and not code.startswith(inside[0]):
            free = [
                c for c in codes if c.startswith(inside[0]) and len(c) == len(code) and c not in ids
            ]
            if len(free) == 1:
                found.append({"feature": number, "found": code, "id": free[0], "parent": inside[0]})
    return found[0] if len(found) == 1 else None


def _boundary_ids(boundaries: list[dict]) -> set[str]:
    return {i for b in boundaries for i in b.get("_ids", ())}


def _level_names(
    lengths: list[int], boundaries: list[dict], sources: list[Source], raw_dir: Path, notes: list
) -> dict[int, tuple[str, str, str]]:
    """Level names (id, German, English label) by code length from what the files say: a
    boundary file's name, its GeoJSON "name" member and id property, a table's file name
    and area column where all its codes have one length — read by the ``levels`` words of
    vocabulary.yaml ('berlin-lor-district-regions', 'lor_planungsraeume' -> Bezirksregion,
    Planungsraum). Each name the most said for its length, once."""
    said: dict[int, Counter] = {}
    entries = _vocabulary()["levels"]

    def hear(length: int, texts: list[str]) -> None:
        for text in texts:
            words = normalise(text)
            entry = next((e for e in entries if _bounded(e["pattern"]).search(words)), None)
            if entry:
                said.setdefault(length, Counter())[(entry["id"], entry["de"], entry["en"])] += 1

    for b in boundaries:
        path = raw_dir / b["file"]
        hear(b["length"], [path.stem, _collection_name(path), b["id"]])
    for source in sources:
        if source.shape.code_column and len(set(source.shape.code_lengths)) == 1:
            [length] = set(source.shape.code_lengths)
            hear(length, [source.text.path.stem, source.shape.area_column or ""])
    named: dict[int, tuple[str, str, str]] = {}
    for length in lengths:
        best = said.get(length, Counter()).most_common(1)
        if best and best[0][0][0] not in {n[0] for n in named.values()}:
            named[length] = best[0][0]
    if named:
        notes.append(
            "level names from the files' names: "
            + ", ".join(f"{n} characters = {named[n][1]}" for n in sorted(named))
        )
    return named


COLLECTION = re.compile(rb'"name"\s*:\s*"([^"]{1,200})"')


def _collection_name(path: Path) -> str:
    """A GeoJSON's own "name" member (GDAL writes the layer name there, before the
    features), or ''."""
    if path.suffix.casefold() not in (".geojson", ".json"):
        return ""
    with path.open("rb") as handle:
        head = handle.read(2000)
    head = head.split(b'"features"', 1)[0]
    match = COLLECTION.search(head)
    return match[1].decode("utf-8", "replace") if match else ""


def _correspondence(
    delivered: list[Path], raw_dir: Path, codes: set[str], notes: list[str]
) -> str | None:
    """The office's correspondence list in a folder of the delivered files: a JSON object
    code -> list of codes (Berlin's berlin-lor-matches.json) whose codes are mostly codes
    (or parent codes) of the tables and boundary files; below raw_dir, or None."""
    known = {c[:n] for c in codes for n in range(1, len(c) + 1)}
    given = {p.resolve() for p in delivered}
    folders = sorted({p.resolve().parent for p in delivered})
    for path in sorted(f for folder in folders for f in folder.glob("*.json")):
        if path in given or path.stat().st_size > 20_000_000:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict) or not data or "type" in data:
            continue  # a GeoJSON or another kind of JSON
        pairs = [(k, v) for k, v in data.items() if isinstance(v, list)]
        linked = [str(c) for k, v in pairs for c in [k, *v]]
        if len(pairs) == len(data) and 2 * sum(c in known for c in linked) >= len(linked):
            relative = _below(path, raw_dir)
            notes.append(
                f"{path.name}: the office's correspondence list between boundary vintages "
                "(declared with the newest vintage, where the boundary files give several)"
            )
            return relative
    return None


UNTIL = re.compile(r"(?:until|bis)[-_ ]?(\d{4})(?!\d)", re.IGNORECASE)
SINCE = re.compile(r"(?:from|ab|seit)[-_ ]?(\d{4})(?!\d)", re.IGNORECASE)


def _years(path: Path) -> dict:
    """A boundary file's validity from its name: 'until-2020' / 'bis_2020' (last year),
    'from-2021' / 'ab_2021' (first year, from 1 January)."""
    until, since = UNTIL.search(path.stem), SINCE.search(path.stem)
    return ({"until": int(until[1])} if until else {}) | ({"since": int(since[1])} if since else {})


def _vintages(boundaries: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """(id, valid_from, boundaries) per vintage: one from 1990, and one from each year a
    boundary file's name starts; a file named 'until Y' belongs to the vintages before
    Y + 1, 'from Y' to those from Y on, any other file to all."""
    starts = sorted({b["since"] for b in boundaries if "since" in b})
    starts += [u + 1 for u in sorted({b["until"] for b in boundaries if "until" in b})]
    years = sorted(set(starts))
    vintages = [("v1", "1990-01-01", 0)] + [(f"v{y}", f"{y}-01-01", y) for y in years]
    return [
        (
            vid,
            since,
            [b for b in boundaries if b.get("since", 0) <= year and year <= b.get("until", 9999)],
        )
        for vid, since, year in vintages
    ]


def codes_used(boundary: dict) -> bool:
    """A boundary joined by code (not through an id map of names)."""
    return "id_map_lengths" not in boundary


def _area_values(source: Source) -> set[str]:
    at = source.text.header.index(source.shape.area_column) if source.shape.area_column else None
    if at is None:
        return set()
    city = set(source.shape.city_codes)
    rows = [r for text in [source.text, *source.more] for r in text.rows]
    return {r[at] for r in rows if at < len(r) and r[at] and r[at] not in city}


def _best_field(fields: list[str], props: list[dict], hit) -> str | None:
    scores = {f: sum(1 for p in props if p.get(f) is not None and hit(str(p[f]))) for f in fields}
    best = max(scores, key=scores.get, default=None)
    return best if best and scores[best] >= len(props) / 2 else None


def _name_field(fields: list[str], props: list[dict], not_this: str | None) -> str | None:
    """The first field whose every value has a letter and most a word of three (Berlin's
    forecast areas include 'CW 1', 'SPA 2' beside 'Moabit')."""
    for f in fields:
        values = [str(p.get(f) or "") for p in props]
        words = sum(1 for v in values if re.search(r"[A-Za-zÄÖÜäöüß]{3}", v))
        if (
            f != not_this
            and all(re.search(r"[A-Za-zÄÖÜäöüß]", v) for v in values)
            and 2 * words >= len(values)
        ):
            return f
    return None


def _code_field(fields: list[str], props: list[dict], not_this: str | None) -> str | None:
    for f in fields:
        values = [str(p.get(f) or "") for p in props]
        digits = all(re.fullmatch(r"\d+", v) for v in values)
        fixed = len({len(v) for v in values}) == 1
        if f != not_this and digits and fixed and len(set(values)) == len(values):
            return f
    return None


def _name_join(path, relative, props, names, name_field, id_field, sources, out, notes, questions):
    """Areas keyed by name: the id map name -> code from the boundary file, written beside
    the draft for the office to review (exact after normalising; close names only
    suggested, never joined)."""
    by_name = {normalise(str(p[name_field])): (str(p[id_field]), str(p[name_field])) for p in props}
    rows, missing, combined = [], [], []
    for key, name in sorted(names.items()):
        if key in by_name:
            rows.append((name, by_name[key][0]))
            continue
        members = _published_together(name, by_name)
        if members:
            combined.append({"id": members[0], "members": members, "name": name})
            rows.append((name, members[0]))
            continue
        close = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.5)
        hint = f" (close: '{by_name[close[0]][1]}', not joined)" if close else ""
        missing.append(f"'{name}'{hint}")
    map_path = out.with_name(f"{out.stem}-gebiete.csv")
    map_path.parent.mkdir(parents=True, exist_ok=True)
    map_path.write_text("name;code\n" + "".join(f"{n};{c}\n" for n, c in rows), encoding="utf-8")
    notes.append(
        f"{path.name}: {len(rows)} area names joined to '{id_field}' by name '{name_field}'; "
        f"id map {map_path.name} (review it)"
    )
    if missing:
        questions.append(
            f"{len(missing)} area name(s) not in {path.name}: {', '.join(missing)} — add them "
            f"to {map_path.name} with their codes"
        )
    for unit in combined:
        notes.append(
            f"'{unit['name']}': areas {' and '.join(unit['members'])} published together — "
            f"one unit {unit['id']} (geography.combined), its boundary the union of theirs"
        )
    for source in sources:
        if not source.shape.code_column:
            source.id_map = map_path.name
    length = len(str(props[0][id_field]))
    return {
        "file": relative, "id": id_field, "name": name_field, "length": length,
        "id_map_lengths": [length], "combined": combined,
    }  # fmt: skip


TOGETHER = re.compile(r"\s+(?:und|u\.)\s+|\s*[&/+]\s*|\s*,\s*", re.IGNORECASE)


def _published_together(name: str, by_name: dict[str, tuple[str, str]]) -> list[str]:
    """The codes of the areas a row such as "Altstadt und Neustadt" (also "A/B", "A & B",
    "A, B und C") publishes together, when every part is a boundary's name; else []."""
    parts = [normalise(p) for p in TOGETHER.split(name) if p.strip()]
    if len(parts) < 2 or not all(p in by_name for p in parts):
        return []
    return sorted({by_name[p][0] for p in parts})


# --- the profile text ---------------------------------------------------------------------


def _profile_text(
    out: Path,
    raw_dir: Path,
    sources: list[Source],
    lengths: list[int],
    boundaries: list[dict],
    questions: list[str],
    named: dict[int, tuple[str, str, str]],
    listed: str | None,
) -> str:
    numbered = [(f"ebene_{i + 1}", f"Ebene {i + 1}", f"Level {i + 1}") for i in range(len(lengths))]
    names = LEVEL_NAMES.get(len(lengths)) or numbered
    if named:  # the files' own names; a level they do not name keeps its default name
        taken = {n[0] for n in named.values()}  # unless the files give it to another level
        names = [
            named.get(n) or (names[i] if names[i][0] not in taken else numbered[i])
            for i, n in enumerate(lengths)
        ]
    levels = list(zip(names, lengths, strict=True))
    title = _city(sources) or out.stem.capitalize()
    lines = _head_lines(out, raw_dir, len(sources), title, questions)
    lines += _level_lines(levels, title, boundaries, listed)
    lines.append("tables:")
    for source in sources:
        lines += _table_lines(source)
    lines += [
        "# Statistical disclosure control (docs/DISCLOSURE.md): cell suppression with the",
        "# defaults — counts 1-2 and what reveals them are withheld.",
        "disclosure:",
        "  method: suppression",
    ]
    return "\n".join(lines) + "\n"


def _city(sources: list[Source]) -> str | None:
    """The city's name from its own row, unless it is only "Stadt insgesamt"."""
    city = next((s.shape.city_name for s in sources if s.shape.city_name), "")
    city = re.sub(CITY_NAME.pattern, " ", city, flags=re.IGNORECASE).strip(" ,-")
    return city if city and normalise(city) not in ("stadt", "gesamtstadt") else None


def _head_lines(
    out: Path, raw_dir: Path, tables: int, title: str, questions: list[str]
) -> list[str]:
    here = out.parent.resolve()
    lines = [
        f"# Draft profile written by `imon init` from {tables} table(s); review it, then",
        f"#   imon build --profile {out.name}",
        "# Every decision is commented; lines starting with '#   -' are mappings imon init was",
        "# not sure of: remove the '#' where they are right.",
    ]
    lines += ["#", "# OPEN QUESTIONS:"] + [f"#  - {q}" for q in questions] if questions else []
    return lines + [
        f"instance: {_y(_slug(out.stem).replace('_', '-'))}",
        f"title: {_y(title)}",
        f"raw_dir: {_y(os.path.relpath(raw_dir, here))}",
        "curated_dir: curated",
        f"indicators: {_y(os.path.relpath(REPO_ROOT / 'indicators.yaml', here))}",
    ]


def _level_lines(
    levels: list[tuple], title: str, boundaries: list[dict], listed: str | None = None
) -> list[str]:
    """``levels:`` and ``geography:`` (code hierarchy, one vintage, the boundaries)."""
    lines = [
        "levels:   # coarse to fine; the ids and labels are yours to rename",
        '  - {id: city, label_de: "Stadt", label_en: "City"}',
    ]
    for (level, de, en), length in levels:
        lines.append(
            f"  - {{id: {level}, label_de: {_y(de)}, label_en: {_y(en)}}}"
            f"  # {length}-character codes"
        )
    lines += [
        "geography:",
        "  adapter: code_hierarchy   # the code of an area starts with its parent's code",
        f"  root: {{id: {ROOT}, name: {_y(title)}}}",
        "  code_lengths: {" + ", ".join(f"{lv[0]}: {n}" for lv, n in levels) + "}",
        "  vintages:",
    ]
    if not boundaries:
        return lines + [
            "    - id: v1",
            "      valid_from: 1990-01-01",
            "      boundaries: []   # no boundary file given: no maps (imon init --geometry FILE)",
        ]
    by_length = {n: lv[0] for lv, n in levels}
    vintages = _vintages(boundaries)
    for number, (vid, since, members) in enumerate(vintages):
        why = "" if len(vintages) == 1 else "   # from the years in the boundary files' names"
        lines += [f"    - id: {vid}", f"      valid_from: {since}{why}"]
        if listed and number == len(vintages) - 1 and number:
            lines.append(
                f"      correspondence: {{file: {_y(listed)}, level: {levels[-1][0][0]}}}"
                "   # the office's list: which earlier areas became which"
            )
        lines.append("      boundaries:")
        for b in members:
            level = by_length.get(b["length"], levels[-1][0][0])
            name = f", name: {_y(b['name'])}" if b.get("name") else ""
            name += "".join(f", {key}: {_y(b[key])}" for key in ("crs", "swap_xy") if key in b)
            if b.get("corrections"):
                name += ", corrections: " + json.dumps(b["corrections"], ensure_ascii=False)
            lines.append(
                f"        - {{level: {level}, file: {_y(b['file'])}, id: {_y(b['id'])}{name}}}"
            )
        if not members:
            lines[-1] += " []"
    combined = [unit for b in boundaries for unit in b.get("combined", [])]
    if combined:
        lines.append(
            "  combined:   # areas published together (one row): one unit, the union of "
            "their boundaries"
        )
        lines += [
            f"    - {{id: {_y(u['id'])}, members: {_y(u['members'])}, name: {_y(u['name'])}}}"
            for u in combined
        ]
    return lines


def _table_lines(source: Source) -> list[str]:
    text = source.text
    lines = [
        f"  - id: {source.id}",
        "    adapter: long_table",
        f"    files: {_y(source.files)}",
        f"    attribution: {_y('Eigene Daten (' + text.path.name + ')')}"
        "   # the source line under every chart",
    ]
    if text.json_keys is not None:
        lines.append(
            f"    json_keys: {_y(text.json_keys)}   # the levels of the JSON, outermost first"
        )
    if text.encoding:
        lines.append(f"    encoding: {_y(text.encoding)}")
        lines.append(f"    separator: {_y(text.separator)}")
    if text.header_row != 1:
        lines.append(f"    header_row: {text.header_row}")
    if text.footer_lines:
        lines.append(f"    footer_lines: {text.footer_lines}   # notes below the table")
    lines.append(f"    decimal: {_y(text.decimal)}")
    if text.thousands:
        lines.append(f"    thousands: {_y(text.thousands)}")
    lines += _area_lines(source) + _date_lines(source) + _variable_lines(source)
    lines.append("    counts:")
    return lines + _count_lines(source.mappings)


def _area_lines(source: Source) -> list[str]:
    shape = source.shape
    lines = [f"    area_column: {_y(shape.area_column)}"]
    if source.id_map:
        lines.append(f"    id_map: {_y(source.id_map)}   # names -> codes; review it")
    if shape.name_column:
        lines.append(
            f"    name_column: {_y(shape.name_column)}"
            "   # area names where no boundary file has them"
        )
    if shape.city_codes:
        lines.append(f"    city_codes: {_y(shape.city_codes)}   # the city's own rows")
    if shape.city_codes or len(shape.code_lengths) > 1:
        lines.append(
            '    # unassigned: "nicht zugeordnet"   # office totals above the sum of their parts:'
            " the difference as a unit of residents without a district"
        )
    return lines


def _date_lines(source: Source) -> list[str]:
    if source.column_dates:
        return ["    date_in_column: true   # the year in each column's name ('Einwohner | 2023')"]
    if source.shape.date_column:
        return [f"    date_column: {_y(source.shape.date_column)}   # a year means its 31 December"]
    if source.ref_date and source.parts:
        return [
            f"    ref_date: {{regex: {_y(source.ref_date)}, parts: {_y(source.parts)}}}"
            "   # QUESTION: check what the number after the year means"
        ]
    if source.ref_date:
        return [f"    ref_date: {{regex: {_y(source.ref_date)}}}   # the date in the file name"]
    return []


def _variable_lines(source: Source) -> list[str]:
    shape = source.shape
    if shape.long:
        columns = shape.variable_columns
        return [
            f"    variable_column: {_y(columns[0] if len(columns) == 1 else columns)}",
            f"    value_column: {_y(shape.value_column)}",
        ]
    used = [m.variable for m in source.mappings if m.terms]
    return [f"    value_columns: {_y(used or source.column_dates or shape.value_columns)}"]


def _count_lines(mappings: list[Mapping]) -> list[str]:
    lines, taken = [], set()
    for m in mappings:
        term = m.terms[0] if len(m.terms) == 1 else list(m.terms)
        entry = f"{{term: {_y(term)}, add: {_y(m.variable)}}}"
        key = tuple(sorted(m.terms))
        if m.terms and m.sure and key not in taken:
            taken.add(key)
            lines.append(f"      - {entry}   # sure")
        elif m.terms and m.sure:
            lines.append(f"#     - {entry}   # not used: '{_y(term)}' is mapped above already")
        elif m.terms:
            lines.append(f"#     - {entry}   # unsure: {m.reason}")
        else:
            lines.append(f"#     '{m.variable}': not mapped — {m.reason}")
    if not taken:
        lines.append("      []   # QUESTION: no variable mapped for sure; see the lines above")
    return lines
