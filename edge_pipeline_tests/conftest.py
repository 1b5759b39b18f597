"""Shared test set-up: layer markers by folder, and the fixtures several modules need.

The tests live in one folder per layer, and the folder decides the marker, so no test file
needs a decorator:

* ``core/`` (marker ``core``): the pure-Python core, its command line and its files;
* ``dagster/`` (``dagster``): definitions, assets, sensors, schedules and checks on a real
  Dagster instance;
* ``system/`` (``system``): whole chains and subprocesses: the demo, the PHI scan, the browser
  (also ``browser``), the webserver, crashes, races, a full disk, hostile files, fuzzing (also
  ``fuzz``).

``make test-fast`` runs ``-m "not system"``; ``make test`` runs everything, both in two
pytest-xdist workers with ``--dist loadfile`` (a module's tests in one worker, so its
module-scoped fixtures are built once; see :func:`pytest_xdist_make_scheduler`).  Shared
helpers are in ``support/`` (on ``sys.path`` through pytest's ``pythonpath`` setting, imported
by bare name: ``from phase1_support import ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from demo_support import DemoRun

TESTS = Path(__file__).resolve().parent
#: The marker each layer folder gives its tests.
LAYERS = ("core", "dagster", "system")
#: Extra markers of whole modules (by file name), besides their layer's.
MODULE_MARKERS = {
    "test_browser_ui.py": ("browser",),
    "test_fuzz_readers.py": ("fuzz",),
}
#: The modules using the shared ``demo`` fixture: one xdist work unit, so the demo runs once.
DEMO_MODULES = frozenset({"test_phi_scan.py", "test_browser_ui.py"})


def _layer(path: Path) -> str | None:
    relative = path.resolve().relative_to(TESTS)
    return relative.parts[0] if len(relative.parts) > 1 and relative.parts[0] in LAYERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its folder's layer (and its module's extra markers), and order the
    modules system, Dagster, core: the layers with the costliest fixtures start first, so two
    xdist workers finish together.  A test file outside the layer folders is an error naming
    the folders, so every test has a layer."""
    unfiled: set[str] = set()
    for item in items:
        path = Path(item.path)
        layer = _layer(path)
        if layer is None:
            unfiled.add(str(path.relative_to(TESTS)))
            continue
        item.add_marker(layer)
        for name in MODULE_MARKERS.get(path.name, ()):
            item.add_marker(name)
        if "demo" in getattr(item, "fixturenames", ()):
            if path.name not in DEMO_MODULES:
                unfiled.add(f"{path.relative_to(TESTS)} (uses `demo`: add it to DEMO_MODULES)")
            item.add_marker("demo")
    if unfiled:
        raise pytest.UsageError(
            "test files outside a layer folder (move each into edge_pipeline_tests/core/, "
            f"dagster/ or system/): {', '.join(sorted(unfiled))}"
        )
    rank = {layer: n for n, layer in enumerate(("system", "dagster", "core"))}
    items.sort(key=lambda item: rank[_layer(Path(item.path)) or "core"])  # stable


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, except that the modules sharing the demo run are one unit (one
    worker, one demo), and the units go out in collection order (system, Dagster, core)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def __init__(self, config: pytest.Config, log: Any) -> None:
            super().__init__(config, log)
            config.option.loadscopereorder = False  # keep the order chosen above

        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return "shared demo run" if Path(module).name in DEMO_MODULES else module

    return ModuleScheduling(config, log)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One ``make demo`` for every module that needs a demo's warehouse, Dagster instance,
    reports or output (``DEMO_MODULES``); they only read it."""
    from demo_support import run_captured_demo  # imports the report stack: only when used

    return run_captured_demo(tmp_path_factory.mktemp("demo"))
