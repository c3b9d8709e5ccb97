"""The report and map.html in a real headless browser (Debian's Chromium via chromedriver).

Each page is loaded from disk with the network unused: the test asserts that
the map and the tables render (element counts, a tooltip on hover), that the
browser logged no error, and that every request the page made was for a file
or data URI. Screenshots are kept in out/test-artifacts/ for a person to look at.
`make test` installs the browser when it is missing (`make browser`); without
it this file fails, it does not skip.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimizer.cli import cli

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/pohjois-pohjanmaa-4-5-areas.toml"
PLAN_2025 = "instances/finland/employment_areas_2025.csv"
ARTIFACTS = ROOT / "out" / "test-artifacts"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")


def _binary(*names: str) -> str | None:
    return next((p for n in names if (p := shutil.which(n))), None)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium under chromedriver, logging console and network events."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = _binary("chromium", "chromium-browser")
    driver_path = _binary("chromedriver")
    if chromium is None or driver_path is None:
        pytest.fail("headless browser missing: run `make browser` (as root: apt-get install -y "
                    "chromium chromium-driver); the report's browser test cannot run without it")
    profile = tempfile.mkdtemp(prefix="optimizer-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2200"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _invoke(args) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory, monkeypatch_module):
    """A solve (4 areas) with its report against the 2025 areas, and the 2025 areas checked."""
    base = tmp_path_factory.mktemp("browser")
    monkeypatch_module.chdir(ROOT)
    _invoke(["solve", MODEL, "--areas", "4", "--out", base / "solve", "--quiet"])
    _invoke(["report", base / "solve", "--reference", PLAN_2025])
    _invoke(["check", PLAN_2025, "--model", MODEL, "--out", base / "check"])
    _invoke(["report", base / "check"])
    return base


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _load(driver, path: Path):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # start each page with empty logs
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def _frame_ready(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive"))


def _problems(driver) -> list[str]:
    """Console errors and any request for something other than a file or data URI."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if not url.startswith(("file:", "data:", "about:", "chrome:", "chrome-untrusted:")):
                errors.append(f"network request: {url[:120]}")
    return errors


TOPMOST = """
return Array.from(document.querySelectorAll(arguments[0])).find(function (el) {
  var r = el.getBoundingClientRect();
  return r.width > 0 && document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el;
});
"""
"""The first element of a selector that is itself what lies under its centre (a moved
municipality's red outline is drawn on top of its neighbours)."""


HIDE_OVERLAY = """
var name = arguments[0];
document.querySelectorAll('.leaflet-control-layers-overlays label').forEach(function (l) {
  var box = l.querySelector('input');
  if (l.textContent.indexOf(name) >= 0 && box.checked) { box.click(); }
});
"""
"""Switch off the map's overlay whose name holds the argument (the layer control's box)."""


def _hover_tooltip(driver, selector: str) -> str:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    target = WebDriverWait(driver, 10).until(lambda d: d.execute_script(TOPMOST, selector),
                                             f"no {selector} lies on top at its centre")
    ActionChains(driver).move_to_element(target).perform()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip"))
    return driver.find_element(By.CSS_SELECTOR, ".leaflet-tooltip").text


def _screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), path
    assert path.stat().st_size > 20_000
    return path


