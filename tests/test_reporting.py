"""What planners open: plan.csv, areas.gpkg, map.html, the report, the terminal and the PNG.

Hand-checkable cases on tiny instances, and one real solve of North
Ostrobothnia (4 areas) shared by the checks that need geometry. The browser
checks of the same files are in test_browser.py.
"""

from __future__ import annotations

import io
import json
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT, line_instance

from optimizer.cli import cli
from optimizer.cli.progress import ProgressLine
from optimizer.data.plan import Plan
from optimizer.data.planfile import read_plan
from optimizer.decisions.compare import compare
from optimizer.economics.cents import money
from optimizer.economics.settle import settle
from optimizer.errors import InputError
from optimizer.model.binding import bind
from optimizer.model.evaluate import evaluate
from optimizer.model.parse import load_model
from optimizer.output.map_html import PlanLayer, map_html
from optimizer.output.report_html import report_html
from optimizer.output.run_dir import load_run
from optimizer.output.text import area_table, members_list, plan_title, status_words
from optimizer.solve import solve
from optimizer.staging import MANIFEST

MODEL = ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"
SEED = ROOT / "models" / "pohjois-pohjanmaa.toml"
SCENARIO = "models/pohjois-pohjanmaa-4-5-areas.toml"  # the earlier reading: 4-5 areas in all
PLAN_2025 = ROOT / "instances" / "finland" / "employment_areas_2025.csv"


