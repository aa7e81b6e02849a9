"""The yearly report (:mod:`dashboards.export.yearly_report`) as PDF: HTML and CSS
(``report.css`` beside this module) typeset by WeasyPrint.

WeasyPrint (see the README) lays out paged HTML with CSS Paged Media: page numbers and the
internal mark are ``@page`` margin boxes on every page, the table of contents takes its
page numbers from ``target-counter()`` of its links, table headers repeat on every page
of a long table. Charts go in as SVG (Kaleido, :func:`dashboards.export.render.render`),
so they stay vector graphics with selectable text in the PDF. Every text is escaped.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from dashboards.export import render
from dashboards.export.yearly_report.model import (
    FILES,
    Figure,
    Paragraph,
    Report,
    Section,
    Table,
    tr,
)

CSS_FILE = FILES / "report.css"
NO_BREAK = "\u00a0"


def _css_string(text: str) -> str:
    """A CSS string literal: quotes and backslashes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def page_css(report: Report) -> str:
    """The margin boxes: "Seite n von m" bottom right (not on the title page) and the
    internal mark at the top of every page."""
    before, rest = tr("page", report.lang, page="\0", pages="\0").split("\0", 1)
    middle, after = rest.split("\0", 1)
    counter = (
        f"{_css_string(before)} counter(page) {_css_string(middle)} counter(pages) "
        f"{_css_string(after)}"
    )
    css = f"@page {{ @bottom-right {{ content: {counter}; }} }}\n"
    css += "@page :first { @bottom-right { content: none; } }\n"
    if report.mark:
        css += f"@page {{ @top-center {{ content: {_css_string(report.mark)}; }} }}\n"
    return css


def _anchors(sections: list[Section]) -> list[str]:
    return [f"s{i}-{s.anchor}" for i, s in enumerate(sections, start=1)]


def _title_page(report: Report) -> str:
    facts = "".join(f"<p>{html.escape(line)}</p>" for line in report.title_lines)
    return (
        '<section class="title-page">'
        f'<p class="instance">{html.escape(report.instance)}</p>'
        f'<h1 class="report-title">{html.escape(report.title)}</h1>'
        f'<p class="subtitle">{html.escape(report.subtitle)}</p>'
        f'<div class="facts">{facts}</div></section>'
    )


def _toc(report: Report, anchors: list[str]) -> str:
    items = "".join(
        f'<li class="l{s.level}"><a href="#{a}">{html.escape(s.title)}</a></li>'
        for s, a in zip(report.sections, anchors, strict=True)
    )
    return f'<nav class="toc"><h1>{html.escape(tr("toc", report.lang))}</h1><ul>{items}</ul></nav>'


def _paragraph(block: Paragraph) -> str:
    lead = f'<span class="lead">{html.escape(block.lead)}:</span> ' if block.lead else ""
    return f'<p class="{block.style}">{lead}{html.escape(block.text)}</p>'


def _table(block: Table) -> str:
    def cell(tag: str, text: str, numeric: bool) -> str:
        cls = ' class="num"' if numeric else ""
        if numeric:  # "18,8 %" stays on one line; a date goes below the value
            text = text.replace(" %", NO_BREAK + "%")
        return f"<{tag}{cls}>{html.escape(text).replace(chr(10), '<br>')}</{tag}>"

    head = "".join(cell("th", h, n) for h, n in zip(block.header, block.numeric, strict=True))
    body = "".join(
        "<tr>"
        + "".join(cell("td", c, n) for c, n in zip(row, block.numeric, strict=True))
        + "</tr>"
        for row in block.rows
    )
    return (
        f'<div class="table"><p class="caption">{html.escape(block.caption)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f'<p class="source">{html.escape(block.source)}</p></div>'
    )


def _figure(block: Figure) -> str:
    svg = base64.b64encode(render.render(block.chart.figure, "svg")).decode("ascii")
    alt = html.escape(block.caption, quote=True)
    return f'<figure><img src="data:image/svg+xml;base64,{svg}" alt="{alt}"></figure>'


def _section(section: Section, anchor: str) -> str:
    tag = f"h{section.level}"
    parts = [f'<{tag} id="{anchor}">{html.escape(section.title)}</{tag}>']
    for block in section.blocks:
        if isinstance(block, Paragraph):
            parts.append(_paragraph(block))
        elif isinstance(block, Table):
            parts.append(_table(block))
        else:
            parts.append(_figure(block))
    return "".join(parts)


def report_html(report: Report) -> str:
    """The whole report as one HTML document (charts rendered to SVG here)."""
    anchors = _anchors(report.sections)
    body = "".join(_section(s, a) for s, a in zip(report.sections, anchors, strict=True))
    title = html.escape(f"{report.title} – {report.instance}")
    return (
        f'<!DOCTYPE html><html lang="{report.lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>"
        f"{_title_page(report)}{_toc(report, anchors)}{body}</body></html>"
    )


def write_pdf(report: Report, path: Path) -> None:
    """Typeset the report and write the PDF (title and language in its metadata)."""
    from weasyprint import CSS, HTML  # loads pango: only when a PDF is written

    document = HTML(string=report_html(report), base_url=str(FILES))
    stylesheets = [CSS(filename=str(CSS_FILE)), CSS(string=page_css(report))]
    path.write_bytes(document.write_pdf(stylesheets=stylesheets))
