"""Helpers for tests that look into Dash component trees (layouts, callback outputs).

Tables (dashboards/tables.py) are HTML inside a ``dcc.Markdown``; the helpers read that
markup as XML (it is well-formed), so a table's rows are ElementTree elements.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dash import dcc


def markup(component: dcc.Markdown) -> ET.Element:
    """The HTML of a Markdown component (a table) as an element tree."""
    return ET.fromstring(f"<root>{component.children}</root>")


def texts(component) -> list[str]:
    """All strings in a Dash component tree, depth first; in HTML markup every text node,
    and an empty table cell as ``""``."""
    if component is None:
        return []
    if isinstance(component, str | int | float):
        return [str(component)]
    if isinstance(component, list | tuple):
        return [s for child in component for s in texts(child)]
    if isinstance(component, ET.Element):
        return _element_texts(component)
    if isinstance(component, dcc.Markdown) and component.dangerously_allow_html:
        return _element_texts(markup(component))
    return texts(getattr(component, "children", None))


def _element_texts(element: ET.Element) -> list[str]:
    found = [element.text] if element.text else []
    for child in element:
        found += _element_texts(child)
        if child.tail:
            found.append(child.tail)
    if element.tag in ("td", "th") and not found:
        found = [""]
    return found


def find(component, component_id):
    """The component with ``component_id`` in a layout tree (or None); inside a table's
    markup, the element with that id."""
    if getattr(component, "id", None) == component_id:
        return component
    if isinstance(component, dcc.Markdown) and component.dangerously_allow_html:
        return markup(component).find(f".//*[@id='{component_id}']")
    children = getattr(component, "children", None)
    if not isinstance(children, list | tuple):
        children = [children]
    for child in children:
        if child is not None and not isinstance(child, str | int | float):
            found = find(child, component_id)
            if found is not None:
                return found
    return None
