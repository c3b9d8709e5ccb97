"""User-supplied text on its way into HTML, escaped in one place.

Names of municipalities and areas (from the instance and the plan files), model,
plan, file and folder names, layer names and the data's credit line reach the
report and map.html: in tables and titles, in folium's tooltips, in Leaflet's
layer switch and in the legends. Folium and Leaflet insert the strings they are
given as HTML, so every such string goes through `text` before it is handed to
them (or to a template that does not escape), and a value placed in a script
goes through `script_value`; an embedded document is sandboxed (`iframe`). The
same names reach the printed plots, where matplotlib would read `$...$` as
mathematics: every function that draws one is wrapped in `plain_text`.
"""

from __future__ import annotations

import functools
import html
import json
from typing import Any

SANDBOX = "allow-scripts"
"""An embedded map may run its own scripts, in an opaque origin: no access to the page
around it, no forms, no pop-ups, no navigation of the top page."""


def text(value: Any) -> str:
    """`value` as HTML text or an attribute value: & < > " ' escaped."""
    return html.escape(str(value), quote=True)


def script_value(value: Any) -> str:
    """`value` as a JSON literal that is safe inside a <script> element (no `</script>`,
    no `<!--`, no markup)."""
    return (json.dumps(value, ensure_ascii=True).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def iframe(document: str, style: str = "", title: str = "") -> str:
    """An iframe that shows `document` (srcdoc, escaped) in a sandbox."""
    return (f'<iframe sandbox="{SANDBOX}" title="{text(title)}" srcdoc="{text(document)}" '
            f'style="{text(style)}"></iframe>')


def plain_text(draw):
    """A plotting function whose texts (names in labels, titles, legends) are drawn as
    written: no mathtext, so `a$b$c` is not set as mathematics (and an unbalanced `$` or
    `\\frac{` cannot fail the drawing). Matplotlib runs headless (Agg)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import matplotlib

        matplotlib.use("Agg")
        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return wrapper
