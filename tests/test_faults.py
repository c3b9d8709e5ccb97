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

The commands of many solves (issue 18) are stopped the same way while they work:
`solve -b portfolio`, `sweep` (sequential and on a local cluster), `pareto`, a
`--max-moves` curve and `bench` (three of them in `make test`, all with both
signals in `make fuzz-long`); a `--scheduler` that is not a Dask scheduler is one
error line, and on a real `dask scheduler` and `dask worker` (`make fuzz-long`) a
stopped sweep frees its worker and a sweep that loses its only worker stops.
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
from click.testing import CliRunner
from conftest import BACKENDS, ROOT

from optimizer.cli import cli
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


# -- every long-running command, stopped by SIGINT and SIGTERM ------------------------

LONG = os.environ.get("FAULTS") == "long" or os.environ.get("FUZZ") == "long"
"""`make fuzz-long` signals every long-running command with both signals and runs the tests
on a real Dask cluster; `make test` signals the three whose defects were worst (a race that
ignored the signal, a cluster sweep that left its scratch files, a curve that took the
stopped point for the optimum), each with one signal."""
COMMANDS = ("portfolio", "sweep-sequential", "sweep-cluster", "pareto", "moves-curve",
            "bench")
DEFAULT_CASES = (("portfolio", signal.SIGTERM), ("sweep-cluster", signal.SIGINT),
                 ("moves-curve", signal.SIGTERM))
SIGNAL_CASES = [(c, s) for c in COMMANDS for s in (signal.SIGINT, signal.SIGTERM)
                if LONG or (c, s) in DEFAULT_CASES]
long_only = pytest.mark.skipif(not LONG, reason="make fuzz-long (FAULTS=long) runs it")
STARTED = {"portfolio": "racing", "sweep-sequential": "· 1 running",
           "sweep-cluster": "· 2 running",
           "pareto": "front of", "moves-curve": "at most 0 moves", "bench": "r300 ·"}
"""A line on stderr that shows the command's work has begun (the signal comes after it)."""
STOP_TIMES: dict[str, float] = {}


def _command(name: str, model: Path, tmp: Path) -> list[str]:
    out = tmp / "out"
    if name == "portfolio":
        return ["solve", model, "-b", "portfolio", "-t", LIMIT, "--out", out]
    if name == "sweep-sequential":
        return ["sweep", model, "--set", "areas.count=40,42", "--sequential", "-t", LIMIT,
                "--out", out]
    if name == "sweep-cluster":
        return ["sweep", model, "--set", "areas.count=40,42", "-w", "2", "-t", LIMIT,
                "--out", out]
    if name == "pareto":
        return ["pareto", model, "--x", "fixed", "--y", "travel", "-t", LIMIT, "--out", out]
    if name == "moves-curve":
        reference = tmp / "reference.csv"  # every municipality in one area: a plan to move from
        codes = [n["id"] for n in json.loads(model.with_suffix(".json").read_text())["nodes"]]
        reference.write_text("code,area\n" + "".join(f"{c},{codes[0]}\n" for c in codes))
        return ["solve", model, "--reference", reference, "--max-moves", "0,10", "-t", LIMIT,
                "--out", out]
    suite = tmp / "suite.toml"
    suite.write_text(f'name = "faults"\nbackends = ["highs"]\ncontiguity = ["cuts"]\n'
                     f"time_limit = {LIMIT}\nrepeat = 1\n[[instances]]\nid = \"r300\"\n"
                     f'model = "{model}"\n[[instances]]\nid = "again"\nmodel = "{model}"\n')
    return ["bench", suite, "--out", out / "results.csv", "--best-known", tmp / "none.csv"]


def processes_with(tmpdir: Path) -> list[int]:
    """Live processes (other than zombies) whose environment holds this TMPDIR: every child,
    grandchild and Dask worker of the command under test."""
    needle = f"TMPDIR={tmpdir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                env = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if needle in env.split(b"\0") and state != "Z":
                found.append(int(entry.name))
    return found


