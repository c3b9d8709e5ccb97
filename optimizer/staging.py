"""Output folders written as one set: checked before the work, filled at once at the end.

A run stages its files in a hidden folder inside the output folder (so a
read-only parent is fine and the staging folder is never left beside it),
then moves them into place with `os.replace` while SIGINT and SIGTERM are
held back. The folder's manifest (`MANIFEST`, a hidden JSON file) lists the
files and folders the toolkit wrote there: a new set replaces the entries of
the earlier one that it does not contain, so the folder describes the latest
run only, and nothing the manifest does not list (a planner's own file, a
foreign `report.html`) is ever removed. A staging folder left by a killed run
(its program is gone) is removed by the next run.
"""

from __future__ import annotations

import contextlib
import json
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
MANIFEST = ".optimizer-manifest.json"
"""The entries of an output folder that the toolkit wrote (its own files)."""
MODES = ("replace", "add", "plain")
"""How a staged set joins its folder: it `replace`s the folder's set (entries of the earlier
set it lacks are removed), `add`s to it (a report beside a run's files), or is `plain` files
with no manifest (the bundled instances)."""
MAX_NAME = 255
"""Longest file or folder name (bytes) most file systems accept."""


def own_entries(directory: Path) -> set[str]:
    """The names the folder's manifest lists (none without a readable manifest); only plain
    names inside the folder count, so a tampered manifest cannot reach outside it."""
    try:
        with open(Path(directory) / MANIFEST, "rb") as f:
            data = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return set()
    names = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(names, list):
        return set()
    return {n for n in names if isinstance(n, str) and n == Path(n).name
            and n not in ("", ".", "..", MANIFEST) and not n.startswith(STAGE_PREFIX)}


def file_mode() -> int:
    """The mode a new file gets under this process's umask (0644 under the usual 022): read
    from /proc where it can be (setting the umask to read it races with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            mask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


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
    def open(cls, target: Path, *, folders: Iterable[str] = ()) -> OutputDir:
        """Raises InputError (one line naming the folder) if `target` cannot be written, or
        if one of the sub`folders` this run writes is in the way and not the toolkit's."""
        target = Path(target)
        if str(target).strip() == "":
            raise InputError("output folder: an empty path names no folder")
        try:
            created = cls._check(target)
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot write to output folder {target}: "
                             f"{exc.strerror or exc}") from None
        try:
            own = own_entries(target)
            for name in folders:
                if (target / name).exists() and name not in own:
                    raise InputError(f"output folder {target}: {name} is there and was not "
                                     "written by optimizer; move it away or choose another "
                                     "folder")
            remove_stale(target, STAGE_PREFIX)
            stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=target))
        except (OSError, InputError) as exc:
            if created:
                with contextlib.suppress(OSError):
                    target.rmdir()
            if isinstance(exc, InputError):
                raise
            raise InputError(f"cannot write to output folder {target}: "
                             f"{exc.strerror or exc}") from None
        return cls(target, stage, created)

    @staticmethod
    def _check(target: Path) -> bool:
        """Whether `target` is yet to be made; InputError when a file is in the way or a
        name is too long (OSError for what the system refuses)."""
        for part in target.parts:
            if len(os.fsencode(part)) > MAX_NAME:
                raise InputError(f"cannot write to output folder {str(target)[:80]}…: a name "
                                 f"in the path is longer than {MAX_NAME} bytes")
        if target.exists() and not target.is_dir():
            raise InputError(f"output folder {target} is a file")
        for parent in target.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InputError(f"cannot create output folder {target}: {parent} is a file")
                break
        return not target.exists()

    def commit(self, mode: str = "replace") -> list[Path]:
        """Move every staged file and folder into the folder (see `MODES`); returns their
        paths. Entries of the earlier set are replaced or removed only when the manifest
        lists them; a foreign folder in the way is refused (InputError), never removed."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with signals_deferred():
            names = sorted(p.name for p in self.stage.iterdir())
            own = own_entries(self.target) if mode != "plain" else set()
            for name in names:
                self._place(name, name in own)
            if mode == "replace":
                for name in own - set(names):
                    _remove(self.target / name)
            if mode != "plain":
                keep = set(names) | (own if mode == "add" else set())
                keep = {n for n in keep if os.path.lexists(self.target / n)}
                manifest = self.stage / MANIFEST
                manifest.write_text(json.dumps({"entries": sorted(keep)}, indent=1) + "\n",
                                    encoding="utf-8")
                os.replace(manifest, self.target / MANIFEST)
            shutil.rmtree(self.stage, ignore_errors=True)
            self._committed = True
        return [self.target / n for n in names]

    def _place(self, name: str, own: bool) -> None:
        """One staged entry into the folder; a folder (or a file where a folder is) of the
        earlier set is moved aside first, a foreign one is refused."""
        new, old = self.stage / name, self.target / name
        if (old.is_dir() and not old.is_symlink()) or (new.is_dir() and os.path.lexists(old)):
            if not own:
                raise InputError(f"output folder {self.target}: {name} is there and was not "
                                 "written by optimizer; move it away or choose another folder")
            os.replace(old, self.stage / f"{STAGE_PREFIX}old-{name}")
        os.replace(new, old)

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


def _remove(path: Path) -> None:
    """A file or folder of the earlier set, gone (already gone is fine)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextmanager
def staged_directory(target: Path, mode: str = "replace", *,
                     folders: Iterable[str] = ()) -> Iterator[Path]:
    """Yield an empty staging directory; on success move its entries into `target` (see
    `MODES`; `folders`: sub-folders the set holds, checked before the work).

    On an exception nothing in `target` is touched (see `OutputDir`).
    """
    with OutputDir.open(target, folders=folders) as out:
        yield out.stage
        out.commit(mode)


def write_text_atomically(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the complete new one (never a part);
    InputError naming the file when it cannot be written."""
    path = Path(path)
    if str(path).strip() == "" or path.name == "":
        raise InputError(f"cannot write {str(path)!r}: an empty path names no file")
    if len(os.fsencode(path.name)) > MAX_NAME:
        raise InputError(f"cannot write {str(path)[:80]}…: the name is longer than {MAX_NAME} "
                         "bytes")
    try:
        if path.is_dir():
            raise InputError(f"cannot write {path}: it is a folder")
        if not path.parent.is_dir():
            raise InputError(f"cannot write {path}: folder {path.parent} does not exist")
        fd, tmp = tempfile.mkstemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), file_mode())  # mkstemp's 0600 would hide it from others
            f.write(text)
        with signals_deferred():
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
