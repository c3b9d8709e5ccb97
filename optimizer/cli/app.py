"""The command line's plumbing: named errors to exit codes, one-line usage errors, the clock.

Exit codes: 0 success, 1 infeasible / no solution / a plan that breaks rules,
2 bad input (one line naming the file, key or municipality; no traceback),
130 / 143 stopped by SIGINT / SIGTERM (128 + the signal's number). This is the
one place that maps the toolkit's named errors to them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import signal
import sys
import time
import unicodedata

import click

from ..errors import BackendError, InfeasibleModelError, InputError, Interrupted, OptimizerError
from ..stopping import StopRequest, process_age, stop_on_signals

EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (InputError, 2), (BackendError, 2), (InfeasibleModelError, 1), (OptimizerError, 1))
"""A named error's exit code: the first entry whose type it is."""

_started: float | None = None


def started() -> float:
    """When this process started (`time.perf_counter` scale; now when not run by `run`): a
    time limit counts from here, so start-up and reading the files count too."""
    return _started if _started is not None else time.perf_counter()


def fail(message: str, code: int) -> None:
    """One `error:` line on stderr and the exit code (bad input, exit 2, is always one line:
    a control character or line break from the input, in a path or a name, is shown
    escaped)."""
    if code == 2:
        message = one_line(message)
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def one_line(text: str) -> str:
    """`text` with control characters and line or paragraph separators escaped (`\\x0c`)."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


def handles_errors(fn):
    """Turn the toolkit's named errors into one line on stderr and an exit code.

    SIGINT and SIGTERM go to a `StopRequest` (passed to the command as `stop` when it
    takes one): a solve in progress stops and keeps its best plan; anywhere else (or on
    a second signal) the command ends at once, its staged files removed, with 128 + the
    signal's number.
    """
    wants_stop = "stop" in inspect.signature(fn).parameters

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        stop = StopRequest()
        if wants_stop:
            kwargs["stop"] = stop
        try:
            with stop_on_signals(stop):
                return fn(*args, **kwargs)
        except Interrupted as exc:
            click.echo(f"{exc} before the run finished; "
                       + (stop.kept or "no partial file was kept"), err=True)
            sys.exit(128 + exc.signum)
        except OptimizerError as exc:
            fail(str(exc), next(code for kind, code in EXIT_CODES if isinstance(exc, kind)))
        except MemoryError:
            fail("out of memory: an allocation went past the memory limit (--memory-limit, "
                 "default half the machine's memory); raise it, or allow fewer pairs "
                 "(areas.max_distance_km, areas.candidate_leads)", 1)

    return wrapper


class _OneLineErrors:
    """Usage errors (a bad option value, a missing argument) as one `error:` line with
    exit 2, like every other bad input, instead of click's usage block."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _UsageError(exc.format_message(), exc.ctx) from None

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _UsageError(exc.format_message(), exc.ctx) from None


class _UsageError(click.UsageError):
    def show(self, file=None) -> None:
        click.echo(f"error: {one_line(self.message)}", err=True)


class Command(_OneLineErrors, click.Command):
    """A command whose usage errors are one line."""


class Group(_OneLineErrors, click.Group):
    """A group whose commands and sub-groups are `Command` and `Group`."""

    command_class = Command
    group_class = type  # sub-groups are Group too


def command(name: str | None = None, **settings):
    """`click.command` with one-line usage errors and the toolkit's error handling."""
    def decorate(fn):
        return click.command(name, cls=Command, **settings)(handles_errors(fn))
    return decorate


def plain_console():
    """A stderr console that never draws a live line (the solver's own log is printing)."""
    from rich.console import Console

    return Console(stderr=True, force_terminal=False, force_interactive=False)


def run(group: click.Group) -> None:
    """Run the command line and leave the process with the command's exit code."""
    global _started
    _started = time.perf_counter() - process_age()
    code: int | str | None = 0
    try:
        group(prog_name="optimizer")
    except SystemExit as exc:
        code = exc.code
    # The run is over: a late signal no longer changes its outcome, and the process
    # leaves at once rather than tear the interpreter down around a solver thread that
    # may still be running in C++ (see backends.base.ABANDONED).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    if isinstance(code, str):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe
            stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)
