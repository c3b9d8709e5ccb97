"""Memory as a budget: the machine's memory, a limit, the process's use, and a guard.

A run is given a memory limit (`--memory-limit`, default `DEFAULT_SHARE` of the
machine's memory). Before a model is built its size is estimated
(`optimizer.mip.formulation.estimate`); a model that would not fit is not built
(solve.py takes the sparse model instead, or says in one line what would be
needed). While the run lasts, `MemoryGuard` watches the resident memory of the
process and its children and asks the solve to stop (keeping its best plan) when
the limit is reached, and sets RLIMIT_DATA a little above the limit, so that an
allocation past it fails with MemoryError (reported in one line) instead of the
kernel's out-of-memory killer ending this process, or another one, silently.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import threading
from dataclasses import dataclass

from .errors import InputError

DEFAULT_SHARE = 0.5
"""Share of the machine's physical memory a run may use unless told otherwise."""
HARD_MARGIN = 1.5
"""RLIMIT_DATA is this many times the limit (plus `HARD_EXTRA`): the watchdog stops the
solve at the limit itself, the hard limit only catches a single allocation past it."""
HARD_EXTRA = 512 * 2**20
POLL_SECONDS = 0.2
UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20,
         "mib": 2**20, "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40,
         "tib": 2**40}


def machine_memory() -> int:
    """Bytes of physical memory (MemTotal; the cgroup's limit when that is lower)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def default_limit() -> int:
    return int(DEFAULT_SHARE * machine_memory())


def parse_size(text: str | int | float, what: str = "--memory-limit") -> int:
    """Bytes from '4G', '4 GB', '512M', '4096MiB' or a plain number of bytes."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
        if not m or m.group(2).lower() not in UNITS:
            raise InputError(f"{what}: expected a size such as 4G or 512M, got {text!r}")
        value, unit = float(m.group(1)), m.group(2).lower()
    size = int(value * UNITS[unit])
    if size < 64 * 2**20:
        raise InputError(f"{what}: at least 64M, got {text!r}")
    return size


def gigabytes(size: float) -> str:
    return f"{size / 2**30:.1f} GB"


def resident(pid: int | str = "self") -> int:
    """Resident bytes of a process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def family_resident() -> int:
    """Resident bytes of this process and its children (the parallel solves)."""
    total = resident()
    try:
        with open(f"/proc/self/task/{os.getpid()}/children", encoding="ascii") as f:
            kids = f.read().split()
    except OSError:
        kids = []
    return total + sum(resident(k) for k in kids)


@dataclass(frozen=True)
class MemoryBudget:
    """How many bytes a run may use."""

    limit: int

    @classmethod
    def default(cls) -> MemoryBudget:
        return cls(default_limit())

    def fits(self, size: int) -> bool:
        return size <= self.limit

    def share(self, workers: int) -> MemoryBudget:
        """The budget of each of `workers` processes that run side by side."""
        return MemoryBudget(max(self.limit // max(workers, 1), 64 * 2**20))


class MemoryGuard:
    """Watches the process family's resident memory while a run lasts (a daemon thread):
    past the limit it calls `stop(reason)` once, so the solve ends and keeps its plan.
    Also sets RLIMIT_DATA (inherited by the children) as the hard backstop."""

    def __init__(self, budget: MemoryBudget, stop, *, hard: bool = True) -> None:
        self.budget = budget
        self.stop = stop
        self.hard = hard
        self.tripped: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved = None

    def __enter__(self) -> MemoryGuard:
        hard = int(self.budget.limit * HARD_MARGIN + HARD_EXTRA)
        try:
            if not self.hard:
                raise ValueError("no hard limit asked for")
            self._saved = resource.getrlimit(resource.RLIMIT_DATA)
            cap = self._saved[1]
            new = hard if cap == resource.RLIM_INFINITY else min(hard, cap)
            resource.setrlimit(resource.RLIMIT_DATA, (new, self._saved[1]))
        except (ValueError, OSError, AttributeError):
            self._saved = None
        self._thread = threading.Thread(target=self._watch, name="optimizer-memory",
                                        daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            used = family_resident()
            if used > self.budget.limit:
                self.tripped = (f"memory limit of {gigabytes(self.budget.limit)} reached "
                                f"({gigabytes(used)} in use)")
                self.stop(self.tripped)
                return

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._saved is not None:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_DATA, self._saved)
