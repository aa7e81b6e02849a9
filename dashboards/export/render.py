"""Print-ready charts: the dashboard's figures as PNG (300 dpi), SVG and PDF for reports.

The same query and figure functions as the pages draw the chart (each page's
``dashboards/export/<page>.py``); :func:`print_ready` then lays it out for a printed page:

* **size**: 16 cm wide (the text width of an A4 page), i.e. 605 CSS px. SVG and PDF keep
  that size (PDF: 453,75 pt); PNG is rendered at ``300/96`` scale, so it is 1890 px wide
  and carries a pHYs chunk of 300 dpi (11811 px/m): placed at 100 % it is 16 cm wide.
* **fonts** in CSS px at 0,75 pt each: title 16 px (12 pt, bold), text 12 px (9 pt), axis
  ticks 11 px, notes 10,5 px (about 8 pt). Long titles and notes are wrapped.
* **everything inside the file**: title, subtitle (level, date, unit), legend, footnotes
  (flags and what they mean, number of units of segregation indices, series breaks,
  optionally the definition) and the source line "Quelle: … · Stand: <date>".
* white background, the figures' colour-blind-safe palettes (YlGnBu / PuOr / Okabe–Ito),
  German separators (``layout.separators``).

Rendering uses Kaleido 1.x with the system Chromium (``/usr/bin/chromium``, or
``BROWSER_PATH``), offline: MathJax is off and plotly's topojson comes from our assets
(``assets/topojson/``). One headless Chromium per process is started on first use and
reused (:class:`_Renderer`); calls from several threads (Dash callbacks) are serialised.

Table exports (CSV, XLSX with metadata) are in :mod:`dashboards.export.tables`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import math
import re
import struct
import textwrap
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import kaleido
import pandas as pd
import plotly.graph_objects as go
from choreographer.errors import ChannelClosedError
from kaleido.errors import BrowserClosedError, BrowserFailedError, ChromeNotFoundError

from dashboards import flags, labels
from dashboards.export.formats import IMAGE_FORMATS, ExportError
from dashboards.figures import classify
from dashboards.figures import common as figures
from dashboards.i18n import t

PRINT_WIDTH_CM = 16.0
CSS_PX_PER_INCH = 96
DPI = 300
PRINT_WIDTH_PX = round(PRINT_WIDTH_CM / 2.54 * CSS_PX_PER_INCH)  # 605
PNG_SCALE = DPI / CSS_PX_PER_INCH  # 605 px * 3.125 = 1890 px
TITLE_PX, TEXT_PX, TICK_PX, NOTE_PX = 16, 12, 11, 10.5
TITLE_CHARS, SUBTITLE_CHARS, NOTE_CHARS = 56, 88, 100  # characters per line before wrapping
TITLE_LINE_PX, SUBTITLE_LINE_PX, NOTE_LINE_PX = 21, 16, 14
CHAR_PX = 0.6 * TICK_PX  # generous average glyph width of legend text (DejaVu/Liberation)
LEGEND_ROW_PX, LEGEND_SYMBOL_PX = 22, 52
MAX_PRINT_TICKS = 5
MAP_MAX_PLOT_PX, MAP_MIN_PLOT_PX, COLORBAR_PX = 700, 220, 80
TREND_PLOT_PX, TREND_LEFT_PX = 300, 72
PAGE_PAD_PX = 10  # left edge of title and notes
TOPOJSON_DIR = Path(__file__).resolve().parent.parent / "assets" / "topojson"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START_TIMEOUT_S, RENDER_TIMEOUT_S = 120, 180
BROWSER_GONE = (BrowserClosedError, BrowserFailedError, ChannelClosedError)
MAP_KIND, TREND_KIND = "karte", "zeitreihe"  # stable file-name words (any UI language)


@dataclass(frozen=True)
class Chart:
    """A print-ready figure and the stable stem of its file names."""

    figure: go.Figure
    stem: str

    def filename(self, fmt: str) -> str:
        return f"{self.stem}.{fmt}"


def check_method(method: str) -> str:
    """``method`` if it is a map classification, else :class:`ExportError`."""
    if method not in classify.METHODS:
        known = ", ".join(classify.METHODS)
        raise ExportError(f"unknown classification '{method}' (known: {known})")
    return method


def file_stem(*parts: str) -> str:
    """``foreigner_share_karte_district_2024-12-31``: parts joined by ``_``; characters
    other than letters, digits, ``.``, ``_`` and ``-`` become ``-``."""
    return "_".join(re.sub(r"[^A-Za-z0-9._-]+", "-", str(p)).strip("-") for p in parts)


# --- footnotes ---------------------------------------------------------------------------
def flag_counts(values: pd.DataFrame, shapes: pd.DataFrame) -> tuple[dict, dict]:
    """Per flag, the number of drawn areas without a value (``missing`` for no row) and
    of areas whose value carries the flag (drawn with a dark outline); in flag order."""
    drawn = shapes[["area_id"]].merge(values, on="area_id", how="left")
    has_flag = drawn["flag"].map(flags.is_flag)
    missing = drawn.loc[drawn["value"].isna(), "flag"].where(has_flag).fillna(flags.MISSING)
    outlined = drawn.loc[drawn["value"].notna() & has_flag, "flag"]

    def counts(series: pd.Series) -> dict[str, int]:
        pairs = series.value_counts().items()
        return dict(sorted(((str(f), int(n)) for f, n in pairs), key=lambda x: flags.order(x[0])))

    return counts(missing), counts(outlined)


def _items(flag_ids: Sequence[str], lang: str, counts: dict | None = None) -> str:
    parts = []
    for flag in flag_ids:
        label = labels.flag_label(flag, lang) + (f" ({counts[flag]})" if counts else "")
        parts.append(t("table.note_item", lang, label=label, explain=flags.explanation(flag, lang)))
    return "; ".join(parts)


def flag_notes(values: Iterable[object], lang: str) -> list[str]:
    """The footnote naming and explaining the flags among ``values`` (none without)."""
    present = sorted({f for f in values if flags.is_flag(f)}, key=flags.order)
    return [t("export.notes", lang, items=_items(present, lang))] if present else []


def break_notes(frame: pd.DataFrame, lang: str) -> list[str]:
    """The series-break footnotes: a ``series`` of ``frame`` changes ``definition_id``;
    a row follows a new division into areas (``break_before``, :mod:`dashboards.data.breaks`)."""
    notes = []
    if (frame.groupby("series")["definition_id"].nunique() > 1).any():
        notes.append(t("export.series_break", lang))
    if "break_before" in frame and (frame["break_before"] == "boundaries").any():
        notes.append(t("export.boundary_break", lang))
    return notes


# --- print layout ------------------------------------------------------------------------
def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def _caption_text(fig: go.Figure) -> tuple[str, list]:
    """The figure's source line (unwrapped) and its other annotations."""
    caption, others = None, []
    for annotation in fig.layout.annotations:
        if annotation.name == figures.CAPTION_NAME:
            caption = annotation.text.replace("<br>", " ")
        else:
            others.append(annotation)
    if caption is None:
        raise ExportError("The figure has no source line (caption); it cannot be exported.")
    return caption, others


