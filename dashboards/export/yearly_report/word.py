"""The yearly report (:mod:`dashboards.export.yearly_report`) as an editable Word file
(python-docx), for authors who finish the report in Word.

The same content as the PDF: title page, table of contents (a Word TOC field over the
headings; its entries are filled in, Word adds the page numbers when it updates the
field, which it offers on opening), headings in Word's heading styles, the summary,
tables (header row repeated on each page) and the charts as 300-dpi PNG, 16 cm wide
(python-docx cannot place SVG). Page numbers ("Seite n von m") and, for ``--internal``,
the internal mark are in the header and footer of every page.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from dashboards.export import render
from dashboards.export.yearly_report.model import Figure, Paragraph, Report, Section, Table, tr

LANGUAGE = {"de": "de-DE", "en": "en-GB"}
MARK_COLOR = RGBColor(0xB0, 0x00, 0x20)
TEXT_WIDTH = Cm(16)


def _field(paragraph, instruction: str, cached: list[str] | str = "") -> None:
    """A Word field (``PAGE``, ``NUMPAGES``, ``TOC …``) with its cached result; a list of
    results becomes lines."""

    def char(kind: str) -> None:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(element)

    char("begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    char("separate")
    lines = [cached] if isinstance(cached, str) else cached
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        if i < len(lines) - 1:
            run.add_break(WD_BREAK.LINE)
    char("end")


def _page_setup(doc, report: Report) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.4)
    section.different_first_page_header_footer = True  # no page number on the title page
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "Arial", Pt(10.5)  # Liberation Sans elsewhere
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), LANGUAGE[report.lang])
    normal.element.get_or_add_rPr().append(language)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    before, rest = tr("page", report.lang, page="\0", pages="\0").split("\0", 1)
    middle, after = rest.split("\0", 1)
    footer.add_run(before)
    _field(footer, "PAGE", "1")
    footer.add_run(middle)
    _field(footer, "NUMPAGES", "1")
    footer.add_run(after)
    if report.mark:
        for header in (section.header, section.first_page_header):
            run = header.paragraphs[0].add_run(report.mark)
            run.bold, run.font.color.rgb = True, MARK_COLOR
            header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _update_fields_on_open(doc)


# w:settings children that the schema puts after w:updateFields (Word rejects a wrong order)
AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
    "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown",
    "smartTagType", "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol",
    "listSeparator",
)  # fmt: skip


def _update_fields_on_open(doc) -> None:
    """``w:updateFields``: Word offers to fill in the fields (the TOC's page numbers) when
    it opens the file; placed where the schema wants it."""
    settings = doc.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    later = next((c for c in settings if c.tag.rsplit("}", 1)[-1] in AFTER_UPDATE_FIELDS), None)
    if later is None:
        settings.append(update)
    else:
        later.addprevious(update)


def _title_page(doc, report: Report) -> None:
    doc.add_paragraph().paragraph_format.space_before = Cm(4)
    instance = doc.add_paragraph().add_run(report.instance)
    instance.font.size = Pt(15)
    doc.add_heading(report.title, level=0)
    subtitle = doc.add_paragraph().add_run(report.subtitle)
    subtitle.font.size = Pt(13)
    doc.add_paragraph().paragraph_format.space_before = Cm(3)
    for line in report.title_lines:
        doc.add_paragraph(line)
    doc.add_page_break()


def _toc(doc, report: Report) -> None:
    heading = doc.add_paragraph().add_run(tr("toc", report.lang))
    heading.bold, heading.font.size = True, Pt(17)
    entries = [("    " if s.level > 1 else "") + s.title for s in report.sections]
    _field(doc.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u', entries)


def _paragraph(doc, block: Paragraph) -> None:
    paragraph = doc.add_paragraph()
    if block.lead:
        paragraph.add_run(f"{block.lead}: ").bold = True
    run = paragraph.add_run(block.text)
    if block.style in ("note", "source"):
        run.font.size = Pt(9 if block.style == "note" else 8.5)
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _table(doc, block: Table) -> None:
    doc.add_paragraph().add_run(block.caption).bold = True
    table = doc.add_table(rows=1, cols=len(block.header))
    table.style = "Table Grid"
    for cell, text, numeric in zip(table.rows[0].cells, block.header, block.numeric, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = True, Pt(8.5)
        if numeric:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _repeat_header(table.rows[0])
    for values in block.rows:
        cells = table.add_row().cells
        for cell, text, numeric in zip(cells, values, block.numeric, strict=True):
            run = cell.paragraphs[0].add_run(text)
            run.font.size = Pt(8.5)
            if numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _paragraph(doc, Paragraph(block.source, "source"))


def _figure(doc, block: Figure) -> None:
    png = render.render(block.chart.figure, "png")
    doc.add_picture(io.BytesIO(png), width=TEXT_WIDTH)
    picture = doc.inline_shapes[-1]
    picture._inline.docPr.set("descr", block.caption)  # alternative text


def _section(doc, section: Section) -> None:
    heading = doc.add_heading(section.title, level=section.level)
    heading.paragraph_format.page_break_before = section.level == 1
    for block in section.blocks:
        if isinstance(block, Paragraph):
            _paragraph(doc, block)
        elif isinstance(block, Table):
            _table(doc, block)
        else:
            _figure(doc, block)


def write_docx(report: Report, path: Path) -> None:
    """Write the report as DOCX (title and language in its properties)."""
    doc = Document()
    _page_setup(doc, report)
    doc.core_properties.title = f"{report.title} – {report.instance}"
    doc.core_properties.language = LANGUAGE[report.lang]
    _title_page(doc, report)
    _toc(doc, report)
    for section in report.sections:
        _section(doc, section)
    doc.save(str(path))
