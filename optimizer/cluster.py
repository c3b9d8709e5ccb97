"""A Dask client for parallel work: a local cluster on this machine, or an existing cluster.

Sweeps and benchmark suites send independent solves to Dask distributed. By
default a `LocalCluster` with one single-threaded worker per core is started
(and stopped afterwards), its scratch and lock files in a folder the caller
names (under the output folder) that is removed at exit; `scheduler=
"tcp://host:8786"` connects to a cluster started elsewhere (`dask scheduler` and
`dask worker tcp://host:8786` on each machine, every worker with `optimizer`
installed). Tasks carry the bound problem itself, so workers need no access to
the model or instance files.

Failing loudly: the address is probed first with a short timeout (an address
that does not answer, an HTTP server or anything that does not open with a Dask
handshake is one error line naming it); while tasks run, `completed` watches the
workers and the scheduler, and gives up with `ClusterError` when there has been
no worker for `lost_after` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ClusterError, InputError
from .staging import STAGE_PREFIX
from .stopping import StopRequest

CONNECT_SECONDS = 5.0
"""How long connecting to a scheduler may take before the address is refused."""
LOST_SECONDS = 60.0
"""How long a run waits while its cluster has no worker before it stops."""
POLL_SECONDS = 0.2
HANDSHAKE_LIMIT = 1 << 20
"""A Dask handshake is a few hundred bytes; a first frame claiming more is not Dask."""
SCRATCH_PREFIX = STAGE_PREFIX
"""Scratch folders are named like staging folders (`<prefix><pid>-dask-*`), so the next run
into the same folder removes those of a killed run (`staging.remove_stale`)."""


def _quiet() -> None:
    for name in ("distributed", "distributed.worker", "distributed.scheduler",
                 "distributed.nanny", "distributed.core", "distributed.http.proxy",
                 "distributed.comm", "distributed.client", "distributed.batched",
                 "distributed.utils_perf", "distributed.diskutils"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def probe(address: str, timeout: float = CONNECT_SECONDS) -> str:
    """Check that `address` is a Dask scheduler before a client connects to it; returns the
    address with its scheme. InputError (one line) when it is not reachable within
    `timeout` seconds or answers with anything but a Dask handshake."""
    text = address.strip()
    if "://" not in text:
        text = f"tcp://{text}"
    parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        raise InputError(f"--scheduler {address}: an http address is a dashboard or a web "
                         "server; a Dask scheduler's address is tcp://host:8786")
    if parts.scheme != "tcp":
        return text  # tls://, inproc://, ucx://: left to Dask and its timeout
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise InputError(f"--scheduler {address}: expected tcp://host:port")
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise InputError(f"--scheduler {address}: no answer within {timeout:g} s (is a Dask "
                         "scheduler running there?)") from None
    except OSError as exc:
        raise InputError(f"--scheduler {address}: cannot connect "
                         f"({exc.strerror or exc})") from None
    try:
        with sock:
            sock.settimeout(timeout)
            head = b""
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except OSError as exc:
        if not isinstance(exc, TimeoutError):
            raise InputError(f"--scheduler {address}: the connection failed "
                             f"({exc.strerror or exc})") from None
        raise InputError(f"--scheduler {address}: it accepted the connection but sent no Dask "
                         f"handshake within {timeout:g} s (a web server or another service, not "
                         "a Dask scheduler)") from None
    size = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
    if not 0 < size <= HANDSHAKE_LIMIT:
        shown = repr(head[:8]) if head else "nothing"
        raise InputError(f"--scheduler {address}: not a Dask scheduler (it answered "
                         f"{shown} instead of a Dask handshake)")
    return text


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, *,
                processes: bool = True, timeout: float = CONNECT_SECONDS,
                scratch: Path | None = None) -> Iterator:
    """A connected `distributed.Client`; a local cluster it started is closed on exit, and
    its scratch folder (inside `scratch`, default a private temporary folder) removed."""
    import dask
    from distributed import Client, LocalCluster

    _quiet()
    if scheduler is not None:
        if workers is not None:
            raise InputError("--workers applies to a local cluster, not to --scheduler")
        address = probe(scheduler, timeout)
        try:
            client = Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.close(timeout=timeout)
        return
    n = workers or max(os.cpu_count() or 1, 1)
    if scratch is not None:
        Path(scratch).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-dask-",
                                   dir=scratch))
    try:
        with dask.config.set({"temporary-directory": str(folder)}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                                   dashboard_address=None, silence_logs=logging.CRITICAL,
                                   local_directory=str(folder))
            try:
                client = Client(cluster)
                try:
                    yield client
                finally:
                    with contextlib.suppress(Exception):
                        client.close(timeout=timeout)
            finally:
                _kill_workers(cluster)  # a worker busy in a solve would hold close() for s
                with contextlib.suppress(Exception):
                    cluster.close(timeout=timeout)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _kill_workers(cluster) -> None:
    """End the local cluster's worker processes at once (their results are in, or no longer
    wanted)."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        proc = getattr(getattr(nanny, "process", None), "process", None)
        pid = getattr(proc, "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def worker_count(client) -> int | None:
    """Workers the scheduler knows (None when the scheduler does not answer)."""
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:
        return None


def completed(client, futures: Sequence, *, stop: StopRequest | None = None,
              lost_after: float = LOST_SECONDS, where: str = "the cluster") -> Iterator:
    """Yield `futures` as they finish. Returns early when `stop` is set (the caller cancels
    the rest); raises ClusterError when the cluster has had no worker, or the client no
    scheduler, for `lost_after` seconds."""
    pending = list(futures)
    lost_since: float | None = None
    checked = 0.0
    while pending:
        if stop is not None and stop.is_set():
            return
        ready = [f for f in pending if f.done()]
        for f in ready:
            pending.remove(f)
            yield f
        if ready:
            lost_since = None
            continue
        now = time.monotonic()
        if now - checked >= 1.0:
            checked = now
            n = worker_count(client) if client.status == "running" else None
            if n:
                lost_since = None
            elif lost_since is None:
                lost_since = now
            elif now - lost_since >= lost_after:
                what = "no worker" if n == 0 else "no answer from the scheduler"
                raise ClusterError(f"{where}: {what} for {lost_after:g} s with "
                                   f"{len(pending)} task(s) left")
        if stop is not None:
            stop.wait(POLL_SECONDS)
        else:
            time.sleep(POLL_SECONDS)


@contextmanager
def watch_event(name: str | None, request: StopRequest) -> Iterator[None]:
    """On a Dask worker: set `request` when the Dask event `name` is set (the run that sent
    the task was stopped), so a solve there ends within a second. No-op without a name."""
    if name is None:
        yield
        return
    from distributed import Event, get_client

    finished = threading.Event()
    try:  # the client is found in the task's thread (the watcher's thread knows none)
        event = Event(name, client=get_client())
    except Exception:  # not on a worker: nothing to watch
        yield
        return

    def watch() -> None:
        try:
            while not finished.is_set():
                if event.wait(timeout=0.5):
                    request.set()
                    return
        except Exception:  # the scheduler went away: the task will be dropped anyway
            return

    thread = threading.Thread(target=watch, name="optimizer-stop-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
