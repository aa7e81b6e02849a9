"""``imon init`` for GENESIS / Regionaldatenbank exports (etl/sources/genesis_csv.py).

An export is read with the build's own reader; the draft follows the hand-written
profiles (profiles/rlp-kreise.yaml): one ``genesis_csv`` table per export, its cells
selected by column header path (``variable``) and row labels (``dims``); the Land as the
root, Kreise (and Gemeinden where the table lists them for every Kreis) as levels.

What the file says: the table number (line 1), the measure (a header label or the
title, by the ``genesis`` section of vocabulary.yaml), the groups (header labels by the
vocabulary of ``imon init``), age bands ("15 bis unter 18 Jahre"), summed to the age
groups of indicators.yaml where the bands tile them exactly, and the region level (the
region codes). What it cannot say — which Land a Germany-wide table is about — is one
question, its likely answer drafted (from the boundary files' codes, else the names of
the profile, the tables and the boundary files, else the first Land of the table) and
written once, as a YAML anchor, so that answering it is editing one line.

Only cells whose term an indicator of the catalogue uses are drafted as counts; the
others are written commented out with the reason.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl.errors import ConfigError
from etl.indicators.spec import load_catalogue, term_key
from etl.onboarding.common import below as _below
from etl.onboarding.common import flow as _y
from etl.onboarding.vocabulary import _bounded, _vocabulary, classify
from etl.profile import REPO_ROOT
from etl.sources import geometry
from etl.sources.genesis_csv import FIRST_LINE, LABEL_SEP, GenesisTable, read_table
from etl.sources.id_map import normalise

GENESIS = FIRST_LINE.encode("ascii")
ATTRIBUTION = "© Statistische Ämter des Bundes und der Länder, Regionaldatenbank Deutschland"
BA = "Bundesagentur für Arbeit"  # named in the title: its statistics are the source too
LEVELS = {  # AGS length -> level id, labels
    5: ("kreis", "Kreis / kreisfreie Stadt", "County / county-level city"),
    8: ("gemeinde", "Gemeinde", "Municipality"),
}
PLURAL = {5: "Kreise", 8: "Gemeinden"}
AGE = [  # age band labels -> (from, below); None: no upper bound
    (re.compile(r"unter (\d+) jahre?n?"), lambda m: (0, int(m[1]))),
    (re.compile(r"(\d+) bis unter (\d+) jahre?n?"), lambda m: (int(m[1]), int(m[2]))),
    (re.compile(r"(\d+) jahre?n? und (?:mehr|aelter|darueber)"), lambda m: (int(m[1]), None)),
]


def is_genesis(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(400).removeprefix(b"\xef\xbb\xbf").startswith(GENESIS)


@dataclass
class Cells:
    """One count of the draft: a term and the cells summed for it."""

    terms: tuple[str, ...]
    variables: list[str]
    dims: list[str]
    reason: str = ""  # why it is not drafted ("" = drafted)


@dataclass
class Export:
    path: Path
    files: str  # pattern below raw_dir
    table: GenesisTable
    counts: list[Cells] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "genesis_" + re.sub(r"\W", "_", self.table.table_id.split("-")[0])


def draft(
    out: Path, paths: list[Path], geometries: list[Path], raw_dir: Path, catalogue: Path
) -> tuple[list[str], list[str], list[str]]:
    """(profile lines, notes, questions) of a profile of GENESIS exports only."""
    notes: list[str] = []
    questions: list[str] = []
    exports = _one_per_table([_export(p, raw_dir) for p in sorted(paths)], raw_dir, questions)
    rows = pd.concat([e.table.rows[["region_code", "region_name"]] for e in exports])
    regions = rows.drop_duplicates("region_code").set_index("region_code")["region_name"]
    regions = regions.str.strip()
    lander = regions[(regions.index.str.len() == 2) & regions.index.str.isdigit()]
    if lander.empty:
        raise ConfigError(
            f"{paths[0]}: no Land row (a 2-digit region code in column 2); imon init drafts "
            "GENESIS tables of Kreise or Gemeinden with their Land's row"
        )
    tables = [_below(p, raw_dir) for p in paths]
    boundaries = [_boundary(g, raw_dir, set(regions.index), notes) for g in geometries]
    land = _land(lander, out, tables, geometries, boundaries, notes, questions)
    lengths = _lengths(regions.index, land, notes, paths[0])
    used = _used_terms(catalogue)
    ages = _age_groups(catalogue)
    for export in exports:
        _counts(export, used, ages)
        drafted = sum(1 for c in export.counts if not c.reason)
        notes.append(
            f"{export.path.name}: GENESIS table {export.table.table_id}, {drafted} count(s) "
            f"drafted, {len(export.counts) - drafted + len(export.unmapped)} left out (commented)"
        )
    if not any(not c.reason for e in exports for c in e.counts):
        questions.append(
            "no cell of the GENESIS table(s) is a count an indicator of indicators.yaml uses "
            "(their measures and groups are listed, commented out, in the draft): add the "
            "measure to indicators.yaml and its words to the 'genesis' section of "
            "etl/onboarding/vocabulary.yaml, then run imon init again"
        )
    lines = _lines(out, raw_dir, exports, land, lander[land], lengths, boundaries, questions)
    return lines, notes, questions


def _export(path: Path, raw_dir: Path) -> Export:
    table = read_table(path)  # the build's reader: the same errors, file and line
    relative = _below(path, raw_dir)
    name = Path(relative).name
    at = name.find(table.table_id)
    if at >= 0:  # a later download of the same table (other years in the name) matches too
        end = at + len(table.table_id)
        suffix = "".join(Path(name).suffixes[-1:])
        name = name[:end] + ("*" + suffix if name[end:] != suffix else suffix)
    return Export(path, str(Path(relative).parent / name).removeprefix("./"), table)


def _one_per_table(exports: list[Export], raw_dir: Path, questions: list[str]) -> list[Export]:
    """One entry per table number: later downloads of a table (other years) are files of
    the first one's pattern; one its pattern does not take is a question."""
    first: dict[str, Export] = {}
    for export in exports:
        earlier = first.setdefault(export.table.table_id, export)
        if earlier is not export and not fnmatch.fnmatchcase(
            _below(export.path, raw_dir), earlier.files
        ):
            questions.append(
                f"{export.path.name}: table {export.table.table_id} again, in a file the "
                f"pattern {earlier.files} does not take — rename it like {earlier.path.name}"
            )
    return list(first.values())


