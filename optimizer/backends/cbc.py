"""CBC, the COIN-OR solver, run as the binary that PuLP bundles.

The model goes to CBC as an MPS file (written by HiGHS's MPS writer); the
status, objective and bound are read from CBC's own result block, not from
PuLP's mapping, which has called time-limited runs "Optimal". The time limit
is wall-clock (`-timeMode elapsed`): CBC counts CPU time by default.

CBC checks its clock only between nodes (its root can run far past the
limit), so it is watched: at the deadline, or when a stop is requested, it
gets Ctrl-C (it then stops the search and still writes its incumbent) and is
killed if it has not finished a grace second later. It runs in its own
session (a terminal's Ctrl-C reaches only this program, which decides) and
dies with its parent (`PR_SET_PDEATHSIG`), so no CBC outlives the program,
even one killed by SIGKILL. Its files live in a temporary folder
`optimizer-cbc-<pid>-*`; the next run removes folders whose program is gone.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import BackendError
from ..files import remove_stale
from ..milp import MILP
from ..stopping import Deadline
from .base import (
    GRACE_SECONDS,
    POLL_SECONDS,
    Backend,
    SolverResult,
    Status,
    keep_start,
    run_interruptible,
)
from .highs import highs_lp, new_highs

_RESULT = re.compile(r"^Result - (.+)$", re.M)
_OBJ = re.compile(r"^Objective value:\s+(\S+)", re.M)
_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.M)
_NODES = re.compile(r"^Enumerated nodes:\s+(\d+)", re.M)
_GAP_STOP = re.compile(r"Exiting as integer gap of (\S+) less than")
_LP_INFEASIBLE = re.compile(r"^(Problem is infeasible|Pre-processing says infeasible)", re.M)
_BEST_POSSIBLE = re.compile(r"best possible (\S+)")
LIMIT_SHARE = 0.9
"""A run that used this share of its time limit may have been stopped by it."""
TEMP_PREFIX = "optimizer-cbc-"
"""CBC's temporary folders are `<tmp>/optimizer-cbc-<pid>-<random>`."""
PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent thread exits (Linux)."""


@cache
def _prctl():
    """libc's prctl, resolved before any fork (None where there is none, e.g. macOS)."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                   ctypes.c_ulong]
    return fn


def _child_setup(parent: int):
    """A `preexec_fn` that makes the child die with its parent: SIGKILL on the parent's
    exit, and exit at once if the parent is already gone (the race before prctl)."""
    prctl = _prctl()

    def setup() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return setup


def remove_stale_folders() -> int:
    """Remove temporary folders of CBC runs whose program is no longer running."""
    return remove_stale(Path(tempfile.gettempdir()), TEMP_PREFIX)


@cache
def cbc_path() -> Path | None:
    """PuLP's bundled CBC binary (made executable if needed), else a `cbc` on PATH."""
    try:
        from pulp.apis.coin_api import pulp_cbc_path
    except ImportError:
        pulp_cbc_path = None
    if pulp_cbc_path and Path(pulp_cbc_path).is_file():
        path = Path(pulp_cbc_path).resolve()
        if not os.access(path, os.X_OK):
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path
    found = shutil.which("cbc")
    return Path(found) if found else None


def write_mps(milp: MILP, path: Path) -> None:
    h = new_highs()
    h.passModel(highs_lp(milp))
    h.writeModel(str(path))


def write_start(x: np.ndarray, path: Path) -> None:
    """A start solution in CBC's solution-file format (index, name, value)."""
    lines = ["Stopped on time - objective value 0"]
    lines += [f"{k:>7} c{k} {v:>23.12g} 0" for k, v in enumerate(np.asarray(x, dtype=float))]
    path.write_text("\n".join(lines) + "\n")


class _Options(NamedTuple):
    gap: float
    threads: int | None
    node_limit: int | None
    with_start: bool


def _ran(tmp: Path) -> bool:
    return (tmp / "cbc.log").exists()


def _with_message(res: SolverResult, message: str) -> SolverResult:
    return SolverResult(res.status, res.backend, res.version, res.wall_time, res.objective,
                        res.bound, res.nodes, res.values, message)


def read_solution(path: Path, n: int) -> np.ndarray:
    x = np.zeros(n)
    for line in path.read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            x[int(parts[0])] = float(parts[2])
    return x


