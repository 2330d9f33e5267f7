"""`skinrec serve` for real: gunicorn with the preloaded app factory answers on a local port.

Answers "does `make run` actually serve?": starts the server as a user would (the CLI, which
execs gunicorn with ``web:create_app()`` and ``--preload``), waits for /api/v1/health, checks
a page and the API, then stops it with SIGTERM (gunicorn's graceful shutdown).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_with_the_demo_catalog():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SKINREC_CATALOG", "SKINREC_PROTOCOL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "recommender.cli", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        health = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as r:
                    health = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        assert health is not None, "server did not answer within 120 s"
        assert health["status"] == "ok" and health["catalog"]["demo"] is True
        with urllib.request.urlopen(f"{base}/", timeout=10) as r:
            assert r.headers["Server"].startswith("gunicorn")
            assert "script-src 'none'" in r.headers["Content-Security-Policy"]
            assert "Not medical advice" in r.read().decode()
        req = urllib.request.Request(f"{base}/api/v1/recommend", data=b'{"day": 7, "k": 3}',
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert len(json.load(r)["use_now"]) == 3
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_serve_refuses_a_missing_catalog_or_bad_protocol_before_starting():
    r = subprocess.run([sys.executable, "-m", "recommender.cli", "serve", "--catalog",
                        "no-such-catalog.csv"], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "neither a file nor a shared catalog" in r.stderr
    bad = ROOT / "tests" / "fixtures" / "protocols" / "malformed" / "bad_number.yaml"
    r = subprocess.run([sys.executable, "-m", "recommender.cli", "serve", "--protocol", str(bad)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "protocol refused" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "recommender.cli", "serve"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "SKINREC_MAX_UPLOAD_MB": "5MB"})
    assert r.returncode == 2 and "SKINREC_MAX_UPLOAD_MB" in r.stderr and "'5MB'" in r.stderr
    assert "Traceback" not in r.stderr


def test_importing_web_does_no_work():
    code = ("import sys, web; "
            "assert 'recommender.scoring' not in sys.modules, 'import loaded the scorer'; "
            "assert 'pandas' not in sys.modules, 'import loaded pandas'")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
