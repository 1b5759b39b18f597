"""The Dagster UI end to end in a real browser (issue #6).

The shared demo run (the ``demo`` fixture of ``conftest.py``) is served by ``dagster-webserver``
on 127.0.0.1 and headless Debian chromium (Selenium, ``/usr/bin/chromedriver``) opens the
global asset lineage, each group's lineage, asset check details and asset event logs.  What is
asserted is what the browser shows: the groups and every asset in the graph, the key assets
with a latest event and their checks passed, the key checks' latest evaluation passed, and the
latest materialization of an asset per domain with the run that recorded it.  The webserver's
GraphQL endpoint only tells the test which assets, groups and runs to look for.

Screenshots are kept in ``test-artifacts/`` (git-ignored).  The test installs chromium and
chromedriver with apt when they are missing (``browser_support.ensure_chromium``) and is
skipped only when they cannot be installed, with the reason; ``EDGE_REQUIRE_BROWSER=1`` turns
that skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from browser_support import DagsterWebserver, ensure_chromium, start_chromium
from demo_support import DemoRun
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOT_PATTERNS = (
    "asset_graph.png",
    "group_*.png",
    "check_*.png",
    "events_*.png",
    "FAILED_*.png",
)

REQUIRED_GROUPS = ("inbound", "phase1", "phase2", "reconciliation")
KEY_ASSETS = (
    "submission_file",
    "eses_enrollment",
    "reference_tables",
    "shadow_phase1",
    "phase1_reconciliation",
    "ra_claim_selection",
    "risk_scores",
    "transfer_estimate",
    "risk_score_reconciliation",
)
KEY_CHECKS = (
    "phase1_conservation",
    "shadow_matches_reported",
    "reported_risk_scores_match_shadow",
)
#: Assets whose event log must show their latest materialization (one per domain).
MATERIALIZATION_ASSETS = ("submission_file", "shadow_phase1", "transfer_estimate")

PAGE_TIMEOUT_SECONDS = 45.0
#: The graph's search toolbar lies over the top of its drawing area (a little margin added).
GRAPH_TOOLBAR_PX = 80
#: How a graph box shows its latest event: "2 minutes ago" (or a date and time when older).
LATEST_EVENT = re.compile(r"\bago$|\d{1,2}:\d{2}")
_ASSET_NODES_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    repository { name location { name } }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
    assetMaterializations(limit: 1) { runId timestamp }
  }
}
"""
#: JS: every asset node box of the graph on screen, as its text (name first).
_GRAPH_NODE_TEXTS = """
return Array.from(document.querySelectorAll('[class*="AssetNode_assetNodeContainer"]'))
  .map((node) => node.innerText);
"""


#: JS: how far the global graph is drawn: asset names, boxes still without a status, zoom.
_GRAPH_STATE = """
const boxes = Array.from(document.querySelectorAll('[class*="AssetNode_minimalAssetNodeBox"]'));
const svg = document.querySelector('svg[class*="AssetGraphExplorer_svgContainer"]');
return {
  names: document.querySelectorAll('[class*="AssetNode_assetName"]').length,
  placeholders: boxes.filter((b) => (b.getAttribute('style') || '').includes('background-light'))
    .length,
  styles: boxes.map((b) => b.getAttribute('style') || ''),
  transform: svg && svg.parentElement ? svg.parentElement.getAttribute('style') : null,
};
"""
#: JS: the graph's size (SVG units) and the on-screen area it is drawn in (pixels).
_GRAPH_GEOMETRY = """
const svg = document.querySelector('svg[class*="AssetGraphExplorer_svgContainer"]');
const area = svg.parentElement.parentElement.getBoundingClientRect();
return {
  width: Number(svg.getAttribute('width')),
  height: Number(svg.getAttribute('height')),
  areaWidth: area.width,
  areaHeight: area.height,
};
"""


@dataclass(frozen=True)
class AssetInfo:
    """What GraphQL says about an asset: the test's map of where to look."""

    name: str
    group: str
    location: str
    checks: tuple[str, ...]
    latest_run_id: str | None


@dataclass
class Ui:
    """The served demo: the webserver, its assets, and the screenshots taken so far."""

    server: DagsterWebserver
    assets: dict[str, AssetInfo]
    screenshots: list[Path]

    @property
    def groups(self) -> list[str]:
        return sorted({info.group for info in self.assets.values()})

    def asset_of_check(self, check: str) -> AssetInfo:
        owners = [info for info in self.assets.values() if check in info.checks]
        assert owners, f"no asset defines the check {check!r}: {sorted(self.assets)}"
        return owners[0]


