"""Helpers for tests that look into Dash component trees (layouts, callback outputs)."""

from __future__ import annotations


def texts(component) -> list[str]:
    """All strings in a Dash component tree, depth first."""
    if component is None:
        return []
    if isinstance(component, str | int | float):
        return [str(component)]
    if isinstance(component, list | tuple):
        return [s for child in component for s in texts(child)]
    return texts(getattr(component, "children", None))


def find(component, component_id):
    """The component with ``component_id`` in a layout tree (or None)."""
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    if not isinstance(children, list | tuple):
        children = [children]
    for child in children:
        if child is not None and not isinstance(child, str | int | float):
            found = find(child, component_id)
            if found is not None:
                return found
    return None
