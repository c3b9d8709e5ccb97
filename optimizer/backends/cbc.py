"""CBC, the COIN-OR solver, run as the binary that PuLP bundles.

The model goes to CBC as an MPS file (written by HiGHS's MPS writer); the
status, objective and bound are read from CBC's own result block, not from
PuLP's mapping, which has called time-limited runs "Optimal". The time limit
is wall-clock (`-timeMode elapsed`): CBC counts CPU time by default.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import BackendError
from ..milp import MILP
from .base import Backend, SolverResult, Status
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
INTERRUPT_AFTER = 2.0
"""Seconds past its limit before CBC is interrupted (it checks the clock only between nodes)."""
GRACE_SECONDS = 20.0
"""Seconds an interrupted CBC gets to write its incumbent before it is killed."""


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


def read_solution(path: Path, n: int) -> np.ndarray:
    x = np.zeros(n)
    for line in path.read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            x[int(parts[0])] = float(parts[2])
    return x


class CbcBackend(Backend):
    name = "cbc"
    capabilities = frozenset({"warm_start", "fractional_objective", "threads"})

    @classmethod
    def available(cls) -> bool:
        return cbc_path() is not None

    @classmethod
    @cache
    def version(cls) -> str:
        out = subprocess.run([str(cbc_path()), "-quit"], capture_output=True, text=True).stdout
        m = re.search(r"Version:\s*(\S+)", out)
        return f"CBC {m.group(1) if m else 'unknown'}"

    def solve(self, milp, *, time_limit=None, gap=0.0, warm_start=None, threads=None, log=False):
        exe = cbc_path()
        if exe is None:
            raise BackendError("CBC binary not found (it ships with the 'pulp' package)")
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="optimizer-cbc-") as tmp:
            tmp = Path(tmp)
            write_mps(milp, tmp / "model.mps")
            if warm_start is not None:
                write_start(warm_start, tmp / "start.sol")
            proc = self._run(exe, tmp, gap, threads, time_limit, warm_start is not None)
            if proc is not None and proc.returncode < 0 and warm_start is not None:
                # CBC 2.10.3 sometimes crashes reading a start under a short limit:
                # retry once without the start rather than fail the solve.
                left = None if time_limit is None else time_limit - (time.perf_counter() - start)
                if left is None or left > 0:
                    proc = self._run(exe, tmp, gap, threads, left, False)
            wall = time.perf_counter() - start
            if proc is None:
                # A time-limit stop whose incumbent died with the process, not a failure.
                res = SolverResult(Status.NO_SOLUTION, self.name, self.version(), wall,
                                   message="CBC did not stop at its time limit, even when "
                                           "interrupted, and was killed; its plan is lost")
            else:
                if log:
                    print(proc.stdout)
                limited = time_limit is not None and wall >= LIMIT_SHARE * time_limit
                res = self._parse(proc, tmp / "model.sol", milp, wall, limited)
        if res.status in (Status.ERROR, Status.NO_SOLUTION) and warm_start is not None \
                and milp.is_feasible(warm_start):
            # Never lose a valid start to a crash or an early stop.
            x = np.asarray(warm_start, dtype=float)
            return SolverResult(Status.FEASIBLE, self.name, self.version(), wall,
                                milp.objective(x), None, None, x,
                                message=f"{res.message}; the start is returned")
        return res

    @staticmethod
    def _run(exe, tmp: Path, gap: float, threads, time_limit, with_start: bool):
        cmd = [str(exe), str(tmp / "model.mps"), "-timeMode", "elapsed",
               "-ratioGap", f"{gap:.12g}", "-allowableGap", "1e-6",
               "-threads", str(threads or 1)]
        if time_limit is not None:
            cmd += ["-sec", f"{max(time_limit, 0.001):.3f}"]
        if with_start:
            cmd += ["-mips", str(tmp / "start.sol")]
        cmd += ["-solve", "-solution", str(tmp / "model.sol")]
        limit = None if time_limit is None else time_limit + INTERRUPT_AFTER
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) as proc:
            try:
                out, err = proc.communicate(timeout=limit)
            except subprocess.TimeoutExpired:
                # Past its limit CBC is deep in one node; Ctrl-C makes it stop the search
                # and still print its result and write the incumbent, like a time limit.
                proc.send_signal(signal.SIGINT)
                try:
                    out, err = proc.communicate(timeout=GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                    return None
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

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
