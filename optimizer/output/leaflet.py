"""Leaflet's JavaScript and CSS inlined, so a map opens without a network.

The files come from the xstatic-leaflet package (Leaflet, BSD-2-Clause,
(c) Vladimir Agafonkin and CloudMade); the images the CSS refers to are
embedded as data URIs, and source-map references are dropped.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

LICENCE = "Leaflet 1.9 (BSD-2-Clause), (c) 2010-2022 Vladimir Agafonkin, (c) 2010-2011 CloudMade"


def _data_dir() -> Path:
    import xstatic.pkg.leaflet as pkg

    return Path(pkg.BASE_DIR)


def _no_source_map(text: str) -> str:
    return re.sub(r"/[/*]# sourceMappingURL=\S+", "", text)


@cache
def leaflet_js() -> str:
    """Leaflet's minified JavaScript, safe to place inside a <script> element."""
    text = _no_source_map((_data_dir() / "leaflet.js").read_text(encoding="utf-8"))
    return text.replace("</script", "<\\/script")


@cache
def leaflet_css() -> str:
    """Leaflet's CSS with its images (layer switch, default marker) as data URIs."""
    data = _data_dir()

    def inline(m: re.Match) -> str:
        png = base64.b64encode((data / m.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{png})"

    css = (data / "leaflet.css").read_text(encoding="utf-8")
    return _no_source_map(re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css))
