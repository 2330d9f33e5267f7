"""The shopper's second question in a real browser: "is this retinol serum safe now?"

Pastes a real ingredient list holding a retinoid into the check page (the demo catalog's
retinol serum; marked ``data``, a Sephora retinol product read from the data directory by
product id), two days after a 1.0 mm treatment, and reads what the page shows: the
verdict and safe-from day, the flag with its rule, reason and source, the ingredient table
with the retinoid class, the day-by-day timeline and the absorption chart (server-side SVG).
The default protocol (DESIGN.md): retinoid, avoid until day 7 at 0.5-1.0 mm.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

DAY = 2
RETINOID_UNTIL = 7


def _api_check(base: str, ingredients: str) -> dict:
    body = {"ingredients": ingredients, "day": DAY, "depth": 1.0}
    req = urllib.request.Request(base + "/api/v1/check", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _check_in_browser(page, ingredients: str) -> None:
    page.goto("/check")
    page.get_by_label("Ingredient list").fill(ingredients)
    page.get_by_label("or days since").fill(str(DAY))
    page.get_by_label("Depth (mm)").select_option("1.0")
    page.get_by_role("button", name="Check this list").click()
    page.locator("section.verdict").wait_for()  # the answer page, not the empty form


def _assert_retinoid_result(page, live_server, ingredients: str, retinoid_printed: str) -> None:
    api = _api_check(live_server.url, ingredients)
    assert api["verdict"] == "avoid" and api["safe_from_day"] == RETINOID_UNTIL, api["flags"]

    # Verdict now, and from which day.
    verdict = page.locator("section.verdict")
    assert verdict.locator(".badge.v-avoid").first.inner_text() == "avoid"
    assert f"safe from day {RETINOID_UNTIL}" in verdict.inner_text()

    # The flag: ingredient as printed, its position, rule, window, reason and source.
    rows = page.locator("table.flags-table tbody tr").filter(has_text=retinoid_printed)
    assert rows.count() >= 1, page.locator("table.flags-table").inner_text()
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0].strip() == "avoid"
    api_flag = next(f for f in api["flags"] if f.get("ingredient") == retinoid_printed)
    assert cells[1].strip() == retinoid_printed
    assert cells[2].strip() == str(api_flag["position"])
    assert "retinoid" in cells[3]
    assert f"avoid until day {RETINOID_UNTIL}" in cells[4]
    assert cells[5].strip() == api_flag["reason"] and len(cells[5]) > 10
    assert api_flag["source"] in cells[6] and len(api_flag["source"]) > 5

    # The ingredient table: every declared ingredient, the retinoid recognised and classed.
    table = page.locator("table.ingredients tbody tr")
    assert table.count() == len(api["ingredients"])
    ret_row = table.filter(has_text=retinoid_printed).first.locator("td").all_inner_texts()
    assert "retinoid" in ret_row[4], ret_row

    # Timeline: one cell per day, avoid before day 7, not avoid from day 7 on.
    cells = page.eval_on_selector_all(
        "section.verdict svg.chart.timeline rect",
        "rs => rs.map(r => [r.getAttribute('class'), r.querySelector('title').textContent])")
    assert len(cells) == len(api["daily"]) >= RETINOID_UNTIL + 1
    for cls, title in cells:
        day = float(title.split()[1])
        assert (cls == "v-avoid") == (day < RETINOID_UNTIL), (cls, title)

    # Absorption chart: an SVG with a line per active, the retinoid in its legend.
    chart = page.locator("svg.chart.absorption")
    assert chart.count() == 1
    assert chart.locator("polyline").count() >= 1
    assert retinoid_printed.lower() in chart.text_content().lower()  # legend / line titles
    assert chart.bounding_box()["height"] > 100  # rendered, not collapsed


def test_check_retinol_serum_from_the_demo_catalog(page, live_server, demo_product, shot):
    ingredients = demo_product("demo-011")["ingredients"]
    assert "Retinol" in ingredients
    _check_in_browser(page, ingredients)
    _assert_retinoid_result(page, live_server, ingredients, "Retinol")
    shot(page, "check-demo-retinol")
    assert page.log.errors == [], page.log.errors


@pytest.mark.data
def test_check_a_real_sephora_retinol_product(page, live_server, product, shot):
    ingredients = product("sephora_2023", "P442540")
    _check_in_browser(page, ingredients)
    _assert_retinoid_result(page, live_server, ingredients, "Retinol")
    shot(page, "check-sephora-P442540")
    assert page.log.errors == [], page.log.errors
