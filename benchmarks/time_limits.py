"""Measure how well `optimizer solve` keeps its time limit, and how fast Ctrl-C acts.

Every run is a real `optimizer solve` process, timed from its start to its
exit (start-up, reading, model building, heuristic, solver, verification and
writing the outputs all count). The overrun is that time minus the limit; the
README documents the margin these figures support. With --busy, two busy
loops load the cores for the whole measurement (a shared CI machine).

    python benchmarks/time_limits.py --busy --out benchmarks/results/time_limits.csv
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "north-ostrobothnia-5": (ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml",
                             ["--areas", "5"]),
    "mainland-45": (ROOT / "benchmarks" / "models" / "finland" / "mainland.toml", []),
    "random-800": (None, []),  # generated: `optimizer instances random --n 800 --seed 1`
}
FIELDS = ["case", "backend", "limit_s", "busy", "wall_s", "overrun_s", "interrupt_s",
          "exit_code", "status"]


def command(*args) -> list[str]:
    return [sys.executable, "-m", "optimizer", *map(str, args)]


@contextlib.contextmanager
def busy(workers: int):
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(workers)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def model_of(case: str, folder: Path) -> tuple[Path, list[str]]:
    model, extra = CASES[case]
    if model is None:
        model = folder / "random-800.toml"
        if not model.exists():
            subprocess.run(command("instances", "random", "--n", 800, "--seed", 1, "--out",
                                   folder / "random-800.json", "--model", model), check=True,
                           capture_output=True)
    return model, extra


def status_of(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("status "):
            return line.split()[1]
    return ""


def limited_run(model: Path, extra: list[str], backend: str, limit: float, out: Path) -> dict:
    start = time.perf_counter()
    r = subprocess.run(command("solve", model, *extra, "-b", backend, "-t", limit, "--out", out,
                               "--quiet"), capture_output=True, text=True)
    wall = time.perf_counter() - start
    return {"wall_s": round(wall, 2), "overrun_s": round(wall - limit, 2),
            "exit_code": r.returncode, "status": status_of(r.stdout)}


def interrupted_run(model: Path, extra: list[str], backend: str, after: float) -> dict:
    """Ctrl-C `after` seconds into the solver's first round: seconds from it to the exit
    (without --out: the solver's reaction, not the drawing of the map)."""
    proc = subprocess.Popen(command("solve", model, *extra, "-b", backend),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = threading.Event()

    def watch() -> None:
        for line in proc.stderr:
            if line.startswith("round 1"):
                started.set()

    threading.Thread(target=watch, daemon=True).start()
    started.wait(600)
    time.sleep(after)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    stdout = proc.stdout.read()
    code = proc.wait()
    return {"interrupt_s": round(time.perf_counter() - sent, 2), "exit_code": code,
            "status": status_of(stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="highs,cbc,cpsat,scip,scipopt")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--limits", default="10,30", help="comma-separated seconds")
    parser.add_argument("--interrupt-after", type=float, default=3.0,
                        help="seconds into the first round before Ctrl-C (0: skip)")
    parser.add_argument("--busy", action="store_true", help="load both cores while measuring")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # SIGTERM ends the run like Ctrl-C, so the busy loops are stopped (they were left
    # running when the script was killed)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            busy(args.workers) if args.busy else contextlib.nullcontext():
        folder = Path(tmp)
        for case in args.cases.split(","):
            model, extra = model_of(case, folder)
            for backend in args.backends.split(","):
                for limit in map(float, args.limits.split(",")):
                    row = {"case": case, "backend": backend, "limit_s": limit,
                           "busy": args.busy, "interrupt_s": ""}
                    row |= limited_run(model, extra, backend, limit, folder / "out")
                    rows.append(row)
                    print(row, flush=True)
                if args.interrupt_after > 0:
                    row = {"case": case, "backend": backend, "limit_s": "", "busy": args.busy,
                           "wall_s": "", "overrun_s": ""}
                    row |= interrupted_run(model, extra, backend, args.interrupt_after)
                    rows.append(row)
                    print(row, flush=True)
    worst: dict[str, float] = {}
    for row in rows:
        if row["overrun_s"] != "":
            worst[row["backend"]] = max(worst.get(row["backend"], -1e9), row["overrun_s"])
    print("worst overrun per back end:", worst)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        os.chmod(args.out, 0o644)


if __name__ == "__main__":
    main()
