"""Browser tests: the real app under gunicorn on 127.0.0.1, driven by real headless Chromium.

The browser is Debian's chromium (``/usr/bin/chromium``, or ``SKINREC_CHROMIUM``), installed
by ``make browser`` (a prerequisite of ``make test``); Playwright for Python drives it through
its bundled driver and never downloads a browser. A missing browser FAILS these tests: they
are never skipped.

The server is started once per session: ``python -m gunicorn 'web:create_app()'`` on a free
port of 127.0.0.1, with the committed demo catalog, one worker and a few threads; the fixture
waits for ``/api/v1/health`` and kills the process group at teardown. Its output goes to a
log file whose tail is shown when it fails to come up.

Screenshots go to ``tests/browser/screenshots/`` (git-ignored); ``shot(page, name)`` saves
one and asserts that the PNG exists and is not trivially small.
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
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DEMO_CATALOG = ROOT / "data" / "demo" / "catalog.csv"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
STARTUP_TIMEOUT_S = float(os.environ.get("SKINREC_TEST_SERVER_TIMEOUT", "120"))


def chromium_path() -> str:
    """The browser binary; fails (never skips) when it is missing."""
    path = os.environ.get("SKINREC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {path}: run `make browser` (installs Debian's chromium and "
            "chromium-driver) or set SKINREC_CHROMIUM. Browser tests never skip.",
            pytrace=False,
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, dict(resp.headers), resp.read()


class LiveServer:
    """A gunicorn process serving ``web:create_app()`` on 127.0.0.1."""

    def __init__(self, log_path: Path, catalog: Path = DEMO_CATALOG, workers: int = 1):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ)
        env["SKINREC_CATALOG"] = str(catalog)
        env["PYTHONUNBUFFERED"] = "1"
        # the worktree's own code first (python -m puts cwd on sys.path)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        cmd = [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers),
            "--threads", "4",
            "--timeout", "120",
            "--graceful-timeout", "5",
            "--preload",
            "--no-control-socket",  # gunicorn 27: else every instance shares ~/.gunicorn/gunicorn.ctl
            "web:create_app()",
        ]
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode} before serving:\n{self.log_tail()}"
                )
            try:
                status, _, body = _get(self.url + "/api/v1/health")
                if status == 200:
                    return json.loads(body)
                last = status
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                last = exc
            time.sleep(0.25)
        raise RuntimeError(
            f"/api/v1/health not ready after {timeout:.0f} s (last: {last!r}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
    try:
        server.health = server.wait_ready()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    # launch() gives every run a fresh, temporary profile directory of its own.
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageLog:
    """Console messages, uncaught page errors, failed requests and 4xx/5xx answers of a page.

    ``errors`` leaves out one thing the app never asked for: the browser's own request for
    /favicon.ico (the app has no icon; Chromium asks once per browser and logs its 404).
    """

    def __init__(self):
        self.console: list[tuple[str, str, str]] = []   # (type, text, url)
        self.page_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.bad_responses: list[tuple[int, str]] = []

    @property
    def errors(self) -> list[str]:
        return [f"{text} ({url})" for kind, text, url in self.console
                if kind == "error" and not url.endswith("/favicon.ico")] + self.page_errors


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    log = PageLog()
    pg.on("console", lambda m: log.console.append((m.type, m.text, m.location.get("url", ""))))
    pg.on("response", lambda r: r.status >= 400 and log.bad_responses.append((r.status, r.url)))
    pg.on("pageerror", lambda e: log.page_errors.append(str(e)))
    pg.on("requestfailed", lambda r: log.failed_requests.append(f"{r.method} {r.url} {r.failure}"))
    pg.log = log
    yield pg
    context.close()


@pytest.fixture
def shot(request):
    """shot(page, name) -> Path of a full-page PNG screenshot, checked to be non-trivial."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(pg, name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png".replace("/", "_")
        pg.screenshot(path=str(path), full_page=True)
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
        assert len(data) > 10_000, f"{path} is only {len(data)} bytes: a blank page?"
        return path

    return take


@pytest.fixture(scope="session")
def demo_product():
    """demo_product('demo-011') -> that row of the committed demo catalog (the one served)."""
    import csv

    with open(DEMO_CATALOG, newline="", encoding="utf-8") as fh:
        rows = {row["product_id"]: row for row in csv.DictReader(fh)}

    def get(product_id: str) -> dict:
        assert product_id in rows, f"{product_id} not in {DEMO_CATALOG}"
        return rows[product_id]

    return get


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
