"""Dash Pages: only ``register_page``, ``layout(**query_params)`` and thin callbacks."""
