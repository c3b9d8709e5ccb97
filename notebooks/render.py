"""Render executed notebooks to HTML that opens offline: no script or style is fetched.

nbconvert's templates load require.js and MathJax from a CDN; these notebooks need
neither (their outputs are tables, pictures and maps with Leaflet inside), so the
exporter is told not to and any remaining external `<script src>` or stylesheet
link is dropped. `make notebooks` runs this; tests/test_notebooks.py checks the
result.

    python notebooks/render.py OUT_DIR notebooks/*.ipynb
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

EXTERNAL = re.compile(
    r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>\s*</script>"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>", re.IGNORECASE)
"""A script or stylesheet fetched from the network."""


def offline_html(nb) -> str:
    """An executed notebook as one HTML page with nothing to fetch."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(mathjax_url="", require_js_url="", jquery_url="",
                            widget_renderer_url="", jupyter_widgets_base_url="")
    body, _ = exporter.from_notebook_node(nb)
    return EXTERNAL.sub("", body)


def main(out: str, *paths: str) -> None:
    import nbformat
    from nbclient import NotebookClient

    Path(out).mkdir(parents=True, exist_ok=True)
    for path in map(Path, paths):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        target = Path(out) / f"{path.stem}.html"
        target.write_text(offline_html(nb), encoding="utf-8")
        print(target)


if __name__ == "__main__":
    main(*sys.argv[1:])
