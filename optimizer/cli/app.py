"""The command group's plumbing: named errors to exit codes, one-line usage errors, the clock.

Exit codes: 0 success, 1 infeasible / no solution / a plan that breaks rules,
2 bad input (one line naming the file, key or municipality; no traceback),
130 / 143 stopped by SIGINT / SIGTERM (128 + the signal's number).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import signal
import sys
import time

import click

from .. import __version__
from ..errors import BackendError, InfeasibleModelError, InputError, Interrupted, OptimizerError
from ..stopping import StopRequest, process_age, stop_on_signals


def _plain_console():
    """A stderr console that never draws a live line (the solver's own log is printing)."""
    from rich.console import Console

    return Console(stderr=True, force_terminal=False, force_interactive=False)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


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
            click.echo(f"{exc} before the run finished; no partial file was kept", err=True)
            sys.exit(128 + exc.signum)
        except (InputError, BackendError) as exc:
            _fail(str(exc), 2)
        except InfeasibleModelError as exc:
            _fail(str(exc), 1)
        except OptimizerError as exc:
            _fail(str(exc), 1)
        except MemoryError:
            _fail("out of memory: an allocation went past the memory limit (--memory-limit, "
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
        click.echo(f"error: {self.message}", err=True)


class _Command(_OneLineErrors, click.Command):
    pass


class _Group(_OneLineErrors, click.Group):
    command_class = _Command
    group_class = type  # sub-groups are _Group too


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optimizer")
def cli() -> None:
    """Design contiguous production areas (employment areas) exactly, with free MIP solvers."""


_STARTED: float | None = None
"""When this process started (`time.perf_counter` scale), set by `main`: a time limit
counts from here, so start-up and reading the files count too."""


def main() -> None:
    global _STARTED
    _STARTED = time.perf_counter() - process_age()
    code: int | str | None = 0
    try:
        cli(prog_name="optimizer")
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