def _legend_entries(fig: go.Figure) -> list[str]:
    """Names of the traces plotly lists in the legend."""
    shown = [tr for tr in fig.data if tr.showlegend is not False]
    if fig.layout.showlegend is False:
        return []
    explicit = [tr.name or "" for tr in shown if tr.showlegend is True]
    implicit = [tr for tr in shown if tr.showlegend is None and tr.type in ("scatter", "bar")]
    if len(explicit) + len(implicit) < 2 and not explicit:
        return []
    return explicit + [tr.name or "" for tr in implicit]


def _legend(fig: go.Figure, plot_px: int, axis_px: int, plot_width: int) -> int:
    """A horizontal legend below the plot in fixed-width columns; returns its height.

    Plotly wraps a horizontal legend at the plot width (``xref="paper"``); an entry takes
    ``entrywidth`` plus about 45 px for its symbol and gaps.
    """
    entries = _legend_entries(fig)
    if not entries:
        fig.update_layout(showlegend=False)
        return 0
    text_px = min(plot_width - LEGEND_SYMBOL_PX, math.ceil(CHAR_PX * max(map(len, entries))))
    columns = max(1, plot_width // (text_px + LEGEND_SYMBOL_PX))
    rows = math.ceil(len(entries) / columns)
    fig.update_layout(
        showlegend=True,
        legend={
            "orientation": "h",
            "xref": "paper",
            "x": 0,
            "xanchor": "left",
            "yref": "paper",  # figures may place theirs in the container
            "y": -axis_px / plot_px,
            "yanchor": "top",
            "entrywidth": text_px,
            "entrywidthmode": "pixels",
            "tracegroupgap": 0,
            "font": {"size": TICK_PX},
            "title": {"text": ""},
        },
    )
    return rows * LEGEND_ROW_PX + 6


def _thin_ticks(axis) -> None:
    """At most :data:`MAX_PRINT_TICKS` labelled ticks (the latest kept) on a narrow page."""
    if axis.tickvals is None or len(axis.tickvals) <= MAX_PRINT_TICKS:
        return
    step = math.ceil(len(axis.tickvals) / MAX_PRINT_TICKS)
    keep = list(range(len(axis.tickvals)))[::-1][::step][::-1]
    axis.update(
        tickvals=[axis.tickvals[i] for i in keep],
        ticktext=[axis.ticktext[i] for i in keep] if axis.ticktext is not None else None,
    )


def print_ready(
    fig: go.Figure, notes: Sequence[str] = (), plot_px: int = TREND_PLOT_PX, axis_px: int = 34
) -> go.Figure:
    """A copy of a dashboard figure laid out for print (16 cm wide, see module docstring).

    ``notes`` become footnotes above the source line; ``plot_px`` is the height of the
    plot area; ``axis_px`` the room below it for axis labels before legend and notes.
    The figure must carry the source line of :func:`figures.base_layout` (a caption).
    """
    fig = go.Figure(fig)
    caption, others = _caption_text(fig)
    title = re.sub(r"</?b>", "", fig.layout.title.text or "")
    title_lines = _wrap(title, TITLE_CHARS)
    subtitle_lines = _wrap(fig.layout.title.subtitle.text or "", SUBTITLE_CHARS)
    top = 16 + TITLE_LINE_PX * len(title_lines) + SUBTITLE_LINE_PX * len(subtitle_lines) + 22
    left, right = fig.layout.margin.l or 0, fig.layout.margin.r or 0
    plot_width = PRINT_WIDTH_PX - left - right
    legend_px = _legend(fig, plot_px, axis_px, plot_width)
    footer = [line for note in notes for line in _wrap(note, NOTE_CHARS)]
    footer += figures.wrap_caption(caption, NOTE_CHARS).split("<br>")
    below = axis_px + legend_px + 10
    bottom = below + NOTE_LINE_PX * len(footer) + 12
    fig.update_layout(
        width=PRINT_WIDTH_PX,
        height=top + plot_px + bottom,
        autosize=False,
        margin={"l": left, "r": right, "t": top, "b": bottom, "pad": 0},
        font={"size": TEXT_PX},
        title={
            "text": "<br>".join(f"<b>{line}</b>" for line in title_lines),
            "subtitle": {"text": "<br>".join(subtitle_lines), "font": {"size": TEXT_PX}},
            "font": {"size": TITLE_PX},
            "x": 0,
            "xref": "container",
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"l": PAGE_PAD_PX, "t": 14},
        },
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
    # replaced, not updated: update_layout would merge the i-th new annotation into the
    # i-th old one (the caption first), leaving the caption's anchors on another
    fig.layout.annotations = [*others, _footer(footer, below, (PAGE_PAD_PX - left) / plot_width)]
    fig.update_xaxes(tickfont={"size": TICK_PX}, title_font={"size": TICK_PX})
    fig.update_yaxes(tickfont={"size": TICK_PX}, title_font={"size": TICK_PX})
    if fig.layout.xaxis is not None:
        _thin_ticks(fig.layout.xaxis)
    return fig


def _footer(lines: list[str], below_px: int, x: float) -> dict:
    """Footnotes and source line under plot, axis labels and legend; ``x`` (paper units)
    aligns them with the title at :data:`PAGE_PAD_PX` from the page's left edge."""
    return {
        "name": figures.CAPTION_NAME,
        "text": "<br>".join(lines),
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": 0,
        "xanchor": "left",
        "yanchor": "top",
        "yshift": -below_px,
        "align": "left",
        "font": {"size": NOTE_PX, "color": figures.MUTED_COLOR},
    }


def map_plot_height(fig: go.Figure) -> int:
    """Plot height (px) that gives the mapped area its Mercator aspect at print width."""
    lon, lat = fig.layout.geo.lonaxis.range, fig.layout.geo.lataxis.range

    def y(deg: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(deg) / 2))

    aspect = (y(lat[1]) - y(lat[0])) / math.radians(lon[1] - lon[0])
    width = PRINT_WIDTH_PX - (fig.layout.margin.l or 0) - (fig.layout.margin.r or 0)
    height = (width - COLORBAR_PX) * aspect
    return int(min(MAP_MAX_PLOT_PX, max(MAP_MIN_PLOT_PX, height)))


