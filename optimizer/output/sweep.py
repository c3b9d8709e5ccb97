"""A sweep's folder: the scenarios solved on Dask, each kept in its own folder.

Here each plan is verified again and written to the scenario's own folder with a
`scenario.json`, as one set; a scenario that fails or is infeasible is recorded and
never stops the others. A rerun keeps a scenario whose `scenario.json` holds a result
produced by the same inputs (`decisions.sweep.input_key`: model, instance, options,
back end); a changed input solves it again. `summary.csv` and `summary.png` gather
them. A signal, or a cluster left without workers, stops the sweep with the finished
scenarios kept: the rest are `not-run`, and the same command finishes them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from ..cluster import CONNECT_SECONDS, LOST_SECONDS, completed, dask_client, probe
from ..decisions.exemptions import exempted_areas
from ..decisions.sweep import (
    NOT_RUN,
    Scenario,
    ScenarioResult,
    Sweep,
    SweepOptions,
    SweepProgress,
    bind_scenarios,
    input_key,
    solve_scenario,
    value_text,
)
from ..errors import ClusterError, InputError
from ..model.problem import Problem
from ..model.verify import verify
from ..reading import read_json
from ..staging import OutputDir, staged_directory
from ..stopping import StopRequest
from .escape import plain_text
from .summary import run_summary
from .text import plan_title, status_words
from .write import prepare_outputs, write_outputs

RESULT_FILE = "scenario.json"


FINISHED = ("optimal", "feasible-at-limit", "infeasible", "no-solution-at-limit")
"""Statuses a rerun keeps (with the same inputs); an `error` is tried again."""


def record(scenario: Scenario, problem: Problem, outcome, out: Path,
           key: str = "") -> ScenarioResult:
    """Verify the returned plan and write the scenario's folder with its scenario.json, as
    one set (`key`: the input key the result belongs to)."""
    folder = out / scenario.id
    if isinstance(outcome, BaseException):
        outcome = ("error", f"{type(outcome).__name__}: {outcome}", 0.0)
    if isinstance(outcome, tuple):
        status, message, wall = outcome
        result = ScenarioResult(scenario, status, wall_time=wall, message=message)
        with staged_directory(folder) as stage:
            (stage / RESULT_FILE).write_text(_result_json(scenario, result, key),
                                             encoding="utf-8")
        return result
    decision = outcome
    sol = decision.solution
    v = verify(sol.problem, sol.plan) if sol.plan is not None else None
    verified = None if v is None else v.ok
    result = ScenarioResult(
        scenario, str(sol.status), sol.objective, sol.bound, sol.gap,
        len(sol.plan.areas()) if sol.plan is not None else None,
        len(sol.plan.exempt) if sol.plan is not None else None, decision.answer, verified,
        decision.wall_time, sol.message if sol.plan is None else
        ("" if verified else "the plan failed verification"))
    if verified is False:
        result = ScenarioResult(**{**result.__dict__, "status": "error"})
    summary = run_summary(
        "scenario", problem, problem.model.source, decision=decision,
        figures=sol.figures if sol.plan is not None else None, verification=v,
        exempted=exempted_areas(sol.problem, sol.plan) if sol.plan is not None else None,
        extra={"settings": dict(scenario.settings), "scenario": result.as_dict(),
               "input_key": key})
    title = plan_title(problem.instance, result.areas or 0,
                       status_words(str(sol.status), sol.gap, sol.backend),
                       f"scenario {scenario.id}")
    write_outputs(folder, sol.plan if verified else None, sol.figures if verified else None,
                  summary, title, {RESULT_FILE: _result_json(scenario, result, key)})
    return result


def _result_json(scenario: Scenario, result: ScenarioResult, key: str) -> str:
    data = {"settings": dict(scenario.settings), **result.as_dict(), "input_key": key}
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def finished(scenario: Scenario, out: Path, key: str | None = None) -> ScenarioResult | None:
    """The stored result of a scenario a previous run finished (not an error) from the same
    inputs (`key`; None: any), else None."""
    path = out / scenario.id / RESULT_FILE
    try:
        if not path.is_file():
            return None
        data = read_json(path, "scenario result", InputError)
    except (InputError, OSError):
        return None
    if not isinstance(data, dict) or data.get("status") not in FINISHED:
        return None
    if key is not None and data.get("input_key") != key:
        return None
    keep = {k: data.get(k) for k in ("status", "objective", "bound", "gap", "areas",
                                      "exemptions", "answer", "verified", "message")}
    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
               for k, v in keep.items() if k in ("objective", "bound", "gap", "answer")):
        return None
    wall = data.get("wall_time_s")
    return ScenarioResult(scenario, wall_time=float(wall) if isinstance(wall, int | float)
                          else 0.0, skipped=True, **keep)


def run_sweep(model: Path, scenarios: Sequence[Scenario], out: Path, *,
              options: SweepOptions | None = None, scheduler: str | None = None,
              workers: int | None = None, processes: bool = True, sequential: bool = False,
              progress: SweepProgress | None = None, stop: StopRequest | None = None,
              connect_timeout: float = CONNECT_SECONDS,
              lost_after: float = LOST_SECONDS) -> Sweep:
    """Solve every scenario not finished before (from the same inputs), on Dask (or one
    after another with `sequential`), and write each folder, `summary.csv` and
    `summary.png` in `out`. `stop` (a signal) ends the sweep early, the finished
    scenarios kept; a cluster without workers for `lost_after` seconds raises
    ClusterError after the same."""
    options = options or SweepOptions()
    out = Path(out)
    if scheduler is not None and not sequential:
        probe(scheduler, connect_timeout)  # a scheduler that is not one: before any work
    OutputDir.open(out).discard()  # writable? before any work
    problems = bind_scenarios(model, scenarios)
    keys = [input_key(p, options) for p in problems]
    started = time.perf_counter()
    progress = progress or SweepProgress(len(scenarios))
    stop = stop or StopRequest()
    results: dict[int, ScenarioResult] = {}
    todo = []
    for k, sc in enumerate(scenarios):
        old = finished(sc, out, keys[k])
        if old is not None:
            results[k] = old
            progress.done += 1
            progress.skipped += 1
        else:
            todo.append(k)
    progress.update()
    prepare_outputs()  # the plotting libraries load while the scenarios are solved

    def keep(k: int, outcome) -> None:
        r = record(scenarios[k], problems[k], outcome, out, keys[k])
        results[k] = r
        progress.done += 1
        progress.failed += r.status in ("error",)
        progress.update(f"{scenarios[k].id}: {r.status}")

    where = "sequential" if todo else "nothing left to run"
    lost: ClusterError | None = None
    with stop.cooperating():
        if sequential or not todo:
            _sequential(todo, scenarios, problems, options, stop, progress, keep)
        else:
            try:
                where = _on_dask(todo, scenarios, problems, options, stop, progress, keep,
                                 scheduler=scheduler, workers=workers, processes=processes,
                                 scratch=out, timeout=connect_timeout, lost_after=lost_after)
            except ClusterError as exc:
                lost = exc
    ordered = tuple(results.get(k) or ScenarioResult(sc, NOT_RUN)
                    for k, sc in enumerate(scenarios))
    write_summary(ordered, out)
    sweep = Sweep(ordered, time.perf_counter() - started, where,
                  stop.reason.removeprefix("interrupted by ") if stop.signum else None)
    if lost is not None:
        raise ClusterError(f"{lost}; {resume_words(sweep, out)}")
    return sweep


def resume_words(sweep: Sweep, out: Path) -> str:
    """What a stopped sweep kept and how to finish it."""
    left = len(sweep.results) - sweep.finished
    return (f"{sweep.finished} of {len(sweep.results)} scenarios finished and kept in {out}/ "
            f"({left} not run); run the same command again to solve the rest (finished "
            "scenarios are kept)")


def _sequential(todo, scenarios, problems, options, stop, progress, keep) -> None:
    for k in todo:
        if stop.is_set():
            return
        progress.running = 1
        progress.update(f"{scenarios[k].id}: running")
        outcome = solve_scenario(problems[k], options, stop)
        progress.running = 0
        if stop.is_set() and _cut_short(outcome):
            return  # the stopped scenario is not a result: a rerun solves it
        keep(k, outcome)


def _cut_short(outcome) -> bool:
    """Whether a scenario's outcome was cut short by the stop (not an answer to keep)."""
    if isinstance(outcome, tuple):
        return outcome[0] == "error"
    return outcome.solution.interrupted is not None


