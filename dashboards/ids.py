"""Component ids. Every id used in a layout or callback comes from here."""

from __future__ import annotations

# Shell
NAV = "nav"
NAV_LOCATION = "nav-location"
FOOTER = "footer"

# Overview page
OVERVIEW_DATE = "overview-date"
OVERVIEW_LEVEL = "overview-level"
OVERVIEW_CARDS = "overview-cards"
OVERVIEW_TABLE = "overview-table"
OVERVIEW_URL = "overview-url"

# Map page
MAP_GRAPH_PANEL = "map-graph-panel"
MAP_INDICATOR = "map-indicator"
MAP_DATE = "map-date"
MAP_LEVEL = "map-level"
MAP_GRAPH = "map-graph"
MAP_NOTE = "map-note"
MAP_DEFINITION = "map-definition"
MAP_TABLE = "map-table"
MAP_URL = "map-url"

# Trends page
TRENDS_INDICATOR = "trends-indicator"
TRENDS_LEVEL = "trends-level"
TRENDS_AREAS = "trends-areas"
TRENDS_GRAPH = "trends-graph"
TRENDS_NOTE = "trends-note"
TRENDS_DEFINITION = "trends-definition"
TRENDS_TABLE = "trends-table"
TRENDS_URL = "trends-url"

# Sortable tables (pattern-matching ids; one state store per table)
SORT_BUTTON = "sort-button"
SORT_STATE = "sort-state"
PAGE_BUTTON = "page-button"


def sort_button(table: str, column: str) -> dict[str, str]:
    """Header button that sorts ``table`` by ``column``."""
    return {"type": SORT_BUTTON, "table": table, "col": column}


def page_button(table: str, step: int) -> dict[str, str]:
    """Pager button that moves ``table`` by ``step`` pages (-1 or +1)."""
    return {"type": PAGE_BUTTON, "table": table, "step": str(step)}


def sort_state(table: str) -> dict[str, str]:
    """Store holding ``{"col": ..., "desc": ...}`` for ``table``."""
    return {"type": SORT_STATE, "table": table}


def url_keys(store_id: str) -> str:
    """Store holding the query-parameter names synchronised to the address bar."""
    return f"{store_id}-keys"
