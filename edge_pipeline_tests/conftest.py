"""Shared test set-up: layer markers by folder, and the fixtures several modules need.

The tests live in one folder per layer, and the folder decides the marker, so no test file
needs a decorator:

* ``core/`` (marker ``core``): the pure-Python core, its command line and its files;
* ``dagster/`` (``dagster``): definitions, assets, sensors, schedules and checks on a real
  Dagster instance;
* ``system/`` (``system``): whole chains, subprocesses killed or racing, the webserver, the
  browser, the demo, fuzzing.

``make test-fast`` runs ``-m "not system"``; ``make test`` runs everything.  Shared helpers are
in ``support/`` (on ``sys.path`` through pytest's ``pythonpath`` setting, imported by bare name).
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
#: The marker each layer folder gives its tests.
LAYERS = ("core", "dagster", "system")
#: Extra markers of whole modules (by file name), besides their layer's.
MODULE_MARKERS = {
    "test_browser_ui.py": ("browser",),
    "test_fuzz_readers.py": ("fuzz",),
}


def _layer(path: Path) -> str | None:
    relative = path.resolve().relative_to(TESTS)
    return relative.parts[0] if len(relative.parts) > 1 and relative.parts[0] in LAYERS else None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its folder's layer (and its module's extra markers); a test file
    outside the layer folders is an error naming the folders, so every test has a layer.

    Under ``pytest-xdist --dist loadgroup`` a module's tests stay in one worker (their
    module-scoped fixtures, a synthetic issuer through the pipeline, are built once), and so
    do all the modules using the shared ``demo`` run (built once per worker)."""
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
            item.add_marker("demo")
            item.add_marker(pytest.mark.xdist_group("demo"))
        else:
            item.add_marker(pytest.mark.xdist_group(path.stem))
    if unfiled:
        raise pytest.UsageError(
            "test files outside a layer folder (move each into edge_pipeline_tests/core/, "
            f"dagster/ or system/): {', '.join(sorted(unfiled))}"
        )
