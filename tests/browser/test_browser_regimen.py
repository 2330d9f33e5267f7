"""The aesthetician's regimen in a real browser: "build this client's aftercare plan from my
shelf, then print the handout".

On the app served by gunicorn over the committed demo catalog: opens /regimen from the
navigation, fills the treatment (date, depth, modality), the client (skin type, concerns),
the clinic name, ticks demo products as the shelf and submits; the preview must show the
plan the JSON API returns for the same input (phases, AM/PM routines, the retinol coming
back on the protocol's day, conflicts), with no product shown before its safe-from day.
Then it opens the printable handout, checks that its print stylesheet is applied under the
app's Content-Security-Policy (no console error, no script), prints it to PDF with headless
Chromium (page.pdf) and saves screenshots of both pages.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"   # git-ignored, as conftest's

TREATED = "2026-03-02"
CLINIC = "Glow Clinic"
SHELF = ("demo-036", "demo-001", "demo-011", "demo-015", "demo-002", "demo-032", "demo-028")
RETINOL = "demo-011"
RETINOID_UNTIL = 7        # default protocol: retinoid avoid until day 7 at 1.0 mm


def _api_plan(base: str) -> dict:
    body = {"treatment": {"date": TREATED, "depth_mm": 1.0, "modality": "mn"},
            "client": {"skin_type": ["dry"], "concerns": ["dryness"]},
            "shelf": {"product_ids": list(SHELF)}, "clinic": CLINIC}
    req = urllib.request.Request(base + "/api/v1/regimen", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def test_build_a_plan_and_print_the_handout(page, live_server, demo_product, shot):
    page.goto("/")
    page.get_by_role("link", name="Regimen", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Aftercare regimen"

    page.get_by_label("Treatment date").fill(TREATED)
    page.get_by_label("Depth (mm)").select_option("1.0")
    page.get_by_label("Modality").select_option("mn")
    page.get_by_label("Clinic name").fill(CLINIC)
    page.check("input[name=skin_type][value=dry]")
    page.check("input[name=concerns][value=dryness]")
    page.locator("#shelf summary").click()
    for pid in SHELF:
        page.check(f"input[name=product_id][value='{pid}']")
    shot(page, "regimen-form")
    page.get_by_role("button", name="Build the plan").click()
    page.wait_for_load_state()
    assert "/regimen/plan/" in page.url, page.url

    api = _api_plan(live_server.url)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith(CLINIC), heading
    meta = page.locator("p.plan-meta").inner_text()
    assert TREATED in meta and f"{api['protocol']['name']} {api['protocol']['version']}" in meta

    # Phases and days as the API plans them; each row's products usable on that day.
    phases = page.locator("#days h3").all_inner_texts()
    assert phases == [ph["label"] for ph in api["phases"]
                      if any(d["phase_id"] == ph["id"] for d in api["days"])]
    rows = page.locator("#days table.routine tbody tr")
    assert rows.count() == len(api["days"])
    safe_day = {p["product_id"]: p["first_day"] for p in api["shelf"]}
    names = {pid: demo_product(pid)["name"] for pid in SHELF}
    for i, day in enumerate(api["days"]):
        assert int(rows.nth(i).get_attribute("data-day")) == day["day"]
        cells = rows.nth(i).locator("td").all_inner_texts()
        for slot, cell in zip(("am", "pm"), cells[1:], strict=True):
            shown = {pid for pid, name in names.items() if name in cell}
            planned = {p["product_id"] for p in day[slot] if p["product_id"]}
            assert shown == planned, (day["day"], slot, cell)
            assert all(safe_day[pid] <= day["day"] for pid in shown), (day["day"], shown)

    # The retinol comes back on the protocol's day; the retinoid/acid conflict is listed.
    reintro = page.locator("#reintroduce tbody tr", has_text=names[RETINOL]).inner_text()
    assert f"day {RETINOID_UNTIL}" in reintro and "2026-03-09" in reintro, reintro
    assert "retinoid_acid" in page.locator("#conflicts").inner_text()
    shot(page, "regimen-plan")
    assert page.log.errors == [], page.log.errors

    # The handout: the client's sheet, styled by its own print CSS under the app's CSP.
    with page.expect_navigation():
        page.get_by_role("link", name="Printable handout").click()
    assert "/regimen/handout/" in page.url
    text = page.inner_text("body")
    assert CLINIC in text and "Not medical advice" in text
    assert f"{api['protocol']['name']} {api['protocol']['version']}" in text
    assert names[RETINOL] in text
    border = page.eval_on_selector(".disclaimer", "e => getComputedStyle(e).borderTopStyle")
    assert border == "solid", "the handout's stylesheet was not applied (CSP?)"
    assert page.locator("script").count() == 0
    shot(page, "regimen-handout")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SCREENSHOTS / "test_build_a_plan_and_print_the_handout-handout.pdf"
    page.emulate_media(media="print")
    data = page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    assert len(data) > 20_000, f"{pdf} is only {len(data)} bytes: an empty handout?"
    assert page.log.errors == [], page.log.errors
