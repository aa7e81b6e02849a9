"""The project-indicator workbook: ``imon goals template`` writes it, the integration
office fills it in, ``imon refresh`` takes it in like any delivery.

Layout: a sheet ``Hinweise`` (instructions, the indicators with baseline and target), then
one sheet per action field (its ``sheet_name``) with the columns of :data:`HEADER`. The
header row is locked (sheet protection: it guards against slips, not against intent —
with a password the office chooses, ``imon goals template --password-file`` or the
environment variable :data:`PASSWORD_ENV`, never one kept in the code; without one the
protection has no password); the data rows are open. Data validation: the indicator id
from a list of the field's project indicators, the date between :data:`FIRST_DATE` and
:data:`LAST_DATE`, the value a number ≥ 0 (0 or 1 for a milestone). The template prefills
one row per project indicator and year since its baseline; a row without a value is not a
delivery.

Reading (:func:`read`) checks every row and raises one :class:`InputError` naming file,
sheet, row and column: a sheet no action field has, a changed header, an unknown
indicator, a date that is none or lies before the indicator's baseline or after today,
text in the value column, a value its measure does not allow, the same indicator and date
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from etl.errors import InputError
from etl.goals.model import ActionField, GoalIndicator, Goals

INSTRUCTIONS = "Hinweise"
HEADER = ("Indikator-ID", "Indikator", "Einheit", "Stichtag", "Wert", "Anmerkung")
ID_COL, DATE_COL, VALUE_COL = 1, 4, 5
OPEN_ROWS = 500  # data rows open for input below the header
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)
DATE_FORMAT = "DD.MM.YYYY"
PASSWORD_ENV = "IMON_WORKBOOK_PASSWORD"  # the header protection's password, if set


@dataclass(frozen=True)
class Row:
    """One delivered value: where it stands in the workbook and what it says."""

    indicator_id: str
    ref_date: date
    value: float
    sheet: str
    row: int


# --- template ------------------------------------------------------------------------------


def write_template(
    goals: Goals, out: Path, title: str, until: int | None = None, password: str | None = None
) -> Path:
    """Write the workbook for ``goals`` to ``out`` (prefilled rows up to year ``until``,
    default the current year; the header protected with ``password``, if given); the file
    appears complete or not at all."""
    until = until or date.today().year
    book = openpyxl.Workbook()
    _instructions(book.active, goals, title)
    for field in goals.action_fields:
        if goals.project_indicators(field):
            sheet = book.create_sheet(field.sheet_name)
            _field_sheet(sheet, goals, field, until)
            if password:
                sheet.protection.set_password(password)  # stored as Excel's hash only
    part = out.with_name(f".{out.name}.part")
    try:
        book.save(part)
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return out


def template_password(path: Path | None, environ: dict[str, str]) -> str | None:
    """The office's password for the header protection: the first line of ``path`` (a
    file only the office reads), else :data:`PASSWORD_ENV`; None when neither is given.
    An empty file is an error (a forgotten password must not pass as none)."""
    if path is None:
        return environ.get(PASSWORD_ENV) or None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"password file not readable ({exc})") from exc
    if not lines or not lines[0].strip():
        raise InputError(path, "the password is empty (expected it in the first line)", line=1)
    return lines[0].strip()


def _instructions(sheet, goals: Goals, title: str) -> None:
    sheet.title = INSTRUCTIONS
    lines = [
        f"Projektindikatoren – {title}",
        "DEMO-DATEN: fiktive Werte der Beispielstadt" if goals.demo else "",
        "Bitte je Handlungsfeld (ein Blatt je Handlungsfeld) für jeden Indikator und Stichtag "
        "eine Zeile ausfüllen: Indikator-ID, Stichtag (TT.MM.JJJJ), Wert.",
        "Zeilen ohne Wert werden nicht übernommen. Kopfzeilen und Blattnamen nicht ändern.",
        "Meilensteine: 1 = realisiert, 0 = noch nicht realisiert.",
        "Personenzahlen unter der Mindestfallzahl werden nicht veröffentlicht.",
        "Die ausgefüllte Datei mit 'imon refresh DATEI' übernehmen.",
        "",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Handlungsfeld", "Ziel", "Indikator-ID", "Indikator", "Einheit",
                  "Ausgangswert", "am", "Zielwert", "Zieldatum", "Richtung"])  # fmt: skip
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for field, goal, ind in goals.indicators():
        if ind.project is None:
            continue
        sheet.append(_overview_row(field, goal.title.de, ind))
        for column in ("G", "I"):
            sheet[f"{column}{sheet.max_row}"].number_format = DATE_FORMAT
    for column, width in zip("ABCDEFGHIJ", (24, 30, 24, 40, 16, 12, 12, 10, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width


def _overview_row(field: ActionField, goal: str, ind: GoalIndicator) -> list:
    target = ind.target
    return [
        field.title.de,
        goal,
        ind.id,
        ind.title.de,
        ind.project.unit.de,
        ind.baseline.value,
        ind.baseline.date,
        target.value if target else None,
        target.date if target else None,
        "steigend" if ind.direction == "increase" else "fallend",
    ]


def _field_sheet(sheet, goals: Goals, field: ActionField, until: int) -> None:
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
        cell.alignment = Alignment(wrap_text=True)
    indicators = goals.project_indicators(field)
    for ind in indicators:
        base = ind.baseline.date
        for year in range(base.year + 1, until + 1):
            day = _same_day(base, year)
            sheet.append([ind.id, ind.title.de, ind.project.unit.de, day, None, None])
    for row in range(2, OPEN_ROWS + 2):
        for col in range(1, len(HEADER) + 1):
            sheet.cell(row, col).protection = Protection(locked=False)
        sheet.cell(row, DATE_COL).number_format = DATE_FORMAT
    _validations(sheet, [i.id for i in indicators])
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widths may change, the header may not
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEF", (26, 46, 16, 13, 12, 30), strict=True):
        sheet.column_dimensions[column].width = width


def _same_day(base: date, year: int) -> date:
    return (
        base.replace(year=year, day=28)
        if (base.month, base.day) == (2, 29)
        else base.replace(year=year)
    )


def _validations(sheet, ids: list[str]) -> None:
    last = OPEN_ROWS + 1
    ids_rule = DataValidation(type="list", formula1=f'"{",".join(ids)}"', allow_blank=True)
    dates = DataValidation(
        type="date",
        operator="between",
        formula1=f"DATE({FIRST_DATE.year},1,1)",
        formula2=f"DATE({LAST_DATE.year},12,31)",
        allow_blank=True,
    )
    numbers = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True
    )
    for rule, column, text in (
        (ids_rule, "A", "eine Indikator-ID dieses Handlungsfelds (Liste)"),
        (dates, "D", "ein Datum (TT.MM.JJJJ)"),
        (numbers, "E", "eine Zahl ≥ 0 (Meilenstein: 1 oder 0)"),
    ):
        rule.error, rule.errorTitle = f"Erwartet: {text}", "Ungültige Eingabe"
        rule.prompt, rule.showErrorMessage, rule.showInputMessage = text, True, True
        sheet.add_data_validation(rule)
        rule.add(f"{column}2:{column}{last}")


def fill(path: Path, values: dict[tuple[str, date], float]) -> None:
    """Enter ``values`` ((indicator id, date) → value) into the prefilled rows of a
    template at ``path`` (the demo's and the tests' way of filling it in)."""
    book = openpyxl.load_workbook(path)
    left = dict(values)
    for sheet in book.worksheets[1:]:
        for row in range(2, sheet.max_row + 1):
            day = sheet.cell(row, DATE_COL).value
            key = (sheet.cell(row, ID_COL).value, day.date() if isinstance(day, datetime) else day)
            if key in left:
                sheet.cell(row, VALUE_COL).value = left.pop(key)
    if left:
        raise ValueError(f"no prefilled row for {sorted(left)[0]} in {path}")
    book.save(path)


# --- reading -------------------------------------------------------------------------------


def read(path: Path, goals: Goals, today: date | None = None) -> list[Row]:
    """Every delivered value of the workbook at ``path``, checked (module doc)."""
    today = today or date.today()
    try:
        book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise InputError(path, f"not a readable XLSX workbook: {exc}") from exc
    fields = {f.sheet_name: f for f in goals.action_fields if goals.project_indicators(f)}
    rows: list[Row] = []
    try:
        for sheet in book.worksheets:
            if sheet.title == INSTRUCTIONS:
                continue
            if sheet.title not in fields:
                raise InputError(
                    path,
                    f"sheet '{sheet.title}' is no action field of the goals (expected "
                    f"sheets: {', '.join(repr(s) for s in fields) or 'none'}, and "
                    f"'{INSTRUCTIONS}')",
                )
            rows += _sheet_rows(path, sheet, goals.project_indicators(fields[sheet.title]), today)
    finally:
        book.close()
    _no_duplicates(path, rows)
    return rows


def _sheet_rows(path: Path, sheet, indicators: list[GoalIndicator], today: date) -> list[Row]:
    found = []
    known = {i.id: i for i in indicators}
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = list(cells) + [None] * (len(HEADER) - len(cells))
        if number == 1:
            _check_header(path, sheet.title, cells)
            continue
        if _blank(cells[VALUE_COL - 1]):
            continue  # a prefilled row the office left empty
        where = (sheet.title, number)
        ind = _indicator(path, where, cells[ID_COL - 1], known)
        day = _date(path, where, cells[DATE_COL - 1], ind, today)
        value = _value(path, where, cells[VALUE_COL - 1], ind)
        found.append(Row(ind.id, day, value, sheet.title, number))
    return found


def _error(path: Path, where: tuple[str, int], column: int, message: str) -> InputError:
    sheet, row = where
    return InputError(path, f"sheet '{sheet}': {message}", line=row, column=HEADER[column - 1])


def _check_header(path: Path, sheet: str, cells: list) -> None:
    for column, expected in enumerate(HEADER[:VALUE_COL], start=1):
        if str(cells[column - 1] or "").strip() != expected:
            raise _error(
                path,
                (sheet, 1),
                column,
                f"header '{cells[column - 1] or ''}' where '{expected}' is expected "
                "(use the template of 'imon goals template')",
            )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _indicator(path, where, value: object, known: dict[str, GoalIndicator]) -> GoalIndicator:
    key = str(value or "").strip()
    if key not in known:
        raise _error(
            path,
            where,
            ID_COL,
            f"'{key}' is no project indicator of this action field (expected one of "
            f"{', '.join(known)})",
        )
    return known[key]


def _date(path, where, value: object, ind: GoalIndicator, today: date) -> date:
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        day = _date_text(str(value or "").strip())
        if day is None:
            raise _error(
                path, where, DATE_COL, f"expected a date (TT.MM.JJJJ), found '{value or ''}'"
            )
    first = ind.baseline.date
    if not first <= day <= today:
        raise _error(
            path,
            where,
            DATE_COL,
            f"date {day.strftime('%d.%m.%Y')} outside the range from the baseline "
            f"({first.strftime('%d.%m.%Y')}) to today ({today.strftime('%d.%m.%Y')})",
        )
    return day


def _date_text(text: str) -> date | None:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _value(path, where, value: object, ind: GoalIndicator) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(path, where, VALUE_COL, f"expected a number, found text '{value}'")
    measure = ind.project.measure
    allowed = {
        "persons": (value >= 0 and float(value).is_integer(), "a whole number ≥ 0"),
        "number": (value >= 0 and float(value).is_integer(), "a whole number ≥ 0"),
        "milestone": (value in (0, 1), "1 (realised) or 0 (not yet)"),
        "percent": (0 <= value <= 100, "a percentage from 0 to 100"),
    }
    ok, expected = allowed[measure]
    if not ok:
        raise _error(path, where, VALUE_COL, f"expected {expected}, found {value:g}")
    return float(value)


def _no_duplicates(path: Path, rows: list[Row]) -> None:
    seen: dict[tuple[str, date], Row] = {}
    for row in rows:
        key = (row.indicator_id, row.ref_date)
        if key in seen:
            first = seen[key]
            raise _error(
                path,
                (row.sheet, row.row),
                ID_COL,
                f"'{row.indicator_id}' on {row.ref_date.strftime('%d.%m.%Y')} a second "
                f"time (first in sheet '{first.sheet}', row {first.row})",
            )
        seen[key] = row
