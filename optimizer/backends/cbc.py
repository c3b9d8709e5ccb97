"""CBC, the COIN-OR solver, run as the binary that PuLP bundles.

The model goes to CBC as an MPS file (written here, in chunks that watch the deadline); the
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

import itertools
import math
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
from ..imports import finish as finish_imports
from ..mip.milp import MILP
from ..staging import remove_stale
from ..stopping import Deadline, _prctl, die_with_parent
from .base import (
    POLL_SECONDS,
    Backend,
    SolverResult,
    Status,
    StoppedEarly,
    check_deadline,
    keep_start,
)

_RESULT = re.compile(r"^Result - (.+)$", re.M)
_OBJ = re.compile(r"^Objective value:\s+(\S+)", re.M)
_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.M)
_NODES = re.compile(r"^Enumerated nodes:\s+(\d+)", re.M)
_GAP_STOP = re.compile(r"Exiting as integer gap of (\S+) less than")
_LP_INFEASIBLE = re.compile(r"^(Problem is infeasible|Pre-processing says infeasible)", re.M)
_BEST_POSSIBLE = re.compile(r"best possible (\S+)")
LIMIT_SHARE = 0.9
"""A run that used this share of its time limit may have been stopped by it."""
GRACE_SECONDS = 1.0
"""Seconds CBC gets after Ctrl-C to print its result and write its incumbent before it
is killed (it stops at its next node; writing a large solution takes a moment)."""
TEMP_PREFIX = "optimizer-cbc-"
"""CBC's temporary folders are `<tmp>/optimizer-cbc-<pid>-<random>`."""


def _child_setup(parent: int):
    """A `preexec_fn` that makes the child die with its parent (see `die_with_parent`)."""
    _prctl()  # resolved before the fork
    return lambda: die_with_parent(parent)


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


MPS_CHUNK = 20_000
"""Columns written between two looks at the deadline."""


def write_mps(milp: MILP, path: Path, deadline: Deadline | None = None) -> None:
    """The MILP as an MPS file for CBC (rows `r<i>`, columns `c<j>`, no objective offset).

    Written here in chunks rather than by a library writer, so that a large model (the
    random 800-municipality one makes 250 MB) can be abandoned when the deadline passes
    (StoppedEarly) and signals are handled while it is written.
    """
    deadline = deadline or Deadline()
    lo, hi = milp.row_lo, milp.row_hi
    has_lo, has_hi = np.isfinite(lo), np.isfinite(hi)
    kind = np.where(has_lo & has_hi & (lo == hi), "E",
                    np.where(has_hi, "L", np.where(has_lo, "G", "N")))
    used = kind != "N"  # a row bounded on neither side constrains nothing: left out
    rhs = np.where(has_hi, hi, np.where(has_lo, lo, 0.0))
    ranged = np.flatnonzero(has_lo & has_hi & (lo != hi))
    A = milp.A.tocsc()
    A.sum_duplicates()
    with path.open("w", encoding="ascii") as f:
        f.write("NAME model FREE\nROWS\n N obj\n")  # FREE: fields by order
        f.write("".join(f" {kind[i]} r{i}\n" for i in np.flatnonzero(used).tolist()))
        f.write("COLUMNS\n")
        integer = np.asarray(milp.integer, dtype=bool)
        cost = np.asarray(milp.c, dtype=float)
        # Blocks of columns of one kind (integer or not), each at most MPS_CHUNK long.
        cuts = np.flatnonzero(np.diff(integer.astype(np.int8))) + 1
        edges = sorted({0, milp.num_cols, *cuts.tolist(),
                        *range(0, milp.num_cols, MPS_CHUNK)})
        for marker, (first, last) in enumerate(itertools.pairwise(edges)):
            check_deadline(deadline)
            s0, s1 = A.indptr[first], A.indptr[last]
            rows, vals = A.indices[s0:s1], A.data[s0:s1]
            cols = np.repeat(np.arange(first, last), np.diff(A.indptr[first:last + 1]))
            keep = used[rows] & (vals != 0)
            block = np.arange(first, last)
            priced = block[(cost[block] != 0) | (np.diff(A.indptr[first:last + 1]) == 0)]
            # the objective entry (row -1) first, then the column's matrix entries
            j = np.concatenate([priced, cols[keep]])
            i = np.concatenate([np.full(len(priced), -1), rows[keep]])
            v = np.concatenate([cost[priced], vals[keep]])
            order = np.lexsort((i, j))
            lines = [f" c{c} r{r} {x!r}" if r >= 0 else f" c{c} obj {x!r}"
                     for c, r, x in zip(j[order].tolist(), i[order].tolist(),
                                        v[order].tolist(), strict=True)]
            if integer[first]:
                lines = [f" M{marker}a 'MARKER' 'INTORG'", *lines,
                         f" M{marker}b 'MARKER' 'INTEND'"]
            f.write("\n".join(lines) + "\n")
        f.write("RHS\n")
        nz = np.flatnonzero(used & (rhs != 0))
        f.write("".join(f" rhs r{i} {v!r}\n"
                        for i, v in zip(nz.tolist(), rhs[nz].tolist(), strict=True)))
        if len(ranged):
            f.write("RANGES\n")
            f.write("".join(f" rng r{i} {v!r}\n" for i, v in
                            zip(ranged.tolist(), (hi - lo)[ranged].tolist(), strict=True)))
        f.write("BOUNDS\n")
        f.write("".join(_bounds(j, a, b, z) for j, (a, b, z) in enumerate(
            zip(milp.col_lo.tolist(), milp.col_hi.tolist(), integer.tolist(), strict=True))))
        f.write("ENDATA\n")


