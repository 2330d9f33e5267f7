"""The served app answers in a real browser: health over HTTP, the home page renders."""

from __future__ import annotations

import json
import urllib.request


def test_health_is_json_ok(live_server):
    with urllib.request.urlopen(live_server.url + "/api/v1/health", timeout=5) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        body = json.loads(resp.read())
    assert body.get("status") == "ok", body


def test_home_page_renders_without_errors(page, shot):
    resp = page.goto("/")
    assert resp is not None and resp.status == 200
    assert page.title().strip(), "the home page has no <title>"
    assert "medical advice" in page.inner_text("body").lower()
    shot(page, "home")
    assert page.log.errors == [], page.log.errors