# --- the Land, the levels, the boundaries -----------------------------------------------


def _land(lander, out, tables, geometries, boundaries, notes, questions) -> str:
    """The Land of the instance: the one of the table, or a question with the likely
    answer (see module doc)."""
    if len(lander) == 1:
        return lander.index[0]
    codes = {c[:2] for b in boundaries if b for c in b["codes"]}
    why = ""
    if len(codes) == 1 and codes <= set(lander.index):
        land = codes.pop()
        why = "the boundary files' codes all lie in it"
    else:
        land, why = _land_by_name(lander, [out.stem, *tables, *(g.name for g in geometries)])
    if not why:
        land, why = lander.index[0], "no hint in the file names: the first Land of the table"
    others = ", ".join(f"{c} {n}" for c, n in lander.items())
    questions.append(
        f"Welches Land? The GENESIS table(s) cover {len(lander)} Länder; drafted: {land} "
        f"{lander[land]} ({why}). To choose another, edit the line 'root:' of the draft "
        f"(code and name; the code is used for member_prefix and id_prefix too): {others}"
    )
    return land


def _land_by_name(lander: pd.Series, names: list[str]) -> tuple[str, str]:
    """The one Land whose name or short name (vocabulary.yaml) the names mention."""
    short = _vocabulary()["genesis"]["laender"]
    words = {w for n in names for w in normalise(Path(n).stem).split()}
    text = " " + " ".join(normalise(Path(n).stem) for n in names) + " "
    found = {
        code
        for code, name in lander.items()
        if f" {normalise(name)} " in text or words & set(short.get(code, []))
    }
    if len(found) == 1:
        land = found.pop()
        return land, "named in the profile's or the files' names"
    return "", ""


