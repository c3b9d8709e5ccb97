"""Fault injection: real solves in a subprocess, stopped by SIGINT, SIGTERM and SIGKILL.

For every signal on HiGHS and CBC (a child process), and SIGINT on CP-SAT and
SCIP, a solve of
a seeded random planar instance (300 municipalities, 42 areas: minutes of
work for any solver, so it is still running when the signal comes) is
started and signalled at a seeded random moment: while the program starts or
reads its files, or while the solver runs. Afterwards no child process may
survive, no temporary folder may remain (after the next run, for SIGKILL), the
output folder holds a complete set of files or none, and the exit code is the
documented one (130 SIGINT, 143 SIGTERM). Bounded: 8 runs of a few seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import BACKENDS, ROOT

from optimizer.output.write import OUTPUT_FILES
from optimizer.staging import MANIFEST, STAGE_PREFIX

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and prctl")

SEED = 2025
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
CASES = [(b, s) for b in ("highs", "cbc") if b in BACKENDS for s in SIGNALS]
CASES += [(b, signal.SIGINT) for b in ("cpsat", "scip") if b in BACKENDS]
SOLVING = {"cpsat": "Starting presolve", "scip": "presolving:"}
"""A line of the solver's own log (--log, on stderr) that shows it has the model. Ctrl-C is
sent to CP-SAT and SCIP too: they would catch it themselves if left to, and the run would
go on as if nothing had happened."""
WAIT = 120.0
"""Seconds any step may take before the test gives up (a hang, not a timing check)."""
LIMIT = 300
"""The solves' time limit: far beyond every wait here, so nothing ends by its limit."""
CHILD_WAIT = 30.0
"""Seconds a CBC left behind may take to disappear: an orphan would run on for minutes."""


@pytest.fixture(scope="module")
def big_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("random")
    r = run_cli(["instances", "random", "--n", "300", "--seed", "9", "--out",
                 folder / "r300.json", "--model", folder / "r300.toml"], folder)
    assert r.returncode == 0, r.stderr
    return folder / "r300.toml"


def run_cli(args, tmpdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optimizer", *map(str, args)],
                          capture_output=True, text=True, timeout=WAIT,
                          env={**os.environ, "TMPDIR": str(tmpdir)}, cwd=ROOT)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text` (CBC's is its MPS path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if text in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


def wait_until(condition, what: str, seconds: float = WAIT) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(("backend", "signum"), CASES,
                         ids=[f"{b}-{signal.Signals(s).name}" for b, s in CASES])
def test_a_signalled_solve_leaves_nothing_behind(big_model, tmp_path, backend, signum):
    rng = random.Random(f"{SEED}-{backend}-{signum}")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out"
    log = ["--log"] if backend in SOLVING else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimizer", "solve", str(big_model), "-b", backend,
         "--time-limit", str(LIMIT), "--out", str(out), *log],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmpdir)})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    early = signum == signal.SIGTERM  # SIGTERM comes at any moment from the start
    if early:
        time.sleep(rng.uniform(0.0, 3.0))
    else:  # the others while the solver runs (CBC: once its process exists)
        wait_until(lambda: any(ln.startswith("round 1") for ln in lines)
                   or proc.poll() is not None, "the solve to start")
        if backend == "cbc":
            wait_until(lambda: processes_mentioning(str(tmpdir)) or proc.poll() is not None,
                       "CBC to start")
        if backend in SOLVING:
            wait_until(lambda: any(ln.startswith(SOLVING[backend]) for ln in lines)
                       or proc.poll() is not None, f"{backend} to start")
        time.sleep(rng.uniform(0.0, 1.5))
    finished_first = proc.poll() is not None
    if not finished_first:
        proc.send_signal(signum)
    stdout = proc.stdout.read()
    code = proc.wait(timeout=WAIT)
    reader.join(timeout=WAIT)
    where = f"{backend}, {signal.Signals(signum).name}: exit {code}, stderr {lines[-3:]}"

    # documented exit codes (or the run had ended by itself, which is no fault); a
    # SIGTERM while Python still loads the program ends it the default way (-15, which a
    # shell also reports as 143), before anything is written
    expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[signum]
    loading = signum == signal.SIGTERM and code == -signal.SIGTERM and not lines
    assert code == expected or loading or (finished_first and code in (0, 1)), where
    assert not any("Traceback" in ln for ln in lines), where
    if signum != signal.SIGKILL and not finished_first and not loading:
        assert lines and "interrupted by" in lines[-1], where  # how far it got, one line

    # no child survives its parent (CBC dies with it, even on SIGKILL)
    wait_until(lambda: not processes_mentioning(str(tmpdir)), "CBC to end", CHILD_WAIT)

    # outputs: a complete set or nothing, never a staging folder after SIGINT/SIGTERM
    names = set(leftovers(out))
    staged = {n for n in names if n.startswith(STAGE_PREFIX)}
    files = names - staged - {MANIFEST}
    assert files <= set(OUTPUT_FILES), where
    if signum != signal.SIGKILL:
        assert not staged, where
        assert not leftovers(tmpdir), where
    if files:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert ("assignment.csv" in files) == (summary["status"] in ("optimal",
                                                                     "feasible-at-limit"))
        if code == expected and signum != signal.SIGKILL:
            assert summary["interrupted"] == signal.Signals(signum).name, where
            assert "assignment.csv" in files and summary["verification"]["ok"], where
            assert stdout.strip(), where

    if signum == signal.SIGKILL:  # the next run cleans what the killed one left
        assert staged, where  # killed while solving: its staging folder is still there
        if backend == "cbc":
            assert leftovers(tmpdir), where  # and CBC's temporary folder
        small = ROOT / "benchmarks" / "models" / "smoke" / "path5-floor.toml"
        r = run_cli(["solve", small, "-b", backend, "--out", out, "--quiet"], tmpdir)
        assert r.returncode == 0, r.stderr
        assert not leftovers(tmpdir), where
        assert set(leftovers(out)) == {"assignment.csv", "plan.csv", "summary.json",
                                       MANIFEST}, where
