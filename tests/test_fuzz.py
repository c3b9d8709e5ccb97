"""Fuzz: malformed model files, instances, plans, suites and options through the real CLI.

Hypothesis starts from valid files for a six-municipality instance and breaks them
along the schema (`optimizer.model.SCHEMA`, the suite keys, the node-link and plan
layouts): wrong types, non-finite and out-of-range numbers, unknown keys and names,
odd encodings and delimiters, truncated files. Every case must end with exit 0, 1
or 2 and no traceback; exit 2 prints exactly one `error:` line naming the key or
file and writes nothing; a summary.json that is written is strict JSON. A
non-finite number anywhere in a model, or a bad number in a rule's attribute,
must be refused: a false claim ("infeasible", "every rule holds") is a failure.

The newer commands are fuzzed the same way (issue 18): tampered run directories
through `report` (the report may call a plan proven optimal only when the plan
verifies and the stated certificate holds), plans through `finance` and `compare`,
option sets through `pareto`, grids of odd keys and values through `sweep` (on a
real `dask scheduler` and `dask worker` in the long profile) and hostile
municipality names through `check` and `report` (never unescaped in HTML).

`make test` runs the default profile (340 cases, derandomised); the long
profile (`FUZZ=long`, `make fuzz-long`, see benchmarks/README.md) runs ten times as
many with a fresh seed each time.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer.bench import CASE_KEYS, SUITE_KEYS
from optimizer.cli import cli
from optimizer.data.planfile import read_plan
from optimizer.decisions.pareto import PARETO_TERMS
from optimizer.errors import InputError
from optimizer.model.binding import bind
from optimizer.model.evaluate import evaluate
from optimizer.model.parse import load_model
from optimizer.model.schema import SCHEMA
from optimizer.model.verify import verify
from optimizer.output.summary import SCHEMA as SUMMARY_SCHEMA
from optimizer.staging import MANIFEST

LONG = os.environ.get("FUZZ") == "long"
SCALE = 10 if LONG else 1
TALLY: Counter = Counter()
"""Exit codes of every case run (printed at the end with -s: the long run's counts)."""


@pytest.fixture(scope="module", autouse=True)
def tally():
    yield
    print(f"\nfuzz cases by exit code: {dict(sorted(TALLY.items()))}, "
          f"{sum(TALLY.values())} in all, 0 tracebacks (a traceback fails the test)")


def fuzz_settings(examples: int):
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=not LONG,
                    database=None, suppress_health_check=list(HealthCheck))


# -- the valid starting point ------------------------------------------------------

CODES = ("001", "002", "003", "004", "005", "006")
NAMES = ("Alpha", "Beeta", "Gamma", "Delta", "Äijä", "Öö")
# a 2×3 grid near Oulu: 001 002 003 / 004 005 006
EDGES = (("001", "002"), ("002", "003"), ("004", "005"), ("005", "006"), ("001", "004"),
         ("002", "005"), ("003", "006"))
SUMMED = ("labour_force", "population", "jobseekers")
"""Attributes the base model sums (floor, cap, staffing, weight): must be ≥ 0 and finite."""


def base_instance() -> dict:
    nodes = []
    for k, (code, name) in enumerate(zip(CODES, NAMES, strict=True)):
        r, c = divmod(k, 3)
        nodes.append({"id": code, "name": name, "lon": 25.0 + 0.5 * c, "lat": 65.0 + 0.3 * r,
                      "labour_force": 100 + 40 * k, "population": 300 + 90 * k,
                      "jobseekers": 10 + 3 * k, "extra": k})
    return {"directed": False, "multigraph": False, "graph": {"name": "fuzz"},
            "nodes": nodes, "edges": [{"source": a, "target": b} for a, b in EDGES]}


def base_model() -> dict:
    return {
        "name": "fuzz", "description": "six municipalities",
        "instance": {"path": "instance.json"},
        "areas": {"count": [2, 3], "fixed_leads": ["001"], "candidate_leads": "all",
                  "max_distance_km": 300},
        "floors": {"labour_force": 150},
        "caps": {"population": 2000},
        "staffing": {"caseload": 10, "min_fte": 1, "cost_per_fte": 0},
        "objective": {"travel_weight": "jobseekers", "cost_per_weighted_km": 1.0,
                      "fixed_cost_per_area": 100, "distance_power": 1},
        "contiguity": {"enabled": True, "links": []},
        "locks": {"006": "003"},
        "solver": {"backend": "highs", "time_limit": 30, "gap": 0.0, "contiguity": "cuts",
                   "threads": 1},
    }