def _on_dask(todo, scenarios, problems, options, stop, progress, keep, *, scheduler, workers,
             processes, scratch, timeout, lost_after) -> str:
    """The scenarios as tasks on a Dask cluster; returns where they ran. On a stop the
    tasks left are cancelled and the workers told to stop (a Dask event)."""
    from distributed import Event

    with dask_client(scheduler, workers, processes=processes, timeout=timeout,
                     scratch=scratch) as client:
        n = len(client.scheduler_info().get("workers", {}))
        where = scheduler or f"local cluster, {n} workers"
        event = f"optimizer-stop-{uuid.uuid4().hex}"
        futures = {client.submit(solve_scenario, problems[k], options, None, event, pure=False,
                                 key=f"scenario-{k}-{uuid.uuid4().hex[:8]}"): k for k in todo}
        progress.running = min(len(futures), max(n, 1))
        progress.update()
        try:
            for fut in completed(client, list(futures), stop=stop, lost_after=lost_after,
                                 where=f"Dask at {where}"):
                k = futures.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # a worker died or the task failed: keep going
                    outcome = exc
                progress.running = min(len(futures), max(n, 1))
                keep(k, outcome)
        finally:
            if futures and client.status == "running":  # stopped or lost: the rest are
                with contextlib.suppress(Exception):  # dropped, running solves told to end
                    Event(event, client=client).set()
                with contextlib.suppress(Exception):
                    client.cancel(list(futures), force=True)
    return where


