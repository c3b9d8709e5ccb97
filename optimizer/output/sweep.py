"""A sweep's folder: the scenarios solved on Dask, each kept in its own folder.

Here each plan is verified again and written to the scenario's own folder with a
`scenario.json`; a scenario that fails or is infeasible is recorded and never
stops the others; a rerun skips scenarios whose `scenario.json` holds a result.
`summary.csv` and `summary.png` gather them.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from pathlib import Path

from ..cluster import dask_client
from ..decisions.exemptions import exempted_areas
from ..decisions.sweep import (
    Scenario,
    ScenarioResult,
    Sweep,
    SweepOptions,
    SweepProgress,
    bind_scenarios,
    solve_scenario,
    value_text,
)
from ..model.problem import Problem
from ..model.verify import verify
from ..staging import staged_directory
from .summary import run_summary
from .text import plan_title, status_words
from .write import write_outputs

RESULT_FILE = "scenario.json"


FINISHED = ("optimal", "feasible-at-limit", "infeasible", "no-solution-at-limit")
"""Statuses a rerun keeps; an `error` is tried again."""


def record(scenario: Scenario, problem: Problem, outcome, out: Path) -> ScenarioResult:
    """Verify the returned plan, write the scenario's folder and its scenario.json."""
    folder = out / scenario.id
    if isinstance(outcome, BaseException):
        outcome = ("error", f"{type(outcome).__name__}: {outcome}", 0.0)
    if isinstance(outcome, tuple):
        status, message, wall = outcome
        result = ScenarioResult(scenario, status, wall_time=wall, message=message)
        _write_json(folder, {"settings": dict(scenario.settings), **result.as_dict()})
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
        extra={"settings": dict(scenario.settings), "scenario": result.as_dict()})
    title = plan_title(problem.instance, result.areas or 0,
                       status_words(str(sol.status), sol.gap, sol.backend),
                       f"scenario {scenario.id}")
    write_outputs(folder, sol.plan if verified else None, sol.figures if verified else None,
                  summary, title)
    _write_json(folder, {"settings": dict(scenario.settings), **result.as_dict()})
    return result


def _write_json(folder: Path, data: dict) -> None:

    with staged_directory(folder) as stage:
        (stage / RESULT_FILE).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")


def finished(scenario: Scenario, out: Path) -> ScenarioResult | None:
    """The stored result of a scenario a previous run finished (not an error), else None."""
    path = out / scenario.id / RESULT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("status") not in FINISHED:
        return None
    keep = {k: data.get(k) for k in ("status", "objective", "bound", "gap", "areas",
                                      "exemptions", "answer", "verified", "message")}
    return ScenarioResult(scenario, wall_time=float(data.get("wall_time_s") or 0.0),
                          skipped=True, **keep)


def run_sweep(model: Path, scenarios: Sequence[Scenario], out: Path, *,
              options: SweepOptions | None = None, scheduler: str | None = None,
              workers: int | None = None, processes: bool = True, sequential: bool = False,
              progress: SweepProgress | None = None) -> Sweep:
    """Solve every scenario not finished before, on Dask (or one after another with
    `sequential`), and write each folder, `summary.csv` and `summary.png` in `out`."""

    options = options or SweepOptions()
    out = Path(out)
    problems = bind_scenarios(model, scenarios)
    started = time.perf_counter()
    progress = progress or SweepProgress(len(scenarios))
    results: dict[int, ScenarioResult] = {}
    todo = []
    for k, sc in enumerate(scenarios):
        old = finished(sc, out)
        if old is not None:
            results[k] = old
            progress.done += 1
            progress.skipped += 1
        else:
            todo.append(k)
    progress.update()

    def keep(k: int, outcome) -> None:
        r = record(scenarios[k], problems[k], outcome, out)
        results[k] = r
        progress.done += 1
        progress.failed += r.status in ("error",)
        progress.update(f"{scenarios[k].id}: {r.status}")

    if sequential or not todo:
        where = "sequential" if todo else "nothing left to run"
        for k in todo:
            progress.running = 1
            progress.update(f"{scenarios[k].id}: running")
            keep(k, solve_scenario(problems[k], options))
        progress.running = 0
    else:
        from distributed import as_completed

        with dask_client(scheduler, workers, processes=processes) as client:
            n = len(client.scheduler_info().get("workers", {}))
            where = scheduler or f"local cluster, {n} workers"
            futures = {client.submit(solve_scenario, problems[k], options, pure=False,
                                     key=f"scenario-{k}-{scenarios[k].id}"): k for k in todo}
            progress.running = min(len(futures), max(n, 1))
            progress.update()
            for fut in as_completed(futures):
                k = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # a worker died or the task failed: keep going
                    outcome = exc
                progress.running = max(0, min(progress.total - progress.done - 1,
                                              max(n, 1)))
                keep(k, outcome)
    ordered = tuple(results[k] for k in range(len(scenarios)))
    write_summary(ordered, out)
    return Sweep(ordered, time.perf_counter() - started, where)


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
    """summary.csv and summary.png in `out` (atomically)."""

    with staged_directory(Path(out)) as stage:
        (stage / "summary.csv").write_text(summary_csv(results), encoding="utf-8")
        _plot(results, stage / "summary.png")


def _plot(results: Sequence[ScenarioResult], path: Path) -> None:
    """Objective against the first key, one line per value of the other keys; hollow
    markers for plans not proven optimal, crosses on the axis for scenarios without one."""
    import matplotlib

    matplotlib.use("Agg")
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
            pts = sorted((pos[value_text(dict(r.scenario.settings).get(first))], r) for r in rs
                         if r.objective is not None)
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
