"""The planning model: a TOML file parsed, validated, then bound to its instance.

`load_model` reads the file into a `PlanningModel` (references still as the
user wrote them); `bind` resolves every reference against the instance and
returns a `Problem` of arrays that the verifier and the formulation share.
Unknown keys and wrong types are errors that name the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .backends import REGISTRY
from .errors import InstanceError, ModelError
from .instance import FORMATS, METRICS, Instance, load_instance
from .values import LARGEST, MAX_THREADS, integer, number

CONTIGUITY_METHODS = ("flow", "cuts")


@dataclass(frozen=True)
class InstanceOptions:
    """How to read the instance file: its format and, for node-link files from
    other sources, which node attributes hold the name and coordinates; the
    distance (None = the file's own: its matrix if it has one, else great-circle)."""

    format: str = "node-link"
    name_attribute: str | None = None
    lon_attribute: str | None = None
    lat_attribute: str | None = None
    distance: str | None = None


@dataclass(frozen=True)
class Balance:
    """Every area's sum of `attribute` within ±tolerance of the ideal P/k."""

    attribute: str
    tolerance: float

    def limits(self, total: float, k: int) -> tuple[float, float]:
        """Floor ⌈(1−t)·P/k⌉ and cap ⌊(1+t)·P/k⌋ (Validi, Buchanan & Lykhovyd 2022)."""
        return (float(math.ceil((1 - self.tolerance) * total / k)),
                float(math.floor((1 + self.tolerance) * total / k)))


@dataclass(frozen=True)
class Staffing:
    """Staff needed per area: FTE ≥ jobseekers / caseload, at least `min_fte` per area."""

    caseload: float
    min_fte: float = 0.0
    cost_per_fte: float = 0.0
    attribute: str = "jobseekers"


@dataclass(frozen=True)
class Objective:
    """Σ fixed_cost·[j leads] + cost_per_weighted_km · Σ w_i · d_ij^power + staffing cost."""

    travel_weight: str | None = "jobseekers"
    cost_per_weighted_km: float = 1.0
    fixed_cost_per_area: float = 0.0
    distance_power: int = 1


@dataclass(frozen=True)
class SolverOptions:
    backend: str = "highs"
    time_limit: float | None = None
    gap: float = 0.0
    contiguity: str = "cuts"
    threads: int | None = None


@dataclass(frozen=True)
class PlanningModel:
    """A planning model as written in its TOML file (references unresolved)."""

    name: str
    instance_path: Path
    areas: tuple[int, int]
    fixed_leads: tuple[str, ...] = ()
    candidate_leads: tuple[str, ...] | None = None
    floors: Mapping[str, float] = field(default_factory=dict)
    caps: Mapping[str, float] = field(default_factory=dict)
    staffing: Staffing | None = None
    objective: Objective = field(default_factory=Objective)
    contiguity: bool = True
    links: tuple[tuple[str, str], ...] = ()
    locks: Mapping[str, str] = field(default_factory=dict)
    max_distance_km: float | None = None
    solver: SolverOptions = field(default_factory=SolverOptions)
    source: str = "<model>"
    instance_options: InstanceOptions = field(default_factory=InstanceOptions)
    balance: Balance | None = None

    def with_areas(self, k_min: int, k_max: int | None = None) -> PlanningModel:
        return replace(self, areas=_area_range((k_min, k_max or k_min), "areas.count", self.source))


# -- TOML schema -------------------------------------------------------------

_Num = (int, float)
SCHEMA: dict[str, dict[str, Any]] = {
    "": {"name": str, "description": str, "instance": dict, "areas": dict, "floors": dict,
         "caps": dict, "balance": dict, "staffing": dict, "objective": dict, "contiguity": dict,
         "locks": dict, "solver": dict},
    "instance": {"path": str, "format": str, "name_attribute": str, "lon_attribute": str,
                 "lat_attribute": str, "distance": str},
    "balance": {"attribute": str, "tolerance": _Num},
    "areas": {"count": (int, list), "fixed_leads": list, "candidate_leads": (str, list),
              "max_distance_km": _Num},
    "staffing": {"caseload": _Num, "min_fte": _Num, "cost_per_fte": _Num, "attribute": str},
    "objective": {"travel_weight": str, "cost_per_weighted_km": _Num,
                  "fixed_cost_per_area": _Num, "distance_power": int},
    "contiguity": {"enabled": bool, "links": list},
    "solver": {"backend": str, "time_limit": _Num, "gap": _Num, "contiguity": str,
               "threads": int},
}


def _check_table(table: Mapping[str, Any], section: str, source: str) -> None:
    allowed = SCHEMA[section]
    for key, value in table.items():
        dotted = f"{section}.{key}" if section else key
        if key not in allowed:
            raise ModelError(f"{source}: unknown key '{dotted}'")
        expected = allowed[key]
        if isinstance(value, bool) and expected is not bool and bool not in _as_tuple(expected):
            raise ModelError(f"{source}: '{dotted}' must be {_type_name(expected)}, got {value!r}")
        if not isinstance(value, expected):
            raise ModelError(f"{source}: '{dotted}' must be {_type_name(expected)}, got {value!r}")


def _as_tuple(t) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def _type_name(t) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a table", bool: "true or false"}
    if t == _Num:
        return "a number"
    return " or ".join(names[x] for x in _as_tuple(t))


def model_number(table: Mapping[str, Any], key: str, source: str, default: float | None = None,
                 **limits) -> float | None:
    """`table[key]` checked by `values.number` (finite, in range) under its dotted name.

    `key` is dotted ('staffing.caseload'); its last part is looked up in `table`.
    """
    name = key.rsplit(".", 1)[-1]
    if name not in table:
        return default
    return number(table[name], key, where=source, error=ModelError, **limits)


def _number_table(table: Mapping[str, Any], section: str, source: str) -> dict[str, float]:
    """Floors and caps: finite, non-negative numbers named `section.attribute`."""
    return {key: number(value, f"{section}.{key}", where=source, lo=0, error=ModelError)
            for key, value in table.items()}


def _area_range(count, key: str, source: str) -> tuple[int, int]:
    if isinstance(count, int) and not isinstance(count, bool):
        lo = hi = count
    elif (
        isinstance(count, list | tuple)
        and len(count) == 2
        and all(isinstance(c, int) and not isinstance(c, bool) for c in count)
    ):
        lo, hi = count
    else:
        raise ModelError(f"{source}: '{key}' must be an integer or [min, max], got {count!r}")
    if lo == hi and lo < 1:
        raise ModelError(f"{source}: '{key}' must be at least 1, got {lo}")
    if not 1 <= lo <= hi:
        raise ModelError(f"{source}: '{key}' needs 1 <= min <= max, got {list(count)!r}")
    return int(lo), int(hi)


def _strings(value, key: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelError(f"{source}: '{key}' must be a list of municipality codes or names")
    return tuple(value)


def parse_model(data: Mapping[str, Any], *, base: Path, source: str) -> PlanningModel:
    """Validate a TOML document (already parsed) into a `PlanningModel`."""
    _check_table(data, "", source)
    for section in ("instance", "areas", "balance", "staffing", "objective", "contiguity",
                    "solver"):
        if section in data:
            _check_table(data[section], section, source)
    if "path" not in data.get("instance", {}):
        raise ModelError(f"{source}: missing key 'instance.path'")
    instance_options = _instance_options(data["instance"], source)
    balance = _balance(data["balance"], source) if "balance" in data else None
    areas = data.get("areas", {})
    if "count" not in areas:
        raise ModelError(f"{source}: missing key 'areas.count'")
    cand = areas.get("candidate_leads", "all")
    if isinstance(cand, str):
        if cand != "all":
            raise ModelError(f"{source}: 'areas.candidate_leads' must be \"all\" or a list")
        candidates = None
    else:
        candidates = _strings(cand, "areas.candidate_leads", source)

    staffing = None
    if "staffing" in data:
        st = data["staffing"]
        if "caseload" not in st:
            raise ModelError(f"{source}: missing key 'staffing.caseload'")
        staffing = Staffing(
            caseload=model_number(st, "staffing.caseload", source, lo=0, lo_open=True),
            min_fte=model_number(st, "staffing.min_fte", source, 0.0, lo=0),
            cost_per_fte=model_number(st, "staffing.cost_per_fte", source, 0.0, lo=0),
            attribute=st.get("attribute", "jobseekers"),
        )

    obj = data.get("objective", {})
    objective = Objective(
        travel_weight=obj.get("travel_weight", "jobseekers"),
        cost_per_weighted_km=model_number(obj, "objective.cost_per_weighted_km", source, 1.0,
                                          lo=0),
        fixed_cost_per_area=model_number(obj, "objective.fixed_cost_per_area", source, 0.0,
                                         lo=0),
        distance_power=obj.get("distance_power", 1),
    )
    if objective.distance_power not in (1, 2):
        raise ModelError(f"{source}: 'objective.distance_power' must be 1 or 2")

    cont = data.get("contiguity", {})
    links = []
    for k, link in enumerate(cont.get("links", [])):
        pair = isinstance(link, list) and len(link) == 2
        if not (pair and all(isinstance(x, str) for x in link)):
            raise ModelError(f"{source}: 'contiguity.links[{k}]' must be a pair of codes")
        links.append((link[0], link[1]))

    locks = data.get("locks", {})
    for key, value in locks.items():
        if not isinstance(value, str):
            raise ModelError(f"{source}: 'locks.{key}' must be the code of a lead municipality")

    sv = data.get("solver", {})
    threads = sv.get("threads")
    solver = SolverOptions(
        backend=sv.get("backend", "highs"),
        time_limit=model_number(sv, "solver.time_limit", source, lo=0, lo_open=True),
        gap=model_number(sv, "solver.gap", source, 0.0, lo=0, hi=1, hi_open=True),
        contiguity=sv.get("contiguity", "cuts"),
        threads=None if threads is None else integer(threads, "solver.threads", where=source,
                                                     lo=0, hi=MAX_THREADS, error=ModelError),
    )
    if solver.backend not in (*REGISTRY, "heuristic"):
        raise ModelError(f"{source}: 'solver.backend' must be one of "
                         f"{', '.join((*REGISTRY, 'heuristic'))}, got {solver.backend!r}")
    if solver.contiguity not in CONTIGUITY_METHODS:
        raise ModelError(
            f"{source}: 'solver.contiguity' must be one of {', '.join(CONTIGUITY_METHODS)}"
        )
    max_d = model_number(areas, "areas.max_distance_km", source, lo=0, lo_open=True)

    return PlanningModel(
        name=data.get("name", Path(source).stem),
        instance_path=(base / data["instance"]["path"]).resolve(),
        instance_options=instance_options,
        areas=_area_range(areas["count"], "areas.count", source),
        fixed_leads=_strings(areas.get("fixed_leads", []), "areas.fixed_leads", source),
        candidate_leads=candidates,
        floors=_number_table(data.get("floors", {}), "floors", source),
        caps=_number_table(data.get("caps", {}), "caps", source),
        balance=balance,
        staffing=staffing,
        objective=objective,
        contiguity=cont.get("enabled", True),
        links=tuple(links),
        locks=dict(locks),
        max_distance_km=max_d,
        solver=solver,
        source=source,
    )


def _instance_options(table: Mapping[str, Any], source: str) -> InstanceOptions:
    opts = InstanceOptions(**{k: v for k, v in table.items() if k != "path"})
    if opts.format not in FORMATS:
        raise ModelError(f"{source}: 'instance.format' must be one of {', '.join(FORMATS)}, "
                         f"got {opts.format!r}")
    if opts.distance is not None and opts.distance not in METRICS:
        raise ModelError(f"{source}: 'instance.distance' must be one of {', '.join(METRICS)}, "
                         f"got {opts.distance!r}")
    if opts.format != "node-link":
        for key in ("name_attribute", "lon_attribute", "lat_attribute"):
            if key in table:
                raise ModelError(f"{source}: 'instance.{key}' applies to node-link instances "
                                 f"only, not format {opts.format!r}")
        if opts.distance not in (None, "matrix"):
            raise ModelError(f"{source}: 'instance.distance' must be \"matrix\" for format "
                             f"{opts.format!r} (it has no longitude/latitude)")
    return opts


def _balance(table: Mapping[str, Any], source: str) -> Balance:
    for key in ("attribute", "tolerance"):
        if key not in table:
            raise ModelError(f"{source}: missing key 'balance.{key}'")
    tol = model_number(table, "balance.tolerance", source, lo=0, hi=1, hi_open=True)
    return Balance(attribute=table["attribute"], tolerance=tol)


def load_model(path: str | Path) -> PlanningModel:
    """Read and validate a planning-model TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read model file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path}: invalid TOML: {exc}") from None
    return parse_model(data, base=path.parent, source=str(path))


# -- binding -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Bound:
    """A floor or cap on an attribute summed over each area."""

    attribute: str
    values: np.ndarray
    limit: float
    label: str


@dataclass(frozen=True, eq=False)
class Problem:
    """A planning model resolved against its instance: everything as arrays.

    `allowed[i, j]` is False where i may never be served by j (j not a
    candidate, beyond the maximum distance, or a lock says otherwise).
    `cost[i, j]` is the objective coefficient of serving i from j.
    """

    model: PlanningModel
    instance: Instance
    k_min: int
    k_max: int
    candidates: np.ndarray
    fixed: tuple[int, ...]
    locks: Mapping[int, int]
    floors: tuple[Bound, ...]
    caps: tuple[Bound, ...]
    allowed: np.ndarray
    cost: np.ndarray
    fixed_cost: float
    contiguity: bool
    notes: tuple[str, ...] = ()
    """What binding changed or assumed (e.g. an area count clamped), for the user."""

    @property
    def n(self) -> int:
        return self.instance.n

    @property
    def staffing(self) -> Staffing | None:
        return self.model.staffing

    def fte_needed(self, total: float) -> int:
        """Whole FTEs needed for an area with `total` of the staffing attribute."""
        st = self.staffing
        if st is None:
            return 0
        need = max(total / st.caseload, st.min_fte)
        return int(np.ceil(need - 1e-9))


def bind(model: PlanningModel, instance: Instance | None = None) -> Problem:
    """Resolve a model against its instance (loaded from `model.instance_path` if not given)."""
    src = model.source
    if instance is None:
        instance = load_instance(model.instance_path, **asdict(model.instance_options))

    def idx(ref: str, key: str) -> int:
        try:
            return instance.resolve(ref)
        except InstanceError:
            raise ModelError(
                f"{src}: '{key}': municipality {ref!r} is not in instance {instance.name!r}"
            ) from None

    links = [(idx(a, "contiguity.links"), idx(b, "contiguity.links")) for a, b in model.links]
    for a, b in links:
        if a == b:
            raise ModelError(f"{src}: 'contiguity.links' links {instance.label(a)} to itself")
    inst = instance.with_links(links)
    n = inst.n

    if model.candidate_leads is None:
        candidates = np.ones(n, dtype=bool)
    else:
        candidates = np.zeros(n, dtype=bool)
        candidates[[idx(c, "areas.candidate_leads") for c in model.candidate_leads]] = True
    fixed = tuple(dict.fromkeys(idx(c, "areas.fixed_leads") for c in model.fixed_leads))
    locks = {idx(i, f"locks.{i}"): idx(j, f"locks.{i}") for i, j in model.locks.items()}

    def bounds(table: Mapping[str, float], kind: str) -> list[Bound]:
        out = []
        for attr, limit in table.items():
            values = _amounts(inst, attr, f"{kind}.{attr}", src)
            out.append(Bound(attr, values, limit, f"{kind[:-1]} {attr}"))
        return out

    floors = bounds(model.floors, "floors")
    caps = bounds(model.caps, "caps")
    if model.balance is not None:
        floor, cap = _balance_bounds(model, inst)
        floors.append(floor)
        caps.append(cap)
    st = model.staffing
    if st is not None:
        values = _amounts(inst, st.attribute, "staffing.attribute", src)
        _within(float(values.sum()) / st.caseload, "staffing.caseload",
                "makes the staff of all areas", src)
        _within(st.min_fte * st.caseload, "staffing.min_fte", "times the caseload is", src)
        most_fte = values.sum() / st.caseload + n * (st.min_fte + 1)  # Σ over ≤ n areas
        _within(st.cost_per_fte * most_fte, "staffing.cost_per_fte",
                "makes a staff cost of up to", src)
    if st is not None and st.min_fte > 0:
        floors.append(Bound(st.attribute, values, st.min_fte * st.caseload,
                            f"staffing ({st.min_fte:g} FTE × caseload {st.caseload:g})"))

    obj = model.objective
    if obj.travel_weight is None or obj.travel_weight == "":
        weight = np.ones(n)
    else:
        weight = _amounts(inst, obj.travel_weight, "objective.travel_weight", src)
    dist = inst.distance
    cost = obj.cost_per_weighted_km * weight[:, None] * dist**obj.distance_power
    _within(float(cost.max()), "objective.cost_per_weighted_km",
            "gives a travel cost (× weight × distance) of", src)
    _within(obj.fixed_cost_per_area * n, "objective.fixed_cost_per_area",
            "gives fixed costs of up to", src)
    k_min, k_max, notes = _clamped_count(model, int(candidates.sum()))

    allowed = np.repeat(candidates[None, :], n, axis=0)
    if model.max_distance_km is not None:
        allowed &= dist <= model.max_distance_km
    for i, j in locks.items():
        allowed[i, :] = False
        allowed[i, j] = True

    return Problem(
        model=model, instance=inst, k_min=k_min, k_max=k_max,
        candidates=candidates, fixed=fixed, locks=locks, floors=tuple(floors), caps=tuple(caps),
        allowed=allowed, cost=cost, fixed_cost=obj.fixed_cost_per_area,
        contiguity=model.contiguity, notes=notes,
    )


def _amounts(inst: Instance, attr: str, key: str, src: str) -> np.ndarray:
    """An attribute that a rule sums (floor, cap, staffing, weight): finite and ≥ 0 everywhere."""
    try:
        values = inst.attribute(attr)
    except InstanceError as exc:
        raise ModelError(f"{src}: '{key}': {exc}") from None
    for bad, what in ((values < 0, "negative"), (values > LARGEST, f"above {LARGEST:g}")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"{src}: '{key}': instance {inst.name!r} has a {what} {attr!r} "
                             f"({values[i]:g}) for {inst.label(i)}; a summed amount must be "
                             f"0 to {LARGEST:g}")
    return values


def _within(value: float, key: str, what: str, src: str) -> None:
    """Refuse a setting whose derived figure leaves the range solvers handle exactly."""
    if not value <= LARGEST:
        raise ModelError(f"{src}: '{key}' {what} {value:g}, more than {LARGEST:g}: "
                         "rescale the units")


def _clamped_count(model: PlanningModel, candidates: int) -> tuple[int, int, tuple[str, ...]]:
    """The area range with its maximum cut to the number of candidate leads (each area
    needs its own lead); a minimum above it is kept, for the precheck to explain."""
    k_min, k_max = model.areas
    top = max(k_min, candidates)
    if k_max <= top:
        return k_min, k_max, ()
    return k_min, top, (f"'areas.count' allows up to {k_max} areas but only {candidates} "
                        f"municipalities may lead one: at most {top} areas are tried",)


def _balance_bounds(model: PlanningModel, inst: Instance) -> tuple[Bound, Bound]:
    """The balance rule as a floor and a cap on its attribute (needs a fixed area count)."""
    bal = model.balance
    src = model.source
    k_min, k_max = model.areas
    if k_min != k_max:
        raise ModelError(f"{src}: 'balance' needs a fixed area count, but 'areas.count' is "
                         f"[{k_min}, {k_max}]")
    values = _amounts(inst, bal.attribute, "balance.attribute", src)
    lo, hi = bal.limits(float(values.sum()), k_min)
    if lo > hi:
        raise ModelError(f"{src}: 'balance.tolerance' {bal.tolerance:g} leaves no whole value "
                         f"between {lo:,.0f} and {hi:,.0f}")
    pct = f"{100 * bal.tolerance:g} %"
    return (Bound(bal.attribute, values, lo, f"balance floor {bal.attribute} (P/k − {pct})"),
            Bound(bal.attribute, values, hi, f"balance cap {bal.attribute} (P/k + {pct})"))
