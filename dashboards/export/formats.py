"""The file formats of exports: charts (Kaleido) and tables. Data only, so the export
menus of the pages can name them without loading the renderer."""

from __future__ import annotations

IMAGE_FORMATS = ("png", "svg", "pdf")
TABLE_FORMATS = ("csv", "xlsx")
FORMATS = (*IMAGE_FORMATS, *TABLE_FORMATS)
