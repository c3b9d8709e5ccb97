"""Print the `optimizer bench` CSVs given as arguments as one Markdown table.

One table for the instances with contiguity, one for those without; one line
per instance, one column per back end × formulation (time and
outcome), then the best proven objective beside the best known value and the
fastest proven time beside the published one. benchmarks/README.md's
"Latest results" are made with it:
    python benchmarks/render_results.py benchmarks/results/literature-*.csv
"""

import csv
import sys


def cell(r: dict) -> str:
    t = float(r["time_median"])
    if r["status"] == "optimal":
        return f"{t:,.1f}"
    if r["status"] == "infeasible":
        return f"{t:,.1f} infeasible"
    if r["status"] == "feasible-at-limit":
        return f"limit, gap {float(r['gap']):.1%}" if r["gap"] else "limit"
    if r["status"] == "no-solution-at-limit":
        return "limit, no plan"
    return r["status"]


def known(r: dict) -> str:
    if not r["best_known"]:
        return r["best_status"] or "–"
    value = f"{float(r['best_known']):,.2f}"
    return {"bound": f"bound {value}", "published": f"{value} (pub.)"}.get(r["best_status"], value)


def main(paths: list[str]) -> None:
    rows = []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            rows += csv.DictReader(fh)
    with_contiguity = [r for r in rows if r["formulation"] != "none"]
    for part in (with_contiguity, [r for r in rows if r["formulation"] == "none"]):
        if part:
            render(part)
            print()


def render(rows: list[dict]) -> None:
    configs = list(dict.fromkeys((r["backend"], r["formulation"]) for r in rows))
    cases = list(dict.fromkeys(r["instance"] for r in rows))
    head = ["instance", "n", "k", *(f"{b} {f} (s)" for b, f in configs),
            "our optimum", "best known", "published (s)", "fastest ours/pub"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for case in cases:
        mine = {(r["backend"], r["formulation"]): r for r in rows if r["instance"] == case}
        first = next(iter(mine.values()))
        proven = [r for r in mine.values() if r["status"] == "optimal"]
        best = min((float(r["objective"]) for r in proven), default=None)
        fastest = min((float(r["time_median"]) for r in mine.values()
                       if r["status"] in ("optimal", "infeasible")), default=None)
        pub = float(first["published_time"]) if first["published_time"] else None
        line = [case, first["n"], first["k"],
                *(cell(mine[c]) if c in mine else "–" for c in configs),
                f"{best:,.2f}" if best is not None else
                ("infeasible" if any(r["status"] == "infeasible" for r in mine.values())
                 else "–"),
                known(first),
                f"{pub:,.2f}" if pub else "–",
                f"{fastest / pub:,.1f}×" if fastest is not None and pub else "–"]
        print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