@pytest.fixture(scope="module")
def chromium() -> None:
    """Debian's chromium and chromedriver, installed with apt when missing."""
    reason = ensure_chromium()
    if reason is None:
        return
    if os.environ.get("EDGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"chromium is required (EDGE_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"chromium cannot be installed: {reason}")


@pytest.fixture(scope="module")
def demo_data(chromium: None, demo: DemoRun) -> Path:
    """The shared demo's data folder: its warehouse and Dagster instance."""
    assert demo.exit_code == 0, f"the demo failed:\n{demo.printed[-4000:]}"
    return demo.data


@pytest.fixture(scope="module")
def ui(demo_data: Path) -> Iterator[Ui]:
    """``dagster-webserver`` over the demo on a free local port, always stopped afterwards."""
    server = DagsterWebserver(
        workspace=REPO_ROOT / "workspace.yaml",
        data=demo_data,
        log_path=demo_data.parent / "dagster-webserver.log",
    )
    try:
        server.start(timeout=90)
        server.wait_for_code_locations()  # /server_info answers before the location loads
        nodes = server.graphql(_ASSET_NODES_QUERY)["assetNodes"]
        assets = {}
        for node in nodes:
            name = "/".join(node["assetKey"]["path"])
            checks = (node.get("assetChecksOrError") or {}).get("checks") or []
            latest = node["assetMaterializations"]
            assets[name] = AssetInfo(
                name=name,
                group=node["groupName"],
                location=node["repository"]["location"]["name"],
                checks=tuple(check["name"] for check in checks),
                latest_run_id=latest[0]["runId"] if latest else None,
            )
        yield Ui(server=server, assets=assets, screenshots=[])
    finally:
        server.stop()


@pytest.fixture(scope="module")
def driver(ui: Ui, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless chromium with a fresh profile; the community pop-up is marked as seen."""
    for pattern in SCREENSHOT_PATTERNS:  # this test's screenshots of an earlier run
        for stale in ARTIFACTS.glob(pattern):
            stale.unlink()
    profile = tmp_path_factory.mktemp("chromium-profile")
    browser = start_chromium(profile, profile.parent / "chromedriver.log")
    try:
        # Dagster remembers the dismissed "Join the Dagster community" dialog in localStorage:
        # mark it dismissed on the webserver's origin before the app is ever opened.
        browser.get(f"{ui.server.url}/server_info")
        browser.execute_script("window.localStorage.setItem('communityNux', '\"1\"')")
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module", autouse=True)
def _report_screenshots(ui: Ui, request: pytest.FixtureRequest) -> Iterator[None]:
    """List the screenshots in the test output (also as junit properties, per test)."""
    yield
    if not ui.screenshots:
        return
    report = "browser screenshots:\n" + "\n".join(f"  {p}" for p in ui.screenshots)
    # shown in the test output even when pytest captures it (as `capsys.disabled()` does)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    disabled = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
    with disabled:
        print("\n" + report)


def page_text(driver: Any) -> str:
    return str(driver.execute_script("return document.body ? document.body.innerText : ''"))


def dismiss_dialogs(driver: Any) -> None:
    """Close a welcome/community dialog if one is open anyway (it hides the screenshot)."""
    for button in driver.find_elements(
        "xpath", "//*[contains(@class,'dialog')]//button[normalize-space()='Skip']"
    ):
        if button.is_displayed():
            button.click()


def screenshot(driver: Any, ui: Ui, name: str, record: Callable[[str, object], None]) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    ui.screenshots.append(path)
    record(f"screenshot:{name}", str(path))
    return path


def open_page(
    driver: Any,
    ui: Ui,
    route: str,
    name: str,
    expected: list[str],
    ready: Callable[[Any], bool] | None = None,
) -> str:
    """Open ``route`` and wait until every ``expected`` text is shown (and ``ready`` holds).

    Returns the page text.  On timeout, keeps a ``FAILED_<name>.png`` screenshot and fails
    naming what is missing.
    """
    driver.get(f"{ui.server.url}{route}")

    def shown(drv: Any) -> bool:
        text = page_text(drv)
        return all(item in text for item in expected) and (ready is None or ready(drv))

    try:
        WebDriverWait(driver, PAGE_TIMEOUT_SECONDS, poll_frequency=0.25).until(shown)
    except TimeoutException:
        ARTIFACTS.mkdir(exist_ok=True)
        failed = ARTIFACTS / f"FAILED_{name}.png"
        driver.save_screenshot(str(failed))
        text = page_text(driver)
        missing = [item for item in expected if item not in text]
        pytest.fail(
            f"{route}: not shown within {PAGE_TIMEOUT_SECONDS:.0f} s: "
            f"{missing or 'the page did not reach its expected state'} "
            f"(screenshot {failed}); page text:\n{text[:3000]}"
        )
    dismiss_dialogs(driver)
    return page_text(driver)


class Settled:
    """A wait condition: ``probe`` returned the same non-None value for ``seconds``."""

    def __init__(self, probe: Callable[[Any], object], seconds: float = 1.0) -> None:
        self.probe = probe
        self.seconds = seconds
        self.last: object = None
        self.since = 0.0

    def __call__(self, driver: Any) -> bool:
        value = self.probe(driver)
        now = time.monotonic()
        if value is None or value != self.last:
            self.last, self.since = value, now
            return False
        return now - self.since >= self.seconds


def graph_settled(ui: Ui) -> Settled:
    """The global graph: one box per asset, every box coloured by its status (not the
    placeholder shown before the statuses load), zoom and colours unchanged for a second."""

    def probe(driver: Any) -> object:
        state = driver.execute_script(_GRAPH_STATE)
        if state["names"] < len(ui.assets) or state["placeholders"]:
            return None
        return state["transform"], tuple(state["styles"])

    return Settled(probe)


def graph_boxes(driver: Any) -> dict[str, list[str]]:
    """The asset boxes of the graph on screen: asset name -> the box's lines of text."""
    boxes = {}
    for text in driver.execute_script(_GRAPH_NODE_TEXTS):
        lines = [line.strip() for line in str(text).splitlines() if line.strip()]
        if lines:
            boxes[lines[0]] = lines
    return boxes


def evaluation_result(text: str) -> str | None:
    """The check detail's "Evaluation result" (the first line of text after the label)."""
    _, found, after = text.partition("Evaluation result")
    lines = [line.strip() for line in after.splitlines() if line.strip()]
    return lines[0] if found and lines else None


#: How many window heights a lineage page is opened in (:func:`tall_window`).
TALL = 2


@contextlib.contextmanager
def tall_window(driver: Any) -> Iterator[None]:
    """A window ``TALL`` times as high while a lineage graph is shown: the graph draws only the
    boxes on screen, and it grows with the definitions, so a box below the fold would never be
    drawn and the page never settle."""
    size = driver.get_window_size()
    driver.set_window_size(size["width"], TALL * size["height"])
    try:
        yield
    finally:
        driver.set_window_size(size["width"], size["height"])


def asset_route(name: str, query: str = "") -> str:
    path = "/".join(urllib.parse.quote(part, safe="") for part in name.split("/"))
    return f"/assets/{path}{'?' + query if query else ''}"


def test_the_demo_defines_the_groups_assets_and_checks(ui: Ui) -> None:
    """The webserver serves what the browser assertions are about (GraphQL, not the UI)."""
    assert set(REQUIRED_GROUPS) <= set(ui.groups), ui.groups
    missing = [name for name in KEY_ASSETS if name not in ui.assets]
    assert not missing, f"key assets not defined: {missing}"
    for check in KEY_CHECKS:
        ui.asset_of_check(check)
    for name in MATERIALIZATION_ASSETS:
        assert ui.assets[name].latest_run_id, f"{name} has no materialization"


def test_asset_graph_shows_every_group(
    driver: Any, ui: Ui, record_property: Callable[[str, object], None]
) -> None:
    """Global asset lineage, every group expanded: group names and one box per asset, each
    coloured by its status."""
    expanded = ",".join(f"global@global:{group}" for group in ui.groups)
    route = f"/asset-groups?expanded={urllib.parse.quote(expanded, safe='@:,')}"
    size = driver.get_window_size()
    try:
        driver.set_window_size(size["width"], TALL * size["height"])  # see tall_window
        text = open_page(driver, ui, route, "asset_graph", list(ui.groups), graph_settled(ui))
        # The global graph is zoomed to fit its width: make the window tall enough for the
        # whole graph to be in the screenshot (it grows with the definitions), then reload.
        geometry = driver.execute_script(_GRAPH_GEOMETRY)
        missing = geometry["height"] * geometry["areaWidth"] / geometry["width"]
        missing += 2 * GRAPH_TOOLBAR_PX - geometry["areaHeight"]  # centred under the toolbar
        if missing > 0:
            driver.set_window_size(size["width"], min(size["height"] + int(missing), 4000))
            text = open_page(driver, ui, route, "asset_graph", list(ui.groups), graph_settled(ui))
        screenshot(driver, ui, "asset_graph", record_property)
    finally:
        driver.set_window_size(size["width"], size["height"])
    lines = {line.strip() for line in text.splitlines()}
    assert "Global asset lineage" in lines
    for group in ui.groups:
        assert group in lines, f"group {group!r} not shown in the asset graph"


@pytest.mark.parametrize("group", (*REQUIRED_GROUPS, "reference"))
def test_group_lineage_shows_key_assets_materialized(
    driver: Any, ui: Ui, group: str, record_property: Callable[[str, object], None]
) -> None:
    """A group's lineage: every asset of the group is drawn; each key asset's box shows a
    latest event, and its checks passed."""
    if group not in ui.groups:
        pytest.skip(f"no asset group {group!r} in this definition set")
    members = [info for info in ui.assets.values() if info.group == group]
    location = members[0].location

    def members_loaded(drv: Any) -> object:
        boxes = graph_boxes(drv)
        if any(info.name.split("/")[-1] not in boxes for info in members):
            return None
        if any("Loading..." in lines for lines in boxes.values()):
            return None
        return drv.execute_script(_GRAPH_STATE)["transform"], tuple(sorted(boxes))

    route = f"/locations/{location}/asset-groups/{urllib.parse.quote(group)}"
    with tall_window(driver):
        open_page(driver, ui, route, f"group_{group}", [group], Settled(members_loaded))
        screenshot(driver, ui, f"group_{group}", record_property)
        boxes = graph_boxes(driver)
    keys = [info for info in members if info.name in KEY_ASSETS]
    assert keys or group == "reference", f"no key asset in group {group!r}"
    for info in keys:
        lines = boxes[info.name]
        assert "Latest event" in lines, f"{info.name}: {lines}"
        latest = lines[lines.index("Latest event") + 1]
        assert LATEST_EVENT.search(latest), f"{info.name} shows no latest event: {lines}"
        if info.checks:
            checks = lines[lines.index("Asset checks") + 1]
            n = len(info.checks)
            assert checks == f"{n} / {n} Passed", f"{info.name} checks: {lines}"


@pytest.mark.parametrize("check", KEY_CHECKS)
def test_asset_check_shown_passed(
    driver: Any, ui: Ui, check: str, record_property: Callable[[str, object], None]
) -> None:
    """An asset's Checks tab, the check selected: its latest evaluation passed."""
    owner = ui.asset_of_check(check)
    query = urllib.parse.urlencode({"view": "checks", "checkDetail": check})

    def evaluation_passed(drv: Any) -> bool:
        return evaluation_result(page_text(drv)) == "Passed"

    text = open_page(
        driver,
        ui,
        asset_route(owner.name, query),
        f"check_{check}",
        [owner.name, check, "Latest execution", "Evaluation result"],
        evaluation_passed,
    )
    screenshot(driver, ui, f"check_{check}", record_property)
    assert evaluation_result(text) == "Passed"
    assert "Succeeded" in text  # the check's status in the list of the asset's checks


@pytest.mark.parametrize("asset", MATERIALIZATION_ASSETS)
def test_materialization_recorded(
    driver: Any, ui: Ui, asset: str, record_property: Callable[[str, object], None]
) -> None:
    """An asset's event log shows its latest materialization and the run that made it."""
    run_id = ui.assets[asset].latest_run_id
    assert run_id, f"{asset} was never materialized"
    text = open_page(
        driver,
        ui,
        asset_route(asset, "view=events"),
        f"events_{asset}",
        [asset, f"in run {run_id[:8]}"],
    )
    screenshot(driver, ui, f"events_{asset}", record_property)
    # "Partition 2025 materialized in run 02c7475e" (unpartitioned: "Materialized in run ...")
    assert re.search(f"materialized in run {run_id[:8]}", text, re.IGNORECASE), text[:2000]
    assert "Metadata" in text


LANDING_ASSETS = {
    "ESES": "eses_enrollment",
    "ESMCS": "esmcs_medical_claims",
    "ESPCS": "espcs_pharmacy_claims",
    "ESSFS": "essfs_supplemental_diagnoses",
}


@pytest.mark.parametrize("layout", sorted(LANDING_ASSETS))
def test_a_landing_asset_shows_only_its_own_file_type_as_partitions(
    driver: Any,
    ui: Ui,
    demo_data: Path,
    layout: str,
    record_property: Callable[[str, object], None],
) -> None:
    """Each landing asset is partitioned by its own file type: its partitions view lists the
    files of that type, every one materialized, and none of another type."""
    con = duckdb.connect(str(demo_data / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT layout, file_identifier FROM submission_file WHERE status = 'loaded'"
        ).fetchall()
    finally:
        con.close()
    own = sorted(fid for kind, fid in rows if kind == layout)
    others = sorted(fid for kind, fid in rows if kind != layout)
    assert own and others
    asset = LANDING_ASSETS[layout]
    text = open_page(driver, ui, asset_route(asset, "view=partitions"), f"partitions_{asset}", own)
    screenshot(driver, ui, f"partitions_{asset}", record_property)
    shown = [fid for fid in others if fid in text]
    assert not shown, f"{asset} lists files of other types as its partitions: {shown}"
    # "2 Partitions Selected ... Materialized (2) ... Missing (0)": no file of another type
    # waits there as "missing" forever
    assert f"{len(own)} Partition" in text, text[:2000]
    assert f"Materialized ({len(own)})" in text and "Missing (0)" in text, text[:2000]
