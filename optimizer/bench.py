"""Benchmark suites: every instance × back end × contiguity strategy, verified, timed.

A suite is a TOML file in `benchmarks/suites/` listing planning models; best
known values and published times come from `benchmarks/best_known.csv`. Each
configuration runs `repeat` times; the table reports the median wall time.
`check` names every result that must fail CI: an unverified plan, an optimum
that differs from a known optimum, a plan for a model known to be infeasible.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fnmatch
import io
import math
import os
import platform
import statistics
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .backends import NAMES, available, version
from .cluster import LOST_SECONDS, completed, watch_event
from .csvfile import read_table
from .errors import InfeasibleModelError, InputError, SuiteError
from .mip.formulation import STRATEGIES
from .model.binding import bind
from .model.parse import load_model
from .model.verify import verify
from .reading import read_text
from .search.levers import Levers
from .solve import solve
from .staging import write_text_atomically
from .status import Status
from .stopping import StopRequest
from .values import count_range, integer, number, shown

REL_TOL = 1e-6
"""Relative tolerance when comparing an optimum with the best known value."""
MAX_REPEAT = 1000
"""Most runs per configuration a suite may ask for."""


@dataclass(frozen=True)
class Case:
    """One instance of a suite; the optional fields override the suite's settings."""

    id: str
    model: Path
    areas: tuple[int, int] | None = None
    backends: tuple[str, ...] | None = None
    strategies: tuple[str, ...] | None = None
    repeat: int | None = None
    time_limit: float | None = None
    regional_leads: tuple[int, int] | None = None
    """With an organiser: regional leads besides its own area (instead of `areas`)."""


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...]
    backends: tuple[str, ...]
    strategies: tuple[str, ...]
    time_limit: float
    repeat: int
    description: str = ""


@dataclass(frozen=True)
class Reference:
    objective: float | None
    status: str
    source: str
    published_time: float | None = None
    published_source: str = ""


@dataclass(frozen=True)
class Row:
    instance: str
    n: int
    edges: int
    k: str
    backend: str
    formulation: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    time_median: float
    times: tuple[float, ...]
    verified: bool | None
    best_known: float | None
    best_status: str
    gap_to_best: float | None
    published_time: float | None
    time_ratio: float | None
    message: str = ""
    meta: dict = field(default_factory=dict, compare=False)


SUITE_KEYS = {"name", "description", "backends", "contiguity", "time_limit", "repeat",
              "instances"}
CASE_KEYS = {"id", "model", "areas", "regional_leads", "backends", "contiguity", "repeat",
             "time_limit"}


def suite_path(name_or_path: str, root: Path | None = None) -> Path:
    """A suite given by file path, or by name in benchmarks/suites/."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return p
    root = root or Path.cwd()
    return root / "benchmarks" / "suites" / f"{name_or_path}.toml"




def _names(value, key: str, where: str, known: tuple[str, ...] | None = None
           ) -> tuple[str, ...]:
    """A list of names (back ends, strategies), each one of `known` when given."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SuiteError(f"{where}: '{key}' must be a non-empty list of names, "
                         f"got {shown(value)}")
    for v in value:
        if known is not None and v not in known:
            raise SuiteError(f"{where}: '{key}': unknown name {v!r} "
                             f"(known: {', '.join(known)})")
    return tuple(value)