def _lengths(codes: pd.Index, land: str, notes: list[str], path: Path) -> list[int]:
    """The levels below the Land: Kreise, and Gemeinden if every Kreis has some (a Kreis
    table lists a few Gemeinden only, e.g. Hannover in Region Hannover)."""
    mine = pd.Series(codes[codes.str.startswith(land) & codes.str.isdigit()])
    found = Counter(mine.str.len())
    kreise = set(mine[mine.str.len() == 5])
    gemeinden = set(mine[mine.str.len() == 8])
    lengths = [5] if kreise else []
    if gemeinden and (not kreise or kreise <= {g[:5] for g in gemeinden}):
        lengths.append(8)
    elif gemeinden:
        notes.append(
            f"{len(gemeinden)} Gemeinde row(s) of Land {land} left out: the table lists "
            "Gemeinden for a few Kreise only"
        )
    if found.get(3):
        notes.append(f"{found[3]} Regierungsbezirk row(s) of Land {land}: checked, not a level")
    if not lengths:
        raise ConfigError(
            f"{path}: no Kreis or Gemeinde rows of Land {land} (region codes of 5 or 8 digits "
            "in column 2); imon init drafts GENESIS tables of Kreise or Gemeinden"
        )
    return lengths


def _boundary(path: Path, raw_dir: Path, codes: set[str], notes: list[str]) -> dict | None:
    """The boundary file's code field (most values among the table's region codes), its
    level and name (a template of two fields where one alone repeats a name)."""
    table = geometry.read_table(path, None)
    props = [p for p, _ in table.rows]
    scores = {f: sum(1 for p in props if str(p.get(f)) in codes) for f in table.fields}
    best = max(scores, key=scores.get, default=None)
    if not best or scores[best] < len(props) / 2:
        notes.append(f"{path.name}: no property holds the table's region codes — left out")
        return None
    found = [str(p[best]) for p in props if str(p.get(best)) in codes]
    length = Counter(len(c) for c in found).most_common(1)[0][0]
    texts = [
        f
        for f in table.fields
        if f != best and all(re.search(r"[A-Za-zÄÖÜäöüß]{2}", str(p.get(f) or "")) for p in props)
    ]
    entry = {"file": _below(path, raw_dir), "id": best, "length": length, "codes": found}
    if texts:
        name = texts[0]
        twice = Counter(str(p[name]) for p in props)
        if len(texts) > 1 and max(twice.values()) > 1:
            entry["name_template"] = f"{{{name}}}, {{{texts[1]}}}"
        else:
            entry["name"] = name
    notes.append(f"{path.name}: boundaries by code '{best}' ({length} digits)")
    return entry


# --- the counts -------------------------------------------------------------------------


def _used_terms(catalogue: Path) -> set[tuple[str, ...]]:
    """Every term an indicator uses; a balance's terms by its two components."""
    cat = load_catalogue(catalogue)
    used = {term_key(ref) for ind in cat.indicators for ref in ind.terms().values()}
    for name, measure in cat.measures.items():
        for key in [k for k in used if name in k and measure.balance]:
            used |= {term_key([*(set(key) - {name}), part]) for part in measure.balance}
    return used


def _age_groups(catalogue: Path) -> dict[str, tuple[int, int | None]]:
    """The catalogue's age groups as [from, below): '00-05', '06-14', '15-17' -> (0, 18)."""
    groups = {}
    for name, spec in load_catalogue(catalogue).groups.items():
        if set(spec) != {"age_group"}:
            continue
        bounds = [re.fullmatch(r"(\d+)(?:-(\d+)|\+)", str(v)) for v in spec["age_group"]]
        if all(bounds):
            top = [int(b[2]) + 1 if b[2] else None for b in bounds]
            groups[name] = (min(int(b[1]) for b in bounds), None if None in top else max(top))
    return groups


