"""Set-up for the browser test: Debian's chromium and chromedriver, the demo's webserver.

``ensure_chromium`` installs ``chromium`` and ``chromium-driver`` with apt when they are
missing and says why when they cannot be installed (the test is then skipped with that
reason).  Selenium is always given the driver's path, so Selenium Manager never downloads
anything.  ``DagsterWebserver`` runs ``dagster-webserver`` over a demo root on a free local
port and always stops it, with the code server it spawned.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
APT_PACKAGES = ("chromium", "chromium-driver")
#: A fresh CI machine downloads ~100 MB of packages: give apt time, but not forever.
_APT_TIMEOUT_SECONDS = 900

#: Headless and quiet: the machine's network is closed, so no background requests at all.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)


_WORKSPACE_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def _browser_present() -> bool:
    return all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _apt(args: list[str], prefix: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        [*prefix, "apt-get", "-o", "DPkg::Lock::Timeout=300", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=_APT_TIMEOUT_SECONDS,
        check=False,
    )


def ensure_chromium() -> str | None:
    """Install Debian's chromium and chromedriver if missing.

    Returns None when both are at ``/usr/bin``, else the reason they cannot be installed.
    ``apt-get install`` is tried first with the package lists already on the machine, then
    once more after ``apt-get update`` (a fresh CI image has no or stale lists).
    """
    if _browser_present():
        return None
    missing = ", ".join(str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK))
    if shutil.which("apt-get") is None:
        return f"{missing} missing and apt-get is not available (not a Debian machine)"
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        probe = sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False)
        if not probe or probe.returncode != 0:
            return f"{missing} missing and installing needs root (not root, no passwordless sudo)"
        prefix = [sudo, "-n"]  # type: ignore[list-item]
    install = ["install", "-y", *APT_PACKAGES]
    try:
        result = _apt(install, prefix)
        if result.returncode != 0:
            update = _apt(["update"], prefix)
            if update.returncode != 0:
                return (
                    f"{missing} missing; `apt-get install -y {' '.join(APT_PACKAGES)}` failed "
                    f"({_tail(result.stderr or result.stdout)}) and `apt-get update` failed "
                    f"({_tail(update.stderr or update.stdout)})"
                )
            result = _apt(install, prefix)
    except subprocess.TimeoutExpired as exc:
        return f"{missing} missing; `{' '.join(map(str, exc.cmd))}` timed out after {exc.timeout} s"
    except OSError as exc:
        return f"{missing} missing; apt-get could not be run: {exc}"
    if result.returncode != 0:
        return (
            f"{missing} missing; `apt-get install -y {' '.join(APT_PACKAGES)}` failed after "
            f"`apt-get update`: {_tail(result.stderr or result.stdout)}"
        )
    if not _browser_present():
        return f"apt-get installed {', '.join(APT_PACKAGES)}, yet still missing: {missing}"
    return None


def chrome_options(user_data_dir: Path, width: int = 1600, height: int = 1100) -> Any:
    """Selenium options for headless Debian chromium with a fresh profile."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.add_argument(f"--window-size={width},{height}")
    return options


def start_chromium(user_data_dir: Path, log_path: Path) -> Any:
    """A headless chromium driven by Debian's chromedriver (no Selenium Manager download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(log_path))
    driver = webdriver.Chrome(options=chrome_options(user_data_dir), service=service)
    driver.set_window_size(1600, 1100)
    driver.set_page_load_timeout(60)
    return driver


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _webserver_command() -> list[str]:
    script = Path(sys.executable).with_name("dagster-webserver")
    if script.exists():
        return [str(script)]
    found = shutil.which("dagster-webserver")
    if found is None:
        raise RuntimeError("dagster-webserver is not installed next to the test's Python")
    return [found]


@dataclass
class DagsterWebserver:
    """``dagster-webserver -w workspace.yaml`` on 127.0.0.1 over a demo's ``data`` folder."""

    workspace: Path
    data: Path
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DAGSTER_HOME": str(self.data / "dagster_home"),
            "EDGE_WAREHOUSE": str(self.data / "warehouse.duckdb"),
            "EDGE_INBOX": str(self.data / "inbox"),
            "EDGE_OUTBOX": str(self.data / "outbox"),
            "EDGE_SHADOW_REPORTS": str(self.data / "shadow_reports"),
            "EDGE_PLAN_REGISTRY": str(self.data / "issuer" / "plan_registry.csv"),
            "EDGE_CODE_LISTS": str(self.data / "issuer"),
            "GX_ANALYTICS_ENABLED": "false",
        }

    def start(self, timeout: float = 90.0) -> None:
        """Start the webserver and wait until ``/server_info`` answers."""
        self.port = free_port()
        command = [
            *_webserver_command(),
            *("-h", "127.0.0.1", "-p", str(self.port), "-w", str(self.workspace)),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workspace.parent,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its code server
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"dagster-webserver exited with {self.process.returncode}: {self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise RuntimeError(
            f"dagster-webserver did not answer in {timeout:.0f} s: {self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the webserver and the code server it spawned (its own process group).

        SIGTERM to the group, then SIGKILL to whatever is left after 20 s.
        """
        process, self.process = self.process, None
        if process is None:
            return
        group = process.pid  # start_new_session: the group id is the webserver's pid
        _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + 20
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        while _group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _group_alive(group):
            _signal_group(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def wait_for_code_locations(self, timeout: float = 90.0) -> None:
        """Wait until every code location is loaded (``/server_info`` answers before that, and
        a query sent meanwhile finds no repository); fail on a location's load error."""
        deadline = time.monotonic() + timeout
        entries: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            workspace = self.graphql(_WORKSPACE_QUERY)["workspaceOrError"]
            entries = workspace.get("locationEntries") or []
            errors = [
                f"{e['name']}: {e['locationOrLoadError'].get('message')}"
                for e in entries
                if (e.get("locationOrLoadError") or {}).get("__typename") == "PythonError"
            ]
            if errors:
                raise RuntimeError(f"code location failed to load: {errors}")
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return
            time.sleep(0.5)
        raise RuntimeError(f"code locations not loaded in {timeout:.0f} s: {entries}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """``data`` of the answer; raises on an HTTP error status or on GraphQL errors."""
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]