def summary_csv(results: Sequence[ScenarioResult]) -> str:
    rows = [r.as_dict() for r in results]
    fields = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else value_text(v) if isinstance(v, list) else v)
                    for k, v in r.items()})
    return buf.getvalue()


def write_summary(results: Sequence[ScenarioResult], out: Path) -> None:
    """summary.csv and summary.png in `out` (atomically), added to the folder's set."""

    with staged_directory(Path(out), "add") as stage:
        (stage / "summary.csv").write_text(summary_csv(results), encoding="utf-8")
        _plot(results, stage / "summary.png")


@plain_text
def _plot(results: Sequence[ScenarioResult], path: Path) -> None:
    """Objective against the first key, one line per value of the other keys; hollow
    markers for plans not proven optimal, crosses on the axis for scenarios without one."""
    import matplotlib
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=130)
    if results:
        keys = [k for k, _ in results[0].scenario.settings]
        first = keys[0] if keys else None
        xs = sorted({value_text(dict(r.scenario.settings).get(first)) for r in results},
                    key=_sort_key)
        pos = {x: k for k, x in enumerate(xs)}
        lines: dict[str, list[ScenarioResult]] = {}
        for r in results:
            rest = ", ".join(f"{k.rsplit('.', 1)[-1]}={value_text(v)}"
                             for k, v in r.scenario.settings[1:])
            lines.setdefault(rest, []).append(r)
        for label, rs in lines.items():
            pts = sorted(((pos[value_text(dict(r.scenario.settings).get(first))], r) for r in rs
                          if r.objective is not None), key=lambda t: t[0])
            line = ax.plot([p for p, _ in pts], [r.objective for _, r in pts], "-",
                           label=label or None)[0]
            colour = line.get_color()
            for p, r in pts:
                ax.scatter([p], [r.objective], s=30, edgecolor=colour, zorder=3,
                           facecolor=colour if r.status == "optimal" else "white")
            for r in rs:
                if r.objective is None:
                    ax.scatter([pos[value_text(dict(r.scenario.settings).get(first))]], [0],
                               marker="x", color=colour, zorder=3)
        ax.set_xticks(range(len(xs)), xs)
        ax.set_xlabel(first or "")
        if any(lines):
            ax.legend(fontsize=8)
    ax.set_ylabel("objective")
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_title("Scenarios (hollow: not proven optimal; ×: no plan)", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _sort_key(text: str):
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def summary_table(sweep: Sweep) -> str:
    """The results in a terminal table (≤ 100 columns)."""
    head = f"{'scenario':<40}  {'status':<20}  {'objective':>14}  {'areas':>5}  {'time s':>7}"
    lines = [head, "-" * len(head)]
    for r in sweep.results:
        sid = r.scenario.id if len(r.scenario.id) <= 40 else r.scenario.id[:39] + "…"
        obj = "–" if r.objective is None else f"{r.objective:,.0f}"
        status = r.status + (" (kept)" if r.skipped else "")
        lines.append(f"{sid:<40}  {status:<20}  {obj:>14}  {r.areas or '–'!s:>5}  "
                     f"{r.wall_time:>7.1f}")
    return "\n".join(lines)