def _string(value, key: str, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SuiteError(f"{where}: '{key}' must be a non-empty string, got {shown(value)}")
    return value


BACKEND_NAMES = NAMES


def load_suite(path: Path) -> Suite:
    """Read and check a suite file: every key, type and number, with its name in the message."""
    path = Path(path)
    try:
        data = tomllib.loads(read_text(path, "suite file", SuiteError))
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{path}: invalid TOML: {exc}") from None
    unknown = set(data) - SUITE_KEYS
    if unknown:
        raise SuiteError(f"{path}: unknown key '{sorted(unknown)[0]}'")
    entries = data.get("instances", [])
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{path}: 'instances' must be a non-empty list of [[instances]] "
                         f"tables, got {shown(entries)}")
    limit = dict(lo=0, lo_open=True, where=str(path), error=SuiteError)
    cases = []
    for k, case in enumerate(entries):
        at = f"instances[{k}]"
        if not isinstance(case, dict):
            raise SuiteError(f"{path}: '{at}' must be a table with 'model', got {shown(case)}")
        bad = set(case) - CASE_KEYS
        if bad or "model" not in case:
            raise SuiteError(f"{path}: '{at}' needs 'model' and only "
                             f"{sorted(CASE_KEYS)} (got {sorted(case)})")
        model = (path.parent / _string(case["model"], f"{at}.model", str(path))).resolve()
        areas = case.get("areas")
        if areas is not None:
            areas = count_range(areas, f"{at}.areas", where=str(path), error=SuiteError)
        leads = case.get("regional_leads")
        if leads is not None:
            leads = count_range(leads, f"{at}.regional_leads", least=0, where=str(path),
                                error=SuiteError)
        case_id = _string(case.get("id", model.stem), f"{at}.id", str(path))
        if any(c.id == case_id for c in cases):
            raise SuiteError(f"{path}: instance id {case_id!r} appears twice (ids key the "
                             "best-known values and the results)")
        cases.append(Case(
            case_id, model, areas,
            _names(case["backends"], f"{at}.backends", str(path), BACKEND_NAMES)
            if "backends" in case else None,
            _names(case["contiguity"], f"{at}.contiguity", str(path), STRATEGIES)
            if "contiguity" in case else None,
            integer(case["repeat"], f"{at}.repeat", where=str(path), lo=1, hi=MAX_REPEAT,
                    error=SuiteError) if "repeat" in case else None,
            number(case["time_limit"], f"{at}.time_limit", **limit)
            if "time_limit" in case else None,
            regional_leads=leads,
        ))
    return Suite(
        name=_string(data.get("name", path.stem), "name", str(path)), cases=tuple(cases),
        backends=_names(data.get("backends", ["highs", "cbc", "cpsat", "scip"]), "backends",
                        str(path), BACKEND_NAMES),
        strategies=_names(data.get("contiguity", ["cuts", "flow"]), "contiguity", str(path),
                          STRATEGIES),
        time_limit=number(data.get("time_limit", 600), "time_limit", **limit),
        repeat=integer(data.get("repeat", 1), "repeat", where=str(path), lo=1, hi=MAX_REPEAT,
                       error=SuiteError),
        description=_string(data["description"], "description", str(path))
        if data.get("description") else "",
    )




REFERENCE_COLUMNS = ("instance", "objective", "status")


def load_references(path: Path) -> dict[str, Reference]:
    """Best known values and published times per instance id (none if the file is absent)."""
    path = Path(path)
    if not path.exists():
        return {}
    table = read_table(path, "best-known file", SuiteError, key="instance", comment="#")
    header = table.header
    missing = [c for c in REFERENCE_COLUMNS if c not in header]
    if missing:
        raise SuiteError(f"{path}: best-known file needs the columns "
                         f"{', '.join(REFERENCE_COLUMNS)} (missing: {', '.join(missing)})")
    out = {}
    for line, row in table.rows:
        at = f"{path}:{line}"
        cell = {k: (row[i].strip() if i < len(row) else "") for i, k in enumerate(header)}
        obj, published = cell.get("objective", ""), cell.get("published_time", "")
        out[cell["instance"]] = Reference(
            objective=number(obj, "objective", where=at, text=True, error=SuiteError)
            if obj else None,
            status=cell["status"], source=cell.get("source", ""),
            published_time=number(published, "published_time", where=at, text=True, lo=0,
                                  error=SuiteError) if published else None,
            published_source=cell.get("published_source", ""),
        )
    return out


