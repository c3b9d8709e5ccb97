"""Words for messages: counts ("1 municipality", "2 municipalities") and "did you mean"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

IRREGULAR = {"municipality": "municipalities", "is": "are", "was": "were"}


def plural(n: int | float, word: str) -> str:
    """`n word` with the word in the singular for exactly one, else the plural."""
    if n == 1:
        return f"{n:g} {word}" if isinstance(n, float) else f"{n} {word}"
    many = IRREGULAR.get(word, word + "s")
    return f"{n:,g} {many}" if isinstance(n, float) else f"{n:,} {many}"


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known word, or '' when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.75)
    if not close:
        folded = {k.casefold(): k for k in known}
        close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.75)
        close = [folded[c] for c in close]
    return f" (did you mean {close[0]!r}?)" if close else ""