def _complete_set(name: str, out: Path, signame: str, stdout: str) -> None:
    """What a stopped command left in OUT: nothing staged, whole sets, no false claim."""
    names = set(leftovers(out))
    assert not {n for n in names if n.startswith(STAGE_PREFIX)}, names
    files = names - {MANIFEST}
    if name == "portfolio":
        assert files <= set(OUTPUT_FILES), files
        if files:
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            assert summary["interrupted"] == signame
            assert summary["verification"]["ok"] and "assignment.csv" in files
            assert summary["status"] == "optimal" or "interrupted by" in summary["message"]
    elif name.startswith("sweep"):
        assert {"summary.csv", "summary.png"} <= files, files
        rows = (out / "summary.csv").read_text(encoding="utf-8").splitlines()[1:]
        for folder in files - {"summary.csv", "summary.png"}:
            assert (out / folder / "scenario.json").exists(), folder  # only finished ones
        assert all(",not-run," in r or ",optimal," in r or ",infeasible," in r
                   or ",feasible-at-limit," in r for r in rows), rows
        assert not any(",error," in r for r in rows), rows  # the stop is not a failure
    elif name == "pareto":
        assert files in (set(), {"pareto.csv", "pareto.png", "plans"}), files
    elif name == "moves-curve":
        assert files in (set(), {"moves.csv", "moves.png"}), files
        if files:  # the optimum without a limit is never taken from a stopped solve
            assert "\nnone," not in (out / "moves.csv").read_text(encoding="utf-8")
            assert "100.0%" not in stdout
    else:
        assert files <= {"results.csv"}, files


@pytest.mark.parametrize(("command", "signum"), SIGNAL_CASES,
                         ids=[f"{c}-{signal.Signals(s).name}" for c, s in SIGNAL_CASES])
def test_a_signalled_long_command_stops_and_tells_the_truth(big_model, tmp_path, command,
                                                             signum):
    """portfolio ignored SIGTERM (its racing processes never heard of it) and called its
    plan optimal; sweep --sequential recorded the running scenario as an error and exited
    1; a local-cluster sweep left dask-scratch-space in TMPDIR and said no partial file
    was kept; a --max-moves curve took the stopped point for the optimum and exited 0.
    Each command is stopped while it works: exit 130 or 143 and the line that says how
    far it got, no process left, no temporary file, only whole sets of results."""
    rng = random.Random(f"{SEED}-{command}-{signum}")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    args = [str(a) for a in _command(command, big_model, tmp_path)]
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmpdir)})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    wait_until(lambda: any(STARTED[command] in ln for ln in lines) or proc.poll() is not None,
               f"{command} to start")
    time.sleep(rng.uniform(0.0, 1.5))
    assert proc.poll() is None, lines  # minutes of work: still running
    proc.send_signal(signum)
    sent = time.monotonic()
    stdout = proc.stdout.read()
    code = proc.wait(timeout=WAIT)
    STOP_TIMES[f"{command}-{signal.Signals(signum).name}"] = time.monotonic() - sent
    reader.join(timeout=WAIT)
    name = signal.Signals(signum).name
    where = f"{command}, {name}: exit {code}, stderr {lines[-3:]}"
    print(f"{command} {name}: exit {code} {time.monotonic() - sent:.2f} s after the signal")
    assert code == 128 + signum, where
    assert not any("Traceback" in ln for ln in lines), where
    assert f"interrupted by {name}" in lines[-1], where  # how far it got, truthfully
    assert "no partial file was kept" not in lines[-1] or not leftovers(tmp_path / "out")
    wait_until(lambda: not processes_with(tmpdir), "the command's processes to end",
               CHILD_WAIT)
    assert leftovers(tmpdir) == [], where  # no scratch space, lock or temporary file
    _complete_set(command, tmp_path / "out", name, stdout)


# -- Dask clusters that are not what they should be --------------------------------------


@pytest.fixture
def fake_servers():
    """An HTTP server (says nothing until asked) and a server that answers garbage."""
    import http.server
    import socket
    import socketserver

    http_srv = socketserver.TCPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    garbage = socket.create_server(("127.0.0.1", 0))

    def answer():
        while True:
            try:
                conn, _ = garbage.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ngarbage!!" * 10)

    threads = [threading.Thread(target=http_srv.serve_forever, daemon=True),
               threading.Thread(target=answer, daemon=True)]
    for t in threads:
        t.start()
    try:
        yield (f"tcp://127.0.0.1:{http_srv.server_address[1]}",
               f"tcp://127.0.0.1:{garbage.getsockname()[1]}")
    finally:
        http_srv.shutdown()
        http_srv.server_close()
        garbage.close()