def machine() -> dict:
    """What the figures were measured on, for the CSV."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return {"date": dt.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "commit": commit}


def run_suite(
    suite: Suite,
    references: dict[str, Reference],
    *,
    backends: tuple[str, ...] | None = None,
    strategies: tuple[str, ...] | None = None,
    time_limit: float | None = None,
    repeat: int | None = None,
    threads: int | None = None,
    only: tuple[str, ...] | None = None,
    progress: Callable[[str], None] | None = None,
    on_row: Callable[[list[Row]], None] | None = None,
    client=None,
    levers_off: str | None = None,
    stop: StopRequest | None = None,
    lost_after: float = LOST_SECONDS,
) -> list[Row]:
    """Run every case × back end × strategy; each plan is re-verified here.

    With a Dask `client` (`optimizer.cluster.dask_client`) the configurations run as
    tasks on its workers, in parallel (times then include the contention of sharing
    machines; the CSV's machine columns name the client's machine).

    `only` keeps the cases whose id matches one of its glob patterns; `on_row`
    sees the rows so far after each configuration, so a long run that is
    stopped still leaves its finished rows behind. `levers_off` names the speed-ups
    switched off (`solve.Levers.parse`: root, fixing, incumbent), for the ablation.
    `stop` (a signal) ends the run after the configuration being solved, which is left
    out (its solve was cut short); on a cluster the tasks left are cancelled and their
    solves told to stop. A cluster without workers for `lost_after` seconds raises
    ClusterError.

    (long: the configurations, their repeats and their Dask futures in one loop, so every row is
    checked and written the same way)
    """
    say = progress or (lambda _m: None)
    off = ",".join(sorted(Levers.parse(levers_off).off()))
    meta = {**machine(), "levers_off": off or "none"}
    rows: list[Row] = []
    cases = [c for c in suite.cases
             if not only or any(fnmatch.fnmatchcase(c.id, pat) for pat in only)]
    if not cases:
        raise InputError(f"suite {suite.name!r}: no instance matches {', '.join(only or ())}")
    problems = []  # every model is read before anything runs: bad input stops a run at once
    for case in cases:
        model = load_model(case.model)
        if case.areas:
            model = model.with_areas(*case.areas)
        if case.regional_leads:
            model = model.with_regional_leads(*case.regional_leads)
        problems.append(bind(model))
    configs = []
    for case, problem in zip(cases, problems, strict=True):
        strats = strategies or case.strategies or suite.strategies
        if not problem.contiguity:
            strats = ("cuts",)
        limit = time_limit or case.time_limit or suite.time_limit
        for backend in backends or case.backends or suite.backends:
            if not available(backend):
                say(f"{case.id}: back end {backend} not installed, skipped")
                continue
            for strategy in strats:
                configs.append((case, problem, backend, strategy, limit,
                                repeat or case.repeat or suite.repeat))

    def row(k: int, runs: list) -> Row:
        case, problem, backend, strategy, _, _ = configs[k]
        return _row(case, problem, backend, strategy, runs,
                    references.get(case.id, Reference(None, "", "")),
                    {**meta, "threads": threads or "default"}, versions=_version(backend))

    if client is None:
        for k, (case, problem, backend, strategy, limit, times) in enumerate(configs):
            if stop is not None and stop.is_set():
                break
            say(f"{case.id} · {backend} · {strategy if problem.contiguity else 'none'}")
            runs = run_configuration(problem, backend, strategy, limit, threads, times,
                                     levers_off, stop)
            if runs is None:  # cut short by the stop: not a result
                break
            rows.append(row(k, runs))
            if on_row is not None:
                on_row(rows)
        return rows
    from distributed import Event

    event = f"optimizer-stop-{os.getpid()}-{id(configs)}"
    futures = {client.submit(run_configuration, problem, backend, strategy, limit, threads,
                             times, levers_off, None, event, pure=False): k
               for k, (_, problem, backend, strategy, limit, times) in enumerate(configs)}
    done: dict[int, Row] = {}
    try:
        for fut in completed(client, list(futures), stop=stop, lost_after=lost_after,
                             where="the Dask cluster"):
            k = futures.pop(fut)
            runs = fut.result()
            if runs is None:
                continue
            done[k] = row(k, runs)
            say(f"{configs[k][0].id} · {configs[k][2]} · {configs[k][3]}: {done[k].status}")
            if on_row is not None:
                on_row([done[j] for j in sorted(done)])
    finally:
        if futures and client.status == "running":  # stopped or lost: the rest are dropped,
            with contextlib.suppress(Exception):  # running solves told to end
                Event(event, client=client).set()
            with contextlib.suppress(Exception):
                client.cancel(list(futures), force=True)
    return [done[k] for k in sorted(done)]


def run_configuration(problem, backend: str, strategy: str, limit: float,
                      threads: int | None, times: int, levers_off: str | None = None,
                      stop: StopRequest | None = None, event: str | None = None
                      ) -> list[tuple] | None:
    """`times` solves of one configuration, each plan re-verified (a Dask task when the
    suite runs on a cluster); None when `stop` (here) or the Dask event `event` (on a
    worker) cut a solve short."""
    runs = []
    stop = stop or StopRequest()
    with watch_event(event, stop), stop.cooperating():
        for _ in range(times):
            try:
                sol = solve(problem, backend=backend, strategy=strategy, time_limit=limit,
                            threads=threads, levers=Levers.parse(levers_off), stop=stop)
            except InfeasibleModelError as exc:
                if stop.is_set():
                    return None
                runs.append((Status.INFEASIBLE, None, None, 0.0, None, str(exc)))
                continue
            if sol.interrupted is not None or stop.is_set():
                return None
            ok = verify(problem, sol.plan).ok if sol.plan is not None else None
            runs.append((sol.status, sol.objective, sol.bound, sol.wall_time, ok,
                         sol.message))
    return runs


def _version(backend: str) -> str:
    return version(backend)


def _row(case, problem, backend, strategy, runs, ref: Reference, meta, versions) -> Row:
    status, objective, bound, _, verified, message = runs[-1]
    if any(r[0] is not status for r in runs):
        message = "status differs between repeats: " + ", ".join(str(r[0]) for r in runs)
    times = tuple(r[3] for r in runs)
    median = statistics.median(times)
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(abs(objective), 1e-9)
    to_best = None
    if objective is not None and ref.objective is not None:
        to_best = (objective - ref.objective) / max(abs(ref.objective), 1e-9)
    ratio = median / ref.published_time if ref.published_time else None
    k = (f"{problem.k_min}" if problem.k_min == problem.k_max
         else f"{problem.k_min}-{problem.k_max}")
    return Row(case.id, problem.n, len(problem.instance.edges), k, backend,
               strategy if problem.contiguity else "none", str(status), objective, bound, gap,
               median, times, verified, ref.objective, ref.status, to_best,
               ref.published_time, ratio, message, {**meta, "version": versions})


def check(rows: list[Row]) -> list[str]:
    """Results that must fail CI, one line each.

    Only exact references are checked: `optimal` (a known optimum, 1e-6) and
    `infeasible`; `published` and `bound` values come with other distance data
    and are shown in the table, not judged.
    """
    bad = []
    for r in rows:
        where = f"{r.instance} · {r.backend} · {r.formulation}"
        has_plan = r.status in ("optimal", "feasible-at-limit")
        if has_plan and r.verified is not True:
            bad.append(f"{where}: plan failed verification")
        if r.status == "error":
            bad.append(f"{where}: solver error: {r.message}")
        if r.best_status == "optimal" and has_plan and r.gap_to_best is not None:
            if r.status == "optimal" and abs(r.gap_to_best) > REL_TOL:
                bad.append(f"{where}: optimum {r.objective:,.4f} differs from the known "
                           f"optimum {r.best_known:,.4f}")
            if r.gap_to_best < -REL_TOL:
                bad.append(f"{where}: plan {r.objective:,.4f} beats the known optimum "
                           f"{r.best_known:,.4f}")
        if r.best_status == "optimal" and r.status == "infeasible":
            bad.append(f"{where}: reported infeasible, but an optimum is known")
        if r.best_status == "infeasible" and has_plan:
            bad.append(f"{where}: found a plan for a model known to be infeasible")
    return bad


COLUMNS = ("instance", "n", "edges", "k", "backend", "formulation", "status", "objective",
           "bound", "gap", "time_median", "best_known", "gap_to_best", "published_time",
           "time_ratio")


def _fmt(v, col: str) -> str:
    if v is None:
        return "–"
    if col in ("gap", "gap_to_best"):
        return f"{100 * v:.2f}%"
    if col in ("time_median", "published_time"):
        return f"{v:.2f}"
    if col == "time_ratio":
        return f"{v:.2f}×"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def table(rows: list[Row]) -> str:
    head = ["instance", "n", "edges", "k", "back end", "formulation", "status", "objective",
            "bound", "gap", "time (s)", "best known", "to best", "published (s)", "ours/pub"]
    body = [[_fmt(getattr(r, c), c) for c in COLUMNS] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    left = {0, 4, 5, 6}
    fmt = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                              strict=True)))
    lines = [fmt(head), "  ".join("-" * w for w in widths), *map(fmt, body)]
    for config, (mean, count) in geometric_means(rows).items():
        lines.append(f"{config}: geometric mean of ours/published {mean:.2f}× over {count} "
                     "proven instance(s)")
    return "\n".join(lines)


def geometric_means(rows: list[Row]) -> dict[str, tuple[float, int]]:
    """Per back end · formulation: the geometric mean of (our time / published time) over
    the instances with a published time that the run proved (optimal or infeasible)."""
    ratios: dict[str, list[float]] = {}
    for r in rows:
        if r.time_ratio and r.status in ("optimal", "infeasible"):
            ratios.setdefault(f"{r.backend} · {r.formulation}", []).append(r.time_ratio)
    return {c: (math.exp(sum(map(math.log, v)) / len(v)), len(v)) for c, v in ratios.items()}


def write_csv(rows: list[Row], path: Path) -> None:
    """Rows plus the machine, versions and commit in every line."""
    fields = [*COLUMNS, "verified", "best_status", "times", "message", "version", "threads",
              "levers_off", "date", "cpu", "cores", "python", "commit"]
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    fh = io.StringIO()
    w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        d = asdict(r)
        meta = d.pop("meta")
        d["times"] = " ".join(f"{t:.3f}" for t in r.times)
        w.writerow({k: v for k, v in {**d, **meta}.items() if k in fields})
    write_text_atomically(Path(path), fh.getvalue())