def test_report_renders_map_tables_and_comparison_offline(browser, runs):
    from selenium.webdriver.common.by import By

    summary = json.loads((runs / "solve" / "summary.json").read_text(encoding="utf-8"))
    _load(browser, runs / "solve" / "report.html")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "proven optimal" in browser.find_element(By.ID, "title").text
    assert "every rule holds" in text
    rows = browser.find_elements(By.CSS_SELECTOR, "#areas table tbody tr")
    assert len(rows) == len(summary["areas"]) + 1  # one per area and the total
    moved = browser.find_elements(By.CSS_SELECTOR, "#comparison table")[0]
    n_moved = len(moved.find_elements(By.CSS_SELECTOR, "tbody tr"))
    assert 0 < n_moved < 30
    assert f"{n_moved} municipalities change lead" in text
    assert "breaks 3 rules" in text  # the 2025 areas inside the region, as the check says
    assert len(browser.find_elements(By.CSS_SELECTOR, "#municipalities tbody tr")) == 30
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#map iframe"))
    _frame_ready(browser)
    leads = browser.find_elements(By.CSS_SELECTOR, "path.lead-marker")
    paths = browser.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")
    assert len(leads) == len(summary["areas"])
    # every municipality of the shown plan, its leads, and the moved overlay's outlines
    assert len(paths) == 30 + len(leads) + n_moved
    radios = browser.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-base input")
    assert len(radios) == 2  # the plan and the reference
    # the moved overlay's outlines lie over neighbours and open their own tooltips: switch
    # the overlay off (as a reader would) before hovering a municipality
    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script(HIDE_OVERLAY, "moved municipalities")
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, "path.leaflet-interactive")) == 30 + len(leads))
    tip = _hover_tooltip(browser, "path.leaflet-interactive:not(.lead-marker)")
    assert "labour force" in tip and "area (lead)" in tip
    browser.switch_to.default_content()
    assert _problems(browser) == []
    shot = _screenshot(browser, "report.png")
    print(f"screenshot: {shot}")


def test_report_of_a_check_names_the_lead_outside(browser, runs):
    from selenium.webdriver.common.by import By

    _load(browser, runs / "check" / "report.html")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "checked plan: breaks rules" in text
    assert "Kajaani (205) — lead outside the instance" in text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#comparison")) == 0
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#map iframe"))
    _frame_ready(browser)
    # Kajaani lies outside the region: three lead markers for four areas
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.lead-marker")) == 3
    browser.switch_to.default_content()
    assert _problems(browser) == []
    _screenshot(browser, "report-check-2025.png")