@pytest.mark.parametrize("command", ["sweep", "bench"])
def test_a_scheduler_that_is_not_dask_is_one_error_line(fake_servers, tmp_path, command):
    """--scheduler pointed at an HTTP server hung for over 120 s (bench too); an address
    that answers garbage crashed allocating 3.07 EiB; an unreachable one took 30 s."""
    silent, garbage = fake_servers
    for address, words in ((silent, "sent no Dask handshake"),
                           (garbage, "not a Dask scheduler"),
                           ("http://127.0.0.1:1", "http address"),
                           ("tcp://127.0.0.1:1", "cannot connect")):
        if command == "sweep":
            args = ["sweep", ROOT / "benchmarks/models/smoke/path5-floor.toml", "--set",
                    "areas.count=2", "--out", tmp_path / "s"]
        else:
            args = ["bench", "smoke", "--only", "path5-floor", "--backends", "highs"]
        r = CliRunner().invoke(cli, [str(a) for a in (*args, "--scheduler", address,
                                                      "--connect-timeout", "1")])
        lines = r.stderr.strip().splitlines()
        assert r.exit_code == 2 and len(lines) == 1, (address, r.output[-800:])
        assert lines[0].startswith("error: --scheduler") and words in lines[0], lines
        assert not (tmp_path / "s").exists()


@pytest.fixture
def dask_cluster(tmp_path):
    """A real `dask scheduler` and one `dask worker` (no nanny: killing it ends it)."""
    import socket

    dask = Path(sys.executable).with_name("dask")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    scheduler = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port",
                                  str(port), "--no-dashboard"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(scheduler.stderr), daemon=True).start()
    wait_until(lambda: any("Scheduler at" in ln for ln in lines), "the scheduler")
    worker = subprocess.Popen([str(dask), "worker", address, "--nthreads", "1", "--no-nanny",
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    wait_until(lambda: any("Register worker" in ln for ln in lines), "the worker")
    try:
        yield address, worker
    finally:
        for p in (worker, scheduler):
            p.kill()
            p.wait()


@long_only
def test_a_sweep_on_a_real_cluster_stops_its_worker_and_outlives_losing_it(
        big_model, dask_cluster, tmp_path):
    """A real `dask scheduler` and `dask worker`: a sweep stopped by SIGTERM leaves the worker
    free at once (its solve is told to stop), a small sweep then finishes on it, and when
    the only worker is killed mid-sweep the sweep stops with what finished kept and how to
    resume (it waited for ever showing '1 running')."""
    address, worker = dask_cluster
    args = [sys.executable, "-m", "optimizer", "sweep", str(big_model), "--set",
            "areas.count=40,42", "--scheduler", address, "--worker-wait", "2", "-t",
            str(LIMIT)]
    for signum in (signal.SIGTERM, None):
        out = tmp_path / f"out-{signum}"
        proc = subprocess.Popen([*args, "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        threading.Thread(target=lambda p=proc, ls=lines: ls.extend(p.stderr),
                         daemon=True).start()
        wait_until(lambda p=proc, ls=lines: any("1 running" in ln for ln in ls)
                   or p.poll() is not None, "the scenario to run")
        if signum is not None:
            proc.send_signal(signum)
            assert proc.wait(timeout=WAIT) == 128 + signum, lines
            assert "interrupted by SIGTERM" in lines[-1] and "0 of 2" in lines[-1], lines
            # the worker is free again: a small sweep finishes on it (it would wait for the
            # stopped solve's 300 s otherwise)
            r = run_cli(["sweep", ROOT / "benchmarks/models/smoke/grid3x3-floor.toml",
                         "--set", "areas.count=2,3", "--scheduler", address, "--out",
                         tmp_path / "small", "-q"], tmp_path)
            assert r.returncode == 0 and r.stdout.count("optimal") == 2, r.stderr
            continue
        worker.kill()
        assert proc.wait(timeout=WAIT) == 1, lines
        assert lines[-1].startswith("error: Dask at") and "no worker for 2 s" in lines[-1]
        assert "0 of 2 scenarios finished" in lines[-1] and "run the same command" in lines[-1]
        assert (out / "summary.csv").read_text(encoding="utf-8").count(",not-run,") == 2


def test_stop_times_so_far():
    """Prints the seconds from signal to exit per command (for the closing note)."""
    for case, seconds in sorted(STOP_TIMES.items()):
        print(f"stop time {case}: {seconds:.2f} s")
