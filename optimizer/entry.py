"""The `optimizer` command's entry point: signals are handled from the first instant.

Loading the program takes a second or more (numpy, scipy, geopandas, the
solvers). A SIGINT or SIGTERM in that time ends it like a later one, with one
line and exit code 130 or 143, instead of a traceback.
"""

import signal
import sys


def _while_starting(signum: int, _frame) -> None:
    name = signal.Signals(signum).name
    print(f"interrupted by {name} while starting; nothing written", file=sys.stderr)
    raise SystemExit(128 + signum)


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _while_starting)
    from .cli import main as run

    run()


if __name__ == "__main__":
    main()
