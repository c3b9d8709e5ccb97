"""The documentation stays true: the README's pictures and walkthrough show what the demo
produces today, its timings are the committed benchmark results, and it speaks to users
(no internal references)."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT

README = ROOT / "README.md"
PICTURES = ROOT / "docs" / "pictures.json"
PLAN_2025 = "instances/finland/employment_areas_2025.csv"


def flat(text: str) -> str:
    """Text with Markdown quote marks and emphasis removed and runs of space made one."""
    text = re.sub(r"^\s*>\s?", "", text, flags=re.M).replace("**", "")
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo as `make demo` runs it: a fresh solve and its report beside the 2025 areas
    (as processes, the way a planner runs them); its summary and the report's headline."""
    recorded = json.loads(PICTURES.read_text(encoding="utf-8"))
    run = tmp_path_factory.mktemp("demo") / "pohjois-pohjanmaa"
    for args in (["solve", recorded["model"], "--out", str(run), "--quiet"],
                 ["report", str(run), "--reference", PLAN_2025, "--quiet"]):
        done = subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
    page = (run / "report.html").read_text(encoding="utf-8")
    block = re.search(r'<section id="headline"[^>]*>(.*?)</section>', page, re.S)
    assert block, "the report has no headline"
    lines = [flat(html.unescape(re.sub(r"<[^>]+>", "", p)))
             for p in re.findall(r"<p>(.*?)</p>", block.group(1), re.S)]
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    return recorded, summary, lines


def test_pictures_show_the_demo_result(demo):
    """docs/map.png and docs/report.png were made from the demo's current result: the
    status, cost and leads recorded with them are a fresh solve's (else: `make docs`)."""
    recorded, summary, _ = demo
    assert recorded["status"] == summary["status"] == "optimal"
    assert recorded["objective"] == pytest.approx(summary["objective"], abs=0.01), \
        "the demo's optimum changed: run `make docs`"
    assert recorded["leads"] == sorted(a["lead_name"] for a in summary["areas"]), \
        "the demo's leads changed: run `make docs`"


def test_pictures_are_the_ones_recorded():
    """pictures.json was written with these very pictures (its fingerprints match)."""
    recorded = json.loads(PICTURES.read_text(encoding="utf-8"))
    assert set(recorded["sha256"]) == {"map.png", "report.png"}
    for name, digest in recorded["sha256"].items():
        assert hashlib.sha256((ROOT / "docs" / name).read_bytes()).hexdigest() == digest, \
            f"docs/{name} is not the picture pictures.json describes: run `make docs`"
    for name in recorded["sha256"]:
        assert f"docs/{name}" in README.read_text(encoding="utf-8")


def test_readme_quotes_the_demo_headline(demo):
    """The walkthrough quotes the report's headline for the demo against the 2025 areas,
    word for word as the report prints it today."""
    _, _, lines = demo
    assert len(lines) >= 4, lines  # the proposal, against 2025, payers, why this count
    text = flat(README.read_text(encoding="utf-8"))
    for line in lines:
        assert line in text, f"the README's walkthrough no longer quotes: {line}"


def test_readme_has_no_internal_references():
    """A user's document: no issue numbers, no stale estimates, no notes to ourselves."""
    text = README.read_text(encoding="utf-8")
    for pattern in (r"\bissues? #?\d", r"~\s*\d+\s*min", r"\bTODO\b", r"\bFIXME\b",
                    r"\bthe issue\b"):
        found = re.search(pattern, text, re.I)
        line = text[:found.start()].count("\n") + 1 if found else 0
        assert found is None, f"README line {line}: {found.group(0)!r}"


def benchmark_rows():
    """The README's table rows that cite a committed benchmark file:
    | `instance` | municipalities | areas | back end | status | median | published | `file` |"""
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"`benchmarks/results/[\w.-]+\.csv`", cells[-1]):
            rows.append(cells)
    return rows


def test_readme_timings_are_the_committed_benchmark_results():
    """Every time the README's speed table shows is the median in the benchmark file it
    cites (`make bench-finland` and friends renew both), for that instance and back end."""
    rows = benchmark_rows()
    assert len(rows) >= 3
    for cells in rows:
        instance, n, k, backend, status, median = (c.strip("`") for c in cells[:6])
        with open(ROOT / cells[-1].strip("`"), newline="", encoding="utf-8") as fh:
            found = [r for r in csv.DictReader(fh)
                     if r["instance"] == instance and r["backend"] == backend]
        assert found, f"{cells[-1]} has no run of {instance} with {backend}"
        published = cells[6]
        shown = {(r["n"], r["k"], r["status"], f"{float(r['time_median']):.1f} s",
                  f"{r['published_time']} s" if r.get("published_time") else "–")
                 for r in found}
        assert (n, k, status, median, published) in shown, (cells, shown)