def _bounds(j: int, lo: float, hi: float, integer: bool) -> str:
    """BOUNDS lines of column j (the MPS default is [0, +inf), except that some readers
    give integer columns an upper bound of 1: it is always written for them)."""
    if integer and lo == 0 and hi == 1:
        return f" BV bnd c{j}\n"
    if lo == hi:
        return f" FX bnd c{j} {lo!r}\n"
    out = []
    if lo == -math.inf:
        out.append(f" MI bnd c{j}")
    elif lo != 0:
        out.append(f" LO bnd c{j} {lo!r}")
    if hi != math.inf:
        out.append(f" UP bnd c{j} {hi!r}")
    elif integer:
        out.append(f" PL bnd c{j}")
    return "".join(line + "\n" for line in out)


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
    deterministic: bool = False


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

    def solve(self, milp, *, deadline=None, gap=0.0, warm_start=None, threads=None, log=False,
              node_limit=None, deterministic=False, cutoff=None):
        exe = cbc_path()
        if exe is None:
            raise BackendError("CBC binary not found (it ships with the 'pulp' package)")
        start = time.perf_counter()
        deadline = deadline or Deadline()
        time_limit = deadline.remaining()
        remove_stale_folders()
        with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as tmp:
            tmp = Path(tmp)
            try:
                write_mps(milp, tmp / "model.mps", deadline)
                written = True
            except StoppedEarly:
                written = False
            if warm_start is not None:
                write_start(warm_start, tmp / "start.sol")
            proc = None
            if written and not deadline.expired():
                options = _Options(gap, threads, node_limit, warm_start is not None, deterministic)
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
        if left is not None and not options.deterministic:  # else Ctrl-C keeps it
            cmd += ["-sec", f"{max(left, 0.001):.3f}"]
        if options.node_limit is not None:
            cmd += ["-maxNodes", str(int(options.node_limit))]
        if options.with_start:
            cmd += ["-mips", str(tmp / "start.sol")]
        cmd += ["-solve", "-solution", str(tmp / "model.sol")]
        log = tmp / "cbc.log"
        with log.open("w") as sink:
            finish_imports()  # a preexec_fn forks with Python's fork handlers
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