def _label(text: str, vocab: dict) -> tuple[str, object]:
    """('measure', term) | ('age', (from, below)) | ('groups', terms) | ('neutral', None)
    | ('unknown', reason) for one header or row label."""
    norm = normalise(text)
    for entry in vocab["measures"]:
        if re.fullmatch(entry["pattern"], norm):
            return "measure", entry["term"]
    for pattern, bounds in AGE:
        match = pattern.fullmatch(norm)
        if match:
            return "age", bounds(match)
    if re.fullmatch(vocab["neutral"], norm):
        return "neutral", None
    mapping = classify(text)
    if mapping.sure and mapping.terms == ("total",):
        return "neutral", None
    if mapping.sure:
        return "groups", mapping.terms
    return "unknown", mapping.reason or "not understood"


def _counts(export: Export, used: set, ages: dict) -> None:
    """Cells -> counts (see module doc); ``export.counts`` in file order."""
    vocab = _vocabulary()["genesis"]
    title = normalise(export.table.title)
    in_title = {e["term"] for e in vocab["measures"] if _bounded(e["pattern"]).search(title)}
    population = bool(_bounded(vocab["population"]).search(title))
    pairs = export.table.rows[["variable", "dims"]].drop_duplicates()
    banded: dict[tuple, list[tuple]] = {}
    plain: list[Cells] = []
    for variable, dims in pairs.itertuples(index=False):
        labels = variable.split(LABEL_SEP) + (dims.split(LABEL_SEP) if dims else [])
        kinds = [_label(label, vocab) for label in labels]
        measures = {v for k, v in kinds if k == "measure"} or in_title
        groups = {g for k, v in kinds if k == "groups" for g in v}
        unknown = [v for k, v in kinds if k == "unknown"]
        age = [(i, v) for i, (k, v) in enumerate(kinds) if k == "age"]
        reason = (
            f"'{labels[[k for k, _ in kinds].index('unknown')]}': {unknown[0]}"
            if unknown
            else f"several measures ({', '.join(sorted(measures))})"
            if len(measures) > 1
            else "the table's measure is not in indicators.yaml"
            if not measures and not population
            else ""
        )
        terms = tuple(sorted(measures | groups)) or ("total",)
        if reason:
            export.unmapped.append(f"{_selector([variable], [dims] if dims else [])}: {reason}")
        elif len(age) == 1:
            at, bounds = age[0]
            key = (terms, tuple(label for i, label in enumerate(labels) if i != at), at)
            banded.setdefault(key, []).append((bounds, variable, dims))
        elif age:
            export.unmapped.append(f"{_selector([variable], [dims])}: several age labels")
        else:
            plain.append(Cells(terms, [variable], [dims] if dims else []))
    export.counts = plain + _summed_ages(banded, ages, export.unmapped)
    taken = set()
    for cells in export.counts:
        key = term_key(list(cells.terms))
        if key not in used:
            cells.reason = "no indicator of indicators.yaml uses it"
        elif key in taken:
            cells.reason = "mapped above already"
        taken.add(key)


def _summed_ages(banded: dict, ages: dict, unmapped: list[str]) -> list[Cells]:
    """Age bands that tile [0, ∞) summed to every catalogue age group they tile exactly."""
    out = []
    for (terms, _, _), bands in banded.items():
        bands = sorted(bands, key=lambda b: b[0][0])
        edges = [b[0] for b in bands]
        tiled = (
            edges[0][0] == 0
            and edges[-1][1] is None
            and all(a[1] == b[0] for a, b in zip(edges, edges[1:], strict=False))
        )
        if not tiled:
            unmapped.append(
                f"{_selector([b[1] for b in bands], [b[2] for b in bands])}: age bands that do "
                "not cover all ages without overlap"
            )
            continue
        for group, (low, high) in ages.items():
            inside = [
                b for b in bands if b[0][0] >= low and (high is None or (b[0][1] or 1e9) <= high)
            ]
            if not inside or inside[0][0][0] != low or inside[-1][0][1] != high:
                continue  # the bands do not end where the group ends
            variables = list(dict.fromkeys(b[1] for b in inside))
            dims = list(dict.fromkeys(b[2] for b in inside if b[2]))
            out.append(Cells(tuple(sorted({*terms, group} - {"total"})), variables, dims))
    return out


# --- the profile text -------------------------------------------------------------------


