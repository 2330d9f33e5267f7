"""Script injection in a real browser: pasted markup is shown as text and never runs, and the
Content-Security-Policy refuses inline script even if some markup got through.

Two separate defences, tested separately:

- escaping: the XSS tests run in a browser context that BYPASSES the CSP (Playwright's
  ``bypass_csp``), so only the templates' escaping stands between a pasted
  ``<script>window.__xss=1</script>`` / ``<img src=x onerror=...>`` and its execution. The
  payload must come back as visible text (the echoed form; the parser sets ``<script>`` and
  ``<svg>`` elements aside and the page names them), no ``script`` or ``img[onerror]``
  element may appear, and ``window.__xss`` must stay undefined.
- CSP: with the policy enforced, a script element inserted into one of the app's own pages
  is refused (``securitypolicyviolation``, nothing runs), and the app's own pages load with
  no console error and no violation at all (no inline script or style of their own).
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
SVG = "<svg onload=\"window.__xss=3\"></svg>"
CLOSE = "</textarea><b id=injected>bold</b>"  # escaping out of the textarea that echoes the list

VIOLATIONS_INIT = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || '')));
"""


@pytest.fixture
def raw_page(browser, live_server):
    """A page whose context ignores the CSP: only escaping protects it."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    context.close()


def _no_injected_markup(pg) -> None:
    assert pg.evaluate("typeof window.__xss") == "undefined"
    assert pg.locator("script").count() == 0  # the app itself serves no script at all
    assert pg.locator("img[onerror], svg[onload], [onerror], [onload]").count() == 0


def test_pasted_ingredient_list_with_markup_is_text(raw_page, demo_product, shot):
    real = demo_product("demo-011")["ingredients"]  # a real list around the payload
    first, rest = real.split(", ", 1)
    pasted = f"{first}, {SCRIPT}, {IMG}, {SVG}, {rest}, {CLOSE}"
    raw_page.goto("/check")
    raw_page.get_by_label("Ingredient list").fill(pasted)
    raw_page.get_by_label("or days since").fill("3")
    raw_page.get_by_role("button", name="Check this list").click()
    raw_page.locator("section.verdict").wait_for()

    _no_injected_markup(raw_page)
    assert raw_page.locator("#injected").count() == 0
    # The form gives the pasted text back verbatim, as text, tags and all.
    assert raw_page.locator("textarea").count() == 1
    assert raw_page.get_by_label("Ingredient list").input_value() == pasted
    # The list was read around the payload; the <script> and <svg> elements are page code,
    # not label text: set aside (never glued to a name), and the page says so, as text.
    table = raw_page.locator("table.ingredients").inner_text()
    assert "Retinol" in table
    assert "window.__xss" not in table, table
    note = raw_page.locator("p.note", has_text="Set aside").inner_text()
    assert "<script>" in note and "<svg>" in note, note
    shot(raw_page, "xss-check")
    assert raw_page.errors == []


def test_product_search_with_markup_is_text(raw_page, shot):
    q = f"{SCRIPT}{IMG}"
    raw_page.goto("/search?" + urllib.parse.urlencode({"q": q, "field": "any"}))
    _no_injected_markup(raw_page)
    assert q in raw_page.inner_text("main")  # "0 product(s) match “<script>…”"
    assert raw_page.get_by_role("searchbox").input_value() == q
    # The same through the form.
    raw_page.get_by_role("searchbox").fill(SVG)
    raw_page.get_by_role("button", name="Search").click()
    raw_page.wait_for_url(re.compile(r"/search\?q=%3Csvg"))
    raw_page.wait_for_load_state()
    _no_injected_markup(raw_page)
    assert SVG in raw_page.inner_text("main")
    shot(raw_page, "xss-search")
    assert raw_page.errors == []


def test_unknown_product_id_with_markup_is_text_in_the_error(raw_page):
    pid = f"x{SCRIPT}{IMG}"
    resp = raw_page.goto("/check?" + urllib.parse.urlencode({"product_id": pid}))
    assert resp.status == 404
    _no_injected_markup(raw_page)
    assert "window.__xss=1" in raw_page.get_by_role("alert").inner_text()


def test_csp_header_allows_no_script(live_server):
    with urllib.request.urlopen(live_server.url + "/", timeout=10) as resp:
        csp = resp.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, csp
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, csp
    assert "*" not in script_src and not any(s.startswith("http") for s in script_src), csp


def test_csp_refuses_inline_script_on_the_apps_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)  # CSP enforced
    try:
        pg = context.new_page()
        console: list[str] = []
        pg.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        pg.add_init_script(VIOLATIONS_INIT)
        pg.goto("/check")
        # Insert an inline script and an inline event handler as injected markup would.
        pg.evaluate("""() => {
            const s = document.createElement('script');
            s.textContent = 'window.__inline = 1';
            document.body.appendChild(s);
            const d = document.createElement('div');
            d.innerHTML = '<img src="data:," onerror="window.__inline = 2">';
            document.body.appendChild(d);
        }""")
        pg.wait_for_function("window.__violations.length >= 2", timeout=10_000)
        assert pg.evaluate("typeof window.__inline") == "undefined"
        violations = pg.evaluate("window.__violations")
        assert all(v.startswith("script-src") for v in violations), violations
        assert any("Content Security Policy" in c for c in console), console
    finally:
        context.close()


APP_PAGES = [
    "/",
    "/?go=1&day=3&depth=1.0&skin_type=dry&concerns=dryness",
    "/search?q=serum",
    "/check?product_id=demo-021&day=2",
    "/protocol",
    "/compare?id=demo-011&id=demo-001",
    "/upload",
]


@pytest.mark.parametrize("path", APP_PAGES)
def test_apps_own_pages_break_no_csp_rule(page, path):
    page.add_init_script(VIOLATIONS_INIT)
    resp = page.goto(path)
    assert resp is not None and resp.status == 200, path
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == [], path
    assert page.log.errors == [], (path, page.log.errors)
    assert page.log.failed_requests == [], (path, page.log.failed_requests)
