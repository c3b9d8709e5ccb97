"""A Dask client for parallel work: a local cluster on this machine, or an existing cluster.

Sweeps and benchmark suites send independent solves to Dask distributed. By
default a `LocalCluster` with one single-threaded worker per core is started
(and stopped afterwards); `scheduler="tcp://host:8786"` connects to a cluster
started elsewhere (`dask scheduler` and `dask worker tcp://host:8786` on each
machine, every worker with `optimizer` installed). Tasks carry the bound problem
itself, so workers need no access to the model or instance files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import InputError


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, *,
                processes: bool = True, timeout: float = 30.0) -> Iterator:
    """A connected `distributed.Client`; a local cluster it started is closed on exit."""
    from distributed import Client, LocalCluster

    for name in ("distributed", "distributed.worker", "distributed.scheduler",
                 "distributed.nanny", "distributed.core", "distributed.http.proxy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler is not None:
        if workers is not None:
            raise InputError("--workers applies to a local cluster, not to --scheduler")
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or max(os.cpu_count() or 1, 1)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
