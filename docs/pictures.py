"""Make the README's pictures from the demo: `make docs` runs this.

Solves the bundled North Ostrobothnia model as `make demo` does, copies its
printed map to docs/map.png, photographs its report (compared with the 2025
areas) in headless Chromium to docs/report.png, and records in
docs/pictures.json what the pictures show, so that tests/test_docs.py fails when
they no longer match the demo's result.

    python docs/pictures.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/pohjois-pohjanmaa.toml"
PLAN_2025 = "instances/finland/employment_areas_2025.csv"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")


PICTURES = ("map.png", "report.png")


def shown(summary: dict) -> dict:
    """What the pictures show, from a run's summary.json: the status, the cost and the
    leads (the figures a test compares with a fresh solve)."""
    return {"model": MODEL, "status": summary["status"],
            "objective": round(summary["objective"], 2),
            "leads": sorted(a["lead_name"] for a in summary["areas"])}


def fingerprints(folder: Path) -> dict[str, str]:
    """The pictures' SHA-256, so that pictures.json cannot be renewed without them."""
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in PICTURES}


def photograph(page: Path, target: Path) -> None:
    """A screenshot of a local page's top, the width of a laptop screen."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="optimizer-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1500"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.get(page.resolve().as_uri())
        driver.save_screenshot(str(target))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "pohjois-pohjanmaa"
        for args in (["solve", MODEL, "--out", str(run), "--quiet"],
                     ["report", str(run), "--reference", PLAN_2025, "--quiet"]):
            subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=ROOT, check=True)
        shutil.copyfile(run / "map.png", ROOT / "docs" / "map.png")
        photograph(run / "report.html", ROOT / "docs" / "report.png")
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    record = {**shown(summary), "sha256": fingerprints(ROOT / "docs")}
    (ROOT / "docs" / "pictures.json").write_text(
        json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("docs/map.png, docs/report.png and docs/pictures.json written")


if __name__ == "__main__":
    main()
