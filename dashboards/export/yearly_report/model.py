"""The yearly report's content model (format-free: the PDF and the DOCX writer read it)
and its texts (``texts.yaml`` beside this module, German and English)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from dashboards import formatting
from dashboards.data.catalogue import Indicator
from dashboards.export.render import Chart, ExportError

FILES = Path(__file__).resolve().parent
TEXTS_FILE = FILES / "texts.yaml"
FORMATS = (".pdf", ".docx")


# --- texts -------------------------------------------------------------------------------
@functools.cache
def texts() -> dict:
    """All report texts (``texts.yaml``)."""
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def tr(key: str, lang: str, **values: object) -> str:
    """The report text ``key`` in ``lang`` (``texts.yaml``), placeholders filled."""
    text = texts()[key][lang]
    return text.format(**values) if values else text


# --- the content model -------------------------------------------------------------------
@dataclass(frozen=True)
class Paragraph:
    """Running text; ``style`` ``text``, ``summary`` (a summary item), ``note`` or
    ``source``; ``lead`` is set in bold before the text."""

    text: str
    style: str = "text"
    lead: str | None = None


@dataclass(frozen=True)
class Table:
    """A table of formatted cells; ``numeric`` marks right-aligned columns."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    source: str


@dataclass(frozen=True)
class Figure:
    """A print-ready chart (:mod:`dashboards.export.render`), rendered by the writer."""

    chart: Chart
    caption: str


Block = Paragraph | Table | Figure


@dataclass
class Section:
    """A heading (``level`` 1 or 2) and its blocks."""

    title: str
    level: int = 1
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "s-" + "".join(c if c.isalnum() else "-" for c in self.title.lower())


@dataclass(frozen=True)
class Report:
    """Everything a writer needs: title page facts and the sections in order."""

    lang: str
    instance: str
    title: str
    subtitle: str
    as_of: str
    published: str
    created: str
    sources: str
    mark: str | None  # "intern – nicht zur Veröffentlichung" on every page, or None
    sections: list[Section]

    @property
    def title_lines(self) -> list[str]:
        lines = [
            tr("as_of", self.lang, date=self.as_of),
            tr("published", self.lang, date=self.published),
            tr("created", self.lang, date=self.created),
        ]
        if self.sources:
            lines.append(tr("sources", self.lang, text=self.sources))
        return lines


@dataclass(frozen=True)
class ReportRequest:
    """What ``imon report`` was asked for."""

    out: Path
    ref_date: date | None = None
    lang: str = "de"
    internal: bool = False

    @property
    def fmt(self) -> str:
        suffix = self.out.suffix.lower()
        if suffix not in FORMATS:
            raise ExportError(
                f"{self.out}: the report is written as .pdf or .docx (from the file name's "
                f"suffix), not '{suffix or 'no suffix'}'"
            )
        return suffix[1:]


def source_line(indicators: Sequence[Indicator], ref_date: str, lang: str) -> str:
    """``Quelle: <sources of the indicators> · Stand: <date>`` under a table."""
    # one indicator's source may already name several ("A; B"): each source once
    parts = (part.strip() for i in indicators for part in i.source.split("; "))
    sources = "; ".join(dict.fromkeys(part for part in parts if part))
    return tr("source_line", lang, source=sources, date=formatting.format_date(ref_date))