def base_suite() -> dict:
    return {"name": "fuzz", "description": "one case", "backends": ["heuristic"],
            "contiguity": ["cuts"], "time_limit": 10, "repeat": 1,
            "instances": [{"id": "six", "model": "model.toml"}]}


BEST_KNOWN = "instance,objective,status,source,published_time,published_source\n"

# -- values ------------------------------------------------------------------------

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
ODD_NUMBERS = st.one_of(
    st.sampled_from([0, -1, -0.5, 0.5, 1, 2, 1e16, 1e300, -1e300, 5e-324, 2**63 - 1, -(2**63),
                     10**30, 64, 65, 1024]),
    st.integers(-10, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
)
REFERENCES = st.sampled_from([*CODES, *NAMES, "1", "7", "999", "", "nosuch", "ALPHA", "all"])
ATTRIBUTES = st.sampled_from([*SUMMED, "extra", "lon", "nosuch", ""])
WRONG_TYPES = st.one_of(
    st.booleans(), st.text(max_size=6), st.dates(),
    st.lists(st.one_of(st.integers(-3, 8), REFERENCES, NON_FINITE), max_size=3),
    st.dictionaries(st.sampled_from(["a", "count", "path"]), st.integers(-2, 2), max_size=2),
)
BAD_VALUES = st.one_of(NON_FINITE, ODD_NUMBERS, WRONG_TYPES, REFERENCES, ATTRIBUTES)


def strings_in(mutations) -> list[str]:
    """The keys and text values of mutations: a message may name any of them (a path)."""
    return [s for m in mutations for s in m if isinstance(s, str) and s]


def non_finite_inside(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(non_finite_inside(v) for v in value)
    if isinstance(value, dict):
        return any(non_finite_inside(v) for v in value.values())
    return False


# -- running the CLI and the common assertions --------------------------------------


def run(args: list) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"summary.json holds {name}")
    return json.loads(text, parse_constant=refuse)


def check_outcome(result: Result, out: Path, names: tuple[str, ...]) -> None:
    """Exit 0/1/2 without traceback; exit 2: one `error:` line naming one of `names`, and
    nothing written; otherwise a written summary.json is strict JSON."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    event(f"exit {result.exit_code}")
    TALLY[f"exit {result.exit_code}"] += 1
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert any(n in lines[0] for n in names), (lines[0], names)
        assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
        leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
        assert leftovers == []
    elif (out / "summary.json").exists():
        strict_json((out / "summary.json").read_text(encoding="utf-8"))


def corrupt(data: bytes, how: str, at: float) -> bytes:
    """Bytes broken in one way: cut short, a NUL or an invalid byte inserted, re-encoded."""
    cut = int(len(data) * at)
    if how == "truncate":
        return data[:cut]
    if how == "nul":
        return data[:cut] + b"\x00" + data[cut:]
    if how == "invalid-byte":
        return data[:cut] + b"\x81\xff" + data[cut:]
    if how == "utf-16":
        return data.decode("utf-8").encode("utf-16")
    if how == "cp1252":
        return data.decode("utf-8").encode("cp1252", errors="replace")
    return data


CORRUPTIONS = st.sampled_from(["none"] * 6 + ["truncate", "nul", "invalid-byte", "utf-16",
                                              "cp1252"])


# -- model files ------------------------------------------------------------------

def two_tier_model() -> dict:
    """The base model as the slides have it: an organiser producing alone, regional leads,
    per-lead costs, and money ([finance] with the subsidy formula)."""
    model = base_model()
    model["areas"] = {"regional_leads": [1, 2], "candidate_leads": "all",
                      "max_distance_km": 300}
    model["organiser"] = {"municipality": "006", "area": "all", "own_area": "alone",
                          "floors": {"labour_force": 300}, "contiguous": True}
    model["locks"] = {"004": "001"}
    model["lead_costs"] = {"003": 50}
    model["finance"] = {
        "subsidy": {"total": 100000, "weights": {"jobseekers": 0.5, "population": 0.5}},
        "organiser_share": {"percent": 8}, "equalisation": {"key": "population"},
        "incentives": {"surplus_reward": 0.5, "sanction_per_missing_fte": 100,
                       "max_caseload": 20, "sanction_per_excess_jobseeker": 5}}
    return model


FINANCE_KEYS = {
    ("finance", "subsidy"): {"column": str, "file": str, "total": (int, float),
                             "weights": dict},
    ("finance", "organiser_share"): {"percent": (int, float), "key": str},
    ("finance", "equalisation"): {"key": str},
    ("finance", "incentives"): {k: (int, float) for k in (
        "surplus_reward", "sanction_per_missing_fte", "max_caseload",
        "sanction_per_excess_jobseeker")},
    ("finance",): {"organiser_result": str},
    ("finance", "subsidy", "weights"): {a: (int, float) for a in (*SUMMED, "nosuch")},
}
TYPES: dict[tuple[str, ...], object] = {
    (sec, key) if sec else (key,): kind
    for sec, keys in SCHEMA.items() for key, kind in keys.items()}
TYPES.update({(*table, key): kind for table, keys in FINANCE_KEYS.items()
              for key, kind in keys.items()})
TYPES.update({(t, a): (int, float) for t in ("floors", "caps")
              for a in ("labour_force", "population", "jobseekers", "nosuch")})
TYPES.update({("organiser", "floors", a): (int, float) for a in ("labour_force", "nosuch")})
TYPES.update({("lead_costs", c): (int, float) for c in ("002", "003", "Gamma", "nosuch")})
TYPES.update({("locks", c): str for c in ("002", "005", "Gamma", "nosuch")})
MODEL_PATHS = st.sampled_from(sorted(TYPES))


def plausible(expected) -> st.SearchStrategy:
    """Values of the type the schema expects, in and around their range."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    options = []
    if int in kinds or float in kinds:
        options += [st.integers(-2, 40), st.floats(0, 1e5), st.sampled_from([0, 1, 0.5, 1e-9])]
    if str in kinds:
        options += [REFERENCES, ATTRIBUTES, st.sampled_from([
            "highs", "heuristic", "cuts", "flow", "great_circle", "geodesic", "matrix",
            "node-link", "orlib-pmed", "orlib-pmedcap", "name", "lat", "alone", "lead",
            "organiser", "members", "subsidy"])]
    if list in kinds:
        options += [st.lists(REFERENCES, max_size=3), st.lists(st.integers(0, 8), min_size=2,
                                                                max_size=2)]
    if bool in kinds:
        options.append(st.booleans())
    if dict in kinds:
        options.append(st.dictionaries(ATTRIBUTES, st.integers(0, 500), max_size=2))
    return st.one_of(options) if options else BAD_VALUES


@st.composite
def model_mutations(draw):
    """(key path, value or DELETE): mostly plausible for the key's type, else broken;
    a new key name now and then."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(MODEL_PATHS)
        if draw(st.integers(0, 9)) == 0:
            path = (*path[:-1], draw(st.sampled_from(["colour", "count_", "Path", "lösung"])))
        fitting = plausible(TYPES.get(path, ()))
        out.append((path, draw(st.one_of(fitting, fitting, BAD_VALUES, st.just(DELETE)))))
    return out


DELETE = object()


def apply(doc: dict, path: tuple[str, ...], value) -> None:
    """Set (or delete) the value at a key path, making tables on the way."""
    table = doc
    for part in path[:-1]:
        table = table.setdefault(part, {}) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        return
    if value is DELETE:
        table.pop(path[-1], None)
    else:
        table[path[-1]] = value


def write_case(tmp: Path, model: dict, instance: dict | None = None) -> Path:
    (tmp / "instance.json").write_text(json.dumps(instance or base_instance()),
                                       encoding="utf-8")
    path = tmp / "model.toml"
    path.write_bytes(tomli_w.dumps(model).encode("utf-8"))
    return path


@fuzz_settings(90)
@given(two_tier=st.booleans(), mutations=model_mutations(), how=CORRUPTIONS,
       at=st.floats(0, 1), backend=st.sampled_from(["heuristic", "highs"]))
def test_fuzzed_model_files(two_tier, mutations, how, at, backend):
    model = two_tier_model() if two_tier else base_model()
    for key_path, value in mutations:
        apply(model, key_path, value)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = write_case(tmp, model)
        path.write_bytes(corrupt(path.read_bytes(), how, at))
        out = tmp / "out"
        result = run(["solve", path, "-b", backend, "-t", 20, "--out", out])
        names = (str(path), "instance.json",
                 *strings_in([(*p, v) for p, v in mutations]))
        check_outcome(result, out, names)
        if how == "none" and non_finite_inside(model):
            assert result.exit_code == 2, f"a non-finite number was accepted: {result.output}"
        if how == "none" and len(mutations) == 1 and result.exit_code == 2:
            key_path, value = mutations[0]  # one broken key: the message names it
            line = result.stderr
            assert key_path[-1] in line or f"'{key_path[0]}" in line \
                or str(path) not in line, line


# -- instances -------------------------------------------------------------------------

NODE_KEYS = st.sampled_from(["lon", "lat", *SUMMED, "extra", "id", "name"])


@st.composite
def instance_mutations(draw):
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["node", "node", "node", "drop", "edge", "top"]))
        node = draw(st.integers(0, len(CODES) - 1))
        if kind == "node":
            key = draw(NODE_KEYS)
            value = draw(st.one_of(BAD_VALUES, st.none(),
                                   st.floats(-1000, 1000), st.sampled_from([-90.5, 180.5, 500])))
            out.append(("node", node, key, value))
        elif kind == "drop":
            out.append(("drop", node, draw(NODE_KEYS), None))
        elif kind == "edge":
            out.append(("edge", node, draw(REFERENCES), draw(REFERENCES)))
        else:
            out.append(("top", node, draw(st.sampled_from(["nodes", "edges", "graph"])),
                        draw(WRONG_TYPES)))
    return out


def must_refuse_instance(data: dict) -> bool:
    """A used number that is not finite, a negative summed amount, or lat/lon off the globe."""
    nodes = data.get("nodes")
    for node in nodes if isinstance(nodes, list) else ():
        for key in (*SUMMED, "lon", "lat"):
            value = node.get(key) if isinstance(node, dict) else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not math.isfinite(value) or (key in SUMMED and value < 0) \
                    or (key == "lat" and abs(value) > 90) or (key == "lon" and abs(value) > 180):
                return True
    return False


@fuzz_settings(50)
@given(mutations=instance_mutations(), how=CORRUPTIONS, at=st.floats(0, 1))
def test_fuzzed_instances(mutations, how, at):
    data = base_instance()
    for kind, node, key, value in sorted(mutations, key=lambda m: m[0] == "top"):
        if kind == "node":
            data["nodes"][node][key] = value
        elif kind == "drop":
            data["nodes"][node].pop(key, None)
        elif kind == "edge":
            data["edges"].append({"source": key, "target": value})
        else:
            data[key] = value
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = write_case(tmp, base_model())
        inst = tmp / "instance.json"
        inst.write_bytes(corrupt(json.dumps(data, default=str).encode("utf-8"), how, at))
        out = tmp / "out"
        result = run(["solve", path, "-b", "heuristic", "-t", 20, "--out", out])
        check_outcome(result, out, (str(inst), str(path)))
        if how == "none" and must_refuse_instance(data):
            assert result.exit_code == 2, f"bad instance number accepted: {result.output}"


# -- plans --------------------------------------------------------------------------

HEADERS = st.sampled_from([
    ("code", "name", "lead_code", "lead_name"), ("code", "lead_code"), ("code", "area"),
    ("Code", "Area"), ("code", "name", "area"), ("kunta", "area"), ("code",), (),
])
ROW_CODES = st.one_of(st.sampled_from([*CODES, "1", "5", "999", "", " 002 "]),
                      st.text(max_size=4))


@st.composite
def plans(draw):
    """(header, rows, delimiter, encoding, corruption, position)."""
    header = draw(HEADERS)
    width = len(header)
    well_formed = draw(st.booleans())
    if well_formed and header and header[0].lower() == "code":
        leads = draw(st.lists(st.sampled_from(range(len(CODES))), min_size=len(CODES),
                              max_size=len(CODES)))
        by_name = draw(st.booleans())
        rows = []
        for i, j in enumerate(leads):
            label = NAMES[j] if by_name and "area" in [h.lower() for h in header] else CODES[j]
            cells = {"code": CODES[i], "name": NAMES[i], "lead_code": label,
                     "lead_name": NAMES[j], "area": label}
            rows.append([cells[h.lower()] for h in header])
    else:
        rows = draw(st.lists(st.lists(st.one_of(ROW_CODES, REFERENCES), min_size=0,
                                      max_size=width + 1), max_size=8))
    return (header, rows, draw(st.sampled_from([",", ";", "\t"])),
            draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])),
            draw(CORRUPTIONS), draw(st.floats(0, 1)), well_formed)


def plan_bytes(header, rows, delimiter, encoding) -> bytes:
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding, errors="replace")


@fuzz_settings(60)
@given(spec=plans(), warm=st.booleans())
def test_fuzzed_plans(spec, warm):
    header, rows, delimiter, encoding, how, at, well_formed = spec
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = write_case(tmp, base_model())
        plan = tmp / "plan.csv"
        data = plan_bytes(header, rows, delimiter, encoding)
        plan.write_bytes(data if how in ("none", "utf-16", "cp1252") else corrupt(data, how, at))
        out = tmp / "out"
        if warm:
            result = run(["solve", model, "--warm-start", plan, "-b", "highs", "--areas", 2,
                          "--out", out])
        else:
            result = run(["check", plan, "--model", model, "--out", out])
        check_outcome(result, out, (str(plan), str(model)))
        clean = how in ("none", "utf-16", "cp1252") and well_formed and header
        if clean and header[0].lower() == "code" and len(header) > 1:
            assert result.exit_code != 2, f"a well-formed plan was refused: {result.output}"
        if warm and result.exit_code in (0, 1):
            summary = strict_json((out / "summary.json").read_text(encoding="utf-8"))
            problem = bind(load_model(model).with_areas(2))
            try:
                usable = verify(problem, read_plan(plan, problem.instance)).ok
            except InputError:
                usable = True  # refused plans end in exit 2, never here
            if not usable:
                assert any("warm start" in n for n in summary["notes"]), summary["notes"]


# -- suites -------------------------------------------------------------------------

SUITE_MUTATION_KEYS = st.sampled_from(
    [("", k) for k in sorted(SUITE_KEYS)] + [("case", k) for k in sorted(CASE_KEYS)]
    + [("", "colour"), ("case", "colour")])


SUITE_TYPES = {"name": str, "description": str, "id": str, "model": str, "backends": list,
               "contiguity": list, "time_limit": float, "repeat": int, "areas": (int, list),
               "instances": list}
NAME_LISTS = st.lists(st.sampled_from(["highs", "heuristic", "cuts", "flow", "cbc", "x"]),
                      max_size=3)


@st.composite
def suite_mutations(draw):
    out = []
    for _ in range(draw(st.integers(1, 2))):
        where, key = draw(SUITE_MUTATION_KEYS)
        fitting = plausible(SUITE_TYPES.get(key, ()))
        if key in ("backends", "contiguity"):
            fitting = NAME_LISTS
        elif key == "model":
            fitting = st.sampled_from(["model.toml", "./model.toml", "instance.json", "nosuch"])
        out.append((where, key, draw(st.one_of(fitting, fitting, BAD_VALUES, st.just(DELETE)))))
    return out


BEST_KNOWN_VARIANTS = st.sampled_from([
    BEST_KNOWN, BEST_KNOWN + "six,nan,optimal,x,,\n", BEST_KNOWN + "six,abc,optimal,x,,\n",
    BEST_KNOWN + "six,1e400,optimal,x,-1,\n", "a,b\n1,2\n", "", "instance\nsix\n",
    BEST_KNOWN + "six,0,infeasible,x,,\n",
])


@fuzz_settings(30)
@given(mutations=suite_mutations(), how=CORRUPTIONS, at=st.floats(0, 1),
       known=BEST_KNOWN_VARIANTS)
def test_fuzzed_suites(mutations, how, at, known):
    suite = base_suite()
    for where, key, value in mutations:
        table = suite if where == "" else suite["instances"][0] \
            if isinstance(suite.get("instances"), list) and suite["instances"] \
            and isinstance(suite["instances"][0], dict) else None
        if table is not None:
            apply(table, (key,), value)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        write_case(tmp, base_model())
        path = tmp / "suite.toml"
        path.write_bytes(corrupt(tomli_w.dumps(suite).encode("utf-8"), how, at))
        best = tmp / "best.csv"
        best.write_text(known, encoding="utf-8")
        out = tmp / "out" / "results.csv"
        result = run(["bench", path, "--backends", "heuristic", "--repeat", 1,
                      "--time-limit", 10, "--out", out, "--best-known", best])
        check_outcome(result, out.parent, (str(path), str(best), str(tmp / "model.toml"),
                                           *strings_in(mutations)))
        if how == "none" and non_finite_inside(suite):
            assert result.exit_code == 2, f"a non-finite number was accepted: {result.output}"


# -- command-line options ---------------------------------------------------------

OPTION_TEXT = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "1e400", "0", "-1", "1", "0.5", "1e-300",
                     "", " ", "x", "4-100000000", "0-3", "3-2", "2..3", "99999999999999999999",
                     "5", "0.01", "2", "2-3", " 3 ", "cuts", "flow", "highs", "heuristic"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-5, 10).map(str), st.text(max_size=5))


@fuzz_settings(30)
@given(option=st.sampled_from(["--time-limit", "--gap", "--areas", "--contiguity",
                               "--backend", "check --areas"]),
       value=OPTION_TEXT)
def test_fuzzed_options(option, value):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = write_case(tmp, base_model())
        out = tmp / "out"
        if option.startswith("check"):
            plan = tmp / "plan.csv"
            plan.write_text("code,area\n" + "".join(f"{c},{c[-1] in '123'}\n" for c in CODES),
                            encoding="utf-8")
            option = "--areas"
            args = ["check", plan, "--model", model, "--out", out, option, value]
        else:
            args = ["solve", model, "--out", out, option, value]
            if option != "--backend":
                args += ["-b", "heuristic"]
            if option != "--time-limit":
                args += ["-t", 20]
        result = run(args)
        check_outcome(result, out, (option,))
        lowered = value.strip().lower()
        if option in ("--time-limit", "--gap") and lowered in ("nan", "inf", "-inf", "1e400"):
            assert result.exit_code == 2



# -- the newer commands: report, compare, finance, pareto, sweep (issue 18) ----------------

_BASE: dict[str, Path] = {}


def solved_base() -> Path:
    """The base model solved into a run directory once (kept for the session): the
    template every tampered run directory is copied from."""
    if "run" not in _BASE:
        tmp = Path(tempfile.mkdtemp(prefix="fuzz-base-"))
        model = write_case(tmp, base_model())
        r = run(["solve", model, "-b", "highs", "--areas", 2, "--out", tmp / "run", "-q"])
        assert r.exit_code == 0, r.output
        _BASE.update(run=tmp / "run", model=model, tmp=tmp)
    return _BASE["run"]


SUMMARY_FIELDS = st.sampled_from([*sorted(SUMMARY_SCHEMA), "colour"])
STATUS_WORDS = st.sampled_from(["optimal", "feasible-at-limit", "infeasible",
                                "no-solution-at-limit", "error", "proven", ""])
RUN_FILES = st.sampled_from(["assignment.csv", "summary.json", MANIFEST, "plan.csv"])


@st.composite
def tamperings(draw):
    """Ways a run directory is edited after the run: a summary key set (to a plausible or a
    broken value) or deleted, a file removed or corrupted, the plan replaced."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["set", "set", "set", "delete", "drop", "corrupt", "plan"]))
        if kind == "set":
            key = draw(SUMMARY_FIELDS)
            field = SUMMARY_SCHEMA.get(key)
            fitting = {"number": st.one_of(st.floats(-10, 1e6), st.sampled_from([0, 1, 0.5])),
                       "integer": st.integers(-2, 10**6),
                       "string": STATUS_WORDS if key in ("status", "interrupted") else
                       st.sampled_from(["solve", "check", "finance", "scenario", "x"])
                       }.get(field.kind if field else "", st.nothing())
            value = draw(st.one_of(fitting, fitting, fitting, st.none(), BAD_VALUES))
            out.append(("set", key, value))
        elif kind == "delete":
            out.append(("delete", draw(SUMMARY_FIELDS), None))
        elif kind == "drop":
            out.append(("drop", draw(RUN_FILES), None))
        elif kind == "corrupt":
            out.append(("corrupt", draw(RUN_FILES), (draw(CORRUPTIONS), draw(st.floats(0, 1)))))
        else:
            out.append(("plan", None, draw(st.lists(st.integers(0, len(CODES) - 1),
                                                    min_size=len(CODES), max_size=len(CODES)))))
    return out


def tamper(folder: Path, ops) -> None:
    for kind, key, value in ops:
        path = folder / (key or "")
        if kind in ("set", "delete"):
            try:
                data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict):
                continue
            if kind == "set":
                data[key] = value
            else:
                data.pop(key, None)
            (folder / "summary.json").write_text(json.dumps(data, default=str),
                                                 encoding="utf-8")
        elif kind == "drop":
            path.unlink(missing_ok=True)
        elif kind == "corrupt" and path.exists():
            try:
                path.write_bytes(corrupt(path.read_bytes(), *value))
            except UnicodeDecodeError:  # re-encoding bytes an earlier step broke: skip it
                continue
        elif kind == "plan":
            rows = "".join(f"{CODES[i]},{NAMES[i]},{CODES[j]},{NAMES[j]}\n"
                           for i, j in enumerate(value))
            (folder / "assignment.csv").write_text("code,name,lead_code,lead_name\n" + rows,
                                                   encoding="utf-8")


