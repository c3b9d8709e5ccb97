"""Output folders written as one set: checked before the work, filled at once at the end.

A run stages its files in a hidden folder inside the output folder (so a
read-only parent is fine and the staging folder is never left beside it),
then moves them into place with `os.replace` while SIGINT and SIGTERM are
held back, and removes the files of an earlier run that the new set does not
contain, so the folder describes the latest run only. A staging folder left
by a killed run (its program is gone) is removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError
from .stopping import signals_deferred

STAGE_PREFIX = ".optimizer-staging-"
"""Staging folders are `<out>/.optimizer-staging-<pid>-<random>`."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(directory: Path, prefix: str) -> int:
    """Remove `<prefix><pid>-*` folders in `directory` whose process is gone; returns how many."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        m = pattern.match(entry.name)
        if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))) \
                and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


class OutputDir:
    """An output folder: `open` checks it can be written before any work is done and
    makes an empty staging folder in it; `commit` puts the staged files in place."""

    def __init__(self, target: Path, stage: Path, created: bool):
        self.target = target
        self.stage = stage
        self._created = created
        self._committed = False

    @classmethod
    def open(cls, target: Path) -> OutputDir:
        """Raises InputError (one line naming the folder) if `target` cannot be written."""
        target = Path(target)
        if target.exists() and not target.is_dir():
            raise InputError(f"output folder {target} is a file")
        for parent in target.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InputError(f"cannot create output folder {target}: {parent} is a file")
                break
        created = not target.exists()
        try:
            target.mkdir(parents=True, exist_ok=True)
            remove_stale(target, STAGE_PREFIX)
            stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=target))
        except OSError as exc:
            if created:
                with contextlib.suppress(OSError):
                    target.rmdir()
            raise InputError(f"cannot write to output folder {target}: "
                             f"{exc.strerror or exc}") from None
        return cls(target, stage, created)

    def commit(self, replaces: Iterable[str] = ()) -> list[Path]:
        """Move every staged file into the folder and remove the files named in
        `replaces` that the new set lacks; returns the new files' paths."""
        with signals_deferred():
            names = sorted(p.name for p in self.stage.iterdir())
            for name in names:
                os.replace(self.stage / name, self.target / name)
            for name in set(replaces) - set(names):
                with contextlib.suppress(FileNotFoundError):
                    (self.target / name).unlink()
            shutil.rmtree(self.stage, ignore_errors=True)
            self._committed = True
        return [self.target / n for n in names]

    def discard(self) -> None:
        """Remove the staging folder (and the output folder if this run made it and
        left it empty)."""
        shutil.rmtree(self.stage, ignore_errors=True)
        if self._created and not self._committed:
            with contextlib.suppress(OSError):
                self.target.rmdir()

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yield an empty staging directory; on success move its files into `target`.

    On an exception nothing in `target` is touched (see `OutputDir`).
    """
    with OutputDir.open(target) as out:
        yield out.stage
        out.commit()


def write_text_atomically(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the complete new one (never a part);
    InputError naming the file when it cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        with signals_deferred():
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