# --- rendering ---------------------------------------------------------------------------
def render(fig: go.Figure, fmt: str) -> bytes:
    """PNG (300 dpi), SVG or PDF bytes of a print-ready figure (see :func:`print_ready`)."""
    if fmt not in IMAGE_FORMATS:
        raise ExportError(f"unknown image format '{fmt}' (known: {', '.join(IMAGE_FORMATS)})")
    opts = {
        "format": fmt,
        "width": fig.layout.width,
        "height": fig.layout.height,
        "scale": PNG_SCALE if fmt == "png" else 1,
    }
    figure, topojson = fig.to_dict(), TOPOJSON_DIR.as_uri() + "/"
    try:
        content = _renderer().render(figure, opts, topojson)
    except BROWSER_GONE:  # Chromium crashed or was killed: start a new one, once
        close_renderer()
        content = _renderer().render(figure, opts, topojson)
    return with_dpi(content, DPI) if fmt == "png" else content


def chart_bytes(chart: Chart, fmt: str) -> bytes:
    """The chart as a ``fmt`` file (png, svg, pdf)."""
    return render(chart.figure, fmt)


def _chunks(png: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, data) of every chunk of a PNG file."""
    pos = len(PNG_SIGNATURE)
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        yield png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_dpi(png: bytes, dpi: int = DPI) -> bytes:
    """The PNG with a pHYs chunk saying ``dpi`` (pixels per metre, unit 1) after IHDR;
    an existing pHYs chunk is replaced."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    per_metre = round(dpi / 0.0254)
    phys = _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
    out = [PNG_SIGNATURE]
    for kind, data in _chunks(png):
        if kind != b"pHYs":
            out.append(_chunk(kind, data))
        if kind == b"IHDR":
            out.append(phys)
    return b"".join(out)