def certificate_holds(folder: Path) -> bool:
    """The oracle: what must be true of a run directory the report calls proven optimal."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    problem = bind(load_model(_BASE["model"]).with_areas(2))
    plan = read_plan(folder / "assignment.csv", problem.instance)
    obj = evaluate(problem, plan).objective
    bound, limit = summary.get("bound"), summary.get("gap_limit") or 0.0
    return (summary.get("kind") in ("solve", "scenario") and summary.get("status") == "optimal"
            and verify(problem, plan).ok and isinstance(bound, int | float)
            and bound <= obj + 1e-6 * max(1.0, abs(obj))
            and (obj - bound) / max(abs(obj), 1e-9) <= limit + 1e-6)


@fuzz_settings(30)
@given(ops=tamperings())
def test_fuzzed_run_directories_through_report(ops):
    """A tampered run directory: exit 0, 1 or 2 without traceback, one error line naming
    the file or key, and the report calls the plan proven optimal only when the plan
    verifies and the stated certificate holds for it."""
    base = solved_base()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "run"
        shutil.copytree(base, folder)
        tamper(folder, ops)
        result = run(["report", folder, "--quiet"])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in (0, 2), (result.exit_code, result.output)
        event(f"exit {result.exit_code}")
        TALLY[f"exit {result.exit_code}"] += 1
        if result.exit_code == 2:
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), lines
            assert not (folder / "report.html").exists()
            return
        text = (folder / "report.html").read_text(encoding="utf-8")
        title = text.split("<title>", 1)[1].split("</title>", 1)[0]
        if "proven optimal" in title:
            event("proven optimal")
            assert certificate_holds(folder), (ops, title)


@fuzz_settings(25)
@given(spec=plans(), command=st.sampled_from(["finance", "compare-a", "compare-b"]))
def test_fuzzed_plans_through_finance_and_compare(spec, command):
    header, rows, delimiter, encoding, how, at, _well_formed = spec
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = write_case(tmp, two_tier_model() if command == "finance" else base_model())
        plan = tmp / "plan.csv"
        data = plan_bytes(header, rows, delimiter, encoding)
        plan.write_bytes(data if how in ("none", "utf-16", "cp1252") else corrupt(data, how, at))
        other = tmp / "other.csv"
        other.write_text("code,area\n" + "".join(f"{c},{CODES[k // 3 * 3]}\n"
                                                  for k, c in enumerate(CODES)), "utf-8")
        out = tmp / "out"
        if command == "finance":
            result = run(["finance", plan, "--model", model, "--out", out])
        elif command == "compare-a":
            result = run(["compare", plan, other, "--model", model, "--out", out])
        else:
            result = run(["compare", other, plan, "--model", model, "--out", out, "--json"])
        check_outcome(result, out, (str(plan), str(model)))
        if result.exit_code == 0 and command == "compare-b":
            json.loads(result.stdout)  # --json is JSON only


USUAL_TERMS = st.sampled_from(["fixed", "travel", "cost", "total", "areas", "staffing"])
PARETO_OPTIONS = st.fixed_dictionaries({
    "--x": st.one_of(USUAL_TERMS, USUAL_TERMS, st.sampled_from([*PARETO_TERMS, "bogus"])),
    "--y": st.one_of(USUAL_TERMS, USUAL_TERMS, st.sampled_from([*PARETO_TERMS, "bogus"])),
    "--points": st.one_of(st.sampled_from(["2", "3", "5", "100"]),
                          st.sampled_from(["2", "3", "5", "100"]),
                          st.sampled_from(["101", "0", "-1", "nan", "99999999999999999999999"]),
                          OPTION_TEXT),
    "--areas": st.one_of(st.none(), st.none(), st.sampled_from(["2", "2-3", "1-6", "7", "0",
                                                                "max"])),
    "-t": st.one_of(st.none(), st.none(), st.sampled_from(["20", "nan", "0", "1e400", "-5"])),
})


@fuzz_settings(8)
@given(options=PARETO_OPTIONS, two_tier=st.booleans())
def test_fuzzed_pareto(options, two_tier):
    """Fronts of any two terms with odd counts and limits: exit 0/1/2, one error line; a
    written front is non-dominated, one plan per point."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = write_case(tmp, two_tier_model() if two_tier else base_model())
        out = tmp / "out"
        args = ["pareto", model, "--out", out, "-q", "-b", "highs"]
        if options["--x"] == options["--y"]:
            options = {**options, "--y": "travel" if options["--x"] != "travel" else "fixed"}
        for key, value in options.items():
            if value is not None:
                args += [key, value]
        result = run(args)
        check_outcome(result, out, (*tuple(options), "--x", "--y", str(model)))
        if result.exit_code == 0:
            rows = list(csv.DictReader((out / "pareto.csv").open(encoding="utf-8")))
            x, y = options["--x"], options["--y"]
            pts = [(float(r[x]), float(r[y])) for r in rows]
            assert all(a[0] < b[0] and a[1] > b[1] for a, b in itertools.pairwise(pts)), pts
            assert len(list((out / "plans").iterdir())) == len(rows)


