"""Component ids. Every id used in a layout or callback comes from here."""

from __future__ import annotations

# Shell
NAV = "nav"
SETTING = "imon-setting"  # language and instance links: {"type", "key", "value"}
NAV_LOCATION = "nav-location"
NAV_MENU = "nav-menu"  # the <nav> of the page links (folded behind a button on phones)
FOOTER = "footer"
FOOTER_LEGAL = "footer-legal"  # the links to the legal pages
SHARE = "share"  # "Teilen und zitieren" in the footer (assets/share.js)
SHARE_COPY = "share-copy"
SHARE_STATUS = "share-status"
SHARE_CITATION = "share-citation"
SHARE_EMBED = "share-embed"
LEGAL_TEXT = "legal-text"  # Impressum, Datenschutz, Barrierefreiheit: the page's text
MAIN = "main"  # the page content: target of the skip link

# Overview page
OVERVIEW_DATE = "overview-date"
OVERVIEW_LEVEL = "overview-level"
OVERVIEW_CARDS = "overview-cards"
OVERVIEW_TABLE = "overview-table"
OVERVIEW_URL = "overview-url"
OVERVIEW_SEARCH = "overview-search"  # "Mein Stadtteil": the field and its matches
OVERVIEW_SEARCH_RESULTS = "overview-search-results"

# Area page (/gebiet)
AREA_SEARCH = "area-search"
AREA_SEARCH_RESULTS = "area-search-results"
AREA_DATE = "area-date"
AREA_ID = "area-id"  # store: the area shown
AREA_CONTENT = "area-content"
AREA_URL = "area-url"

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
MAP_CLASSES = "map-classes"
MAP_LABELS = "map-labels"
MAP_DRAWN = "map-drawn"  # geometry key + trace count of the figure in the browser
MAP_FRAMES = "map-frames"  # the map on every date with the same boundaries (client-side)
MAP_FRAMES_WANTED = "map-frames-wanted"  # the view whose frames the browser lacks
MAP_FETCH = "map-fetch"  # a date the frames do not cover: asks the server to draw it

# Trends page
TRENDS_INDICATOR = "trends-indicator"
TRENDS_LEVEL = "trends-level"
TRENDS_AREAS = "trends-areas"
TRENDS_GRAPH = "trends-graph"
TRENDS_NOTE = "trends-note"
TRENDS_DEFINITION = "trends-definition"
TRENDS_TABLE = "trends-table"
TRENDS_URL = "trends-url"
TRENDS_BOUNDARIES = "trends-boundaries"

# Area profile page (Stadtteilprofil)
PROFILE_AREA = "profile-area"
PROFILE_DATE = "profile-date"
PROFILE_NOTE = "profile-note"
PROFILE_SUMMARY = "profile-summary"
PROFILE_DOTS = "profile-dots"
PROFILE_TABLE = "profile-table"
PROFILE_MULTIPLES = "profile-multiples"
PROFILE_SERIES_TABLE = "profile-series-table"
PROFILE_URL = "profile-url"

# Comparison page (Vergleich)
COMPARE_INDICATOR = "compare-indicator"
COMPARE_LEVEL = "compare-level"
COMPARE_DATE_A = "compare-date-a"
COMPARE_DATE_B = "compare-date-b"
COMPARE_AREAS = "compare-areas"
COMPARE_MAP = "compare-map"
COMPARE_MAP_PANEL = "compare-map-panel"
COMPARE_NOTE = "compare-note"
COMPARE_LEGEND = "compare-map-legend"
COMPARE_SLOPE = "compare-slope"
COMPARE_CHANGE_TABLE = "compare-change-table"
COMPARE_BARS = "compare-bars"
COMPARE_BARS_NOTE = "compare-bars-note"
COMPARE_BARS_TABLE = "compare-bars-table"
COMPARE_DEFINITION = "compare-definition"
COMPARE_URL = "compare-url"
COMPARE_BOUNDARIES = "compare-boundaries"

# Indicator catalogue page (Indikatoren)
CATALOGUE_INDICATOR = "catalogue-indicator"
CATALOGUE_DETAIL = "catalogue-detail"
CATALOGUE_TABLE = "catalogue-table"
CATALOGUE_URL = "catalogue-url"

# Data page (Daten): filterable table with CSV and XLSX download
DATA_INDICATORS = "data-indicators"
DATA_LEVEL = "data-level"
DATA_DATES = "data-dates"
DATA_AREAS = "data-areas"
DATA_COUNT = "data-count"
DATA_TABLE = "data-table"
DATA_URL = "data-url"

# Internal page (Intern): logged-in users only
INTERNAL_REPORT_CHOICE = "internal-report-choice"  # staged | published
INTERNAL_REPORT = "internal-report"
INTERNAL_AUDIT = "internal-audit"  # office only, like the three below
INTERNAL_PUBLISH = "internal-publish"  # dcc.ConfirmDialogProvider around the button
INTERNAL_PUBLISH_BUTTON = "internal-publish-button"  # disabled while nothing is staged
INTERNAL_ROLLBACK = "internal-rollback"
INTERNAL_WARNINGS = "internal-warnings"  # the staged build's warnings; hidden if none
INTERNAL_WARNINGS_LIST = "internal-warnings-list"
INTERNAL_ACCEPT_WARNINGS = "internal-accept-warnings"  # the extra confirmation (checkbox)
INTERNAL_STATUS = "internal-status"
INTERNAL_VERSION = "internal-version"  # counts publishes and rollbacks of this page
# unprotected values (office, internal server only): snapshot, indicator, date, level
INTERNAL_QA_CHOICE = "internal-qa-choice"
INTERNAL_QA_INDICATOR = "internal-qa-indicator"
INTERNAL_QA_DATE = "internal-qa-date"
INTERNAL_QA_LEVEL = "internal-qa-level"
INTERNAL_QA_TABLE = "internal-qa-table"
INTERNAL_QA_CSV = "internal-qa-csv"
INTERNAL_QA_XLSX = "internal-qa-xlsx"
INTERNAL_QA_DOWNLOAD = "internal-qa-download"
# internal notes on indicators (commission and office)
INTERNAL_NOTES_INDICATOR = "internal-notes-indicator"
INTERNAL_NOTES_LIST = "internal-notes-list"
INTERNAL_NOTES_TEXT = "internal-notes-text"
INTERNAL_NOTES_SAVE = "internal-notes-save"
INTERNAL_NOTES_STATUS = "internal-notes-status"
INTERNAL_LOG = "internal-log"  # the access log's latest lines (office only)


# Sortable tables: one state store per table (assets/keyboard.js writes it)
def sort_state(table: str) -> str:
    """Store holding ``{"col": ..., "desc": ..., "page": ...}`` for ``table``."""
    return f"{table}-sort"


def url_keys(store_id: str) -> str:
    """Store holding the query-parameter names synchronised to the address bar."""
    return f"{store_id}-keys"