def png_info(png: bytes) -> tuple[int, int, float | None]:
    """Width and height in pixels and the resolution in dpi (None without pHYs)."""
    width = height = dpi = None
    for kind, data in _chunks(png):
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"pHYs" and data[8] == 1:
            dpi = struct.unpack(">I", data[:4])[0] * 0.0254
    return width, height, dpi


class _Renderer:
    """One headless Chromium driven by Kaleido, in a thread with its own event loop.

    Kaleido 1.x is asyncio-based; its own sync server cannot report a failed start and is
    not safe for concurrent callers. Here every call is a coroutine submitted to the loop
    (thread-safe) and awaited with a timeout; Kaleido's tab queue serialises the renders.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="imon-kaleido", daemon=True
        )
        self._thread.start()
        try:
            self._kaleido = self._call(self._open(), START_TIMEOUT_S)
        except ChromeNotFoundError as exc:
            self._stop_loop()
            raise ExportError(
                "No Chromium for the image export: install the Debian package 'chromium' "
                "(apt-get install chromium) or set BROWSER_PATH to a Chrome/Chromium binary."
            ) from exc
        except BaseException:
            self._stop_loop()
            raise

    @staticmethod
    async def _open() -> kaleido.Kaleido:
        k = kaleido.Kaleido(n=1, mathjax=False)  # MathJax would be fetched from a CDN
        await k.open()
        return k

    def _call(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def render(self, fig: dict, opts: dict, topojson: str) -> bytes:
        return self._call(self._kaleido.calc_fig(fig, opts, topojson=topojson), RENDER_TIMEOUT_S)

    def close(self) -> None:
        """Close Chromium (already gone after a crash: nothing to close) and the loop."""
        try:
            with contextlib.suppress(*BROWSER_GONE):
                self._call(self._kaleido.close(), 30)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()


_LOCK = threading.Lock()
_STATE: dict[str, _Renderer] = {}


def _renderer() -> _Renderer:
    """The process's renderer, started on first use (about 1–5 s) and closed at exit."""
    with _LOCK:
        if "renderer" not in _STATE:
            _STATE["renderer"] = _Renderer()
            _close_at_exit()
        return _STATE["renderer"]


@functools.cache
def _close_at_exit() -> None:
    atexit.register(close_renderer)


def close_renderer() -> None:
    """Close the Chromium of this process (the next render starts a new one)."""
    with _LOCK:
        renderer = _STATE.pop("renderer", None)
    if renderer is not None:
        renderer.close()
