"""Travel-time matrix files: `from_code,to_code,minutes,km` with its source in the header.

The file `optimizer instances travel-times` writes, and any model with
`instance.distance = "file"` reads:

    # optimizer travel times: minutes and km of the fastest route between centres
    # source: road and ferry routes in OpenStreetMap extract finland.osm.pbf (...)
    # speeds: ...
    # max_km: 150
    from_code,to_code,minutes,km
    009,069,48.12,61.874
    ...

Lines starting with `#` are the header; `# source:` is the one line every output
quotes, `# max_km:` says that pairs farther apart by road were left out. One row per
ordered pair of distinct municipalities (a centre to itself is 0 and may be left
out); codes that lost their leading zeros are accepted, rows of municipalities
outside the instance are ignored (so one file for the whole mainland serves every
region). `TravelMatrix` is the file aligned to an instance, unreachable pairs as inf.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..csvfile import cell_number, read_table
from ..errors import InstanceError
from ..staging import write_text_atomically
from .planfile import normalise_code

if TYPE_CHECKING:
    from .instance import Instance

COLUMNS = ("from_code", "to_code", "minutes", "km")
UNITS = ("minutes", "km")
"""What the travel term of a model counts: the route's minutes or its km."""
MISSING = ("error", "unreachable")
"""A pair the file lacks: an error naming both municipalities, or a pair that can never
be served (no route)."""
TITLE = "optimizer travel times: minutes and km of the fastest route between centres"


@dataclass(frozen=True)
class TravelFile:
    """A matrix file as read: its rows keyed by (from, to) code, and its header."""

    path: Path
    pairs: dict[tuple[str, str], tuple[float, float]]
    source: str
    header: tuple[str, ...]
    max_km: float | None


def _number(text: str, what: str, path: Path, line: int, delimiter: str = ",") -> float:
    value = cell_number(text, delimiter)
    if value is None:
        raise InstanceError(f"{path}, line {line}: {what} {text!r} is not a number")
    if not math.isfinite(value) or value < 0:
        raise InstanceError(f"{path}, line {line}: {what} {text!r} must be a finite number "
                            "≥ 0")
    return value


def read_travel_file(path: str | Path) -> TravelFile:
    """Read a matrix file (any encoding and delimiter a spreadsheet saves, as every CSV the
    toolkit reads: `csvfile.read_table`); a bad line is one error naming the file and
    line."""
    path = Path(path)
    table = read_table(path, "travel-time file", InstanceError, key="from_code", comment="#")
    header = list(table.comments)
    source = next((h.split(":", 1)[1].strip() for h in header
                   if h.lower().startswith("source:")), "")
    if not source:
        raise InstanceError(f"{path}: the header names no source (a '# source: ...' line): "
                            "say where the times come from")
    max_km = None
    for h in header:
        if h.lower().startswith("max_km:"):
            max_km = _number(h.split(":", 1)[1].strip(), "max_km", path, 0)
    if not table.header:
        raise InstanceError(f"{path}: no column line {','.join(COLUMNS)}")
    names = list(table.header)
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise InstanceError(f"{path}, line {table.header_line}: columns {', '.join(missing)} "
                            f"missing (expected {','.join(COLUMNS)})")
    at = [names.index(c) for c in COLUMNS]
    pairs: dict[tuple[str, str], tuple[float, float]] = {}
    for number, row in table.rows:
        if len(row) < len(names):
            raise InstanceError(f"{path}, line {number}: {len(row)} fields, expected "
                                f"{len(names)}")
        a, b, minutes, km = (row[k].strip() for k in at)
        key = (a, b)
        if key in pairs:
            raise InstanceError(f"{path}, line {number}: the pair {a} → {b} is given twice")
        pairs[key] = (_number(minutes, "minutes", path, number, table.delimiter),
                      _number(km, "km", path, number, table.delimiter))
    return TravelFile(path, pairs, source, tuple(header), max_km)


