"""The same travel-time matrix from a routing server a planner already runs (optional).

`router_matrix` asks an OSRM server's table service
(`GET /table/v1/{profile}/{lon,lat;...}?sources=..&destinations=..&annotations=duration,distance`,
durations in seconds, distances in metres) or a Valhalla server's matrix service
(`POST /sources_to_targets`, time in seconds, distance in km) for the minutes and km
of the fastest route between every pair of centres, in blocks of at most `block`
sources and `block` destinations (servers cap the table's size: OSRM's default
`--max-table-size` is 100 locations). No route is inf, as in `roads.route_matrix`.
Only the standard library is used (urllib).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import InputError

KINDS = ("osrm", "valhalla")
TIMEOUT_S = 120.0


def _get_json(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={
        "Accept": "application/json", **({"Content-Type": "application/json"} if data else {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:200]
        raise InputError(f"router {url.split('?')[0][:80]}: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InputError(f"router {url.split('?')[0][:80]}: {exc}") from None


def _osrm(base: str, profile: str, lon, lat, rows, cols):
    coords = list(rows) + [c for c in cols if c not in rows]
    where = {c: k for k, c in enumerate(coords)}
    text = ";".join(f"{lon[c]:.6f},{lat[c]:.6f}" for c in coords)
    url = (f"{base}/table/v1/{profile}/{text}?sources={';'.join(str(where[r]) for r in rows)}"
           f"&destinations={';'.join(str(where[c]) for c in cols)}"
           "&annotations=duration,distance")
    answer = _get_json(url)
    if answer.get("code") != "Ok":
        raise InputError(f"router {base}: {answer.get('code')}: {answer.get('message', '')}")
    seconds = np.array(answer["durations"], dtype=float)  # None → nan
    metres = np.array(answer["distances"], dtype=float)
    return seconds / 60.0, metres / 1000.0


def _valhalla(base: str, profile: str, lon, lat, rows, cols):
    body = {"sources": [{"lon": float(lon[r]), "lat": float(lat[r])} for r in rows],
            "targets": [{"lon": float(lon[c]), "lat": float(lat[c])} for c in cols],
            "costing": profile, "units": "kilometers"}
    answer = _get_json(f"{base}/sources_to_targets", body)
    if "sources_to_targets" not in answer:
        raise InputError(f"router {base}: no sources_to_targets in the answer: "
                         f"{str(answer)[:200]}")
    minutes = np.full((len(rows), len(cols)), np.nan)
    km = np.full((len(rows), len(cols)), np.nan)
    for line in answer["sources_to_targets"]:
        for cell in line:
            r, c = cell["from_index"], cell["to_index"]
            if cell.get("time") is not None:
                minutes[r, c] = cell["time"] / 60.0
                km[r, c] = cell["distance"]
    return minutes, km


def router_matrix(url: str, lon: Sequence[float], lat: Sequence[float], *,
                  kind: str = "osrm", profile: str | None = None, block: int = 50,
                  progress: Callable[[int, int], None] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(minutes, km) of the fastest route between every ordered pair of points, from a
    routing server; inf where it finds no route."""
    if kind not in KINDS:
        raise InputError(f"unknown router kind {kind!r} (known: {', '.join(KINDS)})")
    base = url.rstrip("/")
    profile = profile or ("driving" if kind == "osrm" else "auto")
    ask = _osrm if kind == "osrm" else _valhalla
    n = len(lon)
    minutes = np.full((n, n), np.inf)
    km = np.full((n, n), np.inf)
    blocks = [list(range(s, min(s + block, n))) for s in range(0, n, block)]
    done = 0
    for rows in blocks:
        for cols in blocks:
            t, d = ask(base, profile, lon, lat, rows, cols)
            if t.shape != (len(rows), len(cols)) or d.shape != t.shape:
                raise InputError(f"router {base}: answered a {t.shape} table for "
                                 f"{len(rows)}×{len(cols)} points")
            ok = np.isfinite(t) & np.isfinite(d)
            minutes[np.ix_(rows, cols)] = np.where(ok, t, np.inf)
            km[np.ix_(rows, cols)] = np.where(ok, d, np.inf)
        done += len(rows)
        if progress is not None:
            progress(done, n)
    np.fill_diagonal(minutes, 0.0)
    np.fill_diagonal(km, 0.0)
    return minutes, km
