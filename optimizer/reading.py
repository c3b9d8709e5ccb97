"""Input files read one way: regular files only, bounded in size, errors that name the file.

Every file the toolkit reads (model, instance, catalogue, subsidies, plan, suite,
a run directory's summary.json) comes through `read_bytes`, `read_text` or
`read_json`, so a missing file, a folder, a FIFO or a device, a file too large to
be an input, or text in the wrong encoding is one error of the caller's type
naming the file, never a hang or a traceback.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .errors import InputError

MAX_BYTES = 512 * 2**20
"""Largest input file read (512 MiB; the mainland instance is 2 MB): anything larger is
refused before it is read, so a wrong path cannot exhaust the memory."""


def read_bytes(path: str | Path, what: str, error: type[InputError] = InputError, *,
               limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; `what` names it in errors
    ('model file', 'plan file', ...)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a folder (a directory), not a file") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    problem = ("is a folder (a directory), not a file" if stat.S_ISDIR(info.st_mode) else
               "is not a regular file (a device, FIFO or socket)"
               if not stat.S_ISREG(info.st_mode) else
               f"is too large ({info.st_size:,} bytes; at most {limit:,})"
               if info.st_size > limit else None)
    if problem is not None:
        os.close(fd)
        raise error(f"{what} {path} {problem}")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limit:  # it grew while it was read
        raise error(f"{what} {path} is too large (more than {limit:,} bytes)")
    return data


def read_text(path: str | Path, what: str, error: type[InputError] = InputError, *,
              encoding: str = "utf-8") -> str:
    """The text of a file in `encoding` (a BOM is dropped with 'utf-8-sig')."""
    data = read_bytes(path, what, error)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not {encoding.upper().replace('-SIG', '')} text ({exc.reason} "
                    f"at byte {exc.start})") from None


def read_json(path: str | Path, what: str, error: type[InputError] = InputError) -> Any:
    """A JSON document from a file."""
    text = read_text(path, what, error)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise error(f"{what} {path} is not valid JSON: {exc}") from None