def format_travel_file(codes: Sequence[str], minutes: np.ndarray, km: np.ndarray,
                       header: Iterable[str], max_km: float | None = None) -> str:
    """The file's text: every ordered pair of distinct codes with a route (finite minutes)
    and, with `max_km`, at most that many km; `header` lines go first (one must start
    with `source:`)."""
    lines = [f"# {TITLE}"] + [f"# {h}" for h in header]
    if max_km is not None:
        lines.append(f"# max_km: {max_km:g}")
    lines.append(",".join(COLUMNS))
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            if i == j or not np.isfinite(minutes[i, j]):
                continue
            if max_km is not None and km[i, j] > max_km:
                continue
            lines.append(f"{a},{b},{minutes[i, j]:.2f},{km[i, j]:.3f}")
    return "\n".join(lines) + "\n"


def write_travel_file(path: str | Path, codes: Sequence[str], minutes: np.ndarray,
                      km: np.ndarray, header: Iterable[str], max_km: float | None = None
                      ) -> int:
    """Write the file atomically; returns the number of pairs written."""
    text = format_travel_file(codes, minutes, km, header, max_km)
    write_text_atomically(Path(path), text)
    return text.count("\n") - sum(1 for line in text.splitlines()
                                  if line.startswith("#")) - 1


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """A travel-time file aligned to an instance: `minutes[i, j]` and `km[i, j]` of the
    fastest route from i to j (inf: no route), the unit the model's travel counts, and the
    file's source line."""

    minutes: np.ndarray
    km: np.ndarray
    unit: str
    source: str
    path: Path
    max_km: float | None = None

    @property
    def distance(self) -> np.ndarray:
        """The matrix in the model's unit."""
        return self.minutes if self.unit == "minutes" else self.km

    def describe(self) -> str:
        """One line for outputs: what the travel figures are and where they come from."""
        return f"{self.unit} from {self.path.name} (source: {self.source})"

    def subset(self, keep: np.ndarray) -> TravelMatrix:
        ix = np.ix_(keep, keep)
        return replace(self, minutes=_readonly(self.minutes[ix]), km=_readonly(self.km[ix]))


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


def travel_matrix(instance: Instance, path: str | Path, unit: str = "minutes",
                  missing: str = "error") -> TravelMatrix:
    """The file's figures for every ordered pair of the instance's municipalities. A pair
    the file lacks is an error naming both municipalities, unless `missing` is
    `"unreachable"` (then the pair can never be served)."""
    if unit not in UNITS:
        raise InstanceError(f"unknown travel unit {unit!r} (known: {', '.join(UNITS)})")
    if missing not in MISSING:
        raise InstanceError(f"unknown handling of missing pairs {missing!r} (known: "
                            f"{', '.join(MISSING)})")
    tf = read_travel_file(path)
    n = instance.n
    index = instance.index
    minutes = np.full((n, n), np.inf)
    km = np.full((n, n), np.inf)
    np.fill_diagonal(minutes, 0.0)
    np.fill_diagonal(km, 0.0)
    for (a, b), (t, d) in tf.pairs.items():
        i = index.get(normalise_code(a, instance))
        j = index.get(normalise_code(b, instance))
        if i is None or j is None or i == j:
            continue
        minutes[i, j] = t
        km[i, j] = d
    absent = np.argwhere(~np.isfinite(minutes))
    if len(absent) and missing == "error":
        i, j = (int(x) for x in absent[0])
        more = f" (and {len(absent) - 1} more pairs)" if len(absent) > 1 else ""
        why = (f"; the file leaves out pairs farther than {tf.max_km:g} km by road"
               if tf.max_km is not None else "")
        raise InstanceError(
            f"{tf.path}: no travel time from {instance.label(i)} to {instance.label(j)}"
            f"{more}{why}; add the pair, or set instance.missing_pairs = \"unreachable\" "
            "in the model so that such a pair is never served")
    return TravelMatrix(_readonly(minutes), _readonly(km), unit, tf.source, tf.path,
                        tf.max_km)
