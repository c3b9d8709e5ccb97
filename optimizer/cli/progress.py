"""Progress of long work (a mainland solve, a benchmark suite) for the person waiting.

On a terminal one live line (rich) shows the latest step, how many parts are
done and the time so far, and disappears when the work ends. Elsewhere (a log,
CI) each step is one plain line on stderr. `--quiet` and `--json` switch it off.
"""

from __future__ import annotations

from types import TracebackType


class ProgressLine:
    """A callable that takes progress messages; use it as a context manager."""

    def __init__(self, enabled: bool = True, *, first: str = "working", unit: str = "",
                 console=None, bar: bool = False) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self.live = enabled and self.console.is_terminal
        self.unit = unit
        self.first = first
        self.with_bar = bar
        self._bar = None
        self._task = None

    def __enter__(self) -> ProgressLine:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            columns = [SpinnerColumn(), TextColumn("{task.description}")]
            if self.with_bar:
                columns += [BarColumn(), MofNCompleteColumn()]
            elif self.unit:
                columns.append(TextColumn(f"[dim]{{task.completed}} {self.unit} done"))
            columns.append(TimeElapsedColumn())
            self._bar = Progress(*columns, console=self.console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.first, total=None)
        return self

    def __call__(self, message: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=message)
        elif self.enabled:
            self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def done(self, count: int) -> None:
        """How many parts (configurations, scenarios) are finished so far."""
        if self._bar is not None:
            self._bar.update(self._task, completed=count)

    def advance(self, done: int, total: int) -> None:
        """A bar's position (`bar=True`): `done` of `total` parts; off a terminal a plain line
        every tenth of the way."""
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)
        elif self.enabled and (done == total or done % max(1, total // 10) == 0):
            self.console.print(f"  {done}/{total} {self.unit or 'done'}", markup=False,
                               highlight=False)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