class CbcBackend(Backend):
    name = "cbc"
    capabilities = frozenset({"warm_start", "fractional_objective", "threads", "node_limit"})

    @classmethod
    def available(cls) -> bool:
        return cbc_path() is not None

    @classmethod
    @cache
    def version(cls) -> str:
        out = subprocess.run([str(cbc_path()), "-quit"], capture_output=True, text=True).stdout
        m = re.search(r"Version:\s*(\S+)", out)
        return f"CBC {m.group(1) if m else 'unknown'}"

    def solve(self, milp, *, time_limit=None, gap=0.0, warm_start=None, threads=None, log=False,
              stop=None, node_limit=None, deterministic=False):
        exe = cbc_path()
        if exe is None:
            raise BackendError("CBC binary not found (it ships with the 'pulp' package)")
        start = time.perf_counter()
        deadline = Deadline.after(time_limit, stop)
        remove_stale_folders()
        with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as tmp:
            tmp = Path(tmp)
            written, _ = run_interruptible(lambda: write_mps(milp, tmp / "model.mps"),
                                           lambda: None, deadline)
            if warm_start is not None:
                write_start(warm_start, tmp / "start.sol")
            proc = None
            if written and not deadline.expired():
                options = _Options(gap, threads, node_limit, warm_start is not None)
                proc = self._run(exe, tmp, options, deadline)
                if proc is not None and proc.returncode < 0 and warm_start is not None \
                        and proc.returncode != -signal.SIGINT and not deadline.expired():
                    # CBC 2.10.3 sometimes crashes reading a start under a short limit:
                    # retry once without the start rather than fail the solve.
                    proc = self._run(exe, tmp, options._replace(with_start=False), deadline)
            wall = time.perf_counter() - start
            if proc is None:
                why = deadline.request.reason if deadline.stopped() else "time limit reached"
                what = ("CBC did not stop within a second of being interrupted and was "
                        "killed; its plan is lost" if _ran(tmp) else f"{why} before CBC started")
                res = SolverResult(Status.NO_SOLUTION, self.name, self.version(), wall,
                                   message=what)
            elif proc.returncode == -signal.SIGINT:
                # Ctrl-C came before CBC had set up its own handler.
                res = SolverResult(Status.NO_SOLUTION, self.name, self.version(), wall,
                                   message="CBC was interrupted before it could report")
            else:
                if log:
                    print(proc.stdout, end="", file=sys.stderr, flush=True)
                limited = (deadline.at is not None and wall >= LIMIT_SHARE * time_limit) \
                    or deadline.stopped()
                res = self._parse(proc, tmp / "model.sol", milp, wall, limited)
                if deadline.stopped() and res.status is not Status.OPTIMAL:
                    res = _with_message(res, f"{deadline.request.reason}; {res.message}")
        return keep_start(res, milp, warm_start)

    @staticmethod
    def _run(exe, tmp: Path, options: _Options, deadline: Deadline):
        """Run CBC until it ends, Ctrl-C at the deadline, kill a grace second later (None)."""
        cmd = [str(exe), str(tmp / "model.mps"), "-timeMode", "elapsed",
               "-ratioGap", f"{options.gap:.12g}", "-allowableGap", "1e-6",
               "-threads", str(options.threads or 1)]
        left = deadline.remaining()
        if left is not None:
            cmd += ["-sec", f"{max(left, 0.001):.3f}"]
        if options.node_limit is not None:
            cmd += ["-maxNodes", str(int(options.node_limit))]
        if options.with_start:
            cmd += ["-mips", str(tmp / "start.sol")]
        cmd += ["-solve", "-solution", str(tmp / "model.sol")]
        log = tmp / "cbc.log"
        with log.open("w") as sink:
            proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=_child_setup(os.getpid()))
        interrupted_at = None
        try:
            while True:
                try:
                    code = proc.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if interrupted_at is None and deadline.expired():
                    # Like a time limit: CBC stops the search, prints its result and
                    # writes its incumbent.
                    proc.send_signal(signal.SIGINT)
                    interrupted_at = time.perf_counter()
                elif interrupted_at is not None \
                        and time.perf_counter() - interrupted_at > GRACE_SECONDS:
                    return None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return subprocess.CompletedProcess(cmd, code, log.read_text(errors="replace"), "")

    def _parse(self, proc, sol_path: Path, milp: MILP, wall: float,
               limited: bool) -> SolverResult:
        out = proc.stdout
        if proc.returncode == 0 and _LP_INFEASIBLE.search(out):
            if limited:  # preprocessing cut short by the limit also prints this
                return SolverResult(Status.NO_SOLUTION, self.name, self.version(), wall,
                                    message="CBC stopped at its time limit in preprocessing")
            return SolverResult(Status.INFEASIBLE, self.name, self.version(), wall,
                                message="CBC: preprocessing proved the model infeasible")
        m = _RESULT.search(out)
        if proc.returncode != 0 or m is None:
            tail = (proc.stderr or out).strip().splitlines()[-3:]
            why = f"signal {-proc.returncode}" if proc.returncode < 0 else " | ".join(tail)
            return SolverResult(Status.ERROR, self.name, self.version(), wall,
                                message=f"CBC failed: {why}")
        result = m.group(1).strip()
        obj_m = _OBJ.search(out)
        has_sol = obj_m is not None and sol_path.exists()
        values = read_solution(sol_path, milp.num_cols) if has_sol else None
        obj = float(milp.c @ values + milp.offset) if has_sol else None
        nodes = int(_NODES.search(out).group(1)) if _NODES.search(out) else None
        bound_m = _BOUND.search(out)
        bound = float(bound_m.group(1)) + milp.offset if bound_m else None
        if bound is None and (bests := _BEST_POSSIBLE.findall(out)):
            bound = float(bests[-1]) + milp.offset
        if result.startswith("Optimal solution found"):
            status = Status.OPTIMAL
            # CBC prints no final bound for optimal runs; a stopping gap is reported
            # as an absolute difference, otherwise the search closed the gap.
            stop = _GAP_STOP.search(out)
            bound = obj - float(stop.group(1)) if stop and has_sol else obj
        elif "infeasible" in result.lower():
            status = Status.INFEASIBLE
        elif result.startswith("Stopped on") or "ctrl-c" in result.lower():
            # "User ctrl-c": interrupted by _run past its time limit; the incumbent stands
            status = Status.FEASIBLE if has_sol else Status.NO_SOLUTION
        else:
            return SolverResult(Status.ERROR, self.name, self.version(), wall,
                                message=f"CBC: {result}")
        if status is Status.OPTIMAL and not has_sol:
            return SolverResult(Status.ERROR, self.name, self.version(), wall,
                                message="CBC reported optimal without a solution file")
        if not status.has_solution:
            values = obj = None
        return SolverResult(status, self.name, self.version(), wall, obj, bound, nodes, values,
                            message=result)