@pytest.fixture(scope="module")
def north():
    """The bundled model at 4 areas, solved once; its outputs written by the CLI."""
    problem = bind(load_model(MODEL).with_areas(4))
    return problem, solve(problem)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "solve"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        result = CliRunner().invoke(cli, ["solve", SCENARIO, "-k", "4",
                                          "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


# -- plan.csv ------------------------------------------------------------------


def test_plan_csv_reads_back_as_the_same_plan(tmp_path):
    inst = line_instance([0, 1, 2, 3, 4], {"population": [5, 1, 1, 1, 9]})
    plan = Plan.from_leads(inst, np.array([0, 0, 0, 4, 4]))
    text = plan.to_area_csv()
    assert text.splitlines() == ["code,area", "0,0", "1,0", "2,0", "3,4", "4,4"]
    (tmp_path / "plan.csv").write_text(text, encoding="utf-8")
    again = read_plan(tmp_path / "plan.csv", inst)
    assert again.lead.tolist() == plan.lead.tolist()
    assert again.notes == ()  # every area label is its lead's code: nothing inferred


def test_plan_csv_of_a_solve_matches_its_assignment(run_dir):
    inst = bind(load_model(MODEL)).instance
    a = read_plan(run_dir / "assignment.csv", inst)
    b = read_plan(run_dir / "plan.csv", inst)
    assert a.lead.tolist() == b.lead.tolist()


# -- areas.gpkg ----------------------------------------------------------------


def test_geopackage_has_areas_and_municipalities(run_dir):
    import geopandas as gpd
    import pyogrio

    assert sorted(name for name, _ in pyogrio.list_layers(run_dir / "areas.gpkg")) == [
        "areas", "municipalities"]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    areas = gpd.read_file(run_dir / "areas.gpkg", layer="areas")
    munis = gpd.read_file(run_dir / "areas.gpkg", layer="municipalities")
    assert len(areas) == len(summary["areas"]) == 4
    assert len(munis) == 30 and munis["code"].is_unique
    assert areas.crs == munis.crs and areas.crs.to_epsg() == 3067
    lead_of = {c: a["lead_code"] for a in summary["areas"] for c in a["members"]}
    assert dict(zip(munis["code"], munis["lead_code"], strict=True)) == lead_of
    # the areas' totals are the sums of their municipalities
    sums = munis.groupby("lead_code")["labour_force"].sum()
    for row in areas.itertuples():
        assert row.labour_force == pytest.approx(sums[row.lead_code])
    assert set(munis.loc[munis["is_lead"], "code"]) == set(areas["lead_code"])
    assert (munis.loc[munis["is_lead"], "km_to_lead"] == 0).all()


# -- map.html ------------------------------------------------------------------


def test_map_html_is_self_contained(run_dir):
    text = (run_dir / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=", text)
    assert "url(images/" not in text  # Leaflet's images are inlined as data URIs
    assert "Leaflet 1.9" in text  # Leaflet itself is in the file
    assert text.count('"municipality":') == 30  # one tooltip record per municipality


def test_map_html_of_two_plans_has_both_layers(north):
    problem, sol = north
    actual = read_plan(PLAN_2025, problem.instance)
    cmp = compare(problem, sol.plan, actual, "2025")
    text = map_html([PlanLayer("optimum", sol.plan, sol.figures,
                               {m.index: m.name for m in cmp.moves}),
                     PlanLayer("2025 areas", actual, evaluate(problem, actual))],
                    title="<both & plans>")
    assert text.count('"municipality":') == 60
    assert "&lt;both &amp; plans&gt;" in text and "<both & plans>" not in text
    assert 0 < len(cmp.moves) < 30
    assert f"moved municipalities ({len(cmp.moves)})" in text


def test_no_map_without_geometry():
    inst = line_instance([0, 1, 2], {"population": [1, 1, 1]})
    from conftest import model_for

    problem = bind(model_for(1), inst)
    plan = Plan.from_leads(inst, np.array([0, 0, 0]))
    assert map_html([PlanLayer("p", plan, evaluate(problem, plan))], title="t") is None


# -- comparison ----------------------------------------------------------------


def test_moves_are_lead_changes_and_matching_names_the_areas():
    """Plan {a,b,c | d,e} (leads a, d) against reference {a,b | c,d,e} (leads b, e): every
    municipality whose lead changes moves; the areas are matched by shared population."""
    from conftest import model_for

    inst = line_instance([0, 1, 2, 3, 4], {"population": [10, 10, 1, 10, 10]})
    problem = bind(model_for(2), inst)
    plan = Plan.from_leads(inst, np.array([0, 0, 0, 3, 3]))
    reference = Plan.from_leads(inst, np.array([1, 1, 4, 4, 4]))
    cmp = compare(problem, plan, reference, "ref")
    assert cmp.matched == {"0": "1", "3": "4"}
    assert [(m.name, m.before, m.after) for m in cmp.moves] == [
        ("a", "b (1)", "a (0)"), ("b", "b (1)", "a (0)"), ("c", "e (4)", "a (0)"),
        ("d", "e (4)", "d (3)"), ("e", "e (4)", "d (3)")]
    assert compare(problem, plan, plan, "same").moves == ()


# -- the report ----------------------------------------------------------------


def test_report_of_a_run_shows_certificate_areas_and_map(run_dir):
    run = load_run(run_dir)
    assert run.verification.ok and run.finance is None
    text = report_html(run)
    assert "proven optimal" in text and "every rule holds" in text
    assert text.count('<tr class="total">') == 1
    assert 'srcdoc="' in text and "Money" not in text
    assert not re.search(r"<script[^>]+src=", text)


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """The bundled two-tier model solved by the CLI into a run directory."""
    out = tmp_path_factory.mktemp("seed") / "seed"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        result = CliRunner().invoke(cli, ["solve", str(SEED), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def test_report_money_is_recomputed_not_read_from_finance_csv(seed_run, tmp_path):
    """The report shows who pays what from the model and the plan: an edited finance.csv
    in the folder changes nothing, and the table's total row is the sum of its rows."""
    out = tmp_path / "seed"
    shutil.copytree(seed_run, out)
    (out / "finance.csv").write_text("code,name,net_eur\n564,Oulu,9999999.99\n",
                                     encoding="utf-8")
    run = load_run(out)
    fin = settle(run.problem, run.plan)
    text = report_html(run)
    section = text[text.index('<section id="finance">'):]
    section = section[:section.index("</section>")]
    assert "9,999,999.99" not in section
    section = section[section.index("<h3>Per municipality"):]
    section = section[:section.index("</table>")]  # who pays what; other tables follow
    assert section.count("<tr>") == run.problem.n + 1  # the head and a row each
    net = [int(m.net) for m in fin.municipalities]
    assert f'<td class="num">{money(sum(net), decimals=True)}</td></tr></tbody>' in section
    oulu = next(m for m in fin.municipalities if m.name == "Oulu")
    assert f'<td class="num">{money(oulu.subsidy, decimals=True)}</td>' in section


def html_tables(page: str, section: str) -> list[tuple[list[str], list[list[str]], list[str]]]:
    """(head, rows, total row) of every table in a report's section, cells as text."""
    part = page[page.index(f'<section id="{section}"'):]
    part = part[:part.index("</section>")]

    def cells(row: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", c).strip()
                for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]

    out = []
    for t in re.findall(r"<table>(.*?)</table>", part, re.S):
        head = cells(re.search(r"<thead>(.*?)</thead>", t, re.S).group(1))
        body = re.findall(r"<tr[^>]*>(.*?)</tr>", re.search(r"<tbody>(.*?)</tbody>", t,
                                                            re.S).group(1), re.S)
        total = [cells(r) for r in re.findall(r'<tr class="total">(.*?)</tr>', t, re.S)]
        rows = [cells(r) for r in body][:len(body) - len(total)]
        out.append((head, rows, total[0] if total else []))
    return out


def amount(cell: str) -> float | None:
    """The number a cell starts with (1,234.50; -5; +7), None for a word or a blank."""
    found = re.match(r"[+−-]?[\d,]+(\.\d+)?", cell.replace("\u2212", "-"))
    return float(found.group(0).replace(",", "")) if found else None


def test_report_totals_add_up(seed_run):
    """Every total row of the report is the sum of the rows above it, column by column (the
    organiser's common work is a row, so the areas add up to the plan's cost), and the
    areas' total is the objective."""
    run = load_run(seed_run)
    page = report_html(run)
    tables = html_tables(page, "areas") + html_tables(page, "finance")
    checked = 0
    for head, rows, total in tables:
        for k, cell in enumerate(total):
            if k == 0 or amount(cell) is None:
                continue
            column = [amount(r[k]) for r in rows if k < len(r)]
            digits = max((len(c.split(".")[1]) for r in rows if k < len(r)
                          for c in [r[k].split(" ")[0]] if "." in c), default=0)
            tolerance = len(rows) * 0.5 * 10 ** -digits + 1e-9  # each cell rounded
            assert sum(v or 0.0 for v in column) == pytest.approx(amount(cell), abs=tolerance), \
                (head[k], column, cell)
            checked += 1
    assert checked >= 10
    areas_head, _, areas_total = tables[0]
    cost = areas_total[areas_head.index("cost (€/yr)")]
    assert amount(cost) == pytest.approx(run.figures.objective, abs=0.5)


def test_report_refuses_a_run_the_model_no_longer_reproduces(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    summary["objective"] *= 0.9
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(InputError, match="the model changed since the run"):
        load_run(copy)


def test_report_command_bad_input_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "no summary.json" in result.stderr
    assert list((tmp_path / "empty").iterdir()) == []


def test_report_of_a_model_solves_and_writes_everything(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "pp"
    result = CliRunner().invoke(cli, ["report", SCENARIO, "-k", "4",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {"report.html", "summary.json", "map.html", "plan.csv"} <= {
        p.name for p in out.iterdir()}
    assert "proven optimal" in (out / "report.html").read_text(encoding="utf-8")


# -- the terminal and the titles --------------------------------------------------


def test_terminal_tables_fit_100_columns_and_sort_members(north):
    problem, sol = north
    actual = read_plan(PLAN_2025, problem.instance)
    for figs in (sol.figures, evaluate(problem, actual)):
        text = area_table(figs) + "\n" + members_list(figs)
        assert max(map(len, text.splitlines())) <= 100
        assert "€" in area_table(figs) and "km" in area_table(figs)
        for line in members_list(figs).replace("\n    ", " ").splitlines():
            names = line.split(": ", 1)[1].split(", ")
            assert names == sorted(names)
    assert "Kajaani (lead outside the instance)" in members_list(evaluate(problem, actual))


@pytest.mark.parametrize("status", ["optimal", "feasible-at-limit", "infeasible",
                                    "no-solution-at-limit", "error"])
@pytest.mark.parametrize("backend", ["highs", "heuristic"])
def test_only_an_optimal_status_is_called_optimal(status, backend):
    words = status_words(status, 0.05, backend)
    assert ("proven optimal" in words and "not" not in words) == (status == "optimal")


def test_title_names_the_region_in_words(north):
    problem, _ = north
    title = plan_title(problem.instance, 4, status_words("optimal"), "model x")
    assert title == "Pohjois-Pohjanmaa: 4 areas, proven optimal\nmodel x"


# -- the static map's labels -------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_labels_never_overlap(seed):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from shapely.geometry import box

    from optimizer.output.map_png import _OFFSETS, place_labels

    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    fig.canvas.draw()
    pts = rng.uniform(1, 9, size=(60, 2))
    left, right = box(0, 0, 5, 10), box(5, 0, 10, 10)  # each name stays in its half
    drawn = place_labels(ax, [(x, y, f"Municipality {k}", {"fontsize": 7}, _OFFSETS,
                               left if x < 5 else right) for k, (x, y) in enumerate(pts)], [])
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == drawn and 0 < drawn < 60  # crowded: some names must give way
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    to_data = ax.transData.inverted()
    for t, b in zip(ax.texts, boxes, strict=True):
        (x0, _), (x1, _) = to_data.transform([[b.x0, b.y0], [b.x1, b.y1]])
        side = t.xy[0] < 5
        assert (x1 <= 5 + 1e-9) if side else (x0 >= 5 - 1e-9)
    plt.close(fig)


# -- progress --------------------------------------------------------------------


def _console(terminal: bool):
    from rich.console import Console

    buf = io.StringIO()
    return buf, Console(file=buf, force_terminal=terminal, width=100)


def test_progress_line_on_a_terminal_and_plain_elsewhere():
    buf, console = _console(True)
    with ProgressLine(True, console=console, unit="configurations") as say:
        say("NE · highs · cuts")
        say.done(3)
    assert "NE · highs · cuts" in buf.getvalue()
    buf, console = _console(False)
    with ProgressLine(True, console=console) as say:
        say("round 1: [highs]")
    assert buf.getvalue() == "round 1: [highs]\n"  # one plain line, markup left alone
    buf, console = _console(True)
    with ProgressLine(False, console=console) as say:
        say("anything")
        say.done(1)
    assert buf.getvalue() == ""


def test_quiet_and_json_solves_print_no_progress(monkeypatch):
    monkeypatch.chdir(ROOT)
    for flag in ("--quiet", "--json"):
        result = CliRunner().invoke(cli, ["solve", SCENARIO, "-k", "4",
                                          flag])
        assert result.exit_code == 0 and result.stderr == "", (flag, result.stderr)


def test_report_of_an_infeasible_model_says_so_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "lappi"
    result = CliRunner().invoke(cli, ["report", "benchmarks/models/finland/lappi.toml",
                                      "-k", "4", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "report.html", "summary.json"]
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "Lappi: infeasible" in text and "srcdoc" not in text


def test_continuing_areas_keep_their_colour_across_the_panels():
    from optimizer.output.map_png import matched_colours, plan_colours

    inst = line_instance([0, 1, 2, 3, 4, 5], {"population": [9, 1, 1, 9, 1, 1]})
    plan = Plan.from_leads(inst, np.array([0, 0, 0, 3, 3, 3]))
    reference = Plan.from_leads(inst, np.array([1, 1, 1, 1, 5, 5]))
    colours = plan_colours(plan)
    ref = matched_colours(colours, {"1": "0", "5": "3"}, reference)
    assert ref["1"] == colours["0"] and ref["5"] == colours["3"]
    assert len(set(colours.values())) == 2


def test_the_sea_makes_islands_islands():
    """Hailuoto is land, the strait between it and Oulunsalo is sea (the land mask the
    printed map paints the sea from)."""
    from global_land_mask import globe

    assert globe.is_land(65.03, 24.73)       # Hailuoto
    assert not globe.is_land(65.05, 25.05)   # the strait, about 7 km wide
    assert globe.is_land(64.93, 25.40)       # Kempele, on the mainland


def test_map_html_has_a_title(tmp_path):
    inst_problem = bind(load_model(MODEL).with_areas(4))
    sol = solve(inst_problem)
    text = map_html([PlanLayer("plan", sol.plan, sol.figures)], title="A <plan>\nsecond line")
    assert "<title>A &lt;plan&gt;</title>" in text


def test_a_count_not_solved_to_its_end_is_stated_as_what_is_proven():
    """'Why this count' gives a count's own cost only when that count was proven; a count
    pruned against a cheaper plan is 'at least' its bound's excess, and one whose bound
    lies below the chosen plan is 'not settled' (and the choice is then not called the
    cheapest the rules allow)."""
    from optimizer.output.report_tables import count_table, headline

    problem = bind(load_model(ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"))
    figs = evaluate(problem, Plan.from_leads(problem.instance, np.arange(problem.n)))
    k, best = len(figs.areas), figs.objective
    proven = {"areas": k + 1, "status": "optimal", "objective": best + 1000.0,
              "bound": best + 1000.0}
    pruned = {"areas": k + 2, "status": "feasible", "objective": best + 9000.0,
              "bound": best + 250.0}
    open_ = {"areas": k + 3, "status": "feasible", "objective": best + 50.0,
             "bound": best - 500.0}
    mine = {"areas": k, "status": "optimal", "objective": best, "bound": best}
    line = headline(problem, figs, None, None, None, [mine, proven, pruned])[-1]
    assert f"{k + 1} areas +1,000 €/yr" in line and f"{k + 2} areas at least +250 €/yr" in line
    assert "the cheapest count the rules allow" in line and "9,000" not in line
    line = headline(problem, figs, None, None, None, [mine, proven, open_])[-1]
    assert f"{k + 3} areas not settled" in line and "not every count is settled" in line
    cells = re.findall(r"<td[^>]*>(.*?)</td>", str(count_table([mine, proven, pruned], False)))
    assert "the cheapest" in cells and "at least 250" in cells and "1,000" in cells
