"""Integration monitor dashboard (Dash Pages) over the curated DuckDB warehouse.

Entry point: :func:`dashboards.app.create_app`. Importing this package does no I/O.
"""
