"""Print the ablation table of benchmarks/README.md from the CSVs of `make bench-levers`.

One line per instance, one column per set of levers switched off (the CSV's
`levers_off`): wall seconds of the median run, `*` when the run was not proven
(optimal or infeasible) within its limit. Usage:
    python benchmarks/render_ablation.py benchmarks/results/ablation-*.csv
"""

import csv
import sys

ORDER = ("none", "root", "fixing", "incumbent", "lagrange", "fixing,incumbent,lagrange,root")
LABEL = {"none": "all on", "fixing,incumbent,lagrange,root": "all off"}


def main(paths: list[str]) -> None:
    cells: dict[tuple[str, str], str] = {}
    sizes: dict[str, tuple[str, str]] = {}
    offs: set[str] = set()
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                off = r["levers_off"]
                offs.add(off)
                proven = r["status"] in ("optimal", "infeasible")
                cells[(r["instance"], off)] = (f"{float(r['time_median']):.1f}"
                                               + ("" if proven else "*"))
                sizes[r["instance"]] = (r["n"], r["k"])
    columns = [o for o in ORDER if o in offs] + sorted(offs - set(ORDER))
    print("| instance | n | k | " + " | ".join(LABEL.get(o, f"{o} off") for o in columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for inst, (n, k) in sizes.items():
        row = [cells.get((inst, o), "–") for o in columns]
        print(f"| {inst} | {n} | {k} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
