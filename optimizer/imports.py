"""Libraries imported in a background thread while the solver works, finished before a fork.

Writing the maps needs about a second of imports (several on a busy machine);
`load_in_background` starts them in a thread so the solve does not wait for them.
A process must not fork while that thread imports: a module imported during the
fork (such as `concurrent.futures.thread`) registers fork handlers whose "after"
half then runs without its "before" half ("release unlocked lock"). So every
place that forks waits for the thread first (`finish`), and the modules of the
standard library that register fork handlers are imported here, in the main
thread, before the thread starts.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Iterable

FORK_HANDLERS = ("concurrent.futures.thread", "logging", "random")
"""Standard-library modules that register fork handlers when first imported."""
_threads: list[threading.Thread] = []


def load_in_background(modules: Iterable[str], setup: Callable[[], None] | None = None
                       ) -> None:
    """Import `modules` (after `setup`) in a daemon thread; a module that fails to import
    is skipped here and reported where it is used."""
    for name in FORK_HANDLERS:
        importlib.import_module(name)
    names = tuple(modules)

    def load() -> None:
        if setup is not None:
            setup()
        for name in names:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)

    thread = threading.Thread(target=load, name="optimizer-imports", daemon=True)
    _threads.append(thread)
    thread.start()


def finish() -> None:
    """Wait for the background imports: before a fork, and before the libraries are used."""
    while _threads:
        _threads.pop().join()