def test_map_html_alone_works_offline(browser, runs):
    from selenium.webdriver.common.by import By

    _load(browser, runs / "solve" / "map.html")
    _frame_ready(browser)
    assert len(browser.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")) == 30 + 4
    legend = browser.find_element(By.CSS_SELECTOR, ".optimizer-legend").text
    assert legend.count("municipalities") == 4
    # the background map is offered but off: ticking nothing loads no tile
    assert not browser.find_elements(By.CSS_SELECTOR, "img.leaflet-tile")
    assert _problems(browser) == []
    _screenshot(browser, "map.png")


# -- hostile names: no script of theirs may run ---------------------------------------

PAYLOADS = {
    "564": "<img src=x onerror=\"document.title='pwned'\">",  # Oulu: a lead in every plan
    "678": "<svg onload=\"document.title='pwned'\">",  # Raahe
    "244": "\"><script>document.title='pwned'</script>",  # Kempele
    "072": "</script><script>document.title='pwned'</script>",  # Hailuoto
}
FOLDER_PAYLOAD = "<svg onload=document.title='pwned'>"
"""A plan folder's name (no slash), shown as a layer name by `compare` and `report`."""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """North Ostrobothnia with municipality names that are scripts, solved (its map.html),
    compared with the 2025 areas from a folder whose name is a script, and reported with a
    reference plan whose file name is one."""
    base = tmp_path_factory.mktemp("hostile")
    data = json.loads((ROOT / "instances/finland/pohjois-pohjanmaa.json").read_text("utf-8"))
    for node in data["nodes"]:
        node["name"] = PAYLOADS.get(node["id"], node["name"])
    data["graph"]["region_name"] = "<img src=y onerror=\"document.title='pwned'\">"
    (base / "hostile.json").write_text(json.dumps(data), encoding="utf-8")
    (base / "hostile.gpkg").symlink_to(ROOT / "instances/finland/pohjois-pohjanmaa.gpkg")
    model = (ROOT / MODEL).read_text(encoding="utf-8").replace(
        '"../instances/finland/pohjois-pohjanmaa.json"', '"hostile.json"').replace(
        'name = "pohjois-pohjanmaa-4-5-areas"', 'name = "<b onmouseover=alert(1)>model</b>"')
    (base / "hostile.toml").write_text(model, encoding="utf-8")
    solved = base / FOLDER_PAYLOAD
    _invoke(["solve", base / "hostile.toml", "-b", "highs", "--areas", "4",
             "--out", solved, "--quiet"])
    reference = base / f"{FOLDER_PAYLOAD}.csv"
    shutil.copy(ROOT / PLAN_2025, reference)
    _invoke(["report", solved, "--reference", reference])
    _invoke(["compare", ROOT / PLAN_2025, solved, "--model", base / "hostile.toml", "--out",
             base / "compare"])
    return solved, base / "compare"


OPEN_EVERY_TOOLTIP = """
var texts = [];
Object.keys(window).filter(function (k) { return /^map_/.test(k) && window[k].eachLayer; })
  .forEach(function (k) {
    window[k].eachLayer(function (layer) {
      var at;
      try { at = layer.getCenter ? layer.getCenter() : layer.getLatLng(); } catch (e) { return; }
      layer.fire('mouseover', {latlng: at}, true);
      document.querySelectorAll('.leaflet-tooltip').forEach(function (t) {
        texts.push(t.textContent); });
      layer.fire('mouseout', {latlng: at}, true);
    });
  });
return texts;
"""
"""Open the tooltip of every municipality and lead marker on the map (what hovering each
would do, at once); returns their texts."""


def _hover_everything(driver) -> set[str]:
    """Show every tooltip of every plan layer (each base layer chosen in turn), and hover
    the lead markers with the mouse; the tooltips' texts seen."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    seen: set[str] = set()
    radios = driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-base input")
    for radio in radios or [None]:
        if radio is not None:
            driver.execute_script("arguments[0].click();", radio)
        seen |= set(driver.execute_script(OPEN_EVERY_TOOLTIP))
        for target in driver.find_elements(By.CSS_SELECTOR, "path.lead-marker"):
            try:
                ActionChains(driver).move_to_element(target).perform()
            except Exception:  # under another element: the script above opened it anyway
                continue
    return seen


def _untouched(driver, title: str) -> None:
    """The page's title as it was, and no element made from a name (img, svg, script) in a
    tooltip, the layer switch or a legend."""
    assert driver.execute_script("return document.title") == title
    injected = driver.execute_script(
        "return document.querySelectorAll('.leaflet-tooltip img, .leaflet-tooltip svg, "
        ".leaflet-tooltip script, .leaflet-control-layers img, .leaflet-control-layers svg, "
        ".optimizer-legend img, .optimizer-legend svg, .optimizer-title img').length")
    assert injected == 0


def test_hostile_names_run_no_script_in_maps_or_the_report(browser, hostile):
    """Names went unescaped into folium's tooltips (a script ran on hover) and layer names
    into Leaflet's layer switch (on page load); the report's map iframe had no sandbox."""
    from selenium.webdriver.common.by import By

    solved, compared = hostile
    for page in (solved / "map.html", compared / "map.html"):
        _load(browser, page)
        _frame_ready(browser)
        title = browser.execute_script("return document.title")
        seen = _hover_everything(browser)
        _untouched(browser, title)
        assert any(PAYLOADS["564"] in t for t in seen), seen  # Oulu's name, as text
    _load(browser, solved / "report.html")
    title = browser.execute_script("return document.title")
    assert title.startswith("<img src=y")  # the region's name, as text (not title = 'pwned')
    frame = browser.find_element(By.CSS_SELECTOR, "#map iframe")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    browser.switch_to.frame(frame)
    _frame_ready(browser)
    inner = browser.execute_script("return document.title")
    seen = _hover_everything(browser)
    _untouched(browser, inner)
    assert any(PAYLOADS["678"] in t or PAYLOADS["564"] in t for t in seen), seen
    names = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers").text
    assert f"reference: {FOLDER_PAYLOAD}" in names  # the file's name, shown as text
    browser.switch_to.default_content()
    assert browser.execute_script("return document.title") == title
    assert "Oulu" not in browser.find_element(By.TAG_NAME, "body").text  # renamed
    assert PAYLOADS["564"] in browser.find_element(By.TAG_NAME, "body").text
