"""The legal pages a German municipal site needs: Impressum, Datenschutzerklärung and
Erklärung zur Barrierefreiheit (BITV 2.0 / model statement of the EU implementing decision
2018/1523).

The text of each page is a Markdown template next to this module, ``<page>.<lang>.md``
(German, and an English courtesy translation), with ``{placeholders}`` filled from the
profile's ``legal:`` section (:class:`etl.profile.Legal`). A placeholder the profile
leaves out is shown as ``[nicht gesetzt: legal.<field>]`` and listed, so a missing detail
is visible on the page and never made up. The templates are read on first use.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dashboards import formatting
from dashboards.i18n import check_lang, t
from etl.profile import Legal

TEMPLATES = Path(__file__).resolve().parent
PAGES = {  # page -> path (German, as every path of the dashboard)
    "imprint": "/impressum",
    "privacy": "/datenschutz",
    "accessibility": "/barrierefreiheit",
}
# dcc.Markdown (react-markdown 4): characters that start markup, and list markers at the
# start of a line; "<" needs no escape (no HTML is rendered), URLs stay links
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#!|~])")
LIST_MARKER = re.compile(r"^(?:([-+])|(\d+)\.)(?=\s)")
LINE_BREAK = "  \n"


@dataclass(frozen=True)
class LegalText:
    """A page's Markdown and the ``legal:`` fields it needs that the profile lacks."""

    markdown: str
    missing: tuple[str, ...]


def page_text(page: str, legal: Legal, lang: str) -> LegalText:
    """The page ``page`` (a key of :data:`PAGES`) in ``lang`` with the office's details."""
    template = _template(page, check_lang(lang))
    values, missing = {}, []
    for name in placeholders(template):
        value = _value(legal, name, lang)
        if value is None:
            missing.append(name)
            value = t("legal.not_set", lang, field=f"legal.{name}")
        values[name] = value
    return LegalText(template.format_map(values), tuple(missing))


def placeholders(template: str) -> list[str]:
    """The ``{names}`` of a template, in order of first use."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    return list(dict.fromkeys(names))


@lru_cache(maxsize=len(PAGES) * 2)
def _template(page: str, lang: str) -> str:
    """The template with its line breaks (``\\`` at a line's end) in the form
    dcc.Markdown knows (react-markdown 4: two spaces at the line's end)."""
    if page not in PAGES:
        raise KeyError(f"no legal page {page!r}; known: {', '.join(PAGES)}")
    text = (TEMPLATES / f"{page}.{lang}.md").read_text(encoding="utf-8")
    return text.replace("\\\n", LINE_BREAK)


def _value(legal: Legal, name: str, lang: str) -> str | None:
    """A field as Markdown (the profile's text escaped); ``None`` if it is not set."""
    if name not in Legal.model_fields:
        raise KeyError(f"template placeholder {{{name}}} is no field of the profile's legal:")
    value = getattr(legal, name)
    if name == "known_issues":  # extra items of a list: none is fine
        return "\n".join(f"* {_escape(issue)}" for issue in value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name == "conformance":
        return t(f"legal.conformance.{value}", lang)
    if name == "statement_date":
        return formatting.format_date(value)
    return LINE_BREAK.join(_escape(line.strip()) for line in str(value).strip().splitlines())


def _escape(line: str) -> str:
    """A line of plain text that dcc.Markdown shows as it is (no emphasis, link text,
    heading or list)."""
    line = MARKDOWN_SPECIAL.sub(r"\\\1", line)
    return LIST_MARKER.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.", line)
