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


def sort_button(table: str, column: str) -> dict[str, str]:
    """Header button that sorts ``table`` by ``column``."""
    return {"type": SORT_BUTTON, "table": table, "col": column}


def sort_state(table: str) -> dict[str, str]:
    """Store holding ``{"col": ..., "desc": ...}`` for ``table``."""
    return {"type": SORT_STATE, "table": table}


def url_keys(store_id: str) -> str:
    """Store holding the query-parameter names synchronised to the address bar."""
    return f"{store_id}-keys"