SWEEP_KEYS = st.sampled_from(["areas.count", "floors.labour_force", "objective.travel_weight",
                              "description", "name", "caps.population", "solver.gap",
                              "nosuch.key", "areas", ""])
SWEEP_VALUES = st.one_of(st.sampled_from(["2", "3", "[2, 3]", "150", '"a b"', '"a_b"',
                                          '"a/b"', '"../x"', '"<b>"', "true", '"true"']),
                         st.sampled_from(['"max"', "1e9", "nan", "", ",", "[", "x" * 300]),
                         st.text(max_size=8))
SWEEP_KEYS = st.one_of(st.sampled_from(["areas.count", "description", "floors.labour_force"]),
                       SWEEP_KEYS)


GRIDS = st.lists(st.tuples(SWEEP_KEYS, st.lists(SWEEP_VALUES, min_size=1, max_size=3)),
                 min_size=1, max_size=2)


@fuzz_settings(5)
@given(sets=GRIDS)
def test_fuzzed_sweep_grids(sets):
    """Grids of odd keys and values, sequential: exit 0/1/2, one error line; every scenario
    in summary.csv, each in its own folder."""
    sweep_grid(sets, ["--sequential", "-b", "heuristic", "-t", 10])


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    """A real `dask scheduler` and `dask worker` (two single-threaded workers) for the long
    run's sweeps."""
    import socket
    import subprocess
    import sys
    import threading
    import time

    dask = Path(sys.executable).with_name("dask")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    sched = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port",
                              str(port), "--no-dashboard"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(sched.stderr), daemon=True).start()
    worker = subprocess.Popen([str(dask), "worker", address, "--nthreads", "1", "--nworkers",
                               "2", "--no-dashboard"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    end = time.monotonic() + 120
    while sum("Register worker" in ln for ln in lines) < 2:
        assert time.monotonic() < end, "the Dask workers did not start"
        time.sleep(0.1)
    try:
        yield address
    finally:
        for p in (worker, sched):
            p.terminate()
            p.wait(timeout=60)


@pytest.mark.skipif(not LONG, reason="make fuzz-long runs the sweeps on a real cluster")
@fuzz_settings(3)
@given(sets=GRIDS)
def test_fuzzed_sweep_grids_on_a_real_cluster(dask_scheduler, sets):
    """The same grids on a real `dask scheduler` with two `dask worker` processes."""
    sweep_grid(sets, ["--scheduler", dask_scheduler, "-b", "highs", "-t", 10])


def sweep_grid(sets, options: list) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = write_case(tmp, base_model())
        out = tmp / "out"
        args = ["sweep", model, *options, "--out", out, "-q"]
        for key, values in sets:
            args += ["--set", f"{key}={','.join(values)}"]
        result = run(args)
        check_outcome(result, out, ("--set", str(model), *(k for k, _ in sets),
                                    *(v for _, vs in sets for v in vs)))
        if result.exit_code in (0, 1):
            rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
            folders = [p for p in out.iterdir() if p.is_dir()]
            assert len({r["id"] for r in rows}) == len(rows) == len(folders)


NAME_TEXT = st.one_of(
    st.sampled_from(["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>",
                     "a$b$c", "$\\frac{", "\" onmouseover=\"x", "O'Brien & <Sons>", "\u202e",
                     "x" * 200, "ä" * 50]),
    st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
            max_size=30),
    st.text(min_size=1, max_size=30))


@fuzz_settings(12)
@given(names=st.lists(NAME_TEXT, min_size=len(CODES), max_size=len(CODES)),
       region=NAME_TEXT)
def test_fuzzed_hostile_names_through_check_and_report(names, region):
    """Any municipality and region names: check and report end cleanly, and no name with
    markup reaches report.html unescaped."""
    instance = base_instance()
    for node, name in zip(instance["nodes"], names, strict=True):
        node["name"] = name
    instance["graph"]["name"] = region
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = write_case(tmp, base_model(), instance)
        plan = tmp / "plan.csv"
        plan.write_text("code,area\n" + "".join(f"{c},{CODES[k // 3 * 3]}\n"
                                                 for k, c in enumerate(CODES)), "utf-8")
        out = tmp / "out"
        result = run(["check", plan, "--model", model, "--areas", 2, "--out", out])
        check_outcome(result, out, (str(tmp / "instance.json"), str(model)))
        if result.exit_code == 2:
            return
        report = run(["report", out, "--quiet"])
        assert report.exit_code == 0, report.output
        text = (out / "report.html").read_text(encoding="utf-8")
        for name in (*names, region):  # markup of a name's own (not "<" that any page has)
            if re.search(r"<[A-Za-z/!?][^<>]*>", name) and len(name) >= 6:
                assert name not in text, name
