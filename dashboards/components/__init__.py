"""Dash layout pieces: shell, controls, graphs, accessible tables; no export renderer."""
