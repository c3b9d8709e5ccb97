"""Numbers from user input, checked where they are read: finite, in range, named by key.

Every number a model file, a suite file or the command line gives passes
through `number` or `integer`, so NaN, ±inf, booleans and out-of-range values
are refused with the key's dotted name instead of surfacing later as a false
claim ("infeasible"), a dropped rule or a hang.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import InputError

LARGEST = 1e15
"""Largest magnitude accepted: doubles hold whole numbers exactly only below 2**53
(about 9e15), and solvers treat coefficients near 1e20 as infinite."""
MAX_MUNICIPALITIES = 5_000
"""Most municipalities an instance may have (the mainland has 292; a model's arrays grow with
the square of the count, 5,000 already needs gigabytes)."""
MAX_NAME = 200
"""Longest name or code of a municipality, and longest model name, in characters."""
MAX_THREADS = 64
"""Most solver threads accepted (CP-SAT with 1024 workers needs 1.3 GB on a 30-municipality
model); 0 asks for the back end's own default."""


def describe(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
             hi_open: bool = False) -> str:
    """The accepted range in words, e.g. 'a positive number' or 'a number in [0, 1)'."""
    if lo == 0 and lo_open and hi is None:
        return "a positive number"
    if lo is not None and hi is not None:
        return f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"a number {'>' if lo_open else '≥'} {lo:g}"
    if hi is not None:
        return f"a number {'<' if hi_open else '≤'} {hi:g}"
    return "a finite number"


def number(value: Any, key: str, *, where: str = "", lo: float | None = None,
           hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
           text: bool = False, error: type[InputError] = InputError) -> float:
    """`value` as a float that is finite, at most `LARGEST` in size and within [lo, hi].

    With `text`, strings are read as numbers (command line, CSV cells); booleans
    are always refused.
    The message names `key` (prefixed by `where`, usually the file) and the value.
    """
    want = describe(lo, hi, lo_open=lo_open, hi_open=hi_open)
    prefix = f"{where}: " if where else ""
    x = _as_float(value) if text or not isinstance(value, str) else None
    if x is None or not math.isfinite(x):
        raise error(f"{prefix}'{key}' must be {want}, got {shown(value)}")
    if abs(x) > LARGEST:
        raise error(f"{prefix}'{key}' is too large ({x:g}; at most {LARGEST:g} in size)")
    if (lo is not None and (x < lo or (lo_open and x == lo))) or \
            (hi is not None and (x > hi or (hi_open and x == hi))):
        raise error(f"{prefix}'{key}' must be {want}, got {shown(value)}")
    return x


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, str):
            return float(value.strip())
        if isinstance(value, int | float):
            return float(value)
    except ValueError:
        return None
    except OverflowError:  # an int beyond the double range
        return math.inf
    return None


def integer(value: Any, key: str, *, where: str = "", lo: int | None = None,
            hi: int | None = None, error: type[InputError] = InputError) -> int:
    """`value` as an int within [lo, hi]; floats and booleans are refused."""
    prefix = f"{where}: " if where else ""
    span = (f"an integer in [{lo}, {hi}]" if lo is not None and hi is not None
            else f"an integer ≥ {lo}" if lo is not None else "an integer")
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{prefix}'{key}' must be {span}, got {shown(value)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise error(f"{prefix}'{key}' must be {span}, got {shown(value)}")
    return int(value)


def shown(value: Any, width: int = 40) -> str:
    """`repr(value)` cut to `width` characters, for one-line messages."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def count_range(value: Any, key: str, *, least: int = 1, where: str = "",
                error: type[InputError] = InputError, words: str = "") -> tuple[int, int]:
    """An integer range (lo, hi) with `least` ≤ lo ≤ hi, from an integer, a pair [lo, hi]
    (a model file) or the text 'K', 'K1-K2' or 'K1..K2' (the command line).

    The one parser of area and lead counts; `words` names what else the key accepts
    (such as '"max"') in the message."""
    prefix = f"{where}: " if where else ""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d{1,9})\s*(?:(?:-|\.\.)\s*(\d{1,9})\s*)?", value)
        pair = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else None
    elif isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    elif (isinstance(value, list | tuple) and len(value) == 2
          and all(isinstance(c, int) and not isinstance(c, bool) for c in value)):
        pair = (value[0], value[1])
    else:
        pair = None
    if pair is None:
        form = "K or K1-K2" if isinstance(value, str) else "an integer or [min, max]"
        raise error(f"{prefix}'{key}' must be {form}{f' or {words}' if words else ''}, "
                    f"got {shown(value)}")
    lo, hi = pair
    if lo == hi and lo < least:
        raise error(f"{prefix}'{key}' must be at least {least}, got {lo}")
    if not least <= lo <= hi:
        raise error(f"{prefix}'{key}' needs {least} <= min <= max, got {shown(value)}")
    return lo, hi
