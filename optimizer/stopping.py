"""When a solve must end: a wall-clock deadline, a stop request (a signal), or both.

The time limit is a promise: every phase of a solve (formulation, heuristic,
solver calls, cut rounds, repair) reads one `Deadline`, and solvers that do
not look at the clock often enough are interrupted through their own
mechanism when it passes (see `optimizer.backends.base.run_interruptible`).
A `StopRequest` is how a signal handler, or any other thread, asks a running
solve to stop early and keep what it has.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from .errors import Interrupted, signal_name


class StopRequest:
    """A thread-safe "stop now" flag that remembers which signal (if any) raised it.

    While `cooperative` is true (a solve is running and will stop by itself
    and keep its best plan), the first signal only sets the flag; otherwise,
    and for a second signal, `signal_handler` raises `Interrupted` at once.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self.cooperative = False
        self.kept: str | None = None
        """What a command stopped at once keeps (finished scenario folders, rows of a
        results file), for its last line; None: nothing, no partial file."""
        self.why: str | None = None
        """Why the stop was asked for without a signal (the memory limit), if it was."""

    def set(self, signum: int | None = None, why: str | None = None) -> None:
        if self.signum is None:
            self.signum = signum
        if why is not None and self.why is None and not self._event.is_set():
            self.why = why
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None) -> bool:
        """Block up to `timeout` seconds (None: forever) or until the flag is set."""
        return self._event.wait(timeout)

    @property
    def reason(self) -> str:
        if self.signum:
            return f"interrupted by {signal_name(self.signum)}"
        return self.why or "stopped on request"

    def signal_handler(self, signum: int, _frame) -> None:
        first = not self.is_set()
        self.set(signum)
        if not (first and self.cooperative):
            raise Interrupted(signum)

    @contextmanager
    def cooperating(self) -> Iterator[None]:
        """Within this block a first signal asks the solve to stop instead of raising."""
        before = self.cooperative
        self.cooperative = True
        try:
            yield
        finally:
            self.cooperative = before


@contextmanager
def stop_on_signals(request: StopRequest,
                    signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Route SIGINT and SIGTERM to `request` (main thread only; restored afterwards)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.signal(s, request.signal_handler) for s in signums}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


@contextmanager
def signals_deferred(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)
                     ) -> Iterator[None]:
    """Hold SIGINT and SIGTERM back during a short step that must not be cut in two
    (moving finished files into place); they are delivered when the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signums)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@dataclass(frozen=True)
class Deadline:
    """A point on the `time.perf_counter` clock (None: no time limit) plus a stop request."""

    at: float | None = None
    request: StopRequest | None = field(default=None, compare=False)

    @classmethod
    def after(cls, seconds: float | None, request: StopRequest | None = None) -> Deadline:
        return cls(None if seconds is None else time.perf_counter() + seconds, request)

    @classmethod
    def within(cls, limit: float | None, *, since: float | None = None, reserve: float = 0.0,
               request: StopRequest | None = None) -> Deadline:
        """A command's deadline: `limit` seconds counted from `since` (a `time.perf_counter`
        instant, default now), less `reserve` seconds (at most half the limit) kept for the
        work after it, such as writing the outputs."""
        if limit is None:
            return cls(None, request)
        since = time.perf_counter() if since is None else since
        return cls(since + limit - min(reserve, limit / 2), request)

    def stopped(self) -> bool:
        """Whether a stop was requested (as opposed to the clock running out)."""
        return self.request is not None and self.request.is_set()

    def remaining(self) -> float | None:
        """Seconds left (≤ 0 once expired or stopped); None without a time limit."""
        if self.stopped():
            return 0.0
        return None if self.at is None else self.at - time.perf_counter()

    @property
    def why(self) -> str:
        """Why a run ends early, in words: the stop request's reason or the time limit."""
        return self.request.reason if self.stopped() else "time limit reached"

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def sooner(self, seconds: float | None) -> Deadline:
        """This deadline or `seconds` from now, whichever comes first."""
        if seconds is None:
            return self
        at = time.perf_counter() + seconds
        return Deadline(at if self.at is None else min(self.at, at), self.request)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early when stopped; returns `expired()`."""
        left = self.remaining()
        nap = seconds if left is None else max(0.0, min(seconds, left))
        if self.request is not None:
            self.request.wait(nap)
        else:
            time.sleep(nap)
        return self.expired()


def process_age() -> float:
    """Seconds since this process started (from /proc on Linux; 0 where unknown), so a
    command's time limit also counts the interpreter's start-up and the reading of files."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent thread exits (Linux)."""


@cache
def _prctl():
    """libc's prctl, resolved before any fork (None where there is none, e.g. macOS)."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                   ctypes.c_ulong]
    return fn


def die_with_parent(parent: int) -> None:
    """In a child process: be killed when the parent exits (PR_SET_PDEATHSIG), and exit at
    once if the parent is already gone (the race before prctl)."""
    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