def _selector(variables: list[str], dims: list[str]) -> str:
    variable = variables[0] if len(variables) == 1 else variables
    if not dims:
        return _y(variable)
    return f"{{variable: {_y(variable)}, dims: {_y(dims[0] if len(dims) == 1 else dims)}}}"


def _lines(out, raw_dir, exports, land, land_name, lengths, boundaries, questions) -> list[str]:
    here = out.parent.resolve()
    title = f"{land_name} ({PLURAL[lengths[-1]]})"
    lines = [
        f"# Draft profile written by `imon init` from {len(exports)} GENESIS table(s); "
        "review it, then",
        f"#   imon build --profile {out.name}",
        "# Cells are selected by their column header path (variable, header rows joined by",
        "# ' | ') and row labels (dims); lines starting with '#' were left out, with the reason.",
    ]
    if questions:
        lines += ["#", "# OPEN QUESTIONS:"] + [f"#  - {q}" for q in questions]
    lines += [
        f"instance: {_y(re.sub(r'[^a-z0-9]+', '-', normalise(out.stem)).strip('-') or 'land')}",
        f"title: {_y(title)}",
        f"raw_dir: {_y(os.path.relpath(raw_dir, here))}",
        "curated_dir: curated",
        f"indicators: {_y(os.path.relpath(REPO_ROOT / 'indicators.yaml', here))}",
        "levels:",
        "  - {id: land, label_de: Land, label_en: State}",
    ]
    lines += [
        f"  - {{id: {LEVELS[n][0]}, label_de: {_y(LEVELS[n][1])}, label_en: {_y(LEVELS[n][2])}}}"
        for n in lengths
    ]
    question = "   # QUESTION: the Land (see above)" if questions else ""
    lines += [
        "geography:",
        "  adapter: code_hierarchy   # AGS: a Kreis code starts with its Land's",
        f"  root: {{id: &land {_y(land)}, name: {_y(land_name)}}}{question}",
        "  code_lengths: {" + ", ".join(f"{LEVELS[n][0]}: {n}" for n in lengths) + "}",
        "  member_prefix: *land   # the rows of this Land are kept",
        "  vintages:",
        "    - id: v1",
        "      valid_from: 1990-01-01",
    ]
    entries = [b for b in boundaries if b and b["length"] in lengths]
    lines.append("      boundaries:" + ("" if entries else " []   # no boundary file: no maps"))
    for b in entries:
        name = (
            f", name_template: {_y(b['name_template'])}"
            if "name_template" in b
            else f", name: {_y(b['name'])}"
            if "name" in b
            else ""
        )
        lines.append(
            f"        - {{level: {LEVELS[b['length']][0]}, file: {_y(b['file'])}, "
            f"id: {_y(b['id'])}{name}, id_prefix: *land}}"
        )
    lines.append("tables:")
    for export in exports:
        lines += _table_lines(export)
    return lines + [
        "# Statistical disclosure control (docs/DISCLOSURE.md): tables without microdata, so",
        "# cell suppression with the defaults — counts 1-2 and what reveals them are withheld.",
        "disclosure:",
        "  method: suppression",
    ]


def _table_lines(export: Export) -> list[str]:
    table = export.table
    attribution = ATTRIBUTION + (f"; Statistik der {BA}" if BA in table.title else "")
    lines = [
        f"  - id: {export.id}   # {table.title[:70]}",
        "    adapter: genesis_csv",
        f"    files: {_y(export.files)}",
        f"    attribution: {_y(attribution)}",
        "    counts:",
    ]
    drafted = [c for c in export.counts if not c.reason]
    for cells in export.counts:
        term = cells.terms[0] if len(cells.terms) == 1 else list(cells.terms)
        entry = f"{{term: {_y(term)}, add: {_selector(cells.variables, cells.dims)}}}"
        lines.append(
            f"      - {entry}" if not cells.reason else f"#     - {entry}   # {cells.reason}"
        )
    lines += [f"#     not mapped: {u}" for u in export.unmapped]
    if not drafted:  # a table without counts is no table: all of it commented out
        why = "#   no cell of this table is a count an indicator of indicators.yaml uses"
        return [why] + [line if line.startswith("#") else f"# {line}" for line in lines]
    return lines
