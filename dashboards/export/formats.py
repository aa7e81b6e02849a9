"""The file formats of exports (charts by Kaleido, tables) and the error of an export that
cannot be made. Light on purpose: the pages' export menus and download callbacks
(:mod:`dashboards.components.common`) use them without loading the renderer."""

from __future__ import annotations

from etl.errors import ImonError

IMAGE_FORMATS = ("png", "svg", "pdf")
TABLE_FORMATS = ("csv", "xlsx")
FORMATS = (*IMAGE_FORMATS, *TABLE_FORMATS)


class ExportError(ImonError):
    """An export that cannot be made (no boundaries, no data, no browser, bad format)."""
